"""The whole feed on planted data: relevance, cold start, rules, sessions, bad input."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from communitok.core.errors import InputError
from communitok.feed import (
    MAX_K,
    Catalogue,
    FeedConfig,
    FeedPipeline,
    Interactions,
    StageSpec,
    VisibilityFilter,
)

FAST = FeedConfig(
    sources=(
        StageSpec("ease", {"l2": 5.0, "side_weight": 2.0}, n=20),
        StageSpec("mf", {"factors": 4, "iterations": 10}, n=20),
        StageSpec("content", {}, n=10),
        StageSpec("content", {"new_only": True, "prior_weight": 0.5}, n=5, label="new_videos"),
        StageSpec("popular", {}, n=10),
        StageSpec("trending", {}, n=10),
        StageSpec("community", {}, n=10),
        StageSpec("following", {}, n=5),
        StageSpec("explore", {}, n=5),
    ),
    rerank={"diversity": 0.1, "creator_cap": 2, "explore_share": 0.1, "community_quota": 1.0},
)


@pytest.fixture()
def feed(planted_data) -> FeedPipeline:
    cat, inter = planted_data
    return FeedPipeline(FAST).fit(cat, inter)


def community_of(cat: Catalogue, video_id: str) -> str:
    i = cat.index[video_id]
    return str(cat.community_ids[cat.communities[i].indices[0]])


def test_known_viewers_get_their_community(feed: FeedPipeline, planted_data) -> None:
    cat, _ = planted_data
    for viewer, want in (("u3", "booktok"), ("u30", "guitartok")):
        f = feed.recommend(viewer, k=8, mark_served=False)
        assert len(f.items) == 8 and not f.cold_start
        main = [community_of(cat, i.video_id) for i in f.items if not i.exploration]
        assert np.mean([c == want for c in main]) >= 0.8
        assert all(i.reason.text for i in f.items)


def test_no_seen_videos_and_creator_cap(feed: FeedPipeline, planted, planted_data) -> None:
    cat, _ = planted_data
    ev = planted["events"]
    seen = {
        v
        for u, v in zip(
            ev.column("viewer_id").to_pylist(), ev.column("video_id").to_pylist(), strict=True
        )
        if u == "u3"
    }
    f = feed.recommend("u3", k=10, mark_served=False)
    assert not set(f.video_ids) & seen
    creators = [
        cat.creator[cat.index[v]] for v in f.video_ids[: (f.n_fallback and -f.n_fallback) or None]
    ]
    assert max(np.bincount(creators)) <= 2


def test_cold_start_unknown_viewer_and_onboarding(feed: FeedPipeline, planted_data) -> None:
    cat, _ = planted_data
    f = feed.recommend("stranger", k=5, mark_served=False)
    assert f.cold_start and len(f.items) == 5
    onboarded = feed.recommend("newbie", k=6, interests=["guitartok"], mark_served=False)
    comms = [community_of(cat, v) for v in onboarded.video_ids]
    assert np.mean([c == "guitartok" for c in comms]) >= 0.65
    assert any("guitartok" in i.reason.text for i in onboarded.items)


def test_session_event_changes_next_request(feed: FeedPipeline) -> None:
    first = feed.recommend("stranger2", k=5)
    # served videos are not repeated
    second = feed.recommend("stranger2", k=5)
    assert not set(first.video_ids) & set(second.video_ids)
    # a liked guitartok video pulls the next feed towards guitartok
    assert feed.observe(
        {"viewer_id": "stranger2", "video_id": "v25", "watch_time_s": 30.0, "liked": True}
    )
    state = feed.sessions.get("stranger2")
    assert state is not None and 25 in state.positives
    third = feed.recommend("stranger2", k=5)
    assert any(i.reason.video_id == "v25" for i in third.items)
    # unknown video: not applied, reported
    assert feed.observe({"viewer_id": "stranger2", "video_id": "nope"}) is False
    with pytest.raises(InputError):
        feed.observe({"video_id": "v1"})


def test_not_interested_suppresses_creator_and_sound(feed: FeedPipeline, planted_data) -> None:
    cat, _ = planted_data
    before = feed.recommend("u4", k=10, mark_served=False)
    target = before.video_ids[0]
    feed.observe({"viewer_id": "u4", "video_id": target, "not_interested": True})
    after = feed.recommend("u4", k=10, mark_served=False)
    t = cat.index[target]
    for v in after.video_ids:
        i = cat.index[v]
        assert cat.creator[i] != cat.creator[t] and cat.sound[i] != cat.sound[t]


def test_visibility_hidden_never_served_limited_down_weighted(feed: FeedPipeline) -> None:
    base = feed.recommend("u5", k=6, mark_served=False)
    top = base.video_ids[0]
    hidden = VisibilityFilter({top: "hidden", base.video_ids[1]: "needs_review"})
    f = feed.recommend("u5", k=6, visibility=hidden, mark_served=False)
    assert top not in f.video_ids and base.video_ids[1] not in f.video_ids
    limited = VisibilityFilter({top: "limited"}, limited_factor=0.0)
    g = feed.recommend("u5", k=6, visibility=limited, mark_served=False)
    assert g.video_ids[0] != top
    # everything hidden: nothing servable, empty feed
    all_hidden = VisibilityFilter(lambda ids: ["hidden"] * len(ids))
    assert feed.recommend("u5", k=6, visibility=all_hidden, mark_served=False).items == ()
    with pytest.raises(InputError):
        VisibilityFilter({"v1": "shadowbanned"})


def test_everything_filtered_falls_back(feed: FeedPipeline, planted_data) -> None:
    cat, _ = planted_data
    # the viewer has seen all but three videos: the feed still fills what it can
    for v in cat.video_ids[:-3]:
        feed.observe({"viewer_id": "binger", "video_id": v, "skipped": True})
    f = feed.recommend("binger", k=10, mark_served=False)
    assert set(f.video_ids) == set(cat.video_ids[-3:].tolist())
    for v in cat.video_ids[-3:]:
        feed.observe({"viewer_id": "binger", "video_id": v, "skipped": True})
    again = feed.recommend("binger", k=5, mark_served=False)
    assert len(again.items) == 5 and again.n_fallback == 5  # re-serves seen videos


def test_k_validation_and_huge_k(feed: FeedPipeline, planted_data) -> None:
    cat, _ = planted_data
    for bad in (0, -3, 2.5, True):
        with pytest.raises(InputError) as e:
            feed.recommend("u1", k=bad)
        assert e.value.field == "k"
    with pytest.raises(InputError):
        feed.recommend("u1", k=MAX_K + 1)
    big = feed.recommend("u1", k=500, mark_served=False)
    assert len(big.items) == len(set(big.video_ids)) <= cat.n_videos
    with pytest.raises(InputError):
        feed.recommend("", k=5)


def test_empty_catalogue_gives_empty_feed() -> None:
    cat = Catalogue.from_size(0)
    inter = Interactions.from_matrix(np.zeros((2, 0)))
    f = FeedPipeline(FeedConfig(sources=(StageSpec("popular"),))).fit(cat, inter)
    assert f.recommend("anyone", k=5).items == ()


def test_same_seed_same_feed(planted_data) -> None:
    cat, inter = planted_data
    a = FeedPipeline(FAST).fit(cat, inter).recommend("u7", k=8, mark_served=False)
    b = FeedPipeline(FAST).fit(cat, inter).recommend("u7", k=8, mark_served=False)
    assert a.video_ids == b.video_ids


def test_config_from_dict_and_errors(planted_data) -> None:
    cfg = FeedConfig.from_dict(
        {
            "sources": [{"kind": "popular", "n": 5}, {"kind": "ease", "params": {"l2": 3.0}}],
            "seed": 3,
        }
    )
    assert [s.name for s in cfg.sources] == ["popular", "ease"]
    assert FeedConfig.from_dict(cfg.to_dict()).to_dict() == cfg.to_dict()
    with pytest.raises(InputError):
        FeedConfig.from_dict({"sources": [{"kind": "nope"}]}) and FeedPipeline(
            {"sources": [{"kind": "nope"}]}
        )
    with pytest.raises(InputError):
        FeedPipeline({"sources": [{"kind": "popular"}, {"kind": "popular"}]})
    with pytest.raises(InputError):
        FeedPipeline({"sources": [{"kind": "ease", "params": {"l2": -1}}]})
    with pytest.raises(InputError):
        FeedPipeline({"bogus": 1})


def test_learned_scorer_and_rank_batch(planted_data) -> None:
    cat, inter = planted_data
    cfg = FeedConfig(
        sources=FAST.sources,
        scorer=StageSpec("learned", {"max_iter": 20, "min_samples_leaf": 5, "negative_rate": 1.0}),
    )
    p = FeedPipeline(cfg).fit(cat, inter)
    # held-out engagement: each viewer likes two more videos of their community
    import scipy.sparse as sp

    rows, cols = [], []
    for u in range(inter.n_viewers):
        vid = int(inter.viewer_ids[u][1:])
        pool = np.arange(0, 18) if vid < 20 else np.arange(20, 38)
        unseen = [j for j in pool if inter.seen[u, j] == 0][:2]
        rows += [u] * len(unseen)
        cols += unseen
    T = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=inter.matrix.shape)
    p.fit_scorer(T)
    top = p.rank_batch(np.arange(inter.n_viewers), 5)
    assert top.shape == (inter.n_viewers, 5) and np.all(top >= 0)
    for u in range(inter.n_viewers):
        assert not set(top[u]) & set(inter.seen[u].indices)
    with pytest.raises(InputError):
        p.fit_scorer(T[:3])


def test_events_with_unknown_videos_are_counted(planted, planted_data) -> None:
    cat, _ = planted_data
    ev = planted["events"]
    extra = pa.table({"viewer_id": ["u1"], "video_id": ["ghost"]})
    both = pa.concat_tables([ev.select(["viewer_id", "video_id"]), extra])
    inter = Interactions.from_events(both, cat)
    assert inter.dropped_events == 1 and inter.seen.nnz == ev.num_rows


def test_targets_from_events_for_the_scorer(feed: FeedPipeline) -> None:
    later = pa.table(
        {
            "viewer_id": ["u1", "u1", "u2", "ghost"],
            "video_id": ["v30", "v31", "v5", "v1"],
            "watch_time_s": [30.0, 1.0, 20.0, 5.0],
            "liked": [True, False, False, False],
            "skipped": [False, True, False, False],
            "not_interested": [False, True, False, False],
        }
    )
    T = feed.targets_from_events(later)
    it, cat = feed.ctx_.interactions, feed.ctx_.catalogue
    u1, u2 = it.index["u1"], it.index["u2"]
    assert T.nnz == 3
    assert T[u1, cat.index["v30"]] > T[u2, cat.index["v5"]] > 0 > T[u1, cat.index["v31"]]
