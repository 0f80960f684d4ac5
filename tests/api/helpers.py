"""Shared helpers of the API and dashboard tests (a tiny store; the error-shape check)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from communitok.api import SCOPES
from communitok.core.settings import Settings
from communitok.engine import open_engine

GENEROUS = {s: (10_000.0, 10_000) for s in SCOPES}


def build_tiny_store(folder: Path) -> Settings:
    """A tiny simulated platform (seed 1) with trends and cascades computed."""
    from communitok.engine.cascades import build_cascades
    from communitok.engine.simulation import ingest_simulation
    from communitok.engine.trends import detect_trends
    from communitok.simulate import SimConfig

    settings = Settings(store=str(folder / "api.duckdb"), rejects_dir=str(folder / "rejects"))
    with open_engine(settings) as eng:
        _, truth = ingest_simulation(eng, SimConfig.preset("tiny", seed=1))
        # the planted membership scopes trends and cascades (the `community_members`
        # result is left to communities detection)
        members = truth.table("video_truth").select(["video_id", "community_id"])
        detect_trends(eng, communities=members, now=getattr(truth, "window_end", None))
        build_cascades(eng, communities=members)
    return settings


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_error(r: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an error in the one shape, with *status* (and *code*)."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) == {"status", "code", "message", "request_id", "details"}
    assert err["status"] == status
    assert err["request_id"] == r.headers["x-request-id"]
    assert "Traceback" not in r.text and 'File "' not in r.text
    if code is not None:
        assert err["code"] == code
    return err  # type: ignore[no-any-return]
