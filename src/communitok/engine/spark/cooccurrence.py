"""Hashtag co-occurrence counts on Spark; the NPMI weighting then runs single-node."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from ...graph import Bipartite, Graph, cooccurrence, npmi_graph, video_items
from .session import check_path, commit

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def hashtag_cooccurrence(spark: SparkSession, videos_parquet: str | Path, out: str | Path) -> Path:
    """Parts ``tags`` (tag, videos) and ``pairs`` (tag_a < tag_b, videos); manifest has
    ``n_videos`` (the NPMI denominator). Hashtags as stored (no case folding), one
    count per video however often a tag repeats in it, like ``video_items``."""
    from pyspark.sql import functions as F

    v = spark.read.parquet(check_path(videos_parquet, "videos_parquet"))
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
