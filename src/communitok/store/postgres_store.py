"""PostgreSQL backend (the server option): same contract as the DuckDB store.

Select it with one setting: ``COMMUNITOK_STORE=postgresql://user@host/db``. Needs the
``postgres`` extra (psycopg 3 and the ADBC PostgreSQL driver). Batches travel with COPY
into a temporary table and merge with ``INSERT … ON CONFLICT`` in one transaction,
together with the ledger row, so a lost connection rolls the whole batch back and the
retry succeeds. Reads (``read``, ``iter_batches``, ``query``) come back as Arrow through
ADBC (:mod:`.pg_arrow`); result tables keep their Arrow schema, nested columns as JSONB.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from ..core.errors import InputError, SchemaError, StoreError
from ..core.schema import TABLES, table_spec
from ..core.timeutil import utcnow
from .base import WriteResult
from .batchsql import matched_changed_sql, merge_in_batch, upsert_sql
from .conform import conform
from .pg_arrow import (
    ArrowReader,
    column_type,
    has_adbc,
    jsonify,
    normalize,
    rows_to_arrow,
    schema_comment,
    schema_from_comment,
)
from .sqlbase import (
    NAME,
    RESULT_PREFIX,
    SqlStore,
    check_metadata_args,
    check_result_args,
    latest_version,
    migrations,
)


def _placeholders(sql: str) -> str:
    """Portable ``?`` placeholders → psycopg's ``%s`` (outside quoted literals)."""
    out, quoted = [], False
    for ch in sql:
        if ch == "'":
            quoted = not quoted
        if ch == "?" and not quoted:
            out.append("%s")
        elif ch == "%" and not quoted:
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


