"""One pure-ASGI middleware for every HTTP request: request id, body size limit,
security headers, access log, and a last-resort 500 in the one error shape.

Pure ASGI (not ``BaseHTTPMiddleware``) keeps the per-request cost in microseconds.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException

from .context import RequestIdFilter, new_request_id, reset_request_id, set_request_id
from .errors import error_payload

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("communitok.api.access")
log = logging.getLogger("communitok.api")
for _logger in (access_log, log):  # every record they emit carries ``request_id``
    if not any(isinstance(f, RequestIdFilter) for f in _logger.filters):
        _logger.addFilter(RequestIdFilter())

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
#: Content-Security-Policy of every response: no outside requests, no inline scripts.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds {limit} bytes")


class RequestMiddleware:
    """Request id (``X-Request-ID`` in and out), size limits, headers, access log, 500s.

    *max_body* bounds every request body; paths starting with one of *upload_prefixes*
    may send up to *max_upload* bytes (batch ingest).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int = 1 << 20,
        max_upload: int = 64 << 20,
        upload_prefixes: tuple[str, ...] = ("/v1/ingest/",),
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.upload_prefixes = upload_prefixes

    def _limit(self, path: str) -> int:
        return self.max_upload if path.startswith(self.upload_prefixes) else self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = new_request_id(incoming)
        token = set_request_id(rid)
        scope.setdefault("state", {})["request_id"] = rid
        path = scope.get("path", "")
        limit = self._limit(path)
        status_box = [0]
        started = [False]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                started[0] = True
                status_box[0] = message["status"]
                hs = list(message.get("headers") or [])
                names = {k.lower() for k, _ in hs}
                hs.append((b"x-request-id", rid.encode()))
                hs.extend(h for h in SECURITY_HEADERS if h[0] not in names)
                if b"content-security-policy" not in names:
                    hs.append((b"content-security-policy", CSP.encode()))
                message["headers"] = hs
            await send(message)

        received = [0]

        async def receive_wrapper() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received[0] += len(message.get("body", b""))
                if received[0] > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            declared = headers.get(b"content-length")
            if declared is not None:
                try:
                    n = int(declared)
                except ValueError:
                    n = -1
                if n < 0:
                    await self._reply(send_wrapper, 400, "bad_request", "invalid Content-Length")
                    return
                if n > limit:
                    await self._reply(
                        send_wrapper,
                        413,
                        "payload_too_large",
                        f"request body exceeds {limit} bytes",
                    )
                    return
            await self.app(scope, receive_wrapper, send_wrapper)
        except BodyTooLarge as exc:
            if not started[0]:
                await self._reply(send_wrapper, 413, "payload_too_large", str(exc.detail))
        except Exception:
            log.exception("unhandled error on %s %s (request %s)", scope.get("method"), path, rid)
            if not started[0]:
                await self._reply(
                    send_wrapper, 500, "internal_error", "the server could not complete the request"
                )
        finally:
            ms = (time.perf_counter() - t0) * 1000
            key = scope["state"].get("key_id", "-")
            access_log.info(
                "%s %s %s %.1fms key=%s rid=%s",
                scope.get("method"),
                path,
                status_box[0],
                ms,
                key,
                rid,
            )
            reset_request_id(token)

    @staticmethod
    async def _reply(send: Send, status: int, code: str, message: str) -> None:
        body = json.dumps(error_payload(status, code, message)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
