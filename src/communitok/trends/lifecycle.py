"""Lifecycle stage of every series at the end of its window.

Stages (checked in this order, all in bins of the series' grain):

* ``emerging``: a burst is under way and began at most ``emerging_bins`` ago;
* ``rising``: under way, the smoothed level still climbing (log-slope over the last
  ``slope_bins`` above ``+slope_tol``);
* ``peaking``: under way, no longer climbing, within ``peak_share`` of the burst's
  smoothed peak;
* ``declining``: under way, no longer climbing and below ``peak_share`` of its peak,
  or a burst that ended at most ``decline_bins`` ago;
* ``evergreen``: no burst in the last ``decline_bins``, active (count > 0) in at least
  ``evergreen_active`` of the last ``evergreen_bins`` bins;
* ``dormant``: none of the above (too little recent activity to call a stage).

"Under way" means the burst's last bin is within ``grace_bins`` of the window end.
The stage names follow the product life-cycle view of trends used in social-media
trend studies (e.g. Asur, Huberman, Szabo & Wang, "Trends in social media:
persistence and decay", ICWSM 2011).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..core.errors import InputError
from .series import SeriesMatrix

STAGES = ("emerging", "rising", "peaking", "declining", "evergreen", "dormant")


def _ewma(x: np.ndarray, span: float) -> np.ndarray:
    a = 2.0 / (span + 1.0)
    out = np.empty_like(x, dtype=np.float64)
    acc = x[:, 0].astype(np.float64) if x.shape[1] else np.zeros(x.shape[0])
    for t in range(x.shape[1]):
        acc = acc + a * (x[:, t] - acc)
        out[:, t] = acc
    return out


@dataclass
class LifecycleClassifier:
    """Stage per series from its counts and its bursts (see module doc)."""

    smooth_bins: float = 12.0
    slope_bins: int = 6
    slope_tol: float = 0.05
    emerging_bins: int = 12
    peak_share: float = 0.75
    grace_bins: int = 2
    decline_bins: int = 72
    evergreen_bins: int = 168
    evergreen_active: float = 0.5

    def __post_init__(self) -> None:
        if self.slope_bins < 1 or self.emerging_bins < 0 or self.decline_bins < 0:
            raise InputError("bin counts must be positive", field="slope_bins")
        if not 0 < self.peak_share <= 1 or not 0 < self.evergreen_active <= 1:
            raise InputError("shares must be in (0, 1]", field="peak_share")

    def classify(self, matrix: SeriesMatrix, bursts: pa.Table) -> pa.Table:
        """Return the series keys with ``stage``, ``level`` (smoothed count per bin now),
        ``slope`` (log change over ``slope_bins``) and ``burst_start`` / ``burst_peak``
        of the latest burst (null when none)."""
        x = np.asarray(matrix.values, np.float64)
        n_s, n_t = x.shape
        stage = np.full(n_s, "dormant", dtype=object)
        level = np.zeros(n_s)
        slope = np.zeros(n_s)
        last_start = np.full(n_s, -1, np.int64)
        last_peak = np.full(n_s, -1, np.int64)
        last_end = np.full(n_s, -1, np.int64)
        if n_t and n_s:
            sm = _ewma(x, self.smooth_bins)
            level = sm[:, -1]
            back = min(self.slope_bins, n_t - 1)
            slope = np.log1p(sm[:, -1]) - np.log1p(sm[:, -1 - back]) if back else np.zeros(n_s)
            if bursts.num_rows:
                rows = np.asarray(bursts.column("series_index").to_numpy(), np.int64)
                step, t0 = matrix.step_us, matrix.start_us

                def b(c: str) -> np.ndarray:
                    us = np.asarray(bursts.column(c).cast(pa.int64()).to_numpy(), np.int64)
                    return (us - t0) // step

                st, en = b("start"), b("end")
                order = np.argsort(st, kind="stable")  # later bursts overwrite earlier
                last_start[rows[order]] = st[order]
                last_end[rows[order]] = en[order]
            has = last_start >= 0
            peak_sm = np.zeros(n_s)
            for i in np.flatnonzero(has).tolist():
                seg = sm[i, last_start[i] : last_end[i] + 1]
                j = int(np.argmax(seg))
                peak_sm[i] = seg[j]
                last_peak[i] = last_start[i] + j
            end = n_t - 1
            under_way = has & (last_end >= end - self.grace_bins)
            recent = has & ~under_way & (last_end >= end - self.decline_bins)
            near_peak = level >= self.peak_share * np.maximum(peak_sm, 1e-12)
            w = min(self.evergreen_bins, n_t)
            active = (x[:, n_t - w :] > 0).mean(1)
            evergreen = ~(under_way | recent) & (active >= self.evergreen_active)
            stage[evergreen] = "evergreen"
            stage[recent] = "declining"
            flat = slope <= self.slope_tol
            stage[under_way & ~near_peak & flat] = "declining"
            stage[under_way & near_peak & flat] = "peaking"
            stage[under_way & ~flat] = "rising"
            stage[under_way & (end - last_start <= self.emerging_bins)] = "emerging"

        def ts(v: np.ndarray) -> pa.Array:
            return pa.array(matrix.bin_us(np.maximum(v, 0)), pa.int64(), mask=v < 0).cast(
                pa.timestamp("us", tz="UTC")
            )

        out = matrix.keys
        out = out.append_column("stage", pa.array(stage.tolist(), pa.string()))
        out = out.append_column("level", pa.array(level, pa.float64()))
        out = out.append_column("slope", pa.array(slope, pa.float64()))
        out = out.append_column("burst_start", ts(last_start))
        return out.append_column("burst_peak", ts(last_peak))


def lifecycle(matrix: SeriesMatrix, bursts: pa.Table, **params: object) -> pa.Table:
    """One-shot twin of :class:`LifecycleClassifier`."""
    return LifecycleClassifier(**params).classify(matrix, bursts)  # type: ignore[arg-type]
