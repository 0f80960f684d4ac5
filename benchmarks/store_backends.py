"""PostgreSQL vs DuckDB on the same simulated platform, in the same run.

For one simulator size (default ``small``, seed 1; Parquet cached under the temp folder)
each backend gets a fresh store (a DuckDB file; a fresh schema on the PostgreSQL server
of ``COMMUNITOK_TEST_PG_DSN`` or ``scripts/pg-test-server.sh``) and runs:

* **ingest**: every core table with ``Store.write`` in batches of 100,000 rows (one
  transaction each, ledger row included), seconds and rows/s per table;
* **analytic queries the engines run**: the trends engine's series SQL
  (``engine.trend_sql.trend_series``, portable SQL: videos per day platform-wide; views
  per hour with the community map) and the same aggregates written with ``date_trunc``
  bins, the trends clock check, the community-audience SQL of the insights engine, the
  safety engine's per-video and per-day view counts, stop-tag SQL of the spill-over
  step; each timed as the best of 3, or the error when the SQL does not run on that
  backend;
* **reads**: ``read("events")``, ``iter_batches("events")``, ``counts()``; on
  PostgreSQL also through the psycopg-rows path the store falls back to without the ADBC
  driver (the read path before ADBC), as the in-run baseline of the fast path, and the
  server's own ``COPY`` of the events to ``/dev/null`` (the floor of any client);
* **append_result**: 50 appends of 1,000 rows to a log, and one of 100,000 rows;
* **migrate**: ``communitok migrate`` of the whole DuckDB store into a fresh PostgreSQL
  schema and back into a fresh DuckDB file (copy and verification, rows/s).

Ratios are PostgreSQL ÷ DuckDB (> 1: PostgreSQL slower). Both servers run on this
machine; PostgreSQL with ``fsync=off`` (the test server). Writes
``benchmarks/results/store_backends.json``.

Usage: ``.venv/bin/python benchmarks/store_backends.py [--size small]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "store_backends.json"
BATCH = 100_000


def pg_dsn() -> str:
    dsn = os.environ.get("COMMUNITOK_TEST_PG_DSN")
    if not dsn:
        out = subprocess.run(
            ["bash", str(REPO / "scripts" / "pg-test-server.sh")], capture_output=True, text=True
        ).stdout
        dsn = next((x.split("=", 1)[1] for x in out.splitlines() if "PG_DSN=" in x), None)
    if not dsn:
        raise SystemExit("no PostgreSQL server: set COMMUNITOK_TEST_PG_DSN")
    import psycopg

    name = "bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in dsn else "?"
    return f"{dsn}{sep}options={quote(f'-csearch_path={name}')}"


def drop_schema(dsn: str) -> None:
    import psycopg

    name = dsn.rsplit("search_path%3D", 1)[-1]
    base = dsn.split("?options=")[0].split("&options=")[0]
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def members_table(data: Path) -> pa.Table:
    """``community_members`` video rows from the planted video → community truth."""
    t = pq.read_table(data / "truth" / "video_truth.parquet", columns=["video_id", "community_id"])
    t = t.filter(t.column("community_id").is_valid())
    n = t.num_rows
    cid = [int(x[1:]) for x in t.column("community_id").to_pylist()]
    return pa.table(
        {
            "member_kind": ["video"] * n,
            "member_id": t.column("video_id"),
            "community_id": pa.array(cid, pa.int64()),
            "weight": np.ones(n),
            "is_primary": [True] * n,
            "video_id": t.column("video_id"),
            "creator_id": pa.nulls(n, pa.string()),
        }
    )


def best(fn: Callable[[], Any], repeat: int = 3) -> dict[str, Any]:
    times, rows = [], None
    for _ in range(repeat):
        s = time.perf_counter()
        try:
            out = fn()
        except Exception as exc:  # a query in DuckDB dialect: record, do not crash
            return {"error": " ".join(str(exc).split())[:300]}
        times.append(time.perf_counter() - s)
        rows = out.num_rows if isinstance(out, pa.Table) else out
    return {"seconds": min(times), "rows": rows}


def run_backend(store: Any, data: Path) -> dict[str, Any]:
    from communitok.core.schema import LOAD_ORDER
    from communitok.engine.trend_sql import (
        KINDS,
        MAP_RESULT,
        _clock_issues,
        _uses_sql,
        trend_series,
    )

    res: dict[str, Any] = {"ingest": {}, "queries": {}, "reads": {}, "append_result": {}}
    for name in LOAD_ORDER:
        t = pq.read_table(data / f"{name}.parquet")
        s = time.perf_counter()
        for k, b in enumerate(t.to_batches(BATCH)):
            store.write(name, pa.Table.from_batches([b]), batch_id=f"{name}:{k}")
        sec = time.perf_counter() - s
        res["ingest"][name] = {"rows": t.num_rows, "seconds": sec, "rows_per_s": t.num_rows / sec}
    store.put_result("community_members", members_table(data))
    m = store.read("community_members", ["video_id", "community_id"])
    store.put_result(MAP_RESULT, pa.table({"video_id": m["video_id"],
                                           "community_id": m["community_id"].cast(pa.string())}))  # fmt: skip
    now = datetime(2100, 1, 1, tzinfo=UTC)
    q = res["queries"]
    q["trend_series videos/day, all"] = best(
        lambda: trend_series(store, metric="videos", grain="day", now=now)
    )
    q["trend_series views/hour, per community"] = best(
        lambda: trend_series(store, metric="views", grain="hour", members="result_" + MAP_RESULT, now=now)
    )  # fmt: skip
    uses = _uses_sql(KINDS)
    q["trend aggregates videos/day, all (portable SQL)"] = best(
        lambda: store.query(
            f"WITH uses AS ({uses}), s AS (SELECT kind, item, date_trunc('day', created_at) AS bin, "
            "count(*) AS value FROM uses WHERE created_at < ? GROUP BY kind, item, bin) "
            "SELECT kind, item, bin, value FROM (SELECT s.*, sum(value) OVER "
            "(PARTITION BY kind, item) AS total FROM s) x WHERE total >= 1",
            [now],
        )
    )
    q["trend aggregates views/hour, per community (portable SQL)"] = best(
        lambda: store.query(
            f"WITH uses AS ({uses}), ev AS (SELECT video_id, date_trunc('hour', ts) AS bin, "
            "count(*) AS n FROM events WHERE ts < ? GROUP BY video_id, bin), "
            f"s AS (SELECT u.kind, u.item, m.community_id AS scope, ev.bin, sum(ev.n) AS value "
            f"FROM ev JOIN uses u ON u.video_id = ev.video_id JOIN result_{MAP_RESULT} m "
            "ON m.video_id = ev.video_id GROUP BY u.kind, u.item, m.community_id, ev.bin) "
            "SELECT * FROM (SELECT s.*, sum(value) OVER (PARTITION BY kind, item, scope) AS total "
            "FROM s) x WHERE total >= 1",
            [now],
        )
    )
    q["trends clock check"] = best(lambda: len(_clock_issues(store, now)))
    q["insights community audience"] = best(lambda: _community_audience(store))
    q["safety views per video"] = best(
        lambda: store.query("SELECT video_id, count(*) AS n FROM events GROUP BY video_id")
    )
    q["safety views per video and day"] = best(
        lambda: store.query(
            "SELECT video_id, period_start, count(*) AS views FROM (SELECT video_id, "
            "CAST(ts AT TIME ZONE 'UTC' AS DATE) AS period_start FROM events) d "
            "GROUP BY video_id, period_start"
        )
    )
    q["spill-over stop tags"] = best(
        lambda: store.query(
            "SELECT lower(t.item) AS tag FROM videos v, unnest(v.hashtags) AS t(item) GROUP BY 1 "
            "HAVING count(*) > 0.05 * (SELECT count(*) FROM videos)"
        )
    )
    r = res["reads"]
    r["read events"] = best(lambda: store.read("events"))
    r["iter_batches events"] = best(
        lambda: sum(b.num_rows for b in store.iter_batches("events", batch_rows=BATCH))
    )
    r["counts"] = best(lambda: sum(store.counts().values()))
    log = pa.table({"viewer_id": [f"u{i}" for i in range(1000)], "score": np.arange(1000.0)})
    s = time.perf_counter()
    for _ in range(50):
        store.append_result("bench_log", log)
    res["append_result"]["50 x 1,000 rows"] = {"seconds": time.perf_counter() - s}
    big = pa.table({"viewer_id": [f"u{i}" for i in range(100_000)], "score": np.arange(1e5)})
    s = time.perf_counter()
    n = store.append_result("bench_log", big)
    res["append_result"]["1 x 100,000 rows"] = {"seconds": time.perf_counter() - s, "rows": n}
    return res


def read_paths(store: Any) -> dict[str, Any]:
    """PostgreSQL reads through ADBC (the store's path) and through psycopg rows (its
    fallback without the driver), same store, same run."""
    from communitok.engine.trend_sql import trend_series

    now = datetime(2100, 1, 1, tzinfo=UTC)
    cases: dict[str, Callable[[], Any]] = {
        "read events": lambda: store.read("events"),
        "iter_batches events": lambda: sum(
            b.num_rows for b in store.iter_batches("events", batch_rows=BATCH)
        ),
        "read videos (lists, text)": lambda: store.read("videos"),
        "read result community_members": lambda: store.read("community_members"),
        "trend_series views/hour, per community": lambda: trend_series(
            store, metric="views", grain="hour", members="result_trend_community_map", now=now
        ),
    }
    out: dict[str, Any] = {}
    reader = store._reader
    for name, fn in cases.items():
        fast = best(fn)
        store._reader = None
        try:
            rows = best(fn)
        finally:
            store._reader = reader
        out[name] = {"adbc": fast, "psycopg_rows": rows,
                     "speedup": rows["seconds"] / max(fast["seconds"], 1e-9)}  # fmt: skip
    # the floor: the server writing the same rows to /dev/null (needs a superuser, as the
    # test server's user is; an error is recorded otherwise)
    out["server COPY events to /dev/null"] = best(
        lambda: store._rows("COPY (SELECT * FROM events) TO '/dev/null'")
    )
    return out


def migrate(source: str, target: str) -> dict[str, Any]:
    """``communitok migrate`` of the whole benchmark store into a fresh one."""
    from communitok.engine.migrate import migrate_store

    s = time.perf_counter()
    rep = migrate_store(source, target)
    sec = time.perf_counter() - s
    rows = sum(t.source_rows for t in rep.tables)
    return {"seconds": sec, "rows": rows, "rows_per_s": rows / sec, "verified": rep.ok,
            "tables": len(rep.tables)}  # fmt: skip


def _community_audience(store: Any) -> Any:
    """The insights engine's community-audience SQL (DISTINCT community × viewer)."""
    from communitok.engine.insights import _common

    return _common.community_audience(store)


