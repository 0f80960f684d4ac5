"""Row-level validation: raw Arrow columns in, typed rows of a table spec out, rejects aside.

Validation is vectorised with Arrow compute (10M events validate in seconds). A row is
rejected when any of its fields fails; every failing field of the row gets one
:class:`Reject` naming the source file, line, field, offending value and reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError
from ..core.schema import Column, TableSpec
from ..core.text import normalize_tag
from ..core.timeutil import parse_timestamp

_INT_RE = r"^\s*[-+]?\d+(\.0*)?\s*$"
_FLOAT_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n", ""}
#: epoch magnitudes above these are milliseconds / microseconds
_MS, _US = 10**11, 10**14
_TS = pa.timestamp("us", tz="UTC")
#: lines column readers attach to raw batches
LINE = "_line"


@dataclass(frozen=True)
class Reject:
    """One field of one rejected row."""

    source: str
    line: int | None
    field: str
    value: str | None
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "line": self.line,
            "field": self.field,
            "value": self.value,
            "reason": self.reason,
        }


@dataclass
class Validated:
    """Typed good rows (exactly the spec's schema) and the rejects of one raw batch."""

    table: pa.Table
    rejects: list[Reject] = field(default_factory=list)
    rejected_rows: int = 0


class _Col:
    """Result of validating one column: typed array plus a per-row error mask."""

    def __init__(self, values: pa.Array, bad: np.ndarray, reason: str | np.ndarray) -> None:
        self.values = values
        self.bad = bad
        self.reason = reason


def _strings(arr: pa.Array) -> pa.Array:
    if pa.types.is_string(arr.type):
        return arr
    if pa.types.is_large_string(arr.type) or pa.types.is_dictionary(arr.type):
        return arr.cast(pa.string())
    return arr.cast(pa.string())


def _null_mask(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False), dtype=bool)


def _trim_empty_to_null(s: pa.Array) -> pa.Array:
    """Trim surrounding whitespace and turn empty strings into nulls.

    Fast path for clean columns (the common case): one regex scan, no copies.
    """
    if pc.any(pc.match_substring_regex(s, r"^\s|\s$")).as_py():
        s = pc.utf8_trim_whitespace(s)
    if pc.any(pc.equal(pc.binary_length(s), 0)).as_py():
        s = pc.if_else(pc.equal(s, ""), pa.scalar(None, pa.string()), s)
    return s


def _validate_text(arr: pa.Array, col: Column) -> _Col:
    if pa.types.is_list(arr.type) or pa.types.is_struct(arr.type):
        bad = ~_null_mask(arr)
        return _Col(pa.nulls(len(arr), pa.string()), bad, "expected text, got a nested value")
    s = _strings(arr)
    if col.name.endswith("_id") or col.norm:
        s = _trim_empty_to_null(s)
    if col.norm == "upper":
        s = pc.utf8_upper(s)
    elif col.norm == "tag":
        s = pa.array(
            [None if v is None else normalize_tag(v) or None for v in s.to_pylist()],
            type=pa.string(),
        )
    bad = np.zeros(len(s), dtype=bool)
    reason: str | np.ndarray = ""
    if col.choices:
        ok = pc.or_(pc.is_null(s), pc.is_in(s, value_set=pa.array(col.choices)))
        bad = ~np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)
        reason = f"must be one of {', '.join(col.choices)}"
    return _Col(s, bad, reason)


