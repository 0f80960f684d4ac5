"""Privacy threshold for partner-facing trend figures (used by the partner scope).

Any aggregate a partner key sees must be built from at least *k* distinct viewers
(``Settings.privacy_k``, default 50). For a trend ``kind:item@scope`` the audience is
the distinct viewers with a viewing event on a video that carries the item (in the
community *scope*, or anywhere for ``all``); a community trend's audience is the
community's viewers. Below *k*, the row is removed and only the count of suppressed
rows is reported; with no viewing events at all, everything is suppressed (abstain,
never guess).

The threshold itself is applied by the safety package's one guard
(:func:`communitok.safety.k_anonymous_aggregate`) over distinct (trend, viewer) pairs
read from the store; the SQL that finds those pairs belongs in the engine (a
``partner_*`` engine function) and moves there when the trends engine offers one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..engine.trend_sql import GLOBAL, KINDS, MAP_RESULT, _result_sql, _uses_sql, parse_trend_id
from ..safety import k_anonymous_aggregate
from ..safety.privacy import PEOPLE

if TYPE_CHECKING:
    from ..engine import Engine

#: Columns naming individual accounts, never shown to partners.
PERSONAL_COLUMNS = ("carriers", "creator_id", "root_creator", "viewer_id")


def _viewer_pairs(engine: Engine, wanted: list[tuple[str, str, str, str]]) -> pa.Table:
    """Distinct (trend_id, viewer_id) pairs behind the *wanted* trends, from the store."""
    store = engine.store
    scoped = f"SELECT kind, item, '{GLOBAL}' AS scope, video_id FROM uses"
    if store.has_result(MAP_RESULT):
        members = _result_sql(store, MAP_RESULT)
        scoped += (
            f" UNION ALL SELECT u.kind, u.item, m.community_id, u.video_id FROM uses u "
            f"JOIN {members} m USING (video_id) UNION ALL SELECT 'community', m.community_id, "
            f"'{GLOBAL}', m.video_id FROM {members} m"
        )
    sql = (
        f"WITH uses AS (SELECT * FROM ({_uses_sql(KINDS)}) AS u0 "
        f"WHERE item IN (SELECT unnest(?))), "
        f"scoped AS ({scoped}), want AS (SELECT unnest(?) AS trend_id, unnest(?) AS kind, "
        f"unnest(?) AS item, unnest(?) AS scope) SELECT DISTINCT w.trend_id, e.viewer_id "
        f"FROM scoped s JOIN want w ON s.kind = w.kind AND s.item = w.item AND s.scope = w.scope "
        f"JOIN events e ON e.video_id = s.video_id"
    )
    cols = list(zip(*wanted, strict=True))
    items = list(cols[2])
    return store.query(sql, [items, list(cols[0]), list(cols[1]), items, list(cols[3])])


def guarded_audiences(
    engine: Engine, trend_ids: Iterable[str], k: int
) -> tuple[dict[str, int], int]:
    """Trends whose audience reaches *k* distinct viewers → their audience, through the
    safety package's k-anonymity guard; and how many trends it suppressed."""
    wanted: list[tuple[str, str, str, str]] = []
    for tid in dict.fromkeys(trend_ids):
        kind, item, scope = parse_trend_id(tid)
        wanted.append((tid, kind or "hashtag", item, scope))
    if not wanted:
        return {}, 0
    pairs = _viewer_pairs(engine, wanted)
    agg = k_anonymous_aggregate(pairs, by=["trend_id"], person="viewer_id", metrics={}, k=k)
    published = {r["trend_id"]: int(r[PEOPLE]) for r in agg.to_pylist()}
    return published, len(wanted) - len(published)


def audiences(engine: Engine, trend_ids: Iterable[str]) -> dict[str, int]:
    """Distinct viewers behind each trend id (0 when none); internal, never published."""
    ids = list(dict.fromkeys(trend_ids))
    published, _ = guarded_audiences(engine, ids, 1)
    return {t: published.get(t, 0) for t in ids}


def keep(
    rows: Sequence[dict[str, Any]], engine: Engine, k: int
) -> tuple[list[dict[str, Any]], int]:
    """Rows whose audience reaches *k* (each with ``n_viewers``), personal columns
    removed; and how many rows were suppressed."""
    published, _ = guarded_audiences(engine, [r["trend_id"] for r in rows], k)
    kept = [
        {**strip_personal(r), "n_viewers": published[r["trend_id"]]}
        for r in rows
        if r["trend_id"] in published
    ]
    return kept, len(rows) - len(kept)


def strip_personal(row: dict[str, Any]) -> dict[str, Any]:
    return {c: v for c, v in row.items() if c not in PERSONAL_COLUMNS}
