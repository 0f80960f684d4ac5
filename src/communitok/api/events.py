"""Viewing events from ``POST /v1/events``: checked at once, stored in micro-batches.

One DuckDB transaction costs milliseconds whatever its size, so writing each event in its
own transaction caps the endpoint at a few dozen events per second. The
:class:`EventWriter` queues events and a background thread writes them every
*max_delay* seconds (or every *max_batch* events) as one batch through
``Store.write("events", …)`` — the same idempotent path as ingest (an event already
stored is skipped). The viewer's live feed session is updated synchronously by the
request, so the next feed request reflects the event before it reaches the store.
Pending events are written on shutdown (:meth:`EventWriter.close`).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core.model import ViewEvent

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger("communitok.api")


class KnownVideos:
    """Does a video exist? In-memory sources first (e.g. the trained feed's catalogue,
    see :meth:`add_source`), then a store lookup, remembered (bounded LRU of known ids)."""

    def __init__(self, store: Store, size: int = 100_000) -> None:
        self._store = store
        self._size = size
        self._known: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._sources: list[tuple[Callable[[Any, str], bool], Any]] = []

    def add_source(self, knows: Callable[[Any, str], bool], arg: Any) -> None:
        """Also ask ``knows(arg, video_id)`` (cheap, in memory) before the store."""
        self._sources.append((knows, arg))

    def __contains__(self, video_id: str) -> bool:
        for knows, arg in self._sources:
            if knows(arg, video_id):
                return True
        with self._lock:
            if video_id in self._known:
                self._known.move_to_end(video_id)
                return True
        hit = self._store.query(
            "SELECT video_id FROM videos WHERE video_id = ? LIMIT 1", [video_id]
        ).num_rows
        if hit:
            with self._lock:
                self._known[video_id] = None
                if len(self._known) > self._size:
                    self._known.popitem(last=False)
        return bool(hit)


class EventWriter:
    """Queue of viewing events written to the store in batches by one thread."""

    def __init__(self, store: Store, *, max_batch: int = 5000, max_delay: float = 0.05) -> None:
        self._store = store
        self.max_batch = max_batch
        self.max_delay = max_delay
        self._pending: list[ViewEvent] = []
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.written = 0
        self.failed = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    def submit(self, event: ViewEvent) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the event writer is closed")
            self._pending.append(event)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="communitok-event-writer", daemon=True
                )
                self._thread.start()
            if len(self._pending) >= self.max_batch:
                self._cond.notify()

    def flush(self) -> int:
        """Write everything queued now; returns how many events were written."""
        with self._cond:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        with self._write_lock:
            try:
                res = self._store.write("events", ViewEvent.to_arrow(batch))
            except Exception:
                self.failed += len(batch)
                log.exception("writing %d viewing events failed", len(batch))
                return 0
        self.written += res.inserted
        return len(batch)

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._closed and len(self._pending) < self.max_batch:
                    self._cond.wait(self.max_delay)
                closed = self._closed
            self.flush()
            if closed:
                return

    def close(self) -> None:
        """Stop the thread after writing what is queued."""
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=30)
        self.flush()

    def stats(self) -> dict[str, Any]:
        return {"pending": self.pending, "written": self.written, "failed": self.failed}
