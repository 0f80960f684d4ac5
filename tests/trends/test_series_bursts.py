"""Series repairs and burst detection on planted series (known answers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from communitok.core.errors import InputError
from communitok.trends import (
    BurstDetector,
    SeriesMatrix,
    new_entries,
    planted_series,
    score_bursts,
    seasonal_profile,
    to_matrix,
    topk_alarms,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def long(rows: list[tuple[str, float, float]]) -> pa.Table:
    return pa.table({
        "kind": ["hashtag"] * len(rows), "item": [r[0] for r in rows], "scope": ["all"] * len(rows),
        "bin": pa.array([T0 + timedelta(hours=r[1]) for r in rows], pa.timestamp("us", tz="UTC")),
        "value": [r[2] for r in rows],
    })  # fmt: skip


def test_to_matrix_fills_gaps_sums_duplicates_drops_future() -> None:
    t = long([("a", 5, 1), ("a", 0, 2), ("a", 0, 3), ("b", 2.5, 7), ("a", 100, 9)])
    m = to_matrix(t, grain="hour", now=T0 + timedelta(hours=50))
    assert m.keys.column("item").to_pylist() == ["a", "b"]
    assert m.values.shape == (2, 6)
    assert m.values[0].tolist() == [5, 0, 0, 0, 0, 1]
    assert m.values[1, 2] == 7
    i = m.issues
    assert (i.duplicates_summed, i.future_dropped, i.misaligned, i.gaps_filled) == (1, 1, 1, 4)
    assert i.single_point_series == 1
    assert m.aggregate(3).values.tolist() == [[5, 1], [7, 0]]


def test_to_matrix_bad_and_empty_input() -> None:
    with pytest.raises(InputError):
        to_matrix(pa.table({"x": [1]}))
    with pytest.raises(InputError):
        to_matrix(long([("a", 0, 1)]), grain="week")
    empty = to_matrix(long([]), start=T0, end=T0 + timedelta(days=1))
    assert empty.values.shape == (0, 24)
    assert BurstDetector().fit(empty).bursts_.num_rows == 0


def test_seasonal_profile() -> None:
    x = np.tile(np.r_[np.ones(12), 3 * np.ones(12)], 5)
    f = seasonal_profile(x, 24)
    assert f.mean() == pytest.approx(1.0) and f[12] / f[0] == pytest.approx(3.0)
    assert np.all(seasonal_profile(x[:30], 24) == 1.0)  # under two cycles: flat


@pytest.mark.parametrize("seed", [0, 1])
def test_planted_bursts_are_found_with_few_false_alarms(seed: int) -> None:
    pl = planted_series(300, 28, seed=seed)
    det = BurstDetector().fit(pl.matrix)
    base = new_entries(topk_alarms(pl.matrix, 10))
    sc = score_bursts(det.bursts_, pl.truth, pl.matrix, baseline_alarm=base)
    assert sc.f1 >= 0.9
    assert sc.false_alarms_per_1000_series_days <= 1.0
    assert sc.n_lead > 20 and sc.median_lead_bins >= 1  # hours ahead of a top-10 list
    b = det.bursts_
    assert set(b.column_names) >= {"start", "peak", "end", "detected_at", "weight", "magnitude"}
    s, p, e = (
        np.asarray(b.column(c).cast(pa.int64()).to_numpy()) for c in ("start", "peak", "end")
    )
    assert np.all((s <= p) & (p <= e))


def test_quiet_flat_and_single_point_series_have_no_bursts() -> None:
    rng = np.random.default_rng(0)
    vals = np.vstack(
        [rng.poisson(5.0, 24 * 14), np.zeros(24 * 14), np.r_[np.zeros(24 * 14 - 1), 1.0]]
    )
    keys = pa.table({"kind": ["h"] * 3, "item": ["noise", "zero", "one"], "scope": ["all"] * 3})
    det = BurstDetector().fit(SeriesMatrix(keys, vals.astype(float), 0, 3_600_000_000))
    assert det.bursts_.num_rows == 0
    one_bin = SeriesMatrix(keys.slice(0, 1), np.array([[4.0]]), 0, 3_600_000_000)
    assert BurstDetector().fit(one_bin).bursts_.num_rows == 0


def test_detector_validates_and_is_deterministic() -> None:
    with pytest.raises(InputError):
        BurstDetector(s=1.0)
    with pytest.raises(InputError):
        BurstDetector(dispersion=0)
    bad = SeriesMatrix(pa.table({"item": ["a"]}), np.array([[1.0, -1.0]]), 0, 1)
    with pytest.raises(InputError):
        BurstDetector().fit(bad)
    pl = planted_series(50, 14, seed=3)
    a = BurstDetector().fit(pl.matrix).bursts_
    b = BurstDetector().fit(pl.matrix).bursts_
    assert a.equals(b)
    assert planted_series(50, 14, seed=3).matrix.values.tolist() == pl.matrix.values.tolist()
