"""Streaming readers for JSONL, CSV and Parquet: raw Arrow batches with source line numbers.

Readers never decide what is valid; they hand raw columns (text for CSV, whatever the
file holds for JSONL/Parquet) to :func:`communitok.ingest.validate.validate_batch`.
Unreadable lines (broken JSON) are reported as rejects right here.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..core.errors import InputError
from ..core.schema import TABLES
from .validate import LINE, Reject

DEFAULT_BATCH_ROWS = 1_000_000
FORMATS = ("jsonl", "csv", "tsv", "parquet", "research-api")
#: stands in for a bare carriage return inside a CSV field while Arrow parses
_CR_MARK = "\ue000"
_BARE_CR = re.compile(rb"\r(?!\n)")


@dataclass
class RawBatch:
    """Raw rows for one table from one source, with their line numbers (``_line``)."""

    table: str
    data: pa.Table
    source: str
    rejects: list[Reject] = field(default_factory=list)
    #: maps record numbers to physical lines lazily (CSV with multi-line fields)
    line_mapper: object | None = None
    #: rows behind ``rejects`` (a reader may reject several records on one line);
    #: None means one row per distinct rejected line
    rejected_rows: int | None = None


def detect_format(path: str | Path) -> str:
    name = str(path).lower()
    for suffix in (".gz", ".zst", ".bz2"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith(".json"):
        return _sniff_json(Path(path))
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".tsv", ".tab")):
        return "tsv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise InputError(
        "cannot tell the format from the file name; pass format= (one of "
        + ", ".join(FORMATS)
        + ")",
        source=str(path),
    )


def _sniff_json(path: Path) -> str:
    """A ``.json`` file: a Research API page or list (``{"data": …}`` / ``[…]``) or JSON lines."""
    try:
        with _open_bytes(path) as fh:
            head = fh.read(4096).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    except OSError:
        return "jsonl"
    if head.startswith("[") or (head.startswith("{") and head[1:].lstrip().startswith('"data"')):
        return "research-api"
    return "jsonl"


def detect_table(path: str | Path) -> str:
    """Guess the table from the file name: ``events.csv``, ``videos-0001.parquet``…"""
    stem = Path(path).name.lower().split(".")[0]
    for name in sorted(TABLES, key=len, reverse=True):
        if stem == name or stem.startswith((name + "-", name + "_")):
            return name
    raise InputError(
        f"cannot tell the table from the file name; pass table= (one of {', '.join(TABLES)})",
        source=str(path),
    )


def _check_path(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found", source=str(p))
    return p


def _check_batch_rows(batch_rows: int) -> None:
    if not isinstance(batch_rows, int) or batch_rows < 1:
        raise InputError("must be a positive integer", field="batch_rows")


def _open_bytes(p: Path) -> io.BufferedIOBase:
    if p.name.endswith(".gz"):
        import gzip

        return gzip.open(p, "rb")
    return open(p, "rb")


# --------------------------------------------------------------------------- JSONL
def _column(values: list[object]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        # mixed types across rows (e.g. ids as numbers and strings): keep text
        return pa.array(
            [
                None
                if v is None
                else v
                if isinstance(v, str)
                else json.dumps(v, ensure_ascii=False)
                if isinstance(v, list | dict)
                else str(v)
                for v in values
            ],
            type=pa.string(),
        )


def _rows_to_table(rows: list[dict[str, object]], lines: list[int]) -> pa.Table:
    keys: dict[str, None] = {}
    for r in rows:
        for k in r:
            keys.setdefault(k, None)
    cols = {k: _column([r.get(k) for r in rows]) for k in keys if k != LINE}
    cols[LINE] = pa.array(lines, type=pa.int64())
    return pa.table(cols)


def read_jsonl(
    path: str | Path, table: str, *, batch_rows: int = DEFAULT_BATCH_ROWS
) -> Iterator[RawBatch]:
    """One JSON object per line; blank lines are skipped; broken lines become rejects."""
    p = _check_path(path)
    _check_batch_rows(batch_rows)
    source = str(p)
    rows: list[dict[str, object]] = []
    lines: list[int] = []
    rejects: list[Reject] = []
    with _open_bytes(p) as fh:
        for lineno, raw in enumerate(fh, start=1):
            text = raw.decode("utf-8", errors="replace").strip()
            if not text:
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                rejects.append(
                    Reject(source, lineno, "(line)", text[:200], f"invalid JSON: {exc.msg}")
                )
                continue
            if not isinstance(obj, dict):
                rejects.append(Reject(source, lineno, "(line)", text[:200], "not a JSON object"))
                continue
            rows.append(obj)
            lines.append(lineno)
            if len(rows) >= batch_rows:
                yield RawBatch(table, _rows_to_table(rows, lines), source, rejects)
                rows, lines, rejects = [], [], []
    if rows or rejects:
        yield RawBatch(
            table,
            _rows_to_table(rows, lines) if rows else pa.table({LINE: pa.array([], pa.int64())}),
            source,
            rejects,
        )


# --------------------------------------------------------------------------- CSV
class _BareCRStream(io.RawIOBase):
    """Byte stream that hides bare ``\\r`` (not followed by ``\\n``) from the CSV parser.

    Lines end with ``\\n`` or ``\\r\\n``; a lone ``\\r`` is field content (real exports,
    e.g. KuaiRec captions, carry unquoted ones). It is restored after parsing.
    """

    def __init__(self, raw: io.BufferedIOBase) -> None:
        self._raw = raw
        self._buf = b""
        self._pending = b""
        self.replaced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buf:
            chunk = self._raw.read(1 << 20)
            if not chunk:
                if self._pending:
                    self._buf, self._pending = self._fix(self._pending, final=True), b""
                    break
                return 0
            data = self._pending + chunk
            if data.endswith(b"\r"):  # might be the first half of \r\n
                data, self._pending = data[:-1], b"\r"
            else:
                self._pending = b""
            self._buf = self._fix(data)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def _fix(self, data: bytes, final: bool = False) -> bytes:
        out, k = _BARE_CR.subn(_CR_MARK.encode(), data)
        self.replaced += k
        return out

    def close(self) -> None:
        self._raw.close()
        super().close()


class CsvLineIndex:
    """Maps 0-based data record numbers to physical 1-based line numbers.

    Built only when a batch has rejects: a vectorised scan for newlines outside quotes.
    """

    def __init__(self, path: Path, quote: bytes = b'"') -> None:
        self._path = path
        self._quote = quote
        self._starts: np.ndarray | None = None

    def _build(self) -> np.ndarray:
        with _open_bytes(self._path) as fh:
            buf = np.frombuffer(fh.read(), dtype=np.uint8)
        nl = np.flatnonzero(buf == ord("\n"))
        quotes = np.flatnonzero(buf == self._quote[0])
        parity = np.searchsorted(quotes, nl) % 2  # quotes before each newline
        record_end = parity == 0
        # physical line of each record start: 1 + newlines before it
        ends_line_no = np.flatnonzero(record_end) + 1  # newline k ends line k+1 (1-based k+1)
        starts = np.concatenate([[1], ends_line_no + 1])
        return starts

    def line(self, record: int, header: bool = True) -> int:
        if self._starts is None:
            self._starts = self._build()
        k = record + (1 if header else 0)
        return int(self._starts[k]) if k < len(self._starts) else -1


def read_csv(
    path: str | Path,
    table: str,
    *,
    delimiter: str = ",",
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> Iterator[RawBatch]:
    """Stream a CSV/TSV file (header row, quoted fields may hold newlines) as text columns."""
    p = _check_path(path)
    _check_batch_rows(batch_rows)
    source = str(p)
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)

    def open_reader(names: list[str] | None) -> tuple[_BareCRStream, pacsv.CSVStreamingReader]:
        stream = _BareCRStream(_open_bytes(p))
        try:
            reader = pacsv.open_csv(
                io.BufferedReader(stream, buffer_size=1 << 20),
                read_options=pacsv.ReadOptions(block_size=1 << 22, use_threads=True),
                parse_options=parse,
                convert_options=pacsv.ConvertOptions(
                    # every column as text: validation does the typing (no inference)
                    column_types=dict.fromkeys(names, pa.string()) if names else None,
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid as exc:
            stream.close()
            raise InputError(f"cannot read CSV: {exc}", source=source, line=1) from None
        return stream, reader

    probe_stream, probe = open_reader(None)  # header only
    header = probe.schema.names
    probe_stream.close()
    stream, reader = open_reader(header)
    names = reader.schema.names
    as_text = pa.schema([pa.field(n, pa.string()) for n in names])
    index = CsvLineIndex(p)
    record = 0
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    try:
        while True:
            try:
                rb = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:
                raise InputError(
                    f"malformed CSV after record {record} (line {index.line(record)}): {exc}",
                    source=source,
                ) from None
            pending.append(rb)
            pending_rows += rb.num_rows
            if pending_rows >= batch_rows:
                yield _csv_batch(pending, as_text, table, source, record, index, stream.replaced)
                record += pending_rows
                pending, pending_rows = [], 0
        if pending:
            yield _csv_batch(pending, as_text, table, source, record, index, stream.replaced)
    finally:
        stream.close()


def _csv_batch(
    batches: list[pa.RecordBatch],
    as_text: pa.Schema,
    table: str,
    source: str,
    first_record: int,
    index: CsvLineIndex,
    replaced: int,
) -> RawBatch:
    import pyarrow.compute as pc

    t = pa.Table.from_batches(batches)
    cols = []
    for name in t.column_names:
        c = t.column(name)
        if c.type != pa.string():
            c = c.cast(pa.string())
        if replaced:
            c = pc.replace_substring(c, _CR_MARK, "\r")
        cols.append(c)
    t = pa.Table.from_arrays(cols, schema=as_text)
    # record numbers now; exact physical lines are resolved only for rejected rows
    records = np.arange(first_record, first_record + t.num_rows, dtype=np.int64)
    t = t.append_column(LINE, pa.array(records + 2))
    return RawBatch(table, t, source, line_mapper=lambda rec_line: index.line(int(rec_line) - 2))


# --------------------------------------------------------------------------- Parquet
def read_parquet(
    path: str | Path, table: str, *, batch_rows: int = DEFAULT_BATCH_ROWS
) -> Iterator[RawBatch]:
    """Stream a Parquet file; a row's "line" is its 1-based row number."""
    p = _check_path(path)
    _check_batch_rows(batch_rows)
    try:
        pf = pq.ParquetFile(p)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"not a readable Parquet file: {exc}", source=str(p)) from None
    start = 1
    for rb in pf.iter_batches(batch_size=batch_rows):
        t = pa.Table.from_batches([rb])
        t = t.append_column(LINE, pa.array(np.arange(start, start + t.num_rows, dtype=np.int64)))
        start += t.num_rows
        yield RawBatch(table, t, str(p))


def read_file(
    path: str | Path,
    table: str | None = None,
    *,
    format: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    **options: object,
) -> Iterator[RawBatch]:
    """Read any supported file as raw batches (format and table guessed from the name).

    *options* go to the format's reader (e.g. ``username=`` for Research API user info).
    """
    _check_path(path)
    fmt = format or detect_format(path)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}", field="format")
    if fmt == "research-api":
        from .research_api import read_research_api

        return read_research_api(path, table, batch_rows=batch_rows, **options)  # type: ignore[arg-type]
    if options:
        raise InputError(
            f"options {sorted(options)} apply only to research-api files", field="options"
        )
    name = table or detect_table(path)
    if name not in TABLES:
        raise InputError(f"unknown table {name!r}; one of {', '.join(TABLES)}", field="table")
    if fmt == "jsonl":
        return read_jsonl(path, name, batch_rows=batch_rows)
    if fmt in ("csv", "tsv"):
        return read_csv(path, name, delimiter="\t" if fmt == "tsv" else ",", batch_rows=batch_rows)
    return read_parquet(path, name, batch_rows=batch_rows)
