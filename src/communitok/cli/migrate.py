"""``communitok migrate --from A --to B``: move a store between backends (DuckDB ↔ PostgreSQL).

A thin wrapper over :func:`communitok.engine.migrate.migrate_store` (registered in
``cli/app.py`` as a top-level command).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from .options import JsonOpt
from .render import console, print_json, row_progress


def migrate(
    source: Annotated[
        str, typer.Option("--from", help="Source store: a DuckDB file or a postgresql://… DSN.")
    ],
    target: Annotated[
        str, typer.Option("--to", help="Target store: a DuckDB file or a postgresql://… DSN.")
    ],
    batch_rows: Annotated[
        int, typer.Option(help="Rows per batch (one target transaction each).")
    ] = 100_000,
    checksums: Annotated[
        bool,
        typer.Option(
            "--checksums/--counts-only", help="Verify each table by checksum, or by counts only."
        ),
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """Copy every table, result, run and the ingest ledger to another store, then verify.

    Safe to rerun: an interrupted migration resumes, a finished one changes nothing.
    """
    from ..engine.migrate import migrate_store

    with row_progress("migrate") as progress:
        rep = migrate_store(
            source, target, batch_rows=batch_rows, checksums=checksums, progress=progress
        )
    if json_out:
        print_json(rep.to_dict())
        return
    t = Table(title=f"{rep.source} → {rep.target}")
    for c in ("table", "kind", "source rows", "target rows", "written", "", "checksum"):
        t.add_column(c, justify="right" if "rows" in c or c == "written" else "left")
    for x in rep.tables:
        state = "already there" if x.skipped else "copied"
        t.add_row(x.name, x.kind, f"{x.source_rows:,}", f"{x.target_rows:,}",
                  f"{x.rows_written:,}", state, x.source_checksum or "counts only")  # fmt: skip
    console.print(t)
    if rep.extra_results:
        console.print(
            "Results only in the target (left as they are): " + ", ".join(rep.extra_results)
        )
    console.print(
        f"verified {len(rep.tables)} tables in {rep.seconds:.1f}s (run {rep.run_id} in the target)"
    )
