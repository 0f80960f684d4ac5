"""Apache Spark jobs for the heavy, pure-counting steps (extra ``communitok[spark]``).

Each job reads the simulator / ingest Parquet tables and writes Parquet; the single-node
twin of each job lives beside it (``*_single``) and the parity tests compare the two:

* :func:`hashtag_cooccurrence` — per-tag video counts and per-pair co-occurrence
  counts, the diagonal and upper triangle of :func:`communitok.graph.cooccurrence` over
  :func:`communitok.graph.video_items` (``hashtag`` kind). The NPMI weighting is then
  applied single-node by the same :func:`communitok.graph.npmi_graph`
  (:func:`npmi_from_counts`), and community detection runs on that aggregated graph.
* :func:`item_time_series` — (kind, item, bin, videos, views) at hourly or daily
  grain, the ``videos`` and ``views`` metrics of :mod:`communitok.engine.trend_sql`
  (platform-wide scope); ``bin`` is epoch microseconds like ``series_sql``.
* :func:`engagement_weights` — viewer × video weights of
  :func:`communitok.graph.engagement` (same :class:`EngagementWeights`).
* :func:`als_feed_candidates` — implicit-feedback ALS (Spark ML) on those weights,
  top-k unseen candidates per viewer; :func:`compare_als` checks its recall@k against
  the single-node :class:`communitok.feed.mf.ImplicitMF` on one split.

**Commit protocol**: a job writes everything into a hidden temporary folder beside
*out* and renames it into place only when every part is written, so a job killed
mid-way leaves either the previous complete output or none, never a partial or
duplicated one; a rerun first removes stale temporary folders. Renames are atomic on
a local / POSIX file system (on object stores use a committing output format).

pyspark is imported inside functions only, so the package works without the extra.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from ..core.errors import InputError
from ..graph import Bipartite, EngagementWeights, Graph, cooccurrence, npmi_graph, video_items
from ..trends import step_us

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

GRAINS = ("hour", "day")
_TMP, _OLD = "._tmp-", "._old-"
MANIFEST = "_COMMITTED.json"


def spark_session(
    master: str = "local[2]", *, app: str = "communitok", **conf: str
) -> SparkSession:
    """A local SparkSession bound to 127.0.0.1, UI off, few shuffle partitions, UTC."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    settings = {
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "4",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.memory": "1g",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        **conf,
    }
    b = SparkSession.builder.master(master).appName(app)
    for k, v in settings.items():
        b = b.config(k, v)
    s = b.getOrCreate()
    s.sparkContext.setLogLevel("ERROR")
    return s


# --------------------------------------------------------------------------- commit


def _before_rename(tmp: Path) -> None:
    """Hook between writing and committing (tests patch it to simulate a crash)."""


