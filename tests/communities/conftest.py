"""Fixtures for community tests: the real data folder and small planted graphs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from communitok.graph import Graph


def planted(sizes: list[int], p_in: float, p_out: float, seed: int = 0) -> tuple[Graph, np.ndarray]:
    """A planted-partition graph (Erdős–Rényi blocks) and its true labels."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(sizes)), sizes)
    n = len(y)
    iu = np.triu_indices(n, k=1)
    same = y[iu[0]] == y[iu[1]]
    hit = rng.random(len(same)) < np.where(same, p_in, p_out)
    r, c = iu[0][hit], iu[1][hit]
    a = sp.coo_matrix((np.ones(2 * len(r)), (np.r_[r, c], np.r_[c, r])), shape=(n, n))
    return Graph(a.tocsr(), np.array([f"n{i}" for i in range(n)], dtype=object)), y


@pytest.fixture(scope="session")
def planted_graph() -> tuple[Graph, np.ndarray]:
    """6 communities of 40 nodes, p_in 0.3, p_out 0.01."""
    return planted([40] * 6, 0.3, 0.01, seed=1)


@pytest.fixture(scope="session")
def tiny_sim():
    """The simulator's tiny preset (static communities), or skip if it is unavailable."""
    try:
        from communitok.simulate import SimConfig, simulate
    except ImportError as exc:  # the simulator is developed separately
        pytest.skip(f"simulator not available: {exc}")
    return simulate(SimConfig.preset("tiny", seed=1, evolution=False))