def ratios(duck: dict[str, Any], pg: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for section in ("ingest", "queries", "reads", "append_result"):
        for k, d in duck[section].items():
            p = pg[section][k]
            if "seconds" in d and "seconds" in p:
                out[f"{section}: {k}"] = p["seconds"] / max(d["seconds"], 1e-9)
            else:
                out[f"{section}: {k}"] = "error on " + ("postgresql" if "error" in p else "duckdb")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="small")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "communitok-sim")
    a = ap.parse_args()
    from communitok.simulate import SimConfig, write_dataset
    from communitok.store import DuckDBStore
    from communitok.store.postgres_store import PostgresStore

    data = a.cache / a.size
    if not (data / "events.parquet").exists():
        write_dataset(SimConfig.preset(a.size, seed=1), data, "parquet")
    t0 = time.perf_counter()
    dsns: list[str] = []
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench.duckdb"
        with DuckDBStore(path) as s:
            duck = run_backend(s, data)
        try:
            dsns.append(pg_dsn())
            with PostgresStore(dsns[0]) as s:
                pg = run_backend(s, data)
                paths = read_paths(s)
            dsns.append(pg_dsn())
            mig = {
                "duckdb -> postgresql": migrate(str(path), dsns[1]),
                "postgresql -> duckdb": migrate(dsns[1], str(Path(d) / "back.duckdb")),
            }
        finally:
            for dsn in dsns:
                drop_schema(dsn)
    rat = ratios(duck, pg)
    tot = {
        b: sum(v["seconds"] for v in r["ingest"].values())
        for b, r in (("duckdb", duck), ("postgresql", pg))
    }
    out = {
        "size": a.size,
        "rows": {k: v["rows"] for k, v in duck["ingest"].items()},
        "machine": f"{os.cpu_count()} cores (shared); PostgreSQL local, fsync=off",
        "wall_s": time.perf_counter() - t0,
        "duckdb": duck,
        "postgresql": pg,
        "ingest_total_s": tot,
        "ingest_total_ratio": tot["postgresql"] / tot["duckdb"],
        "migrate": mig,
        "postgresql_read_paths": paths,
        "ratio_postgresql_over_duckdb": rat,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1, default=str))
    for k, v in rat.items():
        print(f"{k:55s} {v if isinstance(v, str) else f'{v:8.2f}x'}")
    for k, v in paths.items():
        if "adbc" not in v:
            print(f"postgresql {k}: {v}")
            continue
        print(f"postgresql {k}: adbc {v['adbc']['seconds']:.3f}s, psycopg rows "
              f"{v['psycopg_rows']['seconds']:.3f}s ({v['speedup']:.1f}x)")  # fmt: skip
    for k, v in mig.items():
        print(f"migrate {k}: {v['rows']:,} rows in {v['seconds']:.1f}s, verified {v['verified']}")
    print(f"ingest total: duckdb {tot['duckdb']:.2f}s postgresql {tot['postgresql']:.2f}s; "
          f"wall {out['wall_s']:.0f}s")  # fmt: skip


if __name__ == "__main__":
    main()
