"""``communitok migrate``: DuckDB ↔ PostgreSQL copies of the tiny simulated platform with
results, runs and the ingest ledger; resuming after a real kill; verification; errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from communitok.core.errors import Conflict, InputError, NotFound, StoreError
from communitok.core.schema import LOAD_ORDER
from communitok.core.settings import load_settings
from communitok.engine import Engine
from communitok.engine.migrate import migrate_store, table_checksum
from communitok.engine.simulation import ingest_simulation
from communitok.simulate import SimConfig
from communitok.store import DuckDBStore, Store

from .contract import videos

LEDGER = "SELECT * FROM ingest_batches"


def fill(store: Store) -> None:
    """The tiny simulator (10 tables, ledger, one run) plus results of several types."""
    ingest_simulation(Engine(store, load_settings(env={})), SimConfig.preset("tiny", seed=1))
    run = store.start_run("detect", {"resolution": 0.1}, seed=3)
    members = pa.table(
        {
            "community_id": pa.array([0, 1, 1], pa.int32()),
            "member_id": ["v1", "v2", None],
            "weight": pa.array([0.5, 0.25, 1e-300], pa.float64()),
            "tags": [["a", "b"], [], None],
            "at": pa.array([datetime(2024, 1, 1, tzinfo=UTC)] * 3, pa.timestamp("us", "UTC")),
            "ok": [True, False, None],
        }
    )
    store.put_result("members", members, run_id=run)
    store.append_result("log", pa.table({"viewer_id": ["a", "b"], "score": [1.0, 2.0]}))
    store.append_result("log", pa.table({"score": [3.0], "viewer_id": ["c"]}))
    store.put_result("empty", pa.table({"x": pa.array([], pa.int64())}))
    store.finish_run(run, "ok", {"communities": 2})


@pytest.fixture(scope="module")
def source_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("src") / "source.duckdb"
    with DuckDBStore(path) as s:
        fill(s)
    return path


def snapshot(store: Store) -> dict[str, object]:
    """Everything a migration must carry over, as (rows, checksum) per table."""
    out: dict[str, object] = {n: table_checksum(store.iter_batches(n)) for n in LOAD_ORDER}
    for name in store.result_names():
        out[f"result:{name}"] = table_checksum(store.iter_batches(name))
    out["ledger"] = table_checksum([store.query(LEDGER)])
    runs = store.query("SELECT * FROM runs WHERE kind <> 'migrate'")
    out["runs"] = table_checksum([runs])
    return out


def test_checksum_ignores_order_batches_and_int_width_but_not_values() -> None:
    t = pa.table({"b": pa.array([1, 2, 2], pa.int32()), "a": ["x", None, "y"]})
    ref = table_checksum([t])
    assert table_checksum([t.slice(2), t.slice(0, 2)]) == ref
    wide = pa.table({"a": ["x", None, "y"], "b": pa.array([1, 2, 2], pa.int64())})
    assert table_checksum([wide]) == ref
    assert table_checksum([t.take([2, 1, 0])]) == ref
    assert table_checksum([t.slice(0, 2), t.slice(0, 1)])[1] != ref[1]  # a duplicate counts
    changed = pa.table({"b": pa.array([1, 2, 3], pa.int32()), "a": ["x", None, "y"]})
    assert table_checksum([changed])[1] != ref[1]


def test_duckdb_to_duckdb_copies_everything_then_rerun_changes_nothing(
    source_file: Path, tmp_path: Path
) -> None:
    target = tmp_path / "target.duckdb"
    rep = migrate_store(str(source_file), str(target), batch_rows=3000)
    assert rep.ok and rep.rows_written > 14_000
    kinds = {t.name: t.kind for t in rep.tables}
    assert kinds["events"] == "core" and kinds["members"] == "result"
    assert kinds["ingest_batches"] == "ledger" and kinds["runs"] == "runs"
    with DuckDBStore(source_file, read_only=True) as s, DuckDBStore(target) as d:
        assert snapshot(d) == snapshot(s)
        assert d.read("members").column("community_id").type == pa.int32()
        assert d.read("log").num_rows == 3 and d.read("empty").num_rows == 0
        runs = {r.kind: r for r in d.runs(limit=50)}
        assert runs["migrate"].status == "ok" and runs["detect"].seed == 3
        batch_id = s.query(LEDGER).column("batch_id")[0].as_py()
        assert d.has_batch(batch_id)  # re-ingesting the same file into the target skips it
    again = migrate_store(str(source_file), str(target))
    assert again.ok and again.rows_written == 0
    assert all(t.skipped for t in again.tables)
    with DuckDBStore(target) as d:
        assert [r.status for r in d.runs(kind="migrate")] == ["ok", "ok"]


def test_counts_only_verification(source_file: Path, tmp_path: Path) -> None:
    rep = migrate_store(str(source_file), str(tmp_path / "c.duckdb"), checksums=False)
    assert rep.ok and all(t.source_checksum is None for t in rep.tables)
    assert {t.name: t.target_rows for t in rep.tables}["events"] == 10_000


KILL = """
import sys
from communitok.engine.migrate import migrate_store
def progress(table, n):
    print(table, n, flush=True)
