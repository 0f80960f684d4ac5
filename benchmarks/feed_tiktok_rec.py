"""Offline benchmark of the For You feed on the TikTok multimodal split (DiffMM / MMSSL).

    .venv/bin/python benchmarks/feed_tiktok_rec.py [--no-test] [--skip-loo] [--quick]

Protocol (../shared/data/tiktok_rec/README.md): train on ``train``, rank all 6,710 items
for every user with a test interaction, mask the user's training items, Recall@20 and
NDCG@20. Every choice (EASE λ, ALS size, side-information weight, scorer settings) is
made on ``val`` only: baselines by their val score, the learned scorer by 2-fold
cross-validation over val users (its second stage is trained on val interactions). Test
is evaluated once at the end. Baselines run in the same process. A second split (random
leave-one-out per user over all interactions) checks that the pipeline also holds up
where popularity is strong. Writes ``benchmarks/results/feed_tiktok_rec.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from communitok.evaluation import (
    community_spread,
    evaluate_recommender,
    evaluate_scores,
    intra_list_diversity,
    leave_one_out,
    load_tiktok_rec,
    novelty,
    ranking_metrics,
)
from communitok.feed import (
    EASE,
    Catalogue,
    ContentModel,
    Features,
    FeedConfig,
    FeedPipeline,
    ImplicitMF,
    Interactions,
    LearnedScorer,
    ReRanker,
    StageSpec,
)
from communitok.feed.request import gather

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "tiktok_rec"
OUT = ROOT / "benchmarks" / "results" / "feed_tiktok_rec.json"
K = 20
SEED = 0
PUBLISHED = {
    "LightGCN": (0.0653, 0.0282),
    "MMSSL": (0.0921, 0.0392),
    "DiffMM": (0.1129, 0.0456),
}


def log(*a: object) -> None:
    print(*a, flush=True)


def summary(r) -> dict:
    return {"recall@20": round(r.recall, 5), "ndcg@20": round(r.ndcg, 5), "n_users": r.n_users}


# --------------------------------------------------------------------------- baselines
def popular_scores(train: sp.csr_matrix):
    pop = np.asarray((train > 0).sum(axis=0)).ravel().astype(np.float32)
    return lambda users: np.tile(pop, (len(users), 1))


def tune_ease(train, val, grid):
    best = None
    res = {}
    for l2 in grid:
        m = EASE(l2=l2).fit(train)
        r = evaluate_scores(lambda u, m=m: m.score(train[u]), train, val, k=K)
        res[str(l2)] = summary(r)
        log(f"  EASE l2={l2}: val {summary(r)}")
        if best is None or r.ndcg > best[1]:
            best = (l2, r.ndcg, m)
    return best[0], best[2], res


def tune_als(train, val, grid):
    best = None
    res = {}
    for factors, alpha in grid:
        m = ImplicitMF(
            "als", factors=factors, alpha=alpha, regularization=1.0, iterations=15, seed=SEED
        ).fit(train)
        r = evaluate_scores(lambda u, m=m: m.score(m.user_factors_[u]), train, val, k=K)
        res[f"f{factors}_a{alpha}"] = summary(r)
        log(f"  ALS factors={factors} alpha={alpha}: val {summary(r)}")
        if best is None or r.ndcg > best[1]:
            best = ((factors, alpha), r.ndcg, m)
    return best[0], best[2], res


# --------------------------------------------------------------------------- pipeline
def pipeline_config(
    ease_l2: float, side_weight: float, als: tuple[int, float], scorer: dict
) -> FeedConfig:
    return FeedConfig(
        sources=(
            StageSpec("ease", {"l2": ease_l2, "side_weight": side_weight}, n=300),
            StageSpec("mf", {"factors": als[0], "alpha": als[1]}, n=100),
            StageSpec("content", {}, n=50),
            StageSpec("content", {"new_only": True}, n=50, label="new_videos"),
            StageSpec("popular", {}, n=50),
        ),
        scorer=StageSpec("learned", scorer),
        content={"blocks": (128, 128), "block_weights": (1.0, 0.55)},
        rerank={"diversity": 0.0, "explore_share": 0.0},
        seed=SEED,
    )


def catalogue_for(split) -> Catalogue:
    feats = np.hstack([split.item_features["image"], split.item_features["audio"]])
    return Catalogue.from_size(split.shape[1], features=feats)


def candidate_table(
    p: FeedPipeline, users: np.ndarray, batch: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    items, feats = [], []
    for s in range(0, len(users), batch):
        it, f = p.candidate_features(users[s : s + batch])
        items.append(it)
        feats.append(f.values)
    return np.concatenate(items), np.concatenate(feats)


def top_from(items: np.ndarray, scores: np.ndarray, k: int = K) -> np.ndarray:
    s = np.where(items >= 0, scores, -np.inf)
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(items, order, 1)


def cv_scorer(
    p: FeedPipeline, val: sp.csr_matrix, grid: list[dict], folds: int = 2
) -> tuple[dict, dict]:
    """2-fold cross-validation of scorer settings over val users."""
    users = np.flatnonzero(np.asarray(val.getnnz(axis=1)) > 0)
    items, F = candidate_table(p, users)
    y = gather(val[users], items)
    log(
        f"  candidates: {items.shape[1]} per user, val item among them for {np.mean((y > 0).any(axis=1)):.3f}"
    )
    fold = np.random.default_rng(SEED).integers(0, folds, len(users))
    names = p.features_.names_
    res, best = {}, None
    for params in grid:
        top = np.full((len(users), K), -1)
        for f in range(folds):
            tr, te = fold != f, fold == f
            sc = LearnedScorer(**params, seed=SEED).fit(Features(F[tr], names), y[tr])
            top[te] = top_from(items[te], sc.predict(Features(F[te], names)))
        truth = sp.csr_matrix(val[users])
        r = ranking_metrics(top, truth, K)
        key = ",".join(f"{k}={v}" for k, v in params.items())
        res[key] = summary(r)
        log(f"  scorer {key}: val-CV {summary(r)}")
        if best is None or r.ndcg > best[1]:
            best = (params, r.ndcg)
    return best[0], res


def calibrated_popularity(p: FeedPipeline, train: sp.csr_matrix, val: sp.csr_matrix) -> np.ndarray:
    """Non-personalised diagnostic: each video scored by the val positive rate of its
    (popularity bucket, content-prior bucket, new) cell, the item-level information the
    pipeline's scorer can learn from val (ties broken by train popularity)."""
    fb = p.features_
    keys = np.unique(np.stack([fb.log_pop_, fb.prior_, fb.is_new_]).T, axis=0, return_inverse=True)[
        1
    ].ravel()
    vp = np.asarray(val.sum(axis=0)).ravel()
    rate = np.bincount(keys, weights=vp) / np.bincount(keys)
    pop = np.asarray(train.sum(axis=0)).ravel()
    return (rate[keys] + 1e-6 * pop).astype(np.float32)


