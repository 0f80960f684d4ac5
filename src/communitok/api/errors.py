"""One JSON error shape for every error the API returns.

Every error response, whatever raised it (a :class:`~communitok.core.errors.CommunitokError`,
request validation, an unknown route, a wrong method, a too-large body, a rate limit or
an unexpected exception), has the body::

    {"error": {"status": 404, "code": "not_found", "message": "...",
               "request_id": "...", "details": [...]}}

and the matching HTTP status. Server errors (5xx) never carry exception text or stack
traces: the message is generic and the detail goes to the log with the request id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..core.errors import CommunitokError
from .context import current_request_id

log = logging.getLogger("communitok.api")

#: Error code per HTTP status (used when nothing more specific is known).
STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
    501: "not_implemented",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    """One problem with the request (e.g. one invalid field)."""

    loc: list[str | int] = Field(
        default_factory=list, description="Where: body/query/path + field."
    )
    msg: str
    type: str


class ErrorBody(BaseModel):
    status: int = Field(description="HTTP status code (same as the response's).")
    code: str = Field(description="Machine-readable error code, e.g. not_found.")
    message: str = Field(description="Human-readable message (never a stack trace).")
    request_id: str = Field(description="The request's id (header X-Request-ID), for logs.")
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """The one error shape of the API."""

    error: ErrorBody


def _doc(desc: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": desc}


#: OpenAPI ``responses`` shared by every route.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("Malformed request (e.g. broken JSON)."),
    401: _doc("Missing or invalid API key."),
    403: _doc("The key's scope may not use this endpoint."),
    404: _doc("Unknown resource."),
    413: _doc("Request body too large."),
    409: _doc("Conflicts with the current state."),
    422: _doc("Invalid parameters or body."),
    429: _doc("Rate limit exceeded (see Retry-After)."),
    500: _doc("Internal error (details in the server log, by request id)."),
    503: _doc("The store failed or is unavailable."),
}


class ApiError(Exception):
    """An error raised by the API layer itself (auth, rate limits, unsupported media)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        details: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or STATUS_CODES.get(status, "error")
        self.message = message
        self.headers = dict(headers or {})
        self.details = list(details)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def error_payload(
    status: int, code: str, message: str, details: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    return {
        "error": {
            "status": status,
            "code": code,
            "message": message,
            "request_id": current_request_id(),
            "details": [dict(d) for d in details],
        }
    }


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    details: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_payload(status, code, message, details), status_code=status, headers=headers
    )


def _clean_loc(loc: Sequence[Any]) -> list[str | int]:
    return [p if isinstance(p, int) else str(p) for p in loc]


async def _communitok_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CommunitokError)
    status = int(getattr(exc, "status_code", 500) or 500)
    code = _snake(type(exc).__name__)
    if status >= 500:
        log.error("%s on %s %s (request %s): %s", type(exc).__name__, request.method,
                  request.url.path, current_request_id(), exc)  # fmt: skip
        return error_response(status, code, "the server could not complete the request")
    details = []
    field = getattr(exc, "field", None)
    if field:
        details.append({"loc": [str(field)], "msg": str(getattr(exc, "reason", exc)), "type": code})
    return error_response(status, code, str(exc), details=details)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "malformed_json", "the request body is not valid JSON")
    details = [
        {"loc": _clean_loc(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in errors[:50]
    ]  # fmt: skip
    return error_response(
        422, "invalid_input", "the request has invalid parameters", details=details
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = STATUS_CODES.get(status, "error")
    detail = exc.detail if isinstance(exc.detail, str) else None
    default = {404: "no such endpoint", 405: "method not allowed for this endpoint"}
    message = detail if detail and status < 500 else default.get(status, code.replace("_", " "))
    if status == 404 and message == "Not Found":
        message = default[404]
    if status == 405 and message == "Method Not Allowed":
        message = default[405]
    return error_response(status, code, message, headers=getattr(exc, "headers", None))


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(
        exc.status, exc.code, exc.message, details=exc.details, headers=exc.headers
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception type the API can meet to the one error shape."""
    app.add_exception_handler(CommunitokError, _communitok_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ApiError, _api_error)
