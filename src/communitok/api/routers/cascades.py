"""``/v1/cascades``: duet / stitch / sound-reuse cascades (list, one tree, rebuild)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from ...core.errors import NotFound
from ...engine.cascades import build_cascades, show_cascade, top_cascades
from ..deps import PageDep, Principal, StateDep, require
from ..schemas import BuildRequest, CascadeDetail, CascadeItem, Page, RunSummary
from ..serialize import jsonable, rows

router = APIRouter(prefix="/cascades", tags=["cascades"])
ANALYSTS = require("analyst")

SortKey = Literal["size", "depth", "structural_virality", "max_breadth", "communities_reached"]


def _ensure(st: Any) -> None:
    if not st.engine.store.has_result("cascade_nodes"):
        with st.compute_lock:
            if not st.engine.store.has_result("cascade_nodes"):
                build_cascades(st.engine)


@router.get("", response_model=Page[CascadeItem], summary="The largest cascades")
def list_cascades(
    st: StateDep,
    pg: PageDep,
    by: Annotated[SortKey, Query(description="Sort key (descending).")] = "size",
    community: Annotated[
        str | None, Query(max_length=100, description="Only cascades reaching this community.")
    ] = None,
    min_size: Annotated[int, Query(ge=1, le=1_000_000, description="Smallest size shown.")] = 1,
    _: Principal = ANALYSTS,
) -> dict[str, Any]:
    _ensure(st)
    t = top_cascades(st.engine, n=pg.need, by=by, community=community or None)
    items = [r for r in rows(t) if r["size"] >= min_size]
    return pg.slice(items)


@router.get("/{cascade_id}", response_model=CascadeDetail, summary="One cascade as a tree")
def get_cascade(
    st: StateDep,
    cascade_id: Annotated[
        str, Path(min_length=1, max_length=200, description="Root video id (or any member).")
    ],
    max_nodes: Annotated[int, Query(ge=1, le=5000, description="Nodes returned (by depth).")] = 500,
    _: Principal = ANALYSTS,
) -> dict[str, Any]:
    _ensure(st)
    d = show_cascade(st.engine, cascade_id)
    if d.metrics.num_rows == 0:
        raise NotFound(f"no cascade {cascade_id!r}")
    nodes = rows(d.nodes.slice(0, max_nodes))
    pred = rows(d.prediction) if d.prediction is not None else []
    return {
        "cascade": rows(d.metrics)[0],
        "nodes": nodes,
        "truncated": d.nodes.num_rows > max_nodes,
        "prediction": pred[0] if pred else None,
    }


@router.post("/build", response_model=RunSummary, summary="Rebuild every cascade from the store")
def build(body: BuildRequest, st: StateDep, _: Principal = ANALYSTS) -> dict[str, Any]:
    with st.compute_lock:
        run = build_cascades(
            st.engine, min_size=body.min_size, sound_attribution=body.sound_attribution
        )
    return {"summary": jsonable(run.summary())}