def commit(out: str | Path, parts: Mapping[str, DataFrame], meta: Mapping[str, Any]) -> Path:
    """Write *parts* (name → DataFrame) as Parquet folders under a temporary folder,
    then rename it to *out* (replacing a previous output)."""
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in out.parent.glob(f".{out.name}{_TMP}*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = out.parent / f".{out.name}{_TMP}{uuid.uuid4().hex[:12]}"
    rows = {}
    for name, df in parts.items():
        df.write.mode("errorifexists").parquet(str(tmp / name))
        if not (tmp / name / "_SUCCESS").exists():
            raise RuntimeError(f"Spark did not finish writing {tmp / name}")
        rows[name] = df.sparkSession.read.parquet(str(tmp / name)).count()
    (tmp / MANIFEST).write_text(json.dumps({**meta, "rows": rows}, indent=1, default=str))
    _before_rename(tmp)
    old = None
    if out.exists():
        old = out.parent / f".{out.name}{_OLD}{uuid.uuid4().hex[:12]}"
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    for stale in out.parent.glob(f".{out.name}{_OLD}*"):
        shutil.rmtree(stale, ignore_errors=True)
    return out


def read_output(out: str | Path, part: str) -> pa.Table:
    """One committed part of a job's output as an Arrow table (raises if uncommitted)."""
    import pyarrow.parquet as pq

    out = Path(out)
    if not (out / MANIFEST).exists():
        raise InputError(f"{out} holds no committed job output", field="out")
    files = sorted((out / part).glob("*.parquet"))
    if not files:
        return pq.read_table(out / part) if (out / part).exists() else pa.table({})
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")


# --------------------------------------------------------------------------- co-occurrence


def hashtag_cooccurrence(spark: SparkSession, videos_parquet: str | Path, out: str | Path) -> Path:
    """Parts ``tags`` (tag, videos) and ``pairs`` (tag_a < tag_b, videos); manifest has
    ``n_videos`` (the NPMI denominator). Hashtags as stored (no case folding), one
    count per video however often a tag repeats in it, like ``video_items``."""
    from pyspark.sql import functions as F

    v = spark.read.parquet(str(videos_parquet))
    n_videos = v.select("video_id").distinct().count()
    tags = (
        v.select("video_id", F.explode("hashtags").alias("tag"))
        .where(F.col("tag").isNotNull() & (F.length("tag") > 0))
        .distinct()
    )
    per_tag = tags.groupBy("tag").agg(F.count("*").alias("videos"))
    a, b = tags.alias("a"), tags.alias("b")
    pairs = (
        a.join(b, (F.col("a.video_id") == F.col("b.video_id")) & (F.col("a.tag") < F.col("b.tag")))
        .groupBy(F.col("a.tag").alias("tag_a"), F.col("b.tag").alias("tag_b"))
        .agg(F.count("*").alias("videos"))
    )
    meta = {"job": "hashtag_cooccurrence", "input": str(videos_parquet), "n_videos": n_videos}
    return commit(out, {"tags": per_tag, "pairs": pairs}, meta)


def hashtag_cooccurrence_single(videos: pa.Table) -> tuple[pa.Table, pa.Table, int]:
    """Single-node twin: (tags, pairs, n_videos) from ``video_items`` + ``cooccurrence``."""
    b = video_items(videos, ("hashtag",))
    c = cooccurrence(b)
    names = np.asarray([str(x).removeprefix("hashtag:") for x in b.cols], dtype=object)
    tags = pa.table({"tag": names.tolist(), "videos": c.diagonal().astype(np.int64)})
    up = sp.triu(c, k=1, format="coo")
    i, j = up.row, up.col
    swap = names[i] > names[j]
    ta, tb = np.where(swap, names[j], names[i]), np.where(swap, names[i], names[j])
    pairs = pa.table(
        {"tag_a": ta.tolist(), "tag_b": tb.tolist(), "videos": up.data.astype(np.int64)}
    )
    return tags, pairs, b.shape[0]


def npmi_from_counts(
    tags: pa.Table, pairs: pa.Table, n_videos: int, *, min_count: int = 2
) -> Graph:
    """The hashtag NPMI graph (:func:`npmi_graph`) from aggregated counts: the Spark
    output feeds the very same weighting code as the single-node path."""
    names = np.asarray(tags.column("tag").to_pylist(), dtype=object)
    idx = {t: k for k, t in enumerate(names)}
    n = len(names)
    i = np.fromiter((idx[t] for t in pairs.column("tag_a").to_pylist()), np.int64)
    j = np.fromiter((idx[t] for t in pairs.column("tag_b").to_pylist()), np.int64)
    w = np.asarray(pairs.column("videos").to_numpy(), np.float64)
    d = np.asarray(tags.column("videos").to_numpy(), np.float64)
    ar = np.arange(n)
    counts = sp.coo_matrix(
        (np.r_[w, w, d], (np.r_[i, j, ar], np.r_[j, i, ar])), shape=(n, n)
    ).tocsr()
    cols = np.asarray([f"hashtag:{t}" for t in names], dtype=object)
    shell = Bipartite(sp.csr_matrix((n_videos, n)), np.arange(n_videos).astype(str), cols)
    return npmi_graph(shell, min_count=min_count, counts=counts)


# --------------------------------------------------------------------------- time series


def _item_uses(spark: SparkSession, videos_parquet: str | Path) -> DataFrame:
    """(kind, item, video_id, created_at) like ``trend_sql._uses_sql``."""
    from pyspark.sql import functions as F

    v = spark.read.parquet(str(videos_parquet))
    cols = ["video_id", "created_at"]
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

    if grain not in GRAINS:
        raise InputError(f"must be one of {GRAINS}", field="grain")
    step = step_us(grain)
    uses = _item_uses(spark, videos_parquet)
    ev = spark.read.parquet(str(events_parquet)).where(F.col("ts").isNotNull())
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
        per_video.join(
            _item_uses(spark, videos_parquet).select("kind", "item", "video_id"), "video_id"
        )
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


def item_time_series_single(
    videos_parquet: str | Path, events_parquet: str | Path, grain: str = "hour", *, now: Any = None
) -> pa.Table:
    """Single-node twin: the DuckDB SQL of :func:`trend_sql.series_sql` on the Parquet
    files (metrics ``videos`` and ``views``, full outer join, zeros filled)."""
    from datetime import UTC, datetime

    import duckdb

    from .trend_sql import KINDS, series_sql

    step = step_us(grain)
    now = now or datetime(9999, 1, 1, tzinfo=UTC)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"CREATE VIEW videos AS SELECT * FROM read_parquet('{videos_parquet}')")
        con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{events_parquet}')")
        qv = series_sql(KINDS, "videos", None, min_total=1.0)
        qe = series_sql(KINDS, "views", None, min_total=1.0)
        con.execute(f"CREATE TEMP TABLE sv AS {qv}", [step, step, now, 1.0])
        con.execute(f"CREATE TEMP TABLE se AS {qe}", [step, step, now, 1.0])
        sql = (
            "SELECT kind, item, CAST(bin AS BIGINT) AS bin, "
            "CAST(coalesce(v.value, 0) AS BIGINT) AS videos, "
            "CAST(coalesce(e.value, 0) AS BIGINT) AS views "
            "FROM sv v FULL OUTER JOIN se e USING (kind, item, scope, bin)"
        )
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


