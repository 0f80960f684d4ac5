"""Listening report on the store: what one community posts and says, what is rising,
which trends run through it, where its audience also goes.

Every section is a guarded aggregate (rows of at least ``k`` distinct people, with their
``n_people``) carrying an interval; sections that cannot be shown say why in ``notes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow.compute as pc

from ...core.errors import InputError
from ...insights.partner import partner_items, partner_trends
from ...safety.privacy import PartnerAggregate, k_anonymous_aggregate
from ...store.base import Store
from ._common import _community, _k, community_audience
from .sections import (
    activity,
    audience_pairs,
    bridge_info,
    lingo_with_examples,
    pairs_with,
    ranked,
    trend_rows,
)


@dataclass
class ListeningReport:
    community: dict[str, Any]
    k: int
    #: the community's audience, when it reaches k (else the report abstains)
    n_people: int | None
    top_hashtags: PartnerAggregate | None = None
    rising_hashtags: PartnerAggregate | None = None
    sounds: PartnerAggregate | None = None
    effects: PartnerAggregate | None = None
    lingo: PartnerAggregate | None = None
    trends: PartnerAggregate | None = None
    bridges: PartnerAggregate | None = None
    overlap: PartnerAggregate | None = None
    window: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    SECTIONS = (
        "top_hashtags",
        "rising_hashtags",
        "sounds",
        "effects",
        "lingo",
        "trends",
        "bridges",
        "overlap",
    )

    @property
    def status(self) -> str:
        return "ok" if self.n_people is not None else "abstain"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "community": self.community,
            "status": self.status,
            "k": self.k,
            "n_people": self.n_people,
            "window": self.window,
        }
        for s in self.SECTIONS:
            agg = getattr(self, s)
            d[s] = agg.to_pylist() if agg is not None else []
            if s in ("bridges", "overlap"):  # strongest ties first
                d[s].sort(key=lambda r: (-r["lift"], r["b"]))
            d[f"{s}_suppressed"] = agg.suppressed if agg is not None else 0
        d["notes"] = self.notes
        return d


def listen(
    store: Store,
    community_id: int,
    *,
    targets: Sequence[int] = (),
    k: int | None = None,
    recent_days: float = 7.0,
    end: datetime | None = None,
) -> ListeningReport:
    """The listening report of one community (see the module doc). *targets*: the
    brand's other target communities, for the audience-overlap section; *end*: the end
    of the recent period (default: the community's last upload), *recent_days* its span
    (rising items compare it with the span before)."""
    row = _community(store, community_id)
    k = _k(store, k)
    if recent_days <= 0:
        raise InputError("must be > 0", field="recent_days")
    targets = [int(t) for t in targets]
    for t in targets:
        _community(store, t)
    head = {"community_id": row["community_id"], "name": row["name"]}
    size = k_anonymous_aggregate(community_audience(store, community_id), by=["community_id"],
                                 person="viewer_id", metrics={}, k=k)  # fmt: skip
    if size.table.num_rows == 0:
        return ListeningReport(head, k, None, notes=[
            f"the community's audience has fewer than k={k} distinct viewers: "
            "nothing about it is shown"])  # fmt: skip
    rep = ListeningReport({**row, "top_hashtags": list(row.get("top_hashtags") or [])}, k,
                          int(size.table["n_people"][0].as_py()))  # fmt: skip
    act, people = activity(store, community_id, recent_days=recent_days, end=end)
    kind, filler = act["kind"], act["filler"]
    tags = pc.and_(pc.equal(kind, "hashtag"), pc.invert(filler))
    by_use = [("videos", "descending"), ("item", "ascending")]
    rep.top_hashtags = partner_items(ranked(act, tags, by_use), people, k=k)
    rising = pc.and_(tags, act["rising"])
    rep.rising_hashtags = partner_items(
        ranked(act, rising, [("growth_low", "descending"), ("item", "ascending")]), people, k=k
    )
    rep.sounds = partner_items(ranked(act, pc.equal(kind, "sound"), by_use), people, k=k)
    rep.effects = partner_items(ranked(act, pc.equal(kind, "effect"), by_use), people, k=k)
    rep.lingo, notes = lingo_with_examples(store, community_id, k)
    rep.notes += notes
    trends = trend_rows(store, community_id)
    if trends is None:
        rep.notes.append("no trend results yet (run `communitok trends discover --refresh`)")
    else:
        rep.trends = partner_trends(trends, people, k=k)
    try:
        ov, shared = audience_pairs(store, community_id)
    except InputError as exc:
        rep.notes.append(f"audience overlap: {exc}")
    else:
        bridged = set(bridge_info(store, community_id))
        if not store.has_result("bridges"):
            rep.notes.append("no bridges result yet (run `communitok communities detect`)")
        rep.bridges = pairs_with(ov, shared, bridged, k)
        if targets:
            rep.overlap = pairs_with(ov, shared, {str(t) for t in targets if t != community_id}, k)
    rep.window = {"recent_days": recent_days, "end": end, "items": act.num_rows}
    return rep