def beyond_accuracy(
    top: np.ndarray, train: sp.csr_matrix, vectors: np.ndarray, clusters: np.ndarray
) -> dict:
    pop = np.asarray((train > 0).sum(axis=0)).ravel()
    return {
        "coverage": round(len(np.unique(top[top >= 0])) / train.shape[1], 4),
        "novelty_bits": round(novelty(top, pop, train.shape[0]), 3),
        "intra_list_diversity": round(intra_list_diversity(top[:2000], vectors), 4),
        "clusters_per_list": round(community_spread(top, clusters), 3),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-test", action="store_true", help="validation only (development)")
    ap.add_argument("--skip-loo", action="store_true")
    ap.add_argument("--quick", action="store_true", help="one setting per grid")
    args = ap.parse_args()
    if not DATA.is_dir():
        log(f"data folder not found: {DATA}")
        return 2
    t0 = time.time()
    split = load_tiktok_rec(DATA)
    train, val, test = split.train, split.val, split.test
    out: dict = {
        "dataset": "tiktok_rec (DiffMM split)",
        "k": K,
        "seed": SEED,
        "published": PUBLISHED,
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
    }
    log("== baselines (tuned on val)")
    pop_val = evaluate_scores(popular_scores(train), train, val, k=K)
    log(f"  most-popular: val {summary(pop_val)}")
    ease_l2, ease, ease_grid = tune_ease(
        train, val, [50.0] if args.quick else [20.0, 50.0, 100.0, 200.0]
    )
    als_cfg, als, als_grid = tune_als(
        train,
        val,
        [(64, 10.0)] if args.quick else [(32, 10.0), (64, 10.0), (64, 20.0), (128, 10.0)],
    )
    out["val"] = {"most_popular": summary(pop_val), "ease_grid": ease_grid, "als_grid": als_grid}

    log("== pipeline: side-information weight of the EASE source (val)")
    side_grid = {}
    best_side = (0.0, -1.0)
    content = ContentModel(blocks=(128, 128), block_weights=(1.0, 0.55)).fit(catalogue_for(split))
    for sw in [200.0] if args.quick else [0.0, 100.0, 200.0, 400.0]:
        m = EASE(l2=ease_l2, side_weight=sw).fit(train, side=content.vectors_)
        r = evaluate_scores(lambda u, m=m: m.score(train[u]), train, val, k=K)
        side_grid[str(sw)] = summary(r)
        log(f"  EASE+side l2={ease_l2} side_weight={sw}: val {summary(r)}")
        if r.ndcg > best_side[1]:
            best_side = (sw, r.ndcg)
    out["val"]["ease_side_grid"] = side_grid

    log("== pipeline: fit sources on train, cross-validate the scorer on val")
    base_scorer = {
        "model": "gbdt",
        "max_iter": 200,
        "learning_rate": 0.05,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 50,
    }
    scorer_grid = (
        [base_scorer]
        if args.quick
        else [
            base_scorer,
            {**base_scorer, "min_samples_leaf": 200},
            {**base_scorer, "max_iter": 400, "learning_rate": 0.03},
            {"model": "logistic", "l2": 1.0},
        ]
    )
    cfg = pipeline_config(ease_l2, best_side[0], als_cfg, base_scorer)
    tf = time.time()
    p = FeedPipeline(cfg).fit(catalogue_for(split), Interactions.from_matrix(train))
    fit_s = time.time() - tf
    best_scorer, cv = cv_scorer(p, val, scorer_grid)
    out["val"]["pipeline_scorer_cv"] = cv
    out["chosen"] = {
        "ease_l2": ease_l2,
        "als": als_cfg,
        "side_weight": best_side[0],
        "scorer": best_scorer,
    }
    out["timing_s"] = {"pipeline_fit": round(fit_s, 1)}
    log(f"  chosen: {out['chosen']}")
    if args.no_test:
        log("(--no-test: stopping before the test set)")
        return 0

    log("== test (once)")
    p.scorer = LearnedScorer(**best_scorer, seed=SEED)
    tf = time.time()
    p.fit_scorer(val)
    out["timing_s"]["scorer_fit_on_val"] = round(time.time() - tf, 1)
    vectors = p.ctx_.content.vectors_
    from sklearn.cluster import KMeans

    clusters = KMeans(20, random_state=SEED, n_init=3).fit_predict(vectors)
    tops: dict[str, np.ndarray] = {}

    def ev(name: str, fn) -> None:
        ts = time.time()
        holder = {}

        def rec(u, k):
            got = fn(u, k)
            holder.setdefault("rows", []).append((u, got))
            return got

        r = evaluate_recommender(rec, test, k=K)
        top = np.full((train.shape[0], K), -1)
        for u, got in holder["rows"]:
            top[u] = got
        users = np.flatnonzero(np.asarray(test.getnnz(axis=1)) > 0)
        tops[name] = top[users]
        res = (
            summary(r)
            | beyond_accuracy(top[users], train, vectors, clusters)
            | {"seconds": round(time.time() - ts, 1)}
        )
        out.setdefault("test", {})[name] = res
        log(f"  {name}: test {res}")

    from communitok.evaluation import top_k_from_scores

    pop_fn = popular_scores(train)
    ev("most_popular", lambda u, k: top_k_from_scores(pop_fn(u), k, train[u]))
    ev("ease", lambda u, k: top_k_from_scores(ease.score(train[u]), k, train[u]))
    ev("als", lambda u, k: top_k_from_scores(als.score(als.user_factors_[u]), k, train[u]))
    ease_tv = EASE(l2=ease_l2).fit(train + val)
    ev(
        "ease_train+val",
        lambda u, k: top_k_from_scores(ease_tv.score((train + val)[u]), k, train[u]),
    )
    cal = calibrated_popularity(p, train, val)
    ev(
        "calibrated_popularity_val",
        lambda u, k: top_k_from_scores(np.tile(cal, (len(u), 1)), k, train[u]),
    )
    ev("pipeline", lambda u, k: p.rank_batch(u, k))
    mmr = copy.copy(p)
    mmr.reranker = ReRanker(diversity=0.2, explore_share=0.0).fit(p.ctx_)
    ev("pipeline+mmr_diversity_0.2", lambda u, k: mmr.rank_batch(u, k, rerank=True))
    if best_scorer.get("model") != "logistic":
        lin = FeedPipeline(cfg)
        lin.__dict__.update(
            {k: v for k, v in p.__dict__.items() if k.endswith("_") or k == "sources"}
        )
        lin.scorer = LearnedScorer(model="logistic", seed=SEED)
        lin.fit_scorer(val)
        ev("pipeline_logistic_scorer", lambda u, k: lin.rank_batch(u, k))
    t = out["test"]
    out["ratios"] = {
        "pipeline_ndcg_vs_ease": round(t["pipeline"]["ndcg@20"] / t["ease"]["ndcg@20"], 3),
        "pipeline_ndcg_vs_ease_train+val": round(
            t["pipeline"]["ndcg@20"] / t["ease_train+val"]["ndcg@20"], 3
        ),
        "pipeline_ndcg_vs_DiffMM": round(t["pipeline"]["ndcg@20"] / PUBLISHED["DiffMM"][1], 3),
    }
    log(f"  ratios: {out['ratios']}")

    if not args.skip_loo:
        out["random_loo"] = random_loo(
            split, ease_l2, best_side[0], als_cfg, best_scorer, args.quick
        )
    out["timing_s"]["total"] = round(time.time() - t0, 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2, default=float))
    log(f"wrote {OUT}")
    return 0


