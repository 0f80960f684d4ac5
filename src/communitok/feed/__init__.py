"""For You feed: candidate sources → scorer → re-ranker → explainer; sessions; experiments.

Analytics only (no I/O): inputs are Arrow tables and arrays (see :mod:`.data`), outputs
are dataclasses and Arrow tables. Quick start::

    cat = Catalogue.from_arrow(videos, video_communities=vc)
    inter = Interactions.from_events(events, cat, viewer_communities=wc, follows=follows)
    feed = FeedPipeline(FeedConfig()).fit(cat, inter)
    feed.recommend("viewer-1", k=20)          # -> Feed with reasons
    feed.observe({"viewer_id": "viewer-1", "video_id": "v9", "liked": True})
"""

from .ann import EmbeddingIndex, exact_top_k, recall_vs_exact
from .config import DEFAULT_RRF_WEIGHTS, DEFAULT_SOURCES, EASE_MAX_ITEMS, FeedConfig, StageSpec
from .content import ContentModel
from .data import Catalogue, Interactions
from .ease import EASE, ease_weights
from .engagement import DurationDebiaser, EngagementWeights, engagement_target
from .experiments import EXPOSURE_SCHEMA, Experiment, exposure_table, variant_metrics
from .explain import Explainer
from .mf import ImplicitMF
from .pipeline import MAX_K, SCORERS, Feed, FeedItem, FeedPipeline
from .rerank import ReRanker, Suppression, VisibilityFilter
from .scorer import FeatureBuilder, Features, LearnedScorer, RRFScorer, Scorer
from .serving import ServeRequest
from .session import InMemorySessionStore, SessionState, SessionStore, SessionUpdater
from .sources import (
    SOURCES,
    CommunitySource,
    ContentSource,
    EASESource,
    ExplorationSource,
    FollowingSource,
    MFSource,
    PopularSource,
    TrendingSource,
)
from .stages import Candidates, CandidateSource, FitContext, Reason, RequestBatch, Stage

__all__ = [
    "DEFAULT_RRF_WEIGHTS",
    "DEFAULT_SOURCES",
    "EASE",
    "EASE_MAX_ITEMS",
    "EXPOSURE_SCHEMA",
    "MAX_K",
    "SCORERS",
    "SOURCES",
    "CandidateSource",
    "Candidates",
    "Catalogue",
    "CommunitySource",
    "ContentModel",
    "ContentSource",
    "DurationDebiaser",
    "EASESource",
    "EmbeddingIndex",
    "EngagementWeights",
    "Experiment",
    "Explainer",
    "ExplorationSource",
    "FeatureBuilder",
    "Features",
    "Feed",
    "FeedConfig",
    "FeedItem",
    "FeedPipeline",
    "FitContext",
    "FollowingSource",
    "ImplicitMF",
    "InMemorySessionStore",
    "Interactions",
    "LearnedScorer",
    "MFSource",
    "PopularSource",
    "RRFScorer",
    "ReRanker",
    "Reason",
    "RequestBatch",
    "Scorer",
    "ServeRequest",
    "SessionState",
    "SessionStore",
    "SessionUpdater",
    "Stage",
    "StageSpec",
    "Suppression",
    "TrendingSource",
    "VisibilityFilter",
    "ease_weights",
    "engagement_target",
    "exact_top_k",
    "exposure_table",
    "recall_vs_exact",
    "variant_metrics",
]
