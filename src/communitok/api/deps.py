"""FastAPI dependencies: the engine, the caller's key and scope, pagination, locks.

They are ``async def`` on purpose: they do no I/O, and a sync dependency would cost a
thread-pool hop per request each.
"""

from __future__ import annotations

import math
import threading
import types
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

from fastapi import Depends, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from .batching import FeedBatcher
from .errors import ApiError
from .events import EventWriter, KnownVideos
from .security import SCOPES, ApiKey, KeyRing, RateLimiter

if TYPE_CHECKING:
    from ..engine import Engine

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer ctk_…`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: ctk_…`")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's public id, name and scope."""

    key_id: str
    name: str
    scope: str


@dataclass
class AppState:
    """What the routes share (``app.state.api``)."""

    engine: Engine
    keys: KeyRing
    limiter: RateLimiter
    privacy_k: int
    #: serialises analyses that write results (detect, build, forecast)
    compute_lock: threading.RLock
    #: viewing events queued for batched writes, and the video-id check
    events: EventWriter
    videos: KnownVideos
    #: unauthenticated / bad-key attempts per client address: (rate per s, burst)
    anon_rate: tuple[float, int] = (20.0, 60)
    #: feed requests that arrive together are served as one batch
    feed_batcher: FeedBatcher = field(default_factory=FeedBatcher)


async def state(request: Request) -> AppState:
    return request.app.state.api


async def get_engine(request: Request) -> Engine:
    return request.app.state.api.engine


EngineDep = Annotated["Engine", Depends(get_engine)]
StateDep = Annotated[AppState, Depends(state)]


def _retry(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def _authenticate(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None,
    header_key: str | None,
) -> ApiKey:
    st: AppState = request.app.state.api
    presented = header_key or (bearer.credentials if bearer is not None else None)
    key = st.keys.check(presented)
    if key is None:
        client = request.client.host if request.client else "unknown"
        wait = st.limiter.take("anon:" + client, *st.anon_rate)
        if wait:
            raise ApiError(429, "too many requests without a valid key", headers=_retry(wait))
        msg = "missing API key" if not presented else "invalid or revoked API key"
        raise ApiError(401, msg, headers={"WWW-Authenticate": "Bearer"})
    request.scope.setdefault("state", {})["key_id"] = key.key_id
    wait = st.limiter.for_key(key)
    if wait:
        raise ApiError(429, "rate limit exceeded for this key", headers=_retry(wait))
    return key


def require(*scopes: str) -> Any:
    """Dependency: a valid key whose scope is one of *scopes* (admin always passes)."""
    allowed = frozenset(scopes) | {"admin"}
    unknown = allowed - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes {sorted(unknown)}")

    async def dependency(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        header_key: Annotated[str | None, Depends(_header)],
    ) -> Principal:
        key = _authenticate(request, bearer, header_key)
        if key.scope not in allowed:
            raise ApiError(
                403, f"scope {key.scope!r} may not use this endpoint (needs one of "
                f"{', '.join(sorted(allowed))})",
            )  # fmt: skip
        return Principal(key.key_id, key.name, key.scope)

    return Depends(dependency)


ANY_SCOPE = require(*SCOPES)


UNIONS = (types.UnionType, typing.Union)


def _list_params(dependant: Any) -> set[str]:
    """Query parameters (of a route and its dependencies) that take several values."""
    out = set()
    for f in dependant.query_params:
        ann = f.field_info.annotation
        kinds = [get_origin(a) for a in (get_args(ann) if get_origin(ann) in UNIONS else (ann,))]
        if any(k in (list, tuple, set, frozenset) for k in kinds):
            out.add(f.alias)
    for sub in dependant.dependencies:
        out |= _list_params(sub)
    return out


async def single_query_values(request: Request) -> None:
    """App-wide dependency: a scalar query parameter given twice is an error (422), not
    silently "the last one wins"."""
    keys = [k for k, _ in request.query_params.multi_items()]
    if len(keys) == len(set(keys)):
        return
    route = request.scope.get("route")
    allowed = _list_params(route.dependant) if route is not None else set()
    seen: set[str] = set()
    repeated = sorted({k for k in keys if k in seen or seen.add(k)} - allowed)  # type: ignore[func-returns-value]
    if repeated:
        raise ApiError(
            422, "the request has invalid parameters", code="invalid_input",
            details=[{"loc": ["query", k], "msg": "given more than once", "type": "repeated"}
                     for k in repeated],
        )  # fmt: skip


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    def slice(self, rows: list[Any]) -> dict[str, Any]:
        """The page of *rows* (which may hold one row past the page, to tell if more exist)."""
        items = rows[self.offset : self.offset + self.limit]
        more = len(rows) > self.offset + self.limit
        return {
            "items": items,
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": self.offset + self.limit if more else None,
        }

    @property
    def need(self) -> int:
        """Rows to fetch from the start to fill this page and see if there is more."""
        return self.offset + self.limit + 1


async def page(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000, description="Items to skip.")] = 0,
) -> Page:
    return Page(limit, offset)


PageDep = Annotated[Page, Depends(page)]
