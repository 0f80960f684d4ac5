from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from communitok.core.errors import InputError, SchemaError, StoreLocked
from communitok.store import DuckDBStore

from .contract import StoreContract


class TestDuckDBContract(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path):
        s = DuckDBStore(tmp_path / "contract.duckdb")
        yield s
        s.close()


def test_memory_store_works() -> None:
    with DuckDBStore(":memory:") as s:
        assert s.schema_version() >= 1


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="folder does not exist"):
        DuckDBStore(tmp_path / "nope" / "x.duckdb")


def test_newer_schema_refused(tmp_path: Path) -> None:
    p = tmp_path / "s.duckdb"
    with DuckDBStore(p) as s:
        s._cursor().execute("INSERT INTO schema_migrations VALUES (999, 'future', now())")
    with pytest.raises(SchemaError):
        DuckDBStore(p)


def test_second_process_gets_store_locked(tmp_path: Path) -> None:
    p = tmp_path / "locked.duckdb"
    DuckDBStore(p).close()
    code = textwrap.dedent(
        f"""
        import sys, time
        from communitok.store import DuckDBStore
        s = DuckDBStore({str(p)!r})
        print("ready", flush=True)
        time.sleep(30)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLocked, match="held by another process"):
            DuckDBStore(p)
    finally:
        proc.kill()
        proc.wait()


KILL_SCRIPT = """
import sys
import numpy as np, pyarrow as pa
from communitok.ingest import RawBatch, load
from communitok.store import DuckDBStore

BATCH, N = {batch}, {n}
store = DuckDBStore(sys.argv[1])
def batches():
    for b in range(N):
        i = np.arange(b * BATCH, (b + 1) * BATCH)
        t = pa.table({{
            "viewer_id": pa.array(np.char.add("u", (i % 5000).astype(str))),
            "video_id": pa.array(np.char.add("v", (i % 777).astype(str))),
            "ts": pa.array(1_700_000_000 + i, pa.int64()),
            "watch_time_s": pa.array((i % 60).astype(float)),
            "_line": pa.array(i + 2),
        }})
        yield RawBatch("events", t, "generated")
def progress(table, n):
    print("committed", n, flush=True)
load(store, batches(), rejects_dir=None, progress=progress)
store.close()
print("done", flush=True)
"""


def test_kill_mid_load_leaves_no_partial_batch_and_rerun_completes(tmp_path: Path) -> None:
    batch, n = 100_000, 8
    script = tmp_path / "load.py"
    script.write_text(KILL_SCRIPT.format(batch=batch, n=n))
    db = tmp_path / "kill.duckdb"
    DuckDBStore(db).close()
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("committed")  # one batch landed, next is in flight
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with DuckDBStore(db) as s:
        got = s.count("events")
        ledger = s.query("SELECT count(*) AS n FROM ingest_batches").column("n")[0].as_py()
    assert got % batch == 0 and got >= batch and got < batch * n
    assert got == ledger * batch
    # re-running the same load completes it; a third run changes nothing
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, str(script), str(db)], capture_output=True, text=True, timeout=300
        )
        assert out.returncode == 0, out.stderr
        with DuckDBStore(db) as s:
            assert s.count("events") == batch * n
            runs_ledger = s.query("SELECT count(*) AS n FROM ingest_batches").column("n")[0].as_py()
            assert runs_ledger == n
