"""Offline evaluation and the in-process latency benchmark of the For You feed.

- :func:`evaluate_stored` — a temporal split of the stored events: train on everything
  before the cut, test on the engaged (viewer, video) pairs after it that the viewer had
  not seen before; full ranking (seen videos excluded), Recall@K / NDCG@K for
  most-popular, EASE and the pipeline (ranking stage alone, and as served with the
  re-ranker), plus coverage, intra-list diversity, community spread and novelty. Viewer
  memberships are *not* used (the communities result was computed on every event,
  the test window included); video memberships are.
- :func:`evaluate_tiktok_rec` — the published TikTok split (../shared/data/tiktok_rec),
  with the settings ``benchmarks/feed_tiktok_rec.py`` chose on validation.
- :func:`benchmark_feed` — p50 / p99 of ``FeedService.recommend`` on the trained
  catalogue next to a brute-force top-K in the same run, the cost of one ``observe`` and
  the delay until the next feed reflects it, and memory per session.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from ..core.errors import InputError
from ..core.seeds import rng
from ..evaluation import (
    community_spread,
    evaluate_recommender,
    intra_list_diversity,
    load_tiktok_rec,
    novelty,
    top_k_from_scores,
)
from ..feed import (
    EASE,
    Catalogue,
    FeedConfig,
    FeedPipeline,
    ImplicitMF,
    Interactions,
    StageSpec,
    engagement_target,
)
from .core import Engine
from .feed import EASE_MAX_ITEMS, default_config, fit_debiaser
from .feed_inputs import load_feed_inputs, time_window
from .feed_service import FeedService

#: engagement target from which a test event counts as relevant (as the session's
#: positive threshold)
POSITIVE = 0.5
#: settings chosen on validation by benchmarks/feed_tiktok_rec.py
TIKTOK_SETTINGS: dict[str, Any] = {
    "ease_l2": 50.0,
    "side_weight": 400.0,
    "als": (64, 20.0),
    "gbdt": {
        "model": "gbdt",
        "max_iter": 400,
        "learning_rate": 0.03,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 50,
    },
}
SCORERS = ("gbdt", "logistic", "rrf")


@dataclass(frozen=True)
class EvalReport:
    """Metrics per model on one protocol (same users, same K, same run)."""

    protocol: str
    k: int
    split: dict[str, Any]
    models: dict[str, dict[str, float]]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 1000:
        raise InputError(f"must be an integer in [1, 1000], got {k!r}", field="k")
    return k


class _Scoreboard:
    """Runs recommenders over the same test users and collects their metrics."""

    def __init__(self, test: sp.csr_matrix, k: int, train: sp.csr_matrix) -> None:
        self.test, self.k = test, k
        self.pop = np.asarray((train > 0).sum(axis=0)).ravel()
        self.n_users = max(train.shape[0], 1)
        self.models: dict[str, dict[str, float]] = {}

    def run(
        self,
        name: str,
        fn: Any,
        vectors: np.ndarray | None = None,
        primary: np.ndarray | None = None,
    ) -> None:
        t0 = time.perf_counter()
        lists: list[np.ndarray] = []

        def rec(u: np.ndarray, k: int) -> np.ndarray:
            got = np.asarray(fn(u, k), dtype=np.int64)
            lists.append(got)
            return got

        r = evaluate_recommender(rec, self.test, k=self.k)
        top = np.vstack(lists) if lists else np.zeros((0, self.k), np.int64)
        out = {
            f"recall@{self.k}": round(r.recall, 5),
            f"ndcg@{self.k}": round(r.ndcg, 5),
            f"hit_rate@{self.k}": round(r.hit_rate, 5),
            "coverage": round(r.coverage, 4),
            "novelty_bits": round(novelty(top, self.pop, self.n_users), 3),
        }
        if vectors is not None and len(top):
            out["intra_list_diversity"] = round(intra_list_diversity(top[:2000], vectors), 4)
        if primary is not None and len(top) and (primary >= 0).any():
            out["communities_per_list"] = round(community_spread(top, primary), 3)
        out["seconds"] = round(time.perf_counter() - t0, 2)
        out["n_users"] = r.n_users
        self.models[name] = out


def _primary(cat: Catalogue) -> np.ndarray:
    M = sp.csr_matrix(cat.communities)
    out = np.full(cat.n_videos, -1, np.int64)
    if M.shape[1] and M.nnz:
        has = np.asarray(M.getnnz(axis=1)) > 0
        out[has] = np.asarray(M[has].argmax(axis=1)).ravel()
    return out


def _test_matrix(
    events: pa.Table, cat: Catalogue, inter: Interactions, deb: Any
) -> tuple[sp.csr_matrix, int]:
    """Relevant (viewer, video) pairs of *events* for viewers known in *inter*, minus the
    pairs seen in training; also how many test viewers had no training history."""
    vid = cat.lookup(events["video_id"].to_pylist())
    viewers = events["viewer_id"].to_pylist()
    row = np.asarray([inter.index.get(str(v), -1) for v in viewers], np.int64)
    t = engagement_target(events, cat.duration_s[np.maximum(vid, 0)], debiaser=deb)
    ni = np.asarray(
        pc.fill_null(events["not_interested"], False).to_numpy(zero_copy_only=False), bool
    )
    ok = (vid >= 0) & (t >= POSITIVE) & ~ni
    cold = len({v for v, r, o in zip(viewers, row, ok, strict=True) if o and r < 0})
    keep = ok & (row >= 0)
    T = sp.csr_matrix(
        (np.ones(keep.sum(), np.float32), (row[keep], vid[keep])), shape=inter.matrix.shape
    )
    T.data[:] = 1.0
    T = T - T.multiply(inter.excluded > 0)
    T = sp.csr_matrix(T)
    T.eliminate_zeros()
    return T, cold


def evaluate_stored(
    engine: Engine,
    *,
    k: int = 20,
    test_share: float = 0.2,
    test_days: float | None = None,
    config: FeedConfig | None = None,
    seed: int | None = None,
) -> EvalReport:
    """Temporal split of the stored events (see the module docstring). The cut is
    *test_days* before the last event, else the (1 − *test_share*) quantile of event
    times."""
    k = _check_k(k)
    if not (isinstance(test_share, int | float) and 0 < test_share < 1):
        raise InputError(f"must be in (0, 1), got {test_share!r}", field="test_share")
    if test_days is not None and not (isinstance(test_days, int | float) and test_days > 0):
        raise InputError(f"must be > 0, got {test_days!r}", field="test_days")
    seed = engine.settings.seed if seed is None else seed
    inputs = load_feed_inputs(engine.store, viewer_memberships=False)
    ev = inputs.events
    if inputs.videos.num_rows == 0 or ev.num_rows < 10:
        raise InputError("needs stored videos and at least 10 events", field="events")
    ts = pc.cast(ev["ts"], pa.timestamp("us", tz="UTC"))
    if test_days is not None:
        cut = pc.max(ts).as_py() - timedelta(days=float(test_days))
    else:
        us = np.asarray(pc.cast(ts, pa.int64()).to_numpy(zero_copy_only=False))
        q = int(np.quantile(us, 1.0 - test_share, method="lower"))
        cut = pa.scalar(q, pa.timestamp("us", tz="UTC")).as_py()
    train_ev = time_window(ev, "ts", None, cut)
    test_ev = time_window(ev, "ts", cut, None)
    if train_ev.num_rows == 0 or test_ev.num_rows == 0:
        raise InputError(f"the cut {cut.isoformat()} leaves one side empty", field="test_days")
    follows = (
        None if inputs.follows is None else time_window(inputs.follows, "created_at", None, cut)
    )
    cat = Catalogue.from_arrow(inputs.videos, video_communities=inputs.video_communities)
    deb = fit_debiaser(train_ev, cat)
    inter = Interactions.from_events(train_ev, cat, follows=follows, debiaser=deb)
    test, cold = _test_matrix(test_ev, cat, inter, deb)
    if test.nnz == 0:
        raise InputError("no relevant unseen pairs after the cut", field="test_share")
    cfg = config or default_config(seed)
    p = FeedPipeline(cfg).fit(cat, inter, debiaser=deb)
    vectors = p.ctx_.content.vectors_ if p.ctx_.content.has_content_ else None
    primary = _primary(cat)
    X, ex = inter.matrix, inter.excluded
    board = _Scoreboard(test, k, X)
    pop = np.asarray((X > 0).sum(axis=0)).ravel().astype(np.float32)
    board.run(
        "most_popular",
        lambda u, kk: top_k_from_scores(np.tile(pop, (len(u), 1)), kk, ex[u]),
        vectors,
        primary,
    )
    ease_params = next((s.params for s in cfg.sources if s.kind == "ease"), {})
    ease = EASE(
        l2=float(ease_params.get("l2", 40.0)),
        max_items=int(ease_params.get("max_items", EASE_MAX_ITEMS)),
    ).fit(X)
    board.run(
        "ease", lambda u, kk: top_k_from_scores(ease.score(X[u]), kk, ex[u]), vectors, primary
    )
    board.run("pipeline", lambda u, kk: p.rank_batch(u, kk), vectors, primary)
    board.run("pipeline_served", lambda u, kk: p.rank_batch(u, kk, rerank=True), vectors, primary)
    return EvalReport(
        protocol="stored events, temporal split",
        k=k,
        split={
            "cut": cut.isoformat(),
            "train_events": train_ev.num_rows,
            "test_events": test_ev.num_rows,
            "test_pairs": int(test.nnz),
            "test_viewers": int((np.asarray(test.getnnz(axis=1)) > 0).sum()),
            "cold_test_viewers_skipped": cold,
            "videos": cat.n_videos,
            "communities": len(cat.community_ids),
        },
        models=board.models,
        notes=[
            f"relevant = engagement target >= {POSITIVE} (duration-debiased watch time, "
            "likes, shares, follows, comments, minus skips) and not 'not interested'",
            "videos each viewer saw before the cut are excluded from ranking and from the test",
            "pipeline = sources + scorer; pipeline_served adds the re-ranker (MMR "
            "diversity, creator / sound caps, exploration, new-creator boost)",
        ],
    )


# --------------------------------------------------------------------------- TikTok split
def tiktok_config(scorer: str = "gbdt", seed: int = 0) -> FeedConfig:
    """The pipeline the TikTok benchmark chose on validation, with the given scorer."""
    if scorer not in SCORERS:
        raise InputError(f"must be one of {SCORERS}, got {scorer!r}", field="scorer")
    s = TIKTOK_SETTINGS
    spec = (
        StageSpec("learned", s["gbdt"])
        if scorer == "gbdt"
        else StageSpec("learned", {"model": "logistic"})
        if scorer == "logistic"
        else StageSpec("rrf", {})
    )
    return FeedConfig(
        sources=(
            StageSpec("ease", {"l2": s["ease_l2"], "side_weight": s["side_weight"]}, n=300),
            StageSpec("mf", {"factors": s["als"][0], "alpha": s["als"][1]}, n=100),
            StageSpec("content", {}, n=50),
            StageSpec("content", {"new_only": True}, n=50, label="new_videos"),
            StageSpec("popular", {}, n=50),
        ),
        scorer=spec,
        content={"blocks": (128, 128), "block_weights": (1.0, 0.55)},
        rerank={"diversity": 0.0, "explore_share": 0.0},
        seed=seed,
    )


def evaluate_tiktok_rec(
    folder: str | Path, *, k: int = 20, scorer: str = "gbdt", seed: int = 0
) -> EvalReport:
    """The published protocol on the TikTok split: train on ``train``, rank every item
    for each user with a ``test`` interaction (training items masked), Recall / NDCG@K
    of most-popular, EASE, implicit ALS and the pipeline. A learned scorer (*scorer*
    "gbdt" or "logistic") is fitted on the ``val`` interactions; "rrf" uses train only.
    Takes minutes (the pipeline's EASE with side information and the scorer)."""
    k = _check_k(k)
    cfg = tiktok_config(scorer, seed)  # validates scorer before loading
    split = load_tiktok_rec(folder)
    train, val, test = split.train, split.val, split.test
    feats = [split.item_features[n] for n in ("image", "audio") if n in split.item_features]
    if len(feats) != 2:
        raise InputError("needs image_feat.npy and audio_feat.npy", source=str(folder))
    cat = Catalogue.from_size(train.shape[1], features=np.hstack(feats))
    board = _Scoreboard(test, k, train)
    pop = np.asarray((train > 0).sum(axis=0)).ravel().astype(np.float32)
    board.run(
        "most_popular", lambda u, kk: top_k_from_scores(np.tile(pop, (len(u), 1)), kk, train[u])
    )
    s = TIKTOK_SETTINGS
    ease = EASE(l2=s["ease_l2"]).fit(train)
    board.run("ease", lambda u, kk: top_k_from_scores(ease.score(train[u]), kk, train[u]))
    als = ImplicitMF(
        "als", factors=s["als"][0], alpha=s["als"][1], regularization=1.0, seed=seed
    ).fit(train)
    board.run(
        "als",
        lambda u, kk: top_k_from_scores(als.score(als.user_factors_[u]), kk, train[u]),
    )
    t0 = time.perf_counter()
    p = FeedPipeline(cfg).fit(cat, Interactions.from_matrix(train))
    if scorer != "rrf":
        p.fit_scorer(val)
    fit_s = round(time.perf_counter() - t0, 1)
    vectors = p.ctx_.content.vectors_
    board.run(f"pipeline_{scorer}", lambda u, kk: p.rank_batch(u, kk), vectors)
    notes = [
        "published on this split: LightGCN .0653/.0282, MMSSL .0921/.0392, "
        "DiffMM .1129/.0456 (Recall@20/NDCG@20)",
        f"pipeline fit{' + scorer' if scorer != 'rrf' else ''}: {fit_s} s",
    ]
    if scorer != "rrf":
        notes.append(
            "the pipeline's learned scorer is trained on the val interactions (the "
            "baselines use train only); --scorer rrf uses train only"
        )
    return EvalReport(
        protocol="tiktok_rec published split (train → test, training items masked)",
        k=k,
        split={
            "users": train.shape[0],
            "items": train.shape[1],
            "train": int(train.nnz),
            "val": int(val.nnz),
            "test": int(test.nnz),
        },
        models=board.models,
        notes=notes,
    )


# --------------------------------------------------------------------------- latency
def _pct(xs: list[float]) -> dict[str, float]:
    if not xs:
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "mean_ms": float("nan")}
    a = np.asarray(xs) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 3),
        "p99_ms": round(float(np.percentile(a, 99)), 3),
        "mean_ms": round(float(a.mean()), 3),
    }


