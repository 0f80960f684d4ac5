"""Forecasting trend series with intervals calibrated from back-test errors.

Models (all vectorised over a ``series × bins`` matrix, counts modelled as
``log1p(y)`` so a multiplicative trend is additive; point forecasts are medians):

* ``naive``: the last value; ``seasonal_naive``: the value one season ago;
* ``theta``: the Theta method as SES with drift (Assimakopoulos & Nikolopoulos 2000;
  Hyndman & Billah 2003): ``ŷ(h) = ℓ_T + b/2 · (h − 1 + 1/α − (1 − α)^T / α)``,
  ``α`` fitted per series on a grid, ``b`` the OLS slope, after a classical additive
  seasonal adjustment (in log space) when the lag-``season`` autocorrelation passes
  the 90 % test of Assimakopoulos & Nikolopoulos;
* ``damped``: Holt's damped trend (Gardner & McKenzie 1985), ``(α, β, φ)`` on a grid,
  on the same seasonally adjusted series;
* ``auto``: per series, whichever of theta / damped / naive had the lower back-test
  MAE.

**Back-test and calibration.** :meth:`Forecaster.fit` rolls the origin over the last
``n_origins`` bins, forecasts ``horizon`` steps with every method, and keeps the
log errors ``e = log1p(y) − log1p(ŷ)``. Prediction intervals add the empirical
``(1 ∓ level)/2`` quantiles of those errors per horizon step (pooled across series,
split-conformal style; Stankeviciute et al. 2021), so their coverage is what the
back-test showed rather than what a Gaussian assumption promises. MASE (Hyndman &
Koehler 2006) is scaled by the in-sample MAE of the seasonal naive forecast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..core.errors import InputError
from .series import TS, SeriesMatrix

METHODS = ("naive", "seasonal_naive", "theta", "damped", "auto")


def _seasonal_index(z: np.ndarray, m: int) -> np.ndarray:
    """Additive seasonal indices (S × m, mean 0) where the seasonality test passes."""
    n_s, n_t = z.shape
    idx = np.zeros((n_s, m))
    if m <= 1 or n_t < 2 * m + 1:
        return idx
    zc = z - z.mean(1, keepdims=True)
    den = (zc**2).sum(1) + 1e-12
    r = np.array([(zc[:, k:] * zc[:, : n_t - k]).sum(1) / den for k in range(1, m + 1)]).T
    limit = 1.645 * np.sqrt((1 + 2 * (r[:, : m - 1] ** 2).sum(1)) / n_t)
    seasonal = np.abs(r[:, m - 1]) > limit
    if not seasonal.any():
        return idx
    w = np.ones(m + 1) / m if m % 2 == 0 else np.ones(m) / m
    if m % 2 == 0:
        w[0] = w[-1] = 0.5 / m
    half = (w.size - 1) // 2
    ma = np.apply_along_axis(lambda v: np.convolve(v, w, mode="valid"), 1, z)
    detr = z[:, half : half + ma.shape[1]] - ma
    phase = (np.arange(detr.shape[1]) + half) % m
    for j in range(m):
        idx[:, j] = detr[:, phase == j].mean(1)
    idx -= idx.mean(1, keepdims=True)
    idx[~seasonal] = 0.0
    return idx


def _ses(z: np.ndarray, alphas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best SES ``α`` per series (one-step SSE) and the final level for that α."""
    n_s, n_t = z.shape
    best_sse = np.full(n_s, np.inf)
    best_a = np.full(n_s, alphas[0])
    best_l = z[:, 0].copy()
    for a in alphas:
        lev = z[:, 0].copy()
        sse = np.zeros(n_s)
        for t in range(1, n_t):
            err = z[:, t] - lev
            sse += err * err
            lev = lev + a * err
        better = sse < best_sse
        best_sse[better], best_a[better], best_l[better] = sse[better], a, lev[better]
    return best_a, best_l


