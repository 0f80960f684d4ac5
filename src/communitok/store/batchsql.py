"""SQL shared by the backends for merging one batch into a table.

In-batch merge semantics (every backend): rows with the same key inside one batch
merge in order, exactly as if they came in separate batches: the last non-null value
of each column wins. Events (immutable facts) keep their first occurrence.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from ..core.schema import TableSpec


def merge_in_batch_sql(spec: TableSpec, source: str) -> str:
    """SELECT over *source* (DuckDB SQL) returning one merged row per key of *spec*."""
    pk = list(spec.primary_key)
    cols = spec.column_names
    if spec.name == "events":
        return f"SELECT DISTINCT ON ({', '.join(pk)}) {', '.join(cols)} FROM {source}"
    non_pk = [c for c in cols if c not in pk]
    last = ", ".join(f"arg_max({c}, _ord) FILTER (WHERE {c} IS NOT NULL) AS {c}" for c in non_pk)
    return (
        f"SELECT {', '.join(cols)} FROM ("
        f"SELECT {', '.join(pk)}{', ' + last if last else ''} "
        f"FROM (SELECT *, row_number() OVER () AS _ord FROM {source}) "
        f"GROUP BY {', '.join(pk)})"
    )


def merge_in_batch(spec: TableSpec, batch: pa.Table) -> pa.Table:
    """Apply :func:`merge_in_batch_sql` to an Arrow batch (with an in-memory DuckDB)."""
    con = duckdb.connect()
    try:
        con.register("_batch", batch)
        out = con.sql(merge_in_batch_sql(spec, "_batch")).to_arrow_table()
    finally:
        con.close()
    return out.cast(spec.schema)


def matched_changed_sql(spec: TableSpec, incoming: str, target: str) -> str:
    """Count incoming keys already stored, and how many of those a merge would change."""
    pk = list(spec.primary_key)
    non_pk = [c for c in spec.column_names if c not in pk]
    on = " AND ".join(f"t.{k} = b.{k}" for k in pk)
    merged = (
        " AND ".join(f"t.{c} IS NOT DISTINCT FROM coalesce(b.{c}, t.{c})" for c in non_pk) or "TRUE"
    )
    return (
        f"SELECT count(*) AS matched, count(*) FILTER (WHERE NOT ({merged})) AS changed "
        f"FROM {incoming} b JOIN {target} t ON {on}"
    )


def upsert_sql(spec: TableSpec, incoming: str) -> str:
    """INSERT … ON CONFLICT merge (DuckDB and PostgreSQL share this syntax)."""
    pk = list(spec.primary_key)
    cols = spec.column_names
    non_pk = [c for c in cols if c not in pk]
    update = ", ".join(f"{c} = coalesce(EXCLUDED.{c}, {spec.name}.{c})" for c in non_pk)
    conflict = f"DO UPDATE SET {update}" if update else "DO NOTHING"
    return (
        f"INSERT INTO {spec.name} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM {incoming} "
        f"ON CONFLICT ({', '.join(pk)}) {conflict}"
    )
