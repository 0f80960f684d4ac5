"""Engine wiring for trends: series computed in the store (portable SQL), analytics from
:mod:`communitok.trends`, results written back with run metadata.

Trend ids are ``kind:item@scope``: ``hashtag:booktok@all`` (platform-wide) or
``sound:s0083@k02`` (inside community ``k02``). Community series need a membership
table ``video_id, community_id`` (or ``creator_id, community_id``, mapped through the
videos' uploaders): pass it as ``communities=`` (an Arrow table or a result name), or
let the engine use the ``community_members`` result when it exists.

Results: ``trend_bursts``, ``trend_lifecycle``, ``trend_discover``, ``trend_spillover``,
``trend_forecasts``, ``trend_forecast_backtest``, and ``trend_community_map`` (the
membership used).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError, NotFound
from ..core.timeutil import to_utc, utcnow
from ..trends import (
    BurstDetector,
    Forecaster,
    LifecycleClassifier,
    SeriesMatrix,
    detect_spillover,
    discover,
    evaluate_holdout,
    to_matrix,
)
from .trend_sql import (
    GLOBAL,
    KINDS,
    MAP_RESULT,
    METRICS,
    _clock_issues,
    _fingerprint,
    _pick_metric,
    _result_sql,
    _uses_sql,
    _with_ids,
    parse_trend_id,
    resolve_communities,
    series_sql,
    trend_id,
    trend_series,
)

__all__ = [
    "GLOBAL", "KINDS", "METRICS", "ForecastRun", "TrendDetail", "TrendRun", "detect_trends",
    "discover_view", "forecast_trends", "parse_trend_id", "resolve_communities", "series_sql",
    "show_trend", "trend_id", "trend_series",
]  # fmt: skip

if TYPE_CHECKING:
    from ..store import Store
    from .core import Engine


@dataclass
class TrendRun:
    """What :func:`detect_trends` computed (and stored)."""

    metric: str
    grain: str
    n_series: int
    bursts: pa.Table
    lifecycle: pa.Table
    discover: pa.Table
    spillover: pa.Table
    issues: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        stages = (
            pc.value_counts(self.lifecycle.column("stage")).to_pylist()
            if self.lifecycle.num_rows
            else []
        )
        return {
            "metric": self.metric, "grain": self.grain, "n_series": self.n_series,
            "n_bursts": self.bursts.num_rows, "n_spillovers": self.spillover.num_rows,
            "stages": {d["values"]: d["counts"] for d in stages}, "issues": self.issues,
        }  # fmt: skip


def detect_trends(
    engine: Engine,
    *,
    communities: pa.Table | str | None = None,
    metric: str = "videos",
    grain: str = "hour",
    kinds: tuple[str, ...] = KINDS,
    now: datetime | None = None,
    half_life_hours: float = 24.0,
    top_k: int = 20,
    detector: BurstDetector | None = None,
    min_total: float = 5.0,
) -> TrendRun:
    """Series in the store → bursts, lifecycle, spill-over, Discover; stored as results."""
    store = engine.store
    metric = _pick_metric(store, metric)
    if grain not in ("hour", "day"):
        raise InputError("must be hour or day", field="grain")
    params = {"metric": metric, "grain": grain, "kinds": list(kinds), "half_life_hours": half_life_hours,
              "top_k": top_k, "min_total": min_total,
              "communities": communities if isinstance(communities, str) else ("table" if communities is not None else None)}  # fmt: skip

    def work() -> TrendRun:
        wall = to_utc(now or utcnow())
        members = resolve_communities(store, communities)
        long = trend_series(store, kinds=kinds, metric=metric, grain=grain, members=members,
                            now=wall, min_total=min_total)  # fmt: skip
        m = to_matrix(long, grain=grain)
        det = detector or BurstDetector(period=24 if grain == "hour" else 7,
                                        halflife=168.0 if grain == "hour" else 7.0)  # fmt: skip
        det.fit(m)
        bursts = _with_ids(det.bursts_.drop_columns(["series_index"]))
        per_day = 24 if grain == "hour" else 1
        lc = LifecycleClassifier(smooth_bins=max(12 // (24 // per_day), 2), slope_bins=max(6 // (24 // per_day), 1),
                                 emerging_bins=max(12 // (24 // per_day), 1), decline_bins=3 * per_day,
                                 evergreen_bins=7 * per_day).classify(m, det.bursts_)  # fmt: skip
        lc = _with_ids(lc)
        spill = _spillover(store, det.bursts_, members, kinds)
        data_end = m.start_us + m.n_bins * m.step_us
        disc = _with_ids(discover(det.bursts_, now=data_end, half_life_hours=half_life_hours,
                                  top_k=top_k, lifecycle=lc.drop_columns(["trend_id"])))  # fmt: skip
        issues = m.issues.to_dict()
        issues.update(_clock_issues(store, wall))
        for name, tab in (("trend_bursts", bursts), ("trend_lifecycle", lc),
                          ("trend_discover", disc), ("trend_spillover", spill)):  # fmt: skip
            store.put_result(name, tab)
        return TrendRun(metric, grain, m.n_series, bursts, lc, disc, spill, issues)

    return engine._run("trends-detect", params, work, fingerprint=_fingerprint(store),
                       summarize=lambda r: r.summary())  # fmt: skip


def _spillover(
    store: Store, bursts: pa.Table, members: str | None, kinds: tuple[str, ...]
) -> pa.Table:
    if members is None:
        return detect_spillover(bursts.slice(0, 0))
    local = bursts.filter(pc.not_equal(bursts.column("scope"), GLOBAL))
    keys = sorted(
        {
            f"{k}:{i}"
            for k, i in zip(
                local.column("kind").to_pylist(), local.column("item").to_pylist(), strict=True
            )
        }
    )
    uses = store.query(
        f"WITH uses AS ({_uses_sql(kinds)}) SELECT u.kind, u.item, m.community_id, u.video_id, u.creator_id, "
        f"u.created_at, v.hashtags FROM uses u JOIN {members} m ON m.video_id = u.video_id "
        f"JOIN videos v ON v.video_id = u.video_id WHERE u.kind || ':' || u.item IN (SELECT unnest(?))", [keys],
    ) if keys else None  # fmt: skip
    # each creator's home: the community of most of their videos (ties: the smallest id)
    home = store.query(
        f"SELECT creator_id, community_id FROM (SELECT creator_id, community_id, row_number() OVER "
        f"(PARTITION BY creator_id ORDER BY n DESC, community_id) AS r FROM (SELECT v.creator_id, "
        f"m.community_id, count(*) AS n FROM videos v JOIN {members} m ON m.video_id = v.video_id "
        f"GROUP BY v.creator_id, m.community_id) c) h WHERE r = 1"
    )  # fmt: skip
    stop = store.query(
        "SELECT lower(t.item) AS tag FROM videos v, unnest(v.hashtags) AS t(item) GROUP BY 1 "
        "HAVING count(*) > 0.05 * (SELECT count(*) FROM videos)"
    ).column("tag").to_pylist()  # fmt: skip
    return detect_spillover(bursts, uses, home, stop_tags=stop)


def _read(store: Store, name: str) -> pa.Table:
    if not store.has_result(name):
        raise NotFound(f"no {name} yet: run `communitok trends discover --refresh` first")
    return store.read(name)


def discover_view(
    engine: Engine, *, scope: str | None = None, kind: str | None = None, top: int = 20,
    refresh: bool = False, **detect: Any,
) -> pa.Table:  # fmt: skip
    """The Discover list (computed when missing or on *refresh*), filtered by scope/kind."""
    if refresh or not engine.store.has_result("trend_discover"):
        detect_trends(engine, **detect)
    t = _read(engine.store, "trend_discover")
    t = t.filter(pc.equal(t.column("scope"), scope or GLOBAL))
    if kind:
        t = t.filter(pc.equal(t.column("kind"), kind))
    t = t.sort_by([("score", "descending"), ("trend_id", "ascending")])
    return t.slice(0, top)


@dataclass
class TrendDetail:
    """One trend: its series, bursts, lifecycle stage and spill-overs."""

    trend_id: str
    series: pa.Table
    bursts: pa.Table
    lifecycle: pa.Table
    spillover: pa.Table


def show_trend(
    engine: Engine, tid: str, *, metric: str = "videos", grain: str = "day"
) -> TrendDetail:
    """Everything known about trend *tid* (``kind:item@scope``; kind optional)."""
    store = engine.store
    kind, item, scope = parse_trend_id(tid)
    bursts = _read(store, "trend_bursts")
    sel = pc.and_(pc.equal(bursts.column("item"), item), pc.equal(bursts.column("scope"), scope))
    if kind:
        sel = pc.and_(sel, pc.equal(bursts.column("kind"), kind))
    b = bursts.filter(sel)
    if kind is None:
        kind = b.column("kind")[0].as_py() if b.num_rows else "hashtag"
    lc = _read(store, "trend_lifecycle")
    lc = lc.filter(pc.equal(lc.column("trend_id"), trend_id(kind, item, scope)))
    members = _result_sql(store, MAP_RESULT) if store.has_result(MAP_RESULT) else None
    kinds = KINDS if kind == "community" else (kind,)
    series = trend_series(store, kinds=kinds, metric=_pick_metric(store, metric), grain=grain,
                          members=members, item_filter=(kind, item, scope))  # fmt: skip
    if series.num_rows == 0 and b.num_rows == 0 and lc.num_rows == 0:
        raise NotFound(f"no trend {tid!r}")
    sp = _read(store, "trend_spillover")
    sp = sp.filter(pc.and_(pc.equal(sp.column("kind"), kind), pc.equal(sp.column("item"), item)))
    return TrendDetail(trend_id(kind, item, scope), series.sort_by("bin"), b, lc, sp)


@dataclass
class ForecastRun:
    """Forecasts for the chosen trends and the back-test / hold-out report."""

    forecasts: pa.Table
    backtest: dict[str, Any]
    holdout: dict[str, Any]


def forecast_trends(
    engine: Engine, trend_ids: list[str] | None = None, *, days: int = 7, metric: str = "videos",
    top: int = 10, method: str = "theta", min_total: float = 20.0, max_series: int = 5000,
) -> ForecastRun:  # fmt: skip
    """Forecast the next *days* of daily *metric* for *trend_ids* (default: the top
    Discover trends), with intervals calibrated on a back-test over every series with at
    least *min_total* (up to *max_series* by volume); the same run reports hold-out MASE
    against naive and seasonal-naive and interval coverage."""
    store = engine.store
    metric = _pick_metric(store, metric)
    if trend_ids is None:
        trend_ids = discover_view(engine, top=top).column("trend_id").to_pylist()
    wanted = [parse_trend_id(t) for t in trend_ids]
    params = {
        "trend_ids": trend_ids,
        "days": days,
        "metric": metric,
        "method": method,
        "min_total": min_total,
    }

    def work() -> ForecastRun:
        members = _result_sql(store, MAP_RESULT) if store.has_result(MAP_RESULT) else None
        long = trend_series(store, metric=metric, grain="day", members=members, min_total=min_total)
        m = to_matrix(long, grain="day")
        m = _top_volume(m, max_series, wanted)
        report_h: dict[str, Any] = {}
        if m.n_bins >= days + 10:
            report_h = evaluate_holdout(m, Forecaster(method=method, horizon=days)).to_dict()
        fc = Forecaster(method=method, horizon=days).fit(m)
        pred = _with_ids(fc.predict(m))
        ids = {trend_id(k or "hashtag", i, s) for k, i, s in wanted}
        if any(k is None for k, _, _ in wanted):
            loose = {f"{i}@{s}" for k, i, s in wanted if k is None}
            keep = [
                t in ids or t.split(":", 1)[1] in loose for t in pred.column("trend_id").to_pylist()
            ]
        else:
            keep = [t in ids for t in pred.column("trend_id").to_pylist()]
        pred = pred.filter(pa.array(keep, pa.bool_()))
        store.put_result("trend_forecasts", pred)
        bt = fc.backtest_.to_dict()
        rep = fc.backtest_
        store.put_result("trend_forecast_backtest", pa.table({
            "method": list(rep.methods), "mase_mean": list(rep.mase_mean),
            "mase_median": list(rep.mase_median)}))  # fmt: skip
        return ForecastRun(pred, bt, report_h)

    return engine._run("trends-forecast", params, work, fingerprint=_fingerprint(store),
                       summarize=lambda r: {"backtest": r.backtest, "holdout": r.holdout,
                                            "n_forecast_rows": r.forecasts.num_rows})  # fmt: skip


def _top_volume(m: SeriesMatrix, n: int, wanted: list[tuple[str | None, str, str]]) -> SeriesMatrix:
    if m.n_series <= n:
        return m
    vol = m.values.sum(1)
    keep = np.zeros(m.n_series, bool)
    keep[np.argsort(-vol, kind="stable")[:n]] = True
    items = m.keys.column("item").to_pylist()
    scopes = m.keys.column("scope").to_pylist()
    want = {(i, s) for _, i, s in wanted}
    keep |= np.array([(i, s) in want for i, s in zip(items, scopes, strict=True)])
    return m.take(np.flatnonzero(keep))


def _demo_section(eng: Engine, truth: Any, console: Any) -> None:
    """Demo: the current Discover list and the largest co-creation cascades."""
    from rich.table import Table

    from .cascades import build_cascades

    members: pa.Table | None = None
    if not eng.store.has_result("community_members") and truth is not None:
        members = truth.table("video_truth").select(["video_id", "community_id"])
    run = detect_trends(eng, communities=members, now=getattr(truth, "window_end", None))
    t = Table(
        title=f"Discover (platform-wide; {run.bursts.num_rows} bursts in {run.n_series} series)"
    )
    for col in ("rank", "trend", "score", "stage", "peak"):
        t.add_column(col)
    top = discover_view(eng, top=10)
    for r in top.to_pylist():
        t.add_row(str(r["rank"]), r["trend_id"], f"{r['score']:,.1f}", r.get("stage") or "",
                  r["peak"].strftime("%Y-%m-%d %H:%M"))  # fmt: skip
    console.print(t)
    if run.spillover.num_rows:
        sp = run.spillover.slice(0, 5).to_pylist()
        console.print("spill-overs: " + "; ".join(
            f"{s['kind']}:{s['item']} {s['origin']}→{s['target']} (+{s['lag_hours']:.0f} h)" for s in sp))  # fmt: skip
    casc = build_cascades(eng, communities=members)
    c = Table(title=f"Largest co-creation cascades (of {casc.cascades.num_rows})")
    for col in ("cascade", "size", "depth", "virality", "communities"):
        c.add_column(col)
    for r in casc.cascades.slice(0, 5).to_pylist():
        c.add_row(r["cascade_id"], str(r["size"]), str(r["depth"]),
                  f"{r['structural_virality']:.2f}", str(r["communities_reached"]))  # fmt: skip
    console.print(c)


try:  # register with the demo when it is available
    from .demo import section

    section("Trends and cascades")(_demo_section)
except ImportError:  # pragma: no cover
    pass
