"""Graphs from stored tables: incidences, co-occurrence, projections and weighting.

Analytics only (no I/O): Arrow tables in, :class:`Graph` / :class:`Bipartite`
(scipy.sparse + ids) out. See ``docs/communities.md`` for the weighting rationale.
"""

from .tables import (
    VIDEO_ITEM_COLUMNS,
    EngagementWeights,
    cocreation_graph,
    engagement,
    incidence,
    video_items,
)
from .types import Bipartite, Graph, member_of, stack_cols
from .weighting import (
    Spread,
    combine,
    cooccurrence,
    cosine_graph,
    group_spread,
    idf,
    npmi_graph,
    stop_items,
    tfidf,
    top_k,
)

__all__ = [
    "VIDEO_ITEM_COLUMNS",
    "Bipartite",
    "EngagementWeights",
    "Graph",
    "Spread",
    "cocreation_graph",
    "combine",
    "cooccurrence",
    "cosine_graph",
    "engagement",
    "group_spread",
    "idf",
    "incidence",
    "member_of",
    "npmi_graph",
    "stack_cols",
    "stop_items",
    "tfidf",
    "top_k",
    "video_items",
]
