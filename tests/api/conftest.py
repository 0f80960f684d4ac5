"""API test fixtures: one tiny simulated store (trends and cascades computed once),
one app over it, one key per scope, and a TestClient that never raises server errors
(a 500 must come back as a response in the error shape)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient

from communitok.api import SCOPES, create_app
from communitok.core.settings import Settings
from communitok.engine import Engine, open_engine

from .helpers import GENEROUS, auth, build_tiny_store


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The tiny store as built (never opened again: copy it with ``fresh_settings``)."""
    return build_tiny_store(tmp_path_factory.mktemp("api-pristine"))


@pytest.fixture(scope="session")
def fresh_settings(pristine: Settings, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``fresh_settings()`` → settings of a new copy of the tiny store."""

    def make() -> Settings:
        folder = tmp_path_factory.mktemp("api-store")
        shutil.copy(pristine.store, folder / "api.duckdb")
        return pristine.with_(store=str(folder / "api.duckdb"), rejects_dir=str(folder / "rejects"))

    return make


@pytest.fixture(scope="session")
def tiny_settings(fresh_settings: Any) -> Settings:
    return fresh_settings()  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def engine(tiny_settings: Settings) -> Iterator[Engine]:
    eng = open_engine(tiny_settings)
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def app(engine: Engine) -> Any:
    return create_app(engine, rate_limits=GENEROUS, anon_rate=(10_000.0, 10_000))


@pytest.fixture(scope="session")
def keys(app: Any) -> dict[str, str]:
    """One secret key per scope."""
    return {s: app.state.api.keys.create(s, f"test {s}")[0] for s in SCOPES}


@pytest.fixture(scope="session")
def client(app: Any) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def as_scope(keys: dict[str, str]) -> Any:
    """``as_scope("analyst")`` → headers carrying that scope's key."""
    return lambda scope: auth(keys[scope])
