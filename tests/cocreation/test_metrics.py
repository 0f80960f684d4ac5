"""Cascade metrics: structural virality is exact (checked against all-pairs BFS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import igraph as ig
import numpy as np
import pyarrow as pa
import pytest

from communitok.cocreation import (
    build_forest,
    cascade_metrics,
    creator_sparks,
    distribution,
    node_table,
    tree_structure,
)

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def forest_from_parents(parent: list[int], hours: list[float] | None = None, creators=None):
    ids = [f"v{i:04d}" for i in range(len(parent))]
    rows = [(ids[i], ids[p]) for i, p in enumerate(parent) if p >= 0]
    links = pa.table({"child_video_id": [r[0] for r in rows], "parent_video_id": [r[1] for r in rows],
                      "kind": ["stitch"] * len(rows)})  # fmt: skip
    hours = hours if hours is not None else list(range(len(parent)))
    videos = pa.table({
        "video_id": ids,
        "creator_id": creators or [f"c{i % 7}" for i in range(len(parent))],
        "created_at": pa.array([T0 + timedelta(hours=h) for h in hours], pa.timestamp("us", tz="UTC")),
    })  # fmt: skip
    return build_forest(links, videos), ids


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_structural_virality_matches_all_pairs_shortest_paths(seed: int) -> None:
    rng = np.random.default_rng(seed)
    parent = [-1]
    for i in range(1, 120):  # random recursive trees with a few roots
        parent.append(-1 if rng.random() < 0.03 else int(rng.integers(0, i)))
    f, _ = forest_from_parents(parent)
    m = cascade_metrics(f)
    st = tree_structure(f)
    for row in m.to_pylist():
        root = int(row["cascade_id"][1:])
        members = np.flatnonzero(st.root == root)
        edges = [(int(np.searchsorted(members, i)), int(np.searchsorted(members, parent[i])))
                 for i in members if parent[i] >= 0]  # fmt: skip
        g = ig.Graph(n=members.size, edges=edges)
        d = np.array(g.distances())
        n = members.size
        assert row["size"] == n
        assert row["structural_virality"] == pytest.approx(d.sum() / (n * (n - 1)), rel=1e-12)
        assert row["depth"] == int(st.depth[members].max())


def test_star_and_chain_closed_forms() -> None:
    n = 101
    star, _ = forest_from_parents([-1] + [0] * (n - 1))
    chain, _ = forest_from_parents([-1, *list(range(n - 1))])
    s = cascade_metrics(star).to_pylist()[0]
    c = cascade_metrics(chain).to_pylist()[0]
    assert s["structural_virality"] == pytest.approx(2 * (n - 1) / n)
    assert (s["depth"], s["max_breadth"]) == (1, n - 1)
    assert c["structural_virality"] == pytest.approx((n + 1) / 3)
    assert (c["depth"], c["max_breadth"]) == (n - 1, 1)


def test_time_to_half_size_and_communities() -> None:
    # root at 0 h, children at 1, 2, 10, 20 h: size 5, half = 3rd upload = 2 h
    f, ids = forest_from_parents([-1, 0, 0, 1, 1], hours=[0, 1, 2, 10, 20])
    mem = pa.table(
        {"video_id": [ids[0], ids[3], ids[3], "other"], "community_id": ["a", "b", "c", "z"]}
    )
    row = cascade_metrics(f, mem).to_pylist()[0]
    assert row["time_to_half_s"] == pytest.approx(2 * 3600)
    assert row["duration_s"] == pytest.approx(20 * 3600)
    assert row["communities"] == ["a", "b", "c"] and row["communities_reached"] == 3
    assert row["root_communities"] == ["a"]


def test_creator_sparks_and_nodes() -> None:
    f, ids = forest_from_parents([-1, 0, 0, 1], creators=["alice", "bob", "alice", "carol"])
    cs = {r["creator_id"]: r for r in creator_sparks(f).to_pylist()}
    assert cs["alice"]["direct_cocreations"] == 1 and cs["alice"]["self_cocreations"] == 1
    assert cs["alice"]["descendants"] == 3 and cs["alice"]["cascades_rooted"] == 1
    assert cs["bob"]["direct_cocreations"] == 1 and cs["bob"]["distinct_cocreators"] == 1
    nodes = node_table(f)
    assert nodes.num_rows == 4 and set(nodes.column("cascade_id").to_pylist()) == {ids[0]}


def test_single_videos_and_distribution() -> None:
    f, _ = forest_from_parents([-1, -1, -1])
    assert cascade_metrics(f).num_rows == 0
    one = cascade_metrics(f, min_size=1)
    assert one.num_rows == 3 and all(
        np.isnan(v) for v in one.column("structural_virality").to_pylist()
    )
    d = distribution(np.array([1.0, 2.0, np.nan, 3.0]))
    assert d.count == 3 and d.p50 == 2.0
    assert distribution(np.array([])).count == 0
