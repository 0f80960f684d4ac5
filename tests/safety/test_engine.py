"""Engine wiring over a real DuckDB store: classify, log, override, reports, queue, health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from communitok.core.errors import NotFound
from communitok.core.settings import Settings
from communitok.engine import safety as es
from communitok.safety import DECISION_SCHEMA, PartnerAggregate

T0 = datetime(2024, 3, 4, 10, tzinfo=UTC)  # a Monday
SPAM = "check out my channel and subscribe for free gift cards http://win.example"
INSULT = "shut up you stupid bitch"
CLEAN = ["love this recipe", "what a cozy room", "zorbly forever", "big zorbly energy"]


@pytest.fixture
def store(duck):
    duck.write(
        "videos",
        pa.table(
            {
                "video_id": ["v1", "v2"],
                "creator_id": ["a", "b"],
                "created_at": [T0, T0],
                "hashtags": [["booktok", "fyp"], ["cleantok"]],
                "view_count": [10_000, 100],
                "description": ["my #booktok haul #stitch", "cleaning day"],
            }
        ),
    )
    texts = [SPAM, INSULT, *CLEAN, *CLEAN]
    duck.write(
        "comments",
        pa.table(
            {
                "comment_id": [f"c{i}" for i in range(len(texts))],
                "video_id": ["v1"] * 6 + ["v2"] * 4,
                "user_id": [f"u{i}" for i in range(len(texts))],
                "text": texts,
                "created_at": [T0 + timedelta(days=i) for i in range(len(texts))],
            }
        ),
    )
    duck.put_result("community_lingo", pa.table({"term": ["zorbly", "big zorbly energy"]}))
    return duck


def test_classify_log_and_rerun(store) -> None:
    s = es.classify_stored(store, now=T0)
    assert s.classified == 10 and s.skipped == 0
    assert s.by_category == {"offensive": 1, "ok": 8, "spam": 1}
    log = es.decision_log(store)
    assert log.schema == DECISION_SCHEMA and log.num_rows == 10
    assert set(log["model_version"].to_pylist()) == {s.model_version}
    again = es.classify_stored(store, now=T0)
    assert again.classified == 0 and again.skipped == 10
    assert es.decision_log(store).num_rows == 10  # nothing re-decided
    redo = es.classify_stored(store, reclassify=True, now=T0 + timedelta(hours=1))
    assert redo.classified == 10 and es.decision_log(store).num_rows == 20  # append-only
    runs = store.runs(kind="safety-classify-comment")
    assert len(runs) == 3 and runs[0].status == "ok"
    vis = {r["item_id"]: r["label"] for r in es.visibility(store).to_pylist()}
    assert vis["c0"] == "hidden" and vis["c2"] == "visible"
    assert vis["c1"] in {"limited", "needs_review"}  # offensive: reduced reach or a person
    v = es.classify_stored(store, item_kind="video", now=T0)
    assert v.by_category == {"ok": 2}  # "#stitch" is platform lingo, not an insult


def test_override_reports_and_queue(store) -> None:
    es.classify_stored(store, now=T0)
    es.override(store, "comment", "c1", "needs_review", reviewer_id="r1", reason="check context")
    q = es.review_queue(store).to_pylist()
    assert [r["item_id"] for r in q] == ["c1"]
    n = es.add_reports(
        store,
        [
            {"item_kind": "comment", "item_id": "c6", "reporter_id": f"u{i}", "reason": "hate",
             "created_at": T0 + timedelta(days=9)}
            for i in (1, 2, 3, 3)
        ],
    )  # fmt: skip
    assert n == 3  # the repeat report by u3 is ignored
    assert es.add_reports(store, [{"item_kind": "comment", "item_id": "c6", "reporter_id": "u1",
                                   "reason": "hate", "created_at": T0}]) == 0  # fmt: skip
    vis = {r["item_id"]: r for r in es.visibility(store).to_pylist()}
    assert vis["c6"]["label"] == "needs_review"  # 3 reports escalate an unreviewed item
    q = es.review_queue(store).to_pylist()
    assert [r["item_id"] for r in q][:2] == ["c1", "c6"]  # v1 reach 10,001 > v2 reach 101
    row = es.override(store, "comment", "c6", "visible", reviewer_id="r2", reason="fine")
    assert row["label"] == "visible" and row["source"] == "reviewer"
    assert "c6" not in {r["item_id"] for r in es.review_queue(store).to_pylist()}
    assert es.decision_log(store).num_rows == 12


def test_health_from_hashtags_and_from_members(store) -> None:
    es.classify_stored(store, now=T0)
    rep = es.community_health_of(store, "booktok")
    s = rep.summary.to_pylist()[0]
    assert s["comments"] == 6 and s["share_spam"] == pytest.approx(1 / 6)
    assert s["share_offensive"] == pytest.approx(1 / 6) and s["views"] == 10_000
    with pytest.raises(NotFound):
        es.community_health_of(store, "nosuchtok")
    store.put_result(
        "community_members", pa.table({"creator_id": ["a", "b"], "community": ["k1", "k1"]})
    )
    s = es.community_health_of(store, "k1").summary.to_pylist()[0]
    assert s["comments"] == 10 and s["share_flagged"] == pytest.approx(0.2)


def test_partner_view_is_guarded(store) -> None:
    es.classify_stored(store, now=T0)
    agg = es.partner_community_safety(store)
    assert isinstance(agg, PartnerAggregate) and agg.table.num_rows == 0 and agg.k == 50
    small = es.partner_community_safety(store, settings=Settings(privacy_k=5))
    assert small.to_pylist()[0]["n_people"] >= 5


def test_videos_without_counts_use_events(duck) -> None:
    duck.write("videos", pa.table({"video_id": ["v"], "creator_id": ["a"], "created_at": [T0]}))
    duck.write("comments", pa.table({"comment_id": ["c"], "video_id": ["v"], "text": [SPAM]}))
    duck.write(
        "events",
        pa.table({"viewer_id": ["x", "y"], "video_id": ["v", "v"], "ts": [T0, T0 + timedelta(1)]}),
    )
    es.classify_stored(duck, now=T0)
    q = es.review_queue(duck).to_pylist()
    assert q == [] or q[0]["reach"] == 3.0
    vis = es.visibility(duck)
    assert pc.all(pc.is_valid(vis["label"])).as_py()
