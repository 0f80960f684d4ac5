"""Bring an Arrow table to a table spec's exact schema (order, types, missing columns)."""

from __future__ import annotations

import pyarrow as pa

from ..core.errors import InputError
from ..core.schema import TableSpec


def conform(data: pa.Table, spec: TableSpec) -> pa.Table:
    """Select, order and cast *data*'s columns to *spec*; absent optional columns become null.

    Raises :class:`InputError` for unknown columns, absent required columns, nulls in
    required columns or values that cannot be cast. Row-level validation with reject
    reports happens in :mod:`communitok.ingest`; this is the store's last line of defence.
    """
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if not isinstance(data, pa.Table):
        raise InputError(f"expected a pyarrow.Table, got {type(data).__name__}", field="data")
    known = set(spec.column_names)
    unknown = [c for c in data.column_names if c not in known]
    if unknown:
        raise InputError(f"unknown columns for table {spec.name}: {unknown}", field="columns")
    arrays = []
    for col in spec.columns:
        if col.name in data.column_names:
            arr = data.column(col.name)
            if arr.type != col.type:
                try:
                    arr = arr.cast(col.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise InputError(f"cannot cast to {col.type}: {exc}", field=col.name) from None
        else:
            if col.required:
                raise InputError(f"required column missing from table {spec.name}", field=col.name)
            arr = pa.nulls(data.num_rows, col.type)
        if col.required and arr.null_count:
            raise InputError(f"{arr.null_count} null values in a required column", field=col.name)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=spec.schema)
