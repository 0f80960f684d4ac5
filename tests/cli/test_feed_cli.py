"""``communitok feed …`` through a real subprocess on a tiny simulated store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BIN = [sys.executable, "-m", "communitok.cli.app"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BIN, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from communitok.core.settings import load_settings
    from communitok.engine import open_engine
    from communitok.engine.simulation import ingest_simulation
    from communitok.simulate import SimConfig

    tmp = tmp_path_factory.mktemp("feedcli")
    path = tmp / "s.duckdb"
    with open_engine(load_settings(env={}, store=str(path), rejects_dir=str(tmp))) as eng:
        ingest_simulation(eng, SimConfig.preset("tiny", seed=2))
    return path


def test_feed_show_prints_items_with_why(store: Path) -> None:
    r = run("feed", "show", "u0000", "--k", "5", "--store", str(store), cwd=store.parent)
    assert r.returncode == 0, r.stderr
    assert "u0000" in r.stdout and "why" in r.stdout
    assert "because you watched" in r.stdout or "popular" in r.stdout


def test_feed_user_shortcut_json_and_cold_start(store: Path) -> None:
    r = run("feed", "nobody-here", "-k", "4", "--json", "--store", str(store), cwd=store.parent)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["viewer_id"] == "nobody-here" and out["cold_start"] is True
    assert len(out["items"]) == 4 and all(i["why"] for i in out["items"])
    # `feed show` ran as a recorded training run
    r = run("status", "--json", "--store", str(store), cwd=store.parent)
    assert any(
        x["kind"] == "feed-train" and x["status"] == "ok" for x in json.loads(r.stdout)["runs"]
    )


def test_feed_errors_have_exit_codes(store: Path) -> None:
    r = run("feed", "show", "u0000", "--k", "0", "--store", str(store), cwd=store.parent)
    assert r.returncode == 2 and "'k'" in r.stderr and "Traceback" not in r.stderr
    r = run(
        "feed", "evaluate", "--dataset", "tiktok_rec", "--data", str(store.parent / "missing"),
        cwd=store.parent,
    )  # fmt: skip
    assert r.returncode == 3 and "no such folder" in r.stderr


def test_feed_evaluate_on_the_store(store: Path) -> None:
    r = run("feed", "evaluate", "--json", "--store", str(store), cwd=store.parent)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out["models"]) >= {"most_popular", "ease", "pipeline"}
    assert out["models"]["pipeline"]["ndcg@20"] > out["models"]["most_popular"]["ndcg@20"]
