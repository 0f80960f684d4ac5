"""Many time series as one dense matrix, with every repair of bad input flagged.

The store computes long tables (``kind, item, scope, bin, value``) with SQL; the
analytics want a dense ``series × bins`` matrix on a regular grid. :func:`to_matrix`
does that conversion and reports what it had to fix:

* **gaps** (bins with no row) become zeros: counts of nothing are zero;
* **duplicates** (two rows for one series and bin) are summed;
* **misaligned** times are floored to the grid (row order never matters);
* **future** rows (after ``now``) are dropped and counted;
* **single-point** series are kept (detectors return nothing for them, forecasts fall
  back to naive) and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError

US = {"hour": 3_600_000_000, "day": 86_400_000_000}
TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class SeriesIssues:
    """Counts of what :func:`to_matrix` repaired or dropped."""

    rows: int = 0
    gaps_filled: int = 0
    duplicates_summed: int = 0
    misaligned: int = 0
    future_dropped: int = 0
    null_dropped: int = 0
    single_point_series: int = 0

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class SeriesMatrix:
    """``values[i, t]`` is series ``keys[i]`` in bin ``start_us + t·step_us``."""

    keys: pa.Table
    values: np.ndarray
    start_us: int
    step_us: int
    issues: SeriesIssues = SeriesIssues()

    @property
    def n_series(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_bins(self) -> int:
        return int(self.values.shape[1])

    def bin_us(self, t: np.ndarray | int) -> np.ndarray:
        return self.start_us + np.asarray(t, np.int64) * self.step_us

    def bins(self) -> pa.Array:
        return pa.array(self.bin_us(np.arange(self.n_bins)), pa.int64()).cast(TS)

    def take(self, rows: np.ndarray) -> SeriesMatrix:
        rows = np.asarray(rows)
        return SeriesMatrix(
            self.keys.take(pa.array(rows, pa.int64())), self.values[rows], self.start_us,
            self.step_us, self.issues,
        )  # fmt: skip

    def aggregate(self, factor: int) -> SeriesMatrix:
        """Sum every *factor* bins (e.g. 24 hourly bins → days); a partial tail is dropped."""
        if factor < 1:
            raise InputError("must be >= 1", field="factor")
        t = self.n_bins // factor * factor
        v = self.values[:, :t].reshape(self.n_series, -1, factor).sum(2)
        return SeriesMatrix(self.keys, v, self.start_us, self.step_us * factor, self.issues)

    def to_long(self, value_name: str = "value", drop_zero: bool = True) -> pa.Table:
        s, t = (
            np.nonzero(self.values) if drop_zero else np.indices(self.values.shape).reshape(2, -1)
        )
        out = self.keys.take(pa.array(s, pa.int64()))
        out = out.append_column("bin", pa.array(self.bin_us(t), pa.int64()).cast(TS))
        return out.append_column(value_name, pa.array(self.values[s, t], pa.float64()))


def step_us(grain: str | int) -> int:
    """Microseconds of a grain name (``hour``, ``day``) or of a number of seconds."""
    if isinstance(grain, str):
        if grain not in US:
            raise InputError(
                f"must be one of {sorted(US)} or seconds, got {grain!r}", field="grain"
            )
        return US[grain]
    if isinstance(grain, bool) or not isinstance(grain, int) or grain <= 0:
        raise InputError(f"must be a positive number of seconds, got {grain!r}", field="grain")
    return int(grain) * 1_000_000


def _us(x: object, field: str) -> int | None:
    if x is None:
        return None
    if isinstance(x, int | np.integer):
        return int(x)
    from ..core.timeutil import to_utc

    return round(to_utc(x, field=field).timestamp() * 1e6)


def to_matrix(
    long: pa.Table,
    *,
    keys: Sequence[str] = ("kind", "item", "scope"),
    time: str = "bin",
    value: str = "value",
    grain: str | int = "hour",
    start: object = None,
    end: object = None,
    now: object = None,
) -> SeriesMatrix:
    """Pivot a long table into a dense :class:`SeriesMatrix` on a regular grid.

    *start* / *end* (datetimes or epoch µs; *end* exclusive) fix the grid, default the
    data's range; rows at or after *now* are dropped as future. Keys are sorted.
    """
    missing = [c for c in (*keys, time, value) if c not in long.column_names]
    if missing:
        raise InputError(f"series table lacks columns {missing}", field=missing[0])
    step = step_us(grain)
    rows = long.num_rows
    ok = pc.and_(pc.is_valid(long.column(time)), pc.is_valid(long.column(value)))
    data = long.filter(ok)
    null_dropped = rows - data.num_rows
    tcol = data.column(time)
    if pa.types.is_timestamp(tcol.type):
        tcol = pc.cast(tcol, pa.timestamp("us", tz=tcol.type.tz))
    t = np.asarray(tcol.cast(pa.int64()).to_numpy(), np.int64)
    v = np.asarray(data.column(value).cast(pa.float64()).to_numpy(), np.float64)
    now_us = _us(now, "now")
    future = t >= now_us if now_us is not None else np.zeros(t.size, bool)
    t, v = t[~future], v[~future]
    data = data.filter(pa.array(~future))
    start_us = _us(start, "start")
    end_us = _us(end, "end")
    floored = np.floor_divide(t, step) * step
    misaligned = int(np.sum(floored != t))
    if start_us is None:
        start_us = int(floored.min()) if floored.size else 0
    start_us = start_us // step * step
    if end_us is None:
        end_us = int(floored.max()) + step if floored.size else start_us + step
    if end_us <= start_us:
        raise InputError("end must be after start", field="end")
    n_bins = int(-(-(end_us - start_us) // step))
    inside = (floored >= start_us) & (floored < start_us + n_bins * step)
    key_tab = data.select(list(keys)).filter(pa.array(inside))
    tb = ((floored[inside] - start_us) // step).astype(np.int64)
    v = v[inside]
    if key_tab.num_rows == 0:
        empty = pa.schema([data.schema.field(k) for k in keys]).empty_table()
        return SeriesMatrix(empty, np.zeros((0, n_bins)), start_us, step,
                            SeriesIssues(rows, 0, 0, misaligned,
                                         int(future.sum()), null_dropped, 0))  # fmt: skip
    # one code per distinct key (dictionary-encode the joined key), codes in key order
    parts = [pc.cast(key_tab.column(k), pa.string()).fill_null("\x00") for k in keys]
    joined_key = pc.binary_join_element_wise(*parts, "\x1f") if len(parts) > 1 else parts[0]
    enc = joined_key.combine_chunks().dictionary_encode()
    codes = np.asarray(enc.indices.to_numpy(), np.int64)
    first_pos = np.full(len(enc.dictionary), key_tab.num_rows, np.int64)
    np.minimum.at(first_pos, codes, np.arange(codes.size))
    uniq = key_tab.take(pa.array(first_pos, pa.int64()))
    order = np.asarray(pc.sort_indices(uniq, [(k, "ascending") for k in keys]).to_numpy())
    uniq = uniq.take(pa.array(order, pa.int64()))
    rank = np.empty(order.size, np.int64)
    rank[order] = np.arange(order.size)
    row = rank[codes]
    flat = row * n_bins + tb
    size = uniq.num_rows * n_bins
    mat = np.bincount(flat, weights=v, minlength=size).reshape(-1, n_bins)
    n_cells = int(np.count_nonzero(np.bincount(flat, minlength=size)))
    nz = mat != 0
    active = nz.sum(1)
    first = nz.argmax(1)
    last = n_bins - 1 - nz[:, ::-1].argmax(1)
    gaps = int(np.sum(np.where(active > 0, last - first + 1 - active, 0)))
    issues = SeriesIssues(
        rows=rows, gaps_filled=gaps, duplicates_summed=int(flat.size - n_cells),
        misaligned=misaligned, future_dropped=int(future.sum()),
        null_dropped=null_dropped, single_point_series=int(np.sum(active == 1)),
    )  # fmt: skip
    return SeriesMatrix(uniq, mat, start_us, step, issues)


def seasonal_profile(total: np.ndarray, period: int, *, floor: float = 0.1) -> np.ndarray:
    """Multiplicative seasonal factor per bin (mean 1) from an aggregate series.

    Phase ``t mod period`` averages over whole cycles; with fewer than two cycles (or
    *period* ≤ 1) every factor is 1. Factors are floored at *floor* so a quiet hour never
    makes a baseline zero.
    """
    total = np.asarray(total, np.float64)
    n = total.size
    if period <= 1 or n < 2 * period or total.sum() <= 0:
        return np.ones(n)
    k = n // period * period
    phase_mean = total[:k].reshape(-1, period).mean(0)
    f = phase_mean / max(phase_mean.mean(), 1e-12)
    f = np.maximum(f, floor)
    return f[np.arange(n) % period] / f.mean()