# --------------------------------------------------------------------------- engagement / ALS


def engagement_weights(
    spark: SparkSession, events_parquet: str | Path, weights: EngagementWeights | None = None
) -> DataFrame:
    """(viewer_id, video_id, weight): per-event score of :class:`EngagementWeights`,
    floored per event, summed per pair; zero-weight pairs dropped (as the sparse matrix)."""
    from pyspark.sql import functions as F

    w = weights or EngagementWeights()
    ev = spark.read.parquet(str(events_parquet))
    score = F.lit(w.view)
    for name in (
        "completed",
        "liked",
        "shared",
        "commented",
        "followed",
        "skipped",
        "not_interested",
    ):
        if name in ev.columns:
            flag = F.coalesce(F.col(name).cast("double"), F.lit(0.0))
            score = score + F.lit(getattr(w, name)) * flag
    score = F.greatest(score, F.lit(w.floor))
    return (
        ev.where(F.col("viewer_id").isNotNull() & F.col("video_id").isNotNull())
        .groupBy("viewer_id", "video_id")
        .agg(F.sum(score).alias("weight"))
        .where(F.col("weight") != 0)
    )


def _als(rank: int, iterations: int, reg: float, alpha: float, seed: int) -> Any:
    from pyspark.ml.recommendation import ALS

    return ALS(
        rank=rank, maxIter=iterations, regParam=reg, alpha=alpha, implicitPrefs=True,
        userCol="u", itemCol="i", ratingCol="r", seed=seed, coldStartStrategy="drop",
        nonnegative=False,
    )  # fmt: skip


