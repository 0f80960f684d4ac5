"""Validate raw batches and write them to a sink (a store), one transaction per batch.

The sink is anything with ``write(table, data, *, batch_id)`` (the ``Store`` protocol);
ingest does not import the store layer. Each batch gets a content-derived id, so
re-running the same load skips batches already written and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from ..core.errors import InputError
from ..core.schema import TABLES
from ..core.timeutil import utcnow
from .readers import RawBatch
from .validate import Reject, Validated, validate_batch


class Sink(Protocol):
    def write(self, table: str, data: pa.Table, *, batch_id: str | None = None) -> Any: ...


@dataclass
class TableSummary:
    table: str
    rows_read: int = 0
    rows_good: int = 0
    rows_rejected: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    batches: int = 0
    batches_skipped: int = 0


@dataclass
class IngestSummary:
    """What a load did, per table, and where the rejects report is."""

    sources: list[str] = field(default_factory=list)
    tables: dict[str, TableSummary] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    rejects_path: str | None = None
    seconds: float = 0.0

    @property
    def rows_good(self) -> int:
        return sum(t.rows_good for t in self.tables.values())

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": self.sources,
            "tables": {k: vars(v) for k, v in self.tables.items()},
            "rows_good": self.rows_good,
            "rows_rejected": self.rows_rejected,
            "rejects_path": self.rejects_path,
            "seconds": round(self.seconds, 3),
        }


def batch_fingerprint(table: str, data: pa.Table) -> str:
    """Content hash of a validated batch (same rows, same id).

    Hashes the Arrow buffers in place (no serialisation copy) after combining chunks.
    The same input read the same way gives the same id; a different physical layout of
    equal rows may not, which only costs the fast skip (writes stay idempotent).
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(table.encode())
    h.update(str(data.schema).encode())
    for col in data.combine_chunks().columns:
        for chunk in col.chunks:
            _hash_array(h, chunk)
    return f"{table}:{h.hexdigest()}"


def _hash_array(h: Any, arr: pa.Array) -> None:
    h.update(f"{len(arr)}:{arr.offset}".encode())
    for buf in arr.buffers():  # includes the buffers of nested (list) values
        if buf is not None:
            h.update(memoryview(buf))


def _fix_lines(batch: RawBatch, rejects: list[Reject]) -> list[Reject]:
    mapper = batch.line_mapper
    if mapper is None or not rejects:
        return rejects
    fn: Callable[[int], int] = mapper  # type: ignore[assignment]
    return [
        Reject(r.source, fn(r.line) if r.line is not None else None, r.field, r.value, r.reason)
        for r in rejects
    ]


Prepared = tuple[RawBatch, "Validated | None", "str | None"]


def _prepare(batch: RawBatch) -> Prepared:
    if batch.table not in TABLES:
        raise InputError(f"unknown table {batch.table!r}", source=batch.source, field="table")
    if batch.data.num_rows == 0:
        return batch, None, None
    v = validate_batch(batch.data, TABLES[batch.table], source=batch.source)
    fp = batch_fingerprint(batch.table, v.table) if v.table.num_rows else None
    return batch, v, fp


_DONE = object()


def _prepared(batches: Iterable[RawBatch], prefetch: int) -> Iterator[Prepared]:
    """Read + validate + fingerprint batches, *prefetch* ahead in a background thread."""
    if prefetch == 0:
        for b in batches:
            yield _prepare(b)
        return
    q: queue.Queue[object] = queue.Queue(maxsize=prefetch)
    stop = threading.Event()

    def produce() -> None:
        try:
            for b in batches:
                item: object = _prepare(b)
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_DONE)
        except BaseException as exc:  # handed to the consumer, re-raised there
            q.put(exc)

    worker = threading.Thread(target=produce, name="communitok-ingest-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.1)


def load(
    sink: Sink,
    batches: Iterable[RawBatch],
    *,
    rejects_dir: str | Path | None = "rejects",
    max_rejects_kept: int = 10_000,
    progress: Callable[[str, int], None] | None = None,
    prefetch: int = 1,
) -> IngestSummary:
    """Validate and write *batches*; write a rejects report (JSONL) when rows were rejected.

    Good rows always land; a bad row never blocks its batch. Rejects beyond
    *max_rejects_kept* are counted and written to the report but not kept in memory.
    Reading and validating the next *prefetch* batches overlaps with writing the current
    one (a background thread; Arrow and the stores release the GIL); 0 disables it.
    """
    if prefetch < 0:
        raise InputError("must be >= 0", field="prefetch")
    if max_rejects_kept < 0:
        raise InputError("must be >= 0", field="max_rejects_kept")
    t0 = time.perf_counter()
    summary = IngestSummary()
    report = None
    report_path: Path | None = None

    def record(rejects: list[Reject]) -> None:
        nonlocal report, report_path
        if not rejects:
            return
        if rejects_dir is not None and report is None:
            folder = Path(rejects_dir)
            folder.mkdir(parents=True, exist_ok=True)
            report_path = folder / f"rejects-{utcnow().strftime('%Y%m%dT%H%M%S%f')}.jsonl"
            report = report_path.open("w", encoding="utf-8")
            summary.rejects_path = str(report_path.resolve())
        if report is not None:
            for r in rejects:
                report.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
        room = max_rejects_kept - len(summary.rejects)
        if room > 0:
            summary.rejects.extend(rejects[:room])

    try:
        for batch, v, batch_id in _prepared(batches, prefetch):
            if batch.source not in summary.sources:
                summary.sources.append(batch.source)
            ts = summary.tables.setdefault(batch.table, TableSummary(batch.table))
            record(batch.rejects)
            reader_rejected = (
                batch.rejected_rows
                if batch.rejected_rows is not None
                else len({r.line for r in batch.rejects})
            )
            ts.rows_rejected += reader_rejected
            ts.rows_read += reader_rejected
            if v is None:
                continue
            record(_fix_lines(batch, v.rejects))
            ts.rows_read += batch.data.num_rows
            ts.rows_rejected += v.rejected_rows
            ts.rows_good += v.table.num_rows
            if batch_id is not None:
                res = sink.write(batch.table, v.table, batch_id=batch_id)
                ts.batches += 1
                ts.inserted += res.inserted
                ts.updated += res.updated
                ts.unchanged += res.unchanged
                ts.batches_skipped += int(res.skipped_batch)
            if progress is not None:
                progress(batch.table, batch.data.num_rows)
    finally:
        if report is not None:
            report.close()
        summary.seconds = time.perf_counter() - t0
    return summary
