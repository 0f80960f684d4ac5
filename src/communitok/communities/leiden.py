"""Thin, seeded wrappers over python-igraph's built-in Leiden (Traag, Waltman & van Eck 2019).

The Constant Potts Model (CPM; Traag, Van Dooren & Nesterov 2011) scores a partition as
``Σ_c (w_c − γ · N_c² / 2)`` with ``w_c`` the internal edge weight of community *c* and
``N_c`` the sum of its node weights. With unit node weights γ is a density threshold
("uniform"); with node weight = strength and ``γ = r / 2W`` CPM equals modularity at
resolution *r* ("strength", the configuration-model null). Either way the resolution is
*relative* here: ``r = 1`` is the random-graph baseline (density, or modularity's scale).

Randomness: igraph draws from a Python ``random.Random``; every call installs one seeded
with *seed* and restores the previous generator, so same seed → same partition.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from dataclasses import dataclass

import igraph as ig
import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError
from ..graph import Graph

NODE_WEIGHTS = ("strength", "uniform")
OBJECTIVES = ("cpm", "modularity")


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Install a ``random.Random(seed)`` as igraph's generator for the block."""
    ig.set_random_number_generator(random.Random(int(seed)))
    try:
        yield
    finally:
        ig.set_random_number_generator(random)


@dataclass(frozen=True, eq=False)
class Prepared:
    """A graph converted once for repeated Leiden calls."""

    graph: ig.Graph
    weights: list[float] | None
    node_weights: np.ndarray
    #: γ for relative resolution r = 1
    unit: float
    n_nodes: int

    def gamma(self, r: float) -> float:
        return float(r) * self.unit


def prepare(adjacency: sp.spmatrix, node_weights: str | np.ndarray = "strength") -> Prepared:
    """Convert a symmetric adjacency (upper triangle used) to an igraph graph.

    *node_weights*: ``"strength"``, ``"uniform"`` or an explicit array (for aggregated
    graphs, where a super-node weighs the sum of its members).
    """
    a = sp.csr_matrix(adjacency)
    n = a.shape[0]
    up = sp.triu(a, k=1, format="coo")
    g = ig.Graph(n=n)
    if up.nnz:
        g.add_edges(np.column_stack([up.row, up.col]).astype(np.int64))
    unweighted = up.nnz == 0 or bool(np.all(up.data == 1.0))
    weights = None if unweighted else up.data.astype(np.float64).tolist()
    total = float(up.data.sum())
    if isinstance(node_weights, str):
        if node_weights == "strength":
            nw = np.asarray(a.sum(axis=1)).ravel().astype(np.float64)
            unit = 1.0 / (2.0 * total) if total > 0 else 1.0
        elif node_weights == "uniform":
            nw = np.ones(n)
            unit = 2.0 * total / (n * (n - 1.0)) if n > 1 and total > 0 else 1.0
        else:
            raise InputError(f"must be one of {NODE_WEIGHTS}", field="node_weights")
    else:
        nw = np.asarray(node_weights, dtype=np.float64)
        if nw.shape != (n,):
            raise InputError("one node weight per node", field="node_weights")
        unit = 1.0
    return Prepared(g, weights, nw, unit, n)


def run(
    prep: Prepared,
    r: float,
    *,
    seed: int,
    objective: str = "cpm",
    n_iterations: int = -1,
    beta: float = 0.01,
    gamma: float | None = None,
) -> np.ndarray:
    """One Leiden run; returns the membership (int64, canonical order)."""
    if prep.n_nodes == 0:
        return np.zeros(0, dtype=np.int64)
    with seeded(seed):
        if objective == "cpm":
            cl = prep.graph.community_leiden(
                objective_function="CPM",
                weights=prep.weights,
                resolution=prep.gamma(r) if gamma is None else gamma,
                beta=beta,
                n_iterations=n_iterations,
                node_weights=prep.node_weights.tolist(),
            )
        elif objective == "modularity":
            cl = prep.graph.community_leiden(
                objective_function="modularity",
                weights=prep.weights,
                resolution=float(r),
                beta=beta,
                n_iterations=n_iterations,
            )
        else:
            raise InputError(f"must be one of {OBJECTIVES}", field="objective")
    return canonical(np.asarray(cl.membership, dtype=np.int64))


def canonical(labels: np.ndarray) -> np.ndarray:
    """Relabel so that community 0 is the largest (ties: earliest first node)."""
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size == 0:
        return labels
    _, first, inv, counts = np.unique(
        labels, return_index=True, return_inverse=True, return_counts=True
    )
    order = np.lexsort((first, -counts))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[inv.ravel()]


def cpm_quality(
    adjacency: sp.spmatrix, labels: np.ndarray, node_weights: np.ndarray, gamma: float
) -> float:
    """``Σ_c (w_c − γ · N_c² / 2)``: internal weight minus the CPM penalty."""
    if len(labels) == 0:
        return 0.0
    a = sp.csr_matrix(adjacency)
    k = int(labels.max()) + 1
    s = sp.csr_matrix(
        (np.ones(len(labels)), (np.arange(len(labels)), labels)), shape=(len(labels), k)
    )
    internal = (s.T @ a @ s).diagonal() / 2.0
    n_c = np.bincount(labels, weights=node_weights, minlength=k)
    return float(np.sum(internal - gamma * n_c**2 / 2.0))


def aggregate(
    adjacency: sp.spmatrix, labels: np.ndarray, node_weights: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Collapse each community to one node (edge weights and node weights summed)."""
    n = len(labels)
    k = int(labels.max()) + 1 if n else 0
    s = sp.csr_matrix((np.ones(n), (np.arange(n), labels)), shape=(n, k))
    agg = (s.T @ sp.csr_matrix(adjacency) @ s).tocsr()
    agg.setdiag(0)
    agg.eliminate_zeros()
    return agg, np.bincount(labels, weights=node_weights, minlength=k)


def to_graph(graph: Graph | sp.spmatrix) -> Graph:
    if isinstance(graph, Graph):
        return graph
    if sp.issparse(graph):
        a = sp.csr_matrix(graph)
        if a.shape[0] != a.shape[1]:
            raise InputError("adjacency must be square", field="graph")
        a = a.maximum(a.T)
        return Graph(a, np.arange(a.shape[0]).astype(str).astype(object))
    raise InputError("expected a communitok.graph.Graph or a scipy.sparse adjacency", field="graph")
