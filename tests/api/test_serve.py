"""`communitok serve`: opens the store, prints the URL and (first start) an admin key,
hands the app to uvicorn on 127.0.0.1:8000 by default."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from communitok.cli.serve import serve


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> tuple[typer.Typer, list[dict[str, Any]]]:
    import uvicorn

    runs: list[dict[str, Any]] = []

    def fake_run(app: Any, **kw: Any) -> None:  # record instead of serving forever
        runs.append({"app": app, **kw})

    monkeypatch.setattr(uvicorn, "run", fake_run)
    app = typer.Typer()
    app.command()(serve)
    return app, runs


def _key(output: str) -> str | None:
    m = re.search(r"(ctk_[0-9a-f]{8}_[A-Za-z0-9_\-]+)", output)
    return m.group(1) if m else None


def test_first_start_prints_url_and_admin_key(cli: Any, tmp_path: Path) -> None:
    app, runs = cli
    store = str(tmp_path / "serve.duckdb")
    res = CliRunner().invoke(app, ["--store", store], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "http://127.0.0.1:8000/" in res.output
    key = _key(res.output)
    assert key and f"#key={key}" in res.output
    assert runs[0]["host"] == "127.0.0.1" and runs[0]["port"] == 8000
    keys = runs[0]["app"].state.api.keys
    assert keys.check(key).scope == "admin"
    # second start: the key is not printed again (only its hash is stored) ...
    res2 = CliRunner().invoke(app, ["--store", store, "--port", "8123"], terminal_width=200)
    assert res2.exit_code == 0 and _key(res2.output) is None
    assert "http://127.0.0.1:8123/" in res2.output and runs[1]["port"] == 8123
    assert runs[1]["app"].state.api.keys.check(key).scope == "admin"
    # ... unless asked for a new one
    res3 = CliRunner().invoke(app, ["--store", store, "--new-admin-key"], terminal_width=200)
    new = _key(res3.output)
    assert new and new != key and runs[2]["app"].state.api.keys.check(new) is not None


def test_app_from_settings_owns_the_store(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from communitok.api import create_app
    from communitok.core.settings import Settings
    from communitok.engine import open_engine

    settings = Settings(store=str(tmp_path / "owned.duckdb"))
    app = create_app(settings)
    with TestClient(app) as c:  # startup opens the engine
        secret, _ = app.state.api.keys.create("analyst")
        r = c.get("/v1/status", headers={"Authorization": f"Bearer {secret}"})
        assert r.status_code == 200 and r.json()["counts"]["videos"] == 0
    assert app.state.api is None  # shutdown closed it: the file is free again
    with open_engine(settings) as eng:
        assert eng.store.has_result("api_keys")
