"""Engine wiring for partner insights: load inputs from the store (core tables and the
results of community detection and safety), run :mod:`communitok.insights`, and return
partner-facing figures through the k-anonymity guard (``settings.privacy_k``).

Inputs: ``videos``, ``events``, ``comments``, ``cocreation_links``, ``viewers`` and the
results ``communities``, ``community_members`` (primary video membership defines each
community's videos; their non-skipping viewers are its audience), ``community_lingo``,
``community_profiles``, ``community_items`` (stop tags) and, when present,
``visibility`` (comment moderation). Result written: ``engagement_flags`` (the fake
engagement / pod screen, by :func:`screen_engagement`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError, NotFound
from ..insights import (
    Brief,
    CampaignReadout,
    FraudConfig,
    ambassador_scores,
    audience_overlap,
    campaign_lift,
    cocreation_formats,
    community_documents,
    engagement_flags,
    hashtag_advice,
    lingo_examples,
    match_communities,
    partner_ambassadors,
    partner_campaign,
    partner_lingo,
    partner_matches,
    partner_overlap,
    partner_posting_windows,
    per_viewer_outcomes,
    shared_people,
)
from ..safety.privacy import PartnerAggregate
from ..store.base import Store

R = "result_"
FLAGS = "engagement_flags"
EV_COLS = "e.viewer_id, e.video_id, e.ts, e.watch_time_s, e.completed, e.liked, e.shared, " \
    "e.commented, e.followed"  # fmt: skip
PRIMARY_VIDEOS = (
    f"SELECT member_id AS video_id, community_id FROM {R}community_members "
    "WHERE member_kind = 'video' AND is_primary"
)


def _need(store: Store, *names: str) -> None:
    for n in names:
        if not store.has_result(n):
            raise NotFound(f"no {n!r} result yet: run `communitok communities detect` first")


def _k(store: Store, k: int | None) -> int:
    if k is not None:
        return k
    settings = getattr(store, "settings", None)
    return int(getattr(settings, "privacy_k", 50))


def _community(store: Store, community_id: int) -> dict[str, Any]:
    _need(store, "communities", "community_members")
    t = store.read("communities", filters={"community_id": int(community_id)})
    if t.num_rows == 0:
        raise NotFound(f"no community {community_id}")
    return t.to_pylist()[0]


def community_audience(store: Store, community_id: int | None = None) -> pa.Table:
    """``community_id, viewer_id``: distinct viewers who watched (did not skip) a primary
    video of the community."""
    _need(store, "community_members")
    where = "" if community_id is None else f"AND m.community_id = {int(community_id)}"
    return store.query(
        f"SELECT DISTINCT m.community_id, e.viewer_id FROM events e "
        f"JOIN ({PRIMARY_VIDEOS}) m ON m.video_id = e.video_id "
        f"WHERE NOT coalesce(e.skipped, false) {where}"
    )


def creator_audience(store: Store, creators: list[str] | None = None) -> pa.Table:
    """``creator_id, viewer_id``: distinct non-skipping viewers of each creator's videos."""
    where, params = "", None
    if creators is not None:
        if not creators:
            return pa.table({"creator_id": pa.array([], pa.string()),
                             "viewer_id": pa.array([], pa.string())})  # fmt: skip
        where = f"AND v.creator_id IN ({', '.join('?' * len(creators))})"
        params = list(creators)
    return store.query(
        "SELECT DISTINCT v.creator_id, e.viewer_id FROM events e "
        "JOIN videos v ON v.video_id = e.video_id "
        f"WHERE NOT coalesce(e.skipped, false) {where}",
        params,
    )


# -- brief → communities -------------------------------------------------------------
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


def match_brief(
    store: Store, brief: Brief, *, k: int | None = None, top_n: int = 10
) -> MatchReport:
    """Communities that fit *brief*, best first, each with the terms that matched."""
    brief.validate()
    _need(store, "communities", "community_members")
    k = _k(store, k)
    regions = region_shares(store) if brief.regions and store.count("viewers") else None
    m = match_communities(brief, _documents(store), _stats(store), regions=regions, top_n=top_n)
    if m.num_rows == 0:
        raise NotFound(
            "no community matches the brief's words; try the audience's hashtags or "
            "interests (briefs in another language match only shared hashtags)"
        )
    agg = partner_matches(m, community_audience(store), k=k)
    return MatchReport(asdict(brief), k, agg, agg.suppressed)