def _damped(z: np.ndarray, h: int) -> np.ndarray:
    n_s, n_t = z.shape
    best_sse = np.full(n_s, np.inf)
    out = np.repeat(z[:, -1:], h, 1)
    steps = np.arange(1, h + 1)
    for a in (0.1, 0.3, 0.5, 0.8):
        for b in (0.01, 0.1, 0.3):
            for phi in (0.8, 0.9, 0.98):
                lev, tr = z[:, 0].copy(), (z[:, min(1, n_t - 1)] - z[:, 0])
                sse = np.zeros(n_s)
                for t in range(1, n_t):
                    pred = lev + phi * tr
                    err = z[:, t] - pred
                    sse += err * err
                    new_lev = pred + a * err
                    tr = phi * tr + a * b * err
                    lev = new_lev
                better = sse < best_sse
                damp = np.cumsum(phi**steps)
                fc = lev[:, None] + tr[:, None] * damp[None, :]
                best_sse[better], out[better] = sse[better], fc[better]
    return out


def point_forecast(y: np.ndarray, h: int, method: str, season: int = 7) -> np.ndarray:
    """``h``-step point forecasts (S × h, original scale, ≥ 0) of every row of *y*."""
    if method not in METHODS or method == "auto":
        raise InputError(f"must be one of {METHODS[:-1]}", field="method")
    y = np.asarray(y, np.float64)
    n_s, n_t = y.shape
    if n_t == 0:
        return np.full((n_s, h), np.nan)
    if method == "naive" or (method in ("theta", "damped") and n_t < 3):
        return np.repeat(y[:, -1:], h, 1)
    if method == "seasonal_naive":
        if n_t < season:
            return np.repeat(y[:, -1:], h, 1)
        last = y[:, n_t - season :]
        return last[:, np.arange(h) % season]
    z = np.log1p(np.maximum(y, 0))
    idx = _seasonal_index(z, season)
    ph = np.arange(n_t) % season if season > 1 else np.zeros(n_t, int)
    za = z - idx[:, ph] if season > 1 else z
    if method == "theta":
        alpha, lev = _ses(za, np.linspace(0.05, 0.95, 10))
        t = np.arange(n_t)
        b = ((t - t.mean()) * (za - za.mean(1, keepdims=True))).sum(1) / ((t - t.mean()) ** 2).sum()
        steps = np.arange(1, h + 1)[None, :]
        a = alpha[:, None]
        fc = lev[:, None] + 0.5 * b[:, None] * (steps - 1 + 1 / a - (1 - a) ** n_t / a)
    else:
        fc = _damped(za, h)
    if season > 1:
        fc = fc + idx[:, (n_t + np.arange(h)) % season]
    cap = np.log1p(2.0 * y.max(1, initial=0.0))[:, None]  # never beyond twice the record
    return np.maximum(np.expm1(np.minimum(fc, cap)), 0.0)


@dataclass(frozen=True)
class ForecastReport:
    """Accuracy of each method over a back-test or a hold-out."""

    methods: tuple[str, ...]
    mase_mean: tuple[float, ...]
    mase_median: tuple[float, ...]
    coverage: dict[float, float]
    n_series: int
    #: geometric mean over series of MAE(method) / MAE(seasonal naive) (AvgRelMAE,
    #: Davydenko & Fildes 2013): robust to the few series no method can forecast
    rel_mae: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "n_series": self.n_series,
            "mase_mean": dict(zip(self.methods, self.mase_mean, strict=True)),
            "mase_median": dict(zip(self.methods, self.mase_median, strict=True)),
            "avg_rel_mae_vs_seasonal_naive": dict(zip(self.methods, self.rel_mae, strict=False)),
            "coverage": {str(k): v for k, v in self.coverage.items()},
        }


def _mase_scale(y: np.ndarray, season: int) -> np.ndarray:
    m = season if y.shape[1] > season else 1
    d = np.abs(y[:, m:] - y[:, :-m]) if y.shape[1] > m else np.zeros((y.shape[0], 1))
    return d.mean(1) if d.shape[1] else np.zeros(y.shape[0])


