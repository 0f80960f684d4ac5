"""Non-randomised campaigns: difference-in-differences and synthetic control recover the
planted lift of a campaign that exposed a whole community; placebos stay null."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from communitok.core.errors import InputError
from communitok.insights.causal import Panel, causal_lift, default_pre_start
from communitok.simulate import SimConfig, simulate

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def exposed():
    """A small platform whose campaign exposed every viewer of the target community."""
    sim = simulate(SimConfig.preset("small", seed=3, evolution=False,
                                    campaign_design="community", n_comments=200))  # fmt: skip
    c = sim.truth.campaigns[0]
    vt = sim.truth.table("video_truth").select(["video_id", "community_id"])
    ev = sim.tables["events"].join(vt, "video_id").rename_columns({"community_id": "unit"})
    pre = default_pre_start(c.start, c.end, sim.truth.window_start)
    return sim, c, ev, pre


def test_simulator_plants_a_community_campaign(exposed) -> None:
    sim, c, _, _ = exposed
    assert c.design == "community" and c.n_control_viewers == 0
    assert c.n_treated_viewers == sim.config.n_viewers
    with pytest.raises(InputError):
        SimConfig.preset("tiny", campaign_design="sometimes")


@pytest.mark.parametrize("estimator", ["did", "synthetic"])
def test_recovers_planted_lift_and_placebo_is_null(exposed, estimator) -> None:
    _, c, ev, pre = exposed
    panel = Panel(ev, c.target_community, start=c.start, end=c.end, pre_start=pre)
    assert panel.n_pre == 7 and panel.units[0] == c.target_community
    r = causal_lift(panel, estimator, n_boot=200, seed=1)
    assert r.status == "ok" and r.ci_low <= c.lift <= r.ci_high and r.ci_low > 0, r
    assert r.n_treated > 1000 and len(r.extra["donors"]) >= 5
    if estimator == "synthetic":
        w = r.extra["weights"]
        assert abs(sum(w.values()) - 1) < 1e-3 and all(x >= 0 for x in w.values())
    # placebo: another community, same days, no campaign
    others = ev.filter(pc.not_equal(ev["unit"], c.target_community))
    unit = sorted(set(others["unit"].to_pylist()))[0]
    p = causal_lift(Panel(others, unit, start=c.start, end=c.end, pre_start=pre), estimator,
                    n_boot=200, seed=1)  # fmt: skip
    assert p.status == "ok" and p.ci_low <= 0 <= p.ci_high, p


def test_abstains_and_validates(exposed) -> None:
    _, c, ev, pre = exposed
    thin = Panel(ev, c.target_community, start=c.start, end=c.end, pre_start=pre,
                 min_impressions=10**7)  # fmt: skip
    r = causal_lift(thin, "did", n_boot=100)
    assert r.status == "abstain" and "fewer than" in r.reason and r.lift is None
    short = Panel(ev, c.target_community, start=c.start, end=c.end,
                  pre_start=c.start - timedelta(hours=12))  # fmt: skip
    assert causal_lift(short, "synthetic", n_boot=100).status == "abstain"
    panel = Panel(ev, c.target_community, start=c.start, end=c.end, pre_start=pre)
    for bad in ({"estimator": "magic"}, {"confidence": 1.0}, {"n_boot": 5}, {"min_donors": 1},
                {"weights": "magic"}):  # fmt: skip
        with pytest.raises(InputError):
            causal_lift(panel, **{"estimator": "did", **bad})
    with pytest.raises(InputError):
        Panel(ev, c.target_community, start=c.end, end=c.start, pre_start=pre)
    with pytest.raises(InputError):
        Panel(ev, "no-such-unit", start=c.start, end=c.end, pre_start=pre)
    with pytest.raises(InputError):
        Panel(ev.drop_columns(["liked"]), c.target_community, start=c.start, end=c.end,
              pre_start=pre)  # fmt: skip


def _known_panel(rng: np.random.Generator, units: int = 8, days: int = 14, per_day: int = 120):
    """Events of communities with constant, known action rates (no shocks, no campaign):
    each impression a like with probability rate × the viewer's propensity."""
    n = units * days * per_day
    u = np.repeat(np.arange(units), days * per_day)
    day = np.tile(np.repeat(np.arange(days), per_day), units)
    viewer = rng.integers(0, 500, n)
    p = np.minimum(rng.uniform(0.1, 0.3, units)[u] * rng.gamma(2.0, 0.5, 500)[viewer], 0.95)
    us = (day * 86_400 + rng.integers(0, 86_000, n)) * 1_000_000 + int(T0.timestamp() * 1e6)
    no = np.zeros(n, bool)
    return pa.table({"unit": pa.array(u.astype(str)), "viewer_id": viewer,
                     "video_id": u * 1000 + rng.integers(0, 40, n),
                     "ts": pa.array(us, pa.timestamp("us", "UTC")), "liked": rng.random(n) < p,
                     "shared": no, "commented": no, "followed": no})  # fmt: skip


@pytest.mark.parametrize("estimator", ["did", "synthetic"])
def test_sampling_interval_is_calibrated_on_known_rates(estimator) -> None:
    """No campaign and no community shocks: the sampling interval alone (placebo off)
    should cover the null about 95 % of the time and its z-scores have spread ~1 (the
    synthetic control's donor weights are held fixed in the bootstrap)."""
    rng = np.random.default_rng(7)
    z = []
    for i in range(60):
        panel = Panel(_known_panel(rng), "0", start=T0 + timedelta(days=7),
                      end=T0 + timedelta(days=14), pre_start=T0)  # fmt: skip
        r = causal_lift(panel, estimator, n_boot=100, placebo=False, seed=i)
        assert r.status == "ok" and r.extra["se_log_shocks"] == 0
        z.append(np.log1p(r.lift) / r.extra["se_log_sampling"])
    z_arr = np.array(z)
    assert np.mean(np.abs(z_arr) < 1.96) >= 0.88
    assert 0.75 <= np.sqrt(np.mean(z_arr**2)) <= 1.25
