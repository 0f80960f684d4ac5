"""Dynamic batching of feed requests on the server's event loop.

A feed request costs a few milliseconds of CPU, most of it per call rather than per
viewer: the candidate sources and the scorer cost about half as much per request when
they run over four viewers at once (:meth:`FeedService.recommend_many`). Under load,
requests arrive while one is being computed; :class:`FeedBatcher` serves everything
that has arrived by then as one batch, so the cost per request falls exactly when the
server is busy, and a quiet server still serves each request on its own at once.

How it works: a request joins a queue and waits for its future; one drain task takes
the queue in batches of up to ``max_batch``. Before taking a batch it yields to the
event loop a few times (``max_yields``) while new requests keep joining, so requests
whose bytes already arrived (parsed by the server in the next loop turns) make it into
the batch.

Only when the server is busy — the share of recent time spent computing feeds (an
exponentially weighted average over about ``busy_window`` seconds) is above
``busy_share`` — does a batch that is not full also wait up to ``max_wait`` seconds for
requests still to come: near saturation a batch of two costs each request less than
the wait, and the lower utilisation shortens the queue every request waits in. A quiet
server never waits.

Serving is done inline on the loop (as a single request was before): the computation
holds the interpreter lock anyway, and a thread hop would only add latency. A batch
whose validation fails is served request by request, so a bad request fails alone.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from ..core.errors import InputError
from ..engine.feed_service import FeedRequest, FeedResponse


class FeedBatcher:
    """Batches concurrent feed requests (module docstring).

    max_batch : most requests served together.
    max_yields : most event-loop turns to wait for requests already on their way.
    max_wait : longest a batch that is not full waits for more requests when busy (s).
    busy_share : share of time spent computing above which the server counts as busy.
    busy_window : time scale of that share (s).
    """

    def __init__(
        self,
        max_batch: int = 8,
        max_yields: int = 4,
        max_wait: float = 0.003,
        busy_share: float = 0.6,
        busy_window: float = 1.0,
    ) -> None:
        for name, v in (("max_batch", max_batch), ("max_yields", max_yields)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"must be an integer >= 1, got {v!r}", field=name)
        if not isinstance(max_wait, int | float) or not 0 <= max_wait <= 1:
            raise InputError(f"must be in [0, 1] seconds, got {max_wait!r}", field="max_wait")
        if not isinstance(busy_share, int | float) or not 0 < busy_share <= 1:
            raise InputError(f"must be in (0, 1], got {busy_share!r}", field="busy_share")
        if not isinstance(busy_window, int | float) or not busy_window > 0:
            raise InputError(f"must be > 0 seconds, got {busy_window!r}", field="busy_window")
        self.max_batch = max_batch
        self.max_yields = max_yields
        self.max_wait = float(max_wait)
        self.busy_share = float(busy_share)
        self.busy_window = float(busy_window)
        self._queue: list[tuple[Any, FeedRequest, asyncio.Future[FeedResponse]]] = []
        self._task: asyncio.Task[None] | None = None
        self._busy = 0.0  # recent share of time spent computing
        self._since = time.monotonic()  # when the share was last updated
        #: requests served and batches run (for the status page and benchmarks)
        self.requests = 0
        self.batches = 0
        #: batches that waited for more requests because the server was busy
        self.waited = 0

    def busy(self, now: float | None = None) -> float:
        """The recent share of time spent computing feeds (0 … 1)."""
        now = time.monotonic() if now is None else now
        return self._busy * math.exp(-(now - self._since) / self.busy_window)

    def _record(self, start: float, end: float) -> None:
        """Fold a computation from *start* to *end* into the busy share."""
        idle = self.busy(start)
        w = 1.0 - math.exp(-(end - start) / self.busy_window)
        self._busy, self._since = idle + (1.0 - idle) * w, end

    @property
    def mean_batch(self) -> float:
        return self.requests / self.batches if self.batches else 0.0

    async def recommend(self, service: Any, request: FeedRequest) -> FeedResponse:
        """*service*'s feed for *request*, served in a batch with whatever else is
        waiting (*service*: a :class:`~communitok.engine.feed_service.FeedService`)."""
        if not isinstance(request, FeedRequest):
            raise InputError("must be a FeedRequest", field="request")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[FeedResponse] = loop.create_future()
        self._queue.append((service, request, fut))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        while self._queue:
            seen, turns = -1, 0
            while turns < self.max_yields and len(self._queue) != seen:
                seen = len(self._queue)
                await asyncio.sleep(0)  # let requests already received join
                turns += 1
            if (
                self.max_wait
                and len(self._queue) < self.max_batch
                and (self.busy() > self.busy_share)
            ):
                self.waited += 1
                deadline = time.monotonic() + self.max_wait
                while len(self._queue) < self.max_batch and time.monotonic() < deadline:
                    await asyncio.sleep(min(0.0005, max(0.0, deadline - time.monotonic())))
            batch = self._queue[: self.max_batch]
            del self._queue[: len(batch)]
            live = [b for b in batch if not b[2].done()]  # a client may have gone
            start = time.monotonic()
            for service in dict.fromkeys(id(b[0]) for b in live):
                group = [b for b in live if id(b[0]) == service]
                self._serve(group)
            self._record(start, time.monotonic())

    def _serve(self, group: list[tuple[Any, FeedRequest, asyncio.Future[FeedResponse]]]) -> None:
        service = group[0][0]
        try:
            results = service.recommend_many([r for _, r, _ in group])
        except Exception:
            if len(group) == 1:
                _fail(group[0][2])
                return
            for one in group:  # validation failed somewhere: each request on its own
                self._serve([one])
            return
        self.requests += len(group)
        self.batches += 1
        for (_, _, fut), res in zip(group, results, strict=True):
            if not fut.done():
                fut.set_result(res)


def _fail(fut: asyncio.Future[FeedResponse]) -> None:
    import sys

    exc = sys.exc_info()[1]
    if not fut.done() and exc is not None:
        fut.set_exception(exc)
