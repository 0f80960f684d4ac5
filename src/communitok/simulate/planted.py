"""Collect what the stages planted into a :class:`~.truth.GroundTruth`."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import ArrayLike

from .config import SimConfig
from .content import Content
from .events import EventModel
from .plans import BurstPlan, CampaignPlan
from .sampling import US_PER_DAY
from .social import LABELS
from .tables import Ids
from .truth import (
    Bridge,
    Burst,
    Campaign,
    CommunityTruth,
    EvolutionEvent,
    FakeEngagement,
    GroundTruth,
    Pod,
    Spill,
)
from .videos import KINDS, Videos
from .world import World


def _dt(us: int) -> datetime:
    return datetime.fromtimestamp(int(us) / 1_000_000, tz=UTC)


def _strs(arr: pa.Array, idx: ArrayLike) -> tuple[str, ...]:
    return tuple(arr.take(pa.array(np.asarray(idx, np.int64))).to_pylist())


def _nullable(ids: list[str], idx: np.ndarray) -> pa.Array:
    arr = pa.array(ids, pa.string()).take(pa.array(np.maximum(idx, 0), pa.int64()))
    return pc.if_else(pa.array(idx >= 0), arr, pa.scalar(None, pa.string()))


def build_truth(
    cfg: SimConfig,
    w: World,
    bursts: list[BurstPlan],
    campaigns: list[CampaignPlan],
    v: Videos,
    content: Content,
    model: EventModel,
    ids: Ids,
    sound_ids: pa.Array,
    comment_ids: pa.Array,
    labels: np.ndarray,
) -> GroundTruth:
    comms, end = w.comms, cfg.end_us
    cid = comms.ids
    late = comms.effective(w.c_home, np.int64(end), w.c_side)
    communities = []
    for c in range(comms.n):
        members = np.flatnonzero((w.c_home == c) | (late == c))
        k = max(3, members.size // 10)
        core = members[np.argsort(-w.c_pop[members], kind="stable")[:k]]
        size = comms.size[c] if c < comms.K else float(comms.size[comms.parents[c]].sum())
        if comms.kinds[c] == "split":
            size /= 2
        communities.append(
            CommunityTruth(
                id=cid[c],
                name=comms.names[c],
                category=comms.categories[c],
                kind=comms.kinds[c],
                parents=tuple(cid[p] for p in comms.parents[c]),
                active_from=_dt(comms.active_from[c]),
                active_to=None if comms.active_to[c] >= end else _dt(comms.active_to[c]),
                hashtags=tuple(comms.tags[c]),
                lingo=tuple(comms.lingo[c]),
                sounds=_strs(sound_ids, comms.sounds[c]),
                effects=_strs(ids.effects, comms.effects[c]),
                core_creators=_strs(ids.creators, np.sort(core)),
                size_weight=float(size),
            )
        )
    evolution = []
    if comms.merged >= 0:
        evolution = [
            EvolutionEvent("birth", _dt(comms.t_birth), (), (cid[comms.born],)),
            EvolutionEvent(
                "merge", _dt(comms.t_merge), (cid[comms.m1], cid[comms.m2]), (cid[comms.merged],)
            ),
            EvolutionEvent(
                "split", _dt(comms.t_split), (cid[comms.split],), (cid[comms.s1], cid[comms.s2])
            ),
        ]
    bridges = []
    for a, b, tag in w.bridges:
        cross = ((w.c_home == a) & (w.c_second == b)) | ((w.c_home == b) & (w.c_second == a))
        bridges.append(Bridge((cid[a], cid[b]), tag, _strs(ids.creators, np.flatnonzero(cross))))
    burst_truth = [
        Burst(
            id=b.id,
            item_kind=b.kind,
            item=b.item if b.kind == "hashtag" else sound_ids[b.sound].as_py(),
            item_title=b.item,
            community=cid[b.community],
            start=_dt(b.start),
            peak=_dt(b.peak),
            end=_dt(b.end),
            magnitude=round(b.magnitude, 3),
            n_videos=b.n_videos,
            baseline_per_day=round(b.baseline_per_day, 4),
            peak_per_day=round(b.peak_per_day, 4),
            spilled_into=tuple(
                Spill(cid[c], round(lag / US_PER_DAY, 4), n) for c, lag, n in b.spills
            ),
        )
        for b in bursts
    ]
    pods = [
        Pod(f"p{i:02d}", cid[int(w.c_home[m[0]])], _strs(ids.creators, m))
        for i, m in enumerate(w.pods)
    ]
    throw = np.flatnonzero(w.v_throwaway)
    fake = FakeEngagement(
        creators=_strs(ids.creators, np.flatnonzero(w.c_fake)),
        n_boosted_videos=int(model.boosted.size),
        n_bought_events=int(model.fraud_per_video.sum()),
        n_throwaway_accounts=int(throw.size),
        n_pod_events=int(model.pod_per_video.sum()),
    )
    camp_truth = [
        Campaign(
            id=c.id,
            brand=c.brand,
            hashtags=tuple(c.tags),
            target_community=cid[c.target],
            start=_dt(c.start),
            end=_dt(c.end),
            lift=c.lift,
            metric="like/share/comment/follow probability of treated vs control viewers on "
            "target-community videos during the campaign",
            n_videos=int((v.campaign == i).sum()),
            n_treated_viewers=int(c.treated.sum()),
            n_control_viewers=int(c.control.sum()),
            ambassadors=_strs(ids.creators, c.ambassadors),
            control_creators=_strs(ids.creators, c.control_creators),
            design=cfg.campaign_design,
        )
        for i, c in enumerate(campaigns)
    ]
    counts = np.bincount(labels, minlength=len(LABELS))
    tables = {
        "creator_communities": _creator_table(w, ids, late, cid),
        "viewer_interests": _viewer_table(w, ids, cid),
        "video_truth": _video_table(w, v, ids, model, cid, bursts, campaigns),
        "comment_labels": pa.Table.from_pydict(
            {"comment_id": comment_ids, "label": pa.array(LABELS).take(pa.array(labels))}
        ),
        "cascades": _cascade_table(v, ids, cid),
        "accounts": _accounts_table(w, ids, throw),
        "campaign_assignments": _campaign_table(campaigns, ids),
    }
    return GroundTruth(
        config=cfg.to_dict(),
        window_start=cfg.start,
        window_end=_dt(end),
        mega_tags=tuple(w.mega_tags),
        communities=tuple(communities),
        evolution=tuple(evolution),
        bridges=tuple(bridges),
        bursts=tuple(burst_truth),
        pods=tuple(pods),
        fake_engagement=fake,
        campaigns=tuple(camp_truth),
        toxic_rate=cfg.toxic_rate,
        label_counts={lab: int(n) for lab, n in zip(LABELS, counts, strict=True)},
        tables=tables,
    )


def _creator_table(w: World, ids: Ids, late: np.ndarray, cid: list[str]) -> pa.Table:
    core = np.zeros(w.n_creators, bool)
    for c in range(w.comms.n):
        members = np.flatnonzero(w.c_home == c)
        k = max(3, members.size // 10)
        core[members[np.argsort(-w.c_pop[members], kind="stable")[:k]]] = True
    pod_names = [f"p{i:02d}" for i in range(len(w.pods))]
    return pa.Table.from_pydict(
        {
            "creator_id": ids.creators,
            "community_id": _nullable(cid, w.c_home),
            "second_community_id": _nullable(cid, w.c_second),
            "late_community_id": _nullable(cid, late),
            "is_core": pa.array(core),
            "is_fake": pa.array(w.c_fake),
            "pod_id": _nullable(pod_names or [""], w.c_pod),
        }
    )


def _viewer_table(w: World, ids: Ids, cid: list[str]) -> pa.Table:
    comm = w.v_comm
    late = w.comms.effective(comm, np.int64(w.cfg.end_us), w.v_side[:, None])
    row, slot = np.nonzero(comm >= 0)
    return pa.Table.from_pydict(
        {
            "viewer_id": ids.viewers.take(pa.array(row, pa.int64())),
            "community_id": _nullable(cid, comm[row, slot]),
            "weight": pa.array(np.round(w.v_w[row, slot], 6), pa.float64()),
            "late_community_id": _nullable(cid, late[row, slot]),
        }
    )


def _video_table(
    w: World,
    v: Videos,
    ids: Ids,
    model: EventModel,
    cid: list[str],
    bursts: list[BurstPlan],
    campaigns: list[CampaignPlan],
) -> pa.Table:
    boosted = np.zeros(v.n, bool)
    boosted[model.boosted] = True
    roles = ["", "baseline", "burst", "spill"]
    role = np.where(v.burst_role > 0, v.burst_role, -1)
    return pa.Table.from_pydict(
        {
            "video_id": ids.videos,
            "community_id": _nullable(cid, v.vc),
            "lineage_community_id": _nullable(cid, v.lin),
            "burst_id": _nullable([b.id for b in bursts] or [""], v.burst),
            "burst_role": _nullable(roles, role),
            "campaign_id": _nullable([c.id for c in campaigns] or [""], v.campaign),
            "parent_video_id": pc.if_else(
                pa.array(v.parent >= 0),
                ids.videos.take(pa.array(np.maximum(v.parent, 0))),
                pa.scalar(None, pa.string()),
            ),
            "link_kind": _nullable(list(KINDS), v.link_kind.astype(np.int64)),
            "cascade_root_id": ids.videos.take(pa.array(v.root)),
            "cascade_depth": pa.array(v.depth, pa.int32()),
            "is_boosted": pa.array(boosted),
        }
    )


def _cascade_table(v: Videos, ids: Ids, cid: list[str]) -> pa.Table:
    size = np.bincount(v.root, minlength=v.n)
    depth = np.zeros(v.n, np.int64)
    np.maximum.at(depth, v.root, v.depth)
    roots = np.flatnonzero(size >= 2)
    child = v.parent >= 0
    cols = {
        "root_video_id": ids.videos.take(pa.array(roots, pa.int64())),
        "community_id": _nullable(cid, v.vc[roots]),
        "size": pa.array(size[roots].astype(np.int64)),
        "depth": pa.array(depth[roots]),
    }
    for k, name in enumerate(KINDS):
        cnt = np.bincount(v.root[child & (v.link_kind == k)], minlength=v.n)
        cols[f"n_{name}"] = pa.array(cnt[roots].astype(np.int64))
    return pa.Table.from_pydict(cols)


def _accounts_table(w: World, ids: Ids, throw: np.ndarray) -> pa.Table:
    acc, role, group = [], [], []

    def add(arr: pa.Array, idx: np.ndarray, name: str, grp: str | None = None) -> None:
        acc.extend(arr.take(pa.array(np.asarray(idx, np.int64))).to_pylist())
        role.extend([name] * len(idx))
        group.extend([grp] * len(idx))

    add(ids.viewers, throw, "throwaway")
    add(ids.viewers, w.trolls, "troll")
    add(ids.viewers, w.spammers, "spammer")
    add(ids.creators, np.flatnonzero(w.c_fake), "fake_creator")
    for i, m in enumerate(w.pods):
        add(ids.creators, m, "pod_member", f"p{i:02d}")
    return pa.Table.from_pydict(
        {
            "account_id": pa.array(acc, pa.string()),
            "role": pa.array(role, pa.string()),
            "group_id": pa.array(group, pa.string()),
        }
    )


def _campaign_table(campaigns: list[CampaignPlan], ids: Ids) -> pa.Table:
    parts = []
    for c in campaigns:
        for kind, arr, idx, arm in (
            ("creator", ids.creators, c.ambassadors, "treated"),
            ("creator", ids.creators, c.control_creators, "control"),
            ("viewer", ids.viewers, np.flatnonzero(c.treated), "treated"),
            ("viewer", ids.viewers, np.flatnonzero(c.control), "control"),
        ):
            n = len(idx)
            parts.append(
                pa.Table.from_pydict(
                    {
                        "campaign_id": pa.repeat(c.id, n),
                        "entity_kind": pa.repeat(kind, n),
                        "entity_id": arr.take(pa.array(np.asarray(idx, np.int64))),
                        "arm": pa.repeat(arm, n),
                    }
                )
            )
    if not parts:
        return pa.Table.from_pydict(
            {
                k: pa.array([], pa.string())
                for k in ("campaign_id", "entity_kind", "entity_id", "arm")
            }
        )
    return pa.concat_tables(parts)
