"""Brief → communities on the store: community documents and stats, region shares,
the k-anonymity guard on the matches."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ...core.errors import InputError, NotFound
from ...insights import Brief, community_documents, match_communities, partner_matches
from ...safety.privacy import PartnerAggregate
from ...store.base import Store
from ._common import PRIMARY_VIDEOS, _k, _need, community_audience


@dataclass
class MatchReport:
    brief: dict[str, Any]
    k: int
    matches: PartnerAggregate
    #: communities that matched but were withheld (audience under k)
    suppressed: int

    def to_dict(self) -> dict[str, Any]:
        return {"brief": self.brief, "k": self.k, "suppressed": self.suppressed,
                "matches": self.matches.to_pylist()}  # fmt: skip


def _documents(store: Store) -> dict[int, Any]:
    members = store.read(
        "community_members", ["community_id", "member_kind", "member_id", "weight"]
    )
    members = members.filter(pc.equal(members["member_kind"], "hashtag"))
    lingo = store.read("community_lingo") if store.has_result("community_lingo") else None
    captions = store.query(
        f"SELECT m.community_id, v.description FROM videos v "
        f"JOIN ({PRIMARY_VIDEOS}) m ON m.video_id = v.video_id WHERE v.description IS NOT NULL"
    )
    return community_documents(members, lingo, captions)


def _stats(store: Store) -> pa.Table:
    comms = store.read("communities", ["community_id", "name", "views"])
    if not store.has_result("community_profiles"):
        return comms
    p = store.read("community_profiles")
    eng = pc.add(pc.fill_null(p["like_rate"], 0.0), pc.fill_null(p["share_rate"], 0.0))
    prof = pa.table(
        {
            "community_id": p["community_id"],
            "growth": p["impression_growth"],
            "engagement": eng,
            "safety_health": p["safety_health"],
        }
    )
    return comms.join(prof, "community_id", join_type="left outer")


def region_shares(store: Store) -> pa.Table:
    """``community_id, region, share`` of each community's audience by viewer region."""
    t = store.query(
        f"SELECT a.community_id, w.region, count(*) AS n FROM ("
        f"SELECT DISTINCT m.community_id, e.viewer_id FROM events e "
        f"JOIN ({PRIMARY_VIDEOS}) m ON m.video_id = e.video_id) a "
        f"JOIN viewers w ON w.viewer_id = a.viewer_id GROUP BY a.community_id, w.region"
    )
    tot = t.group_by("community_id").aggregate([("n", "sum")])
    t = t.join(tot, "community_id")
    return t.append_column("share", pc.divide(pc.cast(t["n"], pa.float64()), t["n_sum"]))


MATCHERS = {"lexical": None, "blend": 0.5, "embedding": 1.0}


def match_brief(
    store: Store, brief: Brief, *, k: int | None = None, top_n: int = 10,
    matcher: str = "lexical",
) -> MatchReport:  # fmt: skip
    """Communities that fit *brief*, best first, each with the terms that matched.

    *matcher*: ``lexical`` (BM25 over hashtags, lingo, captions), ``embedding`` (sentence
    embeddings, the optional extra) or ``blend`` (half each)."""
    brief.validate()
    if matcher not in MATCHERS:
        raise InputError(f"matcher is one of {', '.join(MATCHERS)}", field="matcher")
    _need(store, "communities", "community_members")
    k = _k(store, k)
    regions = region_shares(store) if brief.regions and store.count("viewers") else None
    docs = _documents(store)
    semantic, weight = None, MATCHERS[matcher]
    if weight is not None:
        from ...insights.embed import semantic_scores

        semantic = semantic_scores(brief, docs)
    m = match_communities(brief, docs, _stats(store), regions=regions, top_n=top_n,
                          semantic=semantic, semantic_weight=weight or 0.0)  # fmt: skip
    if m.num_rows == 0:
        raise NotFound(
            "no community matches the brief's words; try the audience's hashtags or "
            "interests (briefs in another language match only shared hashtags)"
        )
    agg = partner_matches(m, community_audience(store), k=k)
    return MatchReport({**asdict(brief), "matcher": matcher}, k, agg, agg.suppressed)
