"""Shared helpers of the real data set readers (:mod:`communitok.ingest.datasets`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError
from .readers import RawBatch, read_csv
from .validate import LINE

#: 1970-01-01T00:00:00Z: the time stored where a data set has none
EPOCH = 0
_TS = pa.timestamp("us", tz="UTC")


@dataclass
class DatasetReport:
    """What a data set reader noticed while reading (skipped rows, dangling references).

    Pass one to a reader; it is filled in as the batches are consumed.
    """

    name: str
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + int(n)


@dataclass
class SourceTable:
    """A whole CSV/TSV file as text columns (``_line`` = record line, see ``read_csv``)."""

    path: Path
    data: pa.Table
    line_mapper: Callable[[int], int] | None

    @property
    def source(self) -> str:
        return str(self.path)

    def col(self, name: str) -> pa.Array:
        c = self.data.column(name)
        return c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c

    def batch(self, table: str, columns: Mapping[str, Any], *, rows: Any = None) -> RawBatch:
        """A raw batch of *table* from *columns* (arrays or lists), lines of *rows*."""
        lines = self.col(LINE) if rows is None else self.col(LINE).take(pa.array(rows, pa.int64()))
        return make_batch(table, columns, lines, self.source, self.line_mapper)


def make_batch(
    table: str,
    columns: Mapping[str, Any],
    lines: pa.Array | Iterable[int],
    source: str,
    line_mapper: Callable[[int], int] | None = None,
) -> RawBatch:
    cols = {
        k: v if isinstance(v, pa.Array | pa.ChunkedArray) else pa.array(v)
        for k, v in columns.items()
    }
    cols[LINE] = lines if isinstance(lines, pa.Array) else pa.array(list(lines), pa.int64())
    return RawBatch(table, pa.table(cols), source, line_mapper=line_mapper)


def need(folder: str | Path, *names: str) -> Path:
    """The data set folder, checked to hold *names* (else an InputError naming the file)."""
    f = Path(folder)
    if not f.is_dir():
        raise InputError("data set folder not found", source=str(f))
    for n in names:
        if not (f / n).is_file():
            raise InputError(f"missing {n} in the data set folder", source=str(f / n))
    return f


def read_table(path: Path, *, delimiter: str = "\t") -> SourceTable:
    """Read a (gzip) CSV/TSV with the project's reader: header, quoted multi-line
    fields, bare ``\\r`` kept as content, every column as text."""
    batches = list(read_csv(path, "videos", delimiter=delimiter, batch_rows=1 << 40))
    if not batches:
        raise InputError("empty file", source=str(path))
    data = pa.concat_tables([b.data for b in batches]) if len(batches) > 1 else batches[0].data
    mapper = batches[0].line_mapper
    return SourceTable(path, data, mapper)  # type: ignore[arg-type]


def norm_tag(t: str) -> str:
    """Hashtag normal form, the same as validation's: no ``#``, trimmed, lower-case."""
    return t.strip().lstrip("#").strip().lower()


def json_lists(col: pa.Array, *, strip: str = "") -> tuple[pa.Array, list[list[str]]]:
    """Parse a column of JSON-array text cells (``["a", "b"]``); items lose *strip*.

    Returns the column to load (a list column; or, if a cell is not a JSON array, the
    text itself so that validation parses or rejects it row by row) and the parsed items
    per row (empty where unparsed) for deriving other tables.
    """
    parsed: list[list[str] | None] = []
    failed = False
    for v in col.to_pylist():
        if v is None:
            parsed.append(None)
            continue
        try:
            items = json.loads(v)
        except json.JSONDecodeError:
            items = None
        if not isinstance(items, list):
            failed = True
            parsed.append(None)
            continue
        parsed.append([str(x).lstrip(strip) if strip else str(x) for x in items if x is not None])
    rows = [p or [] for p in parsed]
    return (col if failed else pa.array(parsed, pa.list_(pa.string()))), rows


def first_rows(t: pa.Table, keys: list[str]) -> pa.Table:
    """One row per key, in first-appearance order: each scalar column takes its first
    non-null value among the key's rows; list columns and ``_line`` come from the first row."""
    idx = "__row"
    t = t.append_column(idx, pa.array(np.arange(t.num_rows, dtype=np.int64)))
    scalars = [
        c
        for c in t.column_names
        if c not in keys and c not in (idx, LINE) and not pa.types.is_list(t.schema.field(c).type)
    ]
    g = t.group_by(keys, use_threads=False).aggregate(
        [(idx, "min")] + [(c, "first") for c in scalars]
    )
    first = g.column(f"{idx}_min")
    out = {}
    for c in t.column_names:
        if c == idx:
            continue
        if c in keys:
            out[c] = g.column(c)
        elif c in scalars:
            out[c] = g.column(f"{c}_first")
        else:
            out[c] = t.column(c).take(first)
    return pa.table(out)


def const(value: object, n: int, type_: pa.DataType | None = None) -> pa.Array:
    """An array of *n* copies of *value*."""
    if type_ is not None and pa.types.is_timestamp(type_):
        return pa.array(np.full(n, value, dtype=np.int64), pa.int64()).cast(type_)
    return pa.array([value] * n, type=type_)


def epoch_ts(n: int) -> pa.Array:
    """*n* timestamps at 1970-01-01 (data sets without time)."""
    return const(EPOCH, n, _TS)


def prefixed(prefix: str, col: pa.Array) -> pa.Array:
    """``prefix + value`` for every cell (ids made unique across data sets)."""
    return pc.binary_join_element_wise(
        pa.scalar(prefix), pc.utf8_trim_whitespace(col.cast(pa.string())), ""
    )
