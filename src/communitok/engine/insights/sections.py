"""Sections shared by the listening report and the content brief: item activity
(hashtags, sounds, effects) with the people who saw it, lingo with moderated examples,
the community's trends, and its audience overlap with other communities (bridges)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ...core.errors import InputError
from ...insights.content import lingo_examples
from ...insights.listen import item_activity, overlap_intervals
from ...insights.overlap import audience_overlap, shared_people
from ...insights.partner import partner_lingo, partner_overlap
from ...safety.privacy import PartnerAggregate
from ...store.base import Store
from ._common import PRIMARY_VIDEOS, _flagged_comments, community_audience

_USES = """WITH cv AS (SELECT v.video_id, v.creator_id, v.created_at, v.hashtags, v.sound_id,
  v.effect_ids FROM videos v JOIN ({primary}) m ON m.video_id = v.video_id
  WHERE m.community_id = ?)
SELECT 'hashtag' AS kind, lower(t.item) AS item, cv.video_id, cv.creator_id, cv.created_at
  FROM cv, unnest(cv.hashtags) AS t(item)
UNION ALL SELECT 'sound' AS kind, cv.sound_id AS item, cv.video_id, cv.creator_id,
  cv.created_at FROM cv WHERE cv.sound_id IS NOT NULL
UNION ALL SELECT 'effect' AS kind, f.item AS item, cv.video_id, cv.creator_id, cv.created_at
  FROM cv, unnest(cv.effect_ids) AS f(item)"""


def stop_tags(store: Store) -> set[str]:
    """Hashtags community detection marked as platform-wide filler."""
    if not store.has_result("community_items"):
        return set()
    it = store.read("community_items")
    if "stop" not in it.column_names or "item_id" not in it.column_names:
        return set()
    it = it.filter(pc.and_(pc.fill_null(it["stop"], False), pc.equal(it["kind"], "hashtag")))
    return {x.split(":", 1)[-1] for x in it["item_id"].to_pylist()}


def item_uses(store: Store, community_id: int) -> pa.Table:
    """``kind, item, video_id, creator_id, created_at`` of the community's videos."""
    return store.query(_USES.format(primary=PRIMARY_VIDEOS), [int(community_id)])


def item_people(store: Store, community_id: int) -> pa.Table:
    """``kind, item, viewer_id``: distinct non-skipping viewers of community videos
    carrying each item (the people a guarded item figure rests on)."""
    return store.query(
        f"SELECT DISTINCT u.kind, u.item, e.viewer_id FROM ({_USES.format(primary=PRIMARY_VIDEOS)})"
        " u JOIN events e ON e.video_id = u.video_id WHERE NOT coalesce(e.skipped, false)",
        [int(community_id)],
    )


def ranked(t: pa.Table, keep: pa.Array | pa.ChunkedArray, sort: list[tuple[str, str]]) -> pa.Table:
    t = t.filter(keep).sort_by(sort)
    return t.append_column("rank", pa.array(range(1, t.num_rows + 1), pa.int64()))


def activity(
    store: Store, community_id: int, *, recent_days: float = 7.0, end: datetime | None = None
) -> tuple[pa.Table, pa.Table]:
    """(item activity, people): :func:`~communitok.insights.listen.item_activity` of the
    community's videos plus ``filler`` (platform-wide stop tag) and ``signature_lift``
    (the community profile's signature sounds / effects), and the ``kind, item,
    viewer_id`` rows that guard it."""
    videos = store.query(
        f"SELECT v.video_id, v.created_at FROM videos v JOIN ({PRIMARY_VIDEOS}) m "
        "ON m.video_id = v.video_id WHERE m.community_id = ?",
        [int(community_id)],
    )
    if videos.num_rows == 0:
        raise InputError(f"community {community_id} has no videos", field="community")
    act = item_activity(item_uses(store, community_id), community_videos=videos,
                        recent_days=recent_days, end=end)  # fmt: skip
    stop, sig = stop_tags(store), _signature(store, community_id)
    pairs = list(zip(act["kind"].to_pylist(), act["item"].to_pylist(), strict=True))
    act = act.append_column("filler", pa.array([kd == "hashtag" and i in stop for kd, i in pairs]))
    act = act.append_column("signature_lift", pa.array([sig.get(x) for x in pairs], pa.float64()))
    return act, item_people(store, community_id)


def _signature(store: Store, community_id: int) -> dict[tuple[str, str], float]:
    """(kind, item) → lift of the community's signature sounds and effects."""
    if not store.has_result("community_profiles"):
        return {}
    p = store.read("community_profiles", filters={"community_id": int(community_id)})
    if p.num_rows == 0:
        return {}
    row = p.to_pylist()[0]
    out = {}
    for kind, col in (("sound", "signature_sounds"), ("effect", "signature_effects")):
        for x in row.get(col) or []:
            out[(kind, str(x["item"]))] = float(x["lift"])
    return out


