"""Fake engagement and engagement pods from the platform's own signals.

* **Likes without watch time**: a like after less than ``quick_watch_s`` seconds of a
  video that was not completed. Organic viewers rarely like what they skipped; bought
  likes do. A creator is flagged when at least ``min_quick_likes`` of their likes, and a
  share ``quick_like_share`` of them, are quick.
* **Engagement pods** (co-engagement timing + account clusters): account ``a`` *pods*
  creator ``b`` when ``a`` engaged (liked, commented or shared) with at least
  ``pod_coverage`` of ``b``'s videos (and ``min_pod_videos`` of them) within
  ``window_s`` of upload. Reciprocal pod edges between accounts that are creators form
  a graph; its connected components of ``min_pod_size`` or more accounts are pods.
Both are features an outside tool cannot compute: they need watch time and event times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..core.errors import InputError

FRAUD_SCHEMA = pa.schema(
    [
        ("creator_id", pa.string()),
        ("likes", pa.int64()),
        ("quick_likes", pa.int64()),
        ("quick_like_share", pa.float64()),
        ("fast_engagers", pa.int64()),
        ("pod_id", pa.int64()),
        ("pod_size", pa.int64()),
        ("fake_engagement", pa.bool_()),
        ("pod", pa.bool_()),
        ("reasons", pa.list_(pa.string())),
    ]
)


@dataclass(frozen=True)
class FraudConfig:
    quick_watch_s: float = 3.0
    quick_like_share: float = 0.25
    min_quick_likes: int = 3
    window_s: float = 3600.0
    pod_coverage: float = 0.6
    min_pod_videos: int = 1
    min_pod_size: int = 3


def _np(t: pa.Table, c: str, default: object) -> np.ndarray:
    return pc.fill_null(t[c], default).to_numpy(zero_copy_only=False)


def engagement_flags(
    videos: pa.Table, events: pa.Table, config: FraudConfig | None = None
) -> pa.Table:
    """Per creator: quick-like counts, pod membership and the two flags with reasons.

    *videos*: ``video_id, creator_id, created_at``; *events*: ``viewer_id, video_id, ts,
    watch_time_s, completed, liked, commented, shared``.
    """
    cfg = config or FraudConfig()
    if videos.num_rows == 0 or events.num_rows == 0:
        raise InputError("no videos or events to screen", field="events")
    vid = videos["video_id"].to_pylist()
    creator = np.array(videos["creator_id"].to_pylist(), dtype=object)
    vidx = {v: i for i, v in enumerate(vid)}
    up = pc.cast(videos["created_at"], pa.int64()).to_numpy(zero_copy_only=False)
    ev_v = np.array([vidx.get(v, -1) for v in events["video_id"].to_pylist()])
    ok = ev_v >= 0
    ev = events.filter(pa.array(ok))
    ev_v = ev_v[ok]
    creators, c_of_v = np.unique(creator, return_inverse=True)
    ec = c_of_v[ev_v]
    liked = _np(ev, "liked", False).astype(bool)
    watch = _np(ev, "watch_time_s", 0.0).astype(float)
    done = _np(ev, "completed", False).astype(bool)
    quick = liked & (watch < cfg.quick_watch_s) & ~done
    nc = len(creators)
    likes = np.bincount(ec, weights=liked, minlength=nc).astype(np.int64)
    qlikes = np.bincount(ec, weights=quick, minlength=nc).astype(np.int64)
    share = np.divide(qlikes, likes, out=np.zeros(nc), where=likes > 0)
    fake = (qlikes >= cfg.min_quick_likes) & (share >= cfg.quick_like_share)

    # pods: fast engagement edges account → creator
    ts = pc.cast(ev["ts"], pa.int64()).to_numpy(zero_copy_only=False)
    engaged = (
        liked | _np(ev, "commented", False).astype(bool) | _np(ev, "shared", False).astype(bool)
    )
    fast = engaged & ((ts - up[ev_v]) <= cfg.window_s * 1e6) & (ts >= up[ev_v])
    acct = np.array(ev["viewer_id"].to_pylist(), dtype=object)[fast]
    fv, fc = ev_v[fast], ec[fast]
    n_videos = np.bincount(c_of_v, minlength=nc)
    cidx = {c: i for i, c in enumerate(creators)}
    # distinct (account, video) then count videos per (account, creator)
    pairs: dict[tuple[int, int], set[int]] = {}
    for a, v, c in zip(acct, fv, fc, strict=True):
        ai = cidx.get(a)
        if ai is None or ai == c:  # only accounts that are creators can be pod members
            continue
        pairs.setdefault((ai, int(c)), set()).add(int(v))
    fast_engagers = np.zeros(nc, np.int64)
    rows, cols = [], []
    for (a, c), vs in pairs.items():
        if len(vs) >= cfg.min_pod_videos and len(vs) >= cfg.pod_coverage * n_videos[c]:
            rows.append(a)
            cols.append(c)
            fast_engagers[c] += 1
    g = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(nc, nc))
    mutual = g.minimum(g.T)
    _, lab = connected_components(mutual, directed=False)
    deg = np.asarray((mutual > 0).sum(axis=1)).ravel()
    sizes = np.bincount(lab)
    in_pod = (deg > 0) & (sizes[lab] >= cfg.min_pod_size)
    pod_ids = {lbl: i for i, lbl in enumerate(sorted(set(lab[in_pod])))}
    reasons = []
    for i in range(nc):
        r = []
        if fake[i]:
            r.append(
                f"{qlikes[i]} of {likes[i]} likes ({share[i]:.0%}) came after < "
                f"{cfg.quick_watch_s:g}s of watching"
            )
        if in_pod[i]:
            r.append(
                f"reciprocal engagement within {cfg.window_s / 60:g} min of upload with "
                f"{sizes[lab[i]] - 1} other creators"
            )
        reasons.append(r)
    return pa.table(
        {
            "creator_id": pa.array(creators.astype(str)),
            "likes": likes,
            "quick_likes": qlikes,
            "quick_like_share": share,
            "fast_engagers": fast_engagers,
            "pod_id": pa.array(
                [pod_ids[lab[i]] if in_pod[i] else None for i in range(nc)], pa.int64()
            ),
            "pod_size": pa.array(
                [int(sizes[lab[i]]) if in_pod[i] else None for i in range(nc)], pa.int64()
            ),
            "fake_engagement": fake,
            "pod": in_pod,
            "reasons": pa.array(reasons, pa.list_(pa.string())),
        },
        schema=FRAUD_SCHEMA,
    )


def precision_recall(flagged: set[str], truth: set[str], population: set[str]) -> dict[str, float]:
    """Precision, recall and false-positive rate of *flagged* against *truth*."""
    tp = len(flagged & truth)
    neg = population - truth
    return {
        "precision": tp / len(flagged) if flagged else 1.0,
        "recall": tp / len(truth) if truth else 1.0,
        "false_positive_rate": len(flagged & neg) / len(neg) if neg else 0.0,
        "flagged": len(flagged),
        "truth": len(truth),
    }
