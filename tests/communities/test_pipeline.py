"""The whole community analysis on planted data, and bad input that must not crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sklearn.metrics import normalized_mutual_info_score

from communitok.communities.items import CommunityConfig
from communitok.communities.pipeline import find_communities
from communitok.core.errors import InputError

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def make_videos(
    groups: dict[str, list[str]],
    n_per: int = 40,
    mega: str | None = "fyp",
    captions: dict[str, str] | None = None,
) -> pa.Table:
    rows = []
    for g, tags in groups.items():
        for i in range(n_per):
            t = [tags[i % len(tags)], tags[(i + 1) % len(tags)]]
            if mega and i % 2 == 0:
                t.append(mega)
            rows.append(
                {
                    "video_id": f"{g}-{i}",
                    "creator_id": f"{g}-c{i % 4}",
                    "created_at": T0 + timedelta(hours=i),
                    "hashtags": t,
                    "sound_id": f"{g}-s{i % 2}",
                    "view_count": 100 + i,
                    "description": (captions or {}).get(g, "nice video") + f" take {i}",
                }
            )
    return pa.Table.from_pylist(rows)


GROUPS = {
    "book": ["booktok", "bookish", "fantasybooks"],
    "gym": ["gymtok", "gains", "legday"],
    "plant": ["planttok", "monstera", "repotting"],
    "cat": ["cattok", "catsoftiktok", "meow"],
}


def test_planted_communities_named_and_sized() -> None:
    caps = {g: f"{g} zorbly{g} words" for g in GROUPS}
    res = find_communities(make_videos(GROUPS, captions=caps))
    assert res.n_communities == 4
    names = res.communities["name"].to_pylist()
    for tags in GROUPS.values():
        assert any(tags[0] in n for n in names), names
    assert all(" · " in n for n in names)
    assert "hashtag:fyp" in res.detection.stop
    assert res.communities["views"].to_pylist() == [sum(100 + i for i in range(40))] * 4
    assert res.communities["creators"].to_pylist() == [4] * 4
    lingo = res.lingo.to_pylist()
    top2 = {r["term"] for r in lingo if r["rank"] <= 2}
    assert {f"zorbly{g}" for g in GROUPS} <= top2


def test_memberships_are_normalised_and_primary_kept() -> None:
    res = find_communities(make_videos(GROUPS))
    m = res.members
    for kind in ("video", "creator", "hashtag", "sound"):
        sub = m.filter(pc.equal(m["member_kind"], kind))
        sums = {}
        for mid, w in zip(sub["member_id"].to_pylist(), sub["weight"].to_pylist(), strict=True):
            sums[mid] = sums.get(mid, 0.0) + w
        assert np.allclose(list(sums.values()), 1.0)
    assert m.filter(m["is_primary"]).num_rows > 0


def test_simulator_tiny_known_answer(tiny_sim) -> None:
    t, truth = tiny_sim.tables, tiny_sim.truth
    res = find_communities(
        t["videos"],
        t["events"],
        t["comments"],
        t["cocreation_links"],
        config=CommunityConfig(seed=0),
    )
    assert set(truth.mega_tags[:3]) <= {s.split(":", 1)[1] for s in res.detection.stop}
    planted = {}
    for c in truth.communities:
        for h in c.hashtags:
            planted.setdefault(h, c.id)
    lab = res.detection.item_labels()
    keys = [h for h in planted if f"hashtag:{h}" in lab]
    nmi = normalized_mutual_info_score(
        [planted[h] for h in keys], [lab[f"hashtag:{h}"] for h in keys]
    )
    assert nmi > 0.85
    # planted lingo tops the lists
    lingo_words = {w for c in truth.communities for w in c.lingo}
    top = res.lingo.filter(pc.equal(res.lingo["rank"], 1))["term"].to_pylist()
    assert sum(any(w in t for w in lingo_words) for t in top) >= 0.8 * len(top)
    # viewers belong to several communities with weights
    v = res.memberships["viewer"]
    assert (np.diff(v.weights.indptr) > 1).mean() > 0.3
    assert res.profiles.num_rows == res.n_communities
    assert res.profiles["impressions"].to_pylist()[0] > 0


def test_safety_hook_table_and_callable() -> None:
    v = make_videos(GROUPS)
    health = pa.table({"video_id": v["video_id"], "health": [0.5] * v.num_rows})
    res = find_communities(v, safety=health)
    assert res.profiles["safety_health"].to_pylist() == [0.5] * res.n_communities
    res = find_communities(v, safety=lambda c, videos, comments: float(videos.num_rows))
    assert res.profiles["safety_health"].to_pylist() == [40.0] * res.n_communities
    assert find_communities(v).profiles["safety_health"].null_count == res.n_communities
    with pytest.raises(InputError):
        find_communities(v, safety=pa.table({"x": [1]}))


def test_all_same_hashtags() -> None:
    # one hashtag on every video carries no community signal: creators and sounds do
    v = make_videos({g: ["same"] for g in GROUPS}, mega=None)
    res = find_communities(v)
    assert res.n_communities >= 4
    names = res.communities["name"].to_pylist()
    assert all(names) and not any("same" in n for n in names)
    only = find_communities(
        v.select(["video_id", "creator_id", "hashtags"]), config=CommunityConfig(kinds=("hashtag",))
    )
    assert only.n_communities <= 1


def test_unicode_emoji_hashtags() -> None:
    groups = {"a": ["📚", "読書", "книги"], "b": ["💪", "筋トレ", "спорт"]}
    res = find_communities(make_videos(groups, mega="✨"))
    assert res.n_communities == 2
    names = " ".join(res.communities["name"].to_pylist())
    assert "📚" in names or "読書" in names or "книги" in names


def test_no_captions_and_no_hashtags() -> None:
    v = make_videos(GROUPS).drop_columns(["description"])
    res = find_communities(v)
    assert res.lingo.num_rows == 0 and res.n_communities == 4
    bare = pa.table(
        {
            "video_id": ["v1", "v2"],
            "creator_id": ["c1", "c2"],
            "hashtags": pa.array([None, []], pa.list_(pa.string())),
        }
    )
    res = find_communities(bare)
    assert res.n_communities == 0 and res.communities.num_rows == 0
    assert res.bridges.num_rows == 0 and res.profiles.num_rows == 0


def test_empty_videos_and_bad_input() -> None:
    empty = pa.table(
        {"video_id": pa.array([], pa.string()), "creator_id": pa.array([], pa.string())}
    )
    res = find_communities(empty)
    assert res.n_communities == 0
    with pytest.raises(InputError):
        find_communities(pa.table({"video_id": ["v"]}))
    with pytest.raises(InputError):
        find_communities([{"video_id": "v"}])
    with pytest.raises(InputError):
        CommunityConfig(min_item_videos=0).validate()
    with pytest.raises(InputError):
        CommunityConfig(kinds=("mood",)).validate()


def test_relabel_and_member_sets() -> None:
    res = find_communities(make_videos(GROUPS))
    sets = res.member_sets()
    assert len(sets) == 4 and all(any(m.startswith("hashtag:") for m in s) for s in sets.values())
    r2 = res.relabel({0: 10, 1: 11, 2: 12, 3: 13})
    assert sorted(r2.communities["community_id"].to_pylist()) == [10, 11, 12, 13]
    assert set(r2.members["community_id"].to_pylist()) == {10, 11, 12, 13}


def test_extra_stop_items_are_excluded() -> None:
    cfg = CommunityConfig(extra_stop_items=("hashtag:bookish",))
    res = find_communities(make_videos(GROUPS), config=cfg)
    assert "hashtag:bookish" in res.detection.stop
    assert "bookish" not in " ".join(res.communities["name"].to_pylist())


def test_members_have_video_and_creator_keys() -> None:
    m = find_communities(make_videos(GROUPS)).members
    videos = m.filter(pc.equal(m["member_kind"], "video"))
    assert videos["video_id"].to_pylist() == videos["member_id"].to_pylist()
    assert m.filter(pc.equal(m["member_kind"], "hashtag"))["video_id"].null_count > 0
    creators = m.filter(pc.equal(m["member_kind"], "creator"))
    assert creators["creator_id"].to_pylist() == creators["member_id"].to_pylist()
