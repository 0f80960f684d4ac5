"""Write a simulated platform to a folder: one file per table, written batch by batch.

Layout of ``out_dir``::

    creators.parquet | .csv | .jsonl     one file per core table (load order)
    …
    events.parquet                       written chunk by chunk (row group per chunk)
    manifest.json                        format, config, row counts, file names
    truth/truth.json, truth/*.parquet    the ground-truth bundle (always Parquet)

CSV: header row, list columns as JSON arrays (``["fyp","booktok"]``), timestamps as
ISO 8601 with ``Z``, nulls as empty fields. JSONL: one JSON object per line, same
conventions (nulls as ``null``). Both encoders are vectorised Arrow compute.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from ..core.errors import Conflict, InputError
from ..core.schema import LOAD_ORDER
from .api import _coerce, iter_tables
from .config import SimConfig
from .truth import GroundTruth

FORMATS = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl"}
ISO = "%Y-%m-%dT%H:%M:%SZ"  # %S carries the microseconds for timestamp[us]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DatasetInfo:
    """Where :func:`write_dataset` put everything."""

    path: Path
    format: str
    files: dict[str, Path]
    rows: dict[str, int]
    truth_dir: Path
    truth: GroundTruth


def _escape(arr: pa.Array) -> pa.Array:
    if not pc.any(pc.match_substring_regex(arr, r'["\\\n\r\t]')).as_py():
        return arr  # ids and most text need no escaping: skip five passes
    for a, b in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        arr = pc.replace_substring(arr, a, b)
    return arr


def _json_values(arr: pa.Array) -> pa.Array:
    """Each value of *arr* as a JSON text fragment (``null`` for nulls)."""
    t = arr.type
    if pa.types.is_timestamp(t):
        out = pc.binary_join_element_wise('"', pc.strftime(arr, format=ISO), '"', "")
    elif pa.types.is_list(t):
        inner = pc.binary_join(_escape_list(arr), '","')
        out = pc.binary_join_element_wise('["', inner, '"]', "")
        out = pc.if_else(pc.equal(pc.list_value_length(arr), 0), "[]", out)
    elif pa.types.is_string(t):
        out = pc.binary_join_element_wise('"', _escape(arr), '"', "")
    else:  # bool, int, float
        out = pc.cast(arr, pa.string())
    return pc.fill_null(out, "null")


def _escape_list(arr: pa.Array) -> pa.Array:
    flat = _escape(pc.list_flatten(arr))
    offsets = pc.subtract(arr.offsets, arr.offsets[0])
    return pa.ListArray.from_arrays(offsets, flat, mask=arr.is_null())


def to_jsonl(table: pa.Table) -> pa.Buffer:
    """Vectorised JSON Lines (UTF-8 bytes, one object per row) of *table*.

    Handles string, bool, number, timestamp and list<string> columns; returns an Arrow
    buffer (bytes-like: write it to a binary file, or ``.to_pybytes()``).
    """
    if table.num_rows == 0:
        return pa.py_buffer(b"")
    pieces: list[Any] = []
    for i, name in enumerate(table.column_names):
        col = table.column(name).combine_chunks()
        pieces.append(("{" if i == 0 else ",") + json.dumps(name) + ":")
        pieces.append(_json_values(col))
    pieces.append("}\n")
    lines = pc.binary_join_element_wise(*pieces, "")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    _, offsets, data = lines.buffers()
    off = np.frombuffer(offsets, np.int32)[lines.offset : lines.offset + len(lines) + 1]
    return data.slice(int(off[0]), int(off[-1] - off[0]))


def to_csv_table(table: pa.Table) -> pa.Table:
    """*table* with list columns as JSON arrays and timestamps as ISO 8601 ``Z`` strings."""
    cols = []
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        if pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format=ISO)
        elif pa.types.is_list(col.type):
            col = pc.if_else(col.is_null(), pa.scalar(None, pa.string()), _json_values(col))
        cols.append(col)
    return pa.Table.from_arrays(cols, names=table.column_names)


class _Writer:
    def __init__(self, path: Path, fmt: str, schema: pa.Schema):
        self.path, self.fmt, self.schema = path, fmt, schema
        self.header = True
        self._pq: pq.ParquetWriter | None = None
        self._fh: IO[Any] | None = None
        if fmt == "parquet":
            self._pq = pq.ParquetWriter(path, schema, compression="zstd")
        else:
            self._fh = open(path, "wb")  # noqa: SIM115 - closed in close()

    def write(self, batch: pa.Table) -> None:
        if self._pq is not None:
            self._pq.write_table(batch.cast(self.schema))
        elif self.fmt == "csv":
            assert self._fh is not None
            opts = pcsv.WriteOptions(include_header=self.header)
            pcsv.write_csv(to_csv_table(batch), self._fh, write_options=opts)
            self.header = False
        else:
            assert self._fh is not None
            self._fh.write(to_jsonl(batch))

    def close(self) -> None:
        if self._pq is not None:
            self._pq.close()
        if self._fh is not None:
            if self.fmt == "csv" and self.header:  # empty table: still write the header
                pcsv.write_csv(to_csv_table(self.schema.empty_table()), self._fh)
            self._fh.close()


def write_dataset(
    config: SimConfig | str | None,
    out_dir: str | Path,
    format: str = "parquet",
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> DatasetInfo:
    """Simulate and write every table to *out_dir* in *format*, plus ``truth/`` and a manifest.

    Events are generated and written chunk by chunk. *progress* is called as
    ``progress(table, rows_written, rows_total)`` after each batch.
    """
    if format not in FORMATS:
        raise InputError(
            f"unknown format {format!r}; use one of {', '.join(FORMATS)}", field="format"
        )
    cfg = _coerce(config)
    out = Path(out_dir)
    ext = FORMATS[format]
    files = {name: out / f"{name}.{ext}" for name in LOAD_ORDER}
    clash = [p for p in [*files.values(), out / "manifest.json", out / "truth"] if p.exists()]
    if clash and not overwrite:
        raise Conflict(f"{out} already holds a dataset ({clash[0].name}); pass overwrite=True")
    out.mkdir(parents=True, exist_ok=True)
    stream = iter_tables(cfg)
    totals = stream.rows
    written: dict[str, int] = {}
    writers: dict[str, _Writer] = {}

    def done(job: tuple[str, int, Future[None]]) -> None:
        name, rows, future = job
        future.result()
        written[name] = written.get(name, 0) + rows
        if progress is not None:
            progress(name, written[name], totals[name])

    # one writer thread: the next batch is generated while the previous one is written
    # (at most two batches in memory)
    pending: tuple[str, int, Future[None]] | None = None
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            for name, batch in stream:
                if pending is not None:
                    done(pending)
                    pending = None
                if name not in writers:
                    writers[name] = _Writer(files[name], format, batch.schema)
                pending = (name, batch.num_rows, pool.submit(writers[name].write, batch))
            if pending is not None:
                done(pending)
    finally:
        for wr in writers.values():
            wr.close()
    truth_dir = stream.truth.save(out / "truth")
    manifest = {
        "generator": "communitok.simulate",
        "format": format,
        "config": cfg.to_dict(),
        "rows": written,
        "files": {name: p.name for name, p in files.items()},
        "truth": "truth",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return DatasetInfo(out, format, files, written, truth_dir, stream.truth)
