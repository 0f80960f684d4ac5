"""``/v1/health``, ``/v1/me``, ``/v1/status``, ``/v1/runs``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from ...core.errors import NotFound
from ..deps import ANY_SCOPE, EngineDep, PageDep, Principal, require
from ..schemas import Health, Me, Page, Run, Status
from ..serialize import jsonable

router = APIRouter(tags=["system"])
READERS = require("analyst")


def _run(r: Any) -> dict[str, Any]:
    return jsonable(
        {
            "run_id": r.run_id,
            "kind": r.kind,
            "status": r.status,
            "seed": r.seed,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "duration_s": r.duration_s,
            "params": dict(r.params),
            "summary": dict(r.summary),
        }
    )


@router.get("/health", response_model=Health, summary="Liveness and features (no key needed)")
def health(request: Request) -> dict[str, Any]:
    from ... import __version__

    return {"status": "ok", "version": __version__, "features": request.app.state.features}


@router.get("/me", response_model=Me, summary="The calling key's id, name and scope")
def me(who: Principal = ANY_SCOPE) -> dict[str, Any]:
    return {"key_id": who.key_id, "name": who.name, "scope": who.scope}


@router.get("/status", response_model=Status, summary="Store, row counts, results, last runs")
def status(
    engine: EngineDep,
    runs: Annotated[int, Query(ge=1, le=100, description="How many recent runs.")] = 10,
    _: Principal = READERS,
) -> dict[str, Any]:
    rep = engine.status(runs=runs)
    out = rep.to_dict()
    out["runs"] = [_run(r) for r in rep.runs]
    return jsonable(out)


@router.get("/runs", response_model=Page[Run], summary="Recorded runs, newest first")
def list_runs(
    engine: EngineDep,
    pg: PageDep,
    kind: Annotated[str | None, Query(max_length=100, description="Only this kind.")] = None,
    status: Annotated[
        str | None,
        Query(pattern="^(running|ok|failed|cancelled)$", description="Only this status."),
    ] = None,
    _: Principal = READERS,
) -> dict[str, Any]:
    want = pg.need if status is None else max(pg.need * 4, 1000)
    recs = engine.store.runs(limit=want, kind=kind or None)
    if status is not None:
        recs = [r for r in recs if r.status == status]
    return pg.slice([_run(r) for r in recs])


@router.get("/runs/{run_id}", response_model=Run, summary="One run")
def get_run(
    engine: EngineDep,
    run_id: Annotated[str, Path(max_length=64)],
    _: Principal = READERS,
) -> dict[str, Any]:
    store: Any = engine.store
    try:
        recs = store.runs(limit=1, run_id=run_id)
    except TypeError:  # a backend without the run_id filter
        recs = [r for r in store.runs(limit=100_000) if r.run_id == run_id]
    if not recs:
        raise NotFound(f"no run {run_id!r}")
    return _run(recs[0])
