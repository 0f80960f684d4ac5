"""Forest building: every repair of bad links is flagged, never a hang or a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from communitok.cocreation import attribute_sound_reuse, build_forest, cascade_metrics
from communitok.core.errors import InputError

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def links(rows: list[tuple[str, str, str]]) -> pa.Table:
    return pa.table(
        {
            "child_video_id": [r[0] for r in rows],
            "parent_video_id": [r[1] for r in rows],
            "kind": [r[2] for r in rows],
        }
    )


def videos(
    ids: list[str], hours: list[float], sounds: list[str] | None = None, views=None
) -> pa.Table:
    cols = {
        "video_id": ids,
        "creator_id": [f"c{i}" for i in ids],
        "created_at": pa.array(
            [T0 + timedelta(hours=h) for h in hours], pa.timestamp("us", tz="UTC")
        ),
    }
    if sounds is not None:
        cols["sound_id"] = sounds
    if views is not None:
        cols["view_count"] = views
    return pa.table(cols)


def issues(f) -> set[tuple[str, str]]:
    return set(
        zip(
            f.issues.column("video_id").to_pylist(),
            f.issues.column("issue").to_pylist(),
            strict=True,
        )
    )


def test_self_links_cycles_unknown_parents_are_flagged() -> None:
    lk = links([("b", "a", "stitch"), ("z", "z", "duet"), ("x", "y", "stitch"), ("y", "x", "stitch"),
                ("c", "ghost", "duet")])  # fmt: skip
    v = videos(["a", "b", "x", "y", "z", "c"], [0, 1, 2, 3, 4, 5])
    f = build_forest(lk, v)
    got = issues(f)
    assert ("z", "self_link") in got
    assert ("x", "cycle_broken") in got  # x is the earlier video of the loop: it becomes the root
    assert ("ghost", "unknown_parent") in got
    m = cascade_metrics(f)
    sizes = dict(zip(m.column("cascade_id").to_pylist(), m.column("size").to_pylist(), strict=True))
    assert sizes == {"a": 2, "x": 2, "ghost": 2}
    assert (
        m.filter(pa.compute.equal(m.column("cascade_id"), "ghost")).column("root_known")[0].as_py()
        is False
    )


def test_long_cycle_and_clock_errors() -> None:
    n = 50
    ids = [f"v{i:02d}" for i in range(n)]
    lk = links([(ids[i], ids[(i + 1) % n], "stitch") for i in range(n)])  # one big loop
    f = build_forest(lk, videos(ids, list(range(n))))
    got = issues(f)
    assert ("v00", "cycle_broken") in got
    assert sum(1 for _, i in got if i == "parent_after_child") == n - 1
    m = cascade_metrics(f)
    assert (
        m.num_rows == 1
        and m.column("size")[0].as_py() == n
        and m.column("depth")[0].as_py() == n - 1
    )


def test_multiple_parents_precedence() -> None:
    lk = links([("c", "b", "sound_reuse"), ("c", "a", "duet")])
    f = build_forest(lk, videos(["a", "b", "c"], [0, 1, 2]), sound_attribution="given")
    parent = dict(zip(f.video_id.tolist(), f.parent.tolist(), strict=True))
    assert f.video_id[parent["c"]] == "a"  # a duet outranks a sound reuse
    assert ("c", "multiple_parents") in issues(f)


def test_sound_attribution_rules_decide_depth() -> None:
    ids = ["a", "b", "c", "d"]
    v = videos(ids, [0, 1, 2, 3], sounds=["s"] * 4, views=[5, 100, 1, 1])
    star = attribute_sound_reuse(v, "earliest")
    assert set(star.column("parent_video_id").to_pylist()) == {"a"}
    chain = attribute_sound_reuse(v, "previous")
    assert chain.column("parent_video_id").to_pylist() == ["a", "b", "c"]
    mv = attribute_sound_reuse(v, "most_viewed")
    assert mv.column("parent_video_id").to_pylist() == ["a", "b", "b"]
    empty = links([])
    depth = {}
    for rule in ("earliest", "most_viewed", "previous"):
        m = cascade_metrics(build_forest(empty, v, sound_attribution=rule))
        depth[rule] = m.column("depth")[0].as_py()
    assert depth == {"earliest": 1, "most_viewed": 2, "previous": 3}


def test_auto_keeps_given_sound_links_and_original_only() -> None:
    v = videos(["a", "b", "c"], [0, 1, 2], sounds=["s", "s", "t"])
    f = build_forest(links([("c", "b", "sound_reuse")]), v)  # auto → given
    assert cascade_metrics(f).column("size").to_pylist() == [2]
    sounds = pa.table({"sound_id": ["s", "t"], "is_original": [False, True]})
    f2 = build_forest(links([]), v, sounds=sounds, sound_attribution="earliest")
    assert cascade_metrics(f2).num_rows == 0  # 's' is a licensed song: no co-creation


def test_bad_arguments_raise_input_error() -> None:
    with pytest.raises(InputError):
        build_forest(links([]), kinds=("remix",))
    with pytest.raises(InputError):
        build_forest(pa.table({"a": [1]}))
    with pytest.raises(InputError):
        attribute_sound_reuse(videos(["a"], [0]), "given")


def test_empty_input() -> None:
    f = build_forest(links([]))
    assert f.n == 0
    assert cascade_metrics(f).num_rows == 0
