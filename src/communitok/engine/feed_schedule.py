"""Scheduled retraining of the feed while it serves.

Sessions learn from every event in process (:class:`~communitok.engine.feed_service.
FeedService.observe`); the batch models (collaborative filtering, item-item, content,
trending lists, the scorer) are refitted on a schedule. :class:`FeedRetrainer` runs
:func:`~communitok.engine.feed.train_feed` every *every_s* seconds in a daemon thread
and swaps the engine's feed service when training succeeds; serving goes on from the old
service during training. Before each fit it calls *before* (the server flushes queued
viewing events to the store, so the new models see them). The new service starts with
fresh sessions: everything the old sessions learned is in the stored events the new
models were fitted on, except events that arrive while it trains (seconds).
A failed fit is logged and counted; the old service keeps serving.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from ..core.errors import InputError
from .core import Engine

log = logging.getLogger("communitok.feed")


class FeedRetrainer:
    """Refit the engine's feed every *every_s* seconds (start/stop; a context manager)."""

    def __init__(
        self,
        engine: Engine,
        every_s: float,
        *,
        lock: Any | None = None,
        before: Callable[[], object] | None = None,
        train: Callable[[Engine], object] | None = None,
    ) -> None:
        if (
            not isinstance(every_s, int | float)
            or isinstance(every_s, bool)
            or not math.isfinite(every_s)
            or every_s <= 0
        ):
            raise InputError(
                f"must be a finite number of seconds > 0, got {every_s!r}", field="every_s"
            )
        self.engine = engine
        self.every_s = float(every_s)
        self._lock = lock if lock is not None else threading.Lock()
        self._before = before
        self._train = train or _default_train
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0
        self.failures = 0
        self.last_error: str | None = None
        self.last_seconds: float | None = None

    def run_once(self) -> bool:
        """One refit now; True when the new feed is serving."""
        t0 = time.perf_counter()
        try:
            if self._before is not None:
                self._before()
            with self._lock:
                self._train(self.engine)
        except Exception as exc:  # the old feed keeps serving
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("scheduled feed retraining failed; the previous feed keeps serving")
            return False
        self.runs += 1
        self.last_error = None
        self.last_seconds = round(time.perf_counter() - t0, 3)
        log.info("feed retrained in %.1f s (scheduled run %d)", self.last_seconds, self.runs)
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self.run_once()

    def start(self) -> FeedRetrainer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="feed-retrain", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(RuntimeError):
                self._thread.join(timeout)
            self._thread = None

    def stats(self) -> dict[str, Any]:
        return {
            "every_s": self.every_s,
            "runs": self.runs,
            "failures": self.failures,
            "last_seconds": self.last_seconds,
            "last_error": self.last_error,
        }

    def __enter__(self) -> FeedRetrainer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _default_train(engine: Engine) -> object:
    from .feed import train_feed

    return train_feed(engine, reuse=False)
