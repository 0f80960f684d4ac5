"""Engine wiring for partner insights: load inputs from the store (core tables and the
results of community detection, trends and safety), run :mod:`communitok.insights`, and
return partner-facing figures through the k-anonymity guard (``settings.privacy_k``).

Inputs: ``videos``, ``events``, ``comments``, ``cocreation_links``, ``viewers`` and the
results ``communities``, ``community_members`` (primary video membership defines each
community's videos; their non-skipping viewers are its audience), ``community_lingo``,
``community_profiles``, ``community_items`` (stop tags), ``bridges`` and, when present,
``visibility`` (comment moderation), the trend results and ``feed_exposures``. Result
written: ``engagement_flags`` (the fake engagement / pod screen, by
:func:`screen_engagement`).

Modules: :mod:`.match` (brief → communities), :mod:`.audience` (overlap, fraud screen,
ambassadors), :mod:`.content` (content brief), :mod:`.listen` (listening report),
:mod:`.campaign` (campaign read-outs), :mod:`.experiments` (feed experiment read-outs),
:mod:`.plan` (power / minimum detectable effect).
"""

from ._common import FLAGS, PRIMARY_VIDEOS, community_audience, creator_audience
from .audience import ambassadors, overlap, screen_engagement
from .campaign import CampaignReport, campaign_readout
from .content import ContentBrief, content_brief
from .demo import _register_demo
from .experiments import ExperimentReport, experiment_readout, experiment_viewers
from .listen import ListeningReport, listen
from .match import MatchReport, match_brief, region_shares
from .plan import CampaignPlan, plan_campaign

__all__ = [
    "FLAGS",
    "PRIMARY_VIDEOS",
    "CampaignPlan",
    "CampaignReport",
    "ContentBrief",
    "ExperimentReport",
    "ListeningReport",
    "MatchReport",
    "ambassadors",
    "campaign_readout",
    "community_audience",
    "content_brief",
    "creator_audience",
    "experiment_readout",
    "experiment_viewers",
    "listen",
    "match_brief",
    "overlap",
    "plan_campaign",
    "region_shares",
    "screen_engagement",
]

_register_demo()
