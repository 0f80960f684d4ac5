"""Offline benchmark of the For You feed on the TikTok multimodal split (DiffMM / MMSSL).

    .venv/bin/python benchmarks/feed_tiktok_rec.py [--no-test] [--skip-loo] [--quick]
        [--only-train-only]

Protocol (../shared/data/tiktok_rec/README.md): rank all 6,710 items for every user
with a test interaction, mask the items the model was given for that user, Recall@20 and
NDCG@20, every model in the same run. Two tables:

- **two-stage (headline)**: every model sees train + val. Most-popular, EASE and
  implicit ALS are fitted on train + val; so is the pipeline, whose GBDT scorer is
  trained on the val interactions by 4-fold cross-fitting over the val users (fold f's
  labels are predicted by sources fitted on train + the other folds' val, see
  ``communitok.feed.twostage``), after which its sources are refitted on train + val.
  Reference: most-popular over the val period alone (val and test users are disjoint
  and share an item distribution that differs from train's).
- **train only**: every model is fitted on train; the pipeline uses RRF fusion, and a
  train-only two-stage pipeline (same sources) a GBDT scorer whose labels are a seeded
  random share of each train user's items, cross-fitted over 4 folds of train users
  (sources fitted on the rest of train), after which the sources are refitted on all of
  train (``communitok.engine.feed_eval.train_holdout``).

Every choice is made without test: EASE λ, side-information weight and ALS size by
their val score (fitted on train), the RRF weights of the train-only pipeline by their
val score, the holdout share and GBDT settings of the train-only two-stage pipeline by
their val score (models fitted on train only), the headline GBDT settings by 2-fold CV
over the val users of the cross-fitted table. Test is evaluated once per model at the
end. A second split (random leave-one-out per user over all interactions, val → test
the same way) checks that the pipeline also holds up where popularity is strong.
Writes ``benchmarks/results/feed_tiktok_rec.json``; ``--only-train-only`` reruns the
train-only part alone (the source and RRF settings from that file's ``chosen``; the
two-stage headline and leave-one-out entries are kept as they are).
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from communitok.engine.feed_eval import (
    TIKTOK_SETTINGS,
    TrainHoldout,
    evaluate_train_only,
    evaluate_two_stage,
    select_scorer,
    select_train_only_two_stage,
    tiktok_catalogue,
    tiktok_config,
)
from communitok.evaluation import (
    evaluate_recommender,
    evaluate_scores,
    leave_one_out,
    load_tiktok_rec,
    ranking_metrics,
    top_k_from_scores,
)
from communitok.feed import EASE, ContentModel, FeedPipeline, ImplicitMF, ReRanker, RRFScorer
from communitok.feed.twostage import (
    candidate_table,
    cross_fit_periods,
    fold_of,
    period_interactions,
    rank_table,
    rows_of,
)

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
T0 = time.time()


def log(*a: object) -> None:
    print(f"[{time.time() - T0:6.0f} s]", *a, flush=True)


def summary(r: Any) -> dict:
    return {"recall@20": round(r.recall, 5), "ndcg@20": round(r.ndcg, 5), "n_users": r.n_users}


def pop_of(X: sp.spmatrix) -> np.ndarray:
    return np.asarray((X > 0).sum(axis=0)).ravel().astype(np.float64)


# --------------------------------------------------------------------------- 1. settings on val
def tune_sources(split, cat, quick: bool) -> tuple[dict, dict]:
    """EASE λ, side-information weight and ALS size by their val score (fitted on train)."""
    train, val = split.train, split.val
    out: dict = {}
    pop = pop_of(train)
    out["most_popular"] = summary(
        evaluate_scores(lambda u: np.tile(pop, (len(u), 1)), train, val, k=K)
    )
    best_l2, grid = None, {}
    for l2 in [50.0] if quick else [20.0, 50.0, 100.0, 200.0]:
        m = EASE(l2=l2).fit(train)
        r = evaluate_scores(lambda u, m=m: m.score(train[u]), train, val, k=K)
        grid[str(l2)] = summary(r)
        log(f"  EASE λ={l2}: val {summary(r)}")
        if best_l2 is None or r.ndcg > best_l2[1]:
            best_l2 = (l2, r.ndcg)
    out["ease_l2"] = grid
    best_als, grid = None, {}
    for f, a in [(64, 20.0)] if quick else [(32, 10.0), (64, 10.0), (64, 20.0), (128, 20.0)]:
        m = ImplicitMF("als", factors=f, alpha=a, regularization=1.0, seed=SEED).fit(train)
        r = evaluate_scores(lambda u, m=m: m.score(m.user_factors_[u]), train, val, k=K)
        grid[f"f{f}_a{a}"] = summary(r)
        log(f"  ALS factors={f} α={a}: val {summary(r)}")
        if best_als is None or r.ndcg > best_als[1]:
            best_als = ((f, a), r.ndcg)
    out["als"] = grid
    content = ContentModel(blocks=(128, 128), block_weights=(1.0, 0.55)).fit(cat)
    best_side, grid = None, {}
    for sw in [400.0] if quick else [0.0, 200.0, 400.0, 800.0]:
        m = EASE(l2=best_l2[0], side_weight=sw).fit(train, side=content.vectors_)
        r = evaluate_scores(lambda u, m=m: m.score(train[u]), train, val, k=K)
        grid[str(sw)] = summary(r)
        log(f"  EASE + side λ={best_l2[0]} α={sw}: val {summary(r)}")
        if best_side is None or r.ndcg > best_side[1]:
            best_side = (sw, r.ndcg)
    out["ease_side_weight"] = grid
    chosen = {"ease_l2": best_l2[0], "als": best_als[0], "side_weight": best_side[0]}
    return chosen, out


def tune_rrf(split, cat, settings: dict, quick: bool) -> tuple[dict, dict]:
    """RRF weights of the train-only pipeline by their val score."""
    p = FeedPipeline(tiktok_config("rrf", SEED, settings)).fit(
        cat, period_interactions(split.train)
    )
    users = np.flatnonzero(np.asarray(split.val.getnnz(axis=1)) > 0)
    table = candidate_table(p, users, split.val)
    log(f"  train-only candidates: val item among them for {table.recall:.3f}")
    grid = [
        {"ease": 1.0},
        {"ease": 1.0, "mf": 0.5},
        {"ease": 1.0, "mf": 0.5, "popular": 0.1},
        {"ease": 1.0, "mf": 0.5, "content": 0.2, "new_videos": 0.1, "popular": 0.1},
        {"ease": 1.0, "mf": 1.0, "content": 0.5, "new_videos": 0.2, "popular": 0.1},
    ]
    res, best = {}, None
    for w in grid[2:3] if quick else grid:
        for k in (10.0, 60.0):
            top = rank_table(RRFScorer(k=k, weights=w), table, K)
            r = ranking_metrics(top, split.val[users], K)
            key = f"k={k}," + ",".join(f"{a}={b}" for a, b in w.items())
            res[key] = summary(r)
            if best is None or r.ndcg > best[1]:
                best = ({"k": k, "weights": w}, r.ndcg)
    log(f"  RRF chosen: {best[0]} (val NDCG {best[1]:.4f})")
    return best[0], {"candidate_recall_val": round(table.recall, 4), "grid": res}


def tune_train_only_two_stage(
    split, cat, settings: dict, quick: bool
) -> tuple[dict, dict, TrainHoldout]:
    """Holdout share and scorer settings of the train-only two-stage pipeline by their val
    score (sources and scorer fitted on train only)."""
    base = {
        "model": "gbdt",
        "max_iter": 400,
        "learning_rate": 0.03,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 50,
    }
    shares = [0.2] if quick else [0.1, 0.2, 0.3]
    grid = (
        [{**base, "max_iter": 100}]
        if quick
        else [
            base,
            {**base, "max_iter": 200, "learning_rate": 0.05, "min_samples_leaf": 200},
            {"model": "logistic", "l2": 1.0},
        ]
    )
    chosen, record, holdout = select_train_only_two_stage(
        cat, split.train, split.val, shares, grid, k=K, settings=settings, seed=SEED, log=log
    )
    log(f"  train-only two-stage chosen: {chosen}")
    return chosen, {"shares": shares, "record": record}, holdout


# --------------------------------------------------------------------------- 2. scorer on val
def val_cv_references(split, settings: dict, folds: int) -> dict:
    """Baselines in the cross-fitting protocol of the scorer, on val: for each fold,
    fitted on train + the other folds' val, scored on the fold's val."""
    train, val = split.train, split.val
    users = np.flatnonzero(np.asarray(val.getnnz(axis=1)) > 0)
    fold = fold_of(len(users), folds, SEED)
    top: dict[str, np.ndarray] = {}
    for f in range(folds):
        mine, others = users[fold == f], users[fold != f]
        R = rows_of(val, others)
        X = sp.csr_matrix(train + R)
        pop = pop_of(X)
        rp = pop_of(R) * (pop.max() + 1.0) + pop_of(train)
        ease = EASE(l2=settings["ease_l2"]).fit(X)
        for name, s in (
            ("most_popular", np.tile(pop, (len(mine), 1))),
            ("most_popular_recent_period", np.tile(rp, (len(mine), 1))),
            ("ease", ease.score(X[mine])),
        ):
            top.setdefault(name, np.full((val.shape[0], K), -1))[mine] = top_k_from_scores(
                s, K, X[mine]
            )
    return {n: summary(ranking_metrics(t, val, K)) for n, t in top.items()}


# --------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-test", action="store_true", help="validation only (development)")
    ap.add_argument("--skip-loo", action="store_true")
    ap.add_argument("--quick", action="store_true", help="one setting per grid")
    ap.add_argument(
        "--only-train-only",
        action="store_true",
        help="rerun only the train-only part (settings from the existing JSON's 'chosen')",
    )
    args = ap.parse_args()
    if not DATA.is_dir():
        log(f"data folder not found: {DATA}")
        return 2
    split = load_tiktok_rec(DATA)
    train, val, test = split.train, split.val, split.test
    cat = tiktok_catalogue(split)
    if args.only_train_only:
        return only_train_only(split, cat, args)
    out: dict = {
        "dataset": "tiktok_rec (DiffMM split)",
        "k": K,
        "seed": SEED,
        "published": PUBLISHED,
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
        "timing_s": {},
    }
    log("== 1. source settings on val (fitted on train)")
    chosen, out["val"] = tune_sources(split, cat, args.quick)
    settings = {**TIKTOK_SETTINGS, **chosen}
    log("== 1b. train-only pipeline: RRF weights on val")
    settings["rrf"], out["val"]["train_only_rrf"] = tune_rrf(split, cat, settings, args.quick)
    out["timing_s"]["settings_on_val"] = round(time.time() - T0, 1)
    log("== 1c. train-only two-stage pipeline: holdout share and GBDT on val")
    tf = time.time()
    settings["train_only_two_stage"], out["val"]["train_only_two_stage"], holdout = (
        tune_train_only_two_stage(split, cat, settings, args.quick)
    )
    out["timing_s"]["train_only_two_stage_on_val"] = round(time.time() - tf, 1)

    log(
        f"== 2. two-stage: cross-fit the scorer's candidates over val users ({settings['folds']} folds)"
    )
    tf = time.time()
    cfg = tiktok_config("gbdt", SEED, settings)
    table = cross_fit_periods(cfg, cat, train, val, folds=int(settings["folds"]), log=log)
    out["timing_s"]["cross_fit"] = round(time.time() - tf, 1)
    base = {
        "model": "gbdt",
        "max_iter": 200,
        "learning_rate": 0.05,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 50,
    }
    grid = (
        [base]
        if args.quick
        else [
            base,
            {**base, "min_samples_leaf": 200},
            {**base, "max_iter": 400, "learning_rate": 0.03},
            {"model": "logistic", "l2": 1.0},
        ]
    )
    settings["gbdt"], cv = select_scorer(table, val, grid, k=K, seed=SEED)
    for key, r in cv.items():
        log(f"  scorer {key}: val 2-fold CV {r}")
    out["val"]["two_stage"] = {
        "candidate_recall_val": round(table.recall, 4),
        "scorer_cv": cv,
        "references_same_cross_fitting": val_cv_references(split, settings, int(settings["folds"])),
    }
    log(
        f"  references on val, same cross-fitting: {out['val']['two_stage']['references_same_cross_fitting']}"
    )
    out["chosen"] = {
        k: settings[k]
        for k in ("ease_l2", "als", "side_weight", "rrf", "gbdt", "train_only_two_stage")
    }
    out["chosen"] |= {k: settings[k] for k in ("folds", "recent_half_life_days")}
    log(f"  chosen: {out['chosen']}")
    if args.no_test:
        log("(--no-test: stopping before the test set)")
        return 0

    log("== 3. test (once per model)")
    extra = diversity_extra(cat)
    tf = time.time()
    two, p, diag = evaluate_two_stage(
        cat, train, val, test, k=K, settings=settings, seed=SEED, table=table, extra=extra
    )
    mmr = copy.copy(p)
    mmr.reranker = ReRanker(diversity=0.2, explore_share=0.0).fit(p.ctx_)
    r = evaluate_recommender(lambda u, k: mmr.rank_batch(u, k, rerank=True), test, k=K)
    two["pipeline_gbdt+mmr_0.2"] = summary(r) | {"coverage": round(r.coverage, 4)}
    out["test_two_stage"] = two
    out["two_stage_diagnostics"] = diag
    out["timing_s"]["test_two_stage"] = round(time.time() - tf, 1)
    for name, m in two.items():
        log(f"  two-stage {name}: {m}")
    run_train_only_test(split, cat, settings, holdout, extra, out)
    nd = "ndcg@20"
    out["ratios"] = {
        "two_stage_pipeline_vs_ease": round(two["pipeline_gbdt"][nd] / two["ease"][nd], 3),
        "two_stage_pipeline_vs_most_popular_recent_period": round(
            two["pipeline_gbdt"][nd] / two["most_popular_recent_period"][nd], 3
        ),
        "two_stage_pipeline_vs_DiffMM_published": round(
            two["pipeline_gbdt"][nd] / PUBLISHED["DiffMM"][1], 3
        ),
        **train_only_ratios(out["test_train_only"]),
    }
    log(f"  ratios: {out['ratios']}")
    if not args.skip_loo:
        tf = time.time()
        out["random_loo"] = random_loo(split, cat, settings)
        out["timing_s"]["random_loo"] = round(time.time() - tf, 1)
    out["timing_s"]["total"] = round(time.time() - T0, 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2, default=float))
    log(f"wrote {OUT}")
    return 0


def diversity_extra(cat) -> dict:
    """Content vectors and 20 k-means clusters of them, for diversity / spread metrics."""
    from sklearn.cluster import KMeans

    vectors = ContentModel(blocks=(128, 128), block_weights=(1.0, 0.55)).fit(cat).vectors_
    clusters = KMeans(20, random_state=SEED, n_init=3).fit_predict(vectors)
    return {"vectors": vectors, "primary": clusters}


def run_train_only_test(split, cat, settings: dict, holdout: TrainHoldout, extra: dict, out: dict):
    """The train-only table on test (once): baselines, RRF pipeline and the train-only
    two-stage pipeline (scorer from the chosen holdout's cross-fitted table)."""
    tf = time.time()
    solo, _, diag = evaluate_train_only(
        cat,
        split.train,
        split.test,
        k=K,
        settings=settings,
        seed=SEED,
        extra=extra,
        two_stage=True,
        holdout=holdout,
    )
    out["test_train_only"] = solo
    out["test_train_only_two_stage"] = {
        "model": "pipeline_gbdt_holdout",
        "chosen_on_val": settings["train_only_two_stage"],
        "test": solo["pipeline_gbdt_holdout"],
        "diagnostics": diag,
    }
    out["timing_s"]["test_train_only"] = round(time.time() - tf, 1)
    for name, m in solo.items():
        log(f"  train-only {name}: {m}")
    log(f"  train-only two-stage diagnostics: {diag}")


def train_only_ratios(solo: dict) -> dict:
    nd = "ndcg@20"
    return {
        "train_only_pipeline_vs_ease": round(solo["pipeline_rrf"][nd] / solo["ease"][nd], 3),
        "train_only_two_stage_vs_ease": round(
            solo["pipeline_gbdt_holdout"][nd] / solo["ease"][nd], 3
        ),
        "train_only_two_stage_vs_pipeline_rrf": round(
            solo["pipeline_gbdt_holdout"][nd] / solo["pipeline_rrf"][nd], 3
        ),
        "train_only_two_stage_vs_DiffMM_published": round(
            solo["pipeline_gbdt_holdout"][nd] / PUBLISHED["DiffMM"][1], 3
        ),
    }


def only_train_only(split, cat, args) -> int:
    """The train-only part alone: the train-only two-stage pipeline's settings on val,
    then (unless --no-test) the train-only table on test, merged into the existing JSON
    (the two-stage headline and leave-one-out entries unchanged)."""
    if not OUT.is_file():
        log(f"--only-train-only needs an earlier full run: {OUT} not found")
        return 2
    out = json.loads(OUT.read_text())
    chosen = out["chosen"]
    settings = {**TIKTOK_SETTINGS}
    settings |= {k: chosen[k] for k in ("ease_l2", "side_weight", "rrf", "gbdt")}
    settings["als"] = tuple(chosen["als"])
    log(f"== 1c. train-only two-stage pipeline: holdout share and GBDT on val ({settings})")
    tf = time.time()
    settings["train_only_two_stage"], val_record, holdout = tune_train_only_two_stage(
        split, cat, settings, args.quick
    )
    t_val = round(time.time() - tf, 1)
    if args.no_test:
        log("(--no-test: stopping before the test set; nothing written)")
        return 0
    log("== 3. train-only test (once per model)")
    out["val"]["train_only_two_stage"] = val_record
    out["chosen"]["train_only_two_stage"] = settings["train_only_two_stage"]
    out["timing_s"]["train_only_two_stage_on_val"] = t_val
    run_train_only_test(split, cat, settings, holdout, diversity_extra(cat), out)
    out["ratios"] = {
        k: v for k, v in out["ratios"].items() if not k.startswith("train_only")
    } | train_only_ratios(out["test_train_only"])
    log(f"  ratios: {out['ratios']}")
    out["machine_train_only_rerun"] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    OUT.write_text(json.dumps(out, indent=2, default=float))
    log(f"wrote {OUT} (train-only entries only)")
    return 0


def random_loo(split, cat, settings: dict) -> dict:
    """All interactions, one random test and one random val item per user; the
    two-stage protocol with the TikTok split's settings (the scorer is cross-fitted on
    this split's val)."""
    log("== 4. random leave-one-out split, two-stage (val → test once)")
    allx = sp.csr_matrix(split.train + split.val + split.test)
    allx.data[:] = 1.0
    rest, test = leave_one_out(allx, min_remaining=2, seed=SEED)
    train, val = leave_one_out(rest, min_remaining=1, seed=SEED + 1)
    res: dict = {"n_train": int(train.nnz), "n_val": int(val.nnz), "n_test": int(test.nnz)}
    models, _, diag = evaluate_two_stage(
        cat, train, val, test, k=K, settings=settings, seed=SEED, log=log
    )
    res["test"] = {n: summary_of(m) for n, m in models.items()}
    res["diagnostics"] = diag
    for name, m in res["test"].items():
        log(f"  LOO {name}: {m}")
    return res


def summary_of(m: dict) -> dict:
    return {k: m[k] for k in ("recall@20", "ndcg@20", "coverage", "n_users") if k in m}


if __name__ == "__main__":
    raise SystemExit(main())
