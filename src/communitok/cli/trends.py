"""``communitok trends discover|show|forecast`` and ``communitok cascades top|show``.

Thin wrappers over :mod:`communitok.engine.trends` and :mod:`communitok.engine.cascades`
(register with ``app.add_typer(trends_app, name="trends")`` and
``app.add_typer(cascades_app, name="cascades")``).
"""

from __future__ import annotations

from typing import Annotated, Any

import pyarrow as pa
import typer
from rich.table import Table

from .options import JsonOpt, StoreOpt, engine_for, sub_app
from .render import console, print_json

trends_app = sub_app("Trending hashtags, sounds and effects: Discover, bursts, forecasts.")
cascades_app = sub_app("Duet / stitch / sound-reuse cascades.")


def _rows(t: pa.Table) -> list[dict[str, Any]]:
    return t.to_pylist()


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 1e6 else f"{v:,.0f}"
    if hasattr(v, "strftime"):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, list):
        return ", ".join(map(str, v))
    return str(v)


def _table(t: pa.Table, cols: list[str], title: str) -> Table:
    out = Table(title=title)
    for c in cols:
        out.add_column(
            c, justify="right" if c in ("rank", "score", "weight", "size", "depth") else "left"
        )
    for row in t.select([c for c in cols if c in t.column_names]).to_pylist():
        out.add_row(*(_fmt(row.get(c)) for c in cols))
    return out


@trends_app.command("discover")
def trends_discover(
    community: Annotated[
        str | None, typer.Option(help="Community id (default: platform-wide).")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="hashtag, sound, effect or community.")] = None,
    top: Annotated[int, typer.Option(help="How many to list.")] = 20,
    refresh: Annotated[bool, typer.Option(help="Recompute bursts from the store first.")] = False,
    grain: Annotated[str, typer.Option(help="hour or day (with --refresh).")] = "hour",
    metric: Annotated[
        str, typer.Option(help="videos, creators, views or engagement (with --refresh).")
    ] = "videos",
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What the Discover page shows: trends ranked by burst score with freshness decay."""
    from ..engine.trends import discover_view

    with engine_for(store) as eng:
        t = discover_view(
            eng, scope=community, kind=kind, top=top, refresh=refresh, grain=grain, metric=metric
        )
    if json_out:
        print_json(_rows(t))
        return
    console.print(_table(t, ["rank", "trend_id", "score", "stage", "start", "peak", "end"],
                         f"Discover ({community or 'platform-wide'})"))  # fmt: skip


@trends_app.command("show")
def trends_show(
    trend: Annotated[
        str, typer.Argument(help="Trend id kind:item@scope, e.g. hashtag:booktok@all.")
    ],
    grain: Annotated[str, typer.Option(help="Series grain: hour or day.")] = "day",
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """One trend: its series, bursts, lifecycle stage and spill-overs."""
    from ..engine.trends import show_trend

    with engine_for(store) as eng:
        d = show_trend(eng, trend, grain=grain)
    if json_out:
        print_json({"trend_id": d.trend_id, "series": _rows(d.series), "bursts": _rows(d.bursts),
                    "lifecycle": _rows(d.lifecycle), "spillover": _rows(d.spillover)})  # fmt: skip
        return
    stage = d.lifecycle.column("stage")[0].as_py() if d.lifecycle.num_rows else "unknown"
    console.print(f"[bold]{d.trend_id}[/]  stage: [cyan]{stage}[/]")
    console.print(_table(d.series, ["bin", "value"], f"Series ({grain})"))
    console.print(
        _table(d.bursts, ["start", "peak", "end", "detected_at", "weight", "magnitude"], "Bursts")
    )
    if d.spillover.num_rows:
        console.print(_table(d.spillover, ["origin", "target", "lag_hours", "carriers", "bridge_hashtags"],
                             "Spill-over"))  # fmt: skip


@trends_app.command("forecast")
def trends_forecast(
    trends: Annotated[
        list[str] | None, typer.Argument(help="Trend ids (default: top of Discover).")
    ] = None,
    days: Annotated[int, typer.Option(help="Days ahead.")] = 7,
    top: Annotated[int, typer.Option(help="Without ids: forecast this many top trends.")] = 5,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Daily forecasts with back-test-calibrated 80 %/95 % intervals, and the back-test
    against naive and seasonal-naive."""
    from ..engine.trends import forecast_trends

    with engine_for(store) as eng:
        r = forecast_trends(eng, trends or None, days=days, top=top)
    if json_out:
        print_json({"forecasts": _rows(r.forecasts), "backtest": r.backtest, "holdout": r.holdout})
        return
    console.print(_table(r.forecasts, ["trend_id", "bin", "forecast", "lo_80", "hi_80", "lo_95", "hi_95"],
                         f"Forecast, next {days} days"))  # fmt: skip
    console.print(f"back-test MASE (mean): {r.backtest.get('mase_mean')}")
    if r.holdout:
        console.print(
            f"hold-out MASE (mean): {r.holdout.get('mase_mean')}; coverage: {r.holdout.get('coverage')}"
        )


@cascades_app.command("top")
def cascades_top(
    n: Annotated[int, typer.Option("--n", help="How many.")] = 20,
    by: Annotated[
        str,
        typer.Option(help="size, depth, structural_virality, max_breadth, communities_reached."),
    ] = "size",
    community: Annotated[
        str | None, typer.Option(help="Only cascades reaching this community.")
    ] = None,
    refresh: Annotated[bool, typer.Option(help="Rebuild cascades from the store first.")] = False,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The largest co-creation cascades."""
    from ..engine.cascades import build_cascades, top_cascades

    with engine_for(store) as eng:
        if refresh:
            build_cascades(eng)
        t = top_cascades(eng, n=n, by=by, community=community)
    if json_out:
        print_json(_rows(t))
        return
    console.print(_table(t, ["cascade_id", "size", "depth", "max_breadth", "structural_virality",
                             "time_to_half_s", "communities_reached", "root_creator"], "Cascades"))  # fmt: skip


@cascades_app.command("show")
def cascades_show(
    cascade: Annotated[
        str, typer.Argument(help="Root video id (or any video inside the cascade).")
    ],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """One cascade: metrics and its videos by depth."""
    from ..engine.cascades import show_cascade

    with engine_for(store) as eng:
        d = show_cascade(eng, cascade)
    if json_out:
        print_json({"metrics": _rows(d.metrics)[0] if d.metrics.num_rows else None, "nodes": _rows(d.nodes),
                    "prediction": _rows(d.prediction) if d.prediction is not None else None})  # fmt: skip
        return
    m = d.metrics.to_pylist()[0] if d.metrics.num_rows else {}
    console.print(" · ".join(f"{k}: {_fmt(v)}" for k, v in m.items()))
    console.print(_table(d.nodes.slice(0, 50), ["video_id", "parent_video_id", "kind", "creator_id",
                                                "created_at", "depth", "subtree_size"], "Videos (first 50)"))  # fmt: skip
