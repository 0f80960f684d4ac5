"""Ambassadors: an explainable fit score per creator for one community.

Components (each shown, each turned into a percentile rank among the candidates, then
blended with :class:`AmbassadorWeights`):

* ``reach`` — distinct viewers from the community's audience the creator reached;
* ``audience_share`` — share of the creator's distinct viewers who belong to the
  community's audience;
* ``engagement_per_view`` — (likes + shares + comments + follows) / impressions,
  quick likes (no watch time) excluded;
* ``cocreation`` — duets / stitches / reuses their videos sparked, per video;
* ``consistency`` — share of the window's weeks with at least one upload;
* ``growth`` — impressions in the second half of the window over the first (log ratio);
* ``brand_safety`` — 1 − share of moderated (flagged) comments on their videos.

Creators flagged for fake engagement or pods (:mod:`.fraud`) keep their components but
get ``fit = 0`` and say why: they are shown, never recommended.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError

COMPONENTS = (
    "reach",
    "audience_share",
    "engagement_per_view",
    "cocreation",
    "consistency",
    "growth",
    "brand_safety",
)
WEEK_US = 7 * 86400 * 1_000_000


@dataclass(frozen=True)
class AmbassadorWeights:
    reach: float = 0.3
    audience_share: float = 0.2
    engagement_per_view: float = 0.15
    cocreation: float = 0.1
    consistency: float = 0.1
    growth: float = 0.05
    brand_safety: float = 0.1

    def normalised(self) -> dict[str, float]:
        w = asdict(self)
        if any(v < 0 for v in w.values()) or sum(w.values()) <= 0:
            raise InputError("weights must be >= 0 and not all 0", field="weights")
        s = sum(w.values())
        return {k: v / s for k, v in w.items()}


def _pct(x: np.ndarray) -> np.ndarray:
    if x.size <= 1:
        return np.ones_like(x, dtype=float)
    from scipy.stats import rankdata

    return (rankdata(x, method="average") - 1) / (x.size - 1)


def ambassador_scores(
    videos: pa.Table,
    events: pa.Table,
    community_audience: pa.Array | pa.ChunkedArray | list[str],
    *,
    candidates: list[str] | None = None,
    links: pa.Table | None = None,
    comment_flags: pa.Table | None = None,
    fraud: pa.Table | None = None,
    weights: AmbassadorWeights | None = None,
    min_impressions: int = 20,
    quick_watch_s: float = 3.0,
) -> pa.Table:
    """Rank *candidates* (default: every creator in *videos*) for one community.

    *videos*: ``video_id, creator_id, created_at``; *events*: ``viewer_id, video_id, ts,
    watch_time_s, completed, liked, shared, commented, followed``;
    *community_audience*: the community's viewer ids; *links*: ``parent_video_id``
    rows (co-creation); *comment_flags*: ``video_id, flagged`` (bool) per comment;
    *fraud*: :func:`~communitok.insights.fraud.engagement_flags` output.
    Creators with fewer than *min_impressions* impressions are left out (too thin).
    """
    w = (weights or AmbassadorWeights()).normalised()
    if videos.num_rows == 0 or events.num_rows == 0:
        raise InputError("no videos or events for ambassadors", field="events")
    aud = set(
        community_audience.to_pylist()
        if isinstance(community_audience, pa.Array | pa.ChunkedArray)
        else community_audience
    )
    if not aud:
        raise InputError("the community has no audience", field="community")
    vid = videos["video_id"].to_pylist()
    vcre = videos["creator_id"].to_pylist()
    v2c = dict(zip(vid, vcre, strict=True))
    cands = sorted(set(vcre) if candidates is None else set(candidates))
    cidx = {c: i for i, c in enumerate(cands)}
    n = len(cands)
    ec = np.array([cidx.get(v2c.get(v), -1) for v in events["video_id"].to_pylist()])
    keep = ec >= 0
    ev = events.filter(pa.array(keep))
    ec = ec[keep]

    def b(c: str) -> np.ndarray:
        return pc.fill_null(ev[c], False).to_numpy(zero_copy_only=False).astype(bool)

    watch = pc.fill_null(ev["watch_time_s"], 0.0).to_numpy(zero_copy_only=False)
    quick = b("liked") & (watch < quick_watch_s) & ~b("completed")
    acts = (b("liked") & ~quick).astype(float) + b("shared") + b("commented") + b("followed")
    impressions = np.bincount(ec, minlength=n).astype(float)
    epv = np.bincount(ec, weights=acts, minlength=n) / np.maximum(impressions, 1)
    viewers = ev["viewer_id"].to_pylist()
    seen: list[set[str]] = [set() for _ in range(n)]
    for c, v in zip(ec, viewers, strict=True):
        seen[c].add(v)
    n_viewers = np.array([len(s) for s in seen], float)
    reach = np.array([len(s & aud) for s in seen], float)
    share = np.divide(reach, n_viewers, out=np.zeros(n), where=n_viewers > 0)
    ts = pc.cast(ev["ts"], pa.int64()).to_numpy(zero_copy_only=False)
    lo, hi = (ts.min(), ts.max()) if ts.size else (0, 1)
    mid = (lo + hi) / 2
    first = np.bincount(ec, weights=ts < mid, minlength=n)
    second = np.bincount(ec, weights=ts >= mid, minlength=n)
    growth = np.log((second + 1) / (first + 1))
    # uploads: consistency and co-creation
    up = pc.cast(videos["created_at"], pa.int64()).to_numpy(zero_copy_only=False)
    vc = np.array([cidx.get(c, -1) for c in vcre])
    weeks_total = max(1, int(np.ceil((max(hi, up.max()) - min(lo, up.min()) + 1) / WEEK_US)))
    week = ((up - min(lo, up.min())) // WEEK_US).astype(np.int64)
    active: list[set[int]] = [set() for _ in range(n)]
    for c, wk in zip(vc, week, strict=True):
        if c >= 0:
            active[c].add(int(wk))
    consistency = np.array([len(a) / weeks_total for a in active])
    n_videos = np.bincount(vc[vc >= 0], minlength=n).astype(float)
    sparked = np.zeros(n)
    if links is not None and links.num_rows:
        for p in links["parent_video_id"].to_pylist():
            c = cidx.get(v2c.get(p), -1)
            if c >= 0:
                sparked[c] += 1
    cocre = sparked / np.maximum(n_videos, 1)
    safety = np.ones(n)
    if comment_flags is not None and comment_flags.num_rows:
        tot, bad = np.zeros(n), np.zeros(n)
        for v, f in zip(
            comment_flags["video_id"].to_pylist(), comment_flags["flagged"].to_pylist(), strict=True
        ):
            c = cidx.get(v2c.get(v), -1)
            if c >= 0:
                tot[c] += 1
                bad[c] += bool(f)
        safety = 1 - np.divide(bad, tot, out=np.zeros(n), where=tot > 0)
    ok = impressions >= min_impressions
    if not ok.any():
        raise InputError(
            f"no creator has {min_impressions}+ impressions: too little data", field="events"
        )
    raw = {
        "reach": reach,
        "audience_share": share,
        "engagement_per_view": epv,
        "cocreation": cocre,
        "consistency": consistency,
        "growth": growth,
        "brand_safety": safety,
    }
    idx = np.flatnonzero(ok)
    pct = {k: _pct(v[idx]) for k, v in raw.items()}
    fit = np.sum([w[k] * pct[k] for k in COMPONENTS], axis=0)
    flags: dict[str, list[str]] = {}
    if fraud is not None and fraud.num_rows:
        f = fraud.to_pydict()
        for c, fe, pod, why in zip(
            f["creator_id"], f["fake_engagement"], f["pod"], f["reasons"], strict=True
        ):
            if fe or pod:
                flags[c] = [*(["fake_engagement"] if fe else []), *(["pod"] if pod else []), *why]
    names = [cands[i] for i in idx]
    fit = np.array([0.0 if c in flags else x for c, x in zip(names, fit, strict=True)])
    cols: dict[str, object] = {
        "creator_id": names,
        "fit": fit,
        "impressions": impressions[idx].astype(np.int64),
        "viewers": n_viewers[idx].astype(np.int64),
        "videos": n_videos[idx].astype(np.int64),
    }
    for k in COMPONENTS:
        cols[k] = raw[k][idx]
        cols[f"{k}_pct"] = pct[k]
    cols["flagged"] = [c in flags for c in names]
    cols["flags"] = pa.array([flags.get(c, []) for c in names], pa.list_(pa.string()))
    t = pa.table(cols)
    t = t.sort_by([("fit", "descending"), ("creator_id", "ascending")])
    return t.append_column("rank", pa.array(np.arange(1, t.num_rows + 1), pa.int64()))
