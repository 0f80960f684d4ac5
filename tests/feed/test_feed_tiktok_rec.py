"""Known answers on the real TikTok split in ../shared/data (skipped when absent).

Capped to stay fast; the full run is ``benchmarks/feed_tiktok_rec.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from communitok.engine.feed_eval import TIKTOK_SETTINGS, evaluate_two_stage, tiktok_config
from communitok.evaluation import evaluate_scores, load_tiktok_rec
from communitok.feed import EASE, Catalogue
from communitok.feed.twostage import rows_of

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def split(shared_data):
    return load_tiktok_rec(shared_data / "tiktok_rec")


def _pop(X: sp.spmatrix) -> np.ndarray:
    return np.asarray((X > 0).sum(axis=0)).ravel().astype(np.float64)


def test_loader_matches_the_readme(split) -> None:
    assert split.shape == (9308, 6710)
    assert (split.train.nnz, split.val.nnz, split.test.nnz) == (59541, 3051, 6130)
    assert split.train.multiply(split.test).nnz == 0 and split.train.multiply(split.val).nnz == 0
    assert split.item_features["image"].shape == (6710, 128)
    assert split.item_features["audio"].dtype == np.float32
    cold = np.asarray(split.train.sum(axis=0)).ravel() == 0
    assert len(np.unique(split.test.nonzero()[1][cold[split.test.nonzero()[1]]])) == 340
    # val and test users are disjoint (one item each): val is a sample of test's population
    val_users = np.asarray(split.val.getnnz(axis=1)) > 0
    test_users = np.asarray(split.test.getnnz(axis=1)) > 0
    assert not (val_users & test_users).any()


def test_most_popular_matches_the_published_protocol(split) -> None:
    """Train only, training items masked (the published protocol)."""
    pop = _pop(split.train)
    r = evaluate_scores(lambda u: np.tile(pop, (len(u), 1)), split.train, split.test, k=20)
    assert r.n_users == 6130
    assert r.recall == pytest.approx(0.0597, abs=5e-4)
    assert r.ndcg == pytest.approx(0.0255, abs=5e-4)


def test_two_stage_baselines_known_answers(split) -> None:
    """Fitted on train + val (the headline protocol), known items masked."""
    X = sp.csr_matrix(split.train + split.val)
    pop = _pop(X)
    r = evaluate_scores(lambda u: np.tile(pop, (len(u), 1)), X, split.test, k=20)
    assert (r.recall, r.ndcg) == pytest.approx((0.0798, 0.0415), abs=5e-4)
    # most-popular over the val period alone (ties by train): the strong simple reference
    recent = _pop(split.val) * (pop.max() + 1.0) + _pop(split.train)
    r = evaluate_scores(lambda u: np.tile(recent, (len(u), 1)), X, split.test, k=20)
    assert (r.recall, r.ndcg) == pytest.approx((0.1768, 0.0824), abs=5e-4)


@pytest.mark.slow
def test_ease_on_train_and_val_known_answer(split) -> None:
    X = sp.csr_matrix(split.train + split.val)
    m = EASE(l2=TIKTOK_SETTINGS["ease_l2"]).fit(X)
    r = evaluate_scores(lambda u: m.score(X[u]), X, split.test, k=20)
    assert (r.recall, r.ndcg) == pytest.approx((0.1149, 0.0540), abs=5e-4)


def test_two_stage_pipeline_wins_on_a_capped_slice(split) -> None:
    """The 1,000 most popular videos, val only: even val users are the recent period
    (the scorer's labels, cross-fitted over 2 folds), odd val users are held out. Every
    model sees train + the recent period; the pipeline must beat most-popular, EASE and
    ALS there, and not lose to popularity over the recent period."""
    pop = _pop(split.train)
    items = np.sort(np.argsort(-pop, kind="stable")[:1000])
    train = split.train[:, items].tocsr()
    val = split.val[:, items].tocsr()
    users = np.flatnonzero(np.asarray(val.getnnz(axis=1)) > 0)
    recent, held = rows_of(val, users[users % 2 == 0]), rows_of(val, users[users % 2 == 1])
    feats = np.hstack([split.item_features["image"][items], split.item_features["audio"][items]])
    cat = Catalogue.from_size(len(items), features=feats)
    settings = {"folds": 2, "gbdt": {**TIKTOK_SETTINGS["gbdt"], "max_iter": 100}}
    assert tiktok_config("gbdt", 0, settings).sources[-1].name == "recent"
    models, p, diag = evaluate_two_stage(cat, train, recent, held, settings=settings)
    nd = {name: m["ndcg@20"] for name, m in models.items()}
    assert models["pipeline_gbdt"]["n_users"] == models["ease"]["n_users"] > 500
    assert nd["pipeline_gbdt"] > 1.15 * max(nd["most_popular"], nd["ease"], nd["als"])
    assert nd["pipeline_gbdt"] >= nd["most_popular_recent_period"]
    assert 0.5 < diag["candidate_recall_test"] <= 1.0
    # served: sources refitted on train + recent (the recent period is "now"), scorer fitted
    assert hasattr(p.scorer, "estimator_") and p.ctx_.now == 86400.0
    assert p.ctx_.interactions.matrix.nnz == train.nnz + recent.nnz
