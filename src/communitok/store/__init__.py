"""Storage: the ``Store`` protocol and its backends (DuckDB embedded by default)."""

from __future__ import annotations

from ..core.errors import InputError
from ..core.settings import Settings
from .base import RunRecord, Store, WriteResult
from .duckdb_store import DuckDBStore


def open_store(settings: Settings | None = None, *, read_only: bool = False) -> Store:
    """Open the store named by *settings* (default: the embedded DuckDB file)."""
    from ..core.settings import load_settings

    settings = settings or load_settings()
    if settings.backend == "duckdb":
        return DuckDBStore(
            settings.duckdb_path,
            read_only=read_only,
            threads=settings.threads,
            memory_limit=settings.memory_limit,
        )
    if settings.backend == "postgresql":
        from .postgres_store import PostgresStore

        return PostgresStore(settings.store, read_only=read_only)
    raise InputError(f"unknown store {settings.store!r}", field="store")


__all__ = ["DuckDBStore", "RunRecord", "Store", "WriteResult", "open_store"]
