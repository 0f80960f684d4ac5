"""SQL side of trends: community membership, trend ids and the series queries.

Everything here runs *in the store* (portable SQL through ``Store.query``, the same on
DuckDB and PostgreSQL): item uses per video (hashtags unnested, sounds, effects), scoped
platform-wide (``all``) and per community, binned at hourly or daily grain (epoch
microseconds of whole seconds, so no session time zone can shift a bin), with series
below ``min_total`` dropped in SQL.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..core.errors import InputError, NotFound
from ..core.timeutil import to_utc, utcnow
from ..trends import step_us

if TYPE_CHECKING:
    from ..store import Store

KINDS = ("hashtag", "sound", "effect")
METRICS = ("videos", "creators", "views", "engagement")
MAP_RESULT = "trend_community_map"
GLOBAL = "all"


def trend_id(kind: str, item: str, scope: str = GLOBAL) -> str:
    return f"{kind}:{item}@{scope}"


def parse_trend_id(tid: str) -> tuple[str | None, str, str]:
    """``kind:item@scope`` → parts; kind may be omitted, scope defaults to ``all``."""
    body, _, scope = tid.rpartition("@") if "@" in tid else (tid, "", GLOBAL)
    kind, sep, item = body.partition(":")
    if not sep:
        kind, item = None, body  # type: ignore[assignment]
    elif kind not in (*KINDS, "community"):
        raise InputError(f"unknown trend kind {kind!r} in {tid!r}", field="trend_id")
    if not item:
        raise InputError(f"empty item in trend id {tid!r}", field="trend_id")
    return kind, item, scope or GLOBAL


def _result_sql(store: Store, name: str) -> str:
    """Physical table of a result (the stores keep result *name* as ``result_<name>``)."""
    phys = getattr(store, "result_table", None)
    return phys(name) if callable(phys) else f"result_{name}"


def resolve_communities(store: Store, communities: pa.Table | str | None) -> str | None:
    """Put the membership to use in result ``trend_community_map`` (video_id,
    community_id) and return its SQL name, or ``None`` when there is none."""
    if communities is None:
        if not store.has_result("community_members"):
            return None
        communities = "community_members"
    if isinstance(communities, str):
        if not store.has_result(communities):
            raise NotFound(f"no result named {communities!r}")
        src = _result_sql(store, communities)
        cols = {f.name for f in store.query(f"SELECT * FROM {src} LIMIT 0").schema}
    else:
        cols = set(communities.column_names)
    if "community_id" not in cols or not cols & {"video_id", "creator_id"}:
        raise InputError(
            "membership needs community_id and video_id or creator_id", field="communities"
        )
    if isinstance(communities, pa.Table):
        key = "video_id" if "video_id" in cols else "creator_id"
        tab = communities.select([key, "community_id"])
        tab = pa.table(
            {
                key: tab.column(key).cast(pa.string()),
                "community_id": tab.column("community_id").cast(pa.string()),
            }
        )
        store.put_result("trend_community_input", tab)
        src = _result_sql(store, "trend_community_input")
    if "video_id" in cols:
        sql = f"SELECT DISTINCT CAST(video_id AS VARCHAR) AS video_id, CAST(community_id AS VARCHAR) AS community_id FROM {src} WHERE community_id IS NOT NULL"
    else:
        sql = (f"SELECT DISTINCT v.video_id, CAST(m.community_id AS VARCHAR) AS community_id FROM videos v "
               f"JOIN {src} m ON CAST(m.creator_id AS VARCHAR) = v.creator_id WHERE m.community_id IS NOT NULL")  # fmt: skip
    # stored in (video, community) code-point order, the same on every backend
    order = [("video_id", "ascending"), ("community_id", "ascending")]
    store.put_result(MAP_RESULT, store.query(sql).sort_by(order))
    return _result_sql(store, MAP_RESULT)


def _uses_sql(kinds: tuple[str, ...]) -> str:
    # every branch names its columns: the first branch may be any kind
    parts = []
    if "hashtag" in kinds:
        parts.append("SELECT 'hashtag' AS kind, lower(t.item) AS item, v.video_id, v.creator_id, "
                     "v.created_at FROM videos v, unnest(v.hashtags) AS t(item)")  # fmt: skip
    if "sound" in kinds:
        parts.append("SELECT 'sound' AS kind, v.sound_id AS item, v.video_id, v.creator_id, v.created_at "
                     "FROM videos v WHERE v.sound_id IS NOT NULL")  # fmt: skip
    if "effect" in kinds:
        parts.append("SELECT 'effect' AS kind, t.item AS item, v.video_id, v.creator_id, v.created_at "
                     "FROM videos v, unnest(v.effect_ids) AS t(item)")  # fmt: skip
    if not parts:
        raise InputError(f"kinds must be among {KINDS}", field="kinds")
    return " UNION ALL ".join(parts)


def bin_sql(col: str) -> str:
    """Portable SQL for the start of *col*'s bin in epoch microseconds, with the bin width
    (µs) as two ``?`` parameters. Whole seconds first (exact in every dialect, and bins are
    whole seconds), so no session time zone and no float rounding can move a bin edge."""
    return (
        f"CAST(floor(CAST(extract(epoch FROM date_trunc('second', {col})) AS DOUBLE PRECISION) "
        f"* 1000000 / ?) AS BIGINT) * ?"
    )


def series_sql(
    kinds: tuple[str, ...], metric: str, members: str | None, *, min_total: float
) -> str:
    """SQL for the long series table (kind, item, scope, bin (epoch µs), value), portable
    between the stores' dialects (DuckDB, PostgreSQL).

    Parameters (in order): step µs, step µs, now (timestamp), min_total."""
    if metric not in METRICS:
        raise InputError(f"must be one of {METRICS}", field="metric")
    scoped = f"SELECT kind, item, '{GLOBAL}' AS scope, video_id, creator_id, created_at FROM uses"
    if members:
        scoped += (f" UNION ALL SELECT u.kind, u.item, m.community_id, u.video_id, u.creator_id, u.created_at "
                   f"FROM uses u JOIN {members} m ON m.video_id = u.video_id "
                   f"UNION ALL SELECT 'community', m.community_id, '{GLOBAL}', v.video_id, v.creator_id, "
                   f"v.created_at FROM videos v JOIN {members} m ON m.video_id = v.video_id")  # fmt: skip
    head = f"WITH uses AS ({_uses_sql(kinds)}), scoped AS ({scoped})"
    if metric in ("videos", "creators"):
        agg = "count(*)" if metric == "videos" else "count(DISTINCT creator_id)"
        series = (
            f"SELECT kind, item, scope, bin, CAST({agg} AS DOUBLE PRECISION) AS value FROM "
            f"(SELECT kind, item, scope, creator_id, {bin_sql('created_at')} AS bin FROM scoped "
            f"WHERE created_at IS NOT NULL AND created_at < ?) b GROUP BY kind, item, scope, bin"
        )
    else:
        # events are aggregated per video and bin first, then spread over the video's items
        val = "count(*)" if metric == "views" else (
            "sum(coalesce(CAST(liked AS INTEGER), 0) + coalesce(CAST(shared AS INTEGER), 0)"
            " + coalesce(CAST(commented AS INTEGER), 0))"
        )  # fmt: skip
        head += (
            f", ev AS (SELECT video_id, bin, {val} AS n FROM (SELECT video_id, liked, shared, "
            f"commented, {bin_sql('ts')} AS bin FROM events WHERE ts IS NOT NULL AND ts < ?) e "
            "GROUP BY video_id, bin)"
        )
        series = (
            "SELECT s.kind, s.item, s.scope, ev.bin, CAST(sum(ev.n) AS DOUBLE PRECISION) AS value "
            "FROM ev JOIN scoped s ON s.video_id = ev.video_id GROUP BY s.kind, s.item, s.scope, ev.bin"
        )
    # series below min_total are dropped by a window total filtered outside (no QUALIFY)
    return (
        f"{head}, series AS ({series}) SELECT kind, item, scope, bin, value FROM ("
        "SELECT kind, item, scope, bin, value, sum(value) OVER (PARTITION BY kind, item, scope) "
        "AS total FROM series) w WHERE total >= ?"
    )


def trend_series(
    store: Store,
    *,
    kinds: tuple[str, ...] = KINDS,
    metric: str = "videos",
    grain: str = "hour",
    members: str | None = None,
    now: datetime | None = None,
    min_total: float = 1.0,
    item_filter: tuple[str, str, str] | None = None,
) -> pa.Table:
    """The long series table computed in the store; ``bin`` as a UTC timestamp."""
    step = step_us(grain)
    sql = series_sql(kinds, metric, members, min_total=min_total)
    params: list[Any] = [step, step, to_utc(now or utcnow()), min_total]
    if item_filter is not None:
        sql = f"SELECT * FROM ({sql}) f WHERE kind = ? AND item = ? AND scope = ?"
        params += list(item_filter)
    tab = store.query(sql, params)
    return tab.set_column(tab.schema.get_field_index("bin"), "bin",
                          tab.column("bin").cast(pa.int64()).cast(pa.timestamp("us", tz="UTC")))  # fmt: skip


def _clock_issues(store: Store, now: datetime) -> dict[str, int]:
    """Rows after *now* (ignored) and views logged before the video was uploaded."""
    row = store.query(
        "SELECT (SELECT count(*) FROM videos WHERE created_at >= ?) AS future_videos, "
        "(SELECT count(*) FROM events WHERE ts >= ?) AS future_events, "
        "(SELECT count(*) FROM events e JOIN videos v USING (video_id) "
        " WHERE e.ts < v.created_at AND e.ts > TIMESTAMPTZ '1970-01-02') AS events_before_upload",
        [now, now],
    )
    return {k: int(v[0]) for k, v in row.to_pydict().items()}


def _pick_metric(store: Store, metric: str) -> str:
    if metric != "auto":
        return metric
    return "views" if store.count("events") > 0 else "videos"


def _with_ids(t: pa.Table) -> pa.Table:
    ids = [
        trend_id(k, i, s)
        for k, i, s in zip(
            t.column("kind").to_pylist(),
            t.column("item").to_pylist(),
            t.column("scope").to_pylist(),
            strict=True,
        )
    ]
    return t.add_column(0, "trend_id", pa.array(ids, pa.string()))


def _fingerprint(store: Store) -> str:
    c = store.counts()
    h = hashlib.blake2b(repr(sorted(c.items())).encode(), digest_size=12)
    return h.hexdigest()
