"""Power / MDE planner and the CUPED feed-experiment read-out."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from communitok.core.errors import InputError, NotFound
from communitok.engine import insights as ei
from communitok.insights import campaign_lift, per_viewer_outcomes
from communitok.insights.cuped import cuped_readout
from communitok.insights.plan import (
    mde,
    mde_curve,
    moments_interval,
    power_at,
    required_viewers,
    se_log_lift,
    viewer_moments,
)

from .conftest import detected_for
from .test_campaign import _arms, _target_events


def test_planner_formulas() -> None:
    se = se_log_lift(1.0, 100, 100)
    assert math.isclose(se, math.sqrt(0.02))
    m = mde(se, alpha=0.05, power=0.8)
    assert math.isclose(m, math.expm1((1.959964 + 0.841621) * se), rel_tol=1e-5)
    assert math.isclose(power_at(se, m), 0.8, abs_tol=1e-3)
    n = required_viewers(1.0, 0.1)
    assert mde(se_log_lift(1.0, n / 2, n / 2)) <= 0.1 < mde(se_log_lift(1.0, n / 2 - 5, n / 2 - 5))
    curve = mde_curve(1.0, [100, 400, 1600]).to_pylist()
    assert [round(r["mde"] / curve[0]["mde"], 2) for r in curve][1] < 0.55  # ~1/√4
    for bad in (lambda: mde(0.0), lambda: mde(0.1, power=1.0), lambda: mde(0.1, alpha=0.7),
                lambda: required_viewers(1.0, 0.0), lambda: required_viewers(1.0, 0.1,
                treated_share=1.0), lambda: se_log_lift(-1, 10, 10),
                lambda: se_log_lift(1, 0, 10)):  # fmt: skip
        with pytest.raises(InputError):
            bad()


def test_viewer_moments_known_variance() -> None:
    rng = np.random.default_rng(0)
    m = rng.integers(1, 20, 20_000)
    a = rng.poisson(0.2 * m)
    mom = viewer_moments(pa.table({"impressions": m, "actions": a}))
    # Poisson actions: Var(a − r m) = r E[m], μ_a = r E[m] → rel_var = 1 / (r E[m])
    assert math.isclose(mom.rate, 0.2, rel_tol=0.02)
    assert math.isclose(mom.rel_var, 1 / (0.2 * m.mean()), rel_tol=0.05)
    # the bootstrap interval of the history's moments holds the known values
    band = moments_interval(pa.table({"impressions": m, "actions": a}), n_boot=200, seed=3)
    assert band.rate_low <= 0.2 <= band.rate_high
    assert band.rel_var_low <= 1 / (0.2 * m.mean()) <= band.rel_var_high
    assert band.rel_var_low < mom.rel_var < band.rel_var_high
    assert band.rel_var_high / band.rel_var_low < 1.2  # 20,000 viewers: a tight interval
    for bad in ({"confidence": 1.0}, {"n_boot": 10}):
        with pytest.raises(InputError):
            moments_interval(pa.table({"impressions": m, "actions": a}), **bad)
    with pytest.raises(InputError):
        viewer_moments(pa.table({"impressions": [1, 2], "actions": [0, 1]}))


def test_planner_predicts_the_campaign_se(small) -> None:
    """The se planned from the window before the campaign matches the bootstrap se of the
    read-out on the campaign itself (same audience, same length)."""
    c = small.truth.campaigns[0]
    ev, arms = _target_events(small), _arms(small)
    r = campaign_lift(per_viewer_outcomes(ev, arms), n_boot=1000, seed=1)
    boot_se = (math.log(r.ci_high + 1) - math.log(r.ci_low + 1)) / (2 * 1.96)
    vt = small.truth.table("video_truth")
    vids = vt.filter(pc.equal(vt["community_id"], c.target_community))["video_id"]
    allev = small.tables["events"].filter(pc.is_in(small.tables["events"]["video_id"], vids))
    ts = pa.timestamp("us", "UTC")
    span = c.end - c.start
    before = allev.filter(pc.and_(pc.greater_equal(allev["ts"], pa.scalar(c.start - span, ts)),
                                  pc.less(allev["ts"], pa.scalar(c.start, ts))))  # fmt: skip
    mom = viewer_moments(per_viewer_outcomes(before, arms))
    planned = se_log_lift(mom.rel_var, r.n_treated, r.n_control)
    assert 0.7 < planned / boot_se < 1.5, (planned, boot_se)


def test_cuped_known_answer() -> None:
    rng = np.random.default_rng(1)
    n = 4000
    x = rng.normal(0, 1, n)
    t = rng.random(n) < 0.5
    y = 2 + 0.8 * x + 0.1 * t + rng.normal(0, 0.6, n)  # ρ² = 0.64 / 1.0
    xs = pa.array(np.where(rng.random(n) < 0.1, np.nan, x), pa.float64(), from_pandas=True)
    tab = pa.table({"variant": np.where(t, "treatment", "control"), "y": y, "x": xs})
    r = cuped_readout(tab).to_pylist()
    assert r[0]["variant"] == "control" and r[0]["diff"] is None
    tr = r[1]
    assert tr["ci_low_cuped"] <= 0.1 <= tr["ci_high_cuped"] and tr["ci_low_cuped"] > 0
    assert 0.45 < tr["variance_reduction"] < 0.7  # 0.64 on the 90 % with history
    assert tr["ci_high_cuped"] - tr["ci_low_cuped"] < tr["ci_high"] - tr["ci_low"]
    with pytest.raises(InputError):
        cuped_readout(tab.drop_columns(["x"]))
    with pytest.raises(InputError):
        cuped_readout(tab, control="baseline")
    with pytest.raises(InputError):
        cuped_readout(tab, confidence=2)


@pytest.fixture
def exp_store(store_path, tmp_path):
    """The small store with an A/A feed experiment: the last week's impressions as
    exposures, viewers bucketed by the feed's hash."""
    from communitok.feed.experiments import EXPOSURE_SCHEMA, Experiment
    from communitok.store import DuckDBStore

    path = tmp_path / "exp.duckdb"
    shutil.copy(store_path, path)
    st = DuckDBStore(path)
    ev = st.query("SELECT viewer_id, video_id, ts FROM events WHERE ts >= "
                  "(SELECT max(ts) FROM events) - INTERVAL 7 DAY")  # fmt: skip
    exp = Experiment("aa", salt="x")
    n = ev.num_rows
    st.put_result("feed_exposures", pa.table({
        "experiment": ["aa"] * n, "variant": [exp.assign(v) for v in ev["viewer_id"].to_pylist()],
        "viewer_id": ev["viewer_id"], "video_id": ev["video_id"],
        "rank": pa.array([1] * n, pa.int32()), "score": pa.nulls(n, pa.float64()),
        "source": pa.nulls(n, pa.string()), "ts": ev["ts"]}, schema=EXPOSURE_SCHEMA))  # fmt: skip
    yield st
    st.close()


