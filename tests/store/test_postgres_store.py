"""The Store contract on PostgreSQL (a throwaway local server; see scripts/pg-test-server.sh
and the fixtures in tests/store/conftest.py), and a lost connection mid-batch."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pytest

from .contract import T0, StoreContract, videos


class TestPostgresContract(StoreContract):
    @pytest.fixture
    def store(self, schema_dsn: str):
        from communitok.store.postgres_store import PostgresStore

        s = PostgresStore(schema_dsn)
        yield s
        s.close()


def big_events(n: int) -> pa.Table:
    i = np.arange(n)
    return pa.table(
        {
            "viewer_id": pa.array(np.char.add("u", (i % 5000).astype(str))),
            "video_id": pa.array(np.char.add("v", (i % 777).astype(str))),
            "ts": pa.array([T0 + timedelta(seconds=int(k)) for k in i], pa.timestamp("us", "UTC")),
            "watch_time_s": pa.array((i % 60).astype(float)),
        }
    )


def _terminate_when_copying(admin_dsn: str, pid: int, done: threading.Event) -> list[str]:
    """From a second connection, wait until backend *pid* runs a COPY, then kill it."""
    import psycopg

    seen: list[str] = []

    def watch() -> None:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            deadline = time.monotonic() + 60
            while not done.is_set() and time.monotonic() < deadline:
                row = admin.execute(
                    "SELECT query FROM pg_stat_activity WHERE pid = %s AND state = 'active'", [pid]
                ).fetchone()
                if row and row[0].lstrip().upper().startswith("COPY"):
                    seen.append(row[0])
                    admin.execute("SELECT pg_terminate_backend(%s)", [pid])
                    return
                time.sleep(0.002)

    threading.Thread(target=watch, daemon=True).start()
    return seen


def test_connection_killed_during_large_copy_rolls_back_and_retry_succeeds(
    schema_dsn: str,
) -> None:
    from communitok.core.errors import StoreError
    from communitok.store.postgres_store import PostgresStore

    n = 200_000
    batch = big_events(n)
    s = PostgresStore(schema_dsn)
    s.write("videos", videos(["keep"]), batch_id="videos:0")
    done = threading.Event()
    seen = _terminate_when_copying(schema_dsn, s._conn.info.backend_pid, done)
    with pytest.raises(StoreError, match=r"(?s)rolled back.*the next call reconnects"):
        s.write("events", batch, batch_id="events:big")
    done.set()
    assert seen, "the COPY was never observed in flight"
    # the same store object reconnects; nothing of the killed batch is visible
    assert s.count("events") == 0 and not s.has_batch("events:big")
    assert s.count("videos") == 1 and s.has_batch("videos:0")
    r = s.write("events", batch, batch_id="events:big")
    assert r.inserted == n and not r.skipped_batch
    assert s.count("events") == n
    assert s.write("events", batch, batch_id="events:big").skipped_batch
    s.close()


def test_connection_killed_while_idle_gives_clear_error_then_reconnects(schema_dsn: str) -> None:
    import psycopg

    from communitok.core.errors import StoreError
    from communitok.store.postgres_store import PostgresStore

    s = PostgresStore(schema_dsn)
    with psycopg.connect(schema_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [s._conn.info.backend_pid])
    with pytest.raises(StoreError, match=r"(?s)connection lost, the next call reconnects"):
        s.count("videos")
    assert s.count("videos") == 0
    assert s.write("videos", videos(["a"])).inserted == 1
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.count("videos")


def test_open_store_selects_postgres_by_setting(schema_dsn: str) -> None:
    from communitok.core.settings import load_settings
    from communitok.store import open_store

    with open_store(load_settings(env={"COMMUNITOK_STORE": schema_dsn})) as s:
        assert s.backend == "postgresql"
