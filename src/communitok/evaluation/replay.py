"""Replay harness: simulated viewers respond to served feeds, step after step.

The harness is agnostic of the recommender and of the simulator: it takes a
``recommend(viewer_id, k) -> list[video_id]`` callable, a ``respond(viewer_id,
video_ids, step, rng) -> list[event mapping]`` callable (one event per video, with the
``events`` table fields: watch_time_s, liked, skipped, ...) and an optional
``observe(event)`` callable that feeds events back (the feed's session update). It
reports, per policy: watch time per session, distinct communities per 50 items, share of
new creators' videos, and repeats (a video served twice to the same viewer).
:func:`planted_interest_response` is a small planted-truth responder for tests until
the platform simulator is plugged in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import InputError
from ..core.seeds import rng

Recommend = Callable[[str, int], Sequence[str]]
Respond = Callable[[str, Sequence[str], int, np.random.Generator], Sequence[Mapping[str, Any]]]


@dataclass(frozen=True)
class ReplayResult:
    """Summary of a replay (means over viewers)."""

    n_viewers: int
    n_served: int
    watch_time_per_session: float
    like_rate: float
    skip_rate: float
    distinct_communities_per_50: float
    new_creator_share: float
    repeats: int
    empty_feeds: int


def replay(
    recommend: Recommend,
    respond: Respond,
    viewers: Sequence[str],
    *,
    steps: int = 5,
    k: int = 10,
    observe: Callable[[Mapping[str, Any]], object] | None = None,
    video_community: Mapping[str, str] | None = None,
    new_creator_videos: set[str] | None = None,
    seed: int = 0,
) -> ReplayResult:
    """Serve ``steps`` feeds of ``k`` videos to every viewer, collect the responses."""
    for name, v in (("steps", steps), ("k", k)):
        if not isinstance(v, int) or v < 1:
            raise InputError(f"must be an integer >= 1, got {v!r}", field=name)
    g = rng(seed)
    watch, likes, skips, comms, newc = [], 0, 0, [], 0
    served_total, repeats, empty = 0, 0, 0
    for viewer in viewers:
        seen: set[str] = set()
        order: list[str] = []
        wt = 0.0
        for step in range(steps):
            feed = list(recommend(viewer, k))
            if not feed:
                empty += 1
                continue
            repeats += sum(1 for v in feed if v in seen) + (len(feed) - len(set(feed)))
            seen.update(feed)
            order += feed
            events = list(respond(viewer, feed, step, g))
            if len(events) != len(feed):
                raise InputError(
                    f"returned {len(events)} events for {len(feed)} videos", field="respond"
                )
            for ev in events:
                wt += float(ev.get("watch_time_s") or 0.0)
                likes += bool(ev.get("liked"))
                skips += bool(ev.get("skipped"))
                if observe is not None:
                    observe(ev)
        watch.append(wt)
        served_total += len(order)
        if video_community is not None and order:
            first = order[:50]
            labels = {video_community[v] for v in first if v in video_community}
            comms.append(len(labels))
        if new_creator_videos is not None:
            newc += sum(1 for v in order if v in new_creator_videos)
    n = max(served_total, 1)
    return ReplayResult(
        n_viewers=len(viewers),
        n_served=served_total,
        watch_time_per_session=float(np.mean(watch)) if watch else 0.0,
        like_rate=likes / n,
        skip_rate=skips / n,
        distinct_communities_per_50=float(np.mean(comms)) if comms else 0.0,
        new_creator_share=newc / n if new_creator_videos is not None else 0.0,
        repeats=repeats,
        empty_feeds=empty,
    )


def planted_interest_response(
    viewer_interest: Mapping[str, str],
    video_community: Mapping[str, str],
    *,
    duration_s: float = 30.0,
    match_watch: float = 0.9,
    other_watch: float = 0.15,
    like_prob: float = 0.3,
) -> Respond:
    """A planted responder: a viewer watches most of videos of its community, skips
    others; likes some of what it watches."""

    def respond(
        viewer: str, videos: Sequence[str], step: int, g: np.random.Generator
    ) -> list[dict[str, Any]]:
        out = []
        want = viewer_interest.get(viewer)
        for v in videos:
            match = want is not None and video_community.get(v) == want
            frac = float(np.clip(g.normal(match_watch if match else other_watch, 0.05), 0, 1))
            out.append(
                {
                    "viewer_id": viewer,
                    "video_id": v,
                    "watch_time_s": frac * duration_s,
                    "completed": frac > 0.95,
                    "liked": bool(match and g.random() < like_prob),
                    "skipped": frac < 0.2,
                }
            )
        return out

    return respond