def random_loo(split, ease_l2, side_weight, als_cfg, scorer, quick) -> dict:
    """All interactions, one random test and one random val item per user (≥ 3 items)."""
    log("== random leave-one-out split (val: tuning, test: once)")
    allx = sp.csr_matrix(split.train + split.val + split.test)
    allx.data[:] = 1.0
    rest, test = leave_one_out(allx, min_remaining=2, seed=SEED)
    train, val = leave_one_out(rest, min_remaining=1, seed=SEED + 1)
    res: dict = {"n_train": int(train.nnz), "n_val": int(val.nnz), "n_test": int(test.nnz)}
    l2, ease, grid = tune_ease(train, val, [ease_l2] if quick else [50.0, 100.0, 200.0, 400.0])
    res["ease_grid_val"] = grid
    als = ImplicitMF("als", factors=als_cfg[0], alpha=als_cfg[1], seed=SEED).fit(train)
    cfg = pipeline_config(l2, side_weight, als_cfg, scorer)
    p = FeedPipeline(cfg).fit(catalogue_for(split), Interactions.from_matrix(train))
    p.fit_scorer(val)
    from communitok.evaluation import top_k_from_scores

    pop_fn = popular_scores(train)
    runs = {
        "most_popular": lambda u, k: top_k_from_scores(pop_fn(u), k, train[u]),
        "ease": lambda u, k: top_k_from_scores(ease.score(train[u]), k, train[u]),
        "als": lambda u, k: top_k_from_scores(als.score(als.user_factors_[u]), k, train[u]),
        "pipeline": lambda u, k: p.rank_batch(u, k),
    }
    for name, fn in runs.items():
        r = evaluate_recommender(fn, test, k=K)
        res[name] = summary(r)
        log(f"  LOO {name}: test {summary(r)}")
    return res


if __name__ == "__main__":
    raise SystemExit(main())