migrate_store(sys.argv[1], sys.argv[2], batch_rows=50, progress=progress)
print("done", flush=True)
"""


def test_killed_migration_resumes_and_verifies(source_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.duckdb"
    script = tmp_path / "migrate.py"
    script.write_text(KILL)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(source_file), str(target)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # kill it once the events (200 batches of 50) are on their way
        if line.startswith("events"):
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    with DuckDBStore(target) as d:
        partial = d.count("events")
        assert 0 < partial < 10_000
        assert d.query(LEDGER).num_rows == 0  # the ledger is copied after the data
        assert d.runs(kind="migrate")[0].status == "running"
    rep = migrate_store(str(source_file), str(target), batch_rows=2000)
    assert rep.ok
    done = {t.name: t for t in rep.tables}
    assert done["videos"].skipped and not done["events"].skipped
    with DuckDBStore(source_file, read_only=True) as s, DuckDBStore(target) as d:
        assert snapshot(d) == snapshot(s)
        assert sorted(r.status for r in d.runs(kind="migrate")) == ["cancelled", "ok"]


def test_verification_catches_a_target_that_was_not_empty(
    source_file: Path, tmp_path: Path
) -> None:
    target = tmp_path / "dirty.duckdb"
    with DuckDBStore(target) as d:
        d.write("videos", videos(["not-in-source"]))
    with pytest.raises(StoreError, match="verification failed: videos: source 800 rows"):
        migrate_store(str(source_file), str(target))
    with DuckDBStore(target) as d:
        assert d.runs(kind="migrate")[0].status == "failed"


def test_clear_errors(source_file: Path, tmp_path: Path) -> None:
    t = str(tmp_path / "t.duckdb")
    with pytest.raises(InputError, match="same store"):
        migrate_store(str(source_file), str(source_file))
    with pytest.raises(NotFound, match="does not exist"):
        migrate_store(str(tmp_path / "nope.duckdb"), t)
    with pytest.raises(InputError, match="in-memory"):
        migrate_store(":memory:", t)
    with pytest.raises(InputError, match="batch_rows"):
        migrate_store(str(source_file), t, batch_rows=0)
    with pytest.raises(InputError, match="DuckDB file path"):
        migrate_store("  ", t)
    empty = tmp_path / "not-a-store.duckdb"
    import duckdb

    duckdb.connect(str(empty)).close()
    with pytest.raises(InputError, match="holds no communitok store"):
        migrate_store(str(empty), t)
    big = tmp_path / "bigger.duckdb"
    with DuckDBStore(big) as d:
        d.write("videos", videos([f"x{i}" for i in range(900)]))
    with pytest.raises(Conflict, match="already holds 900 videos rows"):
        migrate_store(str(source_file), str(big))


def test_cli_migrate_json_and_exit_codes(source_file: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "communitok.cli.app", "migrate"]
    target = tmp_path / "cli.duckdb"
    r = subprocess.run(
        [*cmd, "--from", str(source_file), "--to", str(target), "--json"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] and {t["name"] for t in out["tables"]} >= {"events", "members", "runs"}
    r = subprocess.run(
        [*cmd, "--from", str(tmp_path / "missing.duckdb"), "--to", str(target)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 3 and "does not exist" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_restore_metadata_inserts_only_absent_rows(backend: str, request, tmp_path: Path) -> None:
    if backend == "duckdb":
        store: Store = DuckDBStore(tmp_path / "m.duckdb")
    else:
        from communitok.store.postgres_store import PostgresStore

        store = PostgresStore(request.getfixturevalue("schema_dsn"))
    with store:
        store.write("videos", videos(["a"]), batch_id="b1")
        t = datetime(2024, 1, 1, tzinfo=UTC)
        rows = pa.table(
            {
                "batch_id": ["b1", "b2"],
                "table_name": ["videos", "events"],
                "rows": [9, 5],
                "loaded_at": pa.array([t, t], pa.timestamp("us", "UTC")),
            }
        )
        assert store.restore_metadata("ingest_batches", rows) == 1  # type: ignore[attr-defined]
        assert store.has_batch("b2")
        kept = store.query("SELECT rows FROM ingest_batches WHERE batch_id = 'b1'")
        assert kept.column("rows").to_pylist() == [1]  # the existing row is kept
        with pytest.raises(InputError, match="ingest_batches or runs"):
            store.restore_metadata("videos", rows)  # type: ignore[attr-defined]
        with pytest.raises(InputError, match="not those of runs"):
            store.restore_metadata("runs", rows)  # type: ignore[attr-defined]


def test_duckdb_to_postgres_and_back_round_trips(
    source_file: Path, schema_dsn: str, tmp_path: Path
) -> None:
    from communitok.store.postgres_store import PostgresStore

    to_pg = migrate_store(str(source_file), schema_dsn, batch_rows=4000)
    assert to_pg.ok and to_pg.target.startswith("PostgresStore(")
    again = migrate_store(str(source_file), schema_dsn)
    assert again.ok and again.rows_written == 0
    back = tmp_path / "back.duckdb"
    assert migrate_store(schema_dsn, str(back), batch_rows=4000).ok
    with (
        DuckDBStore(source_file, read_only=True) as s,
        PostgresStore(schema_dsn) as p,
        DuckDBStore(back) as b,
    ):
        ref = snapshot(s)
        assert snapshot(p) == ref
        assert snapshot(b) == ref
        assert p.read("members").column("tags").to_pylist() == [["a", "b"], [], None]
        assert [r.status for r in p.runs(kind="migrate")] == ["ok", "ok"]
        # the first migration's run travelled on to the second target with the rest
        assert len(b.runs(kind="migrate", limit=10)) == 3
