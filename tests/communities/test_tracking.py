"""Tracking over windows (Greene et al. 2010): births, deaths, merges, splits, stable ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from communitok.communities.timeline import track_communities, window_bounds
from communitok.communities.tracking import Window, jaccard, stable_ids, track
from communitok.core.errors import InputError

f = frozenset


def kinds(t, kind):
    return [e for e in t.events.to_pylist() if e["kind"] == kind]


def test_merge_split_birth_death() -> None:
    w0 = Window("w0", {0: f("abcdef"), 1: f("ghijkl"), 2: f("mnopqr"), 3: f("stuvwx")})
    w1 = Window("w1", {0: f("abcdefghijkl"), 1: f("mnop"), 2: f("nopqr1"), 3: f("yzYZ12")})
    t = track([w0, w1])
    merge = kinds(t, "merge")
    assert merge[0]["sources"] == [0, 1] and merge[0]["community_ids"] == [0]
    split = kinds(t, "split")
    assert split[0]["sources"] == [2] and len(split[0]["community_ids"]) == 2
    assert [e["community_ids"] for e in kinds(t, "birth")] == [[5]]
    assert [e["community_ids"] for e in kinds(t, "death")] == [[3]]
    assert kinds(t, "growth")  # 0 doubled
    m1 = t.mapping(1)
    assert m1[0] == 0 and m1[3] == 5


def test_stable_ids_and_initial_fronts() -> None:
    prev = {7: f("abc"), 9: f("xyz")}
    cur = {0: f("xyzw"), 1: f("abcd"), 2: f("new")}
    assert stable_ids(cur, prev) == {0: 9, 1: 7, 2: 10}
    t = track([Window("w", cur)], initial=prev)
    assert t.mapping(0) == {0: 9, 1: 7, 2: 10}
    assert jaccard(f(), f()) == 0.0


def test_track_bad_input() -> None:
    with pytest.raises(InputError):
        track([], threshold=0)
    with pytest.raises(InputError):
        track([], growth=1.0)
    assert track([]).history.num_rows == 0


def _video_rows(day: int, tags: list[str], n: int, start: int) -> list[dict]:
    t0 = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=day)
    return [
        {
            "video_id": f"v{start + i}",
            "creator_id": f"{tags[0]}_c{i % 3}",
            "created_at": t0 + timedelta(hours=i % 20),
            "hashtags": [tags[i % len(tags)], tags[(i + 1) % len(tags)]],
        }
        for i in range(n)
    ]


def test_timeline_finds_planted_birth() -> None:
    rows = []
    for day in range(4):
        rows += _video_rows(day, ["a1", "a2", "a3"], 30, len(rows))
        rows += _video_rows(day, ["b1", "b2", "b3"], 30, len(rows))
        if day >= 2:
            rows += _video_rows(day, ["n1", "n2", "n3"], 30, len(rows))
    v = pa.Table.from_pylist(rows)
    tl = track_communities(v, window_days=1.0)
    assert tl.counts[0] == 2 and tl.counts[3] == 3
    births = kinds(tl.tracking, "birth")
    assert [b["window_index"] for b in births] == [2]


def test_window_bounds() -> None:
    v = pa.table(
        {
            "created_at": pa.array(
                [datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 3, 12, tzinfo=UTC)],
                pa.timestamp("us", tz="UTC"),
            )
        }
    )
    assert len(window_bounds(v, 1.0)) == 3
    with pytest.raises(InputError):
        window_bounds(v, 0)


def test_stable_ids_prefer_the_first_tier() -> None:
    prev = {6: f("abcdef")}
    tracked = {6: f("abc"), 8: f("abcdefg")}  # a split child matches better than 6 does
    assert stable_ids({0: f("abcdefg")}, [prev, tracked]) == {0: 6}
