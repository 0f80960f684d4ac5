"""Scheduled feed retraining: refits on time, swaps the serving feed, survives failures."""

from __future__ import annotations

import threading
import time

import pytest

from communitok.core.errors import InputError
from communitok.engine import feed as ef
from communitok.engine import open_engine
from communitok.engine.feed_schedule import FeedRetrainer
from communitok.engine.simulation import ingest_simulation
from communitok.simulate import SimConfig


@pytest.fixture(scope="module")
def engine():
    eng = open_engine(store=":memory:")
    ingest_simulation(eng, SimConfig.preset("tiny", seed=5))
    yield eng
    eng.close()


def test_rejects_bad_periods(engine) -> None:
    for bad in (0, -1, float("nan"), "1", True):
        with pytest.raises(InputError):
            FeedRetrainer(engine, bad)  # type: ignore[arg-type]


def test_runs_on_schedule_and_stops(engine) -> None:
    calls: list[float] = []
    flushed: list[int] = []
    done = threading.Event()

    def train(_eng) -> None:
        calls.append(time.monotonic())
        if len(calls) >= 3:
            done.set()

    r = FeedRetrainer(engine, 0.05, train=train, before=lambda: flushed.append(1)).start()
    assert done.wait(10), r.stats()
    r.stop()
    n = len(calls)
    time.sleep(0.2)
    assert len(calls) == n  # stopped means stopped
    assert r.runs == n >= 3 and len(flushed) == n and r.failures == 0


def test_a_failed_fit_keeps_the_old_feed_serving(engine) -> None:
    old = ef.train_feed(engine)

    def broken(_eng) -> None:
        raise RuntimeError("disk full")

    r = FeedRetrainer(engine, 3600, train=broken)
    assert r.run_once() is False
    assert r.failures == 1 and "disk full" in (r.last_error or "")
    assert ef.feed_service(engine, train=False) is old
    viewer = engine.store.read("viewers", ["viewer_id"], limit=1)["viewer_id"][0].as_py()
    assert len(old.recommend(viewer, k=5).items) == 5


def test_real_refit_swaps_the_service(engine) -> None:
    old = ef.train_feed(engine)
    r = FeedRetrainer(engine, 3600)
    assert r.run_once() is True and r.runs == 1 and r.last_seconds is not None
    new = ef.feed_service(engine, train=False)
    assert new is not old
    viewer = engine.store.read("viewers", ["viewer_id"], limit=1)["viewer_id"][0].as_py()
    assert len(new.recommend(viewer, k=5).items) == 5


def test_closing_the_engine_writes_the_buffered_exposure_log(tmp_path) -> None:
    path = tmp_path / "s.duckdb"
    with open_engine(store=str(path)) as eng:
        ingest_simulation(eng, SimConfig.preset("tiny", seed=6))
        svc = ef.train_feed(eng, save=False)
        viewers = eng.store.read("viewers", ["viewer_id"], limit=3)["viewer_id"].to_pylist()
        served = sum(len(svc.recommend(v, k=4).items) for v in viewers)
        assert served == 12
    # the engine's close hook flushed the writer before the store closed
    with open_engine(store=str(path)) as eng:
        assert ef.exposures(eng.store).num_rows == served
