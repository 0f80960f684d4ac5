"""Burst detection: Kleinberg's two-state automaton against a seasonal baseline.

For every series (vectorised over all series at once, one loop over time):

1. **Seasonal baseline** ``μ_t = max(L_t, floor) · f_t``: ``f`` is the platform's
   rhythm (hour of day, from the sum of all series, :func:`~.series.seasonal_profile`)
   and ``L_t`` a causal level (EWMA of the deseasonalised counts, half-life
   ``halflife`` bins, each update clipped at ``s·L`` so a burst barely lifts its own
   baseline; started at the median over periods of the per-period mean).
2. **Two-state automaton** (Kleinberg 2002, batched form): state 0 emits counts at rate
   ``μ_t``, state 1 at ``s·μ_t``; the emission cost is the negative log-likelihood of
   a negative binomial with size ``dispersion`` (Poisson when ``None``), moving up costs
   ``γ·ln T`` and moving down is free. Viterbi gives the optimal state sequence.
3. Each maximal run of state 1 is a **burst**: ``start``, ``peak`` (largest count),
   ``end``, ``weight`` = Kleinberg's weight (cost saved by the burst state, in nats,
   minus the entry cost), ``magnitude`` = peak count / baseline at the peak, and
   ``detected_at``, the first bin where the *forward* (causal) pass alone already
   prefers state 1: when an online detector would have raised the alarm.

References: J. Kleinberg, "Bursty and hierarchical structure in streams", KDD 2002
(Data Mining and Knowledge Discovery 7, 2003); S. Nikolov & D. Shah, "Trend or no
trend", 2012 (detection lead as the figure of merit); the NB surprise baseline follows
the count-data practice of Farrington-type outbreak detectors (Noufaily et al. 2013).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..core.errors import InputError
from .series import TS, SeriesMatrix, seasonal_profile

BURST_COLUMNS = (
    "series", "start", "peak", "end", "detected_at", "weight", "magnitude",
    "peak_count", "volume", "excess", "ongoing",
)  # fmt: skip


def _nll(x: np.ndarray, mu: np.ndarray, k: float | None) -> np.ndarray:
    """Negative log-likelihood up to terms free of ``mu`` (NB size *k*, or Poisson)."""
    mu = np.maximum(mu, 1e-9)
    if k is None:
        return mu - x * np.log(mu)
    return -(k * np.log(k / (k + mu)) + x * np.log(mu / (k + mu)))


@dataclass
class BurstDetector:
    """Kleinberg two-state burst detector over a :class:`SeriesMatrix` (module doc).

    Parameters: ``s`` burst-rate multiplier (> 1); ``gamma`` entry cost in units of
    ``ln T``; ``dispersion`` NB size (``None`` = Poisson; smaller = tolerate noisier
    counts); ``halflife`` of the baseline level in bins; ``floor`` minimum baseline
    count per bin; ``period`` seasonal period in bins (24 for hourly data; 1 = none);
    ``min_peak`` minimum count in the peak bin and ``min_weight`` minimum weight for a
    run of state 1 to be reported; runs closer than ``merge_gap`` bins are merged.
    """

    s: float = 3.0
    gamma: float = 1.0
    dispersion: float | None = 10.0
    halflife: float = 168.0
    floor: float = 0.05
    period: int = 24
    min_peak: float = 3.0
    min_weight: float = 10.0
    merge_gap: int = 0
    alarm_update: float = 0.25
    alarm_slack: float = 0.0

    def __post_init__(self) -> None:
        if not self.s > 1:
            raise InputError("must be > 1", field="s")
        if not self.gamma >= 0:
            raise InputError("must be >= 0", field="gamma")
        if self.dispersion is not None and not self.dispersion > 0:
            raise InputError("must be > 0 or None", field="dispersion")
        if not self.halflife > 0:
            raise InputError("must be > 0", field="halflife")
        if not self.floor > 0:
            raise InputError("must be > 0", field="floor")
        if self.period < 1 or self.merge_gap < 0:
            raise InputError("period must be >= 1 and merge_gap >= 0", field="period")

    def fit(self, matrix: SeriesMatrix, profile: np.ndarray | None = None) -> BurstDetector:
        """Detect bursts in every series. Learned: ``states_`` (bool S×T), ``alarm_``
        (causal forward alarms), ``baseline_`` (μ, S×T), ``profile_`` and ``bursts_``."""
        x = np.asarray(matrix.values, np.float64)
        if x.ndim != 2:
            raise InputError("values must be a 2-d series × bins matrix", field="values")
        if np.any(x < 0) or not np.all(np.isfinite(x)):
            raise InputError("counts must be finite and non-negative", field="values")
        n_s, n_t = x.shape
        if profile is None:
            profile = seasonal_profile(x.sum(0), self.period)
        f = np.asarray(profile, np.float64)
        if f.shape != (n_t,):
            raise InputError(f"profile must have {n_t} values", field="profile")
        self.profile_ = f
        mu = np.zeros_like(x)
        states = np.zeros(x.shape, bool)
        alarm = np.zeros(x.shape, bool)
        gain = np.zeros_like(x)
        if n_t == 0 or n_s == 0:
            self.states_, self.alarm_, self.baseline_ = states, alarm, mu
            self.bursts_ = _segments(matrix, x, states, alarm, gain, mu, 0.0, self)
            return self
        tau = self.gamma * np.log(max(n_t, 2))
        a = 1.0 - 0.5 ** (1.0 / self.halflife)
        level = np.maximum(_initial_level(x / f, self.period), self.floor)
        c0 = np.zeros(n_s)
        c1 = np.full(n_s, tau)
        back1 = np.zeros(x.shape, bool)  # state 1 at t came from state 1 (else 0)
        back0 = np.zeros(x.shape, bool)  # state 0 at t came from state 1 (else 0)
        k = self.dispersion
        for t in range(n_t):
            m0 = np.maximum(level, self.floor) * f[t]
            mu[:, t] = m0
            e0 = _nll(x[:, t], m0, k)
            e1 = _nll(x[:, t], self.s * m0, k)
            gain[:, t] = e0 - e1
            from0, from1 = c0, c1
            back0[:, t] = from1 < from0
            n0 = np.minimum(from0, from1) + e0
            stay1 = from1 <= from0 + tau
            back1[:, t] = stay1
            n1 = np.where(stay1, from1, from0 + tau) + e1
            c0, c1 = n0, n1
            alarm[:, t] = c1 < c0 + self.alarm_slack
            rate = np.where(alarm[:, t], a * self.alarm_update, a)
            level = level + rate * (x[:, t] / f[t] - level)
        cur = c1 < c0
        for t in range(n_t - 1, -1, -1):
            states[:, t] = cur
            cur = np.where(cur, back1[:, t], back0[:, t])
        self.states_, self.alarm_, self.baseline_ = states, alarm, mu
        self.bursts_ = _segments(matrix, x, states, alarm, gain, mu, tau, self)
        return self


def _initial_level(z: np.ndarray, period: int) -> np.ndarray:
    """Robust starting level per series: the median over whole periods (e.g. days) of
    the mean deseasonalised count, so sparse series get their mean rate and a burst
    covering a minority of days does not lift it; the plain mean for short series."""
    block = max(period, 1)
    n = z.shape[1] // block
    if n < 3:
        return z.mean(1)
    return np.median(z[:, : n * block].reshape(z.shape[0], n, block).mean(2), axis=1)


def _segments(
    m: SeriesMatrix, x: np.ndarray, states: np.ndarray, alarm: np.ndarray,
    gain: np.ndarray, mu: np.ndarray, tau: float, det: BurstDetector,
) -> pa.Table:  # fmt: skip
    """One row per reported burst (maximal run of state 1, after merging)."""
    n_s, n_t = x.shape
    st = _close_gaps(states, det.merge_gap)
    pad = np.zeros((n_s, 1), bool)
    d = np.diff(np.concatenate([pad, st, pad], 1).astype(np.int8), axis=1)
    rs, ts = np.nonzero(d == 1)
    _re, te = np.nonzero(d == -1)
    cols: dict[str, list] = {c: [] for c in BURST_COLUMNS}
    csum_gain = np.concatenate([np.zeros((n_s, 1)), np.cumsum(gain, 1)], 1)
    for r, a, b in zip(rs.tolist(), ts.tolist(), te.tolist(), strict=True):
        seg = x[r, a:b]
        p = a + int(np.argmax(seg))
        weight = float(csum_gain[r, b] - csum_gain[r, a]) - tau
        if seg[p - a] < det.min_peak or weight < det.min_weight:
            continue
        al = np.flatnonzero(alarm[r, a:b])
        cols["series"].append(r)
        cols["start"].append(a)
        cols["peak"].append(p)
        cols["end"].append(b - 1)
        cols["detected_at"].append(a + int(al[0]) if al.size else -1)
        cols["weight"].append(weight)
        cols["magnitude"].append(float(seg[p - a] / max(mu[r, p], 1e-9)))
        cols["peak_count"].append(float(seg[p - a]))
        cols["volume"].append(float(seg.sum()))
        cols["excess"].append(float(np.maximum(seg - mu[r, a:b], 0).sum()))
        cols["ongoing"].append(b == n_t)
    return _burst_table(m, cols)


def _close_gaps(states: np.ndarray, gap: int) -> np.ndarray:
    """Set runs of at most *gap* zeros that lie between two ones."""
    st = states.copy()
    if gap <= 0 or st.size == 0:
        return st
    pad = np.zeros((st.shape[0], 1), bool)
    d = np.diff(np.concatenate([pad, st, pad], 1).astype(np.int8), axis=1)
    rs, ts = np.nonzero(d == 1)
    _, te = np.nonzero(d == -1)
    for i in range(1, rs.size):
        if rs[i] == rs[i - 1] and ts[i] - te[i - 1] <= gap:
            st[rs[i], te[i - 1] : ts[i]] = True
    return st


def _burst_table(m: SeriesMatrix, cols: dict[str, list]) -> pa.Table:
    rows = np.asarray(cols["series"], np.int64)
    keys = m.keys.take(pa.array(rows, pa.int64())) if m.keys.num_rows else m.keys.slice(0, 0)

    def ts(name: str) -> pa.Array:
        b = np.asarray(cols[name], np.int64)
        return pa.array(m.bin_us(np.maximum(b, 0)), pa.int64(), mask=b < 0).cast(TS)

    out = keys
    for c in ("start", "peak", "end", "detected_at"):
        out = out.append_column(c, ts(c))
    for c in ("weight", "magnitude", "peak_count", "volume", "excess"):
        out = out.append_column(c, pa.array(cols[c], pa.float64()))
    out = out.append_column("ongoing", pa.array(cols["ongoing"], pa.bool_()))
    return out.append_column("series_index", pa.array(rows, pa.int64()))


def detect_bursts(matrix: SeriesMatrix, **params: object) -> pa.Table:
    """One-shot twin of :class:`BurstDetector`: the bursts table."""
    return BurstDetector(**params).fit(matrix).bursts_  # type: ignore[arg-type]


def new_entries(alarm: np.ndarray, refractory: int = 24) -> np.ndarray:
    """Alarms that start an episode: no alarm in the previous *refractory* bins (an item
    always on a trending list is not *newly* trending)."""
    a = np.asarray(alarm, bool)
    c = np.concatenate([np.zeros((a.shape[0], 1), np.int64), np.cumsum(a, 1)], 1)
    t = np.arange(a.shape[1])
    prev = c[:, t] - c[:, np.maximum(t - refractory, 0)]
    return a & (prev == 0)


def topk_alarms(
    matrix: SeriesMatrix, k: int = 10, min_count: float = 3.0, window: int = 24
) -> np.ndarray:
    """Baseline "trending list" detector: at every bin, rank the series by their count
    over the trailing *window* bins; series *i* alarms when it is among the *k* largest
    (ties at the k-th count included) with at least *min_count*. Bool S×T matrix."""
    x = np.asarray(matrix.values, np.float64)
    if x.size == 0:
        return np.zeros(x.shape, bool)
    c = np.cumsum(x, axis=1)
    w = max(int(window), 1)
    trail = c.copy()
    trail[:, w:] = c[:, w:] - c[:, :-w]
    k = min(k, x.shape[0])
    kth = -np.partition(-trail, k - 1, axis=0)[k - 1]
    return (trail >= kth[None, :]) & (trail >= min_count)
