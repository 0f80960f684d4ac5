"""The two-stage protocol (scorer cross-fitted on a later period) on the simulator's
stored events, through :func:`communitok.engine.feed_eval.evaluate_stored`: the same
code as the TikTok benchmark, on data with real timestamps."""

from __future__ import annotations

import pytest

from communitok.core.errors import InputError
from communitok.core.settings import load_settings
from communitok.engine import open_engine
from communitok.engine.feed_eval import evaluate_stored
from communitok.engine.simulation import ingest_simulation
from communitok.simulate import SimConfig


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("two_stage")
    eng = open_engine(load_settings(env={}, store=str(tmp / "s.duckdb"), rejects_dir=str(tmp)))
    ingest_simulation(eng, SimConfig.preset("tiny", seed=1))
    yield eng
    eng.close()


@pytest.mark.slow
def test_two_stage_pipeline_on_stored_events(engine) -> None:
    rep = evaluate_stored(engine, k=20, test_share=0.2, scorer_days=2.0)
    m = rep.models
    assert {"most_popular", "ease", "pipeline", "pipeline_served", "pipeline_two_stage"} == set(m)
    nd = {name: r["ndcg@20"] for name, r in m.items()}
    assert m["pipeline_two_stage"]["n_users"] == m["ease"]["n_users"] > 50
    assert nd["pipeline_two_stage"] > max(nd["most_popular"], nd["ease"])
    assert any(n.startswith("pipeline_two_stage: learned scorer cross-fitted") for n in rep.notes)


def test_two_stage_is_skipped_without_labels_and_checks_its_input(engine) -> None:
    rep = evaluate_stored(engine, k=10, test_share=0.2, scorer_days=1e-9)
    assert "pipeline_two_stage" not in rep.models
    assert any(n.startswith("two-stage skipped") for n in rep.notes)
    for bad in (0, -1.0, True, "2"):
        with pytest.raises(InputError) as e:
            evaluate_stored(engine, scorer_days=bad)  # type: ignore[arg-type]
        assert e.value.field == "scorer_days"
