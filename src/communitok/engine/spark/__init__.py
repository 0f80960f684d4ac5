"""Apache Spark jobs for the heavy, pure-counting steps (extra ``communitok[spark]``).

Each job reads the simulator / ingest Parquet tables and commits Parquet output
(:mod:`.session`: temporary folder, then an atomic rename); the single-node twin of each
job lives beside it (``*_single``) and ``tests/spark`` checks that both agree:

* :func:`hashtag_cooccurrence` — per-tag and per-pair video counts; the NPMI weighting
  then runs single-node on them (:func:`npmi_from_counts` → ``graph.npmi_graph``).
* :func:`item_time_series` — (kind, item, bin, videos, views), platform-wide, the
  ``videos`` / ``views`` series of :mod:`communitok.engine.trend_sql`.
* :func:`community_time_series` — the per-community rows of those series (every item
  inside every community, and every community as a whole), all four metrics.
* :func:`engagement_weights` — viewer × video weights of ``graph.engagement``.
* :func:`creator_audience_projection` — creator × creator through shared viewers,
  TF-IDF cosine, top-k: the item graph's audience layer.
* :func:`viewer_interests` — viewer × community memberships (InterestedIn).
* :func:`als_feed_candidates` — implicit ALS (Spark ML), top-k unseen candidates per
  viewer; :func:`compare_als` checks its recall against ``feed.mf.ImplicitMF``.

pyspark is imported inside functions only, so the package works without the extra.
"""

from __future__ import annotations

from .als import als_feed_candidates, compare_als, spark_als_factors
from .cooccurrence import hashtag_cooccurrence, hashtag_cooccurrence_single, npmi_from_counts
from .projections import (
    audience_graph,
    creator_audience_projection,
    creator_audience_single,
    engagement_weights,
    viewer_interests,
    viewer_interests_single,
)
from .series import (
    COMMUNITY_METRICS,
    GRAINS,
    community_time_series,
    community_time_series_single,
    item_time_series,
    item_time_series_single,
)
from .session import MANIFEST, commit, manifest, read_output, spark_session

__all__ = [
    "COMMUNITY_METRICS",
    "GRAINS",
    "MANIFEST",
    "als_feed_candidates",
    "audience_graph",
    "commit",
    "community_time_series",
    "community_time_series_single",
    "compare_als",
    "creator_audience_projection",
    "creator_audience_single",
    "engagement_weights",
    "hashtag_cooccurrence",
    "hashtag_cooccurrence_single",
    "item_time_series",
    "item_time_series_single",
    "manifest",
    "npmi_from_counts",
    "read_output",
    "spark_als_factors",
    "spark_session",
    "viewer_interests",
    "viewer_interests_single",
]
