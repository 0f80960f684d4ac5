"""Leiden detection with automatic resolution: planted answers, seeds, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from communitok.communities import Leiden, detect, modularity
from communitok.communities.leiden import canonical
from communitok.communities.resolution import choose
from communitok.core.errors import InputError
from communitok.graph import Graph

from .conftest import planted


def test_recovers_planted_partition(planted_graph) -> None:
    g, y = planted_graph
    m = Leiden(seed=0).fit(g)
    assert normalized_mutual_info_score(y, m.labels_) == pytest.approx(1.0)
    assert m.n_communities_ == 6
    prof = m.profile_.to_arrow()
    assert prof.num_rows >= 3 and sum(prof["chosen"].to_pylist()) == 1
    assert m.quality_ > 0


def test_cpm_beats_resolution_limit() -> None:
    # 30 small cliques in a ring (Fortunato & Barthélemy 2007): modularity at r = 1
    # merges neighbours; CPM with the automatic resolution keeps every clique
    k, size = 30, 5
    rows, cols = [], []
    for c in range(k):
        nodes = range(c * size, (c + 1) * size)
        rows += [i for i in nodes for j in nodes if i < j]
        cols += [j for i in nodes for j in nodes if i < j]
        rows.append(c * size)
        cols.append(((c + 1) % k) * size + 1)
    g = Graph.from_edges(np.array(rows), np.array(cols), nodes=np.arange(k * size).astype(str))
    y = np.repeat(np.arange(k), size)
    mod = Leiden("modularity", resolution=1.0, seed=0).fit(g)
    assert mod.n_communities_ < k
    ours = Leiden(seed=0).fit(g)
    assert adjusted_rand_score(y, ours.labels_) == pytest.approx(1.0)


def test_same_seed_same_partition_and_canonical_order(planted_graph) -> None:
    g, _ = planted_graph
    a = detect(g, seed=3)
    b = detect(g, seed=3)
    assert np.array_equal(a, b)
    sizes = np.bincount(a)
    assert np.all(np.diff(sizes) <= 0)  # community 0 is the largest


def test_fixed_resolution_and_uniform_weights(planted_graph) -> None:
    g, y = planted_graph
    m = Leiden(resolution=1.0, node_weights="uniform", seed=0).fit(g)
    assert m.profile_ is None and m.resolution_ == 1.0
    assert normalized_mutual_info_score(y, m.labels_) > 0.95
    assert modularity(g.adjacency, m.labels_) > 0.5


def test_coarse_profile_path(planted_graph) -> None:
    g, y = planted_graph
    m = Leiden(seed=0, scan_max_edges=10, sample_edges=300).fit(g)
    assert m.profile_.method == "coarse"
    assert normalized_mutual_info_score(y, m.labels_) > 0.95


def test_disconnected_isolated_and_one_node_communities() -> None:
    g1, _ = planted([10, 10], 0.8, 0.0, seed=2)  # two components
    a = g1.adjacency
    n = a.shape[0]
    # add two isolated nodes
    big = sp.block_diag([a, sp.csr_matrix((2, 2))]).tocsr()
    g = Graph(big, np.array([f"n{i}" for i in range(n + 2)], dtype=object))
    m = Leiden(seed=0).fit(g)
    assert m.labels_[n] != m.labels_[n + 1]  # isolated nodes are their own communities
    assert len(set(m.labels_[:10])) == 1 and len(set(m.labels_[10:20])) == 1
    assert m.labels_[0] != m.labels_[10]


def test_empty_and_edgeless_graphs() -> None:
    m = Leiden().fit(Graph.empty())
    assert m.labels_.size == 0 and m.n_communities_ == 0
    g = Graph(sp.csr_matrix((3, 3)), np.array(["a", "b", "c"], dtype=object))
    m = Leiden().fit(g)
    assert sorted(m.labels_.tolist()) == [0, 1, 2]


def test_sparse_matrix_input() -> None:
    a = sp.csr_matrix(np.array([[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]], float))
    labels = detect(a, resolution=1.0)
    assert labels[0] == labels[1] == labels[2] != labels[3]


@pytest.mark.parametrize(
    "kw",
    [
        {"objective": "louvain"},
        {"resolution": -1},
        {"resolution": "big"},
        {"resolution": True},
        {"node_weights": "degree"},
        {"seed": -1},
        {"n_iterations": 0},
        {"scan_iterations": -5},
        {"n_seeds": 0},
        {"grid": (0.0, 1.0)},
    ],
)
def test_bad_parameters_raise_input_error(kw, planted_graph) -> None:
    with pytest.raises(InputError):
        Leiden(**kw).fit(planted_graph[0])


def test_bad_graph_raises() -> None:
    with pytest.raises(InputError):
        Leiden().fit([[0, 1], [1, 0]])
    with pytest.raises(InputError):
        Leiden().fit(sp.csr_matrix((2, 3)))


def test_choose_prefers_stable_plateau_and_skips_trivial() -> None:
    r = np.array([0.5, 1.0, 2.0, 4.0])
    idx, score = choose(
        r,
        np.array([1.0, 0.9, 0.95, 1.0]),
        np.array([1, 0.5, 1, 1.0]),
        np.array([True, False, False, True]),
    )
    assert idx == 2 and np.isnan(score[0])
    # everything trivial: r closest to 1
    idx, _ = choose(r, np.ones(4), np.ones(4), np.ones(4, dtype=bool))
    assert idx == 1


def test_canonical_labels() -> None:
    assert canonical(np.array([5, 5, 2, 9, 9, 9])).tolist() == [1, 1, 2, 0, 0, 0]
