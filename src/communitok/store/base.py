"""The storage interface every backend implements (DuckDB embedded, PostgreSQL server).

One contract test suite (``tests/store/contract.py``) runs against every backend.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from ..core.errors import InputError


@dataclass(frozen=True)
class WriteResult:
    """What one batch write did."""

    table: str
    rows_in: int
    inserted: int
    updated: int
    unchanged: int
    skipped_batch: bool = False
    batch_id: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """Metadata of one long job (detection, training, ingest, backfill)."""

    run_id: str
    kind: str
    status: str
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    input_fingerprint: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    summary: Mapping[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def in_key_order(data: pa.Table, table: str) -> pa.Table:
    """*data* read from core table *table*, sorted by its primary key (the key columns
    *data* has; unchanged if it has none).

    A store returns rows in no particular order: the order differs between backends and
    changes with upserts. An analysis whose output may depend on row order sorts its
    inputs with this first, so that every backend gives the same answer. The sort is by
    code point (Arrow), not by a database collation.
    """
    from ..core.schema import TABLES

    if table not in TABLES:
        raise InputError(f"not a core table: {table!r}", field="table")
    keys = [c for c in TABLES[table].primary_key if c in data.column_names]
    if not keys or data.num_rows < 2:
        return data
    return data.sort_by([(c, "ascending") for c in keys])


@runtime_checkable
class Store(Protocol):
    """Storage of communitok's tables, analysis results and run metadata."""

    #: ``"duckdb"`` or ``"postgresql"``
    backend: str

    # --- schema -------------------------------------------------------------
    def schema_version(self) -> int:
        """The applied schema version (0 for an empty store)."""
        ...

    def migrate(self) -> list[int]:
        """Apply pending migrations; return the versions applied."""
        ...

    # --- core tables --------------------------------------------------------
    def write(self, table: str, data: pa.Table, *, batch_id: str | None = None) -> WriteResult:
        """Upsert one batch atomically.

        Entity tables merge on their primary key (a non-null incoming value wins, a null
        keeps what is stored); ``events`` are immutable facts inserted if absent. If
        *batch_id* was written before, nothing happens and ``skipped_batch`` is true.
        Either the whole batch and its ledger row land, or nothing does.
        """
        ...

    def has_batch(self, batch_id: str) -> bool:
        """Whether a batch with this id has been written."""
        ...

    def read(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        *,
        filters: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> pa.Table:
        """Read a core or result table; *filters* are column == value (or IN a list)."""
        ...

    def iter_batches(
        self, table: str, columns: Sequence[str] | None = None, *, batch_rows: int = 100_000
    ) -> Iterator[pa.RecordBatch]:
        """Stream a table in Arrow record batches (bounded memory)."""
        ...

    def count(self, table: str) -> int: ...

    def counts(self) -> dict[str, int]:
        """Row count of every core table."""
        ...

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run a read-only analytic SQL query (portable SQL, ``?`` placeholders)."""
        ...

    # --- analysis results ---------------------------------------------------
    def put_result(self, name: str, data: pa.Table, *, run_id: str | None = None) -> None:
        """Replace result table *name* (e.g. ``community_members``) atomically.

        Every backend stores it as the SQL table ``result_<name>`` so analytic SQL in
        ``query`` can join results with core tables.
        """
        ...

    def append_result(self, name: str, data: pa.Table, *, run_id: str | None = None) -> int:
        """Append rows to result table *name* (created when absent) in one transaction.

        For logs (feed exposures, moderation decisions): cost grows with the appended
        rows, not with the table. Columns must match the existing table by name.
        Returns the table's row count afterwards.
        """
        ...

    def has_result(self, name: str) -> bool: ...

    def result_names(self) -> list[str]: ...

    # --- runs ---------------------------------------------------------------
    def start_run(
        self,
        kind: str,
        params: Mapping[str, Any] | None = None,
        *,
        seed: int | None = None,
        input_fingerprint: str | None = None,
    ) -> str: ...

    def finish_run(
        self, run_id: str, status: str = "ok", summary: Mapping[str, Any] | None = None
    ) -> RunRecord: ...

    def runs(self, limit: int = 20, kind: str | None = None) -> list[RunRecord]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...
