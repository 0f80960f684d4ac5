"""The app factory: ``create_app(engine_or_settings)`` → a FastAPI app serving the JSON
API under ``/v1`` (OpenAPI document at ``/v1/openapi.json``; no CDN-hosted docs page, so
nothing needs the network) and, unless
``dashboard=False``, the dashboard at ``/``.

Given an :class:`~communitok.engine.Engine`, the app uses it and leaves closing it to the
caller. Given :class:`~communitok.core.settings.Settings` (or nothing: the environment's
settings), the app opens the engine when it starts and closes it when it stops, so the
serving process owns the store for exactly its lifetime.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request

from .. import __version__
from ..core.settings import Settings, load_settings
from ..engine import Engine, open_engine
from .deps import AppState, single_query_values
from .errors import ERROR_RESPONSES, ApiError, install_error_handlers
from .events import EventWriter, KnownVideos
from .middleware import RequestMiddleware
from .routers import FEATURES, Feature
from .security import KeyRing, RateLimiter

log = logging.getLogger("communitok.api")

DESCRIPTION = """The communitok JSON API: ingest, trends and Discover, co-creation cascades,
runs and status (and communities, feed, safety and partner insights as they are installed).

**Keys.** Send an API key as `Authorization: Bearer ctk_…` or `X-API-Key: ctk_…`. Scopes:
`admin` (everything, incl. keys and batch ingest), `analyst` (read and run analyses),
`partner` (aggregates above the privacy threshold only), `viewer-service` (feed and events).

**Errors.** Every error has one shape, `{"error": {"status", "code", "message",
"request_id", "details"}}`, with the matching HTTP status. Send `X-Request-ID` to choose
the id logged with your request; responses always carry it.

**Lists.** `limit` and `offset`; a page's `next_offset` is null on the last page.
"""


def _load_feature(f: Feature) -> Any | None:
    """The feature's router module, or None when it (or its engine module) is missing."""
    try:
        if f.engine:
            importlib.import_module(f.engine)
        return importlib.import_module(f"{__package__}.routers.{f.router}")
    except ModuleNotFoundError as exc:
        wanted = {f.engine, f"{__package__}.routers.{f.router}"}
        if exc.name not in wanted:
            raise
        return None


def _not_implemented(name: str, prefix: str) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    async def missing(request: Request, rest: str = "") -> None:
        raise ApiError(501, f"the {name} API is not available on this server yet")

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    r.add_api_route(prefix, missing, methods=methods)
    r.add_api_route(prefix + "/{rest:path}", missing, methods=methods)
    return r


def create_app(
    engine_or_settings: Engine | Settings | None = None,
    *,
    dashboard: bool = True,
    rate_limits: Mapping[str, tuple[float, int]] | None = None,
    anon_rate: tuple[float, int] = (20.0, 60),
    max_body: int = 1 << 20,
    max_upload: int = 64 << 20,
) -> FastAPI:
    """Build the app. *rate_limits* overrides ``{scope: (requests per s, burst)}``;
    *max_body* bounds every request body, *max_upload* batch uploads."""
    if engine_or_settings is None or isinstance(engine_or_settings, Settings):
        settings = engine_or_settings or load_settings()
        owned = True
        engine: Engine | None = None
    else:
        engine, settings, owned = engine_or_settings, engine_or_settings.settings, False

    def attach(app: FastAPI, eng: Engine) -> None:
        app.state.api = AppState(
            engine=eng,
            keys=KeyRing(eng.store),
            limiter=RateLimiter(rate_limits),
            privacy_k=eng.settings.privacy_k,
            compute_lock=threading.RLock(),
            events=EventWriter(eng.store),
            videos=KnownVideos(eng.store),
            anon_rate=anon_rate,
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if owned and getattr(app.state, "api", None) is None:
            attach(app, open_engine(settings))
        try:
            yield
        finally:
            st = getattr(app.state, "api", None)
            if st is not None:
                st.events.close()  # queued viewing events reach the store first
                for hook in app.state.shutdown_hooks:  # e.g. the feed's exposure log
                    try:
                        hook(st.engine)
                    except Exception:
                        log.exception("shutdown hook %r failed", hook)
                if owned:
                    st.engine.close()
                    app.state.api = None

    app = FastAPI(
        title="communitok API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        dependencies=[Depends(single_query_values)],
    )
    app.state.api = None
    app.state.event_hooks = []  # f(engine, ViewEvent) -> bool: a live session took it
    app.state.moderation_hooks = []  # f(engine): visibility labels changed
    app.state.shutdown_hooks = []  # f(engine): before the store closes
    app.state.features = {}
    if engine is not None:
        attach(app, engine)
    install_error_handlers(app)
    app.add_middleware(RequestMiddleware, max_body=max_body, max_upload=max_upload)

    modules = []
    for f in FEATURES:
        mod = _load_feature(f)
        app.state.features[f.name] = mod is not None
        if mod is None:
            for prefix in f.prefixes:
                app.include_router(_not_implemented(f.name, prefix), prefix="/v1")
            continue
        app.include_router(mod.router, prefix="/v1")
        modules.append(mod)
    for mod in modules:
        install = getattr(mod, "install", None)
        if install is not None:
            install(app)
    if dashboard:
        from ..dashboard import mount

        mount(app)
    return app