def benchmark_feed(
    service: FeedService, *, requests: int = 200, k: int = 20, seed: int = 0
) -> dict[str, Any]:
    """In-process latency of :meth:`FeedService.recommend` for top-*k* on the trained
    catalogue (previews: nothing marked served or logged), beside a brute-force top-*k*
    (dot product with the MF factors, or a popularity sort) timed in the same loop; the
    cost of ``observe`` and the delay until the next feed reflects a "not interested"
    event (synthetic viewers, their sessions removed afterwards)."""
    if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1:
        raise InputError(f"must be an integer >= 1, got {requests!r}", field="requests")
    k = _check_k(k)
    p = service.control
    it = p.ctx_.interactions
    n_videos = p.ctx_.catalogue.n_videos
    if n_videos == 0:
        raise InputError("the catalogue is empty: nothing to benchmark", field="videos")
    g = rng(seed)
    ids = it.viewer_ids
    pick: Any = g.choice(len(ids), min(requests, len(ids)), replace=False) if len(ids) else []
    viewers = [str(ids[i]) for i in pick] + [f"bench-cold-{i}" for i in range(requests - len(pick))]
    mf = p.sources.get("mf")
    model = getattr(mf, "model_", None)
    if model is not None and getattr(model, "item_factors_", None) is not None:
        V, U, kind = model.item_factors_, model.user_factors_, "mf dot product"
    else:
        V = np.asarray((it.matrix > 0).sum(axis=0), np.float32).reshape(-1, 1)
        U, kind = np.ones((max(it.n_viewers, 1), 1), np.float32), "popularity sort"
    kk = min(k, n_videos)
    with threadpool_limits(1):  # one request per core, for the feed and the baseline alike
        return _bench(service, viewers, V, U, kind, k, kk, requests, seed)


