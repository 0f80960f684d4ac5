"""Time series of the trends engine on Spark: platform-wide per item, and per community.

Both reproduce :func:`communitok.engine.trend_sql.series_sql` (the SQL the trends engine
runs in the store); the single-node twins run that very SQL in DuckDB over the same
Parquet files, and the parity tests compare the two row by row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ...core.errors import InputError
from ...trends import step_us
from .session import check_path, commit

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

GRAINS = ("hour", "day")
#: the four metrics of ``trend_sql.METRICS``, as columns of the community series
COMMUNITY_METRICS = ("videos", "creators", "views", "engagement")


def _item_uses(spark: SparkSession, videos_parquet: str) -> DataFrame:
    """(kind, item, video_id, creator_id, created_at) like ``trend_sql._uses_sql``."""
    from pyspark.sql import functions as F

    v = spark.read.parquet(videos_parquet)
    cols = ["video_id", "creator_id", "created_at"]
    h = v.select(F.lit("hashtag").alias("kind"), F.explode("hashtags").alias("item"), *cols)
    h = h.withColumn("item", F.lower("item"))
    s = v.where(F.col("sound_id").isNotNull()).select(
        F.lit("sound").alias("kind"), F.col("sound_id").alias("item"), *cols
    )
    e = v.select(F.lit("effect").alias("kind"), F.explode("effect_ids").alias("item"), *cols)
    return h.unionByName(s).unionByName(e)


def _bin(col: Any, step: int) -> Any:
    from pyspark.sql import functions as F

    us = F.unix_micros(col)
    return us - F.pmod(us, F.lit(step))


def _check(grain: str, min_total: float = 1.0) -> int:
    if grain not in GRAINS:
        raise InputError(f"must be one of {GRAINS}", field="grain")
    if not isinstance(min_total, int | float) or min_total < 0:
        raise InputError("must be a number >= 0", field="min_total")
    return step_us(grain)


def item_time_series(
    spark: SparkSession,
    videos_parquet: str | Path,
    events_parquet: str | Path,
    grain: str = "hour",
    out: str | Path = "item_series",
    *,
    now: Any = None,
) -> Path:
    """Part ``series``: (kind, item, bin µs, videos, views) for hashtags (lower-cased),
    sounds and effects, platform-wide. Rows before *now* (a timestamp) when given."""
    from pyspark.sql import functions as F

    step = _check(grain)
    vp, ep = (
        check_path(videos_parquet, "videos_parquet"),
        check_path(events_parquet, "events_parquet"),
    )
    uses = _item_uses(spark, vp)
    ev = spark.read.parquet(ep).where(F.col("ts").isNotNull())
    if now is not None:
        uses = uses.where(F.col("created_at") < F.lit(now))
        ev = ev.where(F.col("ts") < F.lit(now))
    vids = (
        uses.where(F.col("created_at").isNotNull())
        .groupBy("kind", "item", _bin(F.col("created_at"), step).alias("bin"))
        .agg(F.count("*").alias("videos"))
    )
    per_video = ev.groupBy("video_id", _bin(F.col("ts"), step).alias("bin")).agg(
        F.count("*").alias("n")
    )
    views = (
        per_video.join(_item_uses(spark, vp).select("kind", "item", "video_id"), "video_id")
        .groupBy("kind", "item", "bin")
        .agg(F.sum("n").alias("views"))
    )
    series = (
        vids.join(views, ["kind", "item", "bin"], "full_outer")
        .na.fill(0, ["videos", "views"])
        .select("kind", "item", "bin", F.col("videos").cast("long"), F.col("views").cast("long"))
    )
    meta = {"job": "item_time_series", "grain": grain, "step_us": step, "now": now}
    return commit(out, {"series": series}, meta)


def community_time_series(
    spark: SparkSession,
    videos_parquet: str | Path,
    events_parquet: str | Path,
    members_parquet: str | Path,
    grain: str = "day",
    out: str | Path = "community_series",
    *,
    now: Any = None,
    min_total: float = 1.0,
) -> Path:
    """Part ``series``: (kind, item, scope, bin µs, videos, creators, views, engagement)
    — the community rows of the trends engine's series: each hashtag / sound / effect
    inside each community (scope = community id) and each community as a whole
    (kind ``community``, item = community id, scope ``all``).

    *members_parquet* maps videos to communities (``video_id, community_id``, as the
    engine's ``trend_community_map`` result; rows with ``member_kind`` other than
    ``video`` are ignored when that column exists). As in the SQL, each metric's series
    is dropped when its total is below *min_total*; missing metrics read 0.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    step = _check(grain, min_total)
    vp, ep = (
        check_path(videos_parquet, "videos_parquet"),
        check_path(events_parquet, "events_parquet"),
    )
    m = spark.read.parquet(check_path(members_parquet, "members_parquet"))
    if not {"video_id", "community_id"} <= set(m.columns):
        raise InputError("members need video_id and community_id", field="members_parquet")
    if "member_kind" in m.columns:
        m = m.where(F.col("member_kind") == "video")
    m = (
        m.where(F.col("community_id").isNotNull())
        .select(F.col("video_id").cast("string"), F.col("community_id").cast("string"))
        .distinct()
    )
    v = spark.read.parquet(vp)
    scoped = (
        _item_uses(spark, vp)
        .join(m, "video_id")
        .select(
            "kind",
            "item",
            F.col("community_id").alias("scope"),
            "video_id",
            "creator_id",
            "created_at",
        )
        .unionByName(
            v.join(m, "video_id").select(
                F.lit("community").alias("kind"),
                F.col("community_id").alias("item"),
                F.lit("all").alias("scope"),
                "video_id",
                "creator_id",
                "created_at",
            )
        )
    )
    ev = spark.read.parquet(ep).where(F.col("ts").isNotNull())
    made = scoped.where(F.col("created_at").isNotNull())
    if now is not None:
        made = made.where(F.col("created_at") < F.lit(now))
        ev = ev.where(F.col("ts") < F.lit(now))
    keys, series = ["kind", "item", "scope"], ["kind", "item", "scope", "bin"]
    w = Window.partitionBy(*keys)
    vc = made.groupBy(*keys, _bin(F.col("created_at"), step).alias("bin")).agg(
        F.count("*").alias("videos"), F.countDistinct("creator_id").alias("creators")
    )
    flag = [F.coalesce(F.col(c).cast("int"), F.lit(0)) for c in ("liked", "shared", "commented")]
    per_video = ev.groupBy("video_id", _bin(F.col("ts"), step).alias("bin")).agg(
        F.count("*").alias("n_views"), F.sum(flag[0] + flag[1] + flag[2]).alias("n_eng")
    )
    ve = (
        per_video.join(scoped.select(*keys, "video_id"), "video_id")
        .groupBy(*series)
        .agg(F.sum("n_views").alias("views"), F.sum("n_eng").alias("engagement"))
    )

    def kept(df: DataFrame, metric: str) -> DataFrame:  # series total >= min_total, else null
        return df.withColumn(
            metric, F.when(F.sum(metric).over(w) >= F.lit(min_total), F.col(metric))
        )

    vc, ve = kept(kept(vc, "videos"), "creators"), kept(kept(ve, "views"), "engagement")
    out_df = (
        vc.join(ve, series, "full_outer")
        .where(" OR ".join(f"{c} IS NOT NULL" for c in COMMUNITY_METRICS))
        .na.fill(0, list(COMMUNITY_METRICS))
        .select(*series, *(F.col(c).cast("long") for c in COMMUNITY_METRICS))
    )
    meta = {
        "job": "community_time_series",
        "grain": grain,
        "step_us": step,
        "now": now,
        "min_total": min_total,
    }
    return commit(out, {"series": out_df}, meta)


