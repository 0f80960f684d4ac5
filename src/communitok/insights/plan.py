"""Before launch: the minimum detectable effect (MDE) of a campaign or experiment, and
the audience it needs.

The read-outs compare actions per impression (a ratio of sums per arm) with viewers as
clusters. By the delta method (Deng, Lu & Litz, "Trustworthy analysis of online A/B
tests", WSDM 2017, section on ratio metrics) the variance of ``log(rate)`` in an arm of
``n`` viewers is ``σ² / (n μ_a²)`` with ``σ² = Var(a_i − r m_i)``, ``a_i`` and ``m_i``
a viewer's actions and impressions, ``r`` the rate and ``μ_a`` the mean actions per
viewer. The relative lift ``rate_t / rate_c − 1`` then has ``se(log(1 + lift)) =
√(σ²/μ_a² · (1/n_t + 1/n_c))`` and the MDE at level α and power 1 − β is
``exp((z_{1−α/2} + z_{1−β}) · se) − 1`` (two-sided test).

:func:`viewer_moments` estimates ``σ²/μ_a²`` from a historical window of the same
length (:func:`moments_interval`: its viewer-bootstrap percentile interval, which the
planner carries through to an interval on the MDE, the power and the audience needed —
the history is a sample too); :func:`mde` and :func:`required_viewers` turn it into a
plan. For the
non-randomised design the engine plugs in the standard error of a placebo read-out over
the most recent window instead (:mod:`communitok.engine.insights.plan`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa
from scipy.stats import norm

from ..core.errors import InputError


@dataclass(frozen=True)
class ViewerMoments:
    """Per-viewer moments of actions per impression over a window."""

    n_viewers: int
    impressions_per_viewer: float
    rate: float
    #: ``Var(a_i − r m_i) / μ_a²``: the relative variance per viewer of the rate
    rel_var: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def _impressions_actions(outcomes: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """Per viewer with impressions: (impressions, actions), from rows ``impressions,
    actions``; an input error unless there is enough history to plan from."""
    for c in ("impressions", "actions"):
        if c not in outcomes.column_names:
            raise InputError(f"missing column {c!r}", field="outcomes")
    m = np.asarray(outcomes["impressions"].to_numpy(zero_copy_only=False), float)
    a = np.asarray(outcomes["actions"].to_numpy(zero_copy_only=False), float)
    keep = m > 0
    m, a = m[keep], a[keep]
    if m.size < 30 or a.sum() == 0:
        raise InputError(
            f"too little history to plan: {m.size} viewers with impressions, "
            f"{int(a.sum())} actions (need 30+ viewers and some actions)",
            field="history",
        )
    return m, a


def two_sided_z(confidence: float) -> float:
    """The normal quantile of a two-sided interval at *confidence* (1.96 at 0.95); an
    input error outside (0.5, 1)."""
    if not 0.5 < confidence < 1:
        raise InputError("must be in (0.5, 1)", field="confidence")
    return float(norm.ppf(0.5 + confidence / 2))


def relative_variance(impressions: np.ndarray, actions: np.ndarray) -> float:
    """``Var(a_i − r m_i) / μ_a²`` over viewers (``r = Σa / Σm``): the delta-method
    variance of ``log(rate)`` is this over the number of viewers (Deng, Lu & Litz 2017)."""
    r = actions.sum() / impressions.sum()
    return float(np.var(actions - r * impressions, ddof=1) / actions.mean() ** 2)


def viewer_moments(outcomes: pa.Table) -> ViewerMoments:
    """Moments from per-viewer rows ``impressions, actions`` (one row per viewer)."""
    m, a = _impressions_actions(outcomes)
    r = a.sum() / m.sum()
    return ViewerMoments(int(m.size), float(m.mean()), float(r), relative_variance(m, a))


@dataclass(frozen=True)
class MomentsInterval:
    """Percentile intervals of :class:`ViewerMoments`' rate and relative variance."""

    confidence: float
    rate_low: float
    rate_high: float
    rel_var_low: float
    rel_var_high: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def moments_interval(
    outcomes: pa.Table, *, confidence: float = 0.95, n_boot: int = 400, seed: int = 0
) -> MomentsInterval:
    """Viewer (cluster) bootstrap percentile intervals of the rate and ``rel_var`` of
    :func:`viewer_moments` on the same rows (viewers resampled with replacement)."""
    two_sided_z(confidence)  # validates it
    if not 50 <= n_boot <= 100_000:
        raise InputError("must be in [50, 100000]", field="n_boot")
    m, a = _impressions_actions(outcomes)
    rng = np.random.default_rng(seed)
    n = m.size
    rates, rels = np.empty(n_boot), np.empty(n_boot)
    step = max(1, 2_000_000 // n)  # replicates per batch (bounded memory)
    for lo in range(0, n_boot, step):
        idx = rng.integers(0, n, (min(step, n_boot - lo), n))
        mb, ab = m[idx], a[idx]
        sa = ab.sum(axis=1)
        r = sa / mb.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = (ab - r[:, None] * mb).var(axis=1, ddof=1) / (sa / n) ** 2
        rates[lo : lo + idx.shape[0]], rels[lo : lo + idx.shape[0]] = r, rel
    rels = rels[np.isfinite(rels)]
    q = [(1 - confidence) / 2, (1 + confidence) / 2]
    r_lo, r_hi = np.quantile(rates, q)
    v_lo, v_hi = np.quantile(rels, q)
    return MomentsInterval(confidence, float(r_lo), float(r_hi), float(v_lo), float(v_hi))


def _z(alpha: float, power: float) -> float:
    if not 0 < alpha < 0.5:
        raise InputError("must be in (0, 0.5)", field="alpha")
    if not 0.5 <= power < 1:
        raise InputError("must be in [0.5, 1)", field="power")
    return float(norm.ppf(1 - alpha / 2) + norm.ppf(power))


def se_log_lift(rel_var: float, n_treated: float, n_control: float) -> float:
    """Standard error of ``log(1 + lift)`` for arms of *n_treated* / *n_control* viewers."""
    if rel_var <= 0 or not math.isfinite(rel_var):
        raise InputError("must be a positive number", field="rel_var")
    if n_treated < 1 or n_control < 1:
        raise InputError("each arm needs at least one viewer", field="n")
    return math.sqrt(rel_var * (1 / n_treated + 1 / n_control))


def mde(se_log: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest relative lift detected with *power* at level *alpha* (two-sided), from
    the standard error of ``log(1 + lift)``."""
    if se_log <= 0 or not math.isfinite(se_log):
        raise InputError("must be a positive number", field="se_log")
    return math.expm1(_z(alpha, power) * se_log)


def required_viewers(
    rel_var: float,
    lift: float,
    *,
    treated_share: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int:
    """Viewers in total (both arms) to detect a relative *lift* with *power*."""
    if not lift > 0:
        raise InputError("must be > 0", field="lift")
    if not 0 < treated_share < 1:
        raise InputError("must be in (0, 1)", field="treated_share")
    if rel_var <= 0 or not math.isfinite(rel_var):
        raise InputError("must be a positive number", field="rel_var")
    z = _z(alpha, power)
    # se² = rel_var / N · (1/s + 1/(1 − s)) = (log(1 + lift) / z)²
    per = rel_var * (1 / treated_share + 1 / (1 - treated_share))
    return math.ceil(per * (z / math.log1p(lift)) ** 2)


def power_at(se_log: float, lift: float, *, alpha: float = 0.05) -> float:
    """Power of the two-sided test for a true relative *lift*."""
    if se_log <= 0:
        raise InputError("must be > 0", field="se_log")
    zc = norm.ppf(1 - alpha / 2)
    d = math.log1p(lift) / se_log
    return float(norm.sf(zc - d) + norm.cdf(-zc - d))


def mde_curve(
    rel_var: float,
    n_viewers: list[int],
    *,
    treated_share: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
) -> pa.Table:
    """MDE by audience size: ``n_viewers, n_treated, n_control, se_log, mde``."""
    rows: dict[str, list[float]] = {k: [] for k in ("n_viewers", "n_treated", "n_control",
                                                     "se_log", "mde")}  # fmt: skip
    for n in n_viewers:
        nt = max(1.0, n * treated_share)
        nc = max(1.0, n - nt)
        se = se_log_lift(rel_var, nt, nc)
        for k, v in zip(rows, (n, nt, nc, se, mde(se, alpha=alpha, power=power)), strict=True):
            rows[k].append(v)
    return pa.table(rows)
