"""Lifecycle stages on constructed series; forecasts against naive baselines."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from communitok.core.errors import InputError
from communitok.trends import (
    BurstDetector,
    Forecaster,
    LifecycleClassifier,
    SeriesMatrix,
    evaluate_holdout,
    planted_series,
    point_forecast,
)

H = 3_600_000_000


def matrix(rows: dict[str, np.ndarray]) -> SeriesMatrix:
    keys = pa.table(
        {"kind": ["hashtag"] * len(rows), "item": list(rows), "scope": ["all"] * len(rows)}
    )
    return SeriesMatrix(keys, np.vstack(list(rows.values())).astype(float), 0, H)


def test_lifecycle_stages() -> None:
    rng = np.random.default_rng(0)
    n = 24 * 14
    base = lambda: rng.poisson(1.0, n).astype(float)  # noqa: E731
    rising, peaking, declining, ended, emerging = base(), base(), base(), base(), base()
    rising[-40:] += np.linspace(2, 40, 40)
    peaking[-60:] += np.r_[np.linspace(2, 40, 30), np.full(30, 40.0)]
    declining[-60:] += np.r_[np.linspace(2, 40, 20), np.linspace(40, 8, 40)]
    ended[-60:-40] += 30
    emerging[-6:] += 20
    m = matrix({"rising": rising, "peaking": peaking, "declining": declining, "ended": ended,
                "emerging": emerging, "evergreen": rng.poisson(3.0, n), "dormant": np.zeros(n)})  # fmt: skip
    det = BurstDetector().fit(m)
    lc = LifecycleClassifier().classify(m, det.bursts_)
    got = dict(zip(lc.column("item").to_pylist(), lc.column("stage").to_pylist(), strict=True))
    assert got == {"rising": "rising", "peaking": "peaking", "declining": "declining",
                   "ended": "declining", "emerging": "emerging", "evergreen": "evergreen",
                   "dormant": "dormant"}  # fmt: skip


def test_point_forecasts_and_short_series() -> None:
    y = np.tile(np.arange(7.0), 4)[None, :]
    assert point_forecast(y, 7, "seasonal_naive", 7).tolist() == [list(range(7))]
    assert point_forecast(y, 3, "naive").tolist() == [[6.0, 6.0, 6.0]]
    one = np.array([[5.0]])
    for m in ("naive", "seasonal_naive", "theta", "damped"):
        assert point_forecast(one, 2, m).tolist() == [[5.0, 5.0]]
    with pytest.raises(InputError):
        point_forecast(y, 2, "prophet")


def test_theta_beats_seasonal_naive_with_calibrated_intervals() -> None:
    daily = planted_series(600, 63, seed=4).matrix.aggregate(24)
    rep = evaluate_holdout(daily, Forecaster(method="theta", horizon=7, n_origins=14))
    mase = dict(zip(rep.methods, rep.mase_mean, strict=True))
    assert mase["theta"] <= 0.9 * mase["seasonal_naive"]
    assert mase["theta"] < mase["naive"]
    assert abs(rep.coverage[0.8] - 0.8) <= 0.06 and abs(rep.coverage[0.95] - 0.95) <= 0.04


def test_forecaster_predict_shape_and_errors() -> None:
    m = planted_series(20, 21, seed=5).matrix.aggregate(24)
    f = Forecaster(horizon=5).fit(m)
    p = f.predict(m)
    assert p.num_rows == 20 * 5
    lo, fc, hi = (np.asarray(p.column(c).to_numpy()) for c in ("lo_80", "forecast", "hi_80"))
    assert np.all(lo <= fc + 1e-9) and np.all(fc <= hi + 1e-9)
    assert set(f.backtest_.methods) >= {"naive", "seasonal_naive", "theta"}
    with pytest.raises(InputError):
        Forecaster(levels=(1.5,))
    with pytest.raises(InputError):
        Forecaster().predict(m)
    with pytest.raises(InputError):
        evaluate_holdout(SeriesMatrix(m.keys, m.values[:, :5], 0, H), Forecaster(horizon=7))
