"""``POST /v1/ingest/{table}`` (batch upload) and ``POST /v1/events`` (one viewing event).

A batch upload is validated and loaded exactly like ``communitok ingest FILE``: good
rows land, bad rows come back as rejects with reasons, re-sending the same batch changes
nothing. The body is spooled to a temporary file (bounded by the upload size limit) and
handed to :meth:`Engine.ingest`.

A viewing event is validated, handed to every event hook the app has (the feed router
registers one that updates the viewer's live session) and queued for the store, which
receives events in batches (:mod:`communitok.api.events`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from ...core.errors import InputError, NotFound
from ...core.model import ViewEvent
from ...core.schema import TABLES
from ...core.timeutil import utcnow
from ..deps import EngineDep, Principal, StateDep, require
from ..errors import ApiError
from ..schemas import EventAccepted, IngestResult, ViewEventIn
from ..serialize import jsonable

router = APIRouter(tags=["ingest"])
ADMIN = require("admin")
EVENT_WRITERS = require("viewer-service")

if TYPE_CHECKING:  # the table names are only known at run time
    TableName: TypeAlias = str
else:  # FastAPI validates the path parameter against (and documents) every table name
    TableName = Literal[tuple(TABLES)]
Format = Literal["jsonl", "json", "csv", "tsv", "parquet", "research-api"]
MEDIA_FORMATS = {
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/json": "json",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/octet-stream": None,
}
_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "description": "The rows: JSON lines, a JSON array of objects (or {\"rows\": [...]}), "
        "CSV/TSV with a header, Parquet, or a saved Research API response.",
        "content": {
            "application/x-ndjson": {"schema": {"type": "string", "minLength": 1}},
            "application/json": {
                "schema": {"oneOf": [
                    {"type": "array", "items": {"type": "object"}},
                    {"type": "object", "properties": {"rows": {"type": "array", "items": {"type": "object"}}}},
                ]},
            },
            "text/csv": {"schema": {"type": "string", "minLength": 1}},
            "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary", "minLength": 1}},
        },
    }
}  # fmt: skip


def _format(request: Request, given: str | None) -> str:
    if given:
        return given
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = MEDIA_FORMATS.get(media)
    if fmt is None:
        raise ApiError(
            415,
            "say the format: a Content-Type of JSON lines, JSON, CSV, TSV or Parquet, or ?format=",
        )
    return fmt


def _json_to_jsonl(src: Path, dst: Path) -> None:
    try:
        data = json.loads(src.read_bytes() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "the request body is not valid JSON", code="malformed_json") from None
    if isinstance(data, dict) and set(data) == {"rows"}:
        data = data["rows"]
    if not isinstance(data, list):
        raise InputError('must be a JSON array of objects or {"rows": [...]}', field="body")
    with dst.open("w", encoding="utf-8") as fh:
        for row in data:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


@router.post(
    "/ingest/{table}",
    response_model=IngestResult,
    summary="Upload a batch of rows for one table",
    openapi_extra=_UPLOAD_DOC,
    responses={415: {"description": "Unknown body format."}},
)
async def ingest_batch(
    table: TableName,
    request: Request,
    engine: EngineDep,
    format: Annotated[Format | None, Query(description="Body format (default: from Content-Type).")] = None,
    _: Principal = ADMIN,
) -> dict[str, Any]:  # fmt: skip
    fmt = _format(request, format)
    folder = Path(tempfile.mkdtemp(prefix="communitok-upload-"))
    try:
        raw = folder / "upload.bin"
        size = 0
        with raw.open("wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                fh.write(chunk)
        if size == 0:
            raise InputError("empty body", field="body")
        path, read_as = raw, fmt
        if fmt == "json":
            path, read_as = folder / "upload.jsonl", "jsonl"
            await run_in_threadpool(_json_to_jsonl, raw, path)
        try:
            summary = await run_in_threadpool(
                engine.ingest, [str(path)], table=table, format=read_as
            )
        except InputError as exc:  # name the upload, not the server's temporary file
            reason = exc.reason.replace(str(path), "upload").replace(str(raw), "upload")
            raise InputError(reason, source="upload" if exc.source else None, line=exc.line,
                             field=exc.field) from None  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out = summary.to_dict()
    rejects = [dict(r.to_dict(), source="upload") for r in summary.rejects[:100]]
    return jsonable({
        "table": table, "format": fmt, "rows_good": out["rows_good"],
        "rows_rejected": out["rows_rejected"], "seconds": out["seconds"],
        "tables": out["tables"], "rejects": rejects,
    })  # fmt: skip


@router.post(
    "/events",
    response_model=EventAccepted,
    status_code=202,
    tags=["events"],
    summary="Record one viewing event (updates the viewer's live feed session)",
)
def post_event(
    body: ViewEventIn, request: Request, st: StateDep, _: Principal = EVENT_WRITERS
) -> dict[str, Any]:
    fields = body.model_dump()
    fields["ts"] = fields["ts"] or utcnow()
    event = ViewEvent(**fields, source="api")
    if event.video_id not in st.videos:
        raise NotFound(f"no video {event.video_id!r}")
    updated = False
    for hook in getattr(request.app.state, "event_hooks", ()):
        updated = bool(hook(st.engine, event)) or updated
    st.events.submit(event)
    return {"queued": True, "session_updated": updated, "ts": event.ts}
