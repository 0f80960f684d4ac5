"""Bipartite projections on Spark, with the single-node weighting of the communities code.

* :func:`engagement_weights` — viewer × video weights of :func:`communitok.graph.engagement`.
* :func:`creator_audience_projection` — creator × creator through shared viewers: the
  *audience* layer of the item graph (:func:`communitok.communities.items.item_graph`):
  creator × viewer engagement summed over the creator's videos, TF-IDF weighted
  (sublinear tf ``1 + ln x``, smooth idf ``ln((1+n)/(1+df)) + 1`` over creators), rows
  L2-normalised, cosine similarity through a join on the viewer, top-k per creator
  (an edge stays when either end keeps it), as :func:`communitok.graph.cosine_graph`.
* :func:`viewer_interests` — the viewer side of the communities: InterestedIn
  (:func:`communitok.communities.overlap.interested_in`), viewer × video engagement times
  the video × community memberships, normalised per viewer, weights < ``min_weight``
  dropped, ``top_k`` kept, renormalised, primary = the largest.

Ties at a top-k cut are broken by id on Spark; the single-node code breaks them by
storage order, so tied edges at the cut are the only place the two may differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from ...core.errors import InputError
from ...graph import Bipartite, EngagementWeights, Graph, cosine_graph, engagement, video_items
from .session import check_path, commit

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_FLAGS = ("completed", "liked", "shared", "commented", "followed", "skipped", "not_interested")


def engagement_weights(
    spark: SparkSession, events_parquet: str | Path, weights: EngagementWeights | None = None
) -> DataFrame:
    """(viewer_id, video_id, weight): per-event score of :class:`EngagementWeights`,
    floored per event, summed per pair; zero-weight pairs dropped (as the sparse matrix)."""
    from pyspark.sql import functions as F

    if weights is not None and not isinstance(weights, EngagementWeights):
        raise InputError("must be EngagementWeights", field="weights")
    w = weights or EngagementWeights()
    ev = spark.read.parquet(check_path(events_parquet, "events_parquet"))
    score = F.lit(w.view)
    for name in _FLAGS:
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


def _check_k(top_k: int | None, field: str = "top_k") -> None:
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise InputError("must be an integer >= 1 or None", field=field)


def creator_audience_projection(
    spark: SparkSession,
    videos_parquet: str | Path,
    events_parquet: str | Path,
    out: str | Path,
    *,
    min_creator_videos: int = 2,
    top_k: int | None = 30,
    weights: EngagementWeights | None = None,
) -> Path:
    """Part ``edges`` (creator_a < creator_b, weight): the TF-IDF cosine audience
    projection; creators with fewer than *min_creator_videos* videos stay out (as the
    item graph's ``min_item_videos``). Manifest: ``n_creators`` (the idf's n)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    _check_k(top_k)
    if (
        isinstance(min_creator_videos, bool)
        or not isinstance(min_creator_videos, int)
        or min_creator_videos < 1
    ):
        raise InputError("must be an integer >= 1", field="min_creator_videos")
    v = spark.read.parquet(check_path(videos_parquet, "videos_parquet"))
    vc = v.where(F.col("creator_id").isNotNull() & (F.length("creator_id") > 0)).select(
        "video_id", "creator_id"
    )
    kept = vc.groupBy("creator_id").agg(F.countDistinct("video_id").alias("n"))
    kept = kept.where(F.col("n") >= min_creator_videos).select("creator_id")
    n = kept.count()
    ew = engagement_weights(spark, events_parquet, weights)
    cv = (
        ew.join(vc.join(kept, "creator_id"), "video_id")
        .groupBy("creator_id", "viewer_id")
        .agg(F.sum("weight").alias("x"))
        .where(F.col("x") != 0)
    )
    idf = cv.groupBy("viewer_id").agg(
        (F.log((F.lit(1.0) + n) / (F.lit(1.0) + F.count("*"))) + 1.0).alias("idf")
    )
    tf = F.lit(1.0) + F.log(F.greatest(F.col("x"), F.lit(1e-12)))
    x = (
        cv.join(idf, "viewer_id")
        .withColumn("tf", F.when(tf < 0, 0.0).otherwise(tf))
        .where(F.col("tf") > 0)
        .select("creator_id", "viewer_id", (F.col("tf") * F.col("idf")).alias("w"))
    )
    norm = x.groupBy("creator_id").agg(F.sqrt(F.sum(F.col("w") * F.col("w"))).alias("norm"))
    inv = F.lit(1.0) / F.when(F.col("norm") == 0, 1.0).otherwise(F.col("norm"))
    x = x.join(norm, "creator_id").select("creator_id", "viewer_id", (F.col("w") * inv).alias("w"))
    a, b = x.alias("a"), x.alias("b")
    sim = (
        a.join(
            b,
            (F.col("a.viewer_id") == F.col("b.viewer_id"))
            & (F.col("a.creator_id") < F.col("b.creator_id")),
        )
        .groupBy(F.col("a.creator_id").alias("creator_a"), F.col("b.creator_id").alias("creator_b"))
        .agg(F.sum(F.col("a.w") * F.col("b.w")).alias("weight"))
        .where(F.col("weight") > 0)
    )
    if top_k is not None:
        both = sim.select(F.col("creator_a").alias("c"), F.col("creator_b").alias("o"), "weight")
        both = both.unionByName(
            sim.select(F.col("creator_b").alias("c"), F.col("creator_a").alias("o"), "weight")
        )
        rank = F.row_number().over(
            Window.partitionBy("c").orderBy(F.col("weight").desc(), F.col("o"))
        )
        sim = (
            both.withColumn("r", rank)
            .where(F.col("r") <= top_k)
            .select(
                F.least("c", "o").alias("creator_a"),
                F.greatest("c", "o").alias("creator_b"),
                "weight",
            )
            .distinct()
        )
    meta = {
        "job": "creator_audience_projection",
        "n_creators": n,
        "top_k": top_k,
        "min_creator_videos": min_creator_videos,
    }
    return commit(out, {"edges": sim}, meta)


