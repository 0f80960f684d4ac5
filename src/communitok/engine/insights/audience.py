"""Audience overlap, the fake-engagement / pod screen and ambassadors on the store."""

from __future__ import annotations

from dataclasses import asdict

import pyarrow as pa
import pyarrow.compute as pc

from ...core.errors import InputError
from ...insights import (
    FraudConfig,
    ambassador_scores,
    audience_overlap,
    engagement_flags,
    partner_ambassadors,
    partner_overlap,
    shared_people,
)
from ...safety.privacy import PartnerAggregate
from ...store.base import Store
from ._common import (
    EV_COLS,
    FLAGS,
    _community,
    _flagged_comments,
    _k,
    _need,
    _top_creators,
    community_audience,
    creator_audience,
)


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
