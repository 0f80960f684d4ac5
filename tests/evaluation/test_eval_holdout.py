"""The within-train holdout split: known counts by hand and on simulator interactions."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from communitok.core.errors import InputError
from communitok.evaluation import holdout_split
from communitok.simulate import SimConfig, simulate


def _rows(degrees: list[int], n_items: int = 12) -> sp.csr_matrix:
    """User u interacts with items 0 .. degrees[u] - 1."""
    r = np.repeat(np.arange(len(degrees)), degrees)
    c = np.concatenate([np.arange(d) for d in degrees])
    return sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(len(degrees), n_items))


def _check_parts(X: sp.csr_matrix, kept: sp.csr_matrix, held: sp.csr_matrix) -> None:
    assert kept.shape == held.shape == X.shape
    assert kept.multiply(held).nnz == 0  # no (user, item) in both parts
    assert abs(kept + held - X).sum() == 0  # together they are X


def test_holdout_counts_by_hand() -> None:
    X = _rows([10, 5, 2, 1, 0, 3])
    kept, held = holdout_split(X, share=0.2, seed=0)
    _check_parts(X, kept, held)
    # round(0.2 n), at least 1, leaving at least 1: 10 -> 2, 5 -> 1, 2 -> 1, 1 -> 0, 3 -> 1
    assert np.asarray(held.getnnz(axis=1)).tolist() == [2, 1, 1, 0, 0, 1]
    assert np.asarray(kept.getnnz(axis=1)).tolist() == [8, 4, 1, 1, 0, 2]
    # share 0.5 (half rounds up): 10 -> 5, 5 -> 3, 2 -> 1, 3 -> 2
    _, held = holdout_split(X, share=0.5, seed=0)
    assert np.asarray(held.getnnz(axis=1)).tolist() == [5, 3, 1, 0, 0, 2]
    # min_keep = 3: 10 -> 2, 5 -> 1 (5 - 3 = 2 allowed, round(1.0) = 1), 2 and 3 -> 0
    kept, held = holdout_split(X, share=0.2, min_keep=3, seed=0)
    assert np.asarray(held.getnnz(axis=1)).tolist() == [2, 1, 0, 0, 0, 0]
    assert np.asarray(kept.getnnz(axis=1)).tolist() == [8, 4, 2, 1, 0, 3]


def test_holdout_is_seeded_and_random_within_users() -> None:
    X = _rows([10] * 40)
    _, a = holdout_split(X, share=0.2, seed=7)
    _, b = holdout_split(X, share=0.2, seed=7)
    _, c = holdout_split(X, share=0.2, seed=8)
    assert (a != b).nnz == 0
    assert (a != c).nnz > 0
    # which items are held out varies: all 10 positions occur over 40 users x 2 draws
    assert len(np.unique(a.indices)) == 10
    # a generator is accepted as the seed
    _, d = holdout_split(X, share=0.2, seed=np.random.default_rng(7))
    assert d.nnz == 80


def test_holdout_on_simulated_interactions() -> None:
    ev = simulate(SimConfig.preset("tiny", seed=1)).tables["events"]
    viewers, vi = np.unique(np.asarray(ev["viewer_id"].to_pylist()), return_inverse=True)
    videos, vv = np.unique(np.asarray(ev["video_id"].to_pylist()), return_inverse=True)
    X = sp.csr_matrix((np.ones(len(vi), np.float32), (vi, vv)), shape=(len(viewers), len(videos)))
    X.data[:] = 1.0  # repeated views count once
    n = np.asarray(X.getnnz(axis=1))
    kept, held = holdout_split(X, share=0.3, seed=3)
    _check_parts(X, kept, held)
    h = np.asarray(held.getnnz(axis=1))
    assert np.all(np.asarray(kept.getnnz(axis=1))[n > 0] >= 1)  # every user keeps one
    assert np.all(h[n >= 2] >= 1) and np.all(h[n < 2] == 0)
    expected = np.where(n > 1, np.minimum(n - 1, np.maximum(1, np.floor(0.3 * n + 0.5))), 0)
    assert np.array_equal(h, expected)
    # overall share close to the target (rounding and the at-least-one rule aside)
    assert 0.25 < held.nnz / X.nnz < 0.4


def test_holdout_checks_its_input() -> None:
    X = _rows([3, 2])
    for bad in (0, 1, 1.5, -0.1, True, "0.2"):
        with pytest.raises(InputError) as e:
            holdout_split(X, share=bad)  # type: ignore[arg-type]
        assert e.value.field == "share"
    for bad in (0, -1, 1.0, True):
        with pytest.raises(InputError) as e:
            holdout_split(X, min_keep=bad)  # type: ignore[arg-type]
        assert e.value.field == "min_keep"
