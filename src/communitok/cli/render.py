"""Rendering helpers for the CLI (Rich tables, JSON output)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..ingest import IngestSummary

console = Console()
err_console = Console(stderr=True)


def print_json(data: Any) -> None:
    console.print_json(json.dumps(data, default=str, ensure_ascii=False))


def fmt_cell(v: Any) -> str:
    """One value as table text: thousands separators, 3 significant digits, lists joined."""
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, list):
        return ", ".join(str(x.get("item", x)) if isinstance(x, dict) else fmt_cell(x) for x in v)
    return str(v)


def rows_table(title: str, rows: list[dict[str, Any]], cols: list[str]) -> Table:
    """A Rich table of *cols* from row dicts (long values fold)."""
    t = Table(title=title)
    for c in cols:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*[fmt_cell(r.get(c)) for c in cols])
    return t


def ingest_table(summary: IngestSummary, title: str = "Ingest") -> Table:
    t = Table(title=title)
    for col in ("table", "read", "good", "rejected", "inserted", "updated", "unchanged", "batches"):
        t.add_column(col, justify="right" if col != "table" else "left")
    for s in summary.tables.values():
        t.add_row(
            s.table,
            f"{s.rows_read:,}",
            f"{s.rows_good:,}",
            f"{s.rows_rejected:,}",
            f"{s.inserted:,}",
            f"{s.updated:,}",
            f"{s.unchanged:,}",
            f"{s.batches}"
            + (f" ({s.batches_skipped} already loaded)" if s.batches_skipped else ""),
        )
    return t


def print_rejects(summary: IngestSummary, limit: int = 10) -> None:
    if not summary.rows_rejected:
        return
    console.print(
        f"[yellow]{summary.rows_rejected:,} rows rejected[/]; report: {summary.rejects_path}"
    )
    for r in summary.rejects[:limit]:
        console.print(f"  {r.source}:{r.line}: field {r.field!r}: {r.reason} (value {r.value!r})")


@contextmanager
def row_progress(label: str) -> Iterator[Any]:
    """A Rich progress display counting rows; yields a ``(table, n)`` callback."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=None),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)

        def update(table: str, n: int) -> None:
            progress.update(task, advance=n, description=f"{label} {table}")

        yield update
