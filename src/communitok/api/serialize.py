"""Arrow tables and engine results → JSON-safe Python values (NaN/inf → null, times → ISO)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa


def jsonable(v: Any) -> Any:
    """A value JSON can carry: no NaN/inf, ISO-8601 times, plain containers."""
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, timedelta):
        return v.total_seconds()
    if isinstance(v, Decimal):
        return jsonable(float(v))
    if isinstance(v, Mapping):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple | set | frozenset):
        return [jsonable(x) for x in v]
    if isinstance(v, bytes):
        return None
    if hasattr(v, "item"):  # numpy scalars
        return jsonable(v.item())
    if hasattr(v, "tolist"):  # numpy arrays
        return jsonable(v.tolist())
    return str(v)


def rows(table: pa.Table | None, *, drop: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Rows of *table* as JSON-safe dicts (columns in *drop* left out)."""
    if table is None:
        return []
    gone = set(drop) & set(table.column_names)
    if gone:
        table = table.drop_columns(sorted(gone))
    return [jsonable(r) for r in table.to_pylist()]
