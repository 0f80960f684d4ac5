"""Every engine runs on the PostgreSQL store and gives the answers it gives on DuckDB.

The ``tiny`` simulated platform goes into a DuckDB file and into a fresh PostgreSQL
schema (the server of tests/store/conftest.py); the same sequence of engine calls runs on
both (communities, trends, cascades, safety, the feed, partner insights) and the key
results must agree: the same ids, counts and top items, floats within 1e-6 relative.
The outputs are also checked against the planted platform so that agreement cannot come
from two empty answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest

from communitok.core.settings import load_settings
from communitok.engine import open_engine
from communitok.engine.simulation import ingest_simulation
from communitok.simulate import SimConfig

from .conftest import fresh_schema

#: keys whose values depend on the run, not on the data (ids of runs, wall time, paths)
VOLATILE = {"run_id", "seconds", "loaded_from", "loaded_at", "load_seconds", "saved_to",
            "duration_s", "served_at", "request_id", "generated_at"}  # fmt: skip
REL = 1e-6


# --- comparing outputs -------------------------------------------------------------
def rows(t: pa.Table, *key: str) -> list[dict[str, Any]]:
    """Rows of *t* in a backend-independent order (by *key*, else by every plain column)."""
    cols = list(key) or [
        f.name for f in t.schema if not pa.types.is_nested(f.type) and f.name not in VOLATILE
    ]
    return t.sort_by([(c, "ascending") for c in cols]).to_pylist()


def diff(a: Any, b: Any, path: str = "", ignore: frozenset[str] = frozenset()) -> str | None:
    """Where *a* and *b* differ (floats within :data:`REL`; keys in *ignore* and
    :data:`VOLATILE` skipped), or None."""
    if isinstance(a, pa.Table) or isinstance(b, pa.Table):
        if not (isinstance(a, pa.Table) and isinstance(b, pa.Table)):
            return f"{path}: {type(a).__name__} vs {type(b).__name__}"
        if a.column_names != b.column_names:
            return f"{path}: columns {a.column_names} vs {b.column_names}"
        return diff(rows(a), rows(b), path, ignore)
    if isinstance(a, dict) and isinstance(b, dict):
        keys = set(a) | set(b)
        for k in sorted(keys - VOLATILE - ignore, key=str):
            if k not in a or k not in b:
                return f"{path}.{k}: only on {'duckdb' if k in a else 'postgresql'}"
            d = diff(a[k], b[k], f"{path}.{k}", ignore)
            if d:
                return d
        return None
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = diff(x, y, f"{path}[{i}]", ignore)
            if d:
                return d
        return None
    numbers = isinstance(a, float | int) and isinstance(b, float | int)
    if numbers and (isinstance(a, float) or isinstance(b, float)):
        fa, fb = float(a), float(b)
        same = (math.isnan(fa) and math.isnan(fb)) or math.isclose(
            fa, fb, rel_tol=REL, abs_tol=1e-9
        )
        return None if same else f"{path}: {a!r} vs {b!r}"
    return None if a == b else f"{path}: {a!r} vs {b!r}"
    return None if a == b else f"{path}: {a!r} vs {b!r}"


def agree(duck: Any, pg: Any, *, ignore: tuple[str, ...] = ()) -> None:
    d = diff(duck, pg, ignore=frozenset(ignore))
    assert d is None, f"DuckDB and PostgreSQL differ at {d}"


# --- running every engine on one store -----------------------------------------------------
class Outcomes(dict[str, Any]):
    """Step name → its output, or the exception it raised (re-raised by :meth:`get`)."""

    def step(self, name: str, fn: Callable[[], Any]) -> None:
        try:
            self[name] = fn()
        except Exception as exc:  # each test re-raises its own step's error
            self[name] = exc

    def get(self, name: str) -> Any:  # type: ignore[override]
        out = self[name]
        if isinstance(out, Exception):
            raise out
        return out


def run_engines(store: str, folder: str) -> Outcomes:
    """Ingest ``tiny`` into *store* and run every engine's main entries on it."""
    from communitok.api import privacy
    from communitok.engine import cascades as eca
    from communitok.engine import communities as ec
    from communitok.engine import feed as ef
    from communitok.engine import insights as ei
    from communitok.engine import safety as es
    from communitok.engine import trends as et
    from communitok.insights import Brief

    out = Outcomes()
    eng = open_engine(load_settings(env={}, store=store, rejects_dir=folder))
    try:
        summary, truth = ingest_simulation(eng, SimConfig.preset("tiny", seed=1))
        s = eng.store
        out["truth"] = truth
        out["ingest"] = summary.to_dict()
        out["counts"] = s.counts()
        # communities
        out.step("communities.detect", lambda: ec.detect_communities(s).to_dict())
        out.step("communities.list", lambda: ec.list_communities(s))
        out.step("communities.show", lambda: [ec.show_community(s, c) for c in _ids(s)])
        out.step("communities.bridges", lambda: ec.list_bridges(s))
        out.step("communities.history", lambda: ec.community_history(s))
        out.step(
            "communities.results", lambda: {n: s.read(n) for n in ec.RESULTS if s.has_result(n)}
        )
        # trends (against the detected communities)
        now = truth.window_end
        out.step("trends.detect", lambda: et.detect_trends(eng, now=now).summary())
        out.step(
            "trends.detect.views", lambda: et.detect_trends(eng, metric="views", now=now).summary()
        )
        out.step(
            "trends.results",
            lambda: {
                n: s.read(n)
                for n in (
                    "trend_bursts",
                    "trend_lifecycle",
                    "trend_discover",
                    "trend_spillover",
                    "trend_community_map",
                )
            },
        )
        out.step("trends.discover", lambda: et.discover_view(eng, top=10))
        out.step("trends.show", lambda: _show_trend(eng, et))
        out.step("trends.forecast", lambda: _forecast(eng, et))
        # cascades
        out.step("cascades.build", lambda: eca.build_cascades(eng).summary())
        out.step("cascades.tables", lambda: {n: s.read(n) for n in eca.RESULTS})
        out.step("cascades.top", lambda: eca.top_cascades(eng, n=5))
        out.step("cascades.predict", lambda: eca.predict_cascades(eng, tune=False))
        # safety
        out.step("safety.classify", lambda: es.classify_stored(s, now=now).to_dict())
        out.step("safety.queue", lambda: es.review_queue(s, limit=20))
        out.step("safety.health", lambda: es.community_health(s).summary)
        out.step("safety.moderate", lambda: _moderate(s, es, now))
        # the feed
        out.step("feed.train", lambda: _feed(eng, ef))
        # partner insights
        cid = _ids(s)[0]
        out.step(
            "insights.match", lambda: ei.match_brief(s, Brief("books and reading"), k=5).to_dict()
        )
        out.step("insights.ambassadors", lambda: ei.ambassadors(s, cid, k=5).to_pylist())
        out.step("insights.content", lambda: ei.content_brief(s, cid, k=5).to_dict())
        out.step("insights.overlap", lambda: ei.overlap(s, k=5).to_pylist())
        out.step("insights.listen", lambda: ei.listen(s, cid, k=5).to_dict())
        out.step(
            "insights.campaign",
            lambda: ei.campaign_readout(s, [_busiest_tag(truth)], k=5, n_boot=50).to_dict(),
        )
        out.step(
            "api.trend_audiences",
            lambda: privacy.guarded_audiences(
                eng, out.get("trends.discover")["trend_id"].to_pylist()[:3], 5
            ),
        )
    finally:
        eng.close()
    return out  # fmt: skip