# -- audience overlap ------------------------------------------------------------------
def overlap(
    store: Store,
    kind: str = "community",
    *,
    community_id: int | None = None,
    top_creators: int = 30,
    k: int | None = None,
) -> PartnerAggregate:
    """Audience overlap as Jaccard and lift, pairs resting on ≥ k shared viewers.

    *kind*: ``community`` (community × community), ``creator-community`` (top creators
    of *community_id* — or of all — × communities) or ``creator`` (creator × creator among
    the top creators of *community_id*)."""
    if kind not in ("community", "creator-community", "creator"):
        raise InputError("kind is community, creator-community or creator", field="kind")
    _need(store, "communities", "community_members")
    k = _k(store, k)
    pop = store.query("SELECT count(DISTINCT viewer_id) AS n FROM events")["n"][0].as_py()
    comm = community_audience(store).rename_columns(["group", "person"])
    if comm.num_rows == 0:
        raise InputError("no viewing events for any community", field="events")
    if kind == "community":
        left, right = comm, None
    else:
        if community_id is not None:
            _community(store, community_id)
        creators = _top_creators(store, community_id, top_creators)
        left = creator_audience(store, creators).rename_columns(["group", "person"])
        right = None if kind == "creator" else comm
        if left.num_rows == 0:
            raise InputError("these creators have no viewers", field="community")
    ov = audience_overlap(left, right, population=pop)
    return partner_overlap(ov, shared_people(left, right), k=k)


def _top_creators(store: Store, community_id: int | None, n: int) -> list[str]:
    where = "" if community_id is None else f"WHERE m.community_id = {int(community_id)}"
    t = store.query(
        f"SELECT v.creator_id, count(*) AS n FROM videos v "
        f"JOIN ({PRIMARY_VIDEOS}) m ON m.video_id = v.video_id {where} "
        f"GROUP BY v.creator_id ORDER BY n DESC, v.creator_id LIMIT {int(n)}"
    )
    return t["creator_id"].to_pylist()


# -- fake engagement / pods and ambassadors ---------------------------------------------
def screen_engagement(store: Store, config: FraudConfig | None = None) -> pa.Table:
    """Flag fake engagement and pods over all creators; stores ``engagement_flags``."""
    if store.count("events") == 0 or store.count("videos") == 0:
        raise InputError("no videos or events to screen: ingest data first", field="events")
    videos = store.read("videos", ["video_id", "creator_id", "created_at"])
    events = store.read(
        "events",
        ["viewer_id", "video_id", "ts", "watch_time_s", "completed", "liked", "shared",
         "commented"],
    )  # fmt: skip
    run = store.start_run("insights-screen", asdict(config or FraudConfig()))
    flags = engagement_flags(videos, events, config)
    store.put_result(FLAGS, flags, run_id=run)
    store.finish_run(run, "ok", {"fake": int(pc.sum(flags["fake_engagement"]).as_py() or 0),
                                 "pod": int(pc.sum(flags["pod"]).as_py() or 0)})  # fmt: skip
    return flags


def _flagged_comments(store: Store) -> set[str] | None:
    if not store.has_result("visibility"):
        return None
    v = store.read("visibility", ["item_kind", "item_id", "label"])
    bad = pc.and_(pc.equal(v["item_kind"], "comment"), pc.not_equal(v["label"], "visible"))
    return set(v.filter(bad)["item_id"].to_pylist())