@dataclass
class Forecaster:
    """Point forecasts plus back-test-calibrated intervals (module doc)."""

    method: str = "theta"
    horizon: int = 7
    season: int = 7
    levels: tuple[float, ...] = (0.8, 0.95)
    n_origins: int = 7

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"must be one of {METHODS}", field="method")
        if self.horizon < 1 or self.n_origins < 1 or self.season < 1:
            raise InputError("horizon, n_origins and season must be >= 1", field="horizon")
        if any(not 0 < lv < 1 for lv in self.levels):
            raise InputError("levels must be in (0, 1)", field="levels")

    def _methods(self) -> tuple[str, ...]:
        return ("naive", "seasonal_naive", "theta", "damped")

    def fit(self, matrix: SeriesMatrix) -> Forecaster:
        """Back-test every method on rolling origins; learn the error quantiles.

        Learned: ``backtest_`` (:class:`ForecastReport` over the origins), ``choice_``
        (method per series), ``quantiles_`` (per level: ``(h, 2)`` lower/upper log-error
        quantiles) and ``n_errors_``.
        """
        y = np.asarray(matrix.values, np.float64)
        n_s, n_t = y.shape
        h = self.horizon
        origins = [o for o in range(n_t - self.n_origins, n_t) if o >= 3]
        meths = self._methods()
        err = {m: np.full((n_s, len(origins), h), np.nan) for m in meths}
        abs_sum = {m: np.zeros(n_s) for m in meths}
        n_abs = 0
        for j, o in enumerate(origins):
            k = min(h, n_t - o)
            n_abs += k
            for m in meths:
                fc = point_forecast(y[:, :o], h, m, self.season)
                err[m][:, j, :k] = np.log1p(y[:, o : o + k]) - np.log1p(fc[:, :k])
                abs_sum[m] += np.abs(y[:, o : o + k] - fc[:, :k]).sum(1)
        scale = _mase_scale(y, self.season)
        ok = scale > 0
        mae = {m: abs_sum[m] / max(n_abs, 1) for m in meths}  # original scale
        cands = ("theta", "damped", "naive")
        best = np.argmin(np.vstack([mae[m] for m in cands]), axis=0)  # ties → theta
        if self.method == "auto":
            self.choice_ = np.asarray(cands, object)[best]
            chosen = np.choose(best[:, None, None], [err[m] for m in cands])
        else:
            self.choice_ = np.full(n_s, self.method, dtype=object)
            chosen = err[self.method]
        self.errors_ = chosen
        e = chosen.reshape(-1, h) if chosen.size else np.empty((0, h))
        self.quantiles_ = {}
        for lv in self.levels:
            q = np.full((h, 2), np.nan)
            for s in range(h):
                col = e[:, s][np.isfinite(e[:, s])]
                if col.size:
                    q[s] = np.quantile(col, [(1 - lv) / 2, (1 + lv) / 2])
            self.quantiles_[lv] = q
        self.n_errors_ = int(np.isfinite(e).sum())
        names = (*meths, "auto") if self.method == "auto" else meths
        mase = [mae[m][ok] / scale[ok] for m in meths]
        if self.method == "auto":
            auto_mae = np.choose(best, [mae[m] for m in cands])
            mase.append(auto_mae[ok] / scale[ok])
        self.backtest_ = ForecastReport(
            names, tuple(float(np.nanmean(v)) if v.size else float("nan") for v in mase),
            tuple(float(np.nanmedian(v)) if v.size else float("nan") for v in mase),
            {}, int(ok.sum()),
        )  # fmt: skip
        return self

    def predict(self, matrix: SeriesMatrix) -> pa.Table:
        """Forecast ``horizon`` bins after the end of *matrix* (call :meth:`fit` first,
        usually on the same matrix). Long table: the keys, ``step``, ``bin``,
        ``method``, ``forecast`` and ``lo_80``/``hi_80``… per level."""
        if not hasattr(self, "quantiles_"):
            raise InputError("call fit() first", field="forecaster")
        y = np.asarray(matrix.values, np.float64)
        n_s, n_t = y.shape
        h = self.horizon
        choice = self.choice_ if self.choice_.size == n_s else np.full(n_s, "theta")
        fc = np.zeros((n_s, h))
        for m in np.unique(choice):
            rows = choice == m
            fc[rows] = point_forecast(y[rows], h, str(m), self.season)
        s_idx = np.repeat(np.arange(n_s), h)
        steps = np.tile(np.arange(1, h + 1), n_s)
        out = matrix.keys.take(pa.array(s_idx, pa.int64()))
        out = out.append_column("step", pa.array(steps, pa.int64()))
        out = out.append_column(
            "bin", pa.array(matrix.bin_us(n_t - 1 + steps), pa.int64()).cast(TS)
        )
        out = out.append_column("method", pa.array(np.repeat(choice, h).tolist(), pa.string()))
        out = out.append_column("forecast", pa.array(fc.ravel(), pa.float64()))
        z = np.log1p(fc)
        for lv, q in self.quantiles_.items():
            lo = np.maximum(np.expm1(z + q[None, :, 0]), 0.0)
            hi = np.expm1(z + q[None, :, 1])
            tag = f"{round(lv * 100):d}"
            out = out.append_column(f"lo_{tag}", pa.array(lo.ravel(), pa.float64()))
            out = out.append_column(f"hi_{tag}", pa.array(hi.ravel(), pa.float64()))
        return out