class PostgresStore(SqlStore):
    """A :class:`~communitok.store.base.Store` in a PostgreSQL database."""

    backend = "postgresql"
    _IN_LIST = '"{col}" = ANY(?)'

    def __init__(self, dsn: str, *, migrate: bool = True, read_only: bool = False) -> None:
        try:
            import psycopg
        except ImportError:  # pragma: no cover - depends on the extra
            raise StoreError(
                "the PostgreSQL backend needs the extra: pip install 'communitok[postgres]'"
            ) from None
        self._psycopg = psycopg
        self.dsn = dsn
        try:
            self._conn = self._connect()
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to {self._safe_dsn()}: {exc}".strip()) from None
        self.read_only = read_only
        self._lock = threading.RLock()
        self._closed = False
        self._reader = ArrowReader(dsn) if has_adbc() else None
        if migrate and not read_only:
            self.migrate()
        elif self.schema_version() > latest_version("postgresql"):
            raise SchemaError("store schema is newer than this communitok; upgrade communitok")

    def _connect(self) -> Any:
        """A psycopg connection in autocommit mode, its session in UTC (so that the server's
        date and time functions bin in UTC, as everything in communitok does)."""
        conn = self._psycopg.connect(self.dsn, autocommit=True)
        conn.execute("SET TIME ZONE 'UTC'")
        return conn

    def _safe_dsn(self) -> str:
        return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", self.dsn)

    def __repr__(self) -> str:
        return f"PostgresStore({self._safe_dsn()!r})"

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._conn.close()
            if self._reader is not None:
                self._reader.close()

    def _rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self._exec(sql, params)[1]

    def _table(self, sql: str, params: Sequence[Any], table: str | None) -> pa.Table:
        schema = self._schema_of(table) if table else None
        if self._reader is None:
            cur, rows = self._exec(sql, params)
            return rows_to_arrow(cur, rows, schema)
        with self._lock:
            if self._closed:
                raise StoreError("store is closed")
            return normalize(self._reader.table(sql, params), schema)

    def _live(self) -> None:
        """Reconnect when the server dropped the connection (the lost session's open
        transaction was rolled back by the server, so nothing half-done survives)."""
        if self._closed:
            raise StoreError("store is closed")
        if self._conn.closed:
            try:
                self._conn = self._connect()
            except self._psycopg.Error as exc:
                raise StoreError(
                    f"lost the connection to {self._safe_dsn()} and cannot reconnect: {exc}"
                ) from None

    def _lost(self) -> str:
        return "; connection lost, the next call reconnects" if self._conn.closed else ""

    def _exec(
        self, sql: str, params: Sequence[Any] | None = None
    ) -> tuple[Any, list[tuple[Any, ...]]]:
        with self._lock:
            self._live()
            cur = self._conn.cursor()
            try:
                cur.execute(_placeholders(sql), list(params or []))
                rows = cur.fetchall() if cur.description else []
            except self._psycopg.Error as exc:
                raise StoreError(f"query failed: {exc}".strip() + self._lost()) from exc
            return cur, rows

    # --- schema ---------------------------------------------------------------
    def schema_version(self) -> int:
        _, rows = self._exec("SELECT to_regclass('schema_migrations') IS NOT NULL")
        if not rows[0][0]:
            return 0
        _, rows = self._exec("SELECT coalesce(max(version), 0) FROM schema_migrations")
        return int(rows[0][0])

    def migrate(self) -> list[int]:
        if self.read_only:
            raise StoreError("store is read-only")
        with self._lock:
            self._exec(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
            )
            current = self.schema_version()
            migs = migrations("postgresql")
            if migs and current > migs[-1][0]:
                raise SchemaError(f"store schema v{current} is newer than this communitok")
            applied = []
            for version, name, sql in migs:
                if version <= current:
                    continue
                try:
                    with self._conn.transaction():
                        self._conn.execute(sql)
                        self._conn.execute(
                            "INSERT INTO schema_migrations VALUES (%s, %s, %s)",
                            [version, name, utcnow()],
                        )
                except self._psycopg.Error as exc:
                    raise SchemaError(f"migration {version:04d}_{name} failed: {exc}") from exc
                applied.append(version)
            return applied

    # --- writes ---------------------------------------------------------------
    def _copy_into(self, cur: Any, temp: str, table: pa.Table) -> None:
        cols = table.column_names
        with cur.copy(f"COPY {temp} ({', '.join(cols)}) FROM STDIN") as copy:
            for row in zip(*(table.column(c).to_pylist() for c in cols), strict=True):
                copy.write_row(row)

    def write(self, table: str, data: pa.Table, *, batch_id: str | None = None) -> WriteResult:
        if self.read_only:
            raise StoreError("store is read-only")
        spec = table_spec(table)
        batch = conform(data, spec)
        n = batch.num_rows
        with self._lock:
            self._live()
            if batch_id is not None and self.has_batch(batch_id):
                return WriteResult(table, n, 0, 0, n, skipped_batch=True, batch_id=batch_id)
            if n == 0:
                return WriteResult(table, 0, 0, 0, 0, batch_id=batch_id)
            merged = merge_in_batch(spec, batch)
            try:
                with self._conn.transaction():
                    cur = self._conn.cursor()
                    cur.execute(f"CREATE TEMP TABLE _incoming (LIKE {table}) ON COMMIT DROP")
                    self._copy_into(cur, "_incoming", merged)
                    if table == "events":
                        cols = ", ".join(spec.column_names)
                        cur.execute(
                            f"INSERT INTO events ({cols}) SELECT {cols} FROM _incoming "
                            "ON CONFLICT (viewer_id, video_id, ts) DO NOTHING"
                        )
                        inserted, updated = cur.rowcount, 0
                    else:
                        cur.execute(matched_changed_sql(spec, "_incoming", table))
                        row = cur.fetchone()
                        matched, updated = (row[0], row[1]) if row else (0, 0)
                        inserted = merged.num_rows - int(matched)
                        cur.execute(upsert_sql(spec, "_incoming"))
                    if batch_id is not None:
                        cur.execute(
                            "INSERT INTO ingest_batches VALUES (%s, %s, %s, %s)",
                            [batch_id, table, n, utcnow()],
                        )
            except self._psycopg.Error as exc:
                raise StoreError(
                    f"write to {table} failed, batch rolled back: {exc}".strip() + self._lost()
                ) from exc
        return WriteResult(
            table,
            n,
            int(inserted),
            int(updated),
            n - int(inserted) - int(updated),
            batch_id=batch_id,
        )

    # --- reads ----------------------------------------------------------------
    def _schema_of(self, table: str) -> pa.Schema | None:
        """Arrow schema of a core table, or the one a result was put with."""
        if table in TABLES:
            return TABLES[table].schema
        if not NAME.match(table):
            return None
        rows = self._rows(
            "SELECT obj_description(to_regclass(?), 'pg_class')", [RESULT_PREFIX + table]
        )
        return schema_from_comment(rows[0][0]) if rows else None

    def iter_batches(
        self, table: str, columns: Sequence[str] | None = None, *, batch_rows: int = 100_000
    ) -> Iterator[pa.RecordBatch]:
        if batch_rows < 1:
            raise InputError("must be >= 1", field="batch_rows")
        physical = self._resolve(table)
        schema = self._schema_of(table)
        sql = f"SELECT {self._columns_sql(physical, columns)} FROM {physical}"
        if self._reader is None:
            yield from self._iter_rows(sql, schema, batch_rows)
            return
        for rb in self._reader.stream(sql):
            batch = normalize(pa.Table.from_batches([rb]), schema)
            yield from batch.to_batches(max_chunksize=batch_rows)

    def _iter_rows(
        self, sql: str, schema: pa.Schema | None, batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        self._live()
        with self._lock, self._conn.transaction():
            cur = self._conn.cursor(name=f"it_{uuid.uuid4().hex[:8]}")
            cur.execute(sql)
            while rows := cur.fetchmany(batch_rows):
                yield from rows_to_arrow(cur, rows, schema).to_batches()
            cur.close()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        if self._reader is None:
            cur, rows = self._exec(sql, params)
            return rows_to_arrow(cur, rows)
        with self._lock:
            if self._closed:
                raise StoreError("store is closed")
            return normalize(self._reader.table(sql, params))

    def restore_metadata(self, table: str, data: pa.Table) -> int:
        """Insert ledger (``ingest_batches``) or ``runs`` rows copied from another store in
        one transaction; a row whose key is already here is kept. Returns rows inserted."""
        key = check_metadata_args(table, data, self.read_only)
        with self._lock:
            have = [
                r[0]
                for r in self._rows(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                    "AND table_schema = current_schema() ORDER BY ordinal_position",
                    [table],
                )
            ]
            if sorted(have) != sorted(data.column_names):
                raise InputError(
                    f"columns {data.column_names} are not those of {table}", field="data"
                )
            try:
                with self._conn.transaction():
                    cur = self._conn.cursor()
                    cur.execute(f"CREATE TEMP TABLE _meta (LIKE {table}) ON COMMIT DROP")
                    self._copy_into(cur, "_meta", data.select(have))
                    cur.execute(
                        f"INSERT INTO {table} SELECT * FROM _meta ON CONFLICT ({key}) DO NOTHING"
                    )
                    inserted = cur.rowcount
            except self._psycopg.Error as exc:
                raise StoreError(f"restoring {table} rows failed: {exc}".strip()) from exc
        return int(inserted)

    # --- results --------------------------------------------------------------
    def append_result(self, name: str, data: pa.Table, *, run_id: str | None = None) -> int:
        check_result_args(name, data)
        with self._lock:
            if not self.has_result(name):
                self.put_result(name, data, run_id=run_id)
                return data.num_rows
            physical = RESULT_PREFIX + name
            have = [
                r[0]
                for r in self._rows(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = ? AND table_schema = current_schema() "
                    "ORDER BY ordinal_position",
                    [physical],
                )
            ]
            if sorted(have) != sorted(data.column_names):
                raise InputError(
                    f"columns {data.column_names} do not match result {name!r} ({have})",
                    field="data",
                )
            try:
                with self._conn.transaction():
                    cur = self._conn.cursor()
                    if data.num_rows:
                        quoted = jsonify(data.select(have)).rename_columns([f'"{c}"' for c in have])
                        self._copy_into(cur, physical, quoted)
                    cur.execute(
                        "UPDATE results_index SET rows = rows + %s, updated_at = %s, "
                        "run_id = coalesce(%s, run_id) WHERE name = %s RETURNING rows",
                        [data.num_rows, utcnow(), run_id, name],
                    )
                    row = cur.fetchone()
            except self._psycopg.Error as exc:
                raise StoreError(f"appending to result {name} failed: {exc}".strip()) from exc
            return int(row[0]) if row else data.num_rows

    def put_result(self, name: str, data: pa.Table, *, run_id: str | None = None) -> None:
        check_result_args(name, data)
        cols = [f'"{f.name}" {column_type(f)}' for f in data.schema]
        comment = self._psycopg.sql.SQL("COMMENT ON TABLE {} IS {}").format(
            self._psycopg.sql.Identifier(RESULT_PREFIX + name),
            self._psycopg.sql.Literal(schema_comment(data.schema)),
        )
        physical = RESULT_PREFIX + name
        self._live()
        try:
            with self._lock, self._conn.transaction():
                cur = self._conn.cursor()
                cur.execute(f"DROP TABLE IF EXISTS {physical}")
                cur.execute(f"CREATE TABLE {physical} ({', '.join(cols)})")
                cur.execute(comment)
                if data.num_rows:
                    self._copy_into(
                        cur,
                        physical,
                        jsonify(data).rename_columns([f'"{c}"' for c in data.column_names]),
                    )
                cur.execute(
                    "INSERT INTO results_index VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO UPDATE "
                    "SET run_id = EXCLUDED.run_id, rows = EXCLUDED.rows, updated_at = EXCLUDED.updated_at",
                    [name, run_id, data.num_rows, utcnow()],
                )
        except self._psycopg.Error as exc:
            raise StoreError(f"storing result {name} failed: {exc}".strip()) from exc
