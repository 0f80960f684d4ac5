"""Engagement targets: duration-debiased watch time plus explicit and negative signals.

Raw watch time favours short videos (a 7 s clip is "completed" far more often than a
3 min one). Following D2Q (Zhan et al., "Deconfounding Duration Bias in Watch-time
Prediction for Video Recommendation", KDD 2022) the watch time of an impression is
replaced by its *quantile within its duration bucket*: 0.9 means "watched longer than
90 % of impressions of similarly long videos". The engagement target of one event is

    target = w_watch * q + w_complete * completed + w_like * liked + w_share * shared
           + w_comment * commented + w_follow * followed
           + w_skip * skipped + w_not_interested * not_interested

with negative default weights for the two negative signals. Positive targets feed the
viewer-video interaction matrix; negative ones feed the suppression lists.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa

from ..core.errors import InputError

SIGNALS = ("completed", "liked", "shared", "commented", "followed", "skipped", "not_interested")


@dataclass(frozen=True)
class EngagementWeights:
    """Weights of the signals in the engagement target (see module docstring)."""

    watch: float = 1.0
    completed: float = 0.25
    liked: float = 1.0
    shared: float = 2.0
    commented: float = 1.0
    followed: float = 2.0
    skipped: float = -0.5
    not_interested: float = -3.0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, int | float) or not np.isfinite(v):
                raise InputError(f"must be a finite number, got {v!r}", field=f.name)


class DurationDebiaser:
    """Map (watch time, duration) to the watch-time quantile within a duration bucket.

    Parameters
    ----------
    n_buckets : number of equal-frequency duration buckets.
    n_quantiles : resolution of the per-bucket watch-time quantile grid.

    Learned state: ``edges_`` (duration bucket edges) and ``grid_`` (n_buckets × n_quantiles+1
    watch-time quantiles). Events without a duration use the pooled distribution.
    """

    def __init__(self, n_buckets: int = 10, n_quantiles: int = 100) -> None:
        if not isinstance(n_buckets, int) or n_buckets < 1:
            raise InputError(f"must be an integer >= 1, got {n_buckets!r}", field="n_buckets")
        if not isinstance(n_quantiles, int) or n_quantiles < 2:
            raise InputError(f"must be an integer >= 2, got {n_quantiles!r}", field="n_quantiles")
        self.n_buckets = n_buckets
        self.n_quantiles = n_quantiles

    def fit(self, watch_time_s: np.ndarray, duration_s: np.ndarray) -> DurationDebiaser:
        w, d = _as_float(watch_time_s, "watch_time_s"), _as_float(duration_s, "duration_s")
        if w.shape != d.shape:
            raise InputError("watch_time_s and duration_s differ in length", field="duration_s")
        ok = np.isfinite(w)
        probs = np.linspace(0.0, 1.0, self.n_quantiles + 1)
        pooled = np.quantile(w[ok], probs) if ok.any() else np.zeros_like(probs)
        has_d = ok & np.isfinite(d)
        if has_d.any():
            inner = np.quantile(d[has_d], np.linspace(0, 1, self.n_buckets + 1)[1:-1])
            self.edges_ = np.unique(inner)
        else:
            self.edges_ = np.zeros(0)
        nb = len(self.edges_) + 1
        grid = np.tile(pooled, (nb, 1))
        bucket = np.searchsorted(self.edges_, d[has_d], side="right")
        for b in range(nb):
            wb = w[has_d][bucket == b]
            if len(wb):
                grid[b] = np.quantile(wb, probs)
        self.grid_ = grid
        self.pooled_ = pooled
        return self

    def transform(self, watch_time_s: np.ndarray, duration_s: np.ndarray) -> np.ndarray:
        """Quantile in [0, 1] per event; NaN where the watch time is missing."""
        if not hasattr(self, "grid_"):
            raise InputError("DurationDebiaser is not fitted; call fit() first")
        w, d = _as_float(watch_time_s, "watch_time_s"), _as_float(duration_s, "duration_s")
        out = np.full(len(w), np.nan)
        has_d = np.isfinite(d)
        bucket = np.where(has_d, np.searchsorted(self.edges_, np.nan_to_num(d), side="right"), -1)
        for b in np.unique(bucket):
            m = (bucket == b) & np.isfinite(w)
            grid = self.pooled_ if b < 0 else self.grid_[b]
            out[m] = _interp_quantile(w[m], grid)
        return out

    def fit_transform(self, watch_time_s: np.ndarray, duration_s: np.ndarray) -> np.ndarray:
        return self.fit(watch_time_s, duration_s).transform(watch_time_s, duration_s)


def _interp_quantile(x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Mid-rank of *x* among the quantile grid: ties (e.g. many zero watch times) get
    the middle of their quantile range instead of its top."""
    lo = np.searchsorted(grid, x, side="left")
    hi = np.searchsorted(grid, x, side="right")
    return np.clip((lo + hi) / 2.0 / len(grid), 0.0, 1.0)


def _as_float(a: object, field: str) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("must be numeric", field=field) from None
    if arr.ndim != 1:
        raise InputError("must be one-dimensional", field=field)
    return arr


def _bool_col(events: pa.Table, name: str) -> np.ndarray:
    if name not in events.column_names:
        return np.zeros(events.num_rows, dtype=bool)
    col = events.column(name).to_numpy(zero_copy_only=False)
    return np.asarray([bool(v) if v is not None else False for v in col], dtype=bool)


def engagement_target(
    events: pa.Table,
    duration_s: np.ndarray,
    *,
    debiaser: DurationDebiaser | None = None,
    weights: EngagementWeights | None = None,
) -> np.ndarray:
    """Engagement target per event row (float64); see the module docstring.

    ``duration_s`` gives the duration of each event's video (NaN when unknown). Without
    a fitted ``debiaser`` one is fitted on these events. Events without a watch time
    count as a quantile of 0.5 (neutral) when nothing else is known.
    """
    weights = weights or EngagementWeights()
    n = events.num_rows
    dur = _as_float(duration_s, "duration_s")
    if len(dur) != n:
        raise InputError(f"has {len(dur)} values for {n} events", field="duration_s")
    if "watch_time_s" in events.column_names:
        watch = _as_float(
            events.column("watch_time_s").to_numpy(zero_copy_only=False).astype(float),
            "watch_time_s",
        )
    else:
        watch = np.full(n, np.nan)
    if debiaser is None:
        debiaser = DurationDebiaser().fit(watch, dur) if np.isfinite(watch).any() else None
    q = debiaser.transform(watch, dur) if debiaser is not None else np.full(n, np.nan)
    target = weights.watch * np.nan_to_num(q, nan=0.5)
    for s in SIGNALS:
        target = target + getattr(weights, s) * _bool_col(events, s)
    return target


def event_signals(events: pa.Table) -> dict[str, np.ndarray]:
    """The boolean signal columns of an events table (missing → False)."""
    return {s: _bool_col(events, s) for s in SIGNALS}
