"""Reading the feed's inputs from a store: videos, windowed events, follows, community
memberships and labels, onboarding interests, moderation labels (no fitting here)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError
from ..core.schema import EVENT_COLUMNS
from ..core.timeutil import to_utc
from ..store.base import Store, in_key_order
from .feed_service import CommunityLabels

MEMBERS = "community_members"
COMMUNITIES = "communities"
VISIBILITY = "visibility"
VIDEO_COLUMNS = ("video_id", "creator_id", "created_at", "duration_s", "hashtags", "sound_id")
TS_TYPE = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True, eq=False)
class FeedInputs:
    """What training reads from the store (Arrow tables, no store handle)."""

    videos: pa.Table
    events: pa.Table
    follows: pa.Table | None
    video_communities: pa.Table | None
    viewer_communities: pa.Table | None
    labels: CommunityLabels
    onboarding: dict[str, tuple[str, ...]]
    visibility: dict[str, str]
    start: datetime | None
    end: datetime | None
    communities_source: str
    fingerprint: str = ""

    def summary(self) -> dict[str, Any]:
        return {
            "videos": self.videos.num_rows,
            "events": self.events.num_rows,
            "follows": 0 if self.follows is None else self.follows.num_rows,
            "communities": len(self.labels.label_of),
            "communities_source": self.communities_source,
            "visibility_labels": len(self.visibility),
            "window_start": self.start.isoformat() if self.start else None,
            "window_end": self.end.isoformat() if self.end else None,
        }


def time_window(t: pa.Table, col: str, lo: datetime | None, hi: datetime | None) -> pa.Table:
    """Rows of *t* with *col* in (lo, hi]; a null time is kept unless *col* is ``ts``."""
    if t.num_rows == 0 or (lo is None and hi is None):
        return t
    ts = pc.cast(t[col], TS_TYPE)
    mask = pc.is_valid(ts) if col == "ts" else pa.array([True] * t.num_rows)
    if lo is not None:
        mask = pc.and_(mask, pc.greater(ts, pa.scalar(lo, TS_TYPE)))
    if hi is not None:
        mask = pc.and_kleene(mask, pc.fill_null(pc.less_equal(ts, pa.scalar(hi, TS_TYPE)), True))
    return t.filter(mask)


def _memberships(store: Store, labels_table: pa.Table | None) -> tuple[Any, Any, CommunityLabels]:
    m = store.read(MEMBERS)
    need = {"member_kind", "member_id", "community_id"}
    if not need <= set(m.column_names):
        return None, None, CommunityLabels()
    ids = [str(c) for c in m["community_id"].to_pylist()]
    labels = CommunityLabels.from_table(labels_table, ids)
    kind = m["member_kind"]
    weight = (
        pc.cast(m["weight"], pa.float64())
        if "weight" in m.column_names
        else pa.array(np.ones(m.num_rows))
    )
    lab = pa.array([labels.label_of[c] for c in ids], pa.string())
    out = []
    for k, key in (("video", "video_id"), ("viewer", "viewer_id")):
        mask = pc.equal(kind, k)
        t = pa.table(
            {
                key: pc.cast(m["member_id"], pa.string()).filter(mask),
                "community_id": lab.filter(mask),
                "weight": weight.filter(mask),
            }
        )
        out.append(t if t.num_rows else None)
    return out[0], out[1], labels


def _onboarding(store: Store) -> dict[str, tuple[str, ...]]:
    if store.count("viewers") == 0:
        return {}
    t = store.read("viewers", ["viewer_id", "interests"])
    return {
        str(v): tuple(i)
        for v, i in zip(t["viewer_id"].to_pylist(), t["interests"].to_pylist(), strict=True)
        if i
    }


def visibility_labels(store: Store) -> dict[str, str]:
    if not store.has_result(VISIBILITY):
        return {}
    t = store.read(VISIBILITY)
    if not {"item_id", "label"} <= set(t.column_names):
        return {}
    if "item_kind" in t.column_names:
        t = t.filter(pc.equal(t["item_kind"], "video"))
    return {
        str(i): str(lab)
        for i, lab in zip(t["item_id"].to_pylist(), t["label"].to_pylist(), strict=True)
        if lab
    }


def _fingerprint(inputs: FeedInputs) -> str:
    h = hashlib.blake2b(digest_size=12)
    ev = inputs.events
    span = pc.min_max(ev["ts"]).as_py() if ev.num_rows else {}
    for part in (
        inputs.videos.num_rows,
        ev.num_rows,
        span.get("min"),
        span.get("max"),
        0 if inputs.follows is None else inputs.follows.num_rows,
        sorted(inputs.labels.label_of.items()),
        0 if inputs.video_communities is None else inputs.video_communities.num_rows,
    ):
        h.update(repr(part).encode())
    for video, label in sorted(inputs.visibility.items()):
        h.update(f"{video}={label};".encode())
    return h.hexdigest()


def load_feed_inputs(
    store: Store,
    *,
    end: datetime | None = None,
    window_days: float | None = None,
    communities: bool = True,
    viewer_memberships: bool = True,
) -> FeedInputs:
    """Read the feed's inputs: videos uploaded by *end*, events in (end − window, end]
    (all when not given), follows, community memberships (when *communities* and the
    results exist), onboarding interests and video visibility labels."""
    if window_days is not None and not (isinstance(window_days, int | float) and window_days > 0):
        raise InputError(f"must be > 0, got {window_days!r}", field="window_days")
    end = to_utc(end, field="end") if end is not None else None
    # sorted: training breaks ties by row order, which differs between backends
    videos = in_key_order(store.read("videos", list(VIDEO_COLUMNS)), "videos")
    events = in_key_order(store.read("events", list(EVENT_COLUMNS)), "events")
    if end is None and window_days is not None and events.num_rows:
        end = pc.max(events["ts"]).as_py()
    start = end - timedelta(days=float(window_days)) if end and window_days else None
    events = time_window(events, "ts", start, end)
    videos = time_window(videos, "created_at", None, end)
    follows = None
    if store.count("follows"):
        follows = time_window(
            in_key_order(
                store.read("follows", ["follower_id", "followee_id", "created_at"]), "follows"
            ),
            "created_at",
            None,
            end,
        )
    vc = wc = None
    labels = CommunityLabels()
    source = "none"
    if communities and store.has_result(MEMBERS):
        comm_table = store.read(COMMUNITIES) if store.has_result(COMMUNITIES) else None
        vc, wc, labels = _memberships(store, comm_table)
        if vc is not None:
            source = "communities result"
        if not viewer_memberships:
            wc = None
    inputs = FeedInputs(
        videos=videos,
        events=events,
        follows=follows,
        video_communities=vc,
        viewer_communities=wc,
        labels=labels,
        onboarding=_onboarding(store),
        visibility=visibility_labels(store),
        start=start,
        end=end,
        communities_source=source,
    )
    return FeedInputs(**{**inputs.__dict__, "fingerprint": _fingerprint(inputs)})
