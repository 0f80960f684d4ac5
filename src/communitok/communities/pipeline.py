"""The whole community analysis from the stored tables, as Arrow tables out.

``find_communities(videos, events, comments, links)`` = detect item communities
(:mod:`.items`) → overlapping memberships of videos, creators, hashtags, sounds and
viewers (:mod:`.overlap`) → names and sizes (:mod:`.naming`) → lingo (:mod:`.lingo`) →
profiles (:mod:`.profiles`) → bridges (:mod:`.bridges`). ``track_communities`` runs the
detection per time window and matches communities across windows (:mod:`.tracking`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError
from ..graph import engagement
from .bridges import find_bridges
from .items import CommunityConfig, ItemCommunities, detect_items
from .lingo import LINGO_SCHEMA, lingo
from .naming import name_communities, sizes
from .overlap import MEMBER_SCHEMA, Memberships, interested_in, known_for, video_memberships
from .profiles import SafetyHook, profile_table

COMMUNITY_SCHEMA = pa.schema(
    [
        ("community_id", pa.int64()),
        ("name", pa.string()),
        ("top_hashtags", pa.list_(pa.string())),
        ("views", pa.int64()),
        ("videos", pa.int64()),
        ("creators", pa.int64()),
        ("viewers", pa.int64()),
        ("hashtags", pa.int64()),
        ("sounds", pa.int64()),
    ]
)


@dataclass(frozen=True, eq=False)
class CommunityResult:
    """Every output table of one analysis (ids are 0 … K−1, 0 = largest by items)."""

    communities: pa.Table
    members: pa.Table
    items: pa.Table
    lingo: pa.Table
    profiles: pa.Table
    bridges: pa.Table
    resolution: pa.Table
    detection: ItemCommunities
    memberships: dict[str, Memberships]

    @property
    def n_communities(self) -> int:
        return self.communities.num_rows

    def member_sets(
        self, kinds: tuple[str, ...] = ("hashtag", "sound", "creator")
    ) -> dict[int, frozenset[str]]:
        """Primary members per community as ``kind:id`` strings (for tracking)."""
        m = self.members.filter(
            pc.and_(
                self.members["is_primary"],
                pc.is_in(self.members["member_kind"], value_set=pa.array(list(kinds))),
            )
        )
        out: dict[int, set[str]] = {
            int(c): set() for c in self.communities["community_id"].to_pylist()
        }
        for kind, mid, cid in zip(
            m["member_kind"].to_pylist(),
            m["member_id"].to_pylist(),
            m["community_id"].to_pylist(),
            strict=True,
        ):
            out.setdefault(int(cid), set()).add(f"{kind}:{mid}")
        return {c: frozenset(s) for c, s in out.items()}

    def relabel(self, mapping: dict[int, int]) -> CommunityResult:
        """Rename community ids (e.g. to stable tracked ids); unmapped ids are kept."""

        def fix(t: pa.Table, cols: tuple[str, ...]) -> pa.Table:
            for col in cols:
                if col in t.column_names:
                    vals = [mapping.get(int(v), int(v)) for v in t[col].to_pylist()]
                    t = t.set_column(t.column_names.index(col), col, pa.array(vals, pa.int64()))
            return t

        return replace(
            self,
            communities=fix(self.communities, ("community_id",)),
            members=fix(self.members, ("community_id",)),
            items=fix(self.items, ("community_id",)),
            lingo=fix(self.lingo, ("community_id",)),
            profiles=fix(self.profiles, ("community_id",)),
            bridges=fix(self.bridges, ("community_a", "community_b")),
        )


def _check_videos(videos: pa.Table) -> None:
    if not isinstance(videos, pa.Table):
        raise InputError("videos must be an Arrow table", field="videos")
    for col in ("video_id", "creator_id"):
        if col not in videos.column_names:
            raise InputError(f"videos lacks column {col!r}", field=col)


def find_communities(
    videos: pa.Table,
    events: pa.Table | None = None,
    comments: pa.Table | None = None,
    links: pa.Table | None = None,
    *,
    config: CommunityConfig | None = None,
    safety: pa.Table | SafetyHook | None = None,
    lingo_top_n: int = 20,
) -> CommunityResult:
    """Detect, name, size, profile and bridge communities (see the module docstring).

    Only *videos* is required (``video_id, creator_id`` and any of ``hashtags,
    sound_id, effect_ids, view_count, description, transcript, created_at``). No
    videos, or no shared items, gives a result with zero communities.
    """
    cfg = (config or CommunityConfig()).validate()
    _check_videos(videos)
    ic = detect_items(videos, events, links, cfg)
    k = ic.n_communities
    labels = ic.item_labels()
    inc = ic.incidence
    mw, tk = cfg.membership_min_weight, cfg.membership_top_k
    vm = video_memberships(inc, labels, k, min_weight=mw, top_k=tk)
    mems: dict[str, Memberships] = {"video": vm}
    for kind in ("creator", "hashtag", "sound"):
        if kind in cfg.kinds and (inc.col_kinds == kind).any():
            mems[kind] = known_for(inc, vm, labels, k, kind, min_weight=mw, top_k=tk)
    eng = None
    if events is not None and events.num_rows:
        eng = engagement(events, videos=inc.rows, weights=cfg.engagement)
        mems["viewer"] = interested_in(eng, vm, min_weight=mw, top_k=tk)
    members = pa.concat_tables([m.to_arrow() for m in mems.values()]) if k else _empty_members()
    row_primary = _row_primary(videos, vm)
    names, tags = name_communities(inc, vm, k, stop=set(ic.stop))
    size = sizes(videos, vm, mems.get("creator"), mems.get("viewer"), k)
    item_counts = {
        kind: np.bincount([labels[x] for x in labels if x.startswith(kind + ":")], minlength=k)[:k]
        for kind in ("hashtag", "sound")
    }
    communities = pa.table(
        {
            "community_id": np.arange(k, dtype=np.int64),
            "name": names,
            "top_hashtags": tags,
            **{c: size[c] for c in ("views", "videos", "creators", "viewers")},
            "hashtags": item_counts["hashtag"].astype(np.int64),
            "sounds": item_counts["sound"].astype(np.int64),
        },
        schema=COMMUNITY_SCHEMA,
    )
    items = ic.spread.append_column(
        "community_id",
        pa.array([labels.get(x, -1) for x in ic.spread["item_id"].to_pylist()], pa.int64()),
    )
    lingo_t = (
        _lingo(videos, comments, row_primary, k, lingo_top_n) if k else LINGO_SCHEMA.empty_table()
    )
    profiles = profile_table(
        videos, row_primary, k, events=events, comments=comments, safety=safety
    )
    evidence = [mems[x] for x in ("viewer", "creator", "video") if x in mems]
    bridges = find_bridges(
        evidence,
        k,
        incidence=inc,
        video_primary=vm.primary,
        creators=mems.get("creator"),
        stop=set(ic.stop),
    )
    prof = ic.detector.profile_ if ic.detector is not None else None
    res_t = (
        prof.to_arrow()
        if prof is not None
        else pa.table({"resolution": pa.array([], pa.float64())})
    )
    return CommunityResult(communities, members, items, lingo_t, profiles, bridges, res_t, ic, mems)


def _empty_members() -> pa.Table:
    return MEMBER_SCHEMA.empty_table()


def _row_primary(videos: pa.Table, vm: Memberships) -> np.ndarray:
    """Community of each row of *videos* (-1: none), via the membership's video ids."""
    idx = pc.index_in(
        videos["video_id"].cast(pa.string()),
        value_set=pa.array(vm.members.astype(str).tolist(), pa.string()),
    )
    pos = pc.fill_null(idx, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(pos >= 0, vm.primary[np.maximum(pos, 0)], -1)


def _lingo(
    videos: pa.Table, comments: pa.Table | None, primary: np.ndarray, k: int, top_n: int
) -> pa.Table:
    texts: list[str | None] = []
    groups: list[np.ndarray] = []
    for col in ("description", "transcript"):
        if col in videos.column_names:
            texts.extend(videos[col].to_pylist())
            groups.append(primary)
    if (
        comments is not None
        and comments.num_rows
        and {"video_id", "text"} <= set(comments.column_names)
    ):
        idx = pc.index_in(
            comments["video_id"].cast(pa.string()), value_set=videos["video_id"].cast(pa.string())
        )
        pos = pc.fill_null(idx, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        texts.extend(comments["text"].to_pylist())
        groups.append(np.where(pos >= 0, primary[np.maximum(pos, 0)], -1))
    if not texts:
        return LINGO_SCHEMA.empty_table()
    return lingo(texts, np.concatenate(groups), k, top_n=top_n)
