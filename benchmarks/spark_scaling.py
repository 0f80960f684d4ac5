"""Spark local[2] vs the single-node path at three simulator sizes.

For each size (simulator presets ``tiny``, ``small``, ``medium``) the same Parquet
data goes through both paths, each in a fresh process so that peak memory is its own:

* **single**: ``hashtag_cooccurrence_single`` (video_items + cooccurrence),
  ``item_time_series_single`` (DuckDB SQL of trend_sql, hourly),
  ``community_time_series_single`` (the same SQL per community, daily, four metrics),
  ``creator_audience_single`` (TF-IDF cosine, top-30: the item graph's audience layer),
  ``viewer_interests_single`` (``communities.overlap.interested_in``) and implicit ALS
  (``ImplicitMF`` on ``graph.engagement``, then top-20 unseen per viewer).
* **spark**: the twins in ``communitok.engine.spark`` with ``local[2]``, each writing
  and committing Parquet output. Session start is reported apart.

The community jobs use the simulator's planted video → community map
(``truth/video_truth.parquet``, weight 1) as the membership on both paths.

Peak memory: the worker's max RSS (``ru_maxrss``) and, for Spark, the JVM's peak RSS
(``VmHWM``) added. Writes ``benchmarks/results/spark_scaling.json``.

Usage: ``.venv/bin/python benchmarks/spark_scaling.py [--sizes tiny small medium]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "spark_scaling.json"
ALS = {"factors": 32, "iterations": 5}


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _jvm_hwm_mib(spark) -> float:
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def members_file(data: Path) -> Path:
    """video_id, community_id, weight (1.0) from the planted truth, written once."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = data / "bench_members.parquet"
    if not path.exists():
        t = pq.read_table(
            data / "truth" / "video_truth.parquet", columns=["video_id", "community_id"]
        )
        t = t.filter(t.column("community_id").is_valid())
        pq.write_table(t.append_column("weight", pa.array([1.0] * t.num_rows)), path)
    return path


def worker_single(data: Path) -> dict:
    import numpy as np
    import pyarrow.parquet as pq

    from communitok.engine.spark import (
        community_time_series_single,
        creator_audience_single,
        hashtag_cooccurrence_single,
        item_time_series_single,
        viewer_interests_single,
    )
    from communitok.evaluation import top_k_from_scores
    from communitok.feed.mf import ImplicitMF
    from communitok.graph import engagement

    t, out = {}, {}
    s = time.perf_counter()
    _tags, pairs, _ = hashtag_cooccurrence_single(pq.read_table(data / "videos.parquet"))
    t["hashtag_cooccurrence"] = time.perf_counter() - s
    out["pairs"] = pairs.num_rows
    s = time.perf_counter()
    series = item_time_series_single(data / "videos.parquet", data / "events.parquet", "hour")
    t["item_time_series"] = time.perf_counter() - s
    out["series_rows"] = series.num_rows
    members = members_file(data)
    s = time.perf_counter()
    cs = community_time_series_single(
        data / "videos.parquet", data / "events.parquet", members, "day"
    )
    t["community_time_series"] = time.perf_counter() - s
    out["community_series_rows"] = cs.num_rows
    s = time.perf_counter()
    g = creator_audience_single(
        pq.read_table(data / "videos.parquet"), pq.read_table(data / "events.parquet"), top_k=30
    )
    t["creator_audience_projection"] = time.perf_counter() - s
    out["audience_edges"] = g.n_edges
    s = time.perf_counter()
    vi = viewer_interests_single(pq.read_table(data / "events.parquet"), pq.read_table(members))
    t["viewer_interests"] = time.perf_counter() - s
    out["interest_rows"] = vi.num_rows
    s = time.perf_counter()
    b = engagement(pq.read_table(data / "events.parquet"))
    x = b.matrix.copy()
    x.data = np.maximum(x.data, 0)
    x.eliminate_zeros()
    mf = ImplicitMF(factors=ALS["factors"], iterations=ALS["iterations"], num_threads=2).fit(x)
    seen = b.matrix.copy()
    seen.data[:] = 1
    n = 0
    for lo in range(0, x.shape[0], 512):
        u = np.arange(lo, min(lo + 512, x.shape[0]))
        n += int((top_k_from_scores(mf.score(mf.user_factors_[u]), 20, seen[u]) >= 0).sum())
    t["als_feed_candidates"] = time.perf_counter() - s
    out["candidates"] = n
    return {"seconds": t, "rows": out, "peak_rss_mib": _rss_mib()}


