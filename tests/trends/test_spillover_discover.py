"""Spill-over and the Discover ranking on hand-built burst tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from communitok.core.errors import InputError
from communitok.trends import detect_spillover, discover, score_spillover

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")


def ts(hours: list[float]) -> pa.Array:
    return pa.array([T0 + timedelta(hours=h) for h in hours], TS)


def bursts(rows: list[tuple[str, str, str, float, float, float]]) -> pa.Table:
    """(kind, item, scope, start h, end h, weight)"""
    return pa.table({
        "kind": [r[0] for r in rows], "item": [r[1] for r in rows], "scope": [r[2] for r in rows],
        "start": ts([r[3] for r in rows]), "peak": ts([(r[3] + r[4]) / 2 for r in rows]),
        "end": ts([r[4] for r in rows]), "weight": [r[5] for r in rows],
    })  # fmt: skip


def test_spillover_origin_target_carriers_bridges() -> None:
    b = bursts([("hashtag", "dance", "A", 10, 50, 80.0), ("hashtag", "dance", "B", 40, 70, 30.0),
                ("hashtag", "dance", "all", 10, 70, 99.0), ("hashtag", "solo", "A", 0, 20, 9.0),
                ("hashtag", "fyp", "A", 0, 9, 5.0), ("hashtag", "fyp", "B", 5, 9, 5.0)])  # fmt: skip
    uses = pa.table({
        "kind": ["hashtag"] * 5, "item": ["dance"] * 5,
        "community_id": ["A", "A", "B", "B", "B"], "video_id": list("vwxyz"),
        "creator_id": ["amy", "bob", "bob", "cat", "dan"], "created_at": ts([10, 12, 41, 42, 43]),
        "hashtags": [["dance", "bridge", "fyp"], ["dance"], ["dance", "bridge", "fyp"], ["dance", "bridge"], ["dance"]],
    })  # fmt: skip
    home = pa.table(
        {"creator_id": ["amy", "bob", "cat", "dan"], "community_id": ["A", "A", "B", "B"]}
    )
    s = detect_spillover(b, uses, home, stop_tags=["fyp"])
    assert s.num_rows == 1  # fyp is a stop tag; solo bursts in one community only
    row = s.to_pylist()[0]
    assert (row["origin"], row["target"], row["lag_hours"]) == ("A", "B", 30.0)
    assert row["carriers"] == ["bob"] and row["carrier_found"] is True
    assert row["bridge_hashtags"] == ["bridge"]
    assert score_spillover(s, [("dance", "A", "B")]) == (1.0, 1.0, 1, 1)
    # without uses only which/when; an old item in the target is not a spill-over
    assert detect_spillover(b).num_rows == 2
    old = pa.concat_tables([uses, pa.table({
        "kind": ["hashtag"] * 3, "item": ["dance"] * 3, "community_id": ["B"] * 3, "video_id": list("abc"),
        "creator_id": ["eve"] * 3, "created_at": ts([0, 1, 2]), "hashtags": [["dance"]] * 3})])  # fmt: skip
    assert detect_spillover(b, old, home, stop_tags=["fyp"]).num_rows == 0


def test_spillover_bad_input() -> None:
    with pytest.raises(InputError):
        detect_spillover(pa.table({"kind": ["x"]}))
    assert detect_spillover(bursts([])).num_rows == 0


def test_discover_freshness_decay_and_ranks() -> None:
    b = bursts([("hashtag", "old", "all", 0, 10, 100.0), ("hashtag", "new", "all", 90, 100, 60.0),
                ("sound", "s1", "all", 95, 100, 10.0), ("hashtag", "new", "all", 20, 30, 500.0),
                ("hashtag", "local", "k1", 50, 100, 5.0)])  # fmt: skip
    d = discover(b, half_life_hours=24)
    glob = d.filter(pa.compute.equal(d.column("scope"), "all")).to_pylist()
    assert [r["item"] for r in glob] == ["new", "s1", "old"]  # old (100 × 2^-3.75) < s1 (10)
    assert glob[0]["weight"] == 60.0  # the latest burst of "new", not its older bigger one
    assert [r["rank_in_kind"] for r in glob] == [1, 1, 2]
    assert d.filter(pa.compute.equal(d.column("scope"), "k1")).num_rows == 1
    assert discover(b, top_k=1, half_life_hours=24).num_rows == 3
    assert discover(bursts([])).num_rows == 0
    with pytest.raises(InputError):
        discover(b, half_life_hours=0)
