"""Listening report: known answers on the planted simulator, privacy, intervals, bad input."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from communitok.core.errors import InputError, NotFound
from communitok.engine import insights as ei
from communitok.insights import item_activity, rate_ratio_interval, wilson

from .conftest import detected_for


def _ci_holds(rows, value, lo, hi) -> bool:
    return all(r[lo] - 1e-12 <= r[value] <= r[hi] + 1e-12 for r in rows if r[value] is not None)


def test_wilson_and_rate_ratio_known_values() -> None:
    lo, hi = wilson(np.array([0, 5, 10]), np.array([10, 10, 10]))
    assert lo[0] == 0 and math.isclose(hi[2], 1.0)
    assert math.isclose(lo[1], 0.2366, abs_tol=1e-3) and math.isclose(hi[1], 0.7634, abs_tol=1e-3)
    r, a, b = rate_ratio_interval(np.array([99.5]), np.array([49.5]))
    assert math.isclose(r[0], 2.0) and a[0] < 2.0 < b[0]
    with pytest.raises(InputError):
        wilson(5, 3)
    with pytest.raises(InputError):
        wilson(1, 3, confidence=1.2)


def test_planted_community_report(listened, small) -> None:
    truth = small.truth.community("planttok")
    cid = detected_for(listened, truth)
    rep = ei.listen(listened, cid, k=50)
    d = rep.to_dict()
    assert d["status"] == "ok" and d["n_people"] >= 50
    top = [r["item"] for r in d["top_hashtags"][:6]]
    assert len(set(top) & set(truth.hashtags)) >= 4, top
    assert not {"fyp", "foryou", "viral"} & set(top)  # filler is not the community's voice
    assert _ci_holds(d["top_hashtags"], "share", "share_low", "share_high")
    # lingo: the planted words, with examples from comments moderation left visible
    terms = {r["term"] for r in d["lingo"]}
    assert len(terms & set(truth.lingo)) >= 3, terms
    hidden = set(listened.query(
        "SELECT c.text FROM comments c JOIN result_visibility v ON v.item_id = c.comment_id "
        "WHERE v.label <> 'visible'")["text"].to_pylist())  # fmt: skip
    for r in d["lingo"]:
        assert not set(r["example"].split(" | ")) & hidden
    # signature sounds come first by use and carry the profile's lift
    assert any(r["signature_lift"] for r in d["sounds"][:5])
    for s in rep.SECTIONS:
        assert all(r["n_people"] >= 50 for r in d[s]), s
        assert not {"viewer_id", "user_id", "creator_id"} & {c for r in d[s] for c in r}
    assert d["trends"] and all(r["stage"] for r in d["trends"])


def test_rising_hashtag_is_the_planted_burst(listened, small) -> None:
    burst = next(b for b in small.truth.bursts if b.item_kind == "hashtag")
    cid = detected_for(listened, small.truth.community(burst.community))
    rep = ei.listen(listened, cid, k=50, recent_days=2, end=burst.peak + timedelta(hours=12))
    rising = [r["item"] for r in rep.to_dict()["rising_hashtags"]]
    assert burst.item in rising[:3], rising
    row = next(r for r in rep.to_dict()["rising_hashtags"] if r["item"] == burst.item)
    assert row["growth_low"] > 1 and row["growth_low"] <= row["growth"] <= row["growth_high"]
    # a quiet stretch long before the burst: it is not rising then
    early = ei.listen(listened, cid, k=50, recent_days=2, end=burst.start - timedelta(days=1))
    assert burst.item not in [r["item"] for r in early.to_dict()["rising_hashtags"]]


def test_overlap_with_targets_and_bridges(listened, small) -> None:
    cid = detected_for(listened, small.truth.community("planttok"))
    others = [c for c in listened.read("communities")["community_id"].to_pylist() if c != cid]
    rep = ei.listen(listened, cid, targets=others[:3], k=50).to_dict()
    assert {r["b"] for r in rep["overlap"]} <= {str(c) for c in others[:3]}
    assert rep["overlap"] and _ci_holds(rep["overlap"], "lift", "lift_low", "lift_high")
    assert _ci_holds(rep["overlap"], "jaccard", "jaccard_low", "jaccard_high")
    assert all(r["shared"] >= 50 and r["name_b"] for r in rep["overlap"])
    lifts = [r["lift"] for r in rep["overlap"]]
    assert lifts == sorted(lifts, reverse=True)
    bridged = {str(r["community_b"] if r["community_a"] == cid else r["community_a"])
               for r in listened.read("bridges").to_pylist() if cid in
               (r["community_a"], r["community_b"])}  # fmt: skip
    assert {r["b"] for r in rep["bridges"]} <= bridged


def test_privacy_threshold(listened, small) -> None:
    cid = detected_for(listened, small.truth.community("planttok"))
    rep = ei.listen(listened, cid, k=10**6)
    d = rep.to_dict()
    assert d["status"] == "abstain" and d["n_people"] is None
    assert set(d["community"]) == {"community_id", "name"}  # nothing else about it
    assert all(d[s] == [] for s in rep.SECTIONS) and "fewer than k" in d["notes"][0]
    # between: small items and rare lingo are withheld, the rest rests on >= k people
    k = d_k = 300
    part = ei.listen(listened, cid, k=d_k).to_dict()
    assert part["status"] == "ok"
    assert part["sounds_suppressed"] > 0 and all(r["n_people"] >= k for r in part["sounds"])


def test_bad_input(listened, small) -> None:
    cid = detected_for(listened, small.truth.community("planttok"))
    with pytest.raises(NotFound):
        ei.listen(listened, 987654)
    with pytest.raises(NotFound):
        ei.listen(listened, cid, targets=[987654])
    with pytest.raises(InputError):
        ei.listen(listened, cid, recent_days=0)


def test_item_activity_growth_and_validation(small) -> None:
    import pyarrow as pa

    ts = pa.timestamp("us", "UTC")
    base = small.truth.window_end - timedelta(days=1)
    # 'new' used 20x in the recent week, 2x before; 'old' the other way round
    times = [base - timedelta(hours=i) for i in range(20)] + [
        base - timedelta(days=8, hours=i) for i in range(20)]  # fmt: skip
    items = ["new"] * 20 + ["old"] * 18 + ["new"] * 2
    vids = [f"v{i}" for i in range(40)]
    uses = pa.table({"kind": ["hashtag"] * 40, "item": items, "video_id": vids,
                     "creator_id": [f"c{i % 7}" for i in range(40)],
                     "created_at": pa.array(times, ts)})  # fmt: skip
    allv = pa.table({"video_id": vids, "created_at": pa.array(times, ts)})
    act = {r["item"]: r for r in item_activity(uses, community_videos=allv).to_pylist()}
    assert act["new"]["rising"] and not act["old"]["rising"]
    assert act["old"]["growth_high"] < 1 and act["new"]["videos"] == 22
    with pytest.raises(InputError):
        item_activity(uses.drop_columns(["creator_id"]), community_videos=allv)
    with pytest.raises(InputError):
        item_activity(uses, community_videos=allv.slice(0, 0))
    with pytest.raises(InputError):
        item_activity(uses, community_videos=allv, recent_days=-1)