def creator_audience_single(
    videos: pa.Table,
    events: pa.Table,
    *,
    min_creator_videos: int = 2,
    top_k: int | None = 30,
    weights: EngagementWeights | None = None,
) -> Graph:
    """Single-node twin: the audience layer exactly as ``item_graph`` builds it
    (nodes ``creator:<id>``)."""
    _check_k(top_k)
    inc = video_items(videos, ("creator",))
    kept = inc.select_cols(inc.col_frequency() >= min_creator_videos)
    viewers = engagement(events, videos=inc.rows, weights=weights)
    cv = (kept.matrix.T @ viewers.matrix.T).tocsr()
    return cosine_graph(Bipartite(cv, kept.cols, viewers.rows), top_k=top_k)


def audience_graph(edges: pa.Table) -> Graph:
    """The projection's ``edges`` part as a :class:`Graph` over ``creator:<id>`` nodes
    (the ids of the item graph), ready for ``communities.items`` / ``graph.combine``."""
    for c in ("creator_a", "creator_b", "weight"):
        if c not in edges.column_names:
            raise InputError(f"edges lack column {c!r}", field="edges")
    pre = [
        pc.binary_join_element_wise("creator:", edges.column(c), "")
        for c in ("creator_a", "creator_b")
    ]
    g = Graph.from_edges(
        pre[0].to_numpy(zero_copy_only=False),
        pre[1].to_numpy(zero_copy_only=False),
        edges.column("weight").to_numpy(),
    )
    return Graph(g.adjacency, g.nodes, np.full(g.n_nodes, "creator", dtype=object))


# --------------------------------------------------------------------------- viewers


