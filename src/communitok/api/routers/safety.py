"""``/v1/safety``: classify text, classify stored items, review queue, decisions
(reviewer overrides), viewer reports, community safety health, partner safety figures.

Writes to the decision log and the reports are serialised (the engine appends rows to
result tables and then recomputes the ``visibility`` result). Partner keys see only :func:`partner_community_safety`, which
the safety package's k-anonymity guard builds.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pyarrow.compute as pc
from fastapi import APIRouter, Path, Query, Request
from pydantic import Field

from ...core.timeutil import utcnow
from ...engine import safety as es
from ..deps import EngineDep, PageDep, Principal, StateDep, require
from ..schemas import Open, Page, Strict
from ..serialize import jsonable, rows

router = APIRouter(prefix="/safety", tags=["safety"])
ANALYSTS = require("analyst")
CLASSIFIERS = require("analyst", "viewer-service")
REPORTERS = require("viewer-service")
PARTNERS = require("analyst", "partner")

ItemKind = Literal["comment", "video"]
Label = Literal["visible", "limited", "hidden", "needs_review"]
Category = Literal["hate", "offensive", "spam", "ok"]
Reason = Literal["hate", "harassment", "offensive", "spam", "other"]
Ident = Annotated[str, Field(min_length=1, max_length=200)]


class ClassifyIn(Strict):
    texts: Annotated[
        list[Annotated[str, Field(max_length=100_000)]], Field(min_length=1, max_length=100)
    ]


class Classified(Open):
    text_index: int
    category: str
    label: str
    why: str
    p_hate: float
    p_offensive: float
    p_spam: float
    p_ok: float


class ClassifyOut(Open):
    model_version: str
    items: list[Classified]


class ClassifyStoredIn(Strict):
    item_kind: ItemKind = "comment"
    reclassify: bool = False


class DecisionIn(Strict):
    item_kind: ItemKind
    item_id: Ident
    label: Label
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    category: Category | None = None


class ReportIn(Strict):
    item_kind: ItemKind
    item_id: Ident
    reporter_id: Ident
    reason: Reason


class QueueItem(Open):
    item_kind: str
    item_id: str
    label: str | None = None
    category: str | None = None
    priority: float | None = None
    why: str | None = None
    text: str | None = Field(None, description="The comment's text or the video's caption.")


class Decision(Open):
    item_kind: str
    item_id: str
    label: str
    source: str
    reason: str


class HealthRow(Open):
    community: str
    comments: int | None = None
    share_flagged: float | None = None
    reports_per_1k_views: float | None = None
    direction: str | None = None


class CommunityHealth(Open):
    community: str
    summary: dict[str, Any]
    by_period: list[dict[str, Any]]


class PartnerSafety(Open):
    k: int
    suppressed: int
    items: list[dict[str, Any]]


def _labels_changed(request: Request, st: Any) -> None:
    """Tell the rest of the app (e.g. the live feed) that visibility labels changed."""
    for hook in getattr(request.app.state, "moderation_hooks", ()):
        hook(st.engine)


@router.post("/classify", response_model=ClassifyOut, summary="Classify texts (nothing stored)")
def classify(body: ClassifyIn, engine: EngineDep, _: Principal = CLASSIFIERS) -> dict[str, Any]:
    from ...safety import VisibilityPolicy, decide, load_default_model

    model = load_default_model()
    proba = model.predict_proba(body.texts, es.store_lingo(engine.store))
    cats = decide(proba, model.thresholds_)
    policy = VisibilityPolicy()
    items = []
    for i, (p, cat) in enumerate(zip(proba.tolist(), cats.tolist(), strict=True)):
        score = p[("hate", "offensive", "spam", "ok").index(cat)]
        label, why = policy.label(cat, score)
        items.append({"text_index": i, "category": cat, "label": label, "why": why,
                      "p_hate": p[0], "p_offensive": p[1], "p_spam": p[2], "p_ok": p[3]})  # fmt: skip
    return jsonable({"model_version": model.version_, "items": items})


@router.post("/classify-stored", response_model=dict[str, Any], summary="Classify stored items")
def classify_stored(
    body: ClassifyStoredIn, request: Request, st: StateDep, _: Principal = ANALYSTS
) -> dict[str, Any]:
    with st.compute_lock:
        s = es.classify_stored(
            st.engine.store, item_kind=body.item_kind, reclassify=body.reclassify
        )
    _labels_changed(request, st)
    return jsonable(s.to_dict())


def _texts(engine: Any, items: list[dict[str, Any]]) -> None:
    """Add the reviewed text (comment text, video caption) to queue items."""
    for kind, table, id_col, col in (("comment", "comments", "comment_id", "text"),
                                     ("video", "videos", "video_id", "description")):  # fmt: skip
        ids = [it["item_id"] for it in items if it["item_kind"] == kind]
        if not ids:
            continue
        t = engine.store.read(table, [id_col, col], filters={id_col: ids})
        found = dict(zip(t[id_col].to_pylist(), t[col].to_pylist(), strict=True))
        for it in items:
            if it["item_kind"] == kind:
                it["text"] = found.get(it["item_id"])


@router.get("/queue", response_model=Page[QueueItem], summary="Review queue: severity × reach")
def queue(engine: EngineDep, pg: PageDep, _: Principal = ANALYSTS) -> dict[str, Any]:
    out = pg.slice(rows(es.review_queue(engine.store, limit=pg.need)))
    _texts(engine, out["items"])
    return out


@router.get("/decisions", response_model=Page[Decision], summary="The decision log, newest first")
def decisions(
    engine: EngineDep,
    pg: PageDep,
    item_kind: Annotated[ItemKind | None, Query()] = None,
    item_id: Annotated[str | None, Query(max_length=200)] = None,
    source: Annotated[Literal["model", "reviewer"] | None, Query()] = None,
    _: Principal = ANALYSTS,
) -> dict[str, Any]:
    log = es.decision_log(engine.store)
    want = {"item_kind": item_kind, "item_id": item_id, "source": source}
    for col, val in want.items():
        if val is not None:
            log = log.filter(pc.equal(log[col], val))
    log = log.sort_by([("decided_at", "descending"), ("decision_id", "ascending")])
    return pg.slice(rows(log.slice(0, pg.need)))


@router.post("/decisions", response_model=Decision, status_code=201, summary="Reviewer decision")
def decide_item(
    body: DecisionIn, request: Request, st: StateDep, who: Principal = ANALYSTS
) -> dict[str, Any]:
    with st.compute_lock:
        cur = es.override(
            st.engine.store, body.item_kind, body.item_id, body.label,
            reviewer_id=f"key:{who.key_id}", reason=body.reason, category=body.category,
        )  # fmt: skip
    _labels_changed(request, st)
    return jsonable(cur)


@router.post(
    "/reports", response_model=dict[str, int], status_code=201, summary="A viewer's report"
)
def report(
    body: ReportIn, request: Request, st: StateDep, _: Principal = REPORTERS
) -> dict[str, int]:
    with st.compute_lock:
        n = es.add_reports(st.engine.store, [{**body.model_dump(), "created_at": utcnow()}])
    if n:
        _labels_changed(request, st)
    return {"recorded": n}


Period = Annotated[Literal["day", "week"], Query(description="Health period.")]


@router.get("/health", response_model=Page[HealthRow], summary="Safety health of every community")
def health(
    engine: EngineDep, pg: PageDep, period: Period = "week", _: Principal = ANALYSTS
) -> dict[str, Any]:
    rep = es.community_health(engine.store, period=period)
    return pg.slice(rows(rep.summary))


@router.get(
    "/health/{community}", response_model=CommunityHealth, summary="One community's safety health"
)
def community_health(
    engine: EngineDep,
    community: Annotated[str, Path(min_length=1, max_length=200)],
    period: Period = "week",
    _: Principal = ANALYSTS,
) -> dict[str, Any]:
    rep = es.community_health_of(engine.store, community, period=period)
    return {
        "community": community,
        "summary": rows(rep.summary)[0],
        "by_period": rows(rep.by_period),
    }


@router.get("/partner-health", response_model=PartnerSafety, summary="Partner view: k-anonymous")
def partner_health(st: StateDep, _: Principal = PARTNERS) -> dict[str, Any]:
    settings = st.engine.settings.with_(privacy_k=st.privacy_k)
    agg = es.partner_community_safety(st.engine.store, settings=settings)
    return {"k": agg.k, "suppressed": agg.suppressed, "items": rows(agg.table)}
