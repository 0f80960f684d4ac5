"""Per-request context: the request id (a context variable) and a logging filter that
puts it on every log record as ``%(request_id)s``."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("communitok_request_id", default="-")

#: A client-supplied X-Request-ID is kept only when it looks like an id.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")


def new_request_id(incoming: str | None = None) -> str:
    """The client's id when it is safe to echo and log, else a fresh random one."""
    if incoming and _SAFE_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def set_request_id(rid: str) -> object:
    return _request_id.set(rid)


def reset_request_id(token: object) -> None:
    _request_id.reset(token)  # type: ignore[arg-type]


def current_request_id() -> str:
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True