def _validate_numeric(arr: pa.Array, col: Column) -> _Col:
    target = col.type
    n = len(arr)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        s = pc.utf8_trim_whitespace(arr.cast(pa.string()))
        s = pc.if_else(pc.equal(s, ""), pa.scalar(None, pa.string()), s)
        pattern = _INT_RE if pa.types.is_integer(target) else _FLOAT_RE
        ok = pc.fill_null(pc.match_substring_regex(s, pattern), True)
        ok_np = np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool).copy()
        clean = pc.if_else(ok, s, pa.scalar(None, pa.string()))
        if pa.types.is_integer(target):
            digits = pc.replace_substring_regex(clean, r"\.0*$", "")
            try:
                values = digits.cast(target)
            except (pa.ArrowInvalid, OverflowError):  # out of range somewhere: per element
                parsed: list[int | None] = []
                for i, v in enumerate(digits.to_pylist()):
                    x = None if v is None else int(v)
                    if x is not None and not -(2**63) <= x < 2**63:
                        ok_np[i] = False
                        x = None
                    parsed.append(x)
                values = pa.array(parsed, type=target)
        else:
            values = clean.cast(target)
        bad = ~ok_np
        reason: str | np.ndarray = np.where(
            bad, f"not a{'n integer' if pa.types.is_integer(target) else ' number'}", ""
        )
    elif (
        pa.types.is_boolean(arr.type)
        or pa.types.is_integer(arr.type)
        or pa.types.is_floating(arr.type)
    ):
        if pa.types.is_floating(arr.type):
            f = arr.cast(pa.float64())
            fnp = np.asarray(f.to_numpy(zero_copy_only=False), dtype=float)
            clean = (
                f.null_count == 0
                and np.isfinite(fnp).all()
                and (not pa.types.is_integer(target) or (fnp == np.floor(fnp)).all())
                and (col.min_value is None or n == 0 or fnp.min() >= col.min_value)
            )
            if clean:  # fast path: nothing to reject
                return _Col(f.cast(target), np.zeros(n, dtype=bool), "")
            nonfinite = ~np.isfinite(np.nan_to_num(fnp, nan=0.0)) | (np.isnan(fnp) & ~_null_mask(f))
            bad = nonfinite.copy()
            if pa.types.is_integer(target):
                frac = np.where(np.isfinite(fnp), fnp - np.floor(np.nan_to_num(fnp)), 0.0)
                bad |= (frac != 0) | (np.abs(np.nan_to_num(fnp)) >= 2.0**63)
            safe = pc.if_else(pa.array(bad), pa.scalar(None, pa.float64()), f)
            values = safe.cast(target, safe=False)
            reason = np.where(
                bad,
                "not a finite number"
                + (" / not an integer in range" if pa.types.is_integer(target) else ""),
                "",
            )
        else:
            values = arr.cast(target)
            bad = np.zeros(n, dtype=bool)
            reason = ""
    else:
        return _Col(pa.nulls(n, target), ~_null_mask(arr), f"expected a number, got {arr.type}")
    if col.min_value is not None:
        below = pc.fill_null(pc.less(values, col.min_value), False)
        below_np = np.asarray(below.to_numpy(zero_copy_only=False), dtype=bool) & ~bad
        if below_np.any():
            bad = bad | below_np
            reason = np.where(below_np, f"must be >= {col.min_value:g}", reason)
            values = pc.if_else(below, pa.scalar(None, target), values)
    return _Col(values, bad, reason)


def _validate_bool(arr: pa.Array, col: Column) -> _Col:
    n = len(arr)
    if pa.types.is_boolean(arr.type):
        return _Col(arr, np.zeros(n, dtype=bool), "")
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        ok = pc.or_(
            pc.is_null(arr), pc.is_in(arr.cast(pa.float64()), value_set=pa.array([0.0, 1.0]))
        )
        ok_np = np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)
        values = pc.if_else(
            ok, pc.not_equal(arr.cast(pa.float64()), 0.0), pa.scalar(None, pa.bool_())
        )
        return _Col(values, ~ok_np, "not a boolean (0/1)")
    s = pc.utf8_lower(pc.utf8_trim_whitespace(_strings(arr)))
    is_t = pc.is_in(s, value_set=pa.array(sorted(_TRUE)))
    is_f = pc.is_in(s, value_set=pa.array(sorted(_FALSE)))
    ok = pc.or_(pc.is_null(s), pc.or_(is_t, is_f))
    values = pc.if_else(
        is_t,
        True,
        pc.if_else(pc.and_(is_f, pc.not_equal(s, "")), False, pa.scalar(None, pa.bool_())),
    )
    return _Col(values, ~np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool), "not a boolean")


def _epoch_to_ts(x: np.ndarray) -> np.ndarray:
    """Epoch seconds (or ms / µs, detected by magnitude) to int64 microseconds."""
    ax = np.abs(x)
    us = np.where(ax >= _US, x, np.where(ax >= _MS, x * 1e3, x * 1e6))
    return np.round(us).astype(np.int64)


