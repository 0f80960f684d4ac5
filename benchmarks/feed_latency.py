"""In-process feed latency at scale with the default configuration: 100k videos, 1M viewers.

    .venv/bin/python benchmarks/feed_latency.py [--viewers 1000000] [--videos 100000]
        [--events 5000000] [--requests 2000] [--model-cache DIR]

One run, one process:
- simulates the platform (``communitok.simulate``, the ``large`` preset resized) and
  fits :class:`communitok.feed.FeedPipeline` with the **default** configuration (what
  ``communitok serve`` and ``communitok feed benchmark`` use: nine sources, each
  choosing its index by catalogue size, RRF fusion, MMR re-ranker, explanations); the
  planted community memberships stand in for the communities engine's result;
- measures ``recommend`` top-20 (served for real: marked seen) p50 / p99 beside a
  brute-force top-20 (dot product of the viewer's MF vector with every video vector
  plus an exact top-20, numpy) timed in the same loop, and the ratio;
- HNSW recall@20 of the MF and content indices against exact search;
- real time: the cost of ``observe`` and the delay until the next feed reflects a
  "not interested" (the video's creator gone) and a like (the liked video now explains
  an item, or the feed changed);
- memory per viewer (embedding, history, seen, follows, memberships, id index, session).
Single-threaded BLAS / faiss while timing requests (one request per core); the loaded
pipeline is frozen out of the cyclic garbage collector first, as ``communitok serve``
does. With
``--model-cache`` the fitted pipeline is saved there (:mod:`communitok.feed.persist`)
and loaded by later runs instead of refitting. Writes
``benchmarks/results/feed_latency.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
from threadpoolctl import threadpool_limits

from communitok.engine.feed import default_config, fit_debiaser
from communitok.feed import Catalogue, FeedPipeline, Interactions, exact_top_k, recall_vs_exact
from communitok.feed.persist import pipeline_state, restore_pipeline
from communitok.simulate import SimConfig, simulate

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "feed_latency.json"


def pct(a: list[float]) -> dict[str, float]:
    x = np.asarray(a) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(x, 50)), 3),
        "p99_ms": round(float(np.percentile(x, 99)), 3),
        "mean_ms": round(float(x.mean()), 3),
    }


def fit(args: argparse.Namespace, log: dict) -> FeedPipeline:
    cache = Path(args.model_cache) if args.model_cache else None
    if cache is not None and (cache / "model.json").is_file():
        t = time.time()
        with np.load(cache / "model.npz", allow_pickle=False) as arrays:
            p = restore_pipeline(json.loads((cache / "model.json").read_text()), arrays)
        log["load_saved_model_s"] = round(time.time() - t, 1)
        return p
    t = time.time()
    cfg = SimConfig.preset(
        "large",
        seed=args.seed,
        n_viewers=args.viewers,
        n_videos=args.videos,
        n_events=args.events,
        n_creators=max(args.videos // 10, 100),
        n_comments=1000,
    )
    sim = simulate(cfg)
    log["simulate_s"] = round(time.time() - t, 1)
    t = time.time()
    vt = sim.truth.table("video_truth")
    vc = pa.table(
        {
            "video_id": vt["video_id"],
            "community_id": vt["community_id"],
            "weight": pa.array(np.ones(vt.num_rows)),
        }
    )
    wc = sim.truth.table("viewer_interests").select(["viewer_id", "community_id", "weight"])
    cat = Catalogue.from_arrow(sim["videos"], video_communities=vc)
    deb = fit_debiaser(sim["events"], cat)
    inter = Interactions.from_events(
        sim["events"], cat, viewer_communities=wc, follows=sim["follows"], debiaser=deb
    )
    log["inputs_s"] = round(time.time() - t, 1)
    del sim
    t = time.time()
    p = FeedPipeline(default_config(args.seed)).fit(cat, inter, debiaser=deb)
    log["fit_s"] = round(time.time() - t, 1)
    if cache is not None:
        t = time.time()
        cache.mkdir(parents=True, exist_ok=True)
        manifest, arrays = pipeline_state(p)
        np.savez(cache / "model.npz", **arrays)
        (cache / "model.json").write_text(json.dumps(manifest))
        log["save_model_s"] = round(time.time() - t, 1)
        log["saved_model_mb"] = round((cache / "model.npz").stat().st_size / 2**20, 1)
    return p


def recall(index: object, queries: np.ndarray, items: np.ndarray) -> dict[str, float]:
    """Recall@20 of an index against exact search: by id, and by score (results scoring
    at least the exact 20th best: ties at the cut make id recall understate)."""
    exact_s, exact = exact_top_k(queries, items, 20)
    got_s, got = index.search(queries, 20)  # type: ignore[attr-defined]
    kth = exact_s[:, -1:]
    return {
        "recall@20_ids": round(recall_vs_exact(got, exact), 4),
        "recall@20_scores": round(float(np.mean(got_s >= kth - 1e-5 * np.abs(kth))), 4),
        "queries": len(queries),
    }


def memory_per_viewer(p: FeedPipeline) -> dict[str, float]:
    it = p.ctx_.interactions
    n = max(it.n_viewers, 1)

    def nbytes(m: object) -> int:
        if m is None:
            return 0
        return int(sum(getattr(m, a).nbytes for a in ("data", "indices", "indptr")))

    mf = p.sources["mf"].model_
    out = {
        "embedding_bytes": mf.user_factors_.nbytes / n,
        "history_bytes": nbytes(it.matrix) / n,
        "seen_and_excluded_bytes": (
            nbytes(it.seen) + nbytes(it.not_interested) + nbytes(it.excluded)
        )
        / n,
        "follows_and_memberships_bytes": (nbytes(it.following) + nbytes(it.viewer_communities)) / n,
        # the id array and the id → row dict (CPython sizes)
        "viewer_id_index_bytes": float(
            it.viewer_ids.nbytes / n
            + sys.getsizeof(str(it.viewer_ids[0]))
            + sys.getsizeof(it.index) / n
        ),
    }
    out = {k: round(v, 1) for k, v in out.items()}
    out["total_bytes"] = round(sum(out.values()), 1)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--viewers", type=int, default=1_000_000)
    ap.add_argument("--videos", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model-cache", default=None)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    t_all = time.time()
    log: dict[str, float] = {}
    p = fit(args, log)
    gc.collect()
    gc.freeze()  # as `communitok serve` does after loading: full GC passes skip the model
    print(f"pipeline ready: {log}", flush=True)
    cat, it = p.ctx_.catalogue, p.ctx_.interactions
    g = np.random.default_rng(args.seed)
    mf, content = p.sources["mf"], p.sources["content"]
    chosen = {
        "ease_modelled_videos": len(p.sources["ease"].model_.items_),
        "mf_index": mf.ann_,
        "content_index": content.ann_,
        "new_videos_index": p.sources["new_videos"].ann_,
        "new_videos_eligible": len(p.sources["new_videos"].items_),
    }
    U, V = mf.model_.user_factors_, mf.model_.item_factors_
    ann = {}
    with threadpool_limits(1):
        # viewers with a vector (without one, MF proposes nothing and every score ties)
        q = g.choice(np.flatnonzero(np.any(U != 0, axis=1)), 500, replace=False)
        if mf.index_ is not None:
            ann["mf"] = recall(mf.index_, U[q], V)
        req = p.build_request(q)
        if content.index_ is not None:
            Q, has = content._queries(req)
            ann["content"] = recall(content.index_, Q[has], content.space_)
    print(f"indices: {chosen}, recall: {ann}", flush=True)

    viewers = g.choice(it.n_viewers, args.requests, replace=False)
    ids = [str(it.viewer_ids[v]) for v in viewers]
    with threadpool_limits(1):
        for v in ids[:20]:  # warm-up
            p.recommend(v, 20, mark_served=False)
        brute, full, sizes, brute_cpu, full_cpu = [], [], [], [], []
        for v, vid in zip(viewers, ids, strict=True):
            t, c = time.perf_counter(), time.thread_time()
            s = V @ U[v]
            top = np.argpartition(-s, 20)[:20]
            top = top[np.argsort(-s[top])]
            brute.append(time.perf_counter() - t)
            brute_cpu.append(time.thread_time() - c)
            t, c = time.perf_counter(), time.thread_time()
            feed = p.recommend(vid, 20)
            full.append(time.perf_counter() - t)
            full_cpu.append(time.thread_time() - c)
            sizes.append(len(feed.items))
        res = {"brute_force_dot_top20": pct(brute), "pipeline_recommend_top20": pct(full)}
        # CPU time of the serving thread: what a request costs without the waits a shared
        # machine adds (other processes holding the cores)
        res["cpu_time"] = {
            "brute_force_dot_top20": pct(brute_cpu),
            "pipeline_recommend_top20": pct(full_cpu),
            "ratio_p50": round(float(np.median(full_cpu) / max(np.median(brute_cpu), 1e-9)), 2),
        }
        res["pipeline_share_under_5ms"] = round(float(np.mean(np.asarray(full) <= 0.005)), 4)
        for q_ in ("p50", "p99"):
            res[f"ratio_{q_}"] = round(
                res["pipeline_recommend_top20"][f"{q_}_ms"]
                / res["brute_force_dot_top20"][f"{q_}_ms"],
                2,
            )
        res["feeds_with_20_items"] = round(float(np.mean(np.asarray(sizes) == 20)), 4)
        print(f"latency: {res}", flush=True)

        # where the time goes (a separate pass: the wrappers cost a little)
        spent: dict[str, float] = defaultdict(float)
        saved = {}
        for label, src in p.sources.items():
            saved[label] = src.candidates

            def timed(req, n, _f=src.candidates, _l=label):
                t0 = time.perf_counter()
                out = _f(req, n)
                spent[_l] += time.perf_counter() - t0
                return out

            src.candidates = timed  # type: ignore[method-assign]
        for vid in ids[:300]:
            p.recommend(vid, 20, mark_served=False)
        for label, f in saved.items():
            p.sources[label].candidates = f  # type: ignore[method-assign]
        breakdown = {f"{k}_candidates_ms": round(1000 * v / 300, 3) for k, v in spent.items()}

        upd, delay, reflected, liked_delay = [], [], 0, []
        n_rt = min(500, len(ids))
        for j, vid in enumerate(ids[:n_rt]):
            before = p.recommend(vid, 20, mark_served=False)
            target = before.items[j % len(before.items)]
            creator = cat.creator[cat.index[target.video_id]]
            t = time.perf_counter()
            p.observe({"viewer_id": vid, "video_id": target.video_id, "not_interested": True})
            upd.append(time.perf_counter() - t)
            after = p.recommend(vid, 20, mark_served=False)
            delay.append(time.perf_counter() - t)
            reflected += all(cat.creator[cat.index[i.video_id]] != creator for i in after.items)
            like = after.items[0].video_id
            t = time.perf_counter()
            p.observe({"viewer_id": vid, "video_id": like, "watch_time_s": 60.0, "liked": True})
            p.recommend(vid, 20, mark_served=False)
            liked_delay.append(time.perf_counter() - t)
    rt = {
        "observe_cost": pct(upd),
        "event_to_reflecting_feed": pct(delay),
        "share_reflected": reflected / n_rt,
        "like_to_next_feed": pct(liked_delay),
    }
    print(f"real time: {rt}", flush=True)
    st = p.sessions.get(ids[0])
    per_viewer = memory_per_viewer(p)
    per_viewer["session_state_bytes_after_events"] = int(st.nbytes()) if st else 0
    print(f"memory per viewer: {per_viewer}", flush=True)
    out = {
        "viewers": it.n_viewers,
        "videos": cat.n_videos,
        "interactions": int(it.matrix.nnz),
        "requests": args.requests,
        "configuration": "default (communitok.engine.feed.default_config)",
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "timing": log,
        "wall_s": round(time.time() - t_all, 1),
        "indices": chosen,
        "ann": ann,
        "latency": res,
        "candidates_breakdown": breakdown,
        "real_time": rt,
        "memory_per_viewer": per_viewer,
        "goal": {
            "p99_ms": 5.0,
            "met_wall": res["pipeline_recommend_top20"]["p99_ms"] <= 5.0,
            "met_cpu": res["cpu_time"]["pipeline_recommend_top20"]["p99_ms"] <= 5.0,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
