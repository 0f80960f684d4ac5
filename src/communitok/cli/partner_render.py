"""Shared by the ``communitok partner`` commands: options, and rendering a report as
Rich tables or ``--format json|csv|html`` to ``--out FILE`` (or stdout)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..core.errors import InputError
from ..core.settings import load_settings
from ..engine import open_engine
from ..insights.export import render, split
from .render import console, print_json, rows_table

KOpt = Annotated[
    int | None, typer.Option("--k", help="Privacy threshold (default: settings.privacy_k).")
]
FormatOpt = Annotated[str, typer.Option("--format", help="table (terminal), json, csv or html.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Write the report to FILE.")]

#: columns shown per section in the terminal (others: the first 10)
COLUMNS: dict[str, list[str]] = {
    "matches": ["rank", "community_id", "name", "score", "text_score", "n_people",
                "matched_hashtags", "matched_lingo", "matched_captions"],
    "ambassadors": ["rank", "creator_id", "fit", "n_people", "reach", "audience_share",
                    "engagement_per_view", "cocreation", "consistency", "growth",
                    "brand_safety", "flags"],
    "pairs": ["a", "b", "n_people", "jaccard", "jaccard_low", "jaccard_high", "lift",
              "lift_low", "lift_high"],
    "top_hashtags": ["rank", "item", "n_people", "videos", "creators", "share", "share_low",
                     "share_high", "growth", "rising"],
    "rising_hashtags": ["rank", "item", "n_people", "recent", "previous", "growth",
                        "growth_low", "growth_high"],
    "sounds": ["rank", "item", "n_people", "videos", "share", "share_low", "share_high",
               "signature_lift", "growth", "rising"],
    "effects": ["rank", "item", "n_people", "videos", "share", "share_low", "share_high",
                "signature_lift", "growth", "rising"],
    "lingo": ["rank", "term", "n_people", "example"],
    "trends": ["rank", "kind", "item", "n_people", "stage", "score", "start", "peak"],
    "bridges": ["b", "name_b", "n_people", "lift", "lift_low", "lift_high", "bridge_hashtags"],
    "overlap": ["b", "name_b", "n_people", "jaccard", "jaccard_low", "jaccard_high", "lift",
                "lift_low", "lift_high"],
    "posting_windows": ["hour", "n_people", "impressions", "actions_per_impression",
                        "api_low", "api_high"],
    "arms": ["arm", "n_people", "impressions", "actions"],
    "estimates": ["estimator", "status", "lift", "ci_low", "ci_high", "p_value", "reason"],
    "variants": ["variant", "n_people", "mean", "diff", "ci_low", "ci_high", "diff_cuped",
                 "ci_low_cuped", "ci_high_cuped", "variance_reduction"],
    "curve": ["n_viewers", "n_treated", "n_control", "se_log", "mde"],
}  # fmt: skip


def _open(store: str | None, k: int | None):  # type: ignore[no-untyped-def]
    settings = load_settings(store=store)
    return open_engine(settings), (settings.privacy_k if k is None else k)


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(x.strip() for v in values or [] for x in v.split(",") if x.strip())


def emit(report: dict[str, Any], title: str, fmt: str, out: Path | None, json_out: bool) -> None:
    """Render *report*: a terminal view, or json / csv / html to *out* or stdout."""
    fmt = "json" if json_out and fmt == "table" else fmt
    if fmt not in ("table", "json", "csv", "html"):
        raise InputError("format is table, json, csv or html", field="format")
    if fmt == "table" and out is not None:
        raise InputError("--out needs --format json, csv or html", field="out")
    if fmt == "table":
        _show(report, title)
        return
    text = render(report, fmt, title=title)
    if out is None:
        if fmt == "json":
            print_json(report)
        else:
            typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {fmt} report to {out}")


def _show(report: dict[str, Any], title: str) -> None:
    meta, sections = split(report)
    notes = meta.pop("notes", None) or []
    console.print(f"[bold]{title}[/]")
    keep = [f"{k}={v}" for k, v in meta.items() if not isinstance(v, list) and v is not None]
    console.print(", ".join(keep[:14]), soft_wrap=True, highlight=False)
    for name, rows in sections.items():
        cols = COLUMNS.get(name) or (list(rows[0])[:10] if rows else [])
        console.print(rows_table(f"{name} ({len(rows)})", rows[:25], cols))
    for n in notes if isinstance(notes, list) else [notes]:
        console.print(f"[yellow]note:[/] {n}")
