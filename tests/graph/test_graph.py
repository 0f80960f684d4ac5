"""Graph building and weighting: known answers on tiny hand-made tables, bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp

from communitok.core.errors import InputError
from communitok.graph import (
    Bipartite,
    EngagementWeights,
    Graph,
    cocreation_graph,
    combine,
    cosine_graph,
    engagement,
    group_spread,
    incidence,
    npmi_graph,
    stop_items,
    tfidf,
    top_k,
    video_items,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def videos(tags: list[list[str] | None], creators: list[str] | None = None) -> pa.Table:
    n = len(tags)
    return pa.table(
        {
            "video_id": [f"v{i}" for i in range(n)],
            "creator_id": creators or [f"c{i % 3}" for i in range(n)],
            "created_at": pa.array([T0] * n, pa.timestamp("us", tz="UTC")),
            "hashtags": pa.array(tags, pa.list_(pa.string())),
            "sound_id": [f"s{i % 2}" if i % 4 else None for i in range(n)],
        }
    )


def test_graph_from_edges_symmetric_dedup_no_loops() -> None:
    g = Graph.from_edges(["a", "b", "b", "c", "c"], ["b", "a", "c", "c", "d"], [1, 2, 1, 5, 1])
    assert g.n_nodes == 4 and g.n_edges == 3
    a = g.adjacency
    assert (a != a.T).nnz == 0
    idx = g.index_of()
    assert a[idx["a"], idx["b"]] == 3.0  # both directions add up
    assert a[idx["c"], idx["c"]] == 0.0  # self-loop dropped
    s, t, w = g.edges()
    assert np.all(s < t) and w.sum() == g.total_weight == 5.0
    assert g.to_arrow().num_rows == 3


def test_graph_positional_with_isolated_nodes_and_subgraph() -> None:
    g = Graph.from_edges(np.array([0, 1]), np.array([1, 2]), nodes=["x", "y", "z", "lonely"])
    assert g.n_nodes == 4 and g.degree.tolist() == [1, 2, 1, 0]
    sub = g.subgraph(np.array([True, True, False, True]))
    assert sub.nodes.tolist() == ["x", "y", "lonely"] and sub.n_edges == 1


def test_graph_bad_input() -> None:
    with pytest.raises(InputError):
        Graph.from_edges(["a"], ["b", "c"])
    with pytest.raises(InputError):
        Graph.from_edges(["a"], ["b"], [-1.0])
    with pytest.raises(InputError):
        Graph(sp.csr_matrix((2, 3)), np.array(["a", "b"], dtype=object))
    with pytest.raises(InputError):
        Graph.from_arrow(pa.table({"s": ["a"]}), "s", "t")


def test_graph_from_arrow_drops_null_endpoints() -> None:
    t = pa.table({"source": ["a", None, "b"], "target": ["b", "c", "c"], "w": [1.0, 2.0, None]})
    g = Graph.from_arrow(t, weight="w")
    assert g.n_nodes == 3 and g.n_edges == 1  # b-c has weight 0 (null) and vanishes


def test_empty_graph() -> None:
    g = Graph.empty()
    assert g.n_nodes == 0 and g.n_edges == 0 and g.strength.size == 0


def test_incidence_list_column_unicode_and_nulls() -> None:
    t = videos([["booktok", "📚", "читать"], None, [], ["booktok", "", "booktok"], ["ß"]])
    b = incidence(t, "video_id", "hashtags", binary=True)
    assert b.shape == (5, 4)  # null, empty list and "" contribute nothing
    assert set(b.cols) == {"booktok", "📚", "читать", "ß"}
    assert b.col_frequency()[list(b.cols).index("booktok")] == 2
    assert b.matrix.max() == 1.0  # binary: a repeated tag on one video counts once


def test_video_items_kinds_and_exclusion() -> None:
    t = videos([["a", "fyp"], ["a", "b"], ["b", "fyp"]])
    b = video_items(t, ("hashtag", "sound", "creator"), exclude={"hashtag": ["fyp"]})
    assert "hashtag:fyp" not in set(b.cols)
    assert {"hashtag", "sound", "creator"} == set(b.col_kinds)
    with pytest.raises(InputError):
        video_items(t, ("nope",))
    dup = pa.concat_tables([t, t])
    with pytest.raises(InputError, match="duplicate"):
        video_items(dup)


def test_npmi_downweights_mega_tags() -> None:
    # two communities of tags; "fyp" is on every video
    tags = [["book", "read", "fyp"]] * 20 + [["gym", "lift", "fyp"]] * 20
    b = video_items(videos(tags), ("hashtag",))
    g = npmi_graph(b)
    i = g.index_of()
    a = g.adjacency
    assert a[i["hashtag:book"], i["hashtag:read"]] == pytest.approx(1.0)
    assert a[i["hashtag:book"], i["hashtag:gym"]] == 0.0
    # the mega tag co-occurs with everything at chance level: NPMI 0 → no edge
    assert a[i["hashtag:fyp"]].nnz == 0


def test_npmi_min_count_and_empty() -> None:
    b = video_items(videos([["x", "y"], ["x", "z"], ["x", "z"]]), ("hashtag",))
    g = npmi_graph(b, min_count=2)
    i = g.index_of()
    assert g.adjacency[i["hashtag:x"], i["hashtag:y"]] == 0.0
    empty = Bipartite(sp.csr_matrix((0, 0)), np.array([], object), np.array([], object))
    assert npmi_graph(empty).n_nodes == 0
    with pytest.raises(InputError):
        npmi_graph(b, min_count=0)


def test_cosine_graph_top_k_and_tfidf() -> None:
    m = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 1, 1, 1]], float))
    b = Bipartite(m, np.array(list("abcd"), object), np.array(list("wxyz"), object))
    g = cosine_graph(b, top_k=1, max_entries=4)  # forces several chunks
    i = g.index_of()
    assert g.adjacency[i["a"], i["b"]] == pytest.approx(1.0)
    assert g.adjacency[i["a"], i["c"]] == 0.0
    assert np.allclose(np.linalg.norm(tfidf(b).matrix.toarray(), axis=1), 1.0)
    with pytest.raises(InputError):
        cosine_graph(b, top_k=0)


def test_top_k_and_combine() -> None:
    g = Graph.from_edges(["a", "a", "a"], ["b", "c", "d"], [3.0, 2.0, 1.0])
    t = top_k(g, 1)
    assert t.n_edges == 3  # each leaf keeps its only edge
    h = Graph.from_edges(["a", "e"], ["b", "f"], [1.0, 1.0])
    c = combine([g, h], [1.0, 0.5])
    i = c.index_of()
    assert c.n_nodes == 6 and c.adjacency[i["a"], i["b"]] == pytest.approx(3.5)


def test_group_spread_and_learned_stop_items() -> None:
    # item 0 spread evenly over 4 groups, item 1 in one group
    usage = sp.csr_matrix(np.array([[5, 5, 5, 5], [20, 0, 0, 0]], float))
    s = group_spread(usage, np.array([0, 1, 2, 3]))
    assert s.entropy[0] == pytest.approx(1.0) and s.entropy[1] == pytest.approx(0.0)
    assert s.effective_groups[0] == pytest.approx(4.0)
    assert stop_items(s).tolist() == [True, False]
    with pytest.raises(InputError):
        group_spread(usage, np.array([0, 1]))


def test_engagement_weights() -> None:
    ev = pa.table(
        {
            "viewer_id": ["u1", "u1", "u2"],
            "video_id": ["v0", "v1", "v0"],
            "liked": [True, None, False],
            "not_interested": [False, False, True],
        }
    )
    e = engagement(ev, videos=np.array(["v0", "v1"], object), weights=EngagementWeights())
    i = {u: k for k, u in enumerate(e.rows)}
    assert e.matrix[i["u1"], 0] == 3.0 and e.matrix[i["u1"], 1] == 1.0
    assert e.matrix[i["u2"], 0] == 0.0  # 1 - 2, floored at 0


def test_cocreation_graph_levels() -> None:
    links = pa.table({"child_video_id": ["v1", "v2", "vX"], "parent_video_id": ["v0", "v0", "v0"]})
    vg = cocreation_graph(links)
    assert vg.n_edges == 3
    cg = cocreation_graph(links, videos([["a"]] * 3), level="creator")
    assert cg.n_edges == 2  # vX is unknown; c0-c1, c0-c2
    with pytest.raises(InputError):
        cocreation_graph(links, level="creator")
