"""Who may call what: every endpoint × every scope, plus missing, wrong and revoked keys."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from communitok.api import SCOPES

from .helpers import assert_error, auth

ALL = set(SCOPES)
READ = {"admin", "analyst"}
TRENDS = {"admin", "analyst", "partner"}
EVENTS = {"admin", "viewer-service"}

# (method, path, json body, scopes allowed). Bodies of mutating calls are deliberately
# invalid: an allowed scope gets 422 (past the auth check, no work done), a refused one 403.
ENDPOINTS: list[tuple[str, str, Any, set[str]]] = [
    ("GET", "/v1/me", None, ALL),
    ("GET", "/v1/status", None, READ),
    ("GET", "/v1/runs", None, READ),
    ("GET", "/v1/keys", None, {"admin"}),
    ("POST", "/v1/keys", {"scope": "nope"}, {"admin"}),
    ("GET", "/v1/keys/00000000", None, {"admin"}),
    ("DELETE", "/v1/keys/00000000", None, {"admin"}),
    ("POST", "/v1/ingest/videos?format=jsonl", None, {"admin"}),
    ("POST", "/v1/events", {"viewer_id": 1}, EVENTS),
    ("GET", "/v1/trends/discover", None, TRENDS),
    ("GET", "/v1/trends/community:k08@all", None, TRENDS),
    ("POST", "/v1/trends/detect", {"grain": "week"}, READ),
    ("POST", "/v1/trends/forecast", {"days": 0}, READ),
    ("GET", "/v1/cascades", None, READ),
    ("GET", "/v1/cascades/nope", None, READ),
    ("POST", "/v1/cascades/build", {"min_size": 0}, READ),
]


if importlib.util.find_spec("communitok.engine.safety") is not None:
    ENDPOINTS += [
        ("POST", "/v1/safety/classify", {"texts": []}, {"admin", "analyst", "viewer-service"}),
        ("POST", "/v1/safety/classify-stored", {"item_kind": "x"}, READ),
        ("GET", "/v1/safety/queue", None, READ),
        ("GET", "/v1/safety/decisions", None, READ),
        ("POST", "/v1/safety/decisions", {"label": "x"}, READ),
        ("POST", "/v1/safety/reports", {"reason": "x"}, EVENTS),
        ("GET", "/v1/safety/health", None, READ),
        ("GET", "/v1/safety/health/nope", None, READ),
        ("GET", "/v1/safety/partner-health", None, {"admin", "analyst", "partner"}),
    ]


if importlib.util.find_spec("communitok.engine.communities") is not None:
    ENDPOINTS += [
        ("GET", "/v1/communities", None, TRENDS),
        ("GET", "/v1/communities/map", None, TRENDS),
        ("GET", "/v1/communities/bridges", None, READ),
        ("GET", "/v1/communities/history", None, READ),
        ("GET", "/v1/communities/0", None, READ),
        ("POST", "/v1/communities/detect", {"window_days": -1}, READ),
    ]


if importlib.util.find_spec("communitok.engine.feed") is not None:
    SERVE = {"admin", "analyst", "viewer-service"}
    ENDPOINTS += [
        ("GET", "/v1/feed", None, READ),
        ("GET", "/v1/feed/viewers", None, READ),
        ("GET", "/v1/feed/u0001?k=0", None, SERVE),
        ("DELETE", "/v1/feed/" + "x" * 201 + "/session", None, {"admin", "viewer-service"}),
        ("POST", "/v1/feed/train", {"window_days": 0}, READ),
    ]


def _call(client: Any, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS]
)
def test_each_scope_allowed_or_refused(client: Any, keys: dict[str, str], method: str, path: str, body: Any, allowed: set[str]) -> None:  # fmt: skip
    for scope in SCOPES:
        r = _call(client, method, path, body, auth(keys[scope]))
        if scope in allowed:
            assert r.status_code not in (401, 403), (scope, r.text)
        else:
            err = assert_error(r, 403, "forbidden")
            assert scope in err["message"]


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS]
)
def test_no_key_or_bad_key_is_401(client: Any, keys: dict[str, str], method: str, path: str, body: Any, allowed: set[str]) -> None:  # fmt: skip
    err = assert_error(_call(client, method, path, body, {}), 401, "unauthorized")
    assert err["message"] == "missing API key"
    wrong = keys["admin"][:-4] + "AAAA"
    for headers in (auth(wrong), {"X-API-Key": "ctk_zz"}, {"Authorization": "Basic abc"}):
        r = _call(client, method, path, body, headers)
        assert_error(r, 401, "unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"


def test_allowed_calls_succeed(client: Any, as_scope: Any) -> None:
    assert client.get("/v1/me", headers=as_scope("partner")).json()["scope"] == "partner"
    assert client.get("/v1/status", headers=as_scope("analyst")).status_code == 200
    assert client.get("/v1/trends/discover", headers=as_scope("partner")).status_code == 200
    assert client.get("/v1/cascades", headers=as_scope("analyst")).status_code == 200


def test_x_api_key_header_works(client: Any, keys: dict[str, str]) -> None:
    r = client.get("/v1/me", headers={"X-API-Key": keys["viewer-service"]})
    assert r.status_code == 200 and r.json()["scope"] == "viewer-service"


def test_health_needs_no_key(client: Any) -> None:
    r = client.get("/v1/health")
    assert r.status_code == 200
    assert r.json()["features"]["trends"] is True


def test_revoked_key_is_refused(client: Any, app: Any, as_scope: Any) -> None:
    secret, rec = app.state.api.keys.create("analyst", "short-lived")
    assert client.get("/v1/me", headers=auth(secret)).status_code == 200
    r = client.delete(f"/v1/keys/{rec.key_id}", headers=as_scope("admin"))
    assert r.status_code == 200 and r.json()["active"] is False
    assert_error(client.get("/v1/me", headers=auth(secret)), 401, "unauthorized")
