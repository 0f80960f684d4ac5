"""Shared loaders of the partner-insights engine: the privacy threshold, community and
creator audiences, moderation flags, the community's videos and events."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ...core.errors import NotFound
from ...store.base import Store

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


def _flagged_comments(store: Store) -> set[str] | None:
    """Ids of comments moderation did not leave ``visible`` (``None``: not moderated)."""
    if not store.has_result("visibility"):
        return None
    v = store.read("visibility", ["item_kind", "item_id", "label"])
    bad = pc.and_(pc.equal(v["item_kind"], "comment"), pc.not_equal(v["label"], "visible"))
    return set(v.filter(bad)["item_id"].to_pylist())


def _top_creators(store: Store, community_id: int | None, n: int) -> list[str]:
    where = "" if community_id is None else f"WHERE m.community_id = {int(community_id)}"
    t = store.query(
        f"SELECT v.creator_id, count(*) AS n FROM videos v "
        f"JOIN ({PRIMARY_VIDEOS}) m ON m.video_id = v.video_id {where} "
        f"GROUP BY v.creator_id ORDER BY n DESC, v.creator_id LIMIT {int(n)}"
    )
    return t["creator_id"].to_pylist()


def community_events(store: Store, community_id: int) -> pa.Table:
    """Events on the community's primary videos (``EV_COLS``)."""
    return store.query(
        f"SELECT {EV_COLS} FROM events e JOIN ({PRIMARY_VIDEOS}) m ON m.video_id = e.video_id "
        "WHERE m.community_id = ?",
        [int(community_id)],
    )
