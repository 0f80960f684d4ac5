"""Known-answer tests of the models: EASE, MF, ANN retrieval, content, engagement, and the
two-stage (cross-fitted) training of the scorer."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp

from communitok.core.errors import InputError
from communitok.feed import (
    EASE,
    Catalogue,
    ContentModel,
    DurationDebiaser,
    EmbeddingIndex,
    EngagementWeights,
    FeedConfig,
    FeedPipeline,
    ImplicitMF,
    LearnedScorer,
    RRFScorer,
    StageSpec,
    ease_weights,
    engagement_target,
    exact_top_k,
    recall_vs_exact,
)
from communitok.feed.twostage import (
    candidate_table,
    cross_fit,
    fit_scorer_on_table,
    fit_two_stage,
    fold_of,
    period_interactions,
    rank_table,
    rows_of,
)


def two_groups(
    n_users: int = 40, n_items: int = 20, per_user: int = 5, seed: int = 0
) -> sp.csr_matrix:
    """Users 0..n/2-1 use items 0..9 only, the others items 10..19 only."""
    g = np.random.default_rng(seed)
    rows, cols = [], []
    for u in range(n_users):
        lo = 0 if u < n_users // 2 else n_items // 2
        for i in g.choice(np.arange(lo, lo + n_items // 2), per_user, replace=False):
            rows.append(u)
            cols.append(i)
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_users, n_items))


def test_ease_matches_columnwise_constrained_ridge() -> None:
    """Each column of B is the ridge regression of item j on the other items."""
    X = sp.csr_matrix(
        np.array([[1, 1, 0, 0], [0, 1, 1, 0], [1, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 1]], float)
    )
    lam = 0.5
    B = ease_weights(X, l2=lam)
    A = X.toarray()
    for j in range(4):
        others = [i for i in range(4) if i != j]
        Xo = A[:, others]
        b = np.linalg.solve(Xo.T @ Xo + lam * np.eye(3), Xo.T @ A[:, j])
        np.testing.assert_allclose(B[others, j], b, rtol=1e-4, atol=1e-5)
        assert B[j, j] == 0.0


def test_ease_two_groups_stay_in_group() -> None:
    X = two_groups()
    m = EASE(l2=1.0).fit(X)
    S = m.score(X)
    S[X.nonzero()] = -np.inf
    top = np.argsort(-S, axis=1)[:, :3]
    assert np.all(top[:20] < 10) and np.all(top[20:] >= 10)


def test_ease_side_information_scores_cold_items() -> None:
    X = two_groups().tolil()
    X[:, 9] = 0  # item 9 (group A) has no interactions: a new video
    X = sp.csr_matrix(X)
    side = np.zeros((20, 2))
    side[:10, 0] = 1.0
    side[10:, 1] = 1.0
    plain = EASE(l2=1.0).fit(X).score(X)
    assert np.all(plain[:, 9] == 0)
    with_side = EASE(l2=1.0, side_weight=5.0).fit(X, side=side).score(X)
    # the cold item now scores for group A (its content group), not for group B
    assert np.mean(with_side[:20, 9] > 0) >= 0.8
    assert with_side[:20, 9].mean() > with_side[20:, 9].mean()


def test_ease_max_items_and_validation() -> None:
    X = two_groups()
    m = EASE(l2=1.0, max_items=5).fit(X)
    assert len(m.items_) == 5 and m.score(X).shape == (40, 20)
    with pytest.raises(InputError) as e:
        EASE(l2=-1)
    assert e.value.field == "l2"
    with pytest.raises(InputError):
        EASE().score(X)


@pytest.mark.parametrize("method", ["als", "bpr"])
def test_mf_two_groups_and_fold_in(method: str) -> None:
    X = two_groups(n_users=60, per_user=6)
    params = (
        {"iterations": 30, "factors": 4, "regularization": 1.0}
        if method == "als"
        else {"iterations": 300, "learning_rate": 0.05, "factors": 8, "regularization": 0.01}
    )
    m = ImplicitMF(method, seed=1, **params).fit(X)
    S = m.score(m.user_factors_)
    S[X.nonzero()] = -np.inf
    top = np.argsort(-S, axis=1)[:, :2]
    assert np.mean(top[:30] < 10) > 0.9 and np.mean(top[30:] >= 10) > 0.9
    # a new viewer who watched two group-B items gets group-B items
    h = sp.csr_matrix((np.ones(2), ([0, 0], [12, 15])), shape=(1, 20))
    s = m.score(m.fold_in(h))[0]
    s[[12, 15]] = -np.inf
    assert np.argmax(s) >= 10
    # same seed, same factors
    again = ImplicitMF(method, seed=1, **params).fit(X)
    np.testing.assert_allclose(again.item_factors_, m.item_factors_)


def test_als_fold_in_reproduces_a_user_step() -> None:
    X = two_groups(n_users=60, per_user=6)
    m = ImplicitMF("als", factors=8, regularization=0.1, iterations=50, seed=0).fit(X)
    u = m.fold_in(X[:10])
    cos = np.sum(u * m.user_factors_[:10], axis=1) / (
        np.linalg.norm(u, axis=1) * np.linalg.norm(m.user_factors_[:10], axis=1)
    )
    assert np.all(cos > 0.95)


@pytest.mark.parametrize("kind", ["hnsw", "ivf", "flat"])
def test_ann_recall_against_exact(kind: str) -> None:
    g = np.random.default_rng(0)
    centres = g.normal(size=(20, 16))
    items = (centres[g.integers(0, 20, 3000)] + 0.3 * g.normal(size=(3000, 16))).astype(np.float32)
    queries = (centres[g.integers(0, 20, 100)] + 0.3 * g.normal(size=(100, 16))).astype(np.float32)
    _, exact = exact_top_k(queries, items, 10)
    idx = EmbeddingIndex(kind, nprobe=8, seed=0).fit(items)
    _, ids = idx.search(queries, 10)
    rec = recall_vs_exact(ids, exact)
    assert rec == 1.0 if kind == "flat" else rec > 0.85
    assert idx.search(queries, 10_000)[1].shape[1] == 3000
    with pytest.raises(InputError):
        idx.search(np.zeros((1, 3), np.float32), 5)


def test_content_model_profile_and_prior() -> None:
    g = np.random.default_rng(0)
    shift = np.zeros((2, 4))
    shift[0, 0] = shift[1, 1] = 5.0
    F = np.vstack([g.normal(size=(10, 4)) + shift[0], g.normal(size=(10, 4)) + shift[1]])
    from communitok.feed import Catalogue, Interactions

    cat = Catalogue.from_size(20, features=F)
    # group A videos 0..8 have 3 viewers each, group B videos 10..18 one each; 9, 19 are new
    rows = np.r_[np.arange(27) % 9, np.arange(9)]
    cols = np.r_[np.repeat(np.arange(9), 3), np.arange(10, 19)]
    X = sp.csr_matrix((np.ones(36), (rows, cols)), shape=(15, 20))
    cm = ContentModel().fit(cat, Interactions.from_matrix(X))
    assert np.allclose(np.linalg.norm(cm.vectors_, axis=1), 1.0, atol=1e-5)
    p = cm.profile(sp.csr_matrix((np.ones(1), ([0], [3])), shape=(1, 20)))
    sims = p @ cm.vectors_.T
    assert sims[0, :10].mean() > sims[0, 10:].mean()
    # group A videos were more popular: the prior ranks the new A video above the new B one
    assert cm.prior_[:9].mean() > cm.prior_[10:19].mean()
    assert cm.prior_[9] > cm.prior_[19]
    with pytest.raises(InputError) as e:
        ContentModel(blocks=(3,)).fit(cat)
    assert e.value.field == "blocks"


def test_duration_debiaser_quantiles_within_buckets() -> None:
    # short videos (10 s) are watched 5..10 s, long ones (100 s) 10..100 s
    short_w = np.linspace(5, 10, 101)
    long_w = np.linspace(10, 100, 101)
    w = np.r_[short_w, long_w]
    d = np.r_[np.full(101, 10.0), np.full(101, 100.0)]
    deb = DurationDebiaser(n_buckets=2, n_quantiles=100).fit(w, d)
    q = deb.transform(np.array([10.0, 100.0, 55.0, 7.5]), np.array([10.0, 100.0, 100.0, 10.0]))
    # a full watch is the top quantile in both buckets; 55 s of 100 s is the median
    assert q[0] > 0.98 and q[1] > 0.98
    assert abs(q[2] - 0.5) < 0.03 and abs(q[3] - 0.5) < 0.03
    # raw watch time would have ranked 10 s of a short video below 55 s of a long one
    assert q[0] > q[2]
    assert np.isnan(deb.transform(np.array([np.nan]), np.array([10.0]))[0])
    with pytest.raises(InputError):
        DurationDebiaser(n_buckets=0)


def test_engagement_target_signs() -> None:
    ev = pa.table(
        {
            "watch_time_s": [9.0, 1.0, 9.0],
            "liked": [True, False, False],
            "skipped": [False, True, False],
            "not_interested": [False, False, True],
        }
    )
    t = engagement_target(ev, np.array([10.0, 10.0, 10.0]), weights=EngagementWeights())
    assert t[0] > t[1] and t[2] < 0 and t[1] < t[0]
    with pytest.raises(InputError):
        EngagementWeights(liked=float("nan"))


# --------------------------------------------------------------------------- two-stage training
def _two_period(seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """two_groups() as the older period; one more in-group item per user as the recent one."""
    X = two_groups(seed=seed)
    g = np.random.default_rng(seed + 1)
    rows, cols = [], []
    for u in range(X.shape[0]):
        lo = 0 if u < X.shape[0] // 2 else 10
        free = np.setdiff1d(np.arange(lo, lo + 10), X[u].indices)
        rows.append(u)
        cols.append(int(g.choice(free)))
    R = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=X.shape)
    return X, R


def _two_stage_config(**scorer: object) -> FeedConfig:
    return FeedConfig(
        sources=(
            StageSpec("ease", {"l2": 1.0}, n=20),
            StageSpec("popular", {}, n=5),
            StageSpec("popular", {"half_life_days": 0.05}, n=5, label="recent"),
        ),
        scorer=StageSpec("learned", {"max_iter": 20, "min_samples_leaf": 5, **scorer}),
        rerank={"diversity": 0.0, "explore_share": 0.0},
    )


def test_period_interactions_time_stamps_the_recent_period() -> None:
    X, R = _two_period()
    it = period_interactions(X, R, gap_days=2.0)
    assert (it.matrix != (X + R)).nnz == 0 and it.seen.nnz == X.nnz + R.nnz
    assert sorted(set(it.event_ts.tolist())) == [0.0, 2.0 * 86400.0]
    assert (it.event_ts > 0).sum() == R.nnz
    # a recency-weighted popularity ranks by the recent period first
    p = FeedPipeline(_two_stage_config()).fit(Catalogue.from_size(X.shape[1]), it)
    rec = p.sources["recent"].popularity_
    r = np.asarray(R.sum(axis=0)).ravel()
    assert np.argmax(rec) in np.flatnonzero(r == r.max())
    assert period_interactions(X).event_ts.max() == 0.0
    with pytest.raises(InputError):
        period_interactions(X, R[:3])
    with pytest.raises(InputError):
        period_interactions(X, R, gap_days=0)


def test_cross_fit_never_shows_a_label_to_its_sources() -> None:
    X, R = _two_period()
    users = np.arange(X.shape[0])
    seen: list[tuple[np.ndarray, sp.csr_matrix]] = []

    def without(held: np.ndarray):
        it = period_interactions(X, rows_of(R, np.setdiff1d(users, held)))
        seen.append((held, it.matrix))
        return it

    cat = Catalogue.from_size(X.shape[1])
    table = cross_fit(_two_stage_config(), cat, R, without, folds=4, seed=0)
    assert len(seen) == 4
    assert sorted(np.concatenate([h for h, _ in seen]).tolist()) == users.tolist()
    for held, M in seen:
        for u in held:  # the held viewers' recent items are not in their fold's data ...
            assert M[u].multiply(R[u]).nnz == 0
        others = np.setdiff1d(users, held)  # ... the other viewers' are
        assert M[others].multiply(R[others]).nnz == len(others)
    assert sorted(table.users.tolist()) == users.tolist()
    assert set(table.fold.tolist()) == {0, 1, 2, 3}
    # each row's positive is its own recent item, and it is a candidate (not excluded)
    assert table.recall == 1.0
    for r, u in enumerate(table.users):
        assert table.items[r][table.labels[r] > 0].tolist() == R[u].indices.tolist()
    assert fold_of(10, 3, 0).tolist().count(0) in (3, 4)
    with pytest.raises(InputError):
        fold_of(10, 1, 0)


def test_fit_two_stage_serves_the_cross_fitted_scorer() -> None:
    X, R = _two_period()
    cat = Catalogue.from_size(X.shape[1])
    p, table = fit_two_stage(_two_stage_config(), cat, X, R, folds=2)
    assert isinstance(p.scorer, LearnedScorer) and hasattr(p.scorer, "estimator_")
    assert p.scorer.names_ == table.features.names
    users = np.arange(X.shape[0])
    top = p.rank_batch(users, 3)
    # served on older + recent: neither period's items come back, and lists stay in group
    assert not any(X[u, i] or R[u, i] for u in users for i in top[u])
    assert (top[:20] < 10).all() and (top[20:] >= 10).all()
    # the table's ranking is the pipeline's ranking of the same candidates
    tab = candidate_table(p, users, R)
    np.testing.assert_array_equal(rank_table(p.scorer, tab, 3), top)
    # RRF scorers pass through untouched
    assert fit_scorer_on_table(RRFScorer(), tab).get_params() == RRFScorer().get_params()
