"""``/v1/partner``: the brand flow — brief → matching communities, listening report,
audience overlap, content brief, ambassadors, campaign plan (minimum detectable lift
before launch), campaign read-out (randomised or against comparable communities), and
feed-experiment read-outs per variant (raw and CUPED-adjusted).

Every route answers JSON; ``?format=csv`` or ``?format=html`` returns the same report as
CSV or a self-contained HTML page (:mod:`communitok.insights.export`).

Every figure comes from :mod:`communitok.engine.insights`, whose partner-facing outputs
are built by the safety package's k-anonymity guard (registered ``partner_*`` functions
returning a ``PartnerAggregate``) with the server's privacy threshold ``k``
(``settings.privacy_k``, overridable per app). Analyst and admin keys see the same
guarded figures; for a partner key a community whose audience is under *k* answers 404,
exactly as an unknown one (a partner learns nothing about small communities).
Viewer-service keys are refused (403). A plan or experiment read-out that would rest
on fewer than *k* viewers answers 200 with ``status: abstain`` and the ``reason``, and
no figures.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import Field

from ...core.errors import NotFound
from ...engine import insights as ei
from ...insights import Brief
from ...insights.export import render
from ...safety import k_anonymous_aggregate
from ..deps import AppState, Principal, StateDep, require
from ..schemas import INTEGRAL, Open, Strict, Timestamp, Top
from ..serialize import jsonable, rows

router = APIRouter(prefix="/partner", tags=["partner"])
PARTNERS = require("analyst", "partner")

CommunityId = Annotated[int, Path(ge=0, le=2**62, description="Community id.")]
Term = Annotated[str, Field(min_length=1, max_length=100)]
#: a hashtag with at least one character besides ``#`` and spaces
Tag = Annotated[str, Field(min_length=1, max_length=100, pattern=r"[^#\s]")]
Terms = Annotated[list[Term], Field(max_length=50)]
CommunityRef: TypeAlias = Annotated[int, Field(ge=0, le=2**62), INTEGRAL]
Reach: TypeAlias = Annotated[int, Field(ge=2, le=10**9), INTEGRAL]
TargetId = Annotated[int, Field(ge=0, le=2**62)]
OverlapKind = Literal["community", "creator-community", "creator"]
Format = Annotated[
    Literal["json", "csv", "html"],
    Query(description="json (default), csv, or html (self-contained page with charts)."),
]
Design = Literal["auto", "randomised", "did", "synthetic", "exposed"]
#: a feed experiment's (or variant's) name, as recorded in ``feed_exposures``
NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.:\-]*$"
ExperimentName = Annotated[
    str, Path(min_length=1, max_length=100, pattern=NAME,
              description="Experiment name (as the feed records it).")
]  # fmt: skip
Metric = Literal["liked", "shared", "commented", "followed", "completed", "skipped", "watch_time_s"]
MEDIA = {"csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}


def _out(report: dict[str, Any], fmt: str, title: str) -> Any:
    """JSON as is, or the report rendered as CSV / HTML."""
    data = jsonable(report)
    if fmt == "json":
        return data
    return Response(render(data, fmt, title=title), media_type=MEDIA[fmt])


class MatchIn(Strict):
    brief: Annotated[
        str,
        Field(
            min_length=1,
            max_length=10_000,
            pattern=r"[^\W_]",
            description="Brief text (with at least one letter or digit).",
        ),
    ]
    hashtags: Terms = Field(default_factory=list, description="Seed hashtags.")
    regions: Terms = Field(default_factory=list, description="Target viewer regions.")
    exclude: Terms = Field(default_factory=list, description="Terms or hashtags to avoid.")
    top: Top = 10
    matcher: Literal["lexical", "embedding", "blend"] = Field(
        "lexical", description="embedding / blend need the optional embeddings extra (else 501)."
    )


class Match(Open):
    rank: int
    community_id: int
    name: str | None = None
    n_people: int = Field(description="Distinct viewers of the community (≥ k).")
    score: float | None = None
    matched_hashtags: str = Field("", description="Why: brief terms found in its hashtags.")
    matched_lingo: str = ""
    matched_captions: str = ""


class MatchOut(Open):
    brief: dict[str, Any]
    k: int
    suppressed: int = Field(description="Matching communities withheld (audience under k).")
    matches: list[Match]


class Guarded(Open):
    """A guarded aggregate: rows of at least ``k`` people each, ``suppressed`` withheld."""

    k: int
    suppressed: int
    items: list[dict[str, Any]]


class AmbassadorsOut(Guarded):
    community_id: int


class OverlapOut(Guarded):
    kind: str


class ContentBriefOut(Open):
    community: dict[str, Any]
    k: int
    use_hashtags: list[dict[str, Any]]
    avoid_hashtags: list[dict[str, Any]]
    sounds: list[dict[str, Any]]
    effects: list[dict[str, Any]]
    formats: list[dict[str, Any]]
    posting_windows: list[dict[str, Any]]
    lingo: list[dict[str, Any]]
    bridges: list[dict[str, Any]]
    notes: list[str]


class CampaignIn(Strict):
    hashtags: Annotated[list[Tag], Field(max_length=20)] = Field(
        default_factory=list, description="The campaign's hashtags (or give video_ids)."
    )
    video_ids: Annotated[list[Term], Field(max_length=1000)] = Field(
        default_factory=list, description="The campaign's videos."
    )
    start: Timestamp | None = None
    end: Timestamp | None = None
    community_id: CommunityRef | None = None
    design: Design = Field(
        "auto",
        description="auto (difference-in-differences without arms), did, synthetic, exposed.",
    )
    donors: Annotated[list[CommunityRef], Field(max_length=200)] | None = Field(
        None, description="Comparable communities (did / synthetic); default: all with data."
    )


class CampaignOut(Open):
    campaign: dict[str, Any]
    design: str
    readout: dict[str, Any]
    estimates: list[dict[str, Any]]
    arms: list[dict[str, Any]]
    notes: list[str]


class PlanIn(Strict):
    community_id: CommunityRef = Field(description="The campaign's target community.")
    days: Annotated[float, Field(ge=1, le=90)] = Field(7.0, description="Campaign length.")
    design: Literal["randomised", "did"] = Field(
        "randomised",
        description="randomised (a held-out control arm) or did (whole community exposed, "
        "read out against comparable communities).",
    )
    treated_share: Annotated[float, Field(gt=0, lt=1)] = Field(
        0.5, description="Share of the reach treated (randomised)."
    )
    reach: Reach | None = Field(
        None, description="Viewers expected (default: the community's recent audience)."
    )
    lift: Annotated[float, Field(gt=0, le=100)] | None = Field(
        None, description="A relative lift to plan for (adds power and viewers needed)."
    )
    alpha: Annotated[float, Field(gt=0, lt=0.5)] = Field(0.05, description="Test level.")
    power: Annotated[float, Field(ge=0.5, lt=1)] = Field(0.8, description="Target power.")


class PlanOut(Open):
    community: dict[str, Any]
    design: str
    k: int
    status: str = Field(description="ok, or abstain (history under k or too thin).")
    reason: str = Field(description="Why it abstains (empty when ok).")
    history: dict[str, Any] = Field(
        description="The window planned from: n_people (≥ k), rate, rel_var with intervals."
    )
    plan: dict[str, Any] = Field(description="mde with mde_low / mde_high, se_log, power…")
    curve: list[dict[str, Any]]
    notes: list[str]


class Variant(Open):
    variant: str
    n_people: int = Field(description="Distinct viewers in the variant (≥ k).")
    mean: float | None = None
    mean_low: float | None = None
    mean_high: float | None = None
    diff: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    diff_cuped: float | None = None
    ci_low_cuped: float | None = None
    ci_high_cuped: float | None = None


class ExperimentOut(Open):
    experiment: str
    metric: str
    control: str
    status: str = Field(description="ok, or abstain (control or every variant under k).")
    reason: str
    k: int
    pre_days: float
    suppressed: int = Field(description="Variants withheld (under k viewers).")
    variants: list[Variant]
    notes: list[str]


class ListenOut(Open):
    community: dict[str, Any]
    status: str = Field(description="ok, or abstain (audience under k: nothing shown).")
    k: int
    n_people: int | None
    window: dict[str, Any]
    top_hashtags: list[dict[str, Any]]
    rising_hashtags: list[dict[str, Any]]
    sounds: list[dict[str, Any]]
    effects: list[dict[str, Any]]
    lingo: list[dict[str, Any]]
    trends: list[dict[str, Any]]
    bridges: list[dict[str, Any]]
    overlap: list[dict[str, Any]]
    notes: list[str]


def _check_community(st: AppState, who: Principal, community_id: int) -> None:
    """Partner keys: a community under the privacy threshold is answered as unknown."""
    if who.scope != "partner":
        return
    aud = ei.community_audience(st.engine.store, community_id)
    agg = k_anonymous_aggregate(
        aud, by=["community_id"], person="viewer_id", metrics={}, k=st.privacy_k
    )
    if agg.table.num_rows == 0:
        raise NotFound(f"no community {community_id}")


@router.post("/match", response_model=MatchOut, summary="Brief → communities that fit")
def match(body: MatchIn, st: StateDep, format: Format = "json", _: Principal = PARTNERS) -> Any:
    brief = Brief(body.brief, tuple(body.hashtags), tuple(body.regions), tuple(body.exclude))
    rep = ei.match_brief(st.engine.store, brief, k=st.privacy_k, top_n=body.top,
                         matcher=body.matcher)  # fmt: skip
    return _out(rep.to_dict(), format, "Communities for the brief")


@router.get(
    "/communities/{community_id}/listen",
    response_model=ListenOut,
    summary="Listening report: hashtags, lingo, sounds, trends, bridges, overlap",
)
def community_listen(
    st: StateDep,
    community_id: CommunityId,
    target: Annotated[
        list[TargetId], Query(max_length=50, description="The brand's other target communities.")
    ] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    recent_days: Annotated[float, Query(gt=0, le=90, description="Recent period (days).")] = 7.0,
    format: Format = "json",
    who: Principal = PARTNERS,
) -> Any:
    _check_community(st, who, community_id)
    for t in target:
        _check_community(st, who, t)
    rep = ei.listen(st.engine.store, community_id, targets=target, k=st.privacy_k,
                    recent_days=recent_days)  # fmt: skip
    return _out(rep.to_dict(), format, f"Listening report: community {community_id}")


@router.get("/overlap", response_model=OverlapOut, summary="Audience overlap (Jaccard, lift)")
def audience_overlap(
    st: StateDep,
    kind: Annotated[OverlapKind, Query(description="Which pairs.")] = "community",
    community_id: Annotated[
        int | None, Query(ge=0, le=2**62, description="Creators of this community.")
    ] = None,
    top: Annotated[int, Query(ge=1, le=200, description="Pairs, highest lift first.")] = 50,
    format: Format = "json",
    who: Principal = PARTNERS,
) -> Any:
    if community_id is not None:
        _check_community(st, who, community_id)
    agg = ei.overlap(st.engine.store, kind, community_id=community_id, k=st.privacy_k)
    table = agg.table.sort_by([("lift", "descending")]).slice(0, top)
    rep = {"kind": kind, "k": agg.k, "suppressed": agg.suppressed, "items": rows(table)}
    return _out(rep, format, f"Audience overlap ({kind})")


@router.get(
    "/communities/{community_id}/ambassadors",
    response_model=AmbassadorsOut,
    summary="Creators ranked by fit (components and fraud flags shown)",
)
def community_ambassadors(
    st: StateDep,
    community_id: CommunityId,
    top: Annotated[int, Query(ge=1, le=100, description="Creators.")] = 20,
    format: Format = "json",
    who: Principal = PARTNERS,
) -> Any:
    _check_community(st, who, community_id)
    # may screen engagement first (writes the engagement_flags result)
    with st.compute_lock:
        agg = ei.ambassadors(st.engine.store, community_id, k=st.privacy_k, top_n=top)
    rep = {"community_id": community_id, "k": agg.k, "suppressed": agg.suppressed,
           "items": rows(agg.table)}  # fmt: skip
    return _out(rep, format, f"Ambassadors for community {community_id}")


@router.get(
    "/communities/{community_id}/content-brief",
    response_model=ContentBriefOut,
    summary="What to post: hashtags, sounds, formats, hours, lingo",
)
def community_content_brief(
    st: StateDep, community_id: CommunityId, format: Format = "json", who: Principal = PARTNERS
) -> Any:
    _check_community(st, who, community_id)
    b = ei.content_brief(st.engine.store, community_id, k=st.privacy_k)
    return _out(b.to_dict(), format, f"Content brief: community {community_id}")


@router.post(
    "/campaigns/readout",
    response_model=CampaignOut,
    summary="Campaign lift with a confidence interval (abstains under k)",
)
def campaign(
    body: CampaignIn, st: StateDep, format: Format = "json", who: Principal = PARTNERS
) -> Any:
    for c in [*([body.community_id] if body.community_id is not None else []),
              *(body.donors or [])]:  # fmt: skip
        _check_community(st, who, c)
    rep = ei.campaign_readout(
        st.engine.store,
        list(body.hashtags),
        video_ids=list(body.video_ids),
        design=body.design,
        start=body.start,
        end=body.end,
        community_id=body.community_id,
        donors=body.donors,
        k=st.privacy_k,
        n_boot=1000,
    )
    return _out(rep.to_dict(), format, "Campaign read-out")


@router.post(
    "/campaigns/plan",
    response_model=PlanOut,
    summary="Before launch: minimum detectable lift and the audience a campaign needs",
)
def campaign_plan(
    body: PlanIn, st: StateDep, format: Format = "json", who: Principal = PARTNERS
) -> Any:
    _check_community(st, who, body.community_id)
    p = ei.plan_campaign(
        st.engine.store,
        body.community_id,
        days=body.days,
        design=body.design,
        treated_share=body.treated_share,
        reach=body.reach,
        lift=body.lift,
        alpha=body.alpha,
        power=body.power,
        k=st.privacy_k,
    )
    return _out(p.to_dict(), format, f"Campaign plan: community {body.community_id}")


@router.get(
    "/experiments/{experiment}/readout",
    response_model=ExperimentOut,
    summary="Feed experiment: each variant against control, raw and CUPED-adjusted",
)
def experiment_readout(
    st: StateDep,
    experiment: ExperimentName,
    metric: Annotated[Metric, Query(description="Outcome per exposure.")] = "liked",
    control: Annotated[
        str,
        Query(min_length=1, max_length=100, pattern=NAME, description="The control variant."),
    ] = "control",
    pre_days: Annotated[
        float, Query(gt=0, le=365, description="History before exposure for CUPED (days).")
    ] = 14.0,
    format: Format = "json",
    _: Principal = PARTNERS,
) -> Any:
    rep = ei.experiment_readout(st.engine.store, experiment, metric=metric, control=control,
                                pre_days=pre_days, k=st.privacy_k)  # fmt: skip
    return _out(rep.to_dict(), format, f"Experiment {experiment}: {metric} per exposure")
