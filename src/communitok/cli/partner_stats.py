"""``communitok partner plan`` (minimum detectable lift before launch) and ``communitok
partner experiment`` (per-variant feed experiment read-out with CUPED)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..engine import insights as ei
from .options import JsonOpt, StoreOpt
from .partner_render import FormatOpt, KOpt, OutOpt, _open, emit


def plan(
    community: Annotated[int, typer.Argument(help="Target community id.")],
    days: Annotated[float, typer.Option(help="Campaign length (days).")] = 7.0,
    design: Annotated[str, typer.Option(help="randomised | did")] = "randomised",
    treated_share: Annotated[float, typer.Option(help="Share of viewers treated.")] = 0.5,
    reach: Annotated[
        int | None, typer.Option(help="Viewers expected (default: the recent audience).")
    ] = None,
    lift: Annotated[
        float | None, typer.Option(help="A lift to plan for (power, viewers needed).")
    ] = None,
    alpha: Annotated[float, typer.Option(help="Test level (two-sided).")] = 0.05,
    power: Annotated[float, typer.Option(help="Power.")] = 0.8,
    store: StoreOpt = None, k: KOpt = None, fmt: FormatOpt = "table", out: OutOpt = None,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """Minimum detectable lift of a campaign before launch, from the community's history."""
    eng, kk = _open(store, k)
    with eng:
        p = ei.plan_campaign(eng.store, community, days=days, design=design,
                             treated_share=treated_share, reach=reach, lift=lift,
                             alpha=alpha, power=power, k=kk)  # fmt: skip
    emit(p.to_dict(), f"Campaign plan: community {community} ({design})", fmt, out, json_out)


def experiment(
    name: Annotated[str, typer.Argument(help="Experiment name (as in feed_exposures).")],
    metric: Annotated[
        str, typer.Option(help="liked, shared, commented, followed, completed, skipped, "
                          "watch_time_s")
    ] = "liked",
    control: Annotated[str, typer.Option(help="The control variant.")] = "control",
    pre_days: Annotated[float, typer.Option(help="History for CUPED (days).")] = 14.0,
    store: StoreOpt = None, k: KOpt = None, fmt: FormatOpt = "table", out: OutOpt = None,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """Per-variant feed experiment read-out against control, raw and CUPED-adjusted."""
    eng, kk = _open(store, k)
    with eng:
        rep = ei.experiment_readout(eng.store, name, metric=metric, control=control,
                                    pre_days=pre_days, k=kk)  # fmt: skip
    emit(rep.to_dict(), f"Experiment {name}: {metric} per exposure", fmt, out, json_out)