def viewer_interests(
    spark: SparkSession,
    events_parquet: str | Path,
    members_parquet: str | Path,
    out: str | Path,
    *,
    min_weight: float = 0.1,
    top_k: int = 5,
    weights: EngagementWeights | None = None,
) -> Path:
    """Part ``members`` (viewer_id, community_id, weight, is_primary): InterestedIn from
    the video memberships in *members_parquet* (``video_id, community_id, weight``; the
    ``community_members`` result's ``member_kind = 'video'`` rows when that column exists)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if not isinstance(min_weight, int | float) or not 0 <= min_weight < 1:
        raise InputError("must be in [0, 1)", field="min_weight")
    _check_k(top_k)
    m = spark.read.parquet(check_path(members_parquet, "members_parquet"))
    if not {"video_id", "community_id", "weight"} <= set(m.columns):
        raise InputError("members need video_id, community_id, weight", field="members_parquet")
    if "member_kind" in m.columns:
        m = m.where(F.col("member_kind") == "video")
    m = m.select("video_id", "community_id", F.col("weight").alias("vw"))
    raw = (
        engagement_weights(spark, events_parquet, weights)
        .join(m, "video_id")
        .groupBy("viewer_id", "community_id")
        .agg(F.sum(F.col("weight") * F.col("vw")).alias("x"))
        .where(F.col("x") != 0)
    )
    by_viewer = Window.partitionBy("viewer_id")

    def normalise(df: DataFrame, col: str) -> DataFrame:  # x · (1 / row sum), as the scipy code
        s = F.sum(col).over(by_viewer)
        return df.withColumn(col, F.col(col) * (F.lit(1.0) / F.when(s == 0, 1.0).otherwise(s)))

    share = normalise(raw, "x").where((F.col("x") >= min_weight) & (F.col("x") != 0))
    rank = F.row_number().over(by_viewer.orderBy(F.col("x").desc(), F.col("community_id")))
    top = normalise(share.withColumn("r", rank).where(F.col("r") <= top_k), "x")
    first = F.row_number().over(by_viewer.orderBy(F.col("x").desc(), F.col("community_id")))
    members = top.withColumn("p", first).select(
        "viewer_id",
        "community_id",
        F.col("x").alias("weight"),
        (F.col("p") == 1).alias("is_primary"),
    )
    meta = {"job": "viewer_interests", "min_weight": min_weight, "top_k": top_k}
    return commit(out, {"members": members}, meta)


def viewer_interests_single(
    events: pa.Table,
    members: pa.Table,
    *,
    min_weight: float = 0.1,
    top_k: int = 5,
    weights: EngagementWeights | None = None,
) -> pa.Table:
    """Single-node twin: ``communities.overlap.interested_in`` on the same memberships."""
    from ...communities.overlap import Memberships, interested_in

    if not {"video_id", "community_id", "weight"} <= set(members.column_names):
        raise InputError("members need video_id, community_id, weight", field="members")
    if "member_kind" in members.column_names:
        members = members.filter(pc.equal(members.column("member_kind"), "video"))
    vids = np.asarray(pc.unique(members.column("video_id")).to_pylist(), dtype=object)
    pos = {v: i for i, v in enumerate(vids)}
    rows = np.fromiter((pos[v] for v in members.column("video_id").to_pylist()), np.int64)
    cid = members.column("community_id").combine_chunks().dictionary_encode()
    cols = cid.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    weight = members.column("weight").to_numpy(zero_copy_only=False)
    w = sp.csr_matrix((weight, (rows, cols)), shape=(len(vids), len(cid.dictionary)))
    vm = Memberships("video", vids, w, np.full(len(vids), -1))
    eng = engagement(events, videos=vids, weights=weights)
    t = interested_in(eng, vm, min_weight=min_weight, top_k=top_k).to_arrow()
    t = t.set_column(
        t.schema.get_field_index("community_id"),
        "community_id",
        cid.dictionary.take(t.column("community_id").combine_chunks()),
    )
    return t.select(["member_id", "community_id", "weight", "is_primary"]).rename_columns(
        ["viewer_id", "community_id", "weight", "is_primary"]
    )
