"""Seeded series with planted bursts: known answers for tests and benchmarks.

Hourly counts per series: a background rate (log-normal across series, many small),
the platform's daily rhythm, a weekly wobble, gamma-Poisson (negative binomial) noise
and, for a share of series, one burst with a triangular profile (linear rise to the
peak, linear decay) whose peak is ``magnitude ×`` the background (new items, with no
background, get a fixed small one). This is the same generative shape as the
simulator's planted bursts (``communitok.simulate``), but independent of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..core.errors import InputError
from ..core.seeds import rng as make_rng
from .series import SeriesMatrix

#: relative activity per UTC hour (evening peak), as in the simulator
HOUR_WEIGHTS = np.array(
    [3, 2, 1.5, 1, 1, 1, 1.5, 2, 3, 3.5, 4, 4, 4.5, 4.5, 4.5, 5, 5.5, 6, 7, 8, 8.5, 8, 6, 4.5]
)


@dataclass(frozen=True)
class Planted:
    """The series and the truth: one row per planted burst (bins, hourly)."""

    matrix: SeriesMatrix
    truth: pa.Table


def planted_series(
    n_series: int = 200,
    days: int = 28,
    *,
    burst_share: float = 0.3,
    magnitude: tuple[float, float] = (5.0, 30.0),
    duration_h: tuple[float, float] = (24.0, 120.0),
    base_median: float = 2.0,
    dispersion: float = 20.0,
    new_item_share: float = 0.3,
    seed: int = 0,
    start_us: int = 1_704_067_200_000_000,
) -> Planted:
    """*n_series* hourly series over *days*; a *burst_share* of them carry one burst."""
    if n_series < 1 or days < 2:
        raise InputError("need n_series >= 1 and days >= 2", field="n_series")
    g = make_rng(seed)
    n_t = days * 24
    hours = np.arange(n_t)
    f = HOUR_WEIGHTS[hours % 24] / HOUR_WEIGHTS.mean()
    week = 1.0 + 0.15 * np.sin(2 * np.pi * hours / (24 * 7))
    base = base_median * np.exp(g.normal(0, 1.2, n_series)) / 24.0  # per hour
    rate = base[:, None] * (f * week)[None, :]
    bursty = np.flatnonzero(g.random(n_series) < burst_share)
    truth: dict[str, list] = {"series": [], "start": [], "peak": [], "end": [], "magnitude": []}
    for i in bursty.tolist():
        dur = g.uniform(*duration_h)
        s = int(g.uniform(0.15, 0.85) * n_t - dur / 2)
        s = max(24, min(s, n_t - int(dur) - 1))
        e = s + int(dur)
        p = s + int(g.uniform(0.2, 0.5) * dur)
        mag = g.uniform(*magnitude)
        new = g.random() < new_item_share
        b0 = max(base[i], 0.2) if not new else 0.25
        if new:
            rate[i, :s] = 0.0
            rate[i, s:] *= 0.1
        prof = np.zeros(n_t)
        prof[s : p + 1] = np.linspace(0, 1, p - s + 1)
        prof[p : e + 1] = np.linspace(1, 0, e - p + 1)
        rate[i] += mag * b0 * prof * f
        truth["series"].append(i)
        truth["start"].append(s)
        truth["peak"].append(p)
        truth["end"].append(e)
        truth["magnitude"].append(mag)
    lam = g.gamma(dispersion, np.maximum(rate, 1e-12) / dispersion)
    counts = g.poisson(lam).astype(np.float64)
    keys = pa.table(
        {
            "kind": pa.array(["hashtag"] * n_series),
            "item": pa.array([f"tag{i:04d}" for i in range(n_series)]),
            "scope": pa.array(["all"] * n_series),
        }
    )
    m = SeriesMatrix(keys, counts, start_us, 3_600_000_000)
    return Planted(m, pa.table({k: pa.array(v) for k, v in truth.items()}))


@dataclass(frozen=True)
class BurstScore:
    """Detected bursts against planted ones (bins; hourly when built here)."""

    n_planted: int
    n_detected: int
    true_positives: int
    precision: float
    recall: float
    f1: float
    false_alarms: int
    false_alarms_per_1000_series_days: float
    median_lead_bins: float
    n_lead: int

    def to_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


def score_bursts(
    detected: pa.Table,
    truth: pa.Table,
    matrix: SeriesMatrix,
    *,
    baseline_alarm: np.ndarray | None = None,
    tolerance: int = 0,
) -> BurstScore:
    """Match detections to planted bursts of the same series whose span (± *tolerance*
    bins) overlaps. *truth* has ``series`` (row of *matrix*), ``start`` and ``end`` as
    bin numbers or timestamps. Lead = first alarm of *baseline_alarm* (S×T bool, e.g.
    :func:`~.bursts.topk_alarms`) − ``detected_at``, in bins, over planted bursts both
    detectors catch inside the planted span. False alarms are per 1,000 series-days."""
    d_s = (
        np.asarray(detected.column("series_index").to_numpy())
        if detected.num_rows
        else np.empty(0, int)
    )
    d_a, d_b, d_at = (_bins(detected, c, matrix) for c in ("start", "end", "detected_at"))
    t_s = np.asarray(truth.column("series").to_numpy())
    t_a = _bins(truth, "start", matrix) - tolerance
    t_b = _bins(truth, "end", matrix) + tolerance
    n_series = matrix.n_series
    n_days = matrix.n_bins * matrix.step_us / 86_400e6
    matched_d = np.zeros(d_s.size, bool)
    leads = []
    tp = 0
    for j in range(t_s.size):
        hit = np.flatnonzero((d_s == t_s[j]) & (d_a <= t_b[j]) & (d_b >= t_a[j]))
        if hit.size:
            tp += 1
            matched_d[hit] = True
            first = min((d_at[h] for h in hit if d_at[h] >= 0), default=-1)
            if baseline_alarm is not None and first >= 0:
                lo = max(t_a[j] + tolerance, 0)  # both detectors timed from the planted start
                b = np.flatnonzero(baseline_alarm[t_s[j], lo : t_b[j] + 1])
                if b.size:
                    leads.append(lo + int(b[0]) - max(first, lo))
    n_det = int(d_s.size)
    prec = float(matched_d.mean()) if n_det else 1.0
    rec = tp / t_s.size if t_s.size else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
    fa = int((~matched_d).sum())
    return BurstScore(
        int(t_s.size), n_det, tp, prec, rec, f1, fa, 1000.0 * fa / max(n_series * n_days, 1e-9),
        float(np.median(leads)) if leads else float("nan"), len(leads),
    )  # fmt: skip


def _bins(tab: pa.Table, col: str, m: SeriesMatrix) -> np.ndarray:
    """Bin numbers of an integer or timestamp column (-1 for nulls)."""
    if tab.num_rows == 0:
        return np.empty(0, np.int64)
    c = tab.column(col)
    if not pa.types.is_timestamp(c.type):
        return np.asarray(c.fill_null(-1).to_numpy(), np.int64)
    us = np.asarray(c.cast(pa.int64()).to_numpy(zero_copy_only=False), np.float64)
    ok = np.isfinite(us)
    b = np.floor_divide(np.where(ok, us, 0) - m.start_us, m.step_us).astype(np.int64)
    return np.where(ok, b, -1)
