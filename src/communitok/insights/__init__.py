"""Partner insights: brief → communities, listening report, audience overlap, ambassadors
(with fake engagement and pod flags), campaign read-outs, content brief.

Pure analytics over Arrow tables (no I/O); partner-facing figures go through the
k-anonymity guard in :mod:`.partner`. The engine twin is :mod:`communitok.engine.insights`;
method and measured numbers in ``docs/insights.md``.
"""

from .ambassadors import COMPONENTS, AmbassadorWeights, ambassador_scores
from .campaign import CampaignReadout, campaign_lift, per_viewer_outcomes
from .content import cocreation_formats, hashtag_advice, lingo_examples, posting_windows
from .fraud import FraudConfig, engagement_flags, precision_recall
from .listen import item_activity, overlap_intervals, rate_ratio_interval, wilson
from .match import Brief, MatchWeights, community_documents, match_communities
from .overlap import audience_overlap, shared_people
from .partner import (
    partner_ambassadors,
    partner_campaign,
    partner_items,
    partner_lingo,
    partner_matches,
    partner_overlap,
    partner_posting_windows,
    partner_trends,
)

__all__ = [
    "COMPONENTS",
    "AmbassadorWeights",
    "Brief",
    "CampaignReadout",
    "FraudConfig",
    "MatchWeights",
    "ambassador_scores",
    "audience_overlap",
    "campaign_lift",
    "cocreation_formats",
    "community_documents",
    "engagement_flags",
    "hashtag_advice",
    "item_activity",
    "lingo_examples",
    "match_communities",
    "overlap_intervals",
    "partner_ambassadors",
    "partner_campaign",
    "partner_items",
    "partner_lingo",
    "partner_matches",
    "partner_overlap",
    "partner_posting_windows",
    "partner_trends",
    "per_viewer_outcomes",
    "posting_windows",
    "precision_recall",
    "rate_ratio_interval",
    "shared_people",
    "wilson",
]
