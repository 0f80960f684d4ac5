"""Arrow ⇄ PostgreSQL for the PostgreSQL store.

Reads go through ADBC (``adbc-driver-postgresql``, part of the ``postgres`` extra): the
driver streams PostgreSQL's binary COPY format straight into Arrow, without building a
Python object per value. What comes back is normalised to what communitok stores
(64-bit integers and floats, UTC microsecond timestamps, plain strings, exact integers or
doubles for ``numeric``) and, for tables whose Arrow schema is known (core tables and
results), cast to that schema.

Result columns PostgreSQL has no native type for (structs, lists of structs or lists,
maps) are stored as ``JSONB``; each result table carries its Arrow schema in its table
comment so that a read gives back exactly the types that were put.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError, SchemaError, StoreError
from .ddl import sql_type

_TS = pa.timestamp("us", tz="UTC")
#: PostgreSQL type oids → Arrow types (what communitok stores)
_OIDS: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int64(),
    23: pa.int64(),
    25: pa.string(),
    700: pa.float64(),
    701: pa.float64(),
    1043: pa.string(),
    1184: _TS,
    1114: _TS,
    1000: pa.list_(pa.bool_()),
    1009: pa.list_(pa.string()),
    1015: pa.list_(pa.string()),
    1016: pa.list_(pa.int64()),
    1007: pa.list_(pa.int64()),
    1022: pa.list_(pa.float64()),
}
SCHEMA_TAG = "communitok-arrow-schema:"

try:  # the fast read path; the store falls back to psycopg rows without it
    import adbc_driver_postgresql.dbapi as _adbc
except ImportError:  # pragma: no cover - depends on the extra
    _adbc = None


def has_adbc() -> bool:
    """Whether the ADBC PostgreSQL driver is installed."""
    return _adbc is not None


def dollar_placeholders(sql: str) -> str:
    """Portable ``?`` placeholders → PostgreSQL's ``$1, $2, …`` (outside quoted literals)."""
    out, quoted, n = [], False, 0
    for ch in sql:
        if ch == "'":
            quoted = not quoted
        if ch == "?" and not quoted:
            n += 1
            out.append(f"${n}")
        else:
            out.append(ch)
    return "".join(out)


# --- nested columns ----------------------------------------------------------------
def is_nested(t: pa.DataType) -> bool:
    """A type stored as JSONB (no native PostgreSQL type): structs, maps, and lists whose
    items are themselves nested or lists."""
    if pa.types.is_struct(t) or pa.types.is_map(t):
        return True
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        v = t.value_type
        return pa.types.is_nested(v)
    return False


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        # a map arrives as a list of (key, value) tuples
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None  # JSONB has no NaN / infinity
    if isinstance(x, datetime | date):
        return x.isoformat()
    return x


