"""The exposure log of a serving process: buffered in memory, written in batches off the
request path.

Every served feed becomes exposure rows (experiment, variant, viewer, video, rank,
score, source, ts; :data:`communitok.feed.EXPOSURE_SCHEMA`). Writing them per request
costs a store transaction per request (milliseconds under DuckDB, and the request waits
for it). :class:`ExposureLog` instead keeps served feeds as plain Python tuples (no
Arrow work per request) and a background thread turns them into one Arrow table and
hands it to the sink (the engine appends to the ``feed_exposures`` result, O(rows)):

- when ``flush_rows`` rows are buffered (default :data:`FLUSH_ROWS`), or
  ``flush_interval`` seconds after the oldest buffered row, whichever comes first;
- on :meth:`close` (server shutdown) and on an explicit :meth:`flush`.

The trade-off: a crash of the process (not a clean shutdown) loses at most the rows of
the last ``flush_interval`` seconds (or ``flush_rows`` rows). Exposures feed A/B
read-outs, where that loss is noise; viewing events, which are the data, have their own
micro-batched writer that the API drains on shutdown. A failing sink keeps its rows
for the next flush; past ``max_rows`` buffered rows the oldest are dropped and counted
(``dropped``), so a broken store cannot grow the process without bound.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import chain
from typing import Any

import numpy as np
import pyarrow as pa

from ..core.errors import InputError, StoreError
from ..feed import EXPOSURE_SCHEMA
from ..store.base import Store

log = logging.getLogger("communitok.feed")
FEED_EXPOSURES = "feed_exposures"
#: buffered rows that trigger a write. An append is one store transaction whose fixed
#: cost (commit) dominates small batches: under DuckDB 1,000 rows take 15 ms and 5,000
#: rows 20 ms, so at 200 feeds/s (4,000 rows/s) batches of 5,000 rows cut the writer's
#: time (and its share of the interpreter lock, which requests wait on) about 3×; the
#: time limit ``flush_interval`` still bounds how long a row waits
FLUSH_ROWS = 5000

#: one served feed: experiment, variant, viewer, video ids, scores, sources, ts
Served = tuple[str, str, str, Sequence[str], Sequence[float | None], Sequence[str], datetime]


def served_table(feeds: Sequence[Served]) -> pa.Table:
    """Exposure rows (:data:`EXPOSURE_SCHEMA`) of served feeds (built column-wise: one
    Arrow array per column, per-feed values repeated, not copied row by row)."""
    lengths = [len(f[3]) for f in feeds]
    total = sum(lengths)
    counts = np.asarray(lengths, np.int64)

    def repeated(i: int, typ: pa.DataType) -> pa.Array:
        values = pa.array([f[i] for f in feeds], typ)
        return (
            values.take(pa.array(np.repeat(np.arange(len(feeds)), counts))) if total else values[:0]
        )

    def flat(i: int, typ: pa.DataType) -> pa.Array:
        return pa.array(list(chain.from_iterable(f[i] for f in feeds)), typ)  # type: ignore[misc]

    ranks = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    schema = EXPOSURE_SCHEMA
    cols = {
        "experiment": repeated(0, schema.field("experiment").type),
        "variant": repeated(1, schema.field("variant").type),
        "viewer_id": repeated(2, schema.field("viewer_id").type),
        "video_id": flat(3, schema.field("video_id").type),
        "rank": pa.array(ranks).cast(schema.field("rank").type),
        "score": flat(4, schema.field("score").type),
        "source": flat(5, schema.field("source").type),
        "ts": repeated(6, schema.field("ts").type),
    }
    return pa.table([cols[name] for name in schema.names], schema=schema)


class ExposureLog:
    """Buffered exposure rows written by a background thread (see module docstring).

    Parameters
    ----------
    sink : called with an Arrow table of rows to persist; None keeps nothing.
    flush_rows : buffered rows that trigger a write.
    flush_interval : the longest a row waits in memory (seconds).
    max_rows : most rows kept while the sink fails (the oldest beyond are dropped).
    """

    def __init__(
        self,
        sink: Callable[[pa.Table], Any] | None,
        *,
        flush_rows: int = FLUSH_ROWS,
        flush_interval: float = 1.0,
        max_rows: int = 1_000_000,
    ) -> None:
        if isinstance(flush_rows, bool) or not isinstance(flush_rows, int) or flush_rows < 1:
            raise InputError(f"must be an integer >= 1, got {flush_rows!r}", field="flush_rows")
        if not isinstance(flush_interval, int | float) or not flush_interval > 0:
            raise InputError(f"must be > 0, got {flush_interval!r}", field="flush_interval")
        if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < flush_rows:
            raise InputError(
                f"must be an integer >= flush_rows, got {max_rows!r}", field="max_rows"
            )
        self.sink = sink
        self.flush_rows = flush_rows
        self.flush_interval = float(flush_interval)
        self.max_rows = max_rows
        self._feeds: list[Served] = []
        self._rows = 0
        self._oldest = 0.0
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._retry_at = 0.0
        self.logged = 0
        self.dropped = 0
        self.failures = 0

    @property
    def buffered(self) -> int:
        return self._rows

    def add(self, feed: Served) -> None:
        """Buffer one served feed (O(1); the thread writes it later)."""
        n = len(feed[3])
        if not n:
            return
        with self._cond:
            if not self._feeds:
                self._oldest = time.monotonic()
            self._feeds.append(feed)
            self._rows += n
            if self._closed:  # after close: written synchronously below
                pass
            elif self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="communitok-exposure-log", daemon=True
                )
                self._thread.start()
            elif self._rows >= self.flush_rows:
                self._cond.notify()
        if self._closed:
            self.flush()

    def _take(self) -> list[Served]:
        with self._cond:
            feeds, self._feeds, self._rows = self._feeds, [], 0
        return feeds

    def _give_back(self, feeds: list[Served]) -> None:
        with self._cond:
            self._feeds[:0] = feeds
            self._rows += sum(len(f[3]) for f in feeds)
            while self._rows > self.max_rows and self._feeds:
                gone = self._feeds.pop(0)
                self._rows -= len(gone[3])
                self.dropped += len(gone[3])

    def flush(self) -> int:
        """Write what is buffered now; returns the rows written (0 when the sink failed:
        the rows stay buffered for the next flush)."""
        with self._write_lock:
            feeds = self._take()
            if not feeds:
                return 0
            rows = served_table(feeds)
            if self.sink is not None:
                try:
                    self.sink(rows)
                except Exception as exc:
                    if isinstance(exc, StoreError) and "closed" in str(exc):
                        # the store is gone: nothing can be written any more; stop, say so once
                        with self._cond:
                            self._closed = True
                        self.dropped += rows.num_rows
                        log.warning("store closed: %d exposure rows not written", rows.num_rows)
                        return 0
                    self.failures += 1
                    self._retry_at = time.monotonic() + self.flush_interval
                    self._give_back(feeds)
                    log.exception("writing %d exposure rows failed; kept for retry", len(rows))
                    return 0
            self.logged += rows.num_rows
            return rows.num_rows

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    now = time.monotonic()
                    if now < self._retry_at:  # the sink failed: back off one interval
                        self._cond.wait(self._retry_at - now)
                        continue
                    if self._rows >= self.flush_rows:
                        break
                    wait = self.flush_interval - (now - self._oldest) if self._feeds else None
                    if wait is not None and wait <= 0:
                        break
                    self._cond.wait(self.flush_interval if wait is None else wait)
                closed = self._closed
            self.flush()
            if closed:
                return

    def close(self, timeout: float = 30.0) -> int:
        """Stop the thread after writing everything buffered; returns rows written."""
        before = self.logged
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=timeout)
        self.flush()
        return self.logged - before

    def stats(self) -> dict[str, int]:
        return {
            "logged": self.logged,
            "buffered": self.buffered,
            "dropped": self.dropped,
            "failures": self.failures,
        }


def append_exposures(store: Store, rows: pa.Table, *, run_id: str | None = None) -> int:
    """Append exposure rows to the ``feed_exposures`` result; returns its new size.

    Costs O(appended rows) (``Store.append_result``), so serving never rewrites the log.
    """
    rows = rows.select(EXPOSURE_SCHEMA.names).cast(EXPOSURE_SCHEMA)
    return store.append_result(FEED_EXPOSURES, rows, run_id=run_id)


def exposures(store: Store) -> pa.Table:
    """The stored exposure log (empty when nothing was served yet)."""
    if not store.has_result(FEED_EXPOSURES):
        return EXPOSURE_SCHEMA.empty_table()
    return store.read(FEED_EXPOSURES)


def store_sink(store: Store, run_id: str) -> Callable[[pa.Table], None]:
    """A sink for :class:`ExposureLog` that appends to the store's exposure log."""

    def write(rows: pa.Table) -> None:
        append_exposures(store, rows, run_id=run_id)

    return write
