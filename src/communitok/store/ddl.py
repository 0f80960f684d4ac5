"""DDL generation from :mod:`communitok.core.schema` (per SQL dialect).

Migrations are frozen SQL files; this module generates the first one and lets the
contract suite check that stored tables still match the core specs.
"""

from __future__ import annotations

import pyarrow as pa

from ..core.errors import SchemaError
from ..core.schema import LOAD_ORDER, TableSpec, table_spec


def sql_type(t: pa.DataType, dialect: str = "duckdb") -> str:
    """SQL type for an Arrow type in *dialect* (``duckdb`` or ``postgresql``)."""
    pg = dialect == "postgresql"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ"
    if pa.types.is_list(t):
        return sql_type(t.value_type, dialect) + "[]"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_integer(t):
        return "INTEGER"
    if pa.types.is_floating(t):
        return "DOUBLE PRECISION" if pg else "DOUBLE"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "TEXT" if pg else "VARCHAR"
    raise SchemaError(f"no SQL type for Arrow type {t}")


def create_table_sql(spec: TableSpec, dialect: str = "duckdb", *, with_pk: bool = True) -> str:
    cols = []
    for c in spec.columns:
        line = f"    {c.name} {sql_type(c.type, dialect)}"
        if c.required:
            line += " NOT NULL"
        if c.choices:
            allowed = ", ".join(f"'{v}'" for v in c.choices)
            line += f" CHECK ({c.name} IN ({allowed}))"
        cols.append(line)
    if with_pk:
        cols.append(f"    PRIMARY KEY ({', '.join(spec.primary_key)})")
    body = ",\n".join(cols)
    return f"CREATE TABLE {spec.name} (\n{body}\n);"


#: Tables stored without a primary-key index (append-mostly facts, deduplicated on write).
NO_PK_INDEX = frozenset({"events"})


def initial_schema_sql(dialect: str = "duckdb") -> str:
    parts = [
        "-- communitok schema v1 (generated from communitok.core.schema, then frozen)",
    ]
    for name in LOAD_ORDER:
        spec = table_spec(name)
        # PostgreSQL keeps the events key as a real index (ON CONFLICT DO NOTHING);
        # DuckDB deduplicates events on write instead (its ART index is 20x slower to load).
        with_pk = name not in NO_PK_INDEX or dialect == "postgresql"
        parts.append(create_table_sql(spec, dialect, with_pk=with_pk))
    if dialect == "postgresql":
        parts.append("CREATE INDEX events_ts ON events (ts);")
    parts.append(
        "CREATE TABLE ingest_batches (\n    batch_id VARCHAR PRIMARY KEY,\n    table_name VARCHAR NOT NULL,\n"
        "    rows BIGINT NOT NULL,\n    loaded_at TIMESTAMPTZ NOT NULL\n);"
    )
    parts.append(
        "CREATE TABLE runs (\n    run_id VARCHAR PRIMARY KEY,\n    kind VARCHAR NOT NULL,\n"
        "    status VARCHAR NOT NULL,\n    params VARCHAR,\n    seed BIGINT,\n"
        "    input_fingerprint VARCHAR,\n    started_at TIMESTAMPTZ NOT NULL,\n"
        "    finished_at TIMESTAMPTZ,\n    summary VARCHAR\n);"
    )
    parts.append(
        "CREATE TABLE results_index (\n    name VARCHAR PRIMARY KEY,\n    run_id VARCHAR,\n"
        "    rows BIGINT NOT NULL,\n    updated_at TIMESTAMPTZ NOT NULL\n);"
    )
    sql = "\n\n".join(p for p in parts if p)
    if dialect == "postgresql":
        sql = sql.replace("VARCHAR", "TEXT")
    return sql + "\n"