def _ids(store: Any) -> list[int]:
    from communitok.engine.communities import list_communities

    return list_communities(store, sort="community_id")["community_id"].to_pylist()


def _show_trend(eng: Any, et: Any) -> dict[str, Any]:
    tid = et.discover_view(eng, top=1)["trend_id"][0].as_py()
    d = et.show_trend(eng, tid, grain="day")
    return {
        "trend_id": d.trend_id,
        "series": d.series,
        "bursts": d.bursts.drop_columns(["trend_id"]),
    }


def _forecast(eng: Any, et: Any) -> dict[str, Any]:
    run = et.forecast_trends(eng, days=3, top=5, max_series=200)
    return {"forecasts": run.forecasts, "backtest": run.backtest, "holdout": run.holdout}


def _moderate(store: Any, es: Any, now: datetime) -> dict[str, Any]:
    """Viewer reports on a few comments, the review queue, then a reviewer override."""
    labels = es.visibility(store).sort_by("item_id")
    hidden = [r["item_id"] for r in labels.to_pylist() if r["label"] != "visible"][:4]
    shown = [r["item_id"] for r in labels.to_pylist() if r["label"] == "visible"][:3]
    reports = [{"item_kind": "comment", "item_id": c, "reporter_id": f"u{j:04d}",
                "reason": "spam", "created_at": now} for c in hidden + shown for j in range(3)]  # fmt: skip
    added = es.add_reports(store, reports)
    queue = es.review_queue(store, limit=20)
    top = queue.to_pylist()[0]
    row = es.override(store, top["item_kind"], top["item_id"], "visible", reviewer_id="r1",
                      reason="context", now=now)  # fmt: skip
    return {"added": added, "queue": queue, "override": row, "log": es.decision_log(store).num_rows,
            "visibility": es.visibility(store), "after": es.review_queue(store, limit=20)}  # fmt: skip


def _feed(eng: Any, ef: Any) -> dict[str, Any]:
    svc = ef.train_feed(eng, save=False, reuse=False)
    try:
        viewers = sorted(eng.store.read("viewers", ["viewer_id"])["viewer_id"].to_pylist())[:25]
        feeds = [svc.recommend(v, 10).to_dict() for v in viewers]
        feeds.append(svc.recommend("new-viewer", 10, interests=["booktok"]).to_dict())
        svc.flush_exposures()
        log = ef.exposures(eng.store)
        return {"n_videos": svc.n_videos, "feeds": feeds,
                "exposures": log.select(["viewer_id", "video_id", "rank", "variant", "experiment"])}  # fmt: skip
    finally:
        ef.drop_feed_service(eng)


