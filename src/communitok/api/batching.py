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
the batch. No timer: a request never waits for others that have not arrived.

Serving is done inline on the loop (as a single request was before): the computation
holds the interpreter lock anyway, and a thread hop would only add latency. A batch
whose validation fails is served request by request, so a bad request fails alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..core.errors import InputError
from ..engine.feed_service import FeedRequest, FeedResponse


class FeedBatcher:
    """Batches concurrent feed requests (module docstring).

    max_batch : most requests served together.
    max_yields : most event-loop turns to wait for requests already on their way.
    """

    def __init__(self, max_batch: int = 8, max_yields: int = 4) -> None:
        for name, v in (("max_batch", max_batch), ("max_yields", max_yields)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"must be an integer >= 1, got {v!r}", field=name)
        self.max_batch = max_batch
        self.max_yields = max_yields
        self._queue: list[tuple[Any, FeedRequest, asyncio.Future[FeedResponse]]] = []
        self._task: asyncio.Task[None] | None = None
        #: requests served and batches run (for the status page and benchmarks)
        self.requests = 0
        self.batches = 0

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
            batch = self._queue[: self.max_batch]
            del self._queue[: len(batch)]
            live = [b for b in batch if not b[2].done()]  # a client may have gone
            for service in dict.fromkeys(id(b[0]) for b in live):
                group = [b for b in live if id(b[0]) == service]
                self._serve(group)

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
