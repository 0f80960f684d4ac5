"""Typer application: ``communitok simulate|ingest|status|demo``.

Every command has a library twin (``communitok.engine``); errors become one-line
messages with the exit code of their class (see ``communitok.core.errors``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..core.errors import CommunitokError
from .options import JsonOpt, StoreOpt, engine_for
from .render import console, err_console, ingest_table, print_json, print_rejects, row_progress

app = typer.Typer(
    name="communitok",
    help="Engine for community-driven short-video platforms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def status(store: StoreOpt = None, json_out: JsonOpt = False, runs: int = 10) -> None:
    """What is stored: counts per table, schema version, last runs."""
    with engine_for(store) as eng:
        rep = eng.status(runs=runs)
    if json_out:
        print_json(rep.to_dict())
        return
    console.print(
        f"[bold]{rep.backend}[/] store at {rep.location} (schema v{rep.schema_version}"
        f" of v{rep.latest_schema_version})"
    )
    from rich.table import Table

    t = Table(title="Tables")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for k, v in rep.counts.items():
        t.add_row(k, f"{v:,}")
    console.print(t)
    if rep.results:
        console.print("Results: " + ", ".join(rep.results))
    if rep.runs:
        r = Table(title="Last runs")
        for c in ("run", "kind", "status", "started", "seconds"):
            r.add_column(c)
        for run in rep.runs:
            r.add_row(
                run.run_id,
                run.kind,
                run.status,
                run.started_at.strftime("%Y-%m-%d %H:%M:%S") if run.started_at else "",
                f"{run.duration_s:.1f}" if run.duration_s is not None else "",
            )
        console.print(r)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to load.")],
    table: Annotated[
        str | None, typer.Option(help="Target table (default: from the file name).")
    ] = None,
    format: Annotated[
        str | None, typer.Option("--format", help="jsonl, csv, tsv, parquet or research-api.")
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(help="Read PATHS[0] as a known real data set (stitchgraph, tiktok_rec, …)."),
    ] = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Validate and load files; bad rows go to a rejects report, good rows land."""
    with engine_for(store) as eng, row_progress("ingest") as progress:
        if dataset:
            summary = eng.ingest_dataset(dataset, paths[0], progress=progress)
        else:
            summary = eng.ingest(
                [str(p) for p in paths], table=table, format=format, progress=progress
            )
    if json_out:
        print_json(summary.to_dict())
        return
    console.print(ingest_table(summary))
    print_rejects(summary)


@app.command()
def simulate(
    out: Annotated[Path, typer.Argument(help="Folder to write the simulated platform to.")],
    size: Annotated[str, typer.Option(help="tiny, small, medium or large.")] = "small",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    format: Annotated[str, typer.Option("--format", help="parquet, csv or jsonl.")] = "parquet",
    ingest_too: Annotated[
        bool, typer.Option("--ingest", help="Also load it into the store.")
    ] = False,
    store: StoreOpt = None,
) -> None:
    """Write a seeded synthetic platform (tables + ground-truth bundle) to OUT."""
    from ..engine.simulation import simulate_to_folder

    info = simulate_to_folder(out, size=size, seed=seed, format=format)
    console.print(
        f"wrote {sum(info.rows.values()):,} rows in {len(info.files)} tables to {out}"
        f" (ground truth in {info.truth_dir})"
    )
    if ingest_too:
        with engine_for(store) as eng, row_progress("ingest") as progress:
            summary = eng.ingest(
                [str(p) for p in info.files.values()], format=None, progress=progress
            )
        console.print(ingest_table(summary))
        print_rejects(summary)


@app.command()
def demo(
    size: Annotated[str, typer.Option(help="Simulator size: tiny, small, medium.")] = "small",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    store: StoreOpt = None,
) -> None:
    """Simulate a platform, ingest it, run the analyses and print a summary."""
    from ..engine.demo import run_demo

    run_demo(size=size, seed=seed, store=store, console=console)


def _register_subcommands() -> None:
    """Feature sub-commands (each a Typer app in ``communitok.cli.<feature>``)."""
    from .communities import app as communities_app
    from .feed import app as feed_app
    from .insights import app as insights_app
    from .migrate import migrate
    from .partner import app as partner_app
    from .safety import app as safety_app
    from .serve import serve
    from .trends import cascades_app, trends_app

    app.add_typer(communities_app, name="communities")
    app.add_typer(feed_app, name="feed")
    app.add_typer(insights_app, name="insights")
    app.add_typer(partner_app, name="partner")
    app.command("migrate")(migrate)
    app.command()(serve)
    app.add_typer(safety_app, name="safety")
    app.add_typer(trends_app, name="trends")
    app.add_typer(cascades_app, name="cascades")


_register_subcommands()


def main() -> None:
    try:
        app()
    except CommunitokError as exc:
        err_console.print(f"[red]error:[/] {exc}", soft_wrap=True, highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
