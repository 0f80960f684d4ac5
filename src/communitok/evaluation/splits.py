"""Seeded splits of an interaction matrix for offline evaluation."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError
from ..core.seeds import rng


def leave_one_out(
    X: sp.spmatrix,
    *,
    n_holdout: int = 1,
    min_remaining: int = 1,
    seed: int | np.random.Generator = 0,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Hold out ``n_holdout`` random interactions per user who keeps at least
    ``min_remaining`` in training: (train, holdout), both user × item."""
    if not isinstance(n_holdout, int) or n_holdout < 1:
        raise InputError(f"must be an integer >= 1, got {n_holdout!r}", field="n_holdout")
    if not isinstance(min_remaining, int) or min_remaining < 0:
        raise InputError(f"must be an integer >= 0, got {min_remaining!r}", field="min_remaining")
    g = rng(seed)
    X = sp.csr_matrix(X)
    X.sort_indices()
    hold = np.zeros(X.nnz, bool)
    for u in range(X.shape[0]):
        lo, hi = X.indptr[u], X.indptr[u + 1]
        if hi - lo >= n_holdout + min_remaining:
            hold[lo + g.choice(hi - lo, n_holdout, replace=False)] = True
    return _split(X, hold)


def random_split(
    X: sp.spmatrix, *, test_share: float = 0.2, seed: int | np.random.Generator = 0
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Each interaction goes to the test part with probability ``test_share``."""
    if not isinstance(test_share, int | float) or not 0 < test_share < 1:
        raise InputError(f"must be in (0, 1), got {test_share!r}", field="test_share")
    X = sp.csr_matrix(X)
    return _split(X, rng(seed).random(X.nnz) < test_share)


def holdout_split(
    X: sp.spmatrix,
    *,
    share: float = 0.2,
    min_keep: int = 1,
    seed: int | np.random.Generator = 0,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """A seeded random share of each user's interactions held out: (kept, held), both
    user × item, disjoint, summing to *X*.

    A user with ``n`` interactions holds out ``min(n - min_keep, max(1, round(share·n)))``
    of them (half rounded up) when ``n > min_keep``, none otherwise: every user keeps at
    least ``min_keep`` (all of them when they have no more) and every user who can spare
    one holds out at least one. Explicit zeros are dropped."""
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share < 1:
        raise InputError(f"must be in (0, 1), got {share!r}", field="share")
    if isinstance(min_keep, bool) or not isinstance(min_keep, int) or min_keep < 1:
        raise InputError(f"must be an integer >= 1, got {min_keep!r}", field="min_keep")
    X = sp.csr_matrix(X, copy=True)
    X.sum_duplicates()
    X.eliminate_zeros()
    X.sort_indices()
    n = np.diff(X.indptr)
    h = np.where(
        n > min_keep,
        np.minimum(n - min_keep, np.maximum(1, np.floor(share * n + 0.5).astype(np.int64))),
        0,
    )
    row = np.repeat(np.arange(X.shape[0]), n)
    # a random order within each row; the first h[u] of row u are held out
    order = np.lexsort((rng(seed).random(X.nnz), row))
    rank = np.arange(X.nnz) - X.indptr[row[order]]
    hold = np.zeros(X.nnz, bool)
    hold[order] = rank < h[row[order]]
    return _split(X, hold)


def _split(X: sp.csr_matrix, hold: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    coo = X.tocoo()
    order = np.lexsort((coo.col, coo.row))
    r, c, v = coo.row[order], coo.col[order], coo.data[order]
    train = sp.csr_matrix((v[~hold], (r[~hold], c[~hold])), shape=X.shape)
    test = sp.csr_matrix((v[hold], (r[hold], c[hold])), shape=X.shape)
    return train, test
