"""The demo: simulate → ingest → analyse → print a readable summary.

Each analysis contributes a section; sections for features that are not installed or
have nothing to show are skipped with a note, never crash the demo.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from ..core.settings import load_settings
from ..simulate import SimConfig
from .core import Engine, open_engine
from .simulation import ingest_simulation

#: (title, function(engine, truth, console)) run after ingest, in :data:`ORDER`
Section = tuple[str, Callable[[Engine, Any, Console], None]]
SECTIONS: list[Section] = []
#: running order: safety after communities (it masks their lingo) and before the feed
#: (which filters on its visibility labels) and partner insights (whose lingo examples
#: come from moderated comments only); sections register in whatever order their modules
#: happen to be imported (the CLI imports some early), so the order is stated here
ORDER = ("Communities", "Safety", "Trends and cascades", "For You feed", "Partner insights")


def section(
    title: str,
) -> Callable[[Callable[[Engine, Any, Console], None]], Callable[[Engine, Any, Console], None]]:
    """Register a demo section (used by feature modules of the engine); titles not in
    :data:`ORDER` run after those that are, in registration order."""

    def deco(fn: Callable[[Engine, Any, Console], None]) -> Callable[[Engine, Any, Console], None]:
        SECTIONS.append((title, fn))
        return fn

    return deco


def ordered_sections() -> list[Section]:
    """The registered sections in running order."""
    rank = {t: i for i, t in enumerate(ORDER)}
    return sorted(SECTIONS, key=lambda s: rank.get(s[0], len(ORDER)))


def _ingest_table(summary: Any) -> Table:
    t = Table(title="Ingested")
    for c in ("table", "rows", "rejected", "new"):
        t.add_column(c, justify="left" if c == "table" else "right")
    for s in summary.tables.values():
        t.add_row(s.table, f"{s.rows_read:,}", f"{s.rows_rejected:,}", f"{s.inserted:,}")
    return t


def run_demo(
    *, size: str = "small", seed: int = 42, store: str | None = None, console: Console | None = None
) -> dict[str, Any]:
    """Run the demo on the configured store (default: ./communitok.duckdb)."""
    console = console or Console()
    settings = load_settings(store=store)
    config = SimConfig.preset(size, seed=seed)
    out: dict[str, Any] = {"store": settings.store, "sections": []}
    with open_engine(settings) as eng:
        console.print(
            Panel.fit(
                f"communitok demo: simulated platform '{size}' (seed {seed}) → {settings.store}",
                style="bold",
            )
        )
        summary, truth = ingest_simulation(eng, config)
        console.print(_ingest_table(summary))
        console.print(
            f"planted: {len(truth.communities)} communities, {summary.rows_good:,} rows stored"
            f" in {summary.seconds:.1f} s"
        )
        out["ingest"] = summary.to_dict()
        _load_sections()
        for title, fn in ordered_sections():
            console.rule(title)
            try:
                fn(eng, truth, console)
                out["sections"].append(title)
            except Exception as exc:  # a broken section must not hide the others
                console.print(f"[red]{title} failed:[/] {type(exc).__name__}: {exc}")
        console.rule("Store")
        st = eng.status(runs=5)
        console.print(
            ", ".join(f"{k} {v:,}" for k, v in st.counts.items()),
            f"\nresults: {', '.join(st.results) or 'none'}",
        )
    return out


def _load_sections() -> None:
    """Import the engine modules that register demo sections (once)."""
    import importlib

    for mod in ("communities", "safety", "trends", "feed", "insights"):
        try:
            importlib.import_module(f"communitok.engine.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"communitok.engine.{mod}":
                raise
