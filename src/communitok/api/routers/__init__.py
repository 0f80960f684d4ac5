"""The API's routers, one module per resource, each exposing ``router`` (an APIRouter
mounted under ``/v1``).

A feature's router plugs in by adding one entry to :data:`FEATURES`: the router module
(in this package), the engine module it wraps and the URL prefixes it owns. A feature
whose router or engine module is not installed answers 501 ``not_implemented`` under its
prefixes (in the one error shape), and ``GET /v1/health`` lists it as unavailable, so
the dashboard can show "not available yet" instead of failing.

A router module may also define ``install(app)`` (called once after mounting), e.g. to
register an event hook.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Feature:
    name: str
    #: module in ``communitok.api.routers``
    router: str
    #: engine module the router wraps (``None``: always there)
    engine: str | None
    #: URL prefixes under /v1 answered with 501 when the feature is missing
    prefixes: tuple[str, ...] = ()


FEATURES: tuple[Feature, ...] = (
    Feature("system", "system", None),
    Feature("keys", "keys", None),
    Feature("ingest", "ingest", None),
    Feature("trends", "trends", "communitok.engine.trends", ("/trends",)),
    Feature("cascades", "cascades", "communitok.engine.cascades", ("/cascades",)),
    Feature("communities", "communities", "communitok.engine.communities", ("/communities",)),
    Feature("feed", "feed", "communitok.engine.feed", ("/feed",)),
    Feature("safety", "safety", "communitok.engine.safety", ("/safety",)),
    Feature("partner", "partner", "communitok.engine.insights", ("/partner",)),
)
