"""Community profiles carry the moderation-derived safety health (1 − flagged share)."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from communitok.engine import communities as ec
from communitok.engine import open_engine
from communitok.engine import safety as es
from communitok.engine.simulation import ingest_simulation
from communitok.simulate import SimConfig


@pytest.fixture(scope="module")
def engine():
    eng = open_engine(store=":memory:")
    ingest_simulation(eng, SimConfig.preset("tiny", seed=3))
    ec.detect_communities(eng.store, window_days=None)
    yield eng
    eng.close()


def _health(store) -> dict[int, float | None]:
    p = store.read("community_profiles")
    return dict(zip(p["community_id"].to_pylist(), p["safety_health"].to_pylist(), strict=True))


def test_profiles_get_health_from_moderation_and_keep_it_on_redetection(engine) -> None:
    store = engine.store
    assert all(v is None for v in _health(store).values())  # never moderated yet
    es.classify_stored(store)
    got = _health(store)
    summary = es.community_health(store).summary
    want = {
        int(c): 1.0 - s
        for c, s in zip(
            summary["community"].to_pylist(), summary["share_flagged"].to_pylist(), strict=True
        )
    }
    assert want and set(want) <= set(got)
    for c, v in want.items():
        assert got[c] == pytest.approx(v)
    assert any(v < 1.0 for v in want.values())  # the simulator plants toxic comments
    ec.detect_communities(store, window_days=None)  # a new detection keeps the figures
    again = _health(store)
    for c, v in want.items():
        assert again[c] == pytest.approx(v)


def test_hiding_a_communitys_comments_drives_its_health_to_zero(engine) -> None:
    store = engine.store
    es.classify_stored(store)
    members = es.community_membership(store)
    col = "community" if "community" in members.column_names else "community_id"
    cid = members[col][0].as_py()
    vids = members.filter(pc.equal(members[col], cid))["video_id"]
    comments = store.read("comments", ["comment_id", "video_id"])
    mine = comments.filter(pc.is_in(comments["video_id"], value_set=vids))
    assert mine.num_rows
    for comment_id in mine["comment_id"].to_pylist():
        es.override(
            store, "comment", comment_id, "hidden", reviewer_id="r1", reason="t", category="spam"
        )
    assert es.refresh_profile_health(store) > 0
    assert _health(store)[int(cid)] == pytest.approx(0.0)
