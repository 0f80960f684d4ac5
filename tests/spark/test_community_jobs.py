"""Parity of the community-side Spark jobs with the single-node code on the tiny
simulator: per-community time series (the trends engine's SQL), the creator audience
projection (the item graph's audience layer) and viewer interests (InterestedIn)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

try:
    import pyspark  # noqa: F401
except ImportError as exc:  # only reason to skip: the optional extra is absent
    pytest.skip(
        f"pyspark is not importable ({exc}): pip install 'communitok[spark]' to run tests/spark",
        allow_module_level=True,
    )

from communitok.communities.items import CommunityConfig, item_graph
from communitok.core.errors import InputError
from communitok.engine import spark as sj
from communitok.graph import Graph, engagement, video_items

pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning"
)

#: float sums run in another order on Spark; weights agree to this (absolute)
TOL = 1e-12


def rows(t) -> list[tuple]:
    return sorted(zip(*(t.column(c).to_pylist() for c in t.column_names), strict=True))


@pytest.mark.parametrize("grain", ["day", "hour"])
def test_community_time_series_equals_trend_sql(
    spark, sim: Path, members: Path, tmp_path: Path, grain: str
) -> None:
    v, e = sim / "videos.parquet", sim / "events.parquet"
    out = sj.community_time_series(spark, v, e, members, grain, tmp_path / "cs")
    got = sj.read_output(out, "series")
    ref = sj.community_time_series_single(v, e, members, grain)
    assert got.num_rows == ref.num_rows > 1000
    assert rows(got.select(ref.column_names)) == rows(ref)
    # known answer: the community rows count every (video, community) membership once
    m = pq.read_table(members)
    m = m.filter(pc.equal(m.column("member_kind"), "video"))
    pairs = {
        (a, b)
        for a, b in zip(m["video_id"].to_pylist(), m["community_id"].to_pylist(), strict=True)
    }
    whole = got.filter(pc.equal(got.column("kind"), "community"))
    assert pc.sum(whole.column("videos")).as_py() == len(pairs)
    assert set(whole.column("scope").to_pylist()) == {"all"}
    assert {"hashtag", "sound", "effect"} <= set(got.column("kind").to_pylist())
    assert pc.sum(got.column("engagement")).as_py() > 0


def test_community_time_series_min_total_and_errors(
    spark, sim: Path, members: Path, tmp_path: Path
) -> None:
    v, e = sim / "videos.parquet", sim / "events.parquet"
    out = sj.community_time_series(spark, v, e, members, "day", tmp_path / "cs5", min_total=5.0)
    got = sj.read_output(out, "series")
    ref = sj.community_time_series_single(v, e, members, "day", min_total=5.0)
    assert rows(got.select(ref.column_names)) == rows(ref)
    with pytest.raises(InputError, match="grain"):
        sj.community_time_series(spark, v, e, members, "week", tmp_path / "x")
    with pytest.raises(InputError, match="does not exist"):
        sj.community_time_series(spark, v, e, tmp_path / "none.parquet", "day", tmp_path / "x")


def _edges(g: Graph) -> dict[frozenset[str], float]:
    i, j, w = g.edges()
    return {
        frozenset((str(g.nodes[a]), str(g.nodes[b]))): x for a, b, x in zip(i, j, w, strict=True)
    }


def _kth(full: dict[frozenset[str], float], k: int) -> dict[str, float]:
    """Each node's k-th largest similarity (the top-k cut)."""
    per: dict[str, list[float]] = {}
    for pair, w in full.items():
        for n in pair:
            per.setdefault(n, []).append(w)
    return {n: sorted(ws, reverse=True)[k - 1] if len(ws) >= k else -1.0 for n, ws in per.items()}


@pytest.fixture(scope="module")
def audience_full(spark, sim: Path, tmp_path_factory) -> dict[frozenset[str], float]:
    out = tmp_path_factory.mktemp("aud") / "full"
    sj.creator_audience_projection(
        spark, sim / "videos.parquet", sim / "events.parquet", out, top_k=None
    )
    return _edges(sj.audience_graph(sj.read_output(out, "edges")))


def test_audience_projection_all_pairs_equal_tfidf_cosine(audience_full, sim: Path) -> None:
    videos, events = pq.read_table(sim / "videos.parquet"), pq.read_table(sim / "events.parquet")
    ref = _edges(sj.creator_audience_single(videos, events, top_k=None))
    assert audience_full.keys() == ref.keys() and len(ref) > 1000
    assert max(abs(audience_full[k] - ref[k]) for k in ref) <= TOL


def test_audience_projection_top_k_equals_item_graph_audience_layer(
    spark, sim: Path, tmp_path: Path, audience_full
) -> None:
    videos, events = pq.read_table(sim / "videos.parquet"), pq.read_table(sim / "events.parquet")
    k = 10
    out = sj.creator_audience_projection(
        spark, sim / "videos.parquet", sim / "events.parquet", tmp_path / "top", top_k=k
    )
    got = sj.audience_graph(sj.read_output(out, "edges"))
    # the single-node definition: communities.items.item_graph with only the audience layer
    inc = video_items(videos, ("creator",))
    kept = inc.select_cols(inc.col_frequency() >= 2)
    assert sj.manifest(out)["n_creators"] == kept.shape[1]  # the idf's n
    cfg = CommunityConfig(kinds=("creator",), content_weight=0.0, cocreation_weight=0.0,
                          audience_top_k=k)  # fmt: skip
    ref = _edges(item_graph(kept, cfg, viewers=engagement(events, videos=inc.rows)))
    mine = _edges(got)
    common = mine.keys() & ref.keys()
    assert len(common) > 200 and max(abs(mine[p] - ref[p]) for p in common) <= TOL
    cut = _kth(audience_full, k)
    for pair in mine.keys() ^ ref.keys():  # only ties at the top-k cut may differ
        w = audience_full[pair]
        assert any(abs(w - cut[n]) <= 1e-9 for n in pair), (pair, w)
    assert len(mine.keys() ^ ref.keys()) <= 0.01 * len(ref)
    assert all(g == "creator" for g in got.kinds)


def test_viewer_interests_equal_community_pipeline(
    spark, sim: Path, members: Path, tmp_path: Path
) -> None:
    out = sj.viewer_interests(spark, sim / "events.parquet", members, tmp_path / "vi")
    got = sj.read_output(out, "members")
    m = pq.read_table(members)
    ref = m.filter(pc.equal(m.column("member_kind"), "viewer"))
    g = {(r["viewer_id"], r["community_id"]): r for r in got.to_pylist()}
    r = {(x["member_id"], x["community_id"]): x for x in ref.to_pylist()}
    assert g.keys() == r.keys() and len(r) > 300
    assert max(abs(g[key]["weight"] - r[key]["weight"]) for key in r) <= TOL
    for key in r:
        if g[key]["is_primary"] != r[key]["is_primary"]:  # only on a tied maximum
            top = max(x["weight"] for kk, x in r.items() if kk[0] == key[0])
            assert abs(r[key]["weight"] - top) <= 1e-9
    twin = sj.viewer_interests_single(pq.read_table(sim / "events.parquet"), m)
    assert twin.num_rows == ref.num_rows
    sums = got.group_by("viewer_id").aggregate([("weight", "sum")]).column("weight_sum")
    assert np.allclose(sums.to_numpy(), 1.0)
    with pytest.raises(InputError, match="min_weight"):
        sj.viewer_interests(spark, sim / "events.parquet", members, tmp_path / "x", min_weight=1.5)