def trend_rows(store: Store, community_id: int) -> pa.Table | None:
    """Trend results scoped to the community: the Discover rows plus series whose
    lifecycle stage is emerging, rising or peaking."""
    if not store.has_result("trend_discover") and not store.has_result("trend_lifecycle"):
        return None
    scope = str(community_id)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    if store.has_result("trend_discover"):
        d = store.read("trend_discover")
        for r in d.filter(pc.equal(d["scope"], scope)).to_pylist():
            rows[(r["kind"], r["item"])] = {"stage": r["stage"], "score": r["score"],
                                            "start": r["start"], "peak": r["peak"]}  # fmt: skip
    if store.has_result("trend_lifecycle"):
        lc = store.read("trend_lifecycle")
        live = pc.and_(pc.equal(lc["scope"], scope),
                       pc.is_in(lc["stage"], pa.array(["emerging", "rising", "peaking"])))  # fmt: skip
        for r in lc.filter(live).to_pylist():
            rows.setdefault((r["kind"], r["item"]), {"stage": r["stage"], "score": 0.0,
                            "start": r["burst_start"], "peak": r["burst_peak"]})  # fmt: skip
    ts = pa.timestamp("us", "UTC")
    order = sorted(rows, key=lambda x: (-(rows[x]["score"] or 0.0), x))
    return pa.table(
        {
            "rank": pa.array(range(1, len(order) + 1), pa.int64()),
            "kind": pa.array([x[0] for x in order], pa.string()),
            "item": pa.array([x[1] for x in order], pa.string()),
            "stage": pa.array([rows[x]["stage"] for x in order], pa.string()),
            "score": pa.array([rows[x]["score"] for x in order], pa.float64()),
            "start": pa.array([rows[x]["start"] for x in order], ts),
            "peak": pa.array([rows[x]["peak"] for x in order], ts),
        }
    )


def bridge_info(store: Store, community_id: int) -> dict[str, dict[str, Any]]:
    """Other community id (as text) → why the bridges result links it (no creator ids)."""
    if not store.has_result("bridges"):
        return {}
    b = store.read("bridges")
    out = {}
    for r in b.to_pylist():
        if community_id not in (r["community_a"], r["community_b"]):
            continue
        other = r["community_b"] if r["community_a"] == community_id else r["community_a"]
        out[str(other)] = {"bridge_lift": r.get("lift"), "bridge_q_value": r.get("q_value"),
                           "bridge_evidence": ", ".join(r.get("evidence_kinds") or []),
                           "bridge_hashtags": ", ".join(r.get("hashtags") or []),
                           "bridge_sounds": ", ".join(r.get("sounds") or [])}  # fmt: skip
    return out


def audience_pairs(store: Store, community_id: int) -> tuple[pa.Table, pa.Table]:
    """Overlap of the community's audience with every other community (with intervals,
    names and bridge reasons) and the shared-viewer rows that guard it."""
    aud = community_audience(store).rename_columns(["group", "person"])
    grp = pc.cast(aud["group"], pa.int64())
    mine = aud.filter(pc.equal(grp, int(community_id)))
    rest = aud.filter(pc.not_equal(grp, int(community_id)))
    if mine.num_rows == 0 or rest.num_rows == 0:
        raise InputError("no shared audience to compare", field="community")
    pop = store.query("SELECT count(DISTINCT viewer_id) AS n FROM events")["n"][0].as_py()
    ov = overlap_intervals(audience_overlap(mine, rest, population=pop))
    names = {str(r["community_id"]): r["name"] for r in
             store.read("communities", ["community_id", "name"]).to_pylist()}  # fmt: skip
    info = bridge_info(store, community_id)
    b = ov["b"].to_pylist()
    ov = ov.append_column("name_b", pa.array([names.get(x) for x in b], pa.string()))
    for col, typ in (("bridge_lift", pa.float64()), ("bridge_q_value", pa.float64()),
                     ("bridge_evidence", pa.string()), ("bridge_hashtags", pa.string()),
                     ("bridge_sounds", pa.string())):  # fmt: skip
        ov = ov.append_column(col, pa.array([info.get(x, {}).get(col) for x in b], typ))
    shared = shared_people(mine, rest).rename_columns(["a", "b", "viewer_id"])
    return ov, shared


def pairs_with(ov: pa.Table, shared: pa.Table, others: set[str], k: int) -> PartnerAggregate:
    ids = pa.array(sorted(others), pa.string())
    return partner_overlap(
        ov.filter(pc.is_in(ov["b"], ids)), shared.filter(pc.is_in(shared["b"], ids)), k=k
    )


def lingo_with_examples(
    store: Store, community_id: int, k: int
) -> tuple[PartnerAggregate | None, list[str]]:
    """The community's lingo with example usages from comments moderation left visible,
    words used by ≥ k distinct commenters only; ``None`` and a note when not available."""
    bad = _flagged_comments(store)
    lingo = store.read("community_lingo", filters={"community_id": int(community_id)}) \
        if store.has_result("community_lingo") else None  # fmt: skip
    if lingo is None or lingo.num_rows == 0:
        return None, ["no lingo found for this community"]
    if bad is None:
        return None, ["comments are not moderated yet (run `communitok safety classify`): "
                      "lingo examples withheld"]  # fmt: skip
    com = store.query(
        f"SELECT c.comment_id, c.user_id, c.text FROM comments c "
        f"JOIN ({PRIMARY_VIDEOS}) m ON m.video_id = c.video_id WHERE m.community_id = ?",
        [int(community_id)],
    ).sort_by("comment_id")  # rows come in no particular order; examples must not depend on it
    ex = lingo_examples(lingo, com, flagged=bad)
    if ex.num_rows == 0:
        return None, ["no moderated comment uses the community's lingo"]
    agg = partner_lingo(ex, k=k)
    notes = [] if agg.table.num_rows else [
        f"every lingo word has fewer than k={k} distinct commenters: withheld"
    ]  # fmt: skip
    return agg, notes
