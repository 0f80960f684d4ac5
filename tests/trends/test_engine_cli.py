"""Engine and CLI on the simulator's planted truth, through a real DuckDB store."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from communitok.core.errors import InputError, NotFound
from communitok.core.schema import LOAD_ORDER
from communitok.core.settings import load_settings
from communitok.engine import cascades as ec
from communitok.engine import open_engine
from communitok.engine import trends as et


@pytest.fixture(scope="module")
def sim_store(tmp_path_factory: pytest.TempPathFactory):
    simulate = pytest.importorskip("communitok.simulate")
    r = simulate.simulate(simulate.SimConfig.preset("small", seed=1))
    path = tmp_path_factory.mktemp("trends") / "store.duckdb"
    with open_engine(load_settings(store=str(path))) as eng:
        for name in LOAD_ORDER:
            eng.store.write(name, r.tables[name])
        members = r.truth.table("video_truth").select(["video_id", "community_id"])
        run = et.detect_trends(eng, communities=members, now=r.truth.window_end)
        ec.build_cascades(eng)
    return path, r, run


def engine(path: Path):
    return open_engine(load_settings(store=str(path)))


def test_planted_bursts_and_spillover_are_found(sim_store) -> None:
    _, r, run = sim_store
    got = set(
        zip(*(run.bursts.column(c).to_pylist() for c in ("kind", "item", "scope")), strict=True)
    )
    for b in r.truth.bursts:
        assert (b.item_kind, b.item, b.community) in got
        assert (b.item_kind, b.item, "all") in got
    planted = {(b.item, b.community, s.community) for b in r.truth.bursts for s in b.spilled_into}
    found = set(
        zip(
            *(run.spillover.column(c).to_pylist() for c in ("item", "origin", "target")),
            strict=True,
        )
    )
    assert planted and planted <= found
    assert run.summary()["n_series"] > 100 and run.issues["future_videos"] == 0


def test_results_stored_and_views(sim_store) -> None:
    path, r, _ = sim_store
    with engine(path) as eng:
        names = set(eng.store.result_names())
        assert {
            "trend_bursts",
            "trend_lifecycle",
            "trend_discover",
            "trend_spillover",
            "cascades",
        } <= names
        runs = {x.kind: x for x in eng.store.runs(limit=20)}
        assert (
            runs["trends-detect"].status == "ok" and runs["trends-detect"].summary["n_bursts"] > 0
        )
        top = et.discover_view(eng, top=5)
        assert 0 < top.num_rows <= 5 and top.column("score").to_pylist() == sorted(
            top.column("score").to_pylist(), reverse=True
        )
        b = r.truth.bursts[0]
        d = et.show_trend(eng, f"{b.item_kind}:{b.item}@{b.community}")
        assert d.bursts.num_rows >= 1 and d.series.num_rows > 0 and d.lifecycle.num_rows == 1
        with pytest.raises(NotFound):
            et.show_trend(eng, "hashtag:no-such-tag@all")
        with pytest.raises(InputError):
            et.show_trend(eng, "colour:red@all")


def test_forecast_in_same_run_as_baselines(sim_store) -> None:
    path, _, _ = sim_store
    with engine(path) as eng:
        fr = et.forecast_trends(eng, days=5, top=3, max_series=400)
        assert fr.forecasts.num_rows == 5 * len(set(fr.forecasts.column("trend_id").to_pylist()))
        assert {"naive", "seasonal_naive", "theta"} <= set(fr.backtest["mase_mean"])
        assert set(fr.holdout["coverage"]) == {"0.8", "0.95"}
        assert eng.store.has_result("trend_forecasts")


def test_cascades_match_planted_trees(sim_store) -> None:
    path, r, _ = sim_store
    with engine(path) as eng:
        top = ec.top_cascades(eng, n=5)
        truth = r.truth.table("cascades").sort_by([("size", "descending")]).slice(0, 5)
        assert top.column("size").to_pylist() == truth.column("size").to_pylist()
        assert top.column("cascade_id")[0] == truth.column("root_video_id")[0]
        cid = top.column("cascade_id")[0].as_py()
        d = ec.show_cascade(eng, cid)
        assert d.nodes.num_rows == top.column("size")[0].as_py()
        leaf = d.nodes.column("video_id")[d.nodes.num_rows - 1].as_py()
        assert ec.show_cascade(eng, leaf).metrics.column("cascade_id")[0].as_py() == cid
        pred = ec.predict_cascades(eng, observe_s=86400, tune=False)
        assert pred.num_rows > 100 and "p_double" in pred.column_names
        with pytest.raises(InputError):
            ec.top_cascades(eng, by="colour")


def test_cli_commands(sim_store) -> None:
    from communitok.cli.trends import cascades_app, trends_app

    path, _r, _ = sim_store
    runner = CliRunner()
    res = runner.invoke(trends_app, ["discover", "--store", str(path), "--json", "--top", "3"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert len(rows) == 3
    res = runner.invoke(trends_app, ["show", rows[0]["trend_id"], "--store", str(path)])
    assert res.exit_code == 0 and rows[0]["trend_id"] in res.output
    res = runner.invoke(
        trends_app, ["forecast", rows[0]["trend_id"], "--days", "3", "--store", str(path), "--json"]
    )
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.output)["forecasts"]) == 3
    res = runner.invoke(cascades_app, ["top", "--n", "3", "--store", str(path), "--json"])
    assert res.exit_code == 0 and len(json.loads(res.output)) == 3
    res = runner.invoke(
        cascades_app, ["show", json.loads(res.output)[0]["cascade_id"], "--store", str(path)]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(cascades_app, ["show", "nope", "--store", str(path)])
    assert res.exit_code != 0 and isinstance(res.exception, NotFound)


def test_empty_store(tmp_path: Path) -> None:
    with engine(tmp_path / "e.duckdb") as eng:
        run = et.detect_trends(eng)
        assert run.bursts.num_rows == 0 and run.discover.num_rows == 0
        c = ec.build_cascades(eng)
        assert c.cascades.num_rows == 0
        eng.store.write("videos", pa.table({"video_id": ["a"], "creator_id": ["c"], "created_at": pa.array(
            [4_102_444_800_000_000], pa.int64()).cast(pa.timestamp("us", tz="UTC")), "hashtags": [["x"]]}))  # fmt: skip
        run = et.detect_trends(eng)  # a video from 2100: flagged, ignored
        assert run.issues["future_videos"] == 1 and run.n_series == 0
        assert pc.sum(run.bursts.column("weight")).as_py() is None
