"""The feed through the engine, on the tiny simulated platform (planted viewer interests)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from communitok.core.errors import InputError, NotFound
from communitok.core.settings import load_settings
from communitok.core.timeutil import utcnow
from communitok.engine import open_engine
from communitok.engine.feed import (
    drop_feed_service,
    exposures,
    feed_service,
    load_feed,
    observe_event,
    refresh_visibility_labels,
    show_feed,
    train_feed,
)
from communitok.engine.feed_eval import benchmark_feed, evaluate_stored
from communitok.engine.feed_log import ExposureLog
from communitok.engine.simulation import ingest_simulation
from communitok.feed import EXPOSURE_SCHEMA, Experiment, FeedConfig, StageSpec, VisibilityFilter
from communitok.simulate import SimConfig

#: a cheap configuration for the tests that train several times
SMALL = FeedConfig(
    sources=(
        StageSpec("ease", {"l2": 20.0}, n=50),
        StageSpec("popular", {}, n=20),
        StageSpec("trending", {}, n=20),
        StageSpec("community", {}, n=20),
        StageSpec("explore", {}, n=10),
    ),
    rerank={"diversity": 0.1},
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """A tiny simulated platform in a store, with communities detected (when the
    communities engine is installed), and the feed trained with the default config."""
    tmp = tmp_path_factory.mktemp("feed")
    eng = open_engine(load_settings(env={}, store=str(tmp / "s.duckdb"), rejects_dir=str(tmp)))
    _, truth = ingest_simulation(eng, SimConfig.preset("tiny", seed=1))
    try:
        from communitok.engine.communities import detect_communities
    except ImportError:
        pass
    else:
        detect_communities(eng.store, window_days=None)
    svc = train_feed(eng)
    yield eng, truth, svc
    eng.close()


def planted(truth) -> tuple[dict[str, str], dict[str, set[str]], dict[str, float]]:
    """(video → planted community, viewer → planted communities, viewer → top weight)."""
    video = truth.video_community()
    t = truth.table("viewer_interests")
    interests: dict[str, set[str]] = {}
    top: dict[str, float] = {}
    for v, c, late, w in zip(
        t["viewer_id"].to_pylist(),
        t["community_id"].to_pylist(),
        t["late_community_id"].to_pylist(),
        t["weight"].to_pylist(),
        strict=True,
    ):
        interests.setdefault(v, set()).update(x for x in (c, late) if x)
        top[v] = max(top.get(v, 0.0), w)
    return video, interests, top


def test_planted_viewers_get_their_communities(world) -> None:
    _, truth, svc = world
    video, interests, top = planted(truth)
    it = svc.control.ctx_.interactions
    hist = np.asarray(it.matrix.getnnz(axis=1))
    viewers = [
        str(v)
        for v, h in zip(it.viewer_ids, hist, strict=True)
        if h >= 10 and top.get(str(v), 0) >= 0.6
    ][:12]
    assert len(viewers) >= 5
    popular = svc.recommend("someone-new", 10, log_exposure=False, mark_served=False)
    shares, base = [], []
    for v in viewers:
        f = svc.recommend(v, 10, log_exposure=False, mark_served=False)
        assert len(f.items) == 10 and not f.cold_start
        assert all(i.why for i in f.items)
        main = [i.video_id for i in f.items if not i.exploration]
        shares.append(np.mean([video.get(x) in interests[v] for x in main]))
        base.append(np.mean([video.get(x) in interests[v] for x in popular.video_ids]))
    assert np.mean(shares) >= 0.6
    assert np.mean(shares) > np.mean(base) + 0.25


def test_not_interested_removes_the_creator_from_the_next_feed(world) -> None:
    _, _, svc = world
    viewer = str(svc.control.ctx_.interactions.viewer_ids[3])
    first = svc.recommend(viewer, 10, log_exposure=False)
    target = first.items[0]
    assert target.creator_id
    res = svc.observe({"viewer_id": viewer, "video_id": target.video_id, "not_interested": True})
    assert res and res.applied and res.reason == ""
    nxt = svc.recommend(viewer, 10, log_exposure=False)
    assert len(nxt.items) == 10
    assert all(i.creator_id != target.creator_id for i in nxt.items)
    # served videos are not served again
    assert not set(first.video_ids) & set(nxt.video_ids)


def test_events_with_unknown_videos_are_ignored_with_a_reason(world) -> None:
    eng, _, svc = world
    res = svc.observe({"viewer_id": "u0000", "video_id": "not-a-video", "liked": True})
    assert not res and "unknown video" in res.reason
    for bad in ({"video_id": "v0001"}, {"viewer_id": "u0000"}, {"viewer_id": "", "video_id": "x"}):
        with pytest.raises(InputError):
            svc.observe(bad)
    # the API's event hook: the engine's kept service takes the event
    assert observe_event(eng, {"viewer_id": "hook-viewer", "video_id": "v0001"}) is True
    assert svc.sessions.get("hook-viewer") is not None


def test_unknown_viewer_gets_a_cold_start_feed(world) -> None:
    eng, truth, svc = world
    f = svc.recommend("brand-new-viewer", 10, log_exposure=False, mark_served=False)
    assert f.cold_start and len(f.items) == 10 and all(i.why for i in f.items)
    if not svc.labels.label_of:
        pytest.skip("no community results: onboarding needs communities")
    video, _, _ = planted(truth)
    booktok = truth.community("booktok").id
    g = show_feed(eng, "another-new-viewer", 8, interests=["booktok"])
    assert g.cold_start and g.interests and all("booktok" in x for x in g.interests)
    assert np.mean([video.get(v) == booktok for v in g.video_ids]) >= 0.5
    assert any(i.community_id is not None and "booktok" in i.why for i in g.items)
    # unknown interests are ignored: trending instead
    h = svc.recommend("third-new-viewer", 5, interests=["no-such-thing"], log_exposure=False)
    assert h.interests == () and len(h.items) == 5


def test_k_is_validated(world) -> None:
    _, _, svc = world
    for bad in (0, -3, 2.5, True, "5"):
        with pytest.raises(InputError) as e:
            svc.recommend("u0000", bad, log_exposure=False)  # type: ignore[arg-type]
        assert e.value.field == "k"
    with pytest.raises(InputError):
        svc.recommend("u0000", 10**6, log_exposure=False)
    big = svc.recommend("u0000", svc.max_k, log_exposure=False, mark_served=False)
    assert len(big.items) == len(set(big.video_ids)) <= svc.n_videos
    with pytest.raises(InputError):
        svc.recommend("", 5)
    with pytest.raises(InputError):
        svc.recommend("u0000", 5, interests="booktok")  # type: ignore[arg-type]


def test_ab_assignment_is_deterministic_and_exposures_are_stored(world) -> None:
    eng, _, _ = world
    exp = Experiment("diversity-test", (("control", 0.5), ("treatment", 0.5)), salt="s1")
    treatment = FeedConfig(
        sources=SMALL.sources, rerank={"diversity": 0.5, "creator_cap": 1}, seed=SMALL.seed
    )
    try:
        svc = train_feed(
            eng, variants={"control": SMALL, "treatment": treatment}, experiment=exp, flush_rows=7
        )
        ids = [f"ab-{i}" for i in range(200)]
        first = [svc.variant_of(v) for v in ids]
        assert first == [svc.variant_of(v) for v in ids]
        assert first == [Experiment(exp.name, exp.variants, exp.salt).assign(v) for v in ids]
        assert 60 < first.count("treatment") < 140
        before = exposures(eng.store).num_rows
        served = {}
        for v in ids[:6]:
            f = svc.recommend(v, 5)
            assert f.variant == svc.variant_of(v) and f.experiment == "diversity-test"
            served[v] = f
        svc.flush_exposures()
        log = exposures(eng.store)
        assert log.num_rows == before + 30
        mine = log.filter(pa.compute.equal(log["experiment"], "diversity-test")).to_pylist()
        for row in mine:
            assert row["variant"] == served[row["viewer_id"]].variant
            assert row["video_id"] == served[row["viewer_id"]].video_ids[row["rank"] - 1]
        run = eng.store.runs(kind="feed-train")[0]
        assert run.status == "ok" and run.input_fingerprint and run.seed == eng.settings.seed
        assert set(run.params["variants"]) == {"control", "treatment"}
    finally:
        drop_feed_service(eng)
    with pytest.raises(NotFound):
        feed_service(eng, train=False)


def test_visibility_labels_filter_the_feed(world) -> None:
    eng, _, _ = world
    svc = train_feed(eng, config=SMALL)
    try:
        before = svc.recommend("u0002", 6, log_exposure=False, mark_served=False)
        hidden = before.video_ids[:2]
        eng.store.put_result(
            "visibility",
            pa.table(
                {
                    "item_kind": ["video", "video", "comment"],
                    "item_id": [*hidden, "c1"],
                    "label": ["hidden", "needs_review", "hidden"],
                }
            ),
        )
        assert refresh_visibility_labels(eng) == 2
        after = svc.recommend("u0002", 6, log_exposure=False, mark_served=False)
        assert len(after.items) == 6 and not set(hidden) & set(after.video_ids)
        # a new training run reads the labels from the store too
        again = train_feed(eng, config=SMALL)
        assert again.info["inputs"]["visibility_labels"] == 2
        assert not set(hidden) & set(again.recommend("u0002", 6, log_exposure=False).video_ids)
    finally:
        eng.store.put_result("visibility", pa.table({"item_kind": pa.array([], pa.string()),
                                                     "item_id": pa.array([], pa.string()),
                                                     "label": pa.array([], pa.string())}))  # fmt: skip
        drop_feed_service(eng)


def test_learned_scorer_on_a_later_window(world) -> None:
    eng, _, _ = world
    cfg = FeedConfig(
        sources=SMALL.sources,
        scorer=StageSpec("learned", {"max_iter": 30, "min_samples_leaf": 10}),
    )
    svc = train_feed(eng, config=cfg, scorer_days=3, keep=False)
    info = svc.info["variants"]["control"]
    assert info["scorer"] == "learned" and info["scorer_targets"] > 0
    assert len(svc.recommend("u0000", 10, log_exposure=False).items) == 10
    with pytest.raises(InputError):
        train_feed(eng, config=cfg, scorer_days=100, keep=False)


def test_empty_store_serves_empty_feeds(tmp_path: Path) -> None:
    with open_engine(load_settings(env={}, store=str(tmp_path / "e.duckdb"))) as eng:
        svc = train_feed(eng)
        f = svc.recommend("anyone", 10)
        assert f.items == () and f.cold_start
        assert not svc.observe({"viewer_id": "anyone", "video_id": "v1"})
        assert any("empty catalogue" in n for n in svc.info["notes"])
        with pytest.raises(InputError):
            evaluate_stored(eng)


def test_offline_evaluation_and_benchmark_on_the_store(world) -> None:
    eng, _, svc = world
    rep = evaluate_stored(eng, k=20, test_share=0.2)
    m = rep.models
    assert set(m) == {"most_popular", "ease", "pipeline", "pipeline_served"}
    assert rep.split["test_viewers"] > 50
    assert m["pipeline"]["ndcg@20"] > m["most_popular"]["ndcg@20"]
    assert m["pipeline"]["ndcg@20"] > m["ease"]["ndcg@20"]
    assert m["pipeline_served"]["intra_list_diversity"] > m["pipeline"]["intra_list_diversity"]
    res = benchmark_feed(svc, requests=20, k=10)
    assert res["requests"] == 20 and res["real_time"]["share_reflected"] == 1.0
    assert {"p50_ms", "p99_ms"} <= set(res["latency"]["recommend"])
    assert not any(k.startswith("bench-rt") for k in svc.sessions._states)


def test_everything_filtered_falls_back_never_empty(world) -> None:
    _, _, svc = world
    cat = svc.control.ctx_.catalogue
    keep = set(cat.video_ids[:3].tolist())
    labels = {v: "hidden" for v in cat.video_ids.tolist() if v not in keep}
    old = svc.visibility
    try:
        svc.set_visibility(VisibilityFilter(labels))
        f = svc.recommend("u0001", 10, log_exposure=False, mark_served=False)
        assert f.items and set(f.video_ids) <= keep  # the visible ones not yet seen
        g = svc.recommend("nobody-yet", 10, log_exposure=False, mark_served=False)
        assert set(g.video_ids) == keep
        # the viewer rejects all three: suppressions relax before the feed goes empty
        for v in keep:
            svc.observe({"viewer_id": "picky", "video_id": v, "not_interested": True})
        assert svc.recommend("picky", 5, log_exposure=False, mark_served=False).items
    finally:
        svc.set_visibility(old)


def test_saved_model_is_loaded_instead_of_retrained(tmp_path: Path) -> None:
    settings = load_settings(env={}, store=str(tmp_path / "p.duckdb"), rejects_dir=str(tmp_path))
    with open_engine(settings) as eng:
        ingest_simulation(eng, SimConfig.preset("tiny", seed=2))
        first = train_feed(eng, config=SMALL)
        assert first.info["saved_to"] and (tmp_path / "p.duckdb.feed" / "model.json").is_file()
        runs = len(eng.store.runs(kind="feed-train"))
        again = train_feed(eng, config=SMALL)
        assert again.info["loaded_from"] and again.info["run_id"] == first.info["run_id"]
        assert len(eng.store.runs(kind="feed-train")) == runs  # nothing retrained
        for v in ("u0001", "u0002", "newcomer"):
            a = first.recommend(v, 8, log_exposure=False, mark_served=False)
            b = again.recommend(v, 8, log_exposure=False, mark_served=False)
            assert a.video_ids == b.video_ids and [i.why for i in a.items] == [
                i.why for i in b.items
            ]
        # another configuration is another model: retrained (and saved)
        other = FeedConfig(sources=SMALL.sources, rerank={"diversity": 0.3}, seed=SMALL.seed)
        assert "loaded_from" not in train_feed(eng, config=other).info
        assert len(eng.store.runs(kind="feed-train")) == runs + 1
        # reuse=False always retrains
        assert "loaded_from" not in train_feed(eng, config=other, reuse=False).info
    # a restart (new process, same store) loads it; new data makes it stale
    with open_engine(settings) as eng:
        runs = len(eng.store.runs(kind="feed-train"))
        assert load_feed(eng) is None  # the saved model is not the default one: never trains
        with pytest.raises(NotFound):
            train_feed(eng, train=False)
        assert len(eng.store.runs(kind="feed-train")) == runs
        assert train_feed(eng, config=other, train=False).info.get("loaded_from")
        ev = eng.store.read("events", limit=1).to_pylist()[0]
        eng.store.write("events", pa.Table.from_pylist([{**ev, "viewer_id": "late-viewer"}]))
        assert "loaded_from" not in train_feed(eng, config=other).info
        # an unreadable model is ignored (retrained), never an error
        for f in (tmp_path / "p.duckdb.feed").glob("*.npz"):
            f.write_bytes(b"not an archive")
        assert "loaded_from" not in train_feed(eng, config=other).info
        drop_feed_service(eng)


def test_models_dir_keeps_the_feed_of_a_store_that_is_not_a_file(tmp_path: Path) -> None:
    """An in-memory store (like PostgreSQL: no file to save beside) saves nothing by
    default; with the ``models_dir`` setting its trained feed is saved there and loaded
    by the next engine instead of retraining."""
    from communitok.engine.feed_models import model_dir

    plain = load_settings(env={}, store=":memory:", rejects_dir=str(tmp_path))
    with open_engine(plain) as eng:
        ingest_simulation(eng, SimConfig.preset("tiny", seed=2))
        assert model_dir(eng.store) is None
        assert train_feed(eng, config=SMALL).info.get("saved_to") is None
        drop_feed_service(eng)
    folder = tmp_path / "models"
    settings = load_settings(
        env={"COMMUNITOK_MODELS_DIR": str(folder)}, store=":memory:", rejects_dir=str(tmp_path)
    )
    assert settings.models_dir == str(folder)
    with open_engine(settings) as eng:
        ingest_simulation(eng, SimConfig.preset("tiny", seed=2))
        first = train_feed(eng, config=SMALL)
        assert first.info["saved_to"] == str(folder.resolve())
        assert (folder / "model.json").is_file()
        drop_feed_service(eng)
    with open_engine(settings) as eng:  # a new engine on the same data: loaded
        ingest_simulation(eng, SimConfig.preset("tiny", seed=2))
        again = train_feed(eng, config=SMALL)
        assert again.info.get("loaded_from") == str(folder.resolve())
        a = first.recommend("u0001", 8, log_exposure=False, mark_served=False)
        b = again.recommend("u0001", 8, log_exposure=False, mark_served=False)
        assert a.video_ids == b.video_ids
        drop_feed_service(eng)
    with open_engine(settings) as eng:  # other data in the same folder: retrained
        ingest_simulation(eng, SimConfig.preset("tiny", seed=3))
        assert "loaded_from" not in train_feed(eng, config=SMALL).info
        drop_feed_service(eng)
    with pytest.raises(InputError):
        model_dir(None, 5)  # type: ignore[arg-type]


def test_exposure_log_writes_in_the_background_and_on_close() -> None:
    got: list[pa.Table] = []
    log = ExposureLog(got.append, flush_rows=5, flush_interval=0.05)
    feed = ("exp", "control", "u1", ["v1", "v2", "v3"], [1.0, 0.5, None], ["ease"] * 3, utcnow())
    log.add(feed)
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:  # written by time, off this thread
        time.sleep(0.01)
    assert got and got[0].num_rows == 3 and got[0].schema == EXPOSURE_SCHEMA
    assert got[0]["rank"].to_pylist() == [1, 2, 3]
    log.add(feed)
    log.add(feed)  # 6 rows >= flush_rows: written by size
    log.close()
    assert sum(t.num_rows for t in got) == 9 and log.buffered == 0 and log.logged == 9
    log.add(feed)  # after close: written at once
    assert log.logged == 12


def test_exposure_log_keeps_rows_while_the_sink_fails() -> None:
    state = {"fail": True, "rows": 0}

    def sink(t: pa.Table) -> None:
        if state["fail"]:
            raise OSError("store unavailable")
        state["rows"] += t.num_rows

    log = ExposureLog(sink, flush_rows=2, flush_interval=60, max_rows=4)
    feed = ("exp", "control", "u1", ["v1", "v2"], [None, None], ["popular"] * 2, utcnow())
    log.add(feed)
    assert log.flush() == 0 and log.failures == 1 and log.buffered == 2
    for _ in range(3):
        log.add(feed)
    log.flush()
    assert log.buffered <= 4 and log.dropped >= 2  # bounded: the oldest rows go
    state["fail"] = False
    kept = log.buffered
    assert log.close() == kept and state["rows"] == kept
    for bad in ({"flush_rows": 0}, {"flush_interval": 0}, {"flush_rows": 10, "max_rows": 5}):
        with pytest.raises(InputError):
            ExposureLog(sink, **bad)
