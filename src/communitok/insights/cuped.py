"""Per-variant read-outs of feed experiments with CUPED variance reduction.

Unit: the viewer (randomisation unit of the feed's bucketing). Metric: a viewer's mean
outcome per exposure during the experiment (e.g. likes per exposed video). Covariate:
the same viewer's mean per impression *before* their first exposure. CUPED (Deng, Xu,
Kohavi & Walker, "Improving the sensitivity of online controlled experiments by
utilizing pre-experiment data", WSDM 2013) subtracts ``θ (x − x̄)`` with ``θ = cov(y, x)
/ var(x)`` pooled over variants; the difference of adjusted means keeps its expectation
(assignment is independent of the pre-period) and loses the share ``ρ²`` of its
variance. Viewers without history get the pooled mean as covariate (a missing-history
indicator enters as a second covariate, so they are adjusted by their own mean). Welch
normal intervals, each variant against ``control``; each variant's own mean carries a
normal interval too (``mean_low``, ``mean_high``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from scipy.stats import norm

from ..core.errors import InputError
from .plan import two_sided_z

COLUMNS = ("variant", "n_viewers", "mean", "mean_low", "mean_high", "diff", "ci_low",
           "ci_high", "p_value", "diff_cuped", "ci_low_cuped", "ci_high_cuped",
           "p_value_cuped", "variance_reduction")  # fmt: skip
#: the columns that compare a variant with control (null on control's row)
_DIFFS = COLUMNS[5:]


def cuped_readout(
    viewers: pa.Table, *, control: str = "control", confidence: float = 0.95
) -> pa.Table:
    """Per-variant difference to *control*, raw and CUPED-adjusted.

    *viewers*: one row per viewer ``variant, y`` (the experiment metric) and ``x`` (the
    pre-period covariate, null without history). Returns :data:`COLUMNS` (control's row
    carries its mean and nulls)."""
    for c in ("variant", "y", "x"):
        if c not in viewers.column_names:
            raise InputError(f"missing column {c!r}", field="viewers")
    q = two_sided_z(confidence)
    var = np.asarray(viewers["variant"].to_pylist(), dtype=object)
    y = np.asarray(viewers["y"].to_numpy(zero_copy_only=False), float)
    x = np.asarray(
        pa.array(viewers["x"].to_pylist(), pa.float64()).to_numpy(zero_copy_only=False), float
    )
    missing = ~np.isfinite(x)
    if control not in set(var.tolist()):
        raise InputError(
            f"no {control!r} variant among {sorted(set(var.tolist()))}", field="control"
        )
    if not np.isfinite(y).all():
        raise InputError("the metric has missing values", field="y")
    x = np.where(missing, np.nanmean(x) if (~missing).any() else 0.0, x)
    # pooled regression of y on (x, missing) with variant-specific intercepts removed
    z = np.column_stack([x, missing.astype(float)])
    yc, zc = y.copy(), z.copy()
    for v in set(var.tolist()):
        m = var == v
        yc[m] -= y[m].mean()
        zc[m] -= z[m].mean(axis=0)
    keep = zc.std(axis=0) > 0
    theta = np.zeros(2)
    if keep.any():
        theta[keep] = np.linalg.lstsq(zc[:, keep], yc, rcond=None)[0]
    adj = y - (z - z.mean(axis=0)) @ theta

    def diff(vals: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, ...]:
        d = vals[a].mean() - vals[b].mean()
        se = np.sqrt(vals[a].var(ddof=1) / a.sum() + vals[b].var(ddof=1) / b.sum())
        p = float(2 * norm.sf(abs(d) / se)) if se > 0 else 0.0
        return float(d), float(d - q * se), float(d + q * se), p, float(se)

    ctl = var == control
    rows: dict[str, list[object]] = {c: [] for c in COLUMNS}
    for v in sorted(set(var.tolist()), key=lambda s: (s != control, s)):
        m = var == v
        if m.sum() < 2 or ctl.sum() < 2:
            raise InputError(f"variant {v!r} needs 2+ viewers", field="viewers")
        rows["variant"].append(v)
        rows["n_viewers"].append(int(m.sum()))
        mu, se_mu = float(y[m].mean()), float(y[m].std(ddof=1) / np.sqrt(m.sum()))
        rows["mean"].append(mu)
        rows["mean_low"].append(mu - q * se_mu)
        rows["mean_high"].append(mu + q * se_mu)
        if v == control:
            for c in _DIFFS:
                rows[c].append(None)
            continue
        raw, cup = diff(y, m, ctl), diff(adj, m, ctl)
        for c, val in zip(_DIFFS[0:4], raw[:4], strict=True):
            rows[c].append(val)
        for c, val in zip(_DIFFS[4:8], cup[:4], strict=True):
            rows[c].append(val)
        # share of the difference's variance removed
        rows["variance_reduction"].append(1 - (cup[4] / raw[4]) ** 2 if raw[4] > 0 else 0.0)
    types = {"variant": pa.string(), "n_viewers": pa.int64()}
    return pa.table({c: pa.array(rows[c], types.get(c, pa.float64())) for c in COLUMNS})
