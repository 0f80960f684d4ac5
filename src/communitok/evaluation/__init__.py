"""Offline evaluation: splits, full-ranking metrics, replay harness, benchmark loaders.

Imports only :mod:`communitok.core`; recommenders are plugged in as callables.
"""

from .datasets import InteractionSplit, load_interactions, load_tiktok_rec, to_csr
from .metrics import (
    RankingResult,
    community_spread,
    coverage,
    evaluate_recommender,
    evaluate_scores,
    intra_list_diversity,
    novelty,
    ranking_metrics,
    top_k_from_scores,
)
from .replay import ReplayResult, planted_interest_response, replay
from .splits import holdout_split, leave_one_out, random_split

__all__ = [
    "InteractionSplit",
    "RankingResult",
    "ReplayResult",
    "community_spread",
    "coverage",
    "evaluate_recommender",
    "evaluate_scores",
    "holdout_split",
    "intra_list_diversity",
    "leave_one_out",
    "load_interactions",
    "load_tiktok_rec",
    "novelty",
    "planted_interest_response",
    "random_split",
    "ranking_metrics",
    "replay",
    "to_csr",
    "top_k_from_scores",
]
