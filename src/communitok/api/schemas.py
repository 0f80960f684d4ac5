"""Request and response models shared by the routers.

Request models are strict (``strict=True``: ``false`` is not an integer, ``"1"`` is
not a number) and refuse unknown fields; timestamps are the one lax field type, so
ISO-8601 strings parse. Response models name the fields the dashboard relies on and
allow extra columns (analyses may add columns without breaking the API).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeAlias, TypeVar

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

T = TypeVar("T")


def _integral(v: Any) -> Any:
    """JSON Schema counts 3.0 as an integer: accept it as 3 (but never true, "3" or 3.5)."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


#: Metadata for ``X: TypeAlias = Annotated[int, Field(ge=lo, le=hi), INTEGRAL]``: a strict
#: integer in [lo, hi] that also takes integral floats (3.0), as JSON Schema does (the
#: bounds must come before the validator to reach the OpenAPI document)
INTEGRAL = BeforeValidator(_integral)

Burst: TypeAlias = Annotated[int, Field(ge=1, le=1_000_000), INTEGRAL]
TopK: TypeAlias = Annotated[int, Field(ge=1, le=500), INTEGRAL]
Days: TypeAlias = Annotated[int, Field(ge=1, le=60), INTEGRAL]
Top: TypeAlias = Annotated[int, Field(ge=1, le=50), INTEGRAL]
MinSize: TypeAlias = Annotated[int, Field(ge=2, le=1_000_000), INTEGRAL]
#: ``kind:item@scope`` (kind and scope optional), e.g. ``hashtag:booktok@all``
TREND_ID = r"^(?:(?:hashtag|sound|effect|community):[^@]+|[^:@]+)(?:@[^@]*)?$"
TrendIdText = Annotated[str, Field(min_length=1, max_length=300, pattern=TREND_ID)]

Text = Annotated[str, Field(min_length=1, max_length=200)]
Timestamp = Annotated[AwareDatetime, Field(strict=False, description="ISO-8601 with zone.")]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Page(BaseModel, Generic[T]):
    """One page of a list: ``next_offset`` is null on the last page."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None = None


# --- system ---------------------------------------------------------------------
class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    features: dict[str, bool] = Field(description="Which capabilities this server offers.")


class Me(BaseModel):
    key_id: str
    name: str
    scope: str


class Run(Open):
    run_id: str
    kind: str
    status: str
    seed: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    summary: dict[str, Any] = Field(default_factory=dict)


class Status(BaseModel):
    backend: str
    location: str
    schema_version: int
    latest_schema_version: int
    counts: dict[str, int]
    results: list[str]
    runs: list[Run]


# --- keys -----------------------------------------------------------------------
class KeyCreate(Strict):
    scope: Literal["admin", "analyst", "partner", "viewer-service"]
    name: Annotated[str, Field(max_length=100)] = ""
    rate_per_s: Annotated[float, Field(gt=0, le=100_000)] | None = None
    burst: Burst | None = None


class KeyInfo(BaseModel):
    key_id: str
    name: str
    scope: str
    created_at: datetime
    revoked_at: datetime | None = None
    active: bool
    rate_per_s: float | None = None
    burst: int | None = None


class KeyCreated(KeyInfo):
    key: str = Field(description="The secret key. Shown once; only its hash is stored.")


# --- ingest ---------------------------------------------------------------------
class TableCounts(Open):
    table: str
    rows_read: int = 0
    rows_good: int = 0
    rows_rejected: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class RejectRow(Open):
    source: str | None = None
    line: int | None = None
    field: str | None = None
    value: Any = None
    reason: str


class IngestResult(BaseModel):
    table: str
    format: str
    rows_good: int
    rows_rejected: int
    seconds: float
    tables: dict[str, TableCounts]
    rejects: list[RejectRow] = Field(description="The first 100 rejected rows with reasons.")


class ViewEventIn(Strict):
    """One impression of a video to a viewer and what the viewer did."""

    viewer_id: Text
    video_id: Text
    ts: Timestamp | None = Field(default=None, description="When (default: now).")
    watch_time_s: Annotated[float, Field(ge=0, le=86_400)] | None = None
    completed: bool | None = None
    liked: bool | None = None
    shared: bool | None = None
    commented: bool | None = None
    followed: bool | None = None
    skipped: bool | None = None
    not_interested: bool | None = None


class EventAccepted(BaseModel):
    queued: bool = Field(
        description="Queued for the store (written in batches within ~50 ms; the same "
        "(viewer, video, ts) twice is stored once)."
    )
    session_updated: bool = Field(description="Whether a live feed session took the event.")
    ts: datetime


# --- trends ---------------------------------------------------------------------
class TrendItem(Open):
    trend_id: str
    kind: str
    item: str
    scope: str
    rank: int | None = None
    score: float | None = None
    weight: float | None = None
    start: datetime | None = None
    peak: datetime | None = None
    end: datetime | None = None
    age_hours: float | None = None
    stage: str | None = Field(None, description="Lifecycle stage (emerging, peaking, …).")
    n_viewers: int | None = Field(None, description="Distinct viewers (partner scope only).")
    sparkline: list[float | None] | None = Field(None, description="Daily values (if asked).")


class TrendPage(Page[TrendItem]):
    suppressed: int = Field(0, description="Rows hidden by the privacy threshold (partner).")


class SeriesPoint(BaseModel):
    bin: datetime
    value: float | None


class TrendDetail(BaseModel):
    trend_id: str
    stage: str | None
    series: list[SeriesPoint]
    bursts: list[dict[str, Any]]
    lifecycle: list[dict[str, Any]]
    spillover: list[dict[str, Any]]
    n_viewers: int | None = None


class DetectRequest(Strict):
    metric: Literal["videos", "creators", "views", "engagement", "auto"] = "videos"
    grain: Literal["hour", "day"] = "hour"
    half_life_hours: Annotated[float, Field(ge=0.1, le=10_000)] = 24.0
    top_k: TopK = 20
    min_total: Annotated[float, Field(ge=0, le=1e9)] = 5.0


class RunSummary(BaseModel):
    summary: dict[str, Any]


class ForecastRequest(Strict):
    trend_ids: Annotated[list[TrendIdText], Field(min_length=1, max_length=50)] | None = None
    days: Days = 7
    top: Top = 10
    metric: Literal["videos", "creators", "views", "engagement", "auto"] = "videos"


class ForecastResult(BaseModel):
    forecasts: list[dict[str, Any]]
    backtest: dict[str, Any]
    holdout: dict[str, Any]


# --- cascades -------------------------------------------------------------------
class CascadeItem(Open):
    cascade_id: str
    size: int
    depth: int
    max_breadth: int | None = None
    structural_virality: float | None = None
    communities_reached: int | None = None
    root_creator: str | None = None
    start: datetime | None = None


class CascadeNode(Open):
    video_id: str
    parent_video_id: str | None = None
    kind: str | None = None
    creator_id: str | None = None
    created_at: datetime | None = None
    depth: int
    subtree_size: int | None = None


class CascadeDetail(BaseModel):
    cascade: CascadeItem
    nodes: list[CascadeNode]
    truncated: bool = Field(description="True when nodes were cut at max_nodes.")
    prediction: dict[str, Any] | None = None


class BuildRequest(Strict):
    min_size: MinSize = 2
    sound_attribution: Literal["auto", "given", "earliest", "most_viewed", "previous"] = "auto"