def _busiest_tag(truth: Any) -> str:
    return str(truth.communities[0].hashtags[0])


# --- fixtures -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def module_schema_dsn(pg_dsn: str) -> Iterator[str]:
    """A fresh schema for this module's PostgreSQL store (dropped afterwards)."""
    yield from fresh_schema(pg_dsn, "e_")


@pytest.fixture(scope="module")
def runs(
    module_schema_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Outcomes, Outcomes]:
    tmp = tmp_path_factory.mktemp("engines")
    duck = run_engines(str(tmp / "s.duckdb"), str(tmp / "rejects-duck"))
    pg = run_engines(module_schema_dsn, str(tmp / "rejects-pg"))
    return duck, pg


def both(runs: tuple[Outcomes, Outcomes], name: str) -> tuple[Any, Any]:
    duck, pg = runs
    return duck.get(name), pg.get(name)


# --- tests ----------------------------------------------------------------------------------
def test_ingest_agrees(runs) -> None:
    d, p = both(runs, "counts")
    agree(d, p)
    assert d["videos"] > 0 and d["events"] > 0 and d["comments"] > 0


def test_communities_detect_list_show_bridges_history(runs) -> None:
    for step in ("communities.detect", "communities.list", "communities.show",
                 "communities.bridges", "communities.results"):  # fmt: skip
        agree(*both(runs, step))
    d, p = both(runs, "communities.history")
    agree(list(d), list(p))
    det = runs[0].get("communities.detect")
    truth = runs[0]["truth"]
    assert det["communities"] >= len(truth.communities) // 2
    assert runs[1].get("communities.show")[0]["profile"]["signature_sounds"] is not None


def test_trends_detect_discover_show_forecast(runs) -> None:
    for step in ("trends.detect", "trends.detect.views", "trends.results", "trends.discover",
                 "trends.show", "trends.forecast"):  # fmt: skip
        agree(*both(runs, step))
    det = runs[1].get("trends.detect")
    assert det["n_series"] > 0 and det["n_bursts"] > 0
    assert runs[1].get("trends.discover").num_rows > 0
    assert runs[1].get("trends.forecast")["forecasts"].num_rows > 0


def test_cascades_build(runs) -> None:
    for step in ("cascades.build", "cascades.tables", "cascades.top", "cascades.predict"):
        agree(*both(runs, step))
    assert runs[1].get("cascades.build")["n_cascades"] > 0


def test_safety_classify_queue_health(runs) -> None:
    for step in ("safety.classify", "safety.queue", "safety.health", "safety.moderate"):
        agree(*both(runs, step))
    assert runs[1].get("safety.classify")["classified"] == runs[1]["counts"]["comments"]
    assert runs[1].get("safety.health").num_rows > 0
    mod = runs[1].get("safety.moderate")
    assert mod["added"] == 21 and mod["queue"].num_rows >= 7
    assert mod["after"].num_rows == mod["queue"].num_rows - 1


def test_feed_trains_and_serves(runs) -> None:
    d, p = both(runs, "feed.train")
    assert d["n_videos"] == p["n_videos"] > 0
    assert [f["viewer_id"] for f in d["feeds"]] == [f["viewer_id"] for f in p["feeds"]]
    assert [f["variant"] for f in d["feeds"]] == [f["variant"] for f in p["feeds"]]
    assert all(len(f["items"]) == 10 for f in p["feeds"])
    assert p["feeds"][-1]["cold_start"] and p["feeds"][-1]["items"]
    assert p["exposures"].num_rows == d["exposures"].num_rows == 10 * len(p["feeds"])
    # known answer: a new viewer into #booktok gets mostly planted booktok videos
    truth = runs[1]["truth"]
    planted, booktok = truth.video_community(), truth.community("booktok").id
    cold = [i["video_id"] for i in p["feeds"][-1]["items"]]
    assert sum(planted.get(v) == booktok for v in cold) >= len(cold) / 2


def test_feed_recommendations_agree(runs) -> None:
    agree(*both(runs, "feed.train"))


@pytest.mark.parametrize("step", ["insights.match", "insights.ambassadors", "insights.content",
                                  "insights.overlap", "insights.listen"])  # fmt: skip
def test_insights(runs, step: str) -> None:
    agree(*both(runs, step), ignore=("example",))
    assert runs[1].get(step)


def test_insights_lingo_examples_agree(runs) -> None:
    agree(*both(runs, "insights.content"))


def test_insights_campaign_readout(runs) -> None:
    agree(*both(runs, "insights.campaign"))


def test_api_trend_audiences(runs) -> None:
    agree(*both(runs, "api.trend_audiences"))