def test_experiment_readout(exp_store) -> None:
    rep = ei.experiment_readout(exp_store, "aa", k=50).to_dict()
    ctl, tr = rep["variants"]
    assert ctl["variant"] == "control" and tr["variant"] == "treatment"
    assert min(ctl["n_people"], tr["n_people"]) >= 50
    assert tr["ci_low"] <= 0 <= tr["ci_high"] and tr["ci_low_cuped"] <= 0 <= tr["ci_high_cuped"]
    assert tr["variance_reduction"] > 0  # viewers' engagement persists
    w = ei.experiment_readout(exp_store, "aa", metric="watch_time_s", k=50).to_dict()
    assert w["variants"][1]["diff"] is not None and w["metric"] == "watch_time_s"
    hidden = ei.experiment_readout(exp_store, "aa", k=10**6).to_dict()
    assert hidden["variants"] == [] and hidden["suppressed"] == 2
    with pytest.raises(NotFound):
        ei.experiment_readout(exp_store, "no-such-experiment")
    with pytest.raises(InputError):
        ei.experiment_readout(exp_store, "aa", metric="vibes")
    with pytest.raises(NotFound):
        ei.experiment_readout(exp_store, "aa", control="baseline")


def test_experiment_notes_do_not_count_groups_under_k(exp_store) -> None:
    """Notes are partner-facing too: a group of viewers smaller than k is not counted."""
    from communitok.feed.experiments import EXPOSURE_SCHEMA

    ex = exp_store.read("feed_exposures")
    ex = ex.filter(pc.equal(ex["experiment"], "aa"))
    few = sorted(set(ex["viewer_id"].to_pylist()))[:3]  # 3 viewers see the other variant too
    extra = pa.concat_tables([ex.filter(pc.equal(ex["viewer_id"], v)).slice(0, 1) for v in few])
    flip = pc.if_else(pc.equal(extra["variant"], "control"), "treatment", "control")
    exp_store.append_result("feed_exposures", extra.set_column(1, "variant", flip)
                            .cast(EXPOSURE_SCHEMA))  # fmt: skip
    notes = " ".join(ei.experiment_readout(exp_store, "aa", k=50).notes)
    assert "fewer than k=50 viewers saw more than one variant" in notes, notes
    assert "3 viewers saw" not in notes
    notes1 = " ".join(ei.experiment_readout(exp_store, "aa", k=1).notes)
    assert "3 viewers saw more than one variant" in notes1, notes1