def _bench(
    service: FeedService,
    viewers: list[str],
    V: np.ndarray,
    U: np.ndarray,
    kind: str,
    k: int,
    kk: int,
    requests: int,
    seed: int,
) -> dict[str, Any]:
    p = service.control
    it = p.ctx_.interactions
    n_videos = p.ctx_.catalogue.n_videos
    for v in viewers[:10]:  # warm-up
        service.recommend(v, k, log_exposure=False, mark_served=False)
    brute, full = [], []
    for v in viewers:
        row = it.index.get(v, 0) % max(len(U), 1)
        t = time.perf_counter()
        s = V @ U[row]
        top = np.argpartition(-s, kk - 1)[:kk]
        top = top[np.argsort(-s[top])]
        brute.append(time.perf_counter() - t)
        t = time.perf_counter()
        service.recommend(v, k, log_exposure=False, mark_served=False)
        full.append(time.perf_counter() - t)
    observe_cost, delay, reflected, mem = [], [], 0, []
    n_rt = min(50, requests)
    for j in range(n_rt):
        vid = f"bench-rt-{seed}-{j}"
        first = service.recommend(vid, k, log_exposure=False, mark_served=False)
        if not first.items:
            continue
        target = first.items[j % len(first.items)]
        t0 = time.perf_counter()
        service.observe({"viewer_id": vid, "video_id": target.video_id, "not_interested": True})
        t1 = time.perf_counter()
        nxt = service.recommend(vid, k, log_exposure=False, mark_served=False)
        t2 = time.perf_counter()
        observe_cost.append(t1 - t0)
        delay.append(t2 - t0)
        gone = (
            all(i.creator_id != target.creator_id for i in nxt.items)
            if target.creator_id
            else target.video_id not in nxt.video_ids
        )
        reflected += bool(gone)
        st = service.sessions.get(vid)
        if st is not None:
            mem.append(st.nbytes())
        service.reset_session(vid)
    lat = _pct(full)
    base = _pct(brute)
    return {
        "videos": n_videos,
        "viewers": it.n_viewers,
        "requests": len(viewers),
        "k": k,
        "baseline": kind,
        "latency": {
            "recommend": lat,
            "brute_force_top_k": base,
            "ratio_p50": round(lat["p50_ms"] / max(base["p50_ms"], 1e-6), 2),
            "ratio_p99": round(lat["p99_ms"] / max(base["p99_ms"], 1e-6), 2),
            "share_under_5ms": round(float(np.mean(np.asarray(full) < 0.005)), 4),
        },
        "real_time": {
            "observe_cost": _pct(observe_cost),
            "event_to_reflecting_feed": _pct(delay),
            "share_reflected": round(reflected / max(len(delay), 1), 4),
        },
        "session_bytes_after_one_event": round(float(np.mean(mem)), 1) if mem else None,
    }
