"""``/v1/feed``: the For You feed with the "why" of every item, served in process.

The feed is trained on first use (or by ``POST /v1/feed/train``) and kept by the engine;
``POST /v1/events`` updates a viewer's live session through the event hook installed
here, so the next ``GET /v1/feed/{viewer}`` reflects it. Reviewer decisions reload the
moderation labels the feed filters on.

An analyst's request is always a preview (nothing marked as served, no exposure
logged); the viewer-service serves for real unless it asks for ``preview=true``.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ...core.errors import NotFound
from ...engine import feed as ef
from ...engine.feed_service import MAX_FEED_K, FeedRequest
from ..deps import EngineDep, Principal, StateDep, require
from ..schemas import Open, Strict
from ..serialize import jsonable

router = APIRouter(prefix="/feed", tags=["feed"])
SERVERS = require("viewer-service", "analyst")
ANALYSTS = require("analyst")
VIEWER_SERVICE = require("viewer-service")

ViewerId = Annotated[str, Path(min_length=1, max_length=200, description="The viewer's id.")]


class FeedItem(Open):
    video_id: str
    rank: int
    score: float | None = None
    source: str
    why: str = Field(description='Why this item is here, e.g. "trending in #booktok".')
    reason_kind: str
    community: str | None = None
    creator_id: str | None = None
    because_video_id: str | None = None
    exploration: bool = False


class FeedOut(Open):
    viewer_id: str
    variant: str
    experiment: str
    items: list[FeedItem]
    cold_start: bool
    n_fallback: int = 0
    interests: list[str] = Field(default_factory=list)


class TrainIn(Strict):
    window_days: Annotated[float, Field(gt=0, le=3650)] | None = None
    scorer_days: Annotated[float, Field(gt=0, le=365)] | None = None


class Viewers(BaseModel):
    items: list[str]


def _service(st: Any) -> Any:
    """The trained feed (trained once, under the compute lock, on first use)."""
    try:
        return ef.feed_service(st.engine, train=False)
    except NotFound:
        with st.compute_lock:
            return ef.feed_service(st.engine)


_ITEM_FIELDS = tuple(FeedItem.model_fields)


def _feed_json(resp: Any) -> dict[str, Any]:
    """The response body, built directly (the hot path: no deep copies, no re-validation;
    the contract tests check it against the documented schema)."""
    return {
        "viewer_id": resp.viewer_id,
        "variant": resp.variant,
        "experiment": resp.experiment,
        "cold_start": resp.cold_start,
        "n_fallback": resp.n_fallback,
        "interests": list(resp.interests),
        "items": [{f: getattr(it, f) for f in _ITEM_FIELDS} for it in resp.items],
    }


@router.get("", response_model=dict[str, Any], summary="The trained feed: counts, variants")
def status(st: StateDep, _: Principal = ANALYSTS) -> dict[str, Any]:
    out = ef.feed_service(st.engine, train=False).describe()
    b = st.feed_batcher  # requests served through the API and how they were batched
    out["batching"] = {"requests": b.requests, "batches": b.batches,
                       "mean_batch": round(b.mean_batch, 3), "max_batch": b.max_batch,
                       "waited": b.waited, "busy": round(b.busy(), 3)}  # fmt: skip
    return jsonable(out)


@router.post("/train", response_model=dict[str, Any], summary="(Re)train the feed")
def train(body: TrainIn, st: StateDep, _: Principal = ANALYSTS) -> dict[str, Any]:
    with st.compute_lock:
        svc = ef.train_feed(
            st.engine, window_days=body.window_days, scorer_days=body.scorer_days, reuse=False
        )
    return jsonable(svc.describe())


@router.get("/viewers", response_model=Viewers, summary="Some viewer ids (for previews)")
def viewers(
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    _: Principal = ANALYSTS,
) -> dict[str, Any]:
    t = engine.store.read("viewers", ["viewer_id"], limit=limit)
    return {"items": t.column("viewer_id").to_pylist()}


@router.get("/{viewer_id}", response_model=FeedOut, summary="A viewer's feed, with why")
async def get_feed(
    viewer_id: ViewerId,
    st: StateDep,
    k: Annotated[int, Query(ge=1, le=MAX_FEED_K, description="How many items.")] = 20,
    interests: Annotated[
        list[str] | None,
        Query(max_length=50, description="Onboarding interests (communities) for new viewers."),
    ] = None,
    preview: Annotated[bool, Query(description="Do not mark as served or log exposure.")] = False,
    who: Principal = SERVERS,
) -> JSONResponse:
    # serving is a few milliseconds of CPU: done inline (no thread hop), batched with
    # the requests that arrived meanwhile (api.batching); training on first use is
    # long, so it runs in the thread pool and never blocks the loop
    try:
        svc = ef.feed_service(st.engine, train=False)
    except NotFound:
        svc = await run_in_threadpool(_service, st)
    preview = preview or who.scope == "analyst"
    req = FeedRequest(
        viewer_id, k, interests or None, log_exposure=not preview, mark_served=not preview
    )
    resp = await st.feed_batcher.recommend(svc, req)
    return JSONResponse(_feed_json(resp))


@router.delete("/{viewer_id}/session", status_code=204, summary="Forget a viewer's live session")
def reset_session(viewer_id: ViewerId, st: StateDep, _: Principal = VIEWER_SERVICE) -> None:
    _service(st).reset_session(viewer_id)


def install(app: FastAPI) -> None:
    """Events update live sessions; moderation decisions reload the feed's labels; the
    trained catalogue answers "does this video exist" without a store query; shutdown
    writes the buffered exposure log before the store closes."""

    def on_event(engine: Any, event: Any) -> bool:
        return ef.observe_event(engine, event)

    def on_moderation(engine: Any) -> None:
        with contextlib.suppress(NotFound):  # not trained yet: it reads them when it trains
            ef.refresh_visibility_labels(engine)

    def knows_video(engine: Any, video_id: str) -> bool:
        return ef.knows_video(engine, video_id)

    app.state.event_hooks.append(on_event)
    app.state.moderation_hooks.append(on_moderation)
    app.state.shutdown_hooks.append(ef.drop_feed_service)
    st = app.state.api
    if st is not None:
        st.videos.add_source(knows_video, st.engine)