# --------------------------------------------------------------------------- single-node


def _series_duckdb(
    videos_parquet: str | Path,
    events_parquet: str | Path,
    members_parquet: str | Path | None,
    metrics: tuple[str, ...],
    grain: str,
    now: Any,
    min_total: float,
) -> pa.Table:
    """The trends engine's own SQL (``series_sql``) per metric, full outer joined."""
    import duckdb

    from ..trend_sql import KINDS, series_sql

    step = step_us(grain)
    now = now or datetime(9999, 1, 1, tzinfo=UTC)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"CREATE VIEW videos AS SELECT * FROM read_parquet('{videos_parquet}')")
        con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{events_parquet}')")
        members = None
        if members_parquet is not None:
            src = f"read_parquet('{members_parquet}')"
            cols = {c[0] for c in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
            where = "community_id IS NOT NULL" + (
                " AND member_kind = 'video'" if "member_kind" in cols else ""
            )
            con.execute(
                "CREATE TABLE members AS SELECT DISTINCT CAST(video_id AS VARCHAR) AS video_id, "
                f"CAST(community_id AS VARCHAR) AS community_id FROM {src} WHERE {where}"
            )
            members = "members"
        for metric in metrics:
            q = series_sql(KINDS, metric, members, min_total=min_total)
            con.execute(f"CREATE TEMP TABLE s_{metric} AS {q}", [step, step, now, min_total])
        sel = ", ".join(f"CAST(coalesce(s_{m}.value, 0) AS BIGINT) AS {m}" for m in metrics)
        joins = " ".join(
            f"FULL OUTER JOIN s_{m} USING (kind, item, scope, bin)" for m in metrics[1:]
        )
        sql = (
            f"SELECT kind, item, scope, CAST(bin AS BIGINT) AS bin, {sel} "
            f"FROM s_{metrics[0]} {joins}"
        )
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


def item_time_series_single(
    videos_parquet: str | Path, events_parquet: str | Path, grain: str = "hour", *, now: Any = None
) -> pa.Table:
    """Single-node twin of :func:`item_time_series`: ``series_sql`` in DuckDB (metrics
    ``videos`` and ``views``, full outer join, zeros filled)."""
    _check(grain)
    t = _series_duckdb(videos_parquet, events_parquet, None, ("videos", "views"), grain, now, 1.0)
    return t.drop_columns(["scope"])


def community_time_series_single(
    videos_parquet: str | Path,
    events_parquet: str | Path,
    members_parquet: str | Path,
    grain: str = "day",
    *,
    now: Any = None,
    min_total: float = 1.0,
) -> pa.Table:
    """Single-node twin of :func:`community_time_series`: the trends engine's
    ``series_sql`` with the membership, every metric, community rows only."""
    import pyarrow.compute as pc

    _check(grain, min_total)
    t = _series_duckdb(
        videos_parquet, events_parquet, members_parquet, COMMUNITY_METRICS, grain, now, min_total
    )
    keep = pc.or_(pc.not_equal(t.column("scope"), "all"), pc.equal(t.column("kind"), "community"))
    return t.filter(keep)
