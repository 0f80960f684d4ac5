"""Implicit-feedback ALS on Spark ML for feed candidates, and its comparison with the
single-node :class:`communitok.feed.mf.ImplicitMF` on one split."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from ...core.errors import InputError
from .projections import engagement_weights
from .session import check_path, commit

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def _check_params(**values: int) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InputError("must be an integer >= 1", field=name)


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

    _check_params(k=k, rank=rank, iterations=iterations, buffer=buffer + 1)
    check_path(events_parquet, "events_parquet")
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
    _check_params(rank=rank, iterations=iterations)
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
    from ...evaluation import evaluate_scores
    from ...feed.mf import ImplicitMF

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