def _validate_ts(arr: pa.Array, col: Column) -> _Col:
    n = len(arr)
    if pa.types.is_timestamp(arr.type):
        if arr.type.tz is None:
            arr = pc.assume_timezone(arr, "UTC")
        return _Col(arr.cast(_TS), np.zeros(n, dtype=bool), "")
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        x = np.asarray(arr.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
        isnull = _null_mask(arr)
        bad = ~isnull & (
            ~np.isfinite(np.nan_to_num(x, nan=np.inf)) | (np.abs(np.nan_to_num(x)) > 1e17)
        )
        us = _epoch_to_ts(np.where(bad | isnull, 0.0, np.nan_to_num(x)))
        values = pa.array(us, type=pa.int64(), mask=bad | isnull).cast(_TS)
        return _Col(values, bad, "not a finite epoch")
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return _Col(pa.nulls(n, _TS), ~_null_mask(arr), f"expected a timestamp, got {arr.type}")
    s = pc.utf8_trim_whitespace(arr.cast(pa.string()))
    s = pc.if_else(pc.equal(s, ""), pa.scalar(None, pa.string()), s)
    numeric = pc.fill_null(pc.match_substring_regex(s, _FLOAT_RE), False)
    num_np = np.asarray(numeric.to_numpy(zero_copy_only=False), dtype=bool)
    us = np.zeros(n, dtype=np.int64)
    have = np.zeros(n, dtype=bool)
    if num_np.any():
        x = np.asarray(
            pc.if_else(numeric, s, pa.scalar(None, pa.string()))
            .cast(pa.float64())
            .to_numpy(zero_copy_only=False),
            dtype=float,
        )
        finite = (
            num_np & np.isfinite(np.nan_to_num(x, nan=np.inf)) & (np.abs(np.nan_to_num(x)) <= 1e17)
        )
        us[finite] = _epoch_to_ts(x[finite])
        have |= finite
    isnull = _null_mask(s)
    rest = ~num_np & ~isnull
    if rest.any():
        idx = np.flatnonzero(rest)
        sub = s.take(pa.array(idx))
        parsed: pa.Array | None = None
        for cast in (
            lambda a: a.cast(_TS),
            lambda a: pc.assume_timezone(a.cast(pa.timestamp("us")), "UTC"),
        ):
            try:
                parsed = cast(sub)
                break
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
        if parsed is not None:
            us[idx] = np.asarray(parsed.cast(pa.int64()).to_numpy(zero_copy_only=False))
            have[idx] = True
        else:  # mixed formats: element-wise (only this batch's non-numeric strings)
            for i, v in zip(idx, sub.to_pylist(), strict=True):
                try:
                    dt = parse_timestamp(v)
                except InputError:
                    continue
                us[i] = int(dt.timestamp() * 1_000_000)
                have[i] = True
    bad = ~isnull & ~have
    values = pa.array(us, type=pa.int64(), mask=~have).cast(_TS)
    return _Col(values, bad, "not epoch seconds or ISO 8601")


def _parse_list_text(v: str) -> list[str] | None:
    v = v.strip()
    if not v:
        return []
    if v.startswith("["):
        try:
            parsed = json.loads(v)
        except json.JSONDecodeError:
            inner = v.strip("[]")  # unquoted bracket list: [a,b,c]
            return [p.strip() for p in inner.split(",") if p.strip()]
        if not isinstance(parsed, list):
            return None
        return [str(p) for p in parsed if p is not None and str(p).strip()]
    for sep in ("|", ",", ";"):
        if sep in v:
            return [p.strip() for p in v.split(sep) if p.strip()]
    return [p for p in v.split() if p]


def _validate_list(arr: pa.Array, col: Column) -> _Col:
    n = len(arr)
    if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
        flat = pc.list_flatten(arr)
        if not pa.types.is_string(flat.type):
            try:
                arr = arr.cast(pa.list_(pa.string()))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return _Col(pa.nulls(n, col.type), ~_null_mask(arr), "list items must be text")
        values = arr.cast(col.type)
        if col.norm == "tag":
            py = values.to_pylist()
            values = pa.array(
                [None if x is None else [t for t in map(normalize_tag, x) if t] for x in py],
                type=col.type,
            )
        return _Col(values, np.zeros(n, dtype=bool), "")
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return _Col(pa.nulls(n, col.type), ~_null_mask(arr), f"expected a list, got {arr.type}")
    out: list[list[str] | None] = []
    bad = np.zeros(n, dtype=bool)
    for i, v in enumerate(arr.to_pylist()):
        if v is None:
            out.append(None)
            continue
        items = _parse_list_text(v)
        if items is None:
            bad[i] = True
            out.append(None)
            continue
        if col.norm == "tag":
            items = [t for t in map(normalize_tag, items) if t]
        out.append(items)
    return _Col(pa.array(out, type=col.type), bad, "not a list (JSON array or separated text)")


_VALIDATORS = {
    "id": _validate_text,
    "text": _validate_text,
    "enum": _validate_text,
    "int": _validate_numeric,
    "float": _validate_numeric,
    "bool": _validate_bool,
    "ts": _validate_ts,
    "list": _validate_list,
}


def _display(value: object) -> str | None:
    if value is None:
        return None
    s = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return s if len(s) <= 200 else s[:197] + "..."


def validate_batch(
    raw: pa.Table,
    spec: TableSpec,
    *,
    source: str,
    lines: Sequence[int] | np.ndarray | pa.Array | None = None,
    strict_columns: bool = False,
) -> Validated:
    """Validate and type one raw batch against *spec*.

    *raw* columns may be text (CSV), typed (Parquet) or mixed (JSON). Columns the spec
    does not know are ignored (or rejected with *strict_columns*). *lines* gives each
    row's line in *source* (defaults to the ``_line`` column, else the row number).
    """
    if not isinstance(raw, pa.Table):
        raise InputError(f"expected a pyarrow.Table, got {type(raw).__name__}", field="raw")
    n = raw.num_rows
    if lines is None:
        lines = raw.column(LINE) if LINE in raw.column_names else np.arange(1, n + 1)
    line_np = np.asarray(
        lines.to_numpy(zero_copy_only=False)
        if isinstance(lines, pa.ChunkedArray | pa.Array)
        else lines
    )
    if len(line_np) != n:
        raise InputError(f"{len(line_np)} line numbers for {n} rows", field="lines")
    known = set(spec.column_names)
    extra = [c for c in raw.column_names if c not in known and c != LINE]
    if strict_columns and extra:
        raise InputError(f"unknown columns {extra}", source=source, field=extra[0])

    row_bad = np.zeros(n, dtype=bool)
    failures: list[tuple[str, np.ndarray, str | np.ndarray, pa.Array | pa.ChunkedArray]] = []
    arrays: list[pa.Array] = []
    for col in spec.columns:
        if col.name in raw.column_names:
            raw_col = raw.column(col.name)
            arr = raw_col.combine_chunks() if isinstance(raw_col, pa.ChunkedArray) else raw_col
            res = _VALIDATORS[col.kind](arr, col)
            values, bad, reason = res.values, res.bad, res.reason
            if pa.types.is_null(arr.type):
                values = pa.nulls(n, col.type)
        else:
            raw_col = pa.nulls(n, pa.string())
            values, bad, reason = pa.nulls(n, col.type), np.zeros(n, dtype=bool), ""
        if col.required:
            missing = _null_mask(values) & ~bad
            if missing.any():
                bad = bad | missing
                reason = np.where(missing, "required field is missing or empty", reason)
        if bad.any():
            failures.append((col.name, bad, reason, raw_col))
            row_bad |= bad
        arrays.append(values)

    good = pa.Table.from_arrays(
        arrays, schema=pa.schema([pa.field(c.name, c.type) for c in spec.columns])
    )
    rejects: list[Reject] = []
    if row_bad.any():
        keep = np.flatnonzero(~row_bad)
        good = good.take(pa.array(keep))
        for name, bad, reason, raw_col in failures:
            for i in np.flatnonzero(bad):
                r = reason if isinstance(reason, str) else str(reason[i])
                rejects.append(
                    Reject(source, int(line_np[i]), name, _display(raw_col[int(i)].as_py()), r)
                )
        rejects.sort(key=lambda r: (r.line if r.line is not None else -1, r.field))
    good = good.cast(spec.schema)
    return Validated(good, rejects, int(row_bad.sum()))
