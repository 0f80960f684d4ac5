"""CPU time per For You feed request, in process and through the REST app.

    .venv/bin/python benchmarks/feed_cpu.py [--preset small] [--requests 1000]
        [--baseline-src DIR] [--store-dir DIR] [--profile N]

One run:

1. builds a simulated store (``--preset``; communities detected, the feed trained with
   the default configuration and saved beside the store), or reuses ``--store-dir``
   when it already holds one;
2. for each code tree (``--baseline-src``, a copy of ``src/`` to compare against, when
   given; then this checkout) a fresh single-threaded subprocess loads the saved feed
   and measures ``time.process_time`` (all threads of the process) per request:
   - in process, :meth:`FeedService.recommend` top-20 served for real (marked seen,
     exposures logged), viewers drawn from the store (5 % unknown: cold start);
   - the same with a live session: a "like" event observed before each request (the
     fold-in path);
   - through the FastAPI app with ``TestClient``: ``GET /v1/me`` (trivial, the
     baseline) and ``GET /v1/feed/{viewer}?k=20``; the difference is the feed's own
     cost over HTTP (the client's CPU is in both);
3. checks that both trees serve the same feeds (a digest of every served item:
   video, rank, score, source, why) for the same request sequence.

``--profile N`` also prints the top *N* functions of a cProfile of the in-process
requests. Writes ``benchmarks/results/feed_cpu.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "feed_cpu.json"
ENV_THREADS = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def simulated_platform(eng: Any, preset: str, seed: int) -> tuple[Any, dict[str, float]]:
    """Ingest the simulator's *preset* into *eng*, detect communities and train the
    default feed (saved beside the store); returns the feed service and the timings (s).
    Shared with ``api_load.py``."""
    from communitok.engine.communities import detect_communities
    from communitok.engine.feed import train_feed
    from communitok.engine.simulation import ingest_simulation
    from communitok.simulate import SimConfig

    t: dict[str, float] = {}
    t0 = time.perf_counter()
    ingest_simulation(eng, SimConfig.preset(preset, seed=seed))
    t["ingest_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    detect_communities(eng.store)
    t["communities_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    svc = train_feed(eng, reuse=False)
    t["train_s"] = time.perf_counter() - t0
    return svc, {k: round(v, 1) for k, v in t.items()}


def build_store(folder: Path, preset: str, seed: int) -> dict[str, float]:
    """A simulated store with communities and a trained, saved feed (setup timings)."""
    from communitok.core.settings import Settings
    from communitok.engine import open_engine

    settings = Settings(store=str(folder / "cpu.duckdb"), rejects_dir=str(folder / "rejects"))
    with open_engine(settings) as eng:
        svc, timing = simulated_platform(eng, preset, seed)
        svc.close()
    return timing


def cpu_stats(xs: list[float]) -> dict[str, float]:
    a = np.asarray(xs) * 1000.0
    return {
        "mean_ms": round(float(a.mean()), 3),
        "p50_ms": round(float(np.percentile(a, 50)), 3),
        "p99_ms": round(float(np.percentile(a, 99)), 3),
    }


def _digest(h: Any, body: dict[str, Any]) -> None:
    for it in body["items"]:
        h.update(repr((it["video_id"], it["rank"], it["score"], it["source"], it["why"])).encode())


def measure(store_dir: Path, n: int, seed: int, profile: int) -> dict[str, Any]:
    """Run in a subprocess: load the saved feed, time requests (see module docstring)."""
    from fastapi.testclient import TestClient

    from communitok.api import SCOPES, create_app
    from communitok.core.settings import Settings
    from communitok.engine import open_engine
    from communitok.engine.feed import load_feed

    settings = Settings(store=str(store_dir / "cpu.duckdb"), rejects_dir=str(store_dir / "rejects"))
    out: dict[str, Any] = {}
    with open_engine(settings) as eng:
        svc = load_feed(eng)
        if svc is None:
            raise SystemExit("no saved feed in the store")
        viewers = eng.store.read("viewers", ["viewer_id"]).column(0).to_pylist()
        videos = svc.control.ctx_.catalogue.video_ids.tolist()
        g = np.random.default_rng(seed)

        def draw(i: int, tag: str) -> str:
            v = str(viewers[int(g.integers(len(viewers)))])
            return f"{tag}-new-{i}" if g.random() < 0.05 else v

        digest = hashlib.sha256()
        for i in range(50):  # warm-up (lazy per-catalogue arrays, allocator)
            svc.recommend(draw(i, "warm"), 20, log_exposure=False, mark_served=False)

        # in process, served for real
        seq = [draw(i, "inproc") for i in range(n)]
        times = []
        prof = None
        if profile:
            import cProfile

            prof = cProfile.Profile()
        for v in seq:
            t = time.process_time()
            if prof is not None:
                prof.enable()
            resp = svc.recommend(v, 20)
            if prof is not None:
                prof.disable()
            times.append(time.process_time() - t)
            _digest(digest, {"items": [i.to_dict() for i in resp.items]})
        out["in_process"] = cpu_stats(times)
        if prof is not None:
            import pstats

            pstats.Stats(prof).sort_stats("tottime").print_stats(profile)

        # with a live session: a like before each request (the fold-in path)
        times = []
        for i in range(n // 2):
            v = draw(i, "session")
            svc.observe(
                {
                    "viewer_id": v,
                    "video_id": videos[int(g.integers(len(videos)))],
                    "watch_time_s": 30.0,
                    "liked": True,
                }
            )
            t = time.process_time()
            resp = svc.recommend(v, 20)
            times.append(time.process_time() - t)
            _digest(digest, {"items": [i.to_dict() for i in resp.items]})
        out["in_process_with_session"] = cpu_stats(times)

        # through the app
        app = create_app(
            eng,
            dashboard=False,
            rate_limits={s: (1e6, 1_000_000) for s in SCOPES},
            anon_rate=(1e6, 1_000_000),
        )
        with TestClient(app) as c:
            key = app.state.api.keys.create("viewer-service", "feed cpu benchmark")[0]
            h = {"X-API-Key": key}
            for i in range(50):
                c.get("/v1/me", headers=h)
                c.get(f"/v1/feed/{draw(i, 'warm')}?k=20&preview=true", headers=h)
            t = time.process_time()
            for _ in range(n):
                r = c.get("/v1/me", headers=h)
                r.raise_for_status()
            me = (time.process_time() - t) / n
            seq = [draw(i, "http") for i in range(n)]
            t = time.process_time()
            bodies = []
            for v in seq:
                r = c.get(f"/v1/feed/{v}?k=20", headers=h)
                r.raise_for_status()
                bodies.append(r.content)
            feed = (time.process_time() - t) / n
            for b in bodies:
                _digest(digest, json.loads(b))
        out["test_client"] = {
            "me_cpu_ms_per_request": round(me * 1000, 3),
            "feed_cpu_ms_per_request": round(feed * 1000, 3),
            "feed_minus_me_ms": round((feed - me) * 1000, 3),
        }
        out["served_digest"] = digest.hexdigest()
        out["videos"] = len(videos)
        out["viewers"] = len(viewers)
        svc.close()
    return out


def run_tree(src: Path, store_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """:func:`measure` in a fresh single-threaded process importing *src*."""
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        env = {**os.environ, **ENV_THREADS, "PYTHONPATH": str(src)}
        cmd = [
            sys.executable,
            __file__,
            "--measure",
            str(store_dir),
            "--requests",
            str(args.requests),
            "--seed",
            str(args.seed),
            "--profile",
            str(args.profile),
            "--out",
            f.name,
        ]
        subprocess.run(cmd, env=env, check=True)
        return json.loads(Path(f.name).read_text())  # type: ignore[no-any-return]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--baseline-src", type=Path, default=None)
    ap.add_argument("--store-dir", type=Path, default=None)
    ap.add_argument("--profile", type=int, default=0)
    ap.add_argument("--measure", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if args.requests < 10:
        raise SystemExit("--requests must be >= 10")
    if args.measure is not None:
        res = measure(args.measure, args.requests, args.seed, args.profile)
        args.out.write_text(json.dumps(res))
        return 0
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="communitok-feedcpu-") as tmp:
        store_dir = args.store_dir or Path(tmp)
        setup: dict[str, float] = {}
        if not (store_dir / "cpu.duckdb").exists():
            store_dir.mkdir(parents=True, exist_ok=True)
            setup = build_store(store_dir, args.preset, args.seed)
            print(f"store ready: {setup}", flush=True)
        trees: dict[str, dict[str, Any]] = {}
        if args.baseline_src is not None:
            trees["baseline"] = run_tree(args.baseline_src.resolve(), store_dir, args)
            print("baseline:", json.dumps(trees["baseline"]), flush=True)
        trees["current"] = run_tree(ROOT / "src", store_dir, args)
        print("current:", json.dumps(trees["current"]), flush=True)
    out: dict[str, Any] = {
        "preset": args.preset,
        "requests": args.requests,
        "k": 20,
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "setup": setup,
        **trees,
    }
    if "baseline" in trees:
        b, c = trees["baseline"], trees["current"]
        out["same_feeds_served"] = b["served_digest"] == c["served_digest"]
        out["ratio_current_to_baseline"] = {
            "in_process_mean": round(c["in_process"]["mean_ms"] / b["in_process"]["mean_ms"], 3),
            "in_process_with_session_mean": round(
                c["in_process_with_session"]["mean_ms"] / b["in_process_with_session"]["mean_ms"],
                3,
            ),
            "test_client_feed_minus_me": round(
                c["test_client"]["feed_minus_me_ms"] / b["test_client"]["feed_minus_me_ms"], 3
            ),
        }
    out["wall_s"] = round(time.perf_counter() - t_all, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k not in ("machine",)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
