"""``/v1/communities``: list, map (nodes + bridges), one community, bridges, history,
detection.

Partner keys see the list and the map only, and only communities whose viewers reach the
privacy threshold (through the safety package's k-anonymity guard over the stored
viewer memberships); bridges shown to them must rest on at least k shared members.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pyarrow.compute as pc
from fastapi import APIRouter, Path, Query
from pydantic import Field

from ...engine import communities as ec
from ...safety import k_anonymous_aggregate
from ...safety.privacy import PEOPLE
from ..deps import EngineDep, PageDep, Principal, StateDep, require
from ..schemas import Open, Page, Strict
from ..serialize import jsonable, rows

router = APIRouter(prefix="/communities", tags=["communities"])
READERS = require("analyst", "partner")
ANALYSTS = require("analyst")

Sort = Literal["views", "videos", "creators", "viewers", "community_id"]
CommunityId = Annotated[int, Path(ge=0, le=2**62, description="Community id.")]


class CommunityItem(Open):
    community_id: int
    name: str
    top_hashtags: list[str] = Field(default_factory=list)
    views: int | None = None
    videos: int | None = None
    creators: int | None = None
    viewers: int | None = None
    growth: float | None = Field(None, description="Recent growth (share, e.g. 0.2 = +20 %).")
    n_viewers: int | None = Field(None, description="Distinct viewers (partner scope only).")


class CommunityPage(Page[CommunityItem]):
    suppressed: int = 0


class Bridge(Open):
    community_a: int
    community_b: int
    name_a: str | None = None
    name_b: str | None = None
    lift: float | None = None
    shared: int | None = None
    q_value: float | None = None


class CommunityMap(Open):
    nodes: list[CommunityItem]
    edges: list[Bridge]
    suppressed: int = 0


class CommunityDetail(Open):
    community: CommunityItem
    profile: dict[str, Any]
    lingo: list[dict[str, Any]]
    members: dict[str, list[dict[str, Any]]]
    bridges: list[Bridge]
    history: list[dict[str, Any]]


class History(Open):
    history: list[dict[str, Any]]
    events: list[dict[str, Any]]


class DetectIn(Strict):
    window_days: Annotated[float, Field(gt=0, le=3650)] | None = 7.0


def _growth(engine: Any) -> dict[int, float | None]:
    """Growth per community: the profile's video (else impression) growth, else the change
    in size between the last two tracked windows."""
    out: dict[int, float | None] = {}
    store = engine.store
    if store.has_result("community_profiles"):
        for p in store.read("community_profiles").to_pylist():
            g = p.get("video_growth")
            out[p["community_id"]] = g if g is not None else p.get("impression_growth")
    if store.has_result("community_history"):
        sizes: dict[int, list[tuple[int, int]]] = {}
        for h in store.read("community_history").to_pylist():
            sizes.setdefault(h["community_id"], []).append((h["window_index"], h["size"]))
        for cid, seq in sizes.items():
            if out.get(cid) is None and len(seq) >= 2:
                (_, prev), (_, last) = sorted(seq)[-2:]
                out[cid] = (last - prev) / prev if prev else None
    return out


def _items(engine: Any, sort: str) -> list[dict[str, Any]]:
    items = rows(ec.list_communities(engine.store, sort=sort))
    growth = _growth(engine)
    for it in items:
        it["growth"] = jsonable(growth.get(it["community_id"]))
    return items


def _guard(engine: Any, items: list[dict[str, Any]], k: int) -> tuple[list[dict[str, Any]], int]:
    """Communities with at least *k* distinct viewers, through the k-anonymity guard."""
    m = engine.store.read("community_members", ["member_kind", "member_id", "community_id"])
    viewers = m.filter(pc.equal(m["member_kind"], "viewer"))
    agg = k_anonymous_aggregate(viewers, by=["community_id"], person="member_id", metrics={}, k=k)
    published = {r["community_id"]: r[PEOPLE] for r in agg.to_pylist()}
    kept = [
        {
            **{c: v for c, v in it.items() if c != "creators"},
            "n_viewers": published[it["community_id"]],
        }
        for it in items
        if it["community_id"] in published
    ]
    return kept, len(items) - len(kept)


@router.get(
    "",
    response_model=CommunityPage,
    response_model_exclude_unset=True,
    summary="Communities, largest first",
)
def list_communities(
    st: StateDep,
    pg: PageDep,
    sort: Annotated[Sort, Query(description="Sort key (descending; ids ascending).")] = "views",
    who: Principal = READERS,
) -> dict[str, Any]:
    items = _items(st.engine, sort)
    suppressed = 0
    if who.scope == "partner":
        items, suppressed = _guard(st.engine, items, st.privacy_k)
    return {**pg.slice(items), "suppressed": suppressed}


@router.get(
    "/map",
    response_model=CommunityMap,
    response_model_exclude_unset=True,
    summary="Network: communities and bridges",
)
def community_map(st: StateDep, who: Principal = READERS) -> dict[str, Any]:
    nodes = _items(st.engine, "views")
    suppressed = 0
    edges = rows(ec.list_bridges(st.engine.store)) if nodes else []
    if who.scope == "partner":
        nodes, suppressed = _guard(st.engine, nodes, st.privacy_k)
        shown = {n["community_id"] for n in nodes}
        edges = [
            {
                c: e.get(c)
                for c in ("community_a", "community_b", "name_a", "name_b", "lift", "shared")
            }
            for e in edges
            if {e["community_a"], e["community_b"]} <= shown
            and (e.get("shared") or 0) >= st.privacy_k
        ]
    return {"nodes": nodes, "edges": edges, "suppressed": suppressed}


@router.get("/bridges", response_model=Page[Bridge], summary="Bridges between communities")
def bridges(
    engine: EngineDep,
    pg: PageDep,
    community_id: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    _: Principal = ANALYSTS,
) -> dict[str, Any]:
    return pg.slice(rows(ec.list_bridges(engine.store, community_id=community_id, limit=pg.need)))


@router.get("/history", response_model=History, summary="Tracked communities over time")
def history(
    engine: EngineDep,
    community_id: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    _: Principal = ANALYSTS,
) -> dict[str, Any]:
    hist, events = ec.community_history(engine.store, community_id=community_id)
    return {"history": rows(hist), "events": rows(events)}


@router.post("/detect", response_model=dict[str, Any], summary="Detect and track communities")
def detect(body: DetectIn, st: StateDep, _: Principal = ANALYSTS) -> dict[str, Any]:
    with st.compute_lock:
        summary = ec.detect_communities(st.engine.store, window_days=body.window_days)
    return jsonable(summary.to_dict())


@router.get("/{community_id}", response_model=CommunityDetail, summary="One community")
def show(
    engine: EngineDep,
    community_id: CommunityId,
    top: Annotated[int, Query(ge=1, le=100, description="Members listed per kind.")] = 10,
    _: Principal = ANALYSTS,
) -> dict[str, Any]:
    d = jsonable(ec.show_community(engine.store, community_id, top_n=top))
    d["community"]["growth"] = jsonable(_growth(engine).get(community_id))
    return d
