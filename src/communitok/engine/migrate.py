"""Move a store's data between backends: ``communitok migrate --from A --to B``.

What is copied, in this order:

1. every core table (``LOAD_ORDER``), streamed from the source with ``iter_batches`` and
   written in batches with ``Store.write`` (one transaction per batch);
2. every result table, with its run id: ``put_result`` of its (empty) schema, then
   ``append_result`` per batch;
3. the ingest-batch ledger and 4. the runs, with ``restore_metadata`` (rows already in
   the target are kept). The ledger goes after the data, so a ledger row in the target
   always means its rows are there, and re-ingesting a file into the target skips it.

**Idempotent, resumable.** Entity tables merge on their primary key and events are
inserted only if absent, so writing a batch twice changes nothing. A rerun after an
interruption skips every table whose row count and checksum already equal the
source's and writes the others again (the merge makes that safe). The migration is a
run (kind ``migrate``) in the target; an interrupted one is marked ``cancelled`` by the
rerun.

**Verified.** At the end every table is compared: row count and an order-independent
checksum (sum of per-row hashes mod 2^64 over a canonical Arrow form: integers as
int64, floats as float64, timestamps as µs UTC, columns by name), so DuckDB's INTEGER
and PostgreSQL's BIGINT holding the same value agree. The source must not change while
it is copied (stop writers first).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import Conflict, InputError, NotFound, StoreError
from ..core.schema import LOAD_ORDER
from ..core.settings import Settings
from ..store import Store, open_store

Progress = Callable[[str, int], None]
LEDGER_SQL = "SELECT batch_id, table_name, rows, loaded_at FROM ingest_batches"
RUNS_SQL = (
    "SELECT run_id, kind, status, params, seed, input_fingerprint, started_at, finished_at, "
    "summary FROM runs"
)
MASK = (1 << 64) - 1


@runtime_checkable
class MetadataRestore(Protocol):
    """What a target store needs besides the ``Store`` protocol (both backends have it)."""

    def restore_metadata(self, table: str, data: pa.Table) -> int: ...


@dataclass(frozen=True)
class TableCopy:
    """One table's copy: rows on each side, rows sent, checksum, whether it was verified."""

    name: str
    kind: str  # core | result | ledger | runs
    source_rows: int
    target_rows: int
    rows_written: int
    skipped: bool
    source_checksum: str | None
    target_checksum: str | None
    seconds: float

    @property
    def verified(self) -> bool:
        return self.source_rows == self.target_rows and self.source_checksum == self.target_checksum


