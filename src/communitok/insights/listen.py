"""Listening report analytics: what a community posts, what is rising, how its words are
used, who else its audience watches.

Pure functions over tables the engine loads:

* :func:`item_activity` — per item (hashtag, sound, effect) on the community's videos:
  videos, creators, share of the community's videos with a Wilson interval, and its
  *growth* — the odds ratio of its use in the recent vs the previous period, with a
  Woolf interval; an item is *rising* when the interval's lower end is above 1;
* :func:`wilson`, :func:`odds_ratio_interval`, :func:`rate_ratio_interval` — the
  intervals partner figures carry (Wilson 1927; Woolf 1955 for log odds ratios; a
  Poisson rate ratio by the delta method on the log scale, ½ added to each count);
* :func:`overlap_intervals` — intervals for audience-overlap Jaccard (Wilson on
  ``shared / union``) and lift (``shared`` as Poisson count, log scale).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError
from .plan import two_sided_z

ITEM_KINDS = ("hashtag", "sound", "effect")


def wilson(
    successes: np.ndarray | float, trials: np.ndarray | float, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``successes / trials`` (0 trials → [0, 1])."""
    z = two_sided_z(confidence)
    x = np.asarray(successes, float)
    n = np.asarray(trials, float)
    if np.any(x < 0) or np.any(n < 0) or np.any(x > n):
        raise InputError("need 0 <= successes <= trials", field="successes")
    safe = np.maximum(n, 1e-12)
    p = x / safe
    den = 1 + z * z / safe
    mid = (p + z * z / (2 * safe)) / den
    half = z * np.sqrt(p * (1 - p) / safe + z * z / (4 * safe * safe)) / den
    lo = np.where(n > 0, np.clip(mid - half, 0, 1), 0.0)
    hi = np.where(n > 0, np.clip(mid + half, 0, 1), 1.0)
    return lo, hi