def ambassadors(
    store: Store, community_id: int, *, k: int | None = None, top_n: int = 20
) -> PartnerAggregate:
    """Creators ranked by fit for the community (components shown, flags explained);
    only creators with ≥ k distinct viewers are published."""
    _community(store, community_id)
    k = _k(store, k)
    flags = store.read(FLAGS) if store.has_result(FLAGS) else screen_engagement(store)
    cands = _top_creators(store, community_id, 10_000)
    if not cands:
        raise InputError(f"community {community_id} has no creators", field="community")
    ph = ", ".join("?" * len(cands))
    videos = store.query(
        f"SELECT video_id, creator_id, created_at FROM videos WHERE creator_id IN ({ph})", cands
    )
    events = store.query(
        f"SELECT {EV_COLS} FROM events e JOIN videos v ON v.video_id = e.video_id "
        f"WHERE v.creator_id IN ({ph})",
        cands,
    )
    aud = community_audience(store, community_id)["viewer_id"]
    links = (
        store.read("cocreation_links", ["parent_video_id", "kind"])
        if store.count("cocreation_links")
        else None
    )
    bad = _flagged_comments(store)
    cflags = None
    if bad is not None and store.count("comments"):
        c = store.read("comments", ["comment_id", "video_id"])
        cflags = pa.table({"video_id": c["video_id"],
                           "flagged": pc.is_in(c["comment_id"], pa.array(sorted(bad), pa.string()))})  # fmt: skip
    scores = ambassador_scores(
        videos, events, aud, candidates=cands, links=links, comment_flags=cflags, fraud=flags
    )
    return partner_ambassadors(scores.slice(0, top_n), creator_audience(store, cands), k=k)


# -- campaign read-out -----------------------------------------------------------------
@dataclass
class CampaignReport:
    campaign: dict[str, Any]
    readout: CampaignReadout
    arms: PartnerAggregate | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "readout": self.readout.to_dict(),
                "arms": self.arms.to_pylist() if self.arms else [], "notes": self.notes}  # fmt: skip


def _ts(x: datetime) -> pa.Scalar:
    if x.tzinfo is None:
        raise InputError("times must be timezone-aware (UTC)", field="window")
    return pa.scalar(x, pa.timestamp("us", "UTC"))


