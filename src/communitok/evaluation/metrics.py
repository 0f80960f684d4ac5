"""Offline ranking metrics with the full-ranking protocol.

Protocol (as in the reference code of LightGCN / MMSSL / DiffMM): every user with at
least one test interaction is evaluated; all items are ranked, items the user
interacted with in *training* are excluded, the top K are taken, and

    Recall@K = hits / |test items of user|
    NDCG@K   = DCG / IDCG,  DCG = Σ_{rank r < K, hit} 1 / log2(r + 2),
               IDCG = Σ_{r < min(|test|, K)} 1 / log2(r + 2)    (Järvelin & Kekäläinen 2002)

averaged over users. Beyond accuracy: catalogue coverage, intra-list diversity (mean
pairwise cosine distance, Ziegler et al. 2005), community spread (distinct communities
per list) and novelty (mean self-information −log2 of an item's popularity share, Zhou
et al., PNAS 2010).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError


@dataclass(frozen=True)
class RankingResult:
    """Mean metrics over evaluated users (and the per-user arrays)."""

    k: int
    n_users: int
    recall: float
    ndcg: float
    precision: float
    hit_rate: float
    coverage: float
    per_user_recall: np.ndarray
    per_user_ndcg: np.ndarray

    def summary(self) -> dict[str, float]:
        return {
            "k": self.k,
            "n_users": self.n_users,
            f"recall@{self.k}": self.recall,
            f"ndcg@{self.k}": self.ndcg,
            f"precision@{self.k}": self.precision,
            f"hit_rate@{self.k}": self.hit_rate,
            "coverage": self.coverage,
        }


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"must be an integer >= 1, got {k!r}", field="k")
    return int(k)


def top_k_from_scores(scores: np.ndarray, k: int, exclude: sp.spmatrix | None = None) -> np.ndarray:
    """Top-*k* column indices per row (best first, ties by index), after setting the
    *exclude* entries to -inf; -1 where fewer than k finite scores remain."""
    k = _check_k(k)
    s = np.array(scores, dtype=np.float64, copy=True)
    if exclude is not None:
        ex = sp.coo_matrix(exclude)
        s[ex.row, ex.col] = -np.inf
    m = min(k, s.shape[1])
    part = (
        np.argpartition(-s, m - 1, axis=1)[:, :m]
        if m < s.shape[1]
        else np.tile(np.arange(s.shape[1]), (len(s), 1))
    )
    ps = np.take_along_axis(s, part, 1)
    order = np.lexsort((part, -ps), axis=1)
    top = np.take_along_axis(part, order, 1)
    top[~np.isfinite(np.take_along_axis(ps, order, 1))] = -1
    if m < k:
        top = np.hstack([top, np.full((len(top), k - m), -1)])
    return top.astype(np.int64)


def ranking_metrics(top: np.ndarray, truth: sp.spmatrix, k: int | None = None) -> RankingResult:
    """Recall / NDCG / precision / hit rate of ranked lists *top* (users × ≥k item
    indices, -1 padding) against *truth* (users × items, > 0 = relevant), over the
    users with at least one relevant item."""
    T = sp.csr_matrix(truth)
    top = np.asarray(top, dtype=np.int64)
    if top.ndim != 2 or top.shape[0] != T.shape[0]:
        raise InputError(f"must have one row per user ({T.shape[0]})", field="top")
    k = _check_k(k if k is not None else top.shape[1])
    top = top[:, :k]
    n_rel = np.asarray((T > 0).sum(axis=1)).ravel()
    users = np.flatnonzero(n_rel > 0)
    T = T[users]
    t = top[users]
    T.sort_indices()
    rows = np.repeat(np.arange(T.shape[0]), np.diff(T.indptr))
    keys = rows.astype(np.int64) * (T.shape[1] + 1) + T.indices
    q = np.arange(len(users), dtype=np.int64)[:, None] * (T.shape[1] + 1) + np.maximum(t, 0)
    at = np.minimum(np.searchsorted(keys, q), max(len(keys) - 1, 0))
    hits = (t >= 0) & (keys[at] == q) & (T.data[at] > 0) if len(keys) else np.zeros(t.shape, bool)
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * disc[None, : t.shape[1]]).sum(axis=1)
    idcg = np.cumsum(disc)[np.minimum(n_rel[users], k) - 1] if len(users) else np.zeros(0)
    nh = hits.sum(axis=1)
    recall = nh / n_rel[users] if len(users) else np.zeros(0)
    ndcg = dcg / idcg if len(users) else np.zeros(0)
    shown = np.unique(t[t >= 0])
    return RankingResult(
        k=k,
        n_users=len(users),
        recall=float(recall.mean()) if len(users) else 0.0,
        ndcg=float(ndcg.mean()) if len(users) else 0.0,
        precision=float((nh / k).mean()) if len(users) else 0.0,
        hit_rate=float((nh > 0).mean()) if len(users) else 0.0,
        coverage=len(shown) / max(T.shape[1], 1),
        per_user_recall=recall,
        per_user_ndcg=ndcg,
    )


def evaluate_scores(
    score_fn: Callable[[np.ndarray], np.ndarray],
    train: sp.spmatrix,
    test: sp.spmatrix,
    *,
    k: int = 20,
    batch_size: int = 1024,
) -> RankingResult:
    """Full-ranking evaluation of a scoring function (users → dense scores over all
    items): training items masked, top-k, metrics over users with test items."""
    train, test = sp.csr_matrix(train), sp.csr_matrix(test)
    if train.shape != test.shape:
        raise InputError(f"train {train.shape} and test {test.shape} differ", field="test")
    return evaluate_recommender(
        lambda users, kk: top_k_from_scores(score_fn(users), kk, train[users]),
        test,
        k=k,
        batch_size=batch_size,
    )


def evaluate_recommender(
    recommend: Callable[[np.ndarray, int], np.ndarray],
    test: sp.spmatrix,
    *,
    k: int = 20,
    batch_size: int = 1024,
) -> RankingResult:
    """Evaluate a recommender (users, k → users × k item indices) on *test*; the
    recommender is responsible for excluding training items."""
    k = _check_k(k)
    test = sp.csr_matrix(test)
    users = np.flatnonzero(np.asarray(test.getnnz(axis=1)) > 0)
    top = np.full((test.shape[0], k), -1, np.int64)
    for start in range(0, len(users), batch_size):
        u = users[start : start + batch_size]
        got = np.asarray(recommend(u, k), dtype=np.int64)
        if got.shape[0] != len(u):
            raise InputError(f"returned {got.shape[0]} rows for {len(u)} users", field="recommend")
        top[u, : min(k, got.shape[1])] = got[:, :k]
    return ranking_metrics(top, test, k)


def coverage(top: np.ndarray, n_items: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    t = np.asarray(top)
    return len(np.unique(t[t >= 0])) / n_items if n_items else 0.0


def intra_list_diversity(top: np.ndarray, item_vectors: np.ndarray) -> float:
    """Mean pairwise cosine distance (1 − cos) within each list, averaged over lists."""
    V = np.asarray(item_vectors, dtype=np.float64)
    nrm = np.linalg.norm(V, axis=1, keepdims=True)
    V = np.divide(V, nrm, out=np.zeros_like(V), where=nrm > 0)
    vals = []
    for row in np.asarray(top):
        r = row[row >= 0]
        if len(r) < 2:
            continue
        S = V[r] @ V[r].T
        n = len(r)
        vals.append(1.0 - (S.sum() - np.trace(S)) / (n * (n - 1)))
    return float(np.mean(vals)) if vals else 0.0


def community_spread(top: np.ndarray, item_community: np.ndarray) -> float:
    """Mean number of distinct communities per list (item_community: label per item, -1 none)."""
    lab = np.asarray(item_community)
    vals = [len(np.unique(lab[r[r >= 0]][lab[r[r >= 0]] >= 0])) for r in np.asarray(top)]
    return float(np.mean(vals)) if vals else 0.0


def novelty(top: np.ndarray, popularity: np.ndarray, n_users: int) -> float:
    """Mean self-information −log2(pop_i / n_users) of recommended items (pop ≥ 1 assumed)."""
    if n_users < 1:
        raise InputError("must be >= 1", field="n_users")
    t = np.asarray(top)
    t = t[t >= 0]
    if not len(t):
        return 0.0
    p = np.maximum(np.asarray(popularity, dtype=np.float64)[t], 1.0) / n_users
    return float(np.mean(-np.log2(p)))
