"""Embedded DuckDB backend (the default store).

One process owns the file read-write (DuckDB's lock); threads share one database
instance through their own cursors. Every batch write is one transaction together
with its ledger row, so a killed process never leaves a partial batch.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..core.errors import InputError, SchemaError, StoreError, StoreLocked
from ..core.schema import TABLES, table_spec
from ..core.timeutil import utcnow
from .base import WriteResult
from .batchsql import matched_changed_sql, merge_in_batch_sql, upsert_sql
from .conform import conform
from .sqlbase import (
    RESULT_PREFIX,
    SqlStore,
    check_metadata_args,
    check_result_args,
    latest_version,
    migrations,
)

_UTC = pa.timestamp("us", tz="UTC")


def _utc_schema(schema: pa.Schema) -> pa.Schema | None:
    """Relabel TIMESTAMPTZ columns as UTC (DuckDB labels them with the host's zone name)."""
    fields, changed = [], False
    for f in schema:
        if pa.types.is_timestamp(f.type) and f.type.tz is not None and f.type.tz != "UTC":
            fields.append(f.with_type(pa.timestamp(f.type.unit, tz="UTC")))
            changed = True
        else:
            fields.append(f)
    return pa.schema(fields, metadata=schema.metadata) if changed else None


def _utc(table: pa.Table) -> pa.Table:
    target = _utc_schema(table.schema)
    return table.cast(target) if target is not None else table


class DuckDBStore(SqlStore):
    """A :class:`~communitok.store.base.Store` in an embedded DuckDB file (or ``:memory:``)."""

    backend = "duckdb"

    def __init__(
        self,
        path: str | Path = "communitok.duckdb",
        *,
        read_only: bool = False,
        migrate: bool = True,
        threads: int = 0,
        memory_limit: str = "",
    ) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            parent = Path(self.path).expanduser().resolve().parent
            if not parent.is_dir():
                raise InputError("folder does not exist", source=str(parent), field="store")
        config: dict[str, Any] = {}
        if threads:
            config["threads"] = int(threads)
        if memory_limit:
            config["memory_limit"] = memory_limit
        try:
            self._con = duckdb.connect(self.path, read_only=read_only, config=config)
        except duckdb.IOException as exc:
            msg = str(exc)
            if "lock" in msg.lower():
                raise StoreLocked(
                    f"store {self.path} is held by another process ({msg.split('(')[-1].rstrip(')') if 'PID' in msg else msg}); "
                    "stop that process or use its API (communitok serve owns the store while it runs)"
                ) from None
            raise StoreError(f"cannot open store {self.path}: {msg}") from None
        self.read_only = read_only
        self._lock = threading.RLock()
        self._closed = False
        if migrate and not read_only:
            self.migrate()
        elif self.schema_version() > latest_version():
            raise SchemaError("store schema is newer than this communitok; upgrade communitok")

    # --- plumbing -------------------------------------------------------------
    def _rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._cursor().execute(sql, list(params or [])).fetchall()
            except duckdb.Error as exc:
                raise StoreError(f"query failed: {exc}") from exc

    def _table(self, sql: str, params: Sequence[Any], table: str | None) -> pa.Table:
        return _utc(self._cursor().sql(sql, params=list(params)).to_arrow_table())

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        if self._closed:
            raise StoreError("store is closed")
        return self._con.cursor()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._con.close()

    def __repr__(self) -> str:
        return f"DuckDBStore({self.path!r})"

    # --- schema ---------------------------------------------------------------
    def schema_version(self) -> int:
        cur = self._cursor()
        exists = cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        ).fetchone()
        if not exists or not exists[0]:
            return 0
        row = cur.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
        return int(row[0]) if row else 0

    def migrate(self) -> list[int]:
        if self.read_only:
            raise StoreError("store is read-only")
        with self._lock:
            cur = self._cursor()
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
            )
            current = self.schema_version()
            migs = migrations("duckdb")
            if migs and current > migs[-1][0]:
                raise SchemaError(
                    f"store schema v{current} is newer than this communitok (v{migs[-1][0]})"
                )
            applied = []
            for version, name, sql in migs:
                if version <= current:
                    continue
                cur.execute("BEGIN TRANSACTION")
                try:
                    cur.execute(sql)
                    cur.execute(
                        "INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, utcnow()]
                    )
                    cur.execute("COMMIT")
                except Exception as exc:
                    cur.execute("ROLLBACK")
                    raise SchemaError(f"migration {version:04d}_{name} failed: {exc}") from exc
                applied.append(version)
            return applied

    # --- writes ---------------------------------------------------------------
    def write(self, table: str, data: pa.Table, *, batch_id: str | None = None) -> WriteResult:
        if self.read_only:
            raise StoreError("store is read-only")
        spec = table_spec(table)
        batch = conform(data, spec)
        n = batch.num_rows
        with self._lock:
            cur = self._cursor()
            if batch_id is not None and self.has_batch(batch_id):
                return WriteResult(table, n, 0, 0, n, skipped_batch=True, batch_id=batch_id)
            if n == 0:
                return WriteResult(table, 0, 0, 0, 0, batch_id=batch_id)
            cur.register("_incoming", batch)
            cur.execute("BEGIN TRANSACTION")
            try:
                if table == "events":
                    inserted, updated = self._insert_events(cur), 0
                else:
                    inserted, updated = self._upsert(cur, spec)
                if batch_id is not None:
                    cur.execute(
                        "INSERT INTO ingest_batches VALUES (?, ?, ?, ?)",
                        [batch_id, table, n, utcnow()],
                    )
                cur.execute("COMMIT")
            except duckdb.Error as exc:
                cur.execute("ROLLBACK")
                raise StoreError(f"write to {table} failed, batch rolled back: {exc}") from exc
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.unregister("_incoming")
        return WriteResult(table, n, inserted, updated, n - inserted - updated, batch_id=batch_id)

    @staticmethod
    def _insert_events(cur: duckdb.DuckDBPyConnection) -> int:
        # Events are immutable facts keyed by (viewer, video, ts): insert only the absent
        # ones. Restricting the anti-join to the batch's time range lets DuckDB's zone
        # maps skip most of the stored table (10M events load at raw speed).
        cols = ", ".join(TABLES["events"].column_names)
        dedup = merge_in_batch_sql(TABLES["events"], "_incoming")
        lo, hi = cur.execute("SELECT min(ts), max(ts) FROM _incoming").fetchone() or (None, None)
        overlap = cur.execute(
            "SELECT count(*) FROM (SELECT 1 FROM events WHERE ts BETWEEN ? AND ? LIMIT 1)", [lo, hi]
        ).fetchone()
        if not overlap or not overlap[0]:  # nothing stored in this time range: no anti-join
            row = cur.execute(f"INSERT INTO events SELECT {cols} FROM ({dedup})").fetchone()
            return int(row[0]) if row else 0
        row = cur.execute(
            f"""
            INSERT INTO events
            SELECT {cols} FROM ({dedup}) b ANTI JOIN (
                SELECT viewer_id, video_id, ts FROM events WHERE ts BETWEEN ? AND ?
            ) e USING (viewer_id, video_id, ts)
            """,
            [lo, hi],
        ).fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _upsert(cur: duckdb.DuckDBPyConnection, spec: Any) -> tuple[int, int]:
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE _dedup AS {merge_in_batch_sql(spec, '_incoming')}"
        )
        row = cur.execute(matched_changed_sql(spec, "_dedup", spec.name)).fetchone()
        matched, changed = (int(row[0]), int(row[1])) if row else (0, 0)
        total = cur.execute("SELECT count(*) FROM _dedup").fetchone()
        n_new = int(total[0]) - matched if total else 0
        cur.execute(upsert_sql(spec, "_dedup"))
        cur.execute("DROP TABLE _dedup")
        return n_new, changed

    # --- reads ----------------------------------------------------------------
    def iter_batches(
        self, table: str, columns: Sequence[str] | None = None, *, batch_rows: int = 100_000
    ) -> Iterator[pa.RecordBatch]:
        if batch_rows < 1:
            raise InputError("must be >= 1", field="batch_rows")
        physical = self._resolve(table)
        cur = self._cursor()
        reader = cur.sql(
            f"SELECT {self._columns_sql(physical, columns)} FROM {physical}"
        ).to_arrow_reader(batch_rows)
        target = _utc_schema(reader.schema)
        for rb in reader:
            yield rb.cast(target) if target is not None else rb

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        try:
            return _utc(self._cursor().sql(sql, params=list(params or [])).to_arrow_table())
        except duckdb.Error as exc:
            raise StoreError(f"query failed: {exc}") from exc

    def restore_metadata(self, table: str, data: pa.Table) -> int:
        """Insert ledger (``ingest_batches``) or ``runs`` rows copied from another store in
        one transaction; a row whose key is already here is kept. Returns rows inserted."""
        key = check_metadata_args(table, data, self.read_only)
        with self._lock:
            cur = self._cursor()
            have = _same_columns(
                cur, table, data, f"columns {data.column_names} are not those of {table}"
            )
            cols = ", ".join(have)
            with _transaction(cur, "_meta", data, f"restoring {table} rows failed"):
                row = cur.execute(
                    f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _meta m "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = m.{key})"
                ).fetchone()
        return int(row[0]) if row else 0

    # --- results --------------------------------------------------------------
    def append_result(self, name: str, data: pa.Table, *, run_id: str | None = None) -> int:
        check_result_args(name, data)
        with self._lock:
            if not self.has_result(name):
                self.put_result(name, data, run_id=run_id)
                return data.num_rows
            physical = RESULT_PREFIX + name
            cur = self._cursor()
            have = _same_columns(
                cur, physical, data, f"columns {data.column_names} do not match result {name!r}"
            )
            cols = ", ".join(f'"{c}"' for c in have)
            with _transaction(cur, "_result", data, f"appending to result {name} failed"):
                cur.execute(f"INSERT INTO {physical} ({cols}) SELECT {cols} FROM _result")
                cur.execute(
                    "UPDATE results_index SET rows = rows + ?, updated_at = ?, "
                    "run_id = coalesce(?, run_id) WHERE name = ?",
                    [data.num_rows, utcnow(), run_id, name],
                )
                total = cur.execute(
                    "SELECT rows FROM results_index WHERE name = ?", [name]
                ).fetchone()
            return int(total[0]) if total else data.num_rows

    def put_result(self, name: str, data: pa.Table, *, run_id: str | None = None) -> None:
        check_result_args(name, data)
        with self._lock:
            cur = self._cursor()
            with _transaction(cur, "_result", data):
                cur.execute(
                    f"CREATE OR REPLACE TABLE {RESULT_PREFIX}{name} AS SELECT * FROM _result"
                )
                cur.execute(
                    "INSERT OR REPLACE INTO results_index VALUES (?, ?, ?, ?)",
                    [name, run_id, data.num_rows, utcnow()],
                )


@contextlib.contextmanager
def _transaction(
    cur: Any, alias: str, data: pa.Table, failure: str | None = None
) -> Iterator[None]:
    """One transaction on *cur* with *data* registered as *alias*: commit on success,
    roll back on any error (a DuckDB error becomes ``StoreError(failure: …)`` when
    *failure* is given), unregister in every case."""
    cur.register(alias, data)
    cur.execute("BEGIN TRANSACTION")
    try:
        yield
        cur.execute("COMMIT")
    except duckdb.Error as exc:
        cur.execute("ROLLBACK")
        if failure is None:
            raise
        raise StoreError(f"{failure}: {exc}") from exc
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    finally:
        cur.unregister(alias)


def _same_columns(cur: Any, physical: str, data: pa.Table, message: str) -> list[str]:
    """The columns of table *physical*, in table order; InputError(*message*) unless
    *data* has exactly those (in any order)."""
    have = [r[0] for r in cur.execute(f"DESCRIBE {physical}").fetchall()]
    if sorted(have) != sorted(data.column_names):
        raise InputError(f"{message} ({have})", field="data")
    return have
