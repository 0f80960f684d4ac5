"""``/v1/trends``: Discover, one trend, detection and forecasts.

Partner keys see Discover and trend pages only for trends whose audience reaches the
privacy threshold (see :mod:`communitok.api.privacy`), without account ids.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from ...core.errors import NotFound
from ...engine.trends import detect_trends, discover_view, forecast_trends, show_trend
from .. import privacy
from ..deps import PageDep, Principal, StateDep, require
from ..schemas import (
    TREND_ID,
    DetectRequest,
    ForecastRequest,
    ForecastResult,
    RunSummary,
    TrendDetail,
    TrendPage,
)
from ..serialize import jsonable, rows

router = APIRouter(prefix="/trends", tags=["trends"])
READERS = require("analyst", "partner")
ANALYSTS = require("analyst")

Kind = Literal["hashtag", "sound", "effect", "community"]
Metric = Literal["videos", "creators", "views", "engagement"]
TrendId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=300,
        pattern=TREND_ID,
        description="kind:item@scope, e.g. hashtag:booktok@all.",
    ),
]


def _discover(st: Any, scope: str | None, kind: str | None, top: int) -> Any:
    engine = st.engine
    if engine.store.has_result("trend_discover"):
        return discover_view(engine, scope=scope, kind=kind, top=top)
    with st.compute_lock:  # first use computes the trends once
        return discover_view(engine, scope=scope, kind=kind, top=top)


def _sparkline(engine: Any, tid: str) -> list[float | None]:
    try:
        d = show_trend(engine, tid, grain="day")
    except NotFound:
        return []
    return jsonable(d.series.column("value").to_pylist())


@router.get("/discover", response_model=TrendPage, summary="Discover: what is trending")
def discover(
    st: StateDep,
    pg: PageDep,
    who: Principal = READERS,
    scope: Annotated[
        str | None, Query(max_length=100, description="Community id (default: platform-wide).")
    ] = None,
    kind: Annotated[Kind | None, Query(description="Only this kind.")] = None,
    stage: Annotated[str | None, Query(max_length=40, description="Only this lifecycle stage.")] = None,
    sparklines: Annotated[bool, Query(description="Add daily values per trend.")] = False,
) -> dict[str, Any]:  # fmt: skip
    # filters applied here (stage, privacy) need every row first, for honest paging
    want = 10_000 if stage or who.scope == "partner" else pg.need
    items = rows(_discover(st, scope, kind, want))
    if stage:
        items = [r for r in items if r.get("stage") == stage]
    suppressed = 0
    if who.scope == "partner":
        items, suppressed = privacy.keep(items, st.engine, st.privacy_k)
    out = pg.slice(items)
    if sparklines:
        for r in out["items"]:
            r["sparkline"] = _sparkline(st.engine, r["trend_id"])
    out["suppressed"] = suppressed
    return out


@router.get("/{trend_id}", response_model=TrendDetail, summary="One trend: series, bursts, stage")
def get_trend(
    trend_id: TrendId,
    st: StateDep,
    who: Principal = READERS,
    grain: Annotated[Literal["hour", "day"], Query(description="Series grain.")] = "day",
    metric: Annotated[Metric, Query(description="Series measure.")] = "videos",
) -> dict[str, Any]:
    engine = st.engine
    if not engine.store.has_result("trend_bursts"):
        _discover(st, None, None, 1)
    d = show_trend(engine, trend_id, grain=grain, metric=metric)
    n_viewers = None
    if who.scope == "partner":
        published, _ = privacy.guarded_audiences(engine, [d.trend_id], st.privacy_k)
        if d.trend_id not in published:
            # same answer as an unknown trend: a partner learns nothing about small ones
            raise NotFound(f"no trend {trend_id!r} above the privacy threshold")
        n_viewers = published[d.trend_id]
    drop = privacy.PERSONAL_COLUMNS if who.scope == "partner" else ()
    lc = rows(d.lifecycle)
    return {
        "trend_id": d.trend_id,
        "stage": lc[0].get("stage") if lc else None,
        "series": rows(d.series.select(["bin", "value"])),
        "bursts": rows(d.bursts, drop=drop),
        "lifecycle": lc,
        "spillover": rows(d.spillover, drop=drop),
        "n_viewers": n_viewers,
    }


@router.post("/detect", response_model=RunSummary, summary="Recompute bursts, lifecycle, Discover")
def detect(body: DetectRequest, st: StateDep, _: Principal = ANALYSTS) -> dict[str, Any]:
    with st.compute_lock:
        run = detect_trends(st.engine, **body.model_dump())
    return {"summary": jsonable(run.summary())}


@router.post("/forecast", response_model=ForecastResult, summary="Forecast trends (days ahead)")
def forecast(body: ForecastRequest, st: StateDep, _: Principal = ANALYSTS) -> dict[str, Any]:
    engine = st.engine
    if not engine.store.has_result("trend_discover"):
        _discover(st, None, None, 1)
    with st.compute_lock:
        r = forecast_trends(
            engine, body.trend_ids, days=body.days, top=body.top, metric=body.metric
        )
    return {
        "forecasts": rows(r.forecasts),
        "backtest": jsonable(r.backtest),
        "holdout": jsonable(r.holdout),
    }
