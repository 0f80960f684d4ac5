"""Content brief on the store: what to post in a community."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ...core.errors import InputError
from ...insights import cocreation_formats, hashtag_advice, partner_items, partner_posting_windows
from ...safety.privacy import PartnerAggregate
from ...store.base import Store
from ._common import PRIMARY_VIDEOS, _community, _flagged_comments, _k, community_events
from .sections import (
    activity,
    audience_pairs,
    bridge_info,
    item_uses,
    lingo_with_examples,
    pairs_with,
    ranked,
    stop_tags,
)


@dataclass
class ContentBrief:
    community: dict[str, Any]
    k: int
    use_hashtags: list[dict[str, Any]]
    avoid_hashtags: list[dict[str, Any]]
    sounds: list[dict[str, Any]]
    effects: list[dict[str, Any]]
    formats: list[dict[str, Any]]
    posting_windows: PartnerAggregate
    lingo: PartnerAggregate | None
    bridges: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k not in ("posting_windows", "lingo")}
        d["posting_windows"] = self.posting_windows.to_pylist()
        d["lingo"] = self.lingo.to_pylist() if self.lingo else []
        return d


def _flagged_share(store: Store, community_id: int, uses: pa.Table) -> dict[str, float]:
    """Per hashtag: share of moderated comments on its community videos that were
    flagged (empty until comments are moderated)."""
    bad = _flagged_comments(store)
    if bad is None:
        return {}
    com = store.query(
        f"SELECT c.comment_id, c.video_id FROM comments c JOIN ({PRIMARY_VIDEOS}) m "
        "ON m.video_id = c.video_id WHERE m.community_id = ?",
        [int(community_id)],
    )
    per_video: dict[str, list[int]] = {}
    for cid, vid in zip(com["comment_id"].to_pylist(), com["video_id"].to_pylist(), strict=True):
        n = per_video.setdefault(vid, [0, 0])
        n[0] += 1
        n[1] += cid in bad
    tags = uses.filter(pc.equal(uses["kind"], "hashtag"))
    tot: dict[str, list[int]] = {}
    for tag, vid in zip(tags["item"].to_pylist(), tags["video_id"].to_pylist(), strict=True):
        if vid in per_video:
            t = tot.setdefault(tag, [0, 0])
            t[0] += per_video[vid][0]
            t[1] += per_video[vid][1]
    return {tag: b / n for tag, (n, b) in tot.items() if n >= 20}


def content_brief(
    store: Store, community_id: int, *, k: int | None = None, recent_days: float = 7.0
) -> ContentBrief:
    """What to post in the community: hashtags to use / avoid, sounds and effects in
    fashion, co-creation formats, posting hours, lingo with example usages, bridges."""
    row = _community(store, community_id)
    k = _k(store, k)
    members = store.read(
        "community_members", ["community_id", "member_kind", "member_id", "weight"]
    )
    events = community_events(store, community_id)
    if events.num_rows == 0:
        raise InputError("no activity for this community", field="community")
    act, people = activity(store, community_id, recent_days=recent_days)
    use, avoid = hashtag_advice(members, community_id, stop_tags=stop_tags(store),
                                flagged_share=_flagged_share(store, community_id,
                                                             item_uses(store, community_id)))  # fmt: skip
    # in fashion: the community's signature items and those rising now
    hot = pc.or_(pc.is_valid(act["signature_lift"]), act["rising"])
    order = [("signature_lift", "descending"), ("videos", "descending"), ("item", "ascending")]
    sounds = partner_items(ranked(act, pc.and_(pc.equal(act["kind"], "sound"), hot), order),
                           people, k=k)  # fmt: skip
    effects = partner_items(ranked(act, pc.and_(pc.equal(act["kind"], "effect"), hot), order),
                            people, k=k)  # fmt: skip
    vids = store.query(f"{PRIMARY_VIDEOS} AND community_id = ?", [int(community_id)])["video_id"]
    links = store.read("cocreation_links", ["parent_video_id", "kind"]) \
        if store.count("cocreation_links") else None  # fmt: skip
    lingo_agg, notes = lingo_with_examples(store, community_id, k)
    bridges: list[dict[str, Any]] = []
    try:
        ov, shared = audience_pairs(store, community_id)
    except InputError as exc:
        notes.append(f"bridges: {exc}")
    else:
        agg = pairs_with(ov, shared, set(bridge_info(store, community_id)), k)
        bridges = sorted(agg.to_pylist(), key=lambda r: -r["lift"])
    return ContentBrief(
        community=row, k=k, use_hashtags=use.to_pylist(), avoid_hashtags=avoid.to_pylist(),
        sounds=sounds.to_pylist(), effects=effects.to_pylist(),
        formats=cocreation_formats(vids, links).to_pylist(),
        posting_windows=partner_posting_windows(events, k=k), lingo=lingo_agg,
        bridges=bridges, notes=notes,
    )  # fmt: skip