def to_json_column(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A nested column as JSON text (one document per row, NULL stays NULL)."""
    return pa.array(
        [
            None if v is None else json.dumps(_jsonable(v), ensure_ascii=False)
            for v in col.to_pylist()
        ],
        pa.string(),
    )


def _text_leaves(t: pa.DataType) -> pa.DataType:
    """*t* with temporal leaves as strings (JSON holds them as ISO text)."""
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return pa.string()
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(_text_leaves(f.type)) for f in t])
    if pa.types.is_large_list(t):
        return pa.large_list(t.value_field.with_type(_text_leaves(t.value_type)))
    if pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(_text_leaves(t.value_type)))
    return t


def from_json_column(col: pa.ChunkedArray, t: pa.DataType) -> pa.Array:
    """JSON text (or JSONB) → the nested Arrow type *t* it was stored from."""
    values = [None if s is None else json.loads(s) for s in _plain(col).to_pylist()]
    if pa.types.is_map(t):
        values = [None if v is None else [tuple(kv) for kv in v] for v in values]
        return pa.array(values, t)
    loose = _text_leaves(t)
    arr = pa.array(values, loose)
    return arr if loose == t else arr.cast(t)


# --- schemas kept in table comments --------------------------------------------------------
def schema_comment(schema: pa.Schema) -> str:
    """The table comment that records *schema* (dictionary columns as their values, which
    is what is stored)."""
    fields = [
        f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in schema
    ]
    plain = pa.schema(fields)
    return SCHEMA_TAG + base64.b64encode(plain.serialize().to_pybytes()).decode()


def schema_from_comment(comment: str | None) -> pa.Schema | None:
    if not comment or not comment.startswith(SCHEMA_TAG):
        return None
    try:
        return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(comment[len(SCHEMA_TAG) :])))
    except (ValueError, pa.ArrowInvalid):
        return None


def column_type(f: pa.Field) -> str:
    """PostgreSQL type of a result column (nested values as JSONB; the exact Arrow type is
    kept in the table's comment)."""
    t = f.type
    if pa.types.is_dictionary(t):
        t = t.value_type
    if is_nested(t):
        return "JSONB"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_integer(t):
        t = pa.int64()
    elif pa.types.is_floating(t):
        t = pa.float64()
    elif pa.types.is_large_string(t):
        t = pa.string()
    elif pa.types.is_large_list(t):
        t = pa.list_(t.value_type)
    if pa.types.is_list(t) and pa.types.is_dictionary(t.value_type):
        t = pa.list_(t.value_type.value_type)
    try:
        return sql_type(t, "postgresql")
    except SchemaError:
        raise InputError(
            f"result column {f.name!r} has unsupported type {f.type}", field="data"
        ) from None


def jsonify(data: pa.Table) -> pa.Table:
    """Nested columns as JSON text (what COPY loads into their JSONB columns)."""
    for i, f in enumerate(data.schema):
        if is_nested(f.type):
            data = data.set_column(i, f.name, to_json_column(data.column(i)))
    return data


# --- normalising what the driver returns --------------------------------------------
def _plain(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Extension columns (``numeric``, ``jsonb``, other opaque types) → their storage."""
    t = col.type
    if isinstance(t, pa.BaseExtensionType):
        return pa.chunked_array([c.storage for c in col.chunks], type=t.storage_type)
    return col


def _numeric(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """``numeric`` text → int64 when every value is integral, else float64."""
    text = _plain(col)
    valid = text.drop_null()
    if len(valid) == 0 or pc.all(pc.match_substring_regex(valid, r"^-?[0-9]+$")).as_py():
        try:
            return text.cast(pa.int64())
        except (pa.ArrowInvalid, OverflowError):
            pass
    return text.cast(pa.float64())


def _default_type(t: pa.DataType) -> pa.DataType:
    """The type communitok uses for a PostgreSQL-typed column with no known schema."""
    if pa.types.is_integer(t):
        return pa.int64()
    if pa.types.is_floating(t):
        return pa.float64()
    if pa.types.is_timestamp(t):
        return _TS
    if pa.types.is_large_string(t):
        return pa.string()
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(_default_type(t.value_type))
    return t


def _column(col: pa.ChunkedArray, target: pa.DataType | None) -> pa.ChunkedArray | pa.Array:
    t = col.type
    if isinstance(t, pa.BaseExtensionType):
        if getattr(t, "type_name", None) == "numeric":
            col = _numeric(col)
        elif target is not None and is_nested(target):
            return from_json_column(col, target)
        else:
            col = _plain(col)
    elif target is not None and is_nested(target) and pa.types.is_string(t):
        return from_json_column(col, target)
    if target is None:
        target = _default_type(col.type)
    if col.type == target:
        return col
    try:
        return col.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return col


def normalize(table: pa.Table, schema: pa.Schema | None = None) -> pa.Table:
    """What the driver returned → communitok's types (*schema*'s where it names a column),
    without the driver's field metadata."""
    arrays, fields = [], []
    for name, col in zip(table.column_names, table.columns, strict=True):
        target = schema.field(name).type if schema is not None and name in schema.names else None
        out = _column(col, target)
        arrays.append(out)
        fields.append(pa.field(name, out.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def rows_to_arrow(
    cur: Any, rows: list[tuple[Any, ...]], schema: pa.Schema | None = None
) -> pa.Table:
    """psycopg rows → Arrow (the slow path, used when ADBC is not installed)."""
    names = [d.name for d in cur.description]
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = []
    for i, name in enumerate(names):
        t = schema.field(name).type if schema is not None and name in schema.names else None
        t = t or _OIDS.get(cur.description[i].type_code)
        values = list(cols[i])
        if cur.description[i].type_code == 1700:  # numeric (e.g. sum of bigint)
            integral = all(v is None or v == v.to_integral_value() for v in values)
            t = t or (pa.int64() if integral else pa.float64())
            values = [None if v is None else (int(v) if integral else float(v)) for v in values]
        if t is not None and pa.types.is_timestamp(t):
            values = [v.astimezone(UTC) if v is not None and v.tzinfo else v for v in values]
        arrays.append(pa.array(values, type=t) if t is not None else pa.array(values))
    return pa.table(dict(zip(names, arrays, strict=True)))


# --- the ADBC connection ----------------------------------------------------------------------
class ArrowReader:
    """Arrow reads over ADBC: one connection for queries, a fresh one per stream.

    Runs in autocommit mode so that a read holds no lock after it returns (the store's
    writes replace result tables with DROP / CREATE on its psycopg connection). A failed
    query drops the connection; the next call opens a new one (a lost server session
    therefore costs one failed read, with a clear error)."""

    def __init__(self, dsn: str) -> None:
        if _adbc is None:  # pragma: no cover - depends on the extra
            raise StoreError("the ADBC PostgreSQL driver is not installed")
        self.dsn = dsn
        self._conn: Any = None

    def _connect(self) -> Any:
        assert _adbc is not None
        try:
            conn = _adbc.connect(self.dsn, autocommit=True)
            with conn.cursor() as cur:
                cur.execute("SET TIME ZONE 'UTC'")
            return conn
        except _adbc.Error as exc:
            raise StoreError(f"cannot open an Arrow reader connection: {_message(exc)}") from None

    def table(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        assert _adbc is not None
        if self._conn is None:
            self._conn = self._connect()
        try:
            with self._conn.cursor() as cur:
                cur.execute(dollar_placeholders(sql), list(params) if params else None)
                return cur.fetch_arrow_table()
        except _adbc.Error as exc:
            self.reset()
            lost = "; connection lost, the next call reconnects"
            lost = lost if isinstance(exc, _adbc.OperationalError) else ""
            raise StoreError(f"query failed: {_message(exc)}{lost}") from exc

    def stream(self, sql: str) -> Iterator[pa.RecordBatch]:
        """Record batches of *sql* on a connection of their own (closed at the end)."""
        assert _adbc is not None
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                try:
                    cur.execute(sql)
                    reader = cur.fetch_record_batch()
                    yield from reader
                except _adbc.Error as exc:
                    raise StoreError(f"query failed: {_message(exc)}") from exc
        finally:
            conn.close()

    def reset(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # a dead connection may refuse to close
                self._conn.close()
            self._conn = None

    close = reset


def _message(exc: Exception) -> str:
    """The driver's error on one line, without the query it repeats."""
    return " ".join(str(exc).split()).split(" Query was:")[0]
