"""Candidate sources of the feed pipeline, by configuration name."""

from __future__ import annotations

from ..stages import CandidateSource
from .collaborative import EASESource, MFSource
from .community import CommunitySource, ExplorationSource, FollowingSource
from .content import ContentSource
from .popular import PopularSource, TrendingSource

#: configuration name → class
SOURCES: dict[str, type[CandidateSource]] = {
    cls.name: cls
    for cls in (
        PopularSource,
        TrendingSource,
        EASESource,
        MFSource,
        ContentSource,
        CommunitySource,
        FollowingSource,
        ExplorationSource,
    )
}

__all__ = [
    "SOURCES",
    "CandidateSource",
    "CommunitySource",
    "ContentSource",
    "EASESource",
    "ExplorationSource",
    "FollowingSource",
    "MFSource",
    "PopularSource",
    "TrendingSource",
]
