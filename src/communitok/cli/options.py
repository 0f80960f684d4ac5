"""Options and helpers every CLI module shares (one definition of ``--store``, ``--json``)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..core.settings import load_settings
from ..engine import Engine, open_engine

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store", help="Store location (DuckDB file or postgresql://…); env COMMUNITOK_STORE."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def sub_app(help: str) -> typer.Typer:
    """A feature sub-command group with the project's Typer defaults."""
    return typer.Typer(
        help=help, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
    )


def engine_for(store: str | None) -> Engine:
    """Open the engine on *store* (or the configured default)."""
    return open_engine(load_settings(store=store))