@dataclass
class MigrationReport:
    """Everything ``migrate_store`` did; ``ok`` when every table verified."""

    source: str
    target: str
    run_id: str
    tables: list[TableCopy] = field(default_factory=list)
    #: results the target holds that the source does not (left as they are)
    extra_results: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(t.verified for t in self.tables)

    @property
    def rows_written(self) -> int:
        return sum(t.rows_written for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for t, src in zip(d["tables"], self.tables, strict=True):
            t["verified"] = src.verified
        return {**d, "ok": self.ok, "rows_written": self.rows_written}


# --------------------------------------------------------------------------- checksums


def _canonical_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(t):
        return _canonical_type(t.value_type)
    if pa.types.is_integer(t):
        return pa.int64()
    if pa.types.is_floating(t):
        return pa.float64()
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC")
    if pa.types.is_large_string(t) or pa.types.is_string(t):
        return pa.string()
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(_canonical_type(t.value_type))
    return t


def canonical(data: pa.Table | pa.RecordBatch) -> pa.Table:
    """*data* with columns sorted by name and types made backend-neutral."""
    t = pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
    t = t.select(sorted(t.column_names))
    return t.cast(pa.schema([f.with_type(_canonical_type(f.type)) for f in t.schema]))


def table_checksum(batches: Iterable[pa.Table | pa.RecordBatch]) -> tuple[int, str]:
    """(rows, checksum): the sum mod 2^64 of DuckDB's hash of each canonical row, so it
    does not depend on row order, batch sizes or which backend the rows came from."""
    import duckdb

    con = duckdb.connect()
    rows, acc = 0, 0
    try:
        for b in batches:
            t = canonical(b)
            if t.num_rows == 0:
                continue
            cols = ", ".join(f'"{c}"' for c in t.column_names)
            con.register("_rows", t)
            sql = f"SELECT count(*), sum(hash({cols})::HUGEINT) FROM _rows"
            n, s = con.execute(sql).fetchall()[0]
            con.unregister("_rows")
            rows, acc = rows + int(n), (acc + int(s)) & MASK
    finally:
        con.close()
    return rows, f"{acc:016x}"


# --------------------------------------------------------------------------- opening


def _open(location: str, role: str, *, read_only: bool) -> Store:
    settings = Settings(store=location.strip())
    if settings.backend == "duckdb":
        path = settings.duckdb_path
        if path == ":memory:":
            raise InputError("an in-memory store cannot be migrated from or to", field=role)
        if read_only and not Path(path).is_file():
            raise NotFound(f"source store {path} does not exist")
    return open_store(settings, read_only=read_only)


def _same(a: str, b: str) -> bool:
    sa, sb = Settings(store=a.strip()), Settings(store=b.strip())
    if sa.backend != sb.backend:
        return False
    if sa.backend == "duckdb":
        return (
            Path(sa.duckdb_path).expanduser().resolve()
            == Path(sb.duckdb_path).expanduser().resolve()
        )
    return sa.store.rstrip("/") == sb.store.rstrip("/")


def migrate_store(
    source: str | Store,
    target: str | Store,
    *,
    batch_rows: int = 100_000,
    checksums: bool = True,
    progress: Progress | None = None,
) -> MigrationReport:
    """Copy every core table, result, the ingest ledger and the runs from *source* to
    *target* (each a store location — DuckDB file or ``postgresql://`` DSN — or an open
    :class:`Store`), then verify; see the module docstring. Raises :class:`StoreError`
    naming the tables that do not match when verification fails."""
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise InputError("must be an integer >= 1", field="batch_rows")
    for value, role in ((source, "source"), (target, "target")):
        if isinstance(value, str) and not value.strip():
            raise InputError("must be a DuckDB file path or a postgresql:// DSN", field=role)
        if not isinstance(value, str | Store):
            raise InputError("must be a store location or an open Store", field=role)
    if isinstance(source, str) and isinstance(target, str) and _same(source, target):
        raise InputError("source and target are the same store", field="target")
    if source is target:
        raise InputError("source and target are the same store", field="target")
    opened: list[Store] = []
    try:
        src = _open(source, "source", read_only=True) if isinstance(source, str) else source
        if isinstance(source, str):
            opened.append(src)
        dst = _open(target, "target", read_only=False) if isinstance(target, str) else target
        if isinstance(target, str):
            opened.append(dst)
        return _Copier(src, dst, batch_rows, checksums, progress).run()
    finally:
        for s in reversed(opened):
            s.close()


def _not_in(table: pa.Table, column: str, values: pa.Array) -> pa.Table:
    return table.filter(pc.invert(pc.is_in(table.column(column), value_set=values)))


def _check_target(src: Store, dst: Store) -> None:
    """Refuse early when *dst* cannot be a (partial) copy of *src*."""
    if getattr(dst, "read_only", False):
        raise StoreError("the target store is read-only")
    if not isinstance(dst, MetadataRestore):
        raise StoreError(f"the target backend {dst.backend} cannot take ledger and run rows")
    if src.schema_version() == 0:
        raise InputError("the source holds no communitok store (schema version 0)", field="source")
    for name in LOAD_ORDER:
        n_src, n_dst = src.count(name), dst.count(name)
        if n_dst > n_src:
            raise Conflict(
                f"the target already holds {n_dst:,} {name} rows, more than the source's "
                f"{n_src:,}: it is not a copy of this source; migrate into an empty store"
            )


class _Copier:
    def __init__(
        self, src: Store, dst: Store, batch_rows: int, checksums: bool, progress: Progress | None
    ) -> None:
        self.src, self.dst, self.batch_rows = src, dst, batch_rows
        self.checksums, self.progress = checksums, progress or (lambda table, n: None)

    def _digest(
        self, batches: Iterable[pa.Table | pa.RecordBatch], rows: int
    ) -> tuple[int, str | None]:
        return table_checksum(batches) if self.checksums else (rows, None)

    def _stored(self, store: Store, name: str) -> tuple[int, str | None]:
        if not self.checksums:
            return store.count(name), None
        return table_checksum(store.iter_batches(name, batch_rows=self.batch_rows))

    def run(self) -> MigrationReport:
        t0 = time.perf_counter()
        src, dst = self.src, self.dst
        _check_target(src, dst)
        src_runs = src.query(RUNS_SQL)
        own = dst.query(RUNS_SQL)
        own = _not_in(own, "run_id", src_runs.column("run_id").combine_chunks())
        for r in own.to_pylist():  # an earlier, interrupted attempt of a migration
            if r["kind"] == "migrate" and r["status"] == "running":
                dst.finish_run(r["run_id"], "cancelled", {"note": "interrupted; rerun resumed it"})
        params = {"source": repr(src), "target": repr(dst), "batch_rows": self.batch_rows,
                  "checksums": self.checksums}  # fmt: skip
        run_id = dst.start_run("migrate", params)
        rep = MigrationReport(repr(src), repr(dst), run_id)
        try:
            for name in LOAD_ORDER:
                rep.tables.append(self._copy(name, "core"))
            index = src.query("SELECT name, run_id FROM results_index ORDER BY name").to_pylist()
            for row in index:
                rep.tables.append(self._copy(row["name"], "result", row["run_id"]))
            rep.extra_results = sorted(set(dst.result_names()) - {r["name"] for r in index})
            rep.tables.append(self._meta("ingest_batches", LEDGER_SQL, src_runs))
            rep.tables.append(self._meta("runs", RUNS_SQL, src_runs))
        except BaseException as exc:
            with suppress(Exception):  # the target itself may be what failed
                dst.finish_run(run_id, "failed", {"error": str(exc) or type(exc).__name__})
            raise
        rep.seconds = elapsed(t0)
        bad = [t for t in rep.tables if not t.verified]
        dst.finish_run(run_id, "failed" if bad else "ok", {
            "rows_written": rep.rows_written, "tables": len(rep.tables), "unverified": [t.name for t in bad],
            "checksums": {t.name: t.source_checksum for t in rep.tables},
        })  # fmt: skip
        if bad:
            err = StoreError("verification failed: " + "; ".join(
                f"{t.name}: source {t.source_rows:,} rows / {t.source_checksum}, "
                f"target {t.target_rows:,} rows / {t.target_checksum}" for t in bad
            ))  # fmt: skip
            err.report = rep  # type: ignore[attr-defined]
            raise err
        return rep

    def _copy(self, name: str, kind: str, run_id: str | None = None) -> TableCopy:
        """A core table (merge by key) or a result (replaced), skipped when complete."""
        t0 = time.perf_counter()
        src, dst = self.src, self.dst
        have = kind == "core" or dst.has_result(name)
        n_src = src.count(name)
        s_sum: tuple[int, str | None] | None = None
        d_sum: tuple[int, str | None] = (dst.count(name) if have else 0, None)
        if have and d_sum[0] == n_src:
            s_sum, d_sum = self._stored(src, name), self._stored(dst, name)
        skipped, written = s_sum is not None and s_sum == d_sum, 0
        if not skipped:
            if kind == "result":
                dst.put_result(name, src.read(name, limit=0), run_id=run_id)
            for b in src.iter_batches(name, batch_rows=self.batch_rows):
                t = pa.Table.from_batches([b])
                if kind == "core":
                    r = dst.write(name, t)
                    written += r.inserted + r.updated
                else:
                    dst.append_result(name, t, run_id=run_id)
                    written += t.num_rows
                self.progress(name, t.num_rows)
            d_sum = self._stored(dst, name)
        s_sum = s_sum or self._stored(src, name)
        return TableCopy(name, kind, s_sum[0], d_sum[0], written, skipped, s_sum[1], d_sum[1],
                         elapsed(t0))  # fmt: skip

    def _meta(self, table: str, sql: str, src_runs: pa.Table) -> TableCopy:
        """The ledger or the runs: rows absent from the target are inserted."""
        t0 = time.perf_counter()
        s = src_runs if table == "runs" else self.src.query(sql)
        ids = src_runs.column("run_id").combine_chunks()

        def target() -> pa.Table:
            d = self.dst.query(sql)
            if table == "runs":  # this migration's own runs are the target's, not copies
                own = pc.and_(pc.equal(d.column("kind"), "migrate"),
                              pc.invert(pc.is_in(d.column("run_id"), value_set=ids)))  # fmt: skip
                d = d.filter(pc.invert(own))
            return d

        s_sum, d_sum = self._digest([s], s.num_rows), self._digest([target()], 0)
        written, skipped = 0, False
        if self.checksums and s_sum == d_sum:
            skipped = True
        else:
            for lo in range(0, s.num_rows, self.batch_rows):
                chunk = s.slice(lo, self.batch_rows)
                written += self.dst.restore_metadata(table, chunk)  # type: ignore[attr-defined]
            d = target()
            d_sum = self._digest([d], d.num_rows)
        return TableCopy(table, "ledger" if table == "ingest_batches" else "runs", s_sum[0],
                         d_sum[0], written, skipped, s_sum[1], d_sum[1], elapsed(t0))  # fmt: skip


def elapsed(t0: float) -> float:
    return round(time.perf_counter() - t0, 3)