def rate_ratio_interval(
    a: np.ndarray | float,
    b: np.ndarray | float,
    scale: np.ndarray | float = 1.0,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratio of two Poisson counts ``scale · (a + ½) / (b + ½)`` with its interval
    ``exp(log ratio ± z √(1/(a+½) + 1/(b+½)))``."""
    z = two_sided_z(confidence)
    a_ = np.asarray(a, float) + 0.5
    b_ = np.asarray(b, float) + 0.5
    if np.any(a_ <= 0) or np.any(b_ <= 0):
        raise InputError("counts must be >= 0", field="counts")
    ratio = np.asarray(scale, float) * a_ / b_
    se = np.sqrt(1 / a_ + 1 / b_)
    return ratio, ratio * np.exp(-z * se), ratio * np.exp(z * se)


def odds_ratio_interval(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Odds ratio ``(a/b) / (c/d)`` of two 2×2 rows with its Woolf (log) interval, each
    cell + ½ (Haldane–Anscombe)."""
    z = two_sided_z(confidence)
    cells = [np.asarray(x, float) + 0.5 for x in (a, b, c, d)]
    if any(np.any(x <= 0) for x in cells):
        raise InputError("counts must be >= 0", field="counts")
    a_, b_, c_, d_ = cells
    ratio = (a_ / b_) / (c_ / d_)
    se = np.sqrt(1 / a_ + 1 / b_ + 1 / c_ + 1 / d_)
    return ratio, ratio * np.exp(-z * se), ratio * np.exp(z * se)


def item_activity(
    uses: pa.Table,
    *,
    community_videos: pa.Table,
    recent_days: float = 7.0,
    end: datetime | None = None,
    confidence: float = 0.95,
) -> pa.Table:
    """Per item: how much the community uses it and whether its use is rising.

    *uses*: ``kind, item, video_id, creator_id, created_at`` (one row per video and item,
    community videos only); *community_videos*: ``video_id, created_at`` of all the
    community's videos (the denominators). The recent period is the last *recent_days*
    before *end* (default: the last upload), the previous one the same span before it.

    Returns ``kind, item, videos, creators, share, share_low, share_high, recent,
    previous, growth, growth_low, growth_high, rising``, most used first. ``growth`` is
    the odds of the item among recent community videos over its odds among previous ones
    (1 = as before; the odds, not the share, so that a burst that swells the community
    still shows against the rest of it); null when the community posted nothing in one
    of the periods or the item in neither.
    """
    need = ("kind", "item", "video_id", "creator_id", "created_at")
    missing = [c for c in need if c not in uses.column_names]
    if missing:
        raise InputError(f"uses need columns {missing}", field="uses")
    if recent_days <= 0:
        raise InputError("must be > 0", field="recent_days")
    n_total = community_videos.num_rows
    if n_total == 0:
        raise InputError("the community has no videos", field="community")
    two_sided_z(confidence)
    times = pc.cast(community_videos["created_at"], pa.timestamp("us", "UTC"))
    t_end = pc.max(times).as_py() + timedelta(microseconds=1) if end is None else end
    if t_end.tzinfo is None:
        raise InputError("end must be timezone-aware (UTC)", field="end")
    span = timedelta(days=recent_days)
    cut, start = t_end - span, t_end - 2 * span

    def period(ts: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
        ts = pc.cast(ts, pa.timestamp("us", "UTC"))
        utc = pa.timestamp("us", "UTC")
        rec = pc.and_(pc.greater_equal(ts, pa.scalar(cut, utc)), pc.less(ts, pa.scalar(t_end, utc)))
        prev = pc.and_(
            pc.greater_equal(ts, pa.scalar(start, utc)), pc.less(ts, pa.scalar(cut, utc))
        )
        return (
            pc.fill_null(rec, False).to_numpy(zero_copy_only=False),
            pc.fill_null(prev, False).to_numpy(zero_copy_only=False),
        )

    all_rec, all_prev = period(times)
    n_rec, n_prev = int(all_rec.sum()), int(all_prev.sum())
    u = uses.select(list(need)).drop_null()
    rec, prev = period(u["created_at"])
    keys = list(zip(u["kind"].to_pylist(), u["item"].to_pylist(), strict=True))
    videos: dict[tuple[str, str], set[str]] = defaultdict(set)
    creators: dict[tuple[str, str], set[str]] = defaultdict(set)
    r_cnt: dict[tuple[str, str], int] = defaultdict(int)
    p_cnt: dict[tuple[str, str], int] = defaultdict(int)
    for i, (key, v, c) in enumerate(
        zip(keys, u["video_id"].to_pylist(), u["creator_id"].to_pylist(), strict=True)
    ):
        if v in videos[key]:
            continue
        videos[key].add(v)
        creators[key].add(c)
        r_cnt[key] += int(rec[i])
        p_cnt[key] += int(prev[i])
    order = sorted(videos, key=lambda k: (-len(videos[k]), k))
    nv = np.array([len(videos[k]) for k in order], float)
    lo, hi = wilson(np.minimum(nv, n_total), np.full(nv.size, n_total), confidence)
    r = np.array([r_cnt[k] for k in order], float)
    p = np.array([p_cnt[k] for k in order], float)
    if n_rec and n_prev:
        g, g_lo, g_hi = odds_ratio_interval(r, n_rec - r, p, n_prev - p, confidence)
        unused = (r + p) == 0  # not used in either period: no growth to speak of
        growth = [pa.array(np.where(unused, np.nan, x), pa.float64(), from_pandas=True)
                  for x in (g, g_lo, g_hi)]  # fmt: skip
        rising = pa.array((g_lo > 1) & ~unused, pa.bool_())
    else:
        growth = [pa.nulls(len(order), pa.float64()) for _ in range(3)]
        rising = pa.array([False] * len(order), pa.bool_())
    return pa.table(
        {
            "kind": pa.array([k[0] for k in order], pa.string()),
            "item": pa.array([k[1] for k in order], pa.string()),
            "videos": pa.array(nv.astype(np.int64), pa.int64()),
            "creators": pa.array([len(creators[k]) for k in order], pa.int64()),
            "share": pa.array(nv / n_total, pa.float64()),
            "share_low": pa.array(lo, pa.float64()),
            "share_high": pa.array(hi, pa.float64()),
            "recent": pa.array(r.astype(np.int64), pa.int64()),
            "previous": pa.array(p.astype(np.int64), pa.int64()),
            "growth": growth[0],
            "growth_low": growth[1],
            "growth_high": growth[2],
            "rising": rising,
        }
    )


def overlap_intervals(overlap: pa.Table, *, confidence: float = 0.95) -> pa.Table:
    """Add ``jaccard_low/high`` (Wilson on shared / union) and ``lift_low/high`` (shared
    as a Poisson count on the log scale) to :func:`~.overlap.audience_overlap` rows."""
    for c in ("size_a", "size_b", "shared", "lift"):
        if c not in overlap.column_names:
            raise InputError(f"missing column {c!r}", field="overlap")
    s = overlap["shared"].to_numpy(zero_copy_only=False).astype(float)
    a = overlap["size_a"].to_numpy(zero_copy_only=False).astype(float)
    b = overlap["size_b"].to_numpy(zero_copy_only=False).astype(float)
    lo, hi = wilson(s, np.maximum(a + b - s, s), confidence)
    lift = overlap["lift"].to_numpy(zero_copy_only=False).astype(float)
    z = two_sided_z(confidence)
    se = 1 / np.sqrt(np.maximum(s, 0.5))
    out = overlap
    for name, col in (
        ("jaccard_low", lo),
        ("jaccard_high", hi),
        ("lift_low", lift * np.exp(-z * se)),
        ("lift_high", lift * np.exp(z * se)),
    ):
        out = out.append_column(name, pa.array(col, pa.float64()))
    return out
