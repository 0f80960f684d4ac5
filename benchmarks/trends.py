"""Trends benchmark: bursts, lifecycle/Discover timing, forecasts, spill-over.

Writes ``benchmarks/results/trends.json``. Every number has its baseline measured in
the same run:

1. **Planted series** (``communitok.trends.planted``): burst F1, false alarms per
   1,000 series-days (offline segments and online alarms), median detection lead over
   a top-k-by-hourly-count detector.
2. **Simulator** (``communitok.simulate``, preset ``small``, several seeds), through
   the engine and the DuckDB store: the same burst numbers against planted bursts and
   spill waves, spill-over precision / recall.
3. **Forecasts**: hold-out MASE of Theta vs naive and seasonal-naive and 80 %/95 %
   interval coverage on planted daily series, the simulator's daily views per
   trend, and the real stitch graph's videos per hashtag per day (May 2024).
4. **Discover at scale**: time to compute Discover (series SQL + detection + lifecycle
   + spill-over + ranking) over N events, as a ratio to a plain DuckDB group-by of
   the same events.

Usage: ``.venv/bin/python benchmarks/trends.py [--quick] [--events 10000000]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from communitok.core.schema import LOAD_ORDER
from communitok.core.settings import load_settings
from communitok.engine import open_engine
from communitok.engine.trends import MAP_RESULT, _result_sql, detect_trends, trend_series
from communitok.trends import (
    BurstDetector,
    Forecaster,
    SeriesMatrix,
    evaluate_holdout,
    new_entries,
    planted_series,
    score_bursts,
    score_spillover,
    to_matrix,
    topk_alarms,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results"
H = 3_600_000_000


def online_false_alarms(det: BurstDetector, truth: pa.Table, m: SeriesMatrix) -> float:
    """Alarm episodes (runs of the causal alarm) touching no planted burst, per 1,000
    series-days."""
    al = det.alarm_
    pad = np.zeros((al.shape[0], 1), bool)
    d = np.diff(np.concatenate([pad, al, pad], 1).astype(np.int8), axis=1)
    rs, ts = np.nonzero(d == 1)
    _, te = np.nonzero(d == -1)
    spans: dict[int, list[tuple[int, int]]] = {}
    for r in truth.to_pylist():
        spans.setdefault(r["series"], []).append((r["start"], r["end"]))
    bad = sum(
        1 for r, a, b in zip(rs, ts, te, strict=True)
        if not any(a <= e and b - 1 >= s for s, e in spans.get(int(r), []))
    )  # fmt: skip
    return 1000.0 * bad / (m.n_series * m.n_bins / 24)


def bench_planted(seeds: list[int]) -> dict:
    out = []
    for seed in seeds:
        pl = planted_series(500, 28, seed=seed)
        det = BurstDetector().fit(pl.matrix)
        sc = score_bursts(
            det.bursts_, pl.truth, pl.matrix, baseline_alarm=new_entries(topk_alarms(pl.matrix, 10))
        )
        d = sc.to_dict()
        d["online_false_alarms_per_1000_series_days"] = online_false_alarms(
            det, pl.truth, pl.matrix
        )
        out.append(d)
    keys = ("precision", "recall", "f1", "false_alarms_per_1000_series_days",
            "online_false_alarms_per_1000_series_days", "median_lead_bins")  # fmt: skip
    return {"per_seed": out, "mean": {k: float(np.nanmean([o[k] for o in out])) for k in keys},
            "setup": "500 hourly series x 28 days per seed, 30 % with one burst; baseline: new entries (none in the previous 24 h) into the top-10 by trailing-24h count (>= 3)"}  # fmt: skip


def load_sim(seed: int, folder: Path):
    from communitok.simulate import SimConfig, simulate

    r = simulate(SimConfig.preset("small", seed=seed))
    eng = open_engine(load_settings(store=str(folder / f"sim{seed}.duckdb")))
    for name in LOAD_ORDER:
        eng.store.write(name, r.tables[name])
    return r, eng


def planted_sim(r) -> tuple[list[dict], set[tuple[str, str, str]]]:
    rows, spills = [], set()
    for b in r.truth.bursts:
        s, e = b.start.timestamp() * 1e6, b.end.timestamp() * 1e6
        for scope in (b.community, "all"):
            rows.append(
                {
                    "kind": b.item_kind,
                    "item": b.item,
                    "scope": scope,
                    "start": s,
                    "end": e,
                    "wave": "burst",
                }
            )
        for sp in b.spilled_into:
            lag = sp.lag_days * 86400e6
            rows.append({"kind": b.item_kind, "item": b.item, "scope": sp.community, "start": s + lag,
                         "end": e + lag, "wave": "spill"})  # fmt: skip
            spills.add((b.item, b.community, sp.community))
    return rows, spills


def local_reason(i: int, bk, bs, be, evolving, camp, waves, tol) -> str | None:  # type: ignore[no-untyped-def]
    """Why an unplanted community-level detection is still a real simulated burst."""
    k, it, sc = bk[i]
    comm = it if k == "community" else sc
    if comm in evolving:
        return "community birth/merge/split"
    if it in camp:
        return "brand campaign tag"
    if any(comm == w and bs[i] <= e + tol and be[i] >= st - tol for w, st, e in waves):
        return "co-burst: same community during a planted burst"
    return None


def bench_simulator(seeds: list[int], folder: Path) -> dict:
    per = []
    tol = 24 * H
    for seed in seeds:
        r, eng = load_sim(seed, folder)
        mem = r.truth.table("video_truth").select(["video_id", "community_id"])
        t0 = time.perf_counter()
        run = detect_trends(
            eng, communities=mem, metric="videos", grain="hour", now=r.truth.window_end
        )
        secs = time.perf_counter() - t0
        planted, spills = planted_sim(r)
        long = trend_series(eng.store, metric="videos", grain="hour", now=r.truth.window_end, min_total=5,
                            members=_result_sql(eng.store, MAP_RESULT))  # fmt: skip
        m = to_matrix(long, grain="hour")
        keys = list(
            zip(*(m.keys.column(c).to_pylist() for c in ("kind", "item", "scope")), strict=True)
        )
        row_of = {k: i for i, k in enumerate(keys)}
        # top-10 baseline per scope over item series (hashtags, sounds, effects)
        base = np.zeros(m.values.shape, bool)
        scopes = np.array([k[2] for k in keys])
        items = np.array([k[0] != "community" for k in keys])
        for s in np.unique(scopes):
            rows = np.flatnonzero((scopes == s) & items)
            sub = SeriesMatrix(m.keys.take(pa.array(rows)), m.values[rows], m.start_us, m.step_us)
            base[rows] = new_entries(topk_alarms(sub, 10))
        b = run.bursts
        bk = list(zip(*(b.column(c).to_pylist() for c in ("kind", "item", "scope")), strict=True))
        bs = np.asarray(b.column("start").cast(pa.int64()).to_numpy())
        be = np.asarray(b.column("end").cast(pa.int64()).to_numpy())
        bd = np.asarray(b.column("detected_at").cast(pa.int64()).fill_null(-1).to_numpy())
        matched = np.zeros(b.num_rows, bool)
        found = {"burst": [0, 0], "spill": [0, 0]}
        leads = []
        for p in planted:
            key = (p["kind"], p["item"], p["scope"])
            hit = [
                i
                for i, k in enumerate(bk)
                if k == key and bs[i] <= p["end"] + tol and be[i] >= p["start"] - tol
            ]
            found[p["wave"]][1] += 1
            if not hit:
                continue
            found[p["wave"]][0] += 1
            matched[hit] = True
            det_at = min((bd[i] for i in hit if bd[i] >= 0), default=-1)
            row = row_of.get(key)
            if det_at >= 0 and row is not None:  # both timed from the planted start
                lo = max(int((p["start"] - m.start_us) // H), 0)
                hi = int((p["end"] + tol - m.start_us) // H) + 1
                first = np.flatnonzero(base[row, lo:hi])
                if first.size:
                    leads.append((lo + int(first[0])) - max((det_at - m.start_us) // H, lo))
        evolving = {
            c.id for c in r.truth.communities if c.kind != "base" or c.active_to is not None
        }
        camp = {t for c in r.truth.campaigns for t in c.hashtags}
        waves = [(p["scope"], p["start"], p["end"]) for p in planted if p["scope"] != "all"]
        reasons: dict[str, int] = {}
        ctx = (bk, bs, be, evolving, camp, waves, tol)
        local_ok = [(bk[i][0], bk[i][1], bs[i], be[i]) for i in range(b.num_rows)
                    if bk[i][2] != "all" and (matched[i] or local_reason(i, *ctx))]  # fmt: skip
        for i in np.flatnonzero(~matched):
            why = local_reason(i, *ctx)
            if (
                why is None
                and bk[i][2] == "all"
                and any(
                    k == bk[i][0] and it == bk[i][1] and bs[i] <= e + tol and be[i] >= st - tol
                    for k, it, st, e in local_ok
                )
            ):
                why = "platform-wide view of an explained community burst"
            if why:
                reasons[why] = reasons.get(why, 0) + 1
        explained = sum(reasons.values())
        n_fp = int((~matched).sum())
        series_days = m.n_series * m.n_bins / 24
        tp_b, n_b = found["burst"]
        tp_s, n_s = found["spill"]
        recall = (tp_b + tp_s) / max(n_b + n_s, 1)
        prec_strict = matched.mean() if b.num_rows else 1.0
        prec_expl = matched.sum() / max(matched.sum() + n_fp - explained, 1)
        sp_p, sp_r, sp_n, sp_t = score_spillover(run.spillover, spills)
        per.append({
            "seed": seed, "n_series": m.n_series, "days": m.n_bins / 24, "n_detected": b.num_rows,
            "planted_bursts_found": f"{tp_b}/{n_b}", "planted_spill_waves_found": f"{tp_s}/{n_s}",
            "recall": recall, "precision_strict": float(prec_strict), "precision_excl_explained": float(prec_expl),
            "f1_excl_explained": 2 * recall * prec_expl / max(recall + prec_expl, 1e-9),
            "unplanted_detections": n_fp, "unplanted_explained": explained, "explained_by": reasons,
            "false_alarms_per_1000_series_days_strict": 1000 * n_fp / series_days,
            "false_alarms_per_1000_series_days_unexplained": 1000 * (n_fp - explained) / series_days,
            "median_lead_hours_vs_top10": float(np.median(leads)) if leads else None, "n_lead": len(leads),
            "spillover_precision": sp_p, "spillover_recall": sp_r, "spillovers_found": sp_n,
            "spillovers_planted": sp_t, "detect_seconds": secs,
        })  # fmt: skip
        eng.close()
    agg = {}
    for k in ("recall", "precision_strict", "precision_excl_explained", "f1_excl_explained",
              "false_alarms_per_1000_series_days_strict", "false_alarms_per_1000_series_days_unexplained",
              "median_lead_hours_vs_top10", "spillover_precision", "spillover_recall"):  # fmt: skip
        agg[k] = float(np.nanmean([p[k] if p[k] is not None else np.nan for p in per]))
    return {"per_seed": per, "mean": agg}


def bench_forecasts(seeds: list[int], folder: Path) -> dict:
    out: dict = {}
    daily = planted_series(2000, 63, seed=11).matrix.aggregate(24)
    out["planted_daily"] = {
        meth: evaluate_holdout(daily, Forecaster(method=meth, horizon=7, n_origins=14)).to_dict()
        for meth in ("theta", "auto")
    }
    sims = []
    for seed in seeds[:2]:
        r, eng = load_sim(seed, folder)
        long = trend_series(
            eng.store, metric="views", grain="day", now=r.truth.window_end, min_total=50
        )
        m = to_matrix(long, grain="day")
        sims.append({meth: evaluate_holdout(m, Forecaster(method=meth, horizon=7, n_origins=7)).to_dict()
                     for meth in ("theta", "auto")})  # fmt: skip
        eng.close()
    out["simulator_daily_views"] = sims
    real = ROOT.parent / "shared" / "data" / "stitchgraph" / "videos.tsv.gz"
    if real.is_file():
        out["stitchgraph_videos_per_hashtag_day"] = forecast_stitchgraph(real)
    return out


def forecast_stitchgraph(path: Path) -> dict:
    import duckdb
    import pyarrow.csv as pacsv

    v = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter="\t", newlines_in_values=True),
                       convert_options=pacsv.ConvertOptions(column_types={"video_id": pa.string()},
                                                            include_columns=["collected_as", "video_id", "create_time", "hashtag_names"]))  # fmt: skip
    con = duckdb.connect()
    con.register("v", v)
    long = con.sql(
        "WITH u AS (SELECT DISTINCT video_id, create_time, hashtag_names FROM v WHERE collected_as = 'source_stitcher'), "
        "t AS (SELECT lower(unnest(CAST(json(hashtag_names) AS VARCHAR[]))) AS item, create_time FROM u) "
        "SELECT 'hashtag' AS kind, item, 'all' AS scope, (create_time // 86400) * 86400000000 AS bin, "
        "CAST(count(*) AS DOUBLE) AS value FROM t GROUP BY ALL"
    ).to_arrow_table()  # fmt: skip
    long = long.set_column(3, "bin", long.column("bin").cast(pa.timestamp("us", tz="UTC")))
    m = to_matrix(long, grain="day")
    keep = m.values.sum(1) >= 30
    m = m.take(np.flatnonzero(keep))
    rep = {meth: evaluate_holdout(m, Forecaster(method=meth, horizon=7, n_origins=7)).to_dict()
           for meth in ("theta", "auto")}  # fmt: skip
    rep["days"] = m.n_bins  # type: ignore[assignment]
    return rep


def bench_discover_scale(n_events: int, folder: Path) -> dict:
    """Discover over *n_events* synthetic views of the simulator's videos vs a plain
    DuckDB group-by (events per video per hour) on the same store."""
    from communitok.simulate import SimConfig, simulate

    r = simulate(SimConfig.preset("small", seed=7, n_events=10_000))
    eng = open_engine(load_settings(store=str(folder / "scale.duckdb")))
    for name in LOAD_ORDER:
        if name != "events":
            eng.store.write(name, r.tables[name])
    vids = r.tables["videos"]
    created = np.asarray(vids.column("created_at").cast(pa.int64()).to_numpy())
    g = np.random.default_rng(0)
    end = int(r.truth.window_end.timestamp() * 1e6)
    chunk = 2_000_000
    for s in range(0, n_events, chunk):
        k = min(chunk, n_events - s)
        vi = g.integers(0, vids.num_rows, k)
        ts = np.minimum(created[vi] + (g.exponential(2 * 86400, k) * 1e6).astype(np.int64), end - 1)
        ev = pa.table({
            "viewer_id": pa.array(np.char.add("u", g.integers(0, 1_000_000, k).astype(str))),
            "video_id": vids.column("video_id").take(pa.array(vi)),
            "ts": pa.array(ts + np.arange(k) % 997, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "liked": pa.array(g.random(k) < 0.1),
        })  # fmt: skip
        eng.store.write("events", ev)
    n = eng.store.count("events")
    t0 = time.perf_counter()
    eng.store.query(
        "SELECT video_id, epoch_us(ts) // 3600000000 AS h, count(*) AS n FROM events GROUP BY ALL"
    )
    plain = time.perf_counter() - t0
    mem = r.truth.table("video_truth").select(["video_id", "community_id"])
    t0 = time.perf_counter()
    detect_trends(
        eng,
        communities=mem,
        metric="views",
        grain="hour",
        now=r.truth.window_end + timedelta(days=1),
    )
    full = time.perf_counter() - t0
    eng.close()
    return {"events": n, "plain_groupby_s": plain, "discover_s": full, "ratio": full / plain}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--events", type=int, default=10_000_000)
    a = ap.parse_args()
    seeds = [0, 1] if a.quick else [0, 1, 2, 3, 4]
    res: dict = {"argv": sys.argv[1:]}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        res["planted_bursts"] = bench_planted(seeds)
        res["simulator_bursts"] = bench_simulator(seeds, folder)
        res["forecasts"] = bench_forecasts(seeds, folder)
        if a.events:
            res["discover_scale"] = bench_discover_scale(a.events, folder)
        res["seconds"] = time.perf_counter() - t
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "trends.json").write_text(json.dumps(res, indent=2, default=str))
    print(
        json.dumps(
            {k: v.get("mean", v) if isinstance(v, dict) else v for k, v in res.items()},
            indent=2,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
