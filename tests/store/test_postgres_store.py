"""The Store contract on PostgreSQL (a throwaway local server; see scripts/pg-test-server.sh)."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from .contract import StoreContract, videos

REPO = Path(__file__).resolve().parents[2]


def _dsn() -> str | None:
    dsn = os.environ.get("COMMUNITOK_TEST_PG_DSN")
    if dsn:
        return dsn
    out = subprocess.run(
        ["bash", str(REPO / "scripts" / "pg-test-server.sh")], capture_output=True, text=True
    )
    for line in out.stdout.splitlines():
        if line.startswith("export COMMUNITOK_TEST_PG_DSN="):
            return line.split("=", 1)[1]
    return None


@pytest.fixture(scope="module")
def pg_dsn() -> str:
    pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")
    dsn = _dsn()
    if dsn is None:
        if os.environ.get("CI"):
            pytest.fail("CI must provide a PostgreSQL server (scripts/pg-test-server.sh)")
        pytest.skip("no PostgreSQL server could be started here (scripts/pg-test-server.sh)")
    return dsn


@pytest.fixture
def schema_dsn(pg_dsn: str):
    """A DSN whose search_path is a fresh, empty schema (dropped afterwards)."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in pg_dsn else "?"
    yield f"{pg_dsn}{sep}options={quote(f'-csearch_path={name}')}"
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        c.execute(f"DROP SCHEMA {name} CASCADE")


class TestPostgresContract(StoreContract):
    @pytest.fixture
    def store(self, schema_dsn: str):
        from communitok.store.postgres_store import PostgresStore

        s = PostgresStore(schema_dsn)
        yield s
        s.close()


def test_lost_connection_mid_batch_rolls_back_and_retry_succeeds(schema_dsn: str) -> None:
    import psycopg

    from communitok.core.errors import StoreError
    from communitok.store.postgres_store import PostgresStore

    s = PostgresStore(schema_dsn)
    original = s._copy_into

    def dying_copy(cur, temp, table):  # the server drops us half-way through the COPY
        original(cur, temp, table.slice(0, 1))
        with psycopg.connect(schema_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [s._conn.info.backend_pid])
        original(cur, temp, table.slice(1))

    s._copy_into = dying_copy  # type: ignore[method-assign]
    with pytest.raises(StoreError, match="rolled back"):
        s.write("videos", videos(["a", "b", "c"]), batch_id="videos:1")
    s.close()
    retry = PostgresStore(schema_dsn)
    assert retry.count("videos") == 0 and not retry.has_batch("videos:1")
    assert retry.write("videos", videos(["a", "b", "c"]), batch_id="videos:1").inserted == 3
    assert retry.count("videos") == 3
    retry.close()


def test_open_store_selects_postgres_by_setting(schema_dsn: str) -> None:
    from communitok.core.settings import load_settings
    from communitok.store import open_store

    with open_store(load_settings(env={"COMMUNITOK_STORE": schema_dsn})) as s:
        assert s.backend == "postgresql"
