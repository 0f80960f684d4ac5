"""The Discover view: trending hashtags, sounds and effects, global and per community.

Each (kind, item, scope) keeps its most recent burst; its rank score is the burst's
Kleinberg weight decayed by freshness,

``score = weight · 2^(−age / half_life)``, ``age = max(0, now − end of burst)``,

so a burst still under way is at full weight and one that ended ``half_life`` ago at
half. Rows are ranked within each scope (``rank``) and within each scope and kind
(``rank_in_kind``); the top ``top_k`` per scope and kind are kept. A lifecycle table,
when given, adds the ``stage`` column (``declining`` trends stay listed but sink as
they age). Freshness-decayed burst scores are the usual shape of trending lists
(e.g. Twitter's, as studied by Nikolov & Shah 2012; Kleinberg 2002 for the weights).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError

KEYS = ["kind", "item", "scope"]


def discover(
    bursts: pa.Table,
    *,
    now: int | None = None,
    half_life_hours: float = 24.0,
    top_k: int = 20,
    lifecycle: pa.Table | None = None,
    min_score: float = 0.0,
) -> pa.Table:
    """Rank *bursts* (``kind, item, scope, start, peak, end, weight``) for Discover.

    *now* is epoch microseconds (default: the latest burst end, so results depend only
    on the data). Returns ``scope, kind, item, rank, rank_in_kind, score, weight,
    start, peak, end, age_hours`` (+ ``stage``), sorted by scope then rank.
    """
    miss = [c for c in (*KEYS, "start", "peak", "end", "weight") if c not in bursts.column_names]
    if miss:
        raise InputError(f"bursts lack columns {miss}", field=miss[0])
    if not half_life_hours > 0 or top_k < 1:
        raise InputError("half_life_hours must be > 0 and top_k >= 1", field="half_life_hours")
    cols = [*KEYS, "start", "peak", "end", "weight"]
    b = bursts.select(cols)
    if b.num_rows == 0:
        return _empty(lifecycle is not None)
    end = np.asarray(b.column("end").cast(pa.int64()).to_numpy(), np.int64)
    now_us = int(end.max()) if now is None else int(now)
    latest = b.append_column("_end", pa.array(end)).sort_by(
        [
            ("kind", "ascending"),
            ("item", "ascending"),
            ("scope", "ascending"),
            ("_end", "descending"),
        ]
    )
    k = [latest.column(c).to_pylist() for c in KEYS]
    first = np.ones(latest.num_rows, bool)
    first[1:] = [
        (k[0][i], k[1][i], k[2][i]) != (k[0][i - 1], k[1][i - 1], k[2][i - 1])
        for i in range(1, latest.num_rows)
    ]
    latest = latest.filter(pa.array(first)).drop_columns(["_end"])
    end = np.asarray(latest.column("end").cast(pa.int64()).to_numpy(), np.int64)
    age_h = np.maximum(now_us - end, 0) / 3.6e9
    w = np.asarray(latest.column("weight").to_numpy(), np.float64)
    score = w * 0.5 ** (age_h / half_life_hours)
    t = latest.append_column("score", pa.array(score)).append_column("age_hours", pa.array(age_h))
    t = t.filter(pc.greater_equal(t.column("score"), min_score))
    t = t.sort_by(
        [
            ("scope", "ascending"),
            ("score", "descending"),
            ("kind", "ascending"),
            ("item", "ascending"),
        ]
    )
    scope = t.column("scope").to_pylist()
    kinds = t.column("kind").to_pylist()
    rank, rank_k = np.zeros(t.num_rows, np.int64), np.zeros(t.num_rows, np.int64)
    c_scope: dict[str, int] = {}
    c_kind: dict[tuple[str, str], int] = {}
    for i, (s, kd) in enumerate(zip(scope, kinds, strict=True)):
        c_scope[s] = c_scope.get(s, 0) + 1
        c_kind[(s, kd)] = c_kind.get((s, kd), 0) + 1
        rank[i], rank_k[i] = c_scope[s], c_kind[(s, kd)]
    t = t.append_column("rank", pa.array(rank)).append_column("rank_in_kind", pa.array(rank_k))
    t = t.filter(pc.less_equal(t.column("rank_in_kind"), top_k))
    if lifecycle is not None and lifecycle.num_rows:
        t = t.join(
            lifecycle.select([*KEYS, "stage"]), KEYS, join_type="left outer", use_threads=False
        )
    elif lifecycle is not None:
        t = t.append_column("stage", pa.nulls(t.num_rows, pa.string()))
    order = ["scope", "kind", "item", "rank", "rank_in_kind", "score", "weight", "start", "peak",
             "end", "age_hours"] + (["stage"] if lifecycle is not None else [])  # fmt: skip
    return t.select(order).sort_by([("scope", "ascending"), ("rank", "ascending")])


def _empty(with_stage: bool) -> pa.Table:
    ts = pa.timestamp("us", tz="UTC")
    fields = [("scope", pa.string()), ("kind", pa.string()), ("item", pa.string()),
              ("rank", pa.int64()), ("rank_in_kind", pa.int64()), ("score", pa.float64()),
              ("weight", pa.float64()), ("start", ts), ("peak", ts), ("end", ts),
              ("age_hours", pa.float64())]  # fmt: skip
    if with_stage:
        fields.append(("stage", pa.string()))
    return pa.schema(fields).empty_table()