def als_feed_candidates(
    spark: SparkSession,
    events_parquet: str | Path,
    out: str | Path,
    *,
    k: int = 20,
    rank: int = 32,
    iterations: int = 10,
    reg: float = 0.05,
    alpha: float = 10.0,
    seed: int = 0,
    buffer: int = 50,
) -> Path:
    """Parts ``candidates`` (viewer_id, video_id, score, rank ≤ k, unseen videos only)
    and ``item_factors`` (video_id, features). Seen videos are removed from the top
    ``k + buffer``, so a viewer with more than *buffer* seen videos there may get < k."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    ew = engagement_weights(spark, events_parquet).where(F.col("weight") > 0)
    users = (
        ew.select("viewer_id")
        .distinct()
        .withColumn("u", F.row_number().over(Window.orderBy("viewer_id")).cast("int") - 1)
    )
    items = (
        ew.select("video_id")
        .distinct()
        .withColumn("i", F.row_number().over(Window.orderBy("video_id")).cast("int") - 1)
    )
    r = (
        ew.join(users, "viewer_id")
        .join(items, "video_id")
        .select("u", "i", F.col("weight").alias("r"))
    )
    r = r.cache()
    model = _als(rank, iterations, reg, alpha, seed).fit(r)
    recs = model.recommendForAllUsers(k + buffer).select(
        "u", F.posexplode("recommendations").alias("pos", "rec")
    )
    recs = recs.select("u", F.col("rec.i").alias("i"), F.col("rec.rating").alias("score"), "pos")
    seen = spark.read.parquet(str(events_parquet)).select("viewer_id", "video_id").distinct()
    recs = recs.join(users, "u").join(items, "i").join(seen, ["viewer_id", "video_id"], "left_anti")
    ranked = recs.withColumn(
        "rank", F.row_number().over(Window.partitionBy("viewer_id").orderBy("pos"))
    )
    cands = ranked.where(F.col("rank") <= k).select(
        "viewer_id", "video_id", F.col("score").cast("double"), "rank"
    )
    factors = (
        model.itemFactors.withColumnRenamed("id", "i")
        .join(items, "i")
        .select("video_id", "features")
    )
    meta = {"job": "als_feed_candidates", "k": k, "rank": rank, "iterations": iterations,
            "reg": reg, "alpha": alpha, "seed": seed}  # fmt: skip
    try:
        return commit(out, {"candidates": cands, "item_factors": factors}, meta)
    finally:
        r.unpersist()


def spark_als_factors(
    spark: SparkSession,
    train: sp.spmatrix,
    *,
    rank: int = 32,
    iterations: int = 10,
    reg: float = 0.05,
    alpha: float = 10.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Spark ML implicit ALS on a user × item matrix: (user factors, item factors)
    aligned to the matrix's row / column indices (zeros for rows without data)."""
    coo = sp.coo_matrix(train)
    pdf = pa.table(
        {
            "u": coo.row.astype(np.int32),
            "i": coo.col.astype(np.int32),
            "r": coo.data.astype(np.float32),
        }
    ).to_pandas()
    model = _als(rank, iterations, reg, alpha, seed).fit(spark.createDataFrame(pdf))
    out = []
    for df, n in ((model.userFactors, coo.shape[0]), (model.itemFactors, coo.shape[1])):
        f = np.zeros((n, rank), np.float32)
        for row in df.collect():
            f[row["id"]] = row["features"]
        out.append(f)
    return out[0], out[1]


def compare_als(
    spark: SparkSession,
    train: sp.spmatrix,
    test: sp.spmatrix,
    *,
    k: int = 20,
    rank: int = 32,
    iterations: int = 10,
    seed: int = 0,
    single: Callable[..., Any] | None = None,
) -> dict[str, float]:
    """recall@k of Spark ML ALS vs the single-node ``ImplicitMF`` (and popularity)
    on the same split, training items masked."""
    from ..evaluation import evaluate_scores
    from ..feed.mf import ImplicitMF

    mf = (single or ImplicitMF)(factors=rank, iterations=iterations, seed=seed).fit(train)
    r_single = evaluate_scores(lambda u: mf.score(mf.user_factors_[u]), train, test, k=k)
    U, V = spark_als_factors(spark, train, rank=rank, iterations=iterations, seed=seed)
    r_spark = evaluate_scores(lambda u: U[u] @ V.T, train, test, k=k)
    pop = np.asarray(sp.csr_matrix(train).getnnz(axis=0), np.float64)
    r_pop = evaluate_scores(lambda u: np.tile(pop, (len(u), 1)), train, test, k=k)
    return {
        "recall_single": r_single.recall,
        "recall_spark": r_spark.recall,
        "recall_popularity": r_pop.recall,
        "n_users": float(r_single.n_users),
    }