def campaign_readout(
    store: Store,
    hashtags: list[str],
    *,
    arms: pa.Table | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    community_id: int | None = None,
    k: int | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> CampaignReport:
    """Lift of treated over control viewers on the campaign's target community.

    The campaign's videos carry *hashtags*; the target community is where most of them
    sit (or *community_id*); the window defaults to the campaign videos' upload span.
    *arms* (``viewer_id, arm``) is the randomised assignment; without it, viewers who saw
    a campaign video are compared with the community's other viewers (observational:
    exposure is not random, read it as a correlation)."""
    tags = [t.lstrip("#").lower() for t in hashtags if t.strip("# ")]
    if not tags:
        raise InputError("give the campaign's hashtags", field="hashtags")
    _need(store, "community_members")
    k = _k(store, k)
    cond = " OR ".join("list_contains(hashtags, ?)" for _ in tags)
    camp = store.query(f"SELECT video_id, created_at FROM videos WHERE {cond}", tags)
    if camp.num_rows == 0:
        raise NotFound(f"no videos carry the campaign hashtags {tags}")
    notes: list[str] = []
    if community_id is None:
        prim = store.query(PRIMARY_VIDEOS)
        home = dict(
            zip(prim["video_id"].to_pylist(), prim["community_id"].to_pylist(), strict=True)
        )
        counts = Counter(home[v] for v in camp["video_id"].to_pylist() if v in home)
        if not counts:
            raise InputError(
                "the campaign videos belong to no community; pass one", field="community"
            )
        community_id = counts.most_common(1)[0][0]
    _community(store, community_id)
    start = start or pc.min(camp["created_at"]).as_py()
    end = end or pc.max(camp["created_at"]).as_py()
    if end <= start:
        raise InputError("the window is empty (end <= start)", field="window")
    events = store.query(
        f"SELECT {EV_COLS} FROM events e JOIN ({PRIMARY_VIDEOS}) m ON m.video_id = e.video_id "
        "WHERE m.community_id = ? AND e.ts >= ? AND e.ts < ?",
        [int(community_id), start, end],
    )
    if events.num_rows == 0:
        raise InputError("no events in the campaign window", field="window")
    if arms is None:
        seen = set(
            events.filter(pc.is_in(events["video_id"], camp["video_id"]))["viewer_id"].to_pylist()
        )
        ids = sorted(set(events["viewer_id"].to_pylist()))
        arms = pa.table({"viewer_id": ids,
                         "arm": ["treated" if v in seen else "control" for v in ids]})  # fmt: skip
        notes.append("no randomised arms given: exposed vs unexposed viewers (observational)")
    outcomes = per_viewer_outcomes(events, arms)
    readout = campaign_lift(outcomes, n_boot=n_boot, seed=seed)
    agg = partner_campaign(outcomes, readout, k=k)
    info = {"hashtags": tags, "community_id": community_id, "start": start.isoformat(),
            "end": end.isoformat(), "videos": camp.num_rows}  # fmt: skip
    if agg.table.num_rows < 2:
        notes.append(f"an arm has fewer than k={k} viewers: the read-out is withheld")
        readout = CampaignReadout(
            "abstain", f"an arm has fewer than k={k} viewers", readout.metric, 0, 0, 0, 0,
            None, None, None, None, None, readout.confidence, None, readout.method,
        )  # fmt: skip
    return CampaignReport(info, readout, agg, notes)


# -- content brief -----------------------------------------------------------------------
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


def content_brief(store: Store, community_id: int, *, k: int | None = None) -> ContentBrief:
    """What to post in the community: hashtags to use / avoid, sounds and effects in
    fashion, co-creation formats, posting hours, lingo with example usages."""
    row = _community(store, community_id)
    k = _k(store, k)
    members = store.read(
        "community_members", ["community_id", "member_kind", "member_id", "weight"]
    )
    stop: set[str] = set()
    if store.has_result("community_items"):
        it = store.read("community_items")
        if "stop" in it.column_names and "item_id" in it.column_names:
            it = it.filter(
                pc.and_(pc.fill_null(it["stop"], False), pc.equal(it["kind"], "hashtag"))
            )
            stop = {x.split(":", 1)[-1] for x in it["item_id"].to_pylist()}
    use, avoid = hashtag_advice(members, community_id, stop_tags=stop)
    prof = store.read("community_profiles", filters={"community_id": int(community_id)}) \
        if store.has_result("community_profiles") else None  # fmt: skip
    p = prof.to_pylist()[0] if prof is not None and prof.num_rows else {}
    vids = store.query(f"{PRIMARY_VIDEOS} AND community_id = ?", [int(community_id)])["video_id"]
    links = store.read("cocreation_links", ["parent_video_id", "kind"]) \
        if store.count("cocreation_links") else None  # fmt: skip
    events = store.query(
        f"SELECT {EV_COLS} FROM events e JOIN ({PRIMARY_VIDEOS}) m ON m.video_id = e.video_id "
        "WHERE m.community_id = ?",
        [int(community_id)],
    )
    if events.num_rows == 0:
        raise InputError("no activity for this community", field="community")
    notes: list[str] = []
    lingo_agg = None
    bad = _flagged_comments(store)
    lingo = store.read("community_lingo", filters={"community_id": int(community_id)}) \
        if store.has_result("community_lingo") else None  # fmt: skip
    if lingo is None or lingo.num_rows == 0:
        notes.append("no lingo found for this community")
    elif bad is None:
        notes.append("comments are not moderated yet (run `communitok safety classify`): "
                     "lingo examples withheld")  # fmt: skip
    else:
        com = store.query(
            f"SELECT c.comment_id, c.user_id, c.text FROM comments c "
            f"JOIN ({PRIMARY_VIDEOS}) m ON m.video_id = c.video_id WHERE m.community_id = ?",
            [int(community_id)],
        )
        ex = lingo_examples(lingo, com, flagged=bad)
        lingo_agg = partner_lingo(ex, k=k) if ex.num_rows else None
    bridges = []
    if store.has_result("bridges"):
        b = store.read("bridges")
        b = b.filter(pc.or_(pc.equal(b["community_a"], community_id),
                            pc.equal(b["community_b"], community_id)))  # fmt: skip
        bridges = b.select(["community_a", "community_b", "lift", "hashtags"]).to_pylist()
    return ContentBrief(
        community=row, k=k, use_hashtags=use.to_pylist(), avoid_hashtags=avoid.to_pylist(),
        sounds=list(p.get("signature_sounds") or []), effects=list(p.get("signature_effects") or []),
        formats=cocreation_formats(vids, links).to_pylist(),
        posting_windows=partner_posting_windows(events, k=k), lingo=lingo_agg,
        bridges=bridges, notes=notes,
    )  # fmt: skip
