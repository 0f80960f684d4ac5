"""Ranking metrics computed by hand, splits, loaders, replay harness."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest
import scipy.sparse as sp

from communitok.core.errors import InputError, NotFound
from communitok.evaluation import (
    community_spread,
    coverage,
    evaluate_recommender,
    evaluate_scores,
    intra_list_diversity,
    leave_one_out,
    load_interactions,
    novelty,
    planted_interest_response,
    random_split,
    ranking_metrics,
    replay,
    to_csr,
    top_k_from_scores,
)


def test_ndcg_and_recall_by_hand() -> None:
    # user 0: relevant {2, 5}; list [5, 1, 2] -> hits at ranks 0 and 2
    # user 1: relevant {4};    list [0, 4, 3] -> hit at rank 1
    # user 2: no relevant items -> not evaluated
    truth = sp.csr_matrix((np.ones(3), ([0, 0, 1], [2, 5, 4])), shape=(3, 6))
    top = np.array([[5, 1, 2], [0, 4, 3], [1, 2, 3]])
    r = ranking_metrics(top, truth, k=3)
    ndcg0 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    ndcg1 = (1 / math.log2(3)) / 1.0
    assert r.n_users == 2
    assert r.ndcg == pytest.approx((ndcg0 + ndcg1) / 2)
    assert r.recall == pytest.approx((1.0 + 1.0) / 2)
    assert r.precision == pytest.approx((2 / 3 + 1 / 3) / 2)
    # at k=1 only user 0 hits
    r1 = ranking_metrics(top, truth, k=1)
    assert r1.recall == pytest.approx((0.5 + 0) / 2) and r1.ndcg == pytest.approx((1.0 + 0) / 2)


def test_idcg_uses_min_of_relevant_and_k() -> None:
    truth = sp.csr_matrix(np.array([[1, 1, 1, 1, 0]], float))
    r = ranking_metrics(np.array([[0, 4]]), truth, k=2)
    assert r.ndcg == pytest.approx(1.0 / (1 + 1 / math.log2(3)))
    assert r.recall == pytest.approx(0.25)


def test_training_items_are_masked() -> None:
    train = sp.csr_matrix(np.array([[1, 0, 0, 0]], float))
    test = sp.csr_matrix(np.array([[0, 1, 0, 0]], float))
    scores = np.array([[9.0, 5.0, 1.0, 0.0]])
    r = evaluate_scores(lambda u: scores[u], train, test, k=1)
    assert r.recall == 1.0  # item 0 masked, item 1 ranked first
    top = top_k_from_scores(scores, 6, train)
    assert list(top[0]) == [1, 2, 3, -1, -1, -1]
    with pytest.raises(InputError):
        top_k_from_scores(scores, 0)
    with pytest.raises(InputError):
        evaluate_recommender(
            lambda u, k: np.zeros((1, k), int), sp.csr_matrix(np.ones((3, 4))), k=2
        )


def test_beyond_accuracy_metrics() -> None:
    top = np.array([[0, 1], [0, 2]])
    assert coverage(top, 4) == pytest.approx(0.75)
    V = np.array([[1, 0], [1, 0], [0, 1]], float)
    assert intra_list_diversity(top, V) == pytest.approx((0.0 + 1.0) / 2)
    assert community_spread(top, np.array([0, 0, 1])) == pytest.approx(1.5)
    assert novelty(np.array([[0]]), np.array([2.0]), 8) == pytest.approx(2.0)


def test_leave_one_out_and_random_split() -> None:
    X = sp.random(50, 30, density=0.2, random_state=0, format="csr")
    X.data[:] = 1.0
    tr, te = leave_one_out(X, seed=1)
    assert (tr + te - X).nnz == 0 and tr.multiply(te).nnz == 0
    counts = np.asarray(te.getnnz(axis=1))
    eligible = np.asarray(X.getnnz(axis=1)) >= 2
    assert np.all(counts[eligible] == 1) and np.all(counts[~eligible] == 0)
    _, te2 = leave_one_out(X, seed=1)
    assert (te2 - te).nnz == 0
    a, b = random_split(X, test_share=0.3, seed=0)
    assert a.nnz + b.nnz == X.nnz and 0.2 < b.nnz / X.nnz < 0.4
    with pytest.raises(InputError):
        random_split(X, test_share=1.5)


def test_load_interactions(tmp_path) -> None:
    f = tmp_path / "x.tsv.gz"
    with gzip.open(f, "wt") as fh:
        fh.write("user\titem\n0\t1\n2\t0\n")
    t = load_interactions(f)
    assert t.column("user").to_pylist() == [0, 2] and t.column("item").to_pylist() == [1, 0]
    m = to_csr(t, (3, 2))
    assert m[2, 0] == 1 and m.nnz == 2
    with pytest.raises(InputError):
        to_csr(t, (2, 2))
    with pytest.raises(NotFound):
        load_interactions(tmp_path / "missing.tsv.gz")
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\n1\t2\n")
    with pytest.raises(InputError):
        load_interactions(bad)


def test_replay_with_planted_responder() -> None:
    communities = {f"v{i}": ("a" if i < 10 else "b") for i in range(20)}
    respond = planted_interest_response({"x": "a", "y": "b"}, communities)
    observed = []

    def good(viewer: str, k: int) -> list[str]:
        want = "a" if viewer == "x" else "b"
        pool = [
            v
            for v, c in communities.items()
            if c == want and v not in served.setdefault(viewer, set())
        ]
        out = pool[:k]
        served[viewer].update(out)
        return out

    served: dict[str, set[str]] = {}
    r = replay(
        good,
        respond,
        ["x", "y"],
        steps=2,
        k=3,
        observe=observed.append,
        video_community=communities,
        seed=0,
    )
    assert r.repeats == 0 and r.n_served == 12 and len(observed) == 12
    assert r.watch_time_per_session > 2 * 3 * 0.8 * 30 * 0.9
    repeat = replay(
        lambda v, k: ["v0", "v11"], respond, ["x"], steps=2, k=2, video_community=communities
    )
    assert repeat.repeats == 2 and repeat.distinct_communities_per_50 == 2
    with pytest.raises(InputError):
        replay(good, respond, ["x"], steps=0)
