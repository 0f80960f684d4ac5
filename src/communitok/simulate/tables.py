"""Stage 6: turn the simulator's arrays into Arrow tables with the core schemas exactly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.schema import TABLES
from ..core.seeds import derive_seed
from .content import Content
from .plans import BurstPlan, CampaignPlan
from .sampling import list_column, make_ids, ts_array
from .videos import KINDS, Videos
from .words import ACTIVITY_LEVELS, LANGUAGES, REGIONS
from .world import World

SOURCE = "simulate"
FIRST_NAMES = (
    "ana",
    "ben",
    "chloe",
    "dev",
    "emma",
    "felix",
    "gia",
    "hugo",
    "isla",
    "jay",
    "kai",
    "lena",
    "milo",
    "nina",
    "omar",
    "pia",
    "quinn",
    "rosa",
    "sam",
    "tara",
    "umar",
    "vera",
    "wes",
    "yuki",
)


@dataclass
class Ids:
    creators: pa.Array
    viewers: pa.Array  # viewer accounts, then pod members' accounts (their creator ids)
    videos: pa.Array
    effects: pa.Array


def make_id_arrays(w: World, n_videos: int) -> Ids:
    pod_members = np.concatenate(w.pods) if w.pods else np.zeros(0, np.int64)
    creators = make_ids("c", w.n_creators)
    viewers = pa.concat_arrays(
        [make_ids("u", w.n_viewers), creators.take(pa.array(pod_members, pa.int64()))]
    )
    return Ids(creators, viewers, make_ids("v", n_videos), make_ids("e", len(w.effect_names), 3))


def _table(name: str, columns: dict[str, pa.Array]) -> pa.Table:
    schema = TABLES[name].schema
    n = len(next(iter(columns.values())))
    arrays = [columns[f.name] if f.name in columns else pa.repeat(SOURCE, n) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _take(values: list[str] | tuple[str, ...], idx: np.ndarray) -> pa.Array:
    return pa.array(list(values), pa.string()).take(pa.array(np.asarray(idx, np.int64)))


def sound_ids(n: int) -> pa.Array:
    return make_ids("s", n)


def creators_table(
    w: World,
    ids: Ids,
    v: Videos,
    like_count: np.ndarray,
    follower: np.ndarray,
    following: np.ndarray,
) -> pa.Table:
    comms, n = w.comms, w.n_creators
    rng = np.random.default_rng(derive_seed(w.cfg.seed, "simulate", "creators-table"))
    home = w.c_home
    display = pc.binary_join_element_wise(
        _take(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), n)), _take(comms.stems, home), " "
    )
    lingo0 = [lg[0] for lg in comms.lingo]
    bio = pc.binary_join_element_wise(
        _take(lingo0, home), _take(["#" + t[0] for t in comms.tags], home), " | "
    )
    scale = w.cfg.view_scale
    return _table(
        "creators",
        {
            "creator_id": ids.creators,
            "display_name": display,
            "bio": bio,
            "region": _take(REGIONS, w.c_region),
            "verified": pa.array(w.c_pop >= np.quantile(w.c_pop, 0.98)),
            "follower_count": pa.array(np.round(follower * scale).astype(np.int64)),
            "following_count": pa.array(following.astype(np.int64)),
            "likes_count": pa.array(np.bincount(v.creator, like_count, n).astype(np.int64)),
            "video_count": pa.array(np.bincount(v.creator, minlength=n).astype(np.int64)),
            "created_at": ts_array(w.c_created),
        },
    )


def viewers_table(w: World, ids: Ids) -> pa.Table:
    comms, n = w.comms, w.n_viewers
    rng = np.random.default_rng(derive_seed(w.cfg.seed, "simulate", "viewers-table"))
    act = w.v_act
    qs = np.quantile(act[act > 0], [0.4, 0.75, 0.95]) if (act > 0).any() else np.zeros(3)
    level = np.searchsorted(qs, act, side="right")
    level[w.v_throwaway] = 0
    u = rng.random(n)
    o1 = np.flatnonzero((u < 0.8) & (w.v_comm[:, 0] >= 0))
    o2 = np.flatnonzero((u >= 0.6) & (u < 0.8) & (w.v_comm[:, 1] >= 0))
    owner = np.concatenate([o1, o2])
    slot = np.concatenate([np.zeros(o1.size, np.int64), np.ones(o2.size, np.int64)])
    pods = np.concatenate(w.pods) if w.pods else np.zeros(0, np.int64)
    np_ = pods.size
    owner_all = np.concatenate([owner, n + np.arange(np_)])
    vals = np.concatenate([w.v_comm[owner, slot], w.c_home[pods]])
    order = np.concatenate([slot, np.zeros(np_, int)])
    names = pa.array(comms.names[: comms.K], pa.string())
    interests = list_column(owner_all, order, vals, names, n + np_)
    region = np.concatenate([w.v_region, w.c_region[pods]])
    return _table(
        "viewers",
        {
            "viewer_id": ids.viewers,
            "region": _take(REGIONS, region),
            "language": _take(LANGUAGES, region),
            "registered_at": ts_array(np.concatenate([w.v_registered, w.c_created[pods]])),
            "activity": _take(ACTIVITY_LEVELS, np.concatenate([level, np.full(np_, 2)])),
            "interests": interests,
        },
    )


def hashtags_table(
    content: Content, w: World, bursts: list[BurstPlan], campaigns: list[CampaignPlan]
) -> pa.Table:
    titles = {t: f"#{t}" for t in content.tag_vocab}
    for c in range(w.comms.n):
        titles[w.comms.tags[c][0]] = f"the {w.comms.names[c]} community"
    for b in bursts:
        if b.kind == "hashtag":
            titles[b.item] = f"the {b.item} challenge"
    for camp in campaigns:
        titles[camp.brand] = f"{camp.brand} brand campaign"
    names = content.tag_vocab
    return _table(
        "hashtags",
        {
            "name": pa.array(names, pa.string()),
            "hashtag_id": make_ids("h", len(names)),
            "title": pa.array([titles[t] for t in names], pa.string()),
        },
    )


def sounds_table(w: World, ids: Ids, content: Content) -> pa.Table:
    n_fixed, n_orig = content.n_fixed_sounds, content.original_creator.size
    orig_author = ids.creators.take(pa.array(content.original_creator, pa.int64()))
    return _table(
        "sounds",
        {
            "sound_id": sound_ids(n_fixed + n_orig),
            "title": pa.concat_arrays(
                [
                    pa.array(w.sound_titles, pa.string()),
                    pc.binary_join_element_wise("original sound - ", orig_author, ""),
                ]
            ),
            "author": pa.concat_arrays([pa.array(w.sound_authors, pa.string()), orig_author]),
            "is_original": pa.array(np.r_[np.zeros(n_fixed, bool), np.ones(n_orig, bool)]),
            "duration_s": pa.array(
                np.r_[w.sound_dur, content.duration[content.original_video]], pa.float64()
            ),
        },
    )


def effects_table(w: World, ids: Ids) -> pa.Table:
    return _table(
        "effects", {"effect_id": ids.effects, "name": pa.array(w.effect_names, pa.string())}
    )


def videos_table(
    v: Videos,
    ids: Ids,
    content: Content,
    counts: dict[str, np.ndarray],
    comment_count: np.ndarray,
    scale: float,
) -> pa.Table:
    sids = sound_ids(content.n_fixed_sounds + content.original_creator.size)
    return _table(
        "videos",
        {
            "video_id": ids.videos,
            "creator_id": ids.creators.take(pa.array(v.creator, pa.int64())),
            "created_at": ts_array(v.t),
            "duration_s": pa.array(content.duration, pa.float64()),
            "description": content.description,
            "hashtags": content.hashtags,
            "sound_id": sids.take(pa.array(content.sound, pa.int64())),
            "effect_ids": content.effect_ids,
            "mentions": content.mentions,
            "region": content.region,
            **{
                k: pa.array(counts[k].astype(np.int64))
                for k in ("view_count", "like_count", "share_count", "favourite_count")
            },
            "comment_count": pa.array(np.round(comment_count * scale).astype(np.int64)),
            "transcript": content.transcript,
            "categories": content.categories,
        },
    )


def cocreation_table(v: Videos, ids: Ids) -> pa.Table:
    child = np.flatnonzero(v.parent >= 0)
    return _table(
        "cocreation_links",
        {
            "child_video_id": ids.videos.take(pa.array(child, pa.int64())),
            "parent_video_id": ids.videos.take(pa.array(v.parent[child], pa.int64())),
            "kind": _take(KINDS, v.link_kind[child]),
            "created_at": ts_array(v.t[child]),
        },
    )