def evaluate_holdout(matrix: SeriesMatrix, forecaster: Forecaster) -> ForecastReport:
    """Hold out the last ``horizon`` bins: fit (back-test + calibration) on the rest,
    forecast them, and report MASE of every method and interval coverage on the
    hold-out, all in the same run."""
    h = forecaster.horizon
    y = np.asarray(matrix.values, np.float64)
    if y.shape[1] < h + 4:
        raise InputError(f"need at least {h + 4} bins to hold out {h}", field="matrix")
    train = SeriesMatrix(matrix.keys, y[:, :-h], matrix.start_us, matrix.step_us)
    test = y[:, -h:]
    forecaster.fit(train)
    scale = _mase_scale(train.values, forecaster.season)
    ok = scale > 0
    maes: dict[str, np.ndarray] = {}
    for m in forecaster._methods():
        maes[m] = np.abs(test - point_forecast(train.values, h, m, forecaster.season)).mean(1)
    pred = forecaster.predict(train)
    fc = np.asarray(pred.column("forecast").to_numpy()).reshape(-1, h)
    if forecaster.method == "auto":
        maes["auto"] = np.abs(test - fc).mean(1)
    ref = maes["seasonal_naive"]
    names, mean, med, rel = [], [], [], []
    for m, mae in maes.items():
        v = mae[ok] / scale[ok]
        both = (mae > 0) & (ref > 0)
        names.append(m)
        mean.append(float(v.mean()) if v.size else float("nan"))
        med.append(float(np.median(v)) if v.size else float("nan"))
        rel.append(
            float(np.exp(np.mean(np.log(mae[both] / ref[both])))) if both.any() else float("nan")
        )
    cov = {}
    for lv in forecaster.levels:
        tag = f"{round(lv * 100):d}"
        lo = np.asarray(pred.column(f"lo_{tag}").to_numpy()).reshape(-1, h)
        hi = np.asarray(pred.column(f"hi_{tag}").to_numpy()).reshape(-1, h)
        cov[lv] = float(np.mean((test >= lo - 1e-9) & (test <= hi + 1e-9)))
    return ForecastReport(tuple(names), tuple(mean), tuple(med), cov, int(ok.sum()), tuple(rel))
