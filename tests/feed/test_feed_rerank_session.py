"""Re-ranker rules, session store, explanations and experiments."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from communitok.core.errors import InputError
from communitok.feed import (
    Experiment,
    InMemorySessionStore,
    ReRanker,
    SessionState,
    SessionUpdater,
    Suppression,
    exposure_table,
    variant_metrics,
)


@pytest.fixture(scope="module")
def reranker(planted_ctx) -> ReRanker:
    return ReRanker(
        diversity=0.0, creator_cap=1, sound_cap=0, community_quota=1.0, explore_share=0.0
    ).fit(planted_ctx)


def test_creator_cap_then_relaxed(planted_ctx) -> None:
    rr = ReRanker(
        diversity=0.0, creator_cap=1, sound_cap=0, community_quota=1.0, explore_share=0.0
    ).fit(planted_ctx)
    items = np.arange(8)  # creators c0, c0, c0, c0, c1, c1, c1, c1
    scores = np.linspace(1.0, 0.3, 8)
    pos, _ = rr.select(items, scores, 2)
    assert list(items[pos]) == [0, 4]  # one per creator
    pos, _ = rr.select(items, scores, 4)  # caps relaxed to fill the feed
    assert list(items[pos[:2]]) == [0, 4] and len(pos) == 4


def test_community_quota(planted_ctx) -> None:
    rr = ReRanker(
        diversity=0.0, creator_cap=0, sound_cap=0, community_quota=0.5, explore_share=0.0
    ).fit(planted_ctx)
    items = np.r_[np.arange(10), np.arange(20, 25)]  # ten booktok, five guitartok
    scores = np.r_[np.linspace(1, 0.5, 10), np.linspace(0.4, 0.1, 5)]
    pos, _ = rr.select(items, scores, 6)
    picked = items[pos]
    assert np.sum(picked < 20) == 3 and np.sum(picked >= 20) == 3


def test_mmr_diversity_prefers_dissimilar(planted_ctx) -> None:
    rr = ReRanker(
        diversity=0.7, creator_cap=0, sound_cap=0, community_quota=1.0, explore_share=0.0
    ).fit(planted_ctx)
    items = np.array([0, 1, 2, 25])
    scores = np.array([1.0, 0.95, 0.9, 0.6])
    pos, _ = rr.select(items, scores, 2)
    assert list(items[pos]) == [0, 25]
    plain = ReRanker(
        diversity=0.0, creator_cap=0, sound_cap=0, community_quota=1.0, explore_share=0.0
    ).fit(planted_ctx)
    pos, _ = plain.select(items, scores, 2)
    assert list(items[pos]) == [0, 1]


def test_exploration_budget_slots(planted_ctx) -> None:
    rr = ReRanker(
        diversity=0.0, creator_cap=0, sound_cap=0, community_quota=1.0, explore_share=0.2
    ).fit(planted_ctx)
    items = np.arange(12)
    scores = np.linspace(1, 0, 12)
    explore = np.zeros(12, bool)
    explore[[10, 11]] = True
    pos, flags = rr.select(items, scores, 10, explore=explore)
    assert flags.sum() == 2 and set(items[pos][flags]) == {10, 11}
    assert list(np.flatnonzero(flags)) == [4, 9]  # spread over the feed


def test_suppression_and_visibility(reranker: ReRanker) -> None:
    items = np.arange(10)
    sup = Suppression(creators={0}, sounds={4})  # creator c0 = videos 0..3; sound s4 = 8, 9
    ok = reranker.allowed(items, sup, np.array([0, 0, 0, 0, 0, 1, 2, 3, 0, 0], np.int8))
    assert list(items[ok]) == [4, 5]


def test_session_store_lru_and_updater(planted_ctx) -> None:
    store = InMemorySessionStore(max_viewers=2)
    for v in ("a", "b", "c"):
        store.put(SessionState(v))
    assert len(store) == 2 and store.get("a") is None and store.get("c") is not None
    with pytest.raises(InputError):
        InMemorySessionStore(max_viewers=0)
    up = SessionUpdater(planted_ctx.catalogue, planted_ctx.content.vectors_)
    st = SessionState("x")
    assert up.apply(st, {"video_id": "v3", "watch_time_s": 30.0, "liked": True, "followed": True})
    assert 3 in st.seen and 3 in st.positives and st.interest is not None
    assert st.followed == {int(planted_ctx.catalogue.creator[3])}
    assert up.apply(st, {"video_id": "v5", "not_interested": True})
    assert 5 in st.suppression.videos and st.suppression.creators
    # '#fyp' is on every video: never suppressed; the rare tags are
    names = planted_ctx.catalogue.hashtag_names.tolist()
    assert names.index("fyp") not in st.suppression.hashtags
    assert up.apply(st, {"video_id": "unknown"}) is False
    assert st.n_events == 2 and st.nbytes() > 0


def test_experiment_bucketing_is_deterministic_and_balanced() -> None:
    exp = Experiment("feed-v2", (("control", 0.5), ("treatment", 0.5)), salt="s1")
    viewers = [f"u{i}" for i in range(4000)]
    a = [exp.assign(v) for v in viewers]
    assert a == [exp.assign(v) for v in viewers]
    share = a.count("treatment") / len(a)
    assert 0.46 < share < 0.54
    other = Experiment("feed-v2", exp.variants, salt="s2")
    assert [other.assign(v) for v in viewers] != a
    skewed = Experiment("x", (("control", 0.9), ("t", 0.1)))
    assert 0.07 < [skewed.assign(v) for v in viewers].count("t") / 4000 < 0.13
    for bad in ((), (("a", 1.0), ("a", 1.0)), (("a", -1.0),)):
        with pytest.raises(InputError):
            Experiment("x", bad)


def test_exposures_and_variant_metrics_known_answer() -> None:
    ex = pa.concat_tables(
        [
            exposure_table("e", "control", "u1", ["v1", "v2"]),
            exposure_table("e", "treatment", "u2", ["v1", "v3"], sources=["ease", "explore"]),
        ]
    )
    assert ex.schema.field("rank").type == pa.int32() and ex.column("rank").to_pylist() == [
        1,
        2,
        1,
        2,
    ]
    events = pa.table(
        {
            "viewer_id": ["u1", "u2", "u2"],
            "video_id": ["v1", "v1", "v3"],
            "watch_time_s": [10.0, 20.0, 40.0],
            "liked": [False, True, True],
        }
    )
    m = variant_metrics(ex, events)
    rows = {
        (v, k): (mean, d)
        for v, k, mean, d in zip(
            *(m.column(c).to_pylist() for c in ("variant", "metric", "mean", "diff_vs_control")),
            strict=True,
        )
    }
    assert rows[("control", "watch_time_s")][0] == pytest.approx(5.0)  # (10 + 0) / 2
    assert rows[("treatment", "watch_time_s")] == (pytest.approx(30.0), pytest.approx(25.0))
    assert rows[("treatment", "liked")][0] == pytest.approx(1.0)
    with pytest.raises(InputError):
        variant_metrics(ex.drop_columns(["variant"]), events)


def test_recent_items_keep_the_latest_within_a_cap() -> None:
    from communitok.feed.session import RecentItems

    seen = RecentItems(cap=4)
    seen.update([1, 2, 3])
    seen.add(2)  # seen again: now the most recent
    seen.update([5, 6])
    assert list(seen) == [3, 2, 5, 6] and len(seen) == 4
    assert 2 in seen and 1 not in seen and seen.array().dtype == np.int32
    assert seen | {9} == {2, 3, 5, 6, 9}
    with pytest.raises(InputError):
        RecentItems(cap=0)
