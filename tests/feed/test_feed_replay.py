"""Simulated viewers respond to served feeds (planted interests): no repeats, and the
personalised feed earns more watch time than popularity."""

from __future__ import annotations

from communitok.evaluation import planted_interest_response, replay
from communitok.feed import FeedConfig, FeedPipeline, StageSpec


def test_replay_pipeline_vs_popularity(planted_data) -> None:
    cat, inter = planted_data
    comm = {
        str(v): str(cat.community_ids[cat.communities[i].indices[0]])
        for i, v in enumerate(cat.video_ids)
    }
    interest = {f"u{u}": ("booktok" if u < 20 else "guitartok") for u in range(40)}
    respond = planted_interest_response(interest, comm)
    viewers = [f"u{u}" for u in range(0, 40, 4)]
    results = {}
    for name, cfg in {
        "popular": FeedConfig(sources=(StageSpec("popular", {}, n=40),)),
        "feed": FeedConfig(
            sources=(
                StageSpec("ease", {"l2": 5.0}, n=30),
                StageSpec("content", {}, n=10),
                StageSpec("community", {}, n=10),
                StageSpec("popular", {}, n=10),
            )
        ),
    }.items():
        p = FeedPipeline(cfg).fit(cat, inter)
        results[name] = replay(
            lambda v, k, p=p: p.recommend(v, k).video_ids,
            respond,
            viewers,
            steps=3,
            k=5,
            observe=p.observe,
            video_community=comm,
            seed=0,
        )
    assert results["feed"].repeats == 0 and results["popular"].repeats == 0
    assert results["feed"].empty_feeds == 0
    assert results["feed"].watch_time_per_session > 1.2 * results["popular"].watch_time_per_session
