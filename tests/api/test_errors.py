"""One error shape for every error; request ids; size limits; rate limits; no stack traces."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from communitok.api import create_app

from .helpers import GENEROUS, assert_error, auth


def test_unknown_route_and_wrong_method(client: Any, as_scope: Any) -> None:
    assert_error(client.get("/v1/nope", headers=as_scope("admin")), 404, "not_found")
    assert_error(client.get("/nope"), 404, "not_found")
    r = client.put("/v1/status", headers=as_scope("admin"))
    assert_error(r, 405, "method_not_allowed")
    assert "GET" in r.headers["allow"]


def test_validation_errors_name_the_field(client: Any, as_scope: Any) -> None:
    h = as_scope("admin")
    err = assert_error(client.get("/v1/runs?limit=0", headers=h), 422, "invalid_input")
    assert err["details"][0]["loc"] == ["query", "limit"]
    err = assert_error(client.get("/v1/cascades?by=evil", headers=h), 422, "invalid_input")
    assert err["details"][0]["loc"] == ["query", "by"]
    # strict bodies: false is not an int, "1" is not a bool, unknown fields are refused
    err = assert_error(client.post("/v1/cascades/build", json={"min_size": False}, headers=h), 422)
    assert err["details"][0]["loc"] == ["body", "min_size"]
    assert_error(
        client.post(
            "/v1/events", json={"viewer_id": "a", "video_id": "b", "liked": "1"}, headers=h
        ),
        422,
    )
    assert_error(
        client.post("/v1/events", json={"viewer_id": "a", "video_id": "b", "x": 1}, headers=h), 422
    )
    assert_error(client.post("/v1/events", json=["a"], headers=h), 422)


def test_validation_error_does_not_echo_input(client: Any, as_scope: Any) -> None:
    big = "<script>" + "x" * 5000
    r = client.post(
        "/v1/events", json={"viewer_id": big, "video_id": "v"}, headers=as_scope("admin")
    )
    assert_error(r, 422)
    assert "<script>" not in r.text and len(r.text) < 2000


def test_malformed_json_is_400(client: Any, as_scope: Any) -> None:
    h = {**as_scope("admin"), "Content-Type": "application/json"}
    for body in (b"{bad", b'{"viewer_id": "a",', b"\xff\xfe"):
        assert_error(client.post("/v1/events", content=body, headers=h), 400, "malformed_json")


def test_engine_errors_map_to_their_status(client: Any, as_scope: Any) -> None:
    err = assert_error(
        client.get("/v1/cascades/no-such-video", headers=as_scope("analyst")), 404, "not_found"
    )
    assert "no-such-video" in err["message"]
    err = assert_error(
        client.get("/v1/trends/bogus:x@all", headers=as_scope("analyst")), 422, "invalid_input"
    )
    assert err["details"][0]["loc"] == ["path", "trend_id"]
    h = {**as_scope("admin"), "Content-Type": "text/csv"}
    err = assert_error(client.post("/v1/ingest/videos", content=b"", headers=h), 422, "input_error")
    assert err["details"][0]["loc"] == ["body"]


def test_too_large_bodies_are_413(engine: Any, keys: dict[str, str]) -> None:
    app = create_app(engine, rate_limits=GENEROUS, max_body=1000, max_upload=5000, dashboard=False)
    c = TestClient(app, raise_server_exceptions=False)
    h = {**auth(keys["admin"]), "Content-Type": "application/json"}
    err = assert_error(
        c.post("/v1/events", content=b"x" * 1001, headers=h), 413, "payload_too_large"
    )
    assert "1000" in err["message"]
    # without Content-Length (chunked), the limit holds while reading
    chunks = (b"y" * 500 for _ in range(5))
    assert_error(c.post("/v1/events", content=chunks, headers=h), 413, "payload_too_large")
    # uploads have their own, larger limit
    up = {**auth(keys["admin"]), "Content-Type": "application/x-ndjson"}
    assert (
        c.post("/v1/ingest/hashtags", content=b'{"name": "okay"}\n' * 100, headers=up).status_code
        == 200
    )
    assert_error(
        c.post("/v1/ingest/hashtags", content=b'{"name": "okay"}\n' * 400, headers=up), 413
    )
    assert_error(
        c.post("/v1/ingest/hashtags", content=(b"z" * 1000 for _ in range(6)), headers=up), 413
    )


def test_rate_limit_per_key(client: Any, app: Any) -> None:
    secret, _ = app.state.api.keys.create("analyst", "slow", rate_per_s=0.01, burst=2)
    h = auth(secret)
    assert client.get("/v1/me", headers=h).status_code == 200
    assert client.get("/v1/me", headers=h).status_code == 200
    r = client.get("/v1/me", headers=h)
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["retry-after"]) >= 1


def test_failed_auth_attempts_are_rate_limited(engine: Any) -> None:
    app = create_app(engine, anon_rate=(0.01, 3), dashboard=False)
    c = TestClient(app, raise_server_exceptions=False)
    codes = [
        c.get("/v1/me", headers=auth("ctk_00000000_" + "a" * 40)).status_code for _ in range(5)
    ]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]


def test_unexpected_errors_are_500_without_trace(client: Any, as_scope: Any, engine: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(engine, "status", boom)
    with caplog.at_level(logging.ERROR, logger="communitok.api"):
        r = client.get("/v1/status", headers={**as_scope("admin"), "X-Request-ID": "trace-me-1"})
    err = assert_error(r, 500, "internal_error")
    assert "secret" not in r.text and "RuntimeError" not in r.text
    assert err["request_id"] == "trace-me-1"
    assert any("trace-me-1" in getattr(rec, "request_id", "") for rec in caplog.records)


def test_store_errors_hide_their_text(client: Any, as_scope: Any, engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from communitok.core.errors import StoreError

    def broken(*a: Any, **k: Any) -> Any:
        raise StoreError("query failed: SELECT secret FROM x")

    monkeypatch.setattr(engine, "status", broken)
    r = client.get("/v1/status", headers=as_scope("admin"))
    assert_error(r, 503, "store_error")
    assert "SELECT" not in r.text


def test_request_id_echoed_or_generated(client: Any, as_scope: Any) -> None:
    r = client.get("/v1/me", headers={**as_scope("admin"), "X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = client.get("/v1/me", headers={**as_scope("admin"), "X-Request-ID": b"<bad id>" + b"\xe9"})
    rid = r.headers["x-request-id"]
    assert rid != "<bad id>" and len(rid) == 32
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_access_log_has_request_id(
    client: Any, as_scope: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="communitok.api.access"):
        client.get("/v1/me", headers={**as_scope("admin"), "X-Request-ID": "log-me-42"})
    recs = [r for r in caplog.records if r.name == "communitok.api.access"]
    assert any(r.request_id == "log-me-42" and "/v1/me 200" in r.getMessage() for r in recs)


def test_missing_features_answer_501(client: Any, as_scope: Any, app: Any) -> None:
    for feature, path in (("communities", "/v1/communities"), ("feed", "/v1/feed/u1"),
                          ("safety", "/v1/safety/queue"), ("partner", "/v1/partner/match")):  # fmt: skip
        if app.state.features[feature]:
            continue
        assert_error(client.get(path, headers=as_scope("admin")), 501, "not_implemented")


def test_sql_and_script_strings_are_just_data(client: Any, as_scope: Any) -> None:
    h = as_scope("analyst")
    for evil in (
        "'; DROP TABLE videos; --",
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "%00",
    ):
        r = client.get("/v1/cascades", params={"community": evil}, headers=h)
        assert r.status_code == 200 and r.json()["items"] == []
        r = client.get("/v1/trends/discover", params={"scope": evil}, headers=h)
        assert r.status_code == 200 and r.json()["items"] == []
        r = client.get("/v1/runs", params={"kind": evil}, headers=h)
        assert r.status_code == 200
        assert_error(client.get("/v1/cascades/" + evil.replace("/", "%2F"), headers=h), 404)
    assert client.get("/v1/status", headers=h).json()["counts"]["videos"] > 0


def test_repeated_scalar_query_parameter_is_422(client: Any, as_scope: Any) -> None:
    err = assert_error(
        client.get("/v1/cascades?community=a&community=b", headers=as_scope("analyst")), 422
    )
    assert err["details"][0]["loc"] == ["query", "community"]


def test_rate_limiter_memory_is_bounded() -> None:
    from communitok.api.security import RateLimiter

    rl = RateLimiter(max_buckets=100)
    for i in range(1000):
        assert rl.take(f"anon:10.0.{i // 256}.{i % 256}", 1.0, 5) == 0.0
    assert len(rl._buckets) <= 100
