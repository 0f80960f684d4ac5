"""The simulated tables: exact core schemas, determinism, keys, references, value ranges."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from communitok.core.schema import LOAD_ORDER, TABLES
from communitok.simulate import SimConfig, SimResult, iter_tables, simulate


def _ids(t: pa.Table, col: str) -> set:
    return set(pc.unique(t.column(col)).to_pylist()) - {None}


def _flat(t: pa.Table, col: str) -> set:
    return set(pc.unique(pc.list_flatten(t.column(col))).to_pylist())


def test_every_core_table_with_exact_schema(tiny: SimResult) -> None:
    assert set(tiny.tables) == set(TABLES)
    for name, spec in TABLES.items():
        assert tiny[name].schema.equals(spec.schema), name
        assert tiny[name].num_rows > 0, name
    assert tiny["events"].num_rows == tiny.config.n_events
    assert tiny["videos"].num_rows == tiny.config.n_videos
    assert tiny["comments"].num_rows == tiny.config.n_comments
    assert tiny["creators"].num_rows == tiny.config.n_creators


def test_same_seed_same_output_other_seed_differs(tiny: SimResult, tiny_config: SimConfig) -> None:
    again = simulate(tiny_config)
    for name in TABLES:
        assert again[name].equals(tiny[name]), name
    assert again.truth == tiny.truth
    assert again.truth.to_json() == tiny.truth.to_json()
    for name, table in tiny.truth.tables.items():
        assert again.truth.tables[name].equals(table), name
    other = simulate(tiny_config.with_(seed=8))
    assert not other["videos"].equals(tiny["videos"])
    assert not other["events"].equals(tiny["events"])
    assert other.truth.to_json() != tiny.truth.to_json()


def test_primary_keys_unique_and_required_columns_filled(tiny: SimResult) -> None:
    for name, spec in TABLES.items():
        t = tiny[name]
        keys = t.group_by(list(spec.primary_key)).aggregate([])
        assert keys.num_rows == t.num_rows, name
        for col in spec.columns:
            if col.required:
                assert t.column(col.name).null_count == 0, (name, col.name)
            if col.choices:
                assert _ids(t, col.name) <= set(col.choices)
            if col.min_value is not None:
                assert pc.min(t.column(col.name)).as_py() >= col.min_value, (name, col.name)


def test_every_reference_resolves(tiny: SimResult) -> None:
    creators, viewers = _ids(tiny["creators"], "creator_id"), _ids(tiny["viewers"], "viewer_id")
    videos, comments = _ids(tiny["videos"], "video_id"), _ids(tiny["comments"], "comment_id")
    v = tiny["videos"]
    assert _ids(v, "creator_id") <= creators
    assert _ids(v, "sound_id") <= _ids(tiny["sounds"], "sound_id")
    assert _flat(v, "effect_ids") <= _ids(tiny["effects"], "effect_id")
    assert _flat(v, "hashtags") <= _ids(tiny["hashtags"], "name")
    assert _flat(v, "mentions") <= creators
    e = tiny["events"]
    assert _ids(e, "video_id") <= videos
    assert _ids(e, "viewer_id") <= viewers
    c = tiny["comments"]
    assert _ids(c, "video_id") <= videos
    assert _ids(c, "user_id") <= viewers
    assert _ids(c, "parent_comment_id") <= comments
    f = tiny["follows"]
    assert _ids(f, "follower_id") <= viewers | creators
    assert _ids(f, "followee_id") <= creators
    links = tiny["cocreation_links"]
    assert _ids(links, "child_video_id") | _ids(links, "parent_video_id") <= videos
    names = {c.name for c in tiny.truth.communities}
    assert _flat(tiny["viewers"], "interests") <= names
    truth = tiny.truth
    assert _ids(truth.table("video_truth"), "video_id") == videos
    assert _ids(truth.table("comment_labels"), "comment_id") == comments
    assert _ids(truth.table("creator_communities"), "creator_id") == creators
    assert _ids(truth.table("viewer_interests"), "viewer_id") <= viewers
    ids = {c.id for c in truth.communities}
    for tbl, col in [
        ("video_truth", "community_id"),
        ("creator_communities", "community_id"),
        ("viewer_interests", "late_community_id"),
        ("cascades", "community_id"),
    ]:
        assert _ids(truth.table(tbl), col) <= ids, (tbl, col)


def test_values_are_realistic(tiny: SimResult) -> None:
    start, end = tiny.truth.window_start, tiny.truth.window_end
    assert end - start == timedelta(days=tiny.config.days)
    v = tiny["videos"]
    dur = v.column("duration_s").to_numpy()
    assert dur.min() >= 5 and dur.max() <= 180 and np.median(dur) < 60
    created = v.column("created_at")
    assert pc.min(created).as_py() >= start and pc.max(created).as_py() < end
    tags = _flat(v, "hashtags")
    assert all(t == t.lower() and "#" not in t and " " not in t for t in tags)
    assert all(len(i) <= 8 for i in _ids(v, "video_id") | _ids(tiny["events"], "viewer_id"))
    e = tiny["events"]
    assert pc.max(e.column("ts")).as_py() < end
    posted = dict(zip(v.column("video_id").to_pylist(), created.to_pylist(), strict=True))
    assert all(
        ts > posted[vid]
        for vid, ts in zip(e["video_id"].to_pylist(), e["ts"].to_pylist(), strict=True)
    )
    assert pc.min(e.column("watch_time_s")).as_py() >= 0
    assert len(_ids(tiny["creators"], "region")) > 3
    # heavy-tailed popularity: the top 10 % of videos get a large share of the views
    views = np.sort(v.column("view_count").to_numpy())[::-1]
    assert views[: len(views) // 10].sum() > 0.4 * views.sum()


def test_counts_follow_the_events(rich: SimResult) -> None:
    v, e = rich["videos"], rich["events"]
    ids = v.column("video_id").to_pylist()
    counts = e.group_by("video_id").aggregate([("video_id", "count")])
    n = dict(zip(counts["video_id"].to_pylist(), counts["video_id_count"].to_pylist(), strict=True))
    observed = np.array([n.get(i, 0) for i in ids])
    views = v.column("view_count").to_numpy()
    assert np.corrcoef(observed, views)[0, 1] > 0.9
    assert abs(views.sum() / observed.sum() - 1) < 0.05
    per_creator = v.group_by("creator_id").aggregate([("video_id", "count")])
    got = dict(
        zip(
            per_creator["creator_id"].to_pylist(),
            per_creator["video_id_count"].to_pylist(),
            strict=True,
        )
    )
    c = rich["creators"]
    assert all(
        got.get(i, 0) == k
        for i, k in zip(c["creator_id"].to_pylist(), c["video_count"].to_pylist(), strict=True)
    )
    assert (v.column("like_count").to_numpy() <= views).all()


def test_children_after_parents(tiny: SimResult) -> None:
    v = tiny["videos"]
    posted = dict(
        zip(v.column("video_id").to_pylist(), v.column("created_at").to_pylist(), strict=True)
    )
    links = tiny["cocreation_links"].to_pylist()
    assert links
    for link in links:
        assert (
            posted[link["parent_video_id"]] < posted[link["child_video_id"]] == link["created_at"]
        )
    c = tiny["comments"]
    when = dict(zip(c["comment_id"].to_pylist(), c["created_at"].to_pylist(), strict=True))
    on = dict(zip(c["comment_id"].to_pylist(), c["video_id"].to_pylist(), strict=True))
    replies = [r for r in c.to_pylist() if r["parent_comment_id"]]
    assert len(replies) > 0.1 * c.num_rows
    for r in replies:
        assert when[r["parent_comment_id"]] < r["created_at"]
        assert on[r["parent_comment_id"]] == r["video_id"]
    counts = {}
    for r in replies:
        counts[r["parent_comment_id"]] = counts.get(r["parent_comment_id"], 0) + 1
    assert all(
        counts.get(i, 0) == k
        for i, k in zip(c["comment_id"].to_pylist(), c["reply_count"].to_pylist(), strict=True)
    )


def test_stream_yields_load_order_and_chunks_events(tiny_config: SimConfig) -> None:
    cfg = tiny_config.with_(chunk_size=3_000)
    stream = iter_tables(cfg)
    names = [name for name, _ in stream]
    assert names[: len(LOAD_ORDER) - 1] == list(LOAD_ORDER[:-1])
    assert set(names[len(LOAD_ORDER) - 1 :]) == {"events"}
    assert names.count("events") >= 4  # 3 full organic chunks, a rest, the planted chunk
    total = sum(b.num_rows for name, b in stream if name == "events")
    assert total == cfg.n_events == stream.rows["events"]
    assert stream.truth == simulate(cfg).truth


@pytest.mark.parametrize(
    "changes",
    [
        {"evolution": False, "n_communities": 3, "n_bridges": 0},
        {"n_pods": 0, "n_campaigns": 0, "n_bursts": 0, "fake_event_share": 0.0},
    ],
)
def test_optional_phenomena_can_be_switched_off(changes: dict) -> None:
    r = simulate(SimConfig.preset("tiny", seed=2, **changes))
    assert r["events"].num_rows == r.config.n_events
    if "evolution" in changes:
        assert r.truth.evolution == () and len(r.truth.communities) == 3
    else:
        assert r.truth.pods == () and r.truth.campaigns == () and r.truth.bursts == ()
        assert r.truth.fake_engagement.n_bought_events == 0


_DIGEST = """
import hashlib, json, sys
import pyarrow as pa
from communitok.simulate import SimConfig, simulate
r = simulate(SimConfig.preset("tiny", seed=7))
h = hashlib.sha256()
for name in sorted(r.tables):
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, r[name].schema) as w:
        w.write_table(r[name].combine_chunks())
    h.update(sink.getvalue().to_pybytes())
h.update(json.dumps(r.truth.to_json(), sort_keys=True).encode())
print(h.hexdigest())
"""


def test_output_does_not_depend_on_the_process() -> None:
    """Same seed in another interpreter (other hash seed) → byte-identical tables."""
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", _DIGEST], env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1
