"""Engine wiring (store in, result tables out, stable ids) and the CLI sub-app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from communitok.core.errors import InputError, NotFound
from communitok.engine import communities as ec

TABLES = ("creators", "videos", "events", "comments", "cocreation_links")


@pytest.fixture
def filled(duck, tiny_sim):
    for name in TABLES:
        duck.write(name, tiny_sim.tables[name])
    return duck


def test_detect_stores_results_with_a_run(filled) -> None:
    s = ec.detect_communities(filled, window_days=4.0)
    assert s.communities >= 5 and s.windows >= 3
    for name in ec.RESULTS:
        assert filled.has_result(name), name
    run = filled.runs(kind="communities")[0]
    assert run.status == "ok" and run.summary["communities"] == s.communities
    top = ec.list_communities(filled, limit=3)
    assert top.num_rows == 3
    views = top["views"].to_pylist()
    assert views == sorted(views, reverse=True)
    view = ec.show_community(filled, top["community_id"][0].as_py())
    assert view["lingo"] and view["members"]["hashtag"] and view["profile"]
    hist, ev = ec.community_history(filled)
    assert hist.num_rows > 0 and ev.num_rows > 0
    assert ec.list_bridges(filled).num_rows == filled.read("bridges").num_rows


def test_ids_are_stable_across_runs(filled) -> None:
    ec.detect_communities(filled, window_days=None)
    first = {r["name"]: r["community_id"] for r in filled.read("communities").to_pylist()}
    ec.detect_communities(filled, window_days=None)
    second = {r["name"]: r["community_id"] for r in filled.read("communities").to_pylist()}
    same = [n for n in first if n in second]
    assert same and all(first[n] == second[n] for n in same)


def test_engine_errors(duck) -> None:
    with pytest.raises(InputError, match="no videos"):
        ec.detect_communities(duck)
    with pytest.raises(NotFound):
        ec.list_communities(duck)
    with pytest.raises(InputError):
        ec.detect_communities(duck, window_days=0)


def test_failed_run_is_recorded(filled, monkeypatch) -> None:
    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(ec, "find_communities", boom)
    with pytest.raises(RuntimeError):
        ec.detect_communities(filled)
    assert filled.runs(kind="communities")[0].status == "failed"


def test_cli_commands(tmp_path: Path, tiny_sim) -> None:
    from communitok.cli.communities import app
    from communitok.store import DuckDBStore

    path = str(tmp_path / "c.duckdb")
    with DuckDBStore(path) as st:
        for name in TABLES:
            st.write(name, tiny_sim.tables[name])
    run = CliRunner()
    r = run.invoke(app, ["list", "--store", path])
    assert isinstance(r.exception, NotFound)
    r = run.invoke(app, ["detect", "--store", path, "--window-days", "4", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["communities"] >= 5
    r = run.invoke(app, ["list", "--store", path, "--json"])
    rows = json.loads(r.output)
    assert r.exit_code == 0 and rows[0]["name"]
    cid = str(rows[0]["community_id"])
    for args in (["show", cid], ["bridges"], ["history"], ["list"], ["show", cid, "--json"]):
        r = run.invoke(app, [*args, "--store", path])
        assert r.exit_code == 0, (args, r.output)
    r = run.invoke(app, ["show", "987654", "--store", path])
    assert isinstance(r.exception, NotFound)
    r = run.invoke(app, ["detect", "--store", path, "--resolution", "abc"])
    assert isinstance(r.exception, InputError)