def test_plan_campaign(store, small) -> None:
    cid = detected_for(store, small.truth.community("planttok"))
    p = ei.plan_campaign(store, cid, lift=0.2, k=50).to_dict()
    assert p["status"] == "ok" and p["history"]["n_people"] >= 50
    assert 0 < p["plan"]["mde"] < 1 and 0 < p["plan"]["power_at_lift"] < 1
    mdes = [r["mde"] for r in p["curve"]]
    assert mdes == sorted(mdes, reverse=True)
    assert p["plan"]["viewers_needed"] > 0
    pl = p["plan"]
    assert pl["mde_low"] <= pl["mde"] <= pl["mde_high"] and pl["confidence"] == 0.95
    assert pl["viewers_needed_low"] <= pl["viewers_needed"] <= pl["viewers_needed_high"]
    d = ei.plan_campaign(store, cid, design="did", k=50).to_dict()
    assert d["status"] == "ok" and d["plan"]["se_log"] > 0 and d["plan"]["n_control"] is None
    assert ei.plan_campaign(store, cid, k=10**6).to_dict()["status"] == "abstain"
    for bad in ({"design": "magic"}, {"days": 0}, {"lift": -0.1}, {"reach": 1}):
        with pytest.raises(InputError):
            ei.plan_campaign(store, cid, **bad)
    with pytest.raises(NotFound):
        ei.plan_campaign(store, 987654)


def test_plan_and_experiment_cli(store_path, small, tmp_path) -> None:
    import json

    from typer.testing import CliRunner

    from communitok.cli.app import app
    from communitok.store import DuckDBStore

    with DuckDBStore(store_path) as st:
        cid = detected_for(st, small.truth.community("planttok"))
    run = CliRunner()
    s = ["--store", str(store_path)]
    r = run.invoke(app, ["partner", "plan", str(cid), "--lift", "0.2", "--format", "json", *s])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["plan"]["mde"] > 0
    out = tmp_path / "plan.html"
    r = run.invoke(app, ["partner", "plan", str(cid), "--format", "html", "--out", str(out), *s])
    assert r.exit_code == 0 and "minimum detectable lift" in out.read_text()
    r = run.invoke(app, ["partner", "experiment", "nope", *s])
    assert r.exit_code != 0 and isinstance(r.exception, NotFound)


def test_plan_abstains_instead_of_failing_on_thin_communities(tmp_path) -> None:
    """Every community of a tiny platform gets a plan or an abstention with a reason,
    never an error (communities with no variation in actions per viewer included)."""
    from communitok.engine.communities import detect_communities
    from communitok.simulate import SimConfig, simulate
    from communitok.store import DuckDBStore

    sim = simulate(SimConfig.preset("tiny", seed=0))
    with DuckDBStore(tmp_path / "t.duckdb") as st:
        for name, table in sim.tables.items():
            st.write(name, table)
        detect_communities(st)
        ids = st.read("community_profiles")["community_id"].to_pylist()
        outcomes = set()
        for cid in ids:
            for design in ("randomised", "did"):
                p = ei.plan_campaign(st, cid, design=design, lift=0.1, k=5).to_dict()
                assert p["status"] in ("ok", "abstain")
                assert (p["status"] == "ok") == (not p["reason"]), p
                outcomes.add(p["status"])
        assert "abstain" in outcomes


def test_plan_abstains_when_actions_do_not_vary(store, small, monkeypatch) -> None:
    """A history whose actions per viewer have no variance (seen on tiny platforms:
    every viewer acting the same) cannot scale a test: abstain with the reason."""
    import communitok.engine.insights.plan as plan_mod
    from communitok.insights.plan import ViewerMoments

    cid = detected_for(store, small.truth.community("planttok"))
    real = plan_mod.viewer_moments

    def flat(per):  # the real moments with the variance of a uniform audience
        m = real(per)
        return ViewerMoments(m.n_viewers, m.impressions_per_viewer, m.rate, 0.0)

    monkeypatch.setattr(plan_mod, "viewer_moments", flat)
    p = ei.plan_campaign(store, cid, lift=0.2, k=50).to_dict()
    assert p["status"] == "abstain" and "variation" in p["reason"] and not p["plan"]
