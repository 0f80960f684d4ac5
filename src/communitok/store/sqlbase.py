"""What every SQL backend shares: table resolution, reads, counts, results index, runs.

A backend implements ``_rows(sql, params)`` (portable SQL with ``?`` placeholders → list
of tuples, run under the store's lock) and ``_table(sql, params, schema)`` (→ Arrow), plus
the writes and schema handling specific to it.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, Self

import pyarrow as pa

from ..core.errors import InputError, NotFound, StoreError
from ..core.schema import TABLES
from ..core.timeutil import utcnow
from .base import RunRecord

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESULT_PREFIX = "result_"
_RUN_COLUMNS = (
    "run_id, kind, status, params, seed, input_fingerprint, started_at, finished_at, summary"
)


def check_result_args(name: object, data: object) -> None:
    """Validate ``put_result`` / ``append_result`` arguments (shared by the backends)."""
    if not isinstance(name, str) or not NAME.match(name) or name in TABLES:
        raise InputError(f"invalid result name {name!r}", field="name")
    if not isinstance(data, pa.Table):
        raise InputError("must be a pyarrow.Table", field="data")


#: tables ``restore_metadata`` accepts, with their key
METADATA_KEYS = {"ingest_batches": "batch_id", "runs": "run_id"}


def check_metadata_args(table: object, data: object, read_only: bool) -> str:
    """Validate ``restore_metadata`` arguments (shared by the backends); returns the
    table's key column."""
    key = METADATA_KEYS.get(table) if isinstance(table, str) else None
    if key is None:
        raise InputError("must be ingest_batches or runs", field="table")
    if read_only:
        raise StoreError("store is read-only")
    if not isinstance(data, pa.Table):
        raise InputError("must be a pyarrow.Table", field="data")
    return key


def migrations(dialect: str) -> list[tuple[int, str, str]]:
    """(version, name, sql) of the packaged migration files of *dialect*, in order."""
    folder = resources.files("communitok.store") / "migrations" / dialect
    out = []
    for entry in folder.iterdir():
        m = re.match(r"^(\d{4})_(.+)\.sql$", entry.name)
        if m:
            out.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    return sorted(out)


def latest_version(dialect: str = "duckdb") -> int:
    """The newest schema version this code ships for *dialect*."""
    migs = migrations(dialect)
    return migs[-1][0] if migs else 0


class SqlStore:
    """Shared half of the DuckDB and PostgreSQL stores."""

    #: condition for "column is in a list parameter" in the backend's dialect
    _IN_LIST = '"{col}" IN (SELECT unnest(?))'
    _lock: threading.RLock

    def _rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _table(self, sql: str, params: Sequence[Any], table: str | None) -> pa.Table:
        raise NotImplementedError

    # --- names ------------------------------------------------------------------
    def _resolve(self, table: str) -> str:
        if table in TABLES:
            return table
        if not NAME.match(table):
            raise InputError(f"invalid table name {table!r}", field="table")
        if self.has_result(table):
            return RESULT_PREFIX + table
        raise NotFound(f"no table or result named {table!r}")

    def _columns_sql(self, physical: str, columns: Sequence[str] | None) -> str:
        if columns is None:
            return "*"
        known = {
            r[0]
            for r in self._rows(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = ? AND table_schema = current_schema()",
                [physical],
            )
        }
        bad = [c for c in columns if c not in known]
        if bad:
            raise InputError(f"unknown columns {bad} of {physical}", field="columns")
        return ", ".join(f'"{c}"' for c in columns)

    # --- reads ------------------------------------------------------------------
    def has_batch(self, batch_id: str) -> bool:
        return bool(
            self._rows("SELECT count(*) FROM ingest_batches WHERE batch_id = ?", [batch_id])[0][0]
        )

    def read(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        *,
        filters: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> pa.Table:
        physical = self._resolve(table)
        sql = f"SELECT {self._columns_sql(physical, columns)} FROM {physical}"
        params: list[Any] = []
        if filters:
            self._columns_sql(physical, list(filters))
            conds = []
            for col, val in filters.items():
                if isinstance(val, list | tuple | set):
                    conds.append(self._IN_LIST.format(col=col))
                    params.append(list(val))
                else:
                    conds.append(f'"{col}" = ?')
                    params.append(val)
            sql += " WHERE " + " AND ".join(conds)
        if limit is not None:
            if limit < 0:
                raise InputError("must be >= 0", field="limit")
            sql += f" LIMIT {int(limit)}"
        return self._table(sql, params, table)

    def count(self, table: str) -> int:
        return int(self._rows(f"SELECT count(*) FROM {self._resolve(table)}")[0][0])

    def counts(self) -> dict[str, int]:
        return {name: self.count(name) for name in TABLES}

    # --- results ------------------------------------------------------------------
    def has_result(self, name: str) -> bool:
        return bool(self._rows("SELECT count(*) FROM results_index WHERE name = ?", [name])[0][0])

    def result_names(self) -> list[str]:
        return [r[0] for r in self._rows("SELECT name FROM results_index ORDER BY name")]

    # --- runs -----------------------------------------------------------------------
    def start_run(
        self,
        kind: str,
        params: Mapping[str, Any] | None = None,
        *,
        seed: int | None = None,
        input_fingerprint: str | None = None,
    ) -> str:
        if not kind:
            raise InputError("must not be empty", field="kind")
        run_id = uuid.uuid4().hex[:16]
        self._rows(
            "INSERT INTO runs VALUES (?, ?, 'running', ?, ?, ?, ?, NULL, NULL)",
            [
                run_id,
                kind,
                json.dumps(dict(params or {}), default=str),
                seed,
                input_fingerprint,
                utcnow(),
            ],
        )
        return run_id

    def finish_run(
        self, run_id: str, status: str = "ok", summary: Mapping[str, Any] | None = None
    ) -> RunRecord:
        if status not in {"ok", "failed", "cancelled"}:
            raise InputError("must be ok, failed or cancelled", field="status")
        with self._lock:
            if not self._rows("SELECT count(*) FROM runs WHERE run_id = ?", [run_id])[0][0]:
                raise NotFound(f"no run {run_id!r}")
            self._rows(
                "UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE run_id = ?",
                [status, utcnow(), json.dumps(dict(summary or {}), default=str), run_id],
            )
        return self.runs(limit=1, run_id=run_id)[0]

    def runs(
        self, limit: int = 20, kind: str | None = None, run_id: str | None = None
    ) -> list[RunRecord]:
        if limit < 1:
            raise InputError("must be >= 1", field="limit")
        sql = f"SELECT {_RUN_COLUMNS} FROM runs"
        conds, params = [], []
        if kind:
            conds.append("kind = ?")
            params.append(kind)
        if run_id:
            conds.append("run_id = ?")
            params.append(run_id)
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        sql += f" ORDER BY started_at DESC LIMIT {int(limit)}"
        return [
            RunRecord(
                run_id=r[0],
                kind=r[1],
                status=r[2],
                params=json.loads(r[3]) if r[3] else {},
                seed=r[4],
                input_fingerprint=r[5],
                started_at=r[6],
                finished_at=r[7],
                summary=json.loads(r[8]) if r[8] else {},
            )
            for r in self._rows(sql, params)
        ]
