"""Known answers on the real TikTok split in ../shared/data (skipped when absent).

Capped to stay fast; the full run is ``benchmarks/feed_tiktok_rec.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from communitok.evaluation import evaluate_recommender, evaluate_scores, load_tiktok_rec
from communitok.feed import EASE, Catalogue, FeedConfig, FeedPipeline, Interactions, StageSpec

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def split(shared_data):
    return load_tiktok_rec(shared_data / "tiktok_rec")


def test_loader_matches_the_readme(split) -> None:
    assert split.shape == (9308, 6710)
    assert (split.train.nnz, split.val.nnz, split.test.nnz) == (59541, 3051, 6130)
    assert split.train.multiply(split.test).nnz == 0 and split.train.multiply(split.val).nnz == 0
    assert split.item_features["image"].shape == (6710, 128)
    assert split.item_features["audio"].dtype == np.float32
    cold = np.asarray(split.train.sum(axis=0)).ravel() == 0
    assert len(np.unique(split.test.nonzero()[1][cold[split.test.nonzero()[1]]])) == 340


def test_most_popular_matches_the_published_protocol(split) -> None:
    pop = np.asarray(split.train.sum(axis=0)).ravel()
    r = evaluate_scores(lambda u: np.tile(pop, (len(u), 1)), split.train, split.test, k=20)
    assert r.n_users == 6130
    assert r.recall == pytest.approx(0.0597, abs=5e-4)
    assert r.ndcg == pytest.approx(0.0255, abs=5e-4)


def test_pipeline_beats_popularity_and_ease_on_a_capped_slice(split) -> None:
    """The 1,000 most popular videos: sources fitted on train, the scorer trained on the
    val interactions of even users, evaluated on the val interactions of odd users. The
    pipeline must beat most-popular and EASE there (the full run is the benchmark)."""
    pop = np.asarray(split.train.sum(axis=0)).ravel()
    items = np.sort(np.argsort(-pop, kind="stable")[:1000])
    train = split.train[:, items].tocsr()
    val = split.val[:, items].tocsr()
    even = sp.diags((np.arange(train.shape[0]) % 2 == 0).astype(np.float32))
    fit_part, eval_part = sp.csr_matrix(even @ val), sp.csr_matrix(val - even @ val)
    fit_part.eliminate_zeros()
    eval_part.eliminate_zeros()
    feats = np.hstack([split.item_features["image"][items], split.item_features["audio"][items]])
    cfg = FeedConfig(
        sources=(
            StageSpec("ease", {"l2": 50.0, "side_weight": 20.0}, n=100),
            StageSpec("content", {}, n=30),
            StageSpec("popular", {}, n=30),
        ),
        scorer=StageSpec("learned", {"max_iter": 60}),
        content={"blocks": (128, 128), "block_weights": (1.0, 0.55)},
    )
    p = FeedPipeline(cfg).fit(
        Catalogue.from_size(len(items), features=feats), Interactions.from_matrix(train)
    )
    p.fit_scorer(fit_part)
    feed = evaluate_recommender(lambda u, k: p.rank_batch(u, k), eval_part, k=20)
    popular = evaluate_scores(lambda u: np.tile(pop[items], (len(u), 1)), train, eval_part, k=20)
    ease = EASE(l2=50.0).fit(train)
    plain = evaluate_scores(lambda u: ease.score(train[u]), train, eval_part, k=20)
    assert feed.n_users == popular.n_users == plain.n_users > 500
    assert feed.ndcg > max(popular.ndcg, plain.ndcg)