def worker_spark(data: Path) -> dict:
    from communitok.engine import spark as sj

    s = time.perf_counter()
    spark = sj.spark_session("local[2]", app="bench", **{"spark.driver.memory": "4g"})
    start = time.perf_counter() - s
    t, out = {}, {}
    with tempfile.TemporaryDirectory() as d:
        s = time.perf_counter()
        o = sj.hashtag_cooccurrence(spark, data / "videos.parquet", Path(d) / "cooc")
        t["hashtag_cooccurrence"] = time.perf_counter() - s
        out["pairs"] = json.loads((o / sj.MANIFEST).read_text())["rows"]["pairs"]
        s = time.perf_counter()
        o = sj.item_time_series(
            spark, data / "videos.parquet", data / "events.parquet", "hour", Path(d) / "ts"
        )
        t["item_time_series"] = time.perf_counter() - s
        out["series_rows"] = json.loads((o / sj.MANIFEST).read_text())["rows"]["series"]
        members = members_file(data)
        s = time.perf_counter()
        o = sj.community_time_series(
            spark, data / "videos.parquet", data / "events.parquet", members, "day", Path(d) / "cs"
        )
        t["community_time_series"] = time.perf_counter() - s
        out["community_series_rows"] = sj.manifest(o)["rows"]["series"]
        s = time.perf_counter()
        o = sj.creator_audience_projection(
            spark, data / "videos.parquet", data / "events.parquet", Path(d) / "aud", top_k=30
        )
        t["creator_audience_projection"] = time.perf_counter() - s
        out["audience_edges"] = sj.manifest(o)["rows"]["edges"]
        s = time.perf_counter()
        o = sj.viewer_interests(spark, data / "events.parquet", members, Path(d) / "vi")
        t["viewer_interests"] = time.perf_counter() - s
        out["interest_rows"] = sj.manifest(o)["rows"]["members"]
        s = time.perf_counter()
        o = sj.als_feed_candidates(
            spark, data / "events.parquet", Path(d) / "als",
            k=20, rank=ALS["factors"], iterations=ALS["iterations"],
        )  # fmt: skip
        t["als_feed_candidates"] = time.perf_counter() - s
        out["candidates"] = json.loads((o / sj.MANIFEST).read_text())["rows"]["candidates"]
    jvm = _jvm_hwm_mib(spark)
    spark.stop()
    return {
        "seconds": t,
        "session_start_s": start,
        "rows": out,
        "peak_rss_mib": _rss_mib() + jvm,
        "jvm_peak_rss_mib": jvm,
    }


def run_worker(kind: str, data: Path) -> dict:
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYTHONWARNINGS": "ignore"}
    s = time.perf_counter()
    p = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--data", str(data)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if p.returncode:
        raise RuntimeError(f"{kind} worker failed:\n{p.stderr[-3000:]}")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res["process_wall_s"] = time.perf_counter() - s
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["tiny", "small", "medium"])
    ap.add_argument("--worker", choices=["single", "spark"])
    ap.add_argument("--data", type=Path)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "communitok-sim")
    a = ap.parse_args()
    if a.worker:
        res = worker_single(a.data) if a.worker == "single" else worker_spark(a.data)
        print(json.dumps(res))
        return
    from communitok.simulate import SimConfig, write_dataset

    old = json.loads(RESULTS.read_text())["results"] if RESULTS.exists() else []
    results = [r for r in old if r["size"] not in a.sizes]
    for size in a.sizes:
        data = a.cache / size
        if not (data / "events.parquet").exists():
            s = time.perf_counter()
            info = write_dataset(SimConfig.preset(size, seed=1), data, "parquet")
            print(f"{size}: simulated in {time.perf_counter() - s:.1f}s {info.rows}", flush=True)
        import pyarrow.parquet as pq

        n = {
            t: pq.read_metadata(data / f"{t}.parquet").num_rows
            for t in ("videos", "events", "viewers")
        }
        single = run_worker("single", data)
        spark = run_worker("spark", data)
        ratio = {
            k: spark["seconds"][k] / max(single["seconds"][k], 1e-9) for k in single["seconds"]
        }
        tot_single = sum(single["seconds"].values())
        tot_spark = sum(spark["seconds"].values())
        row = {
            "size": size,
            "rows": n,
            "single": single,
            "spark_local2": spark,
            "ratio_spark_over_single": ratio,
            "total_single_s": tot_single,
            "total_spark_s": tot_spark,
            "total_ratio": tot_spark / tot_single,
            "total_ratio_with_session_start": (tot_spark + spark["session_start_s"]) / tot_single,
            "same_aggregate_rows": all(
                single["rows"][k] == spark["rows"][k]
                for k in ("pairs", "series_rows", "community_series_rows", "interest_rows")
            ),
            "audience_edges_single_vs_spark": [
                single["rows"]["audience_edges"],
                spark["rows"]["audience_edges"],
            ],
        }
        results.append(row)
        results.sort(key=lambda r: r["rows"]["events"])
        print(
            json.dumps(
                {k: row[k] for k in ("size", "rows", "ratio_spark_over_single", "total_ratio")}
            ),
            flush=True,
        )
        print(f"  single {single['seconds']} peak {single['peak_rss_mib']:.0f} MiB", flush=True)
        print(f"  spark  {spark['seconds']} peak {spark['peak_rss_mib']:.0f} MiB", flush=True)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(
            json.dumps(
                {
                    "machine": f"{os.cpu_count()} cores (shared), Spark local[2], driver 4g",
                    "als": ALS,
                    "results": results,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
