"""Seeded synthetic short-video platform with planted ground truth.

``simulate(SimConfig.preset("tiny", seed=1))`` returns every core table (creators,
viewers, videos, hashtags, sounds, effects, comments, follows, cocreation_links, events)
plus a :class:`GroundTruth` of what was planted: communities with hashtags, lingo,
sounds and effects; overlapping viewer interests; bridges; bursts with spill-over;
co-creation cascades; community birth, merge and split; toxic comments; bought
engagement and engagement pods; brand campaigns with a known lift.
``write_dataset(config, out_dir, format)`` streams the same to files (events in chunks).
The generative model is described in ``docs/simulator.md``.
"""

from .api import SimResult, TableStream, iter_tables, simulate
from .config import PRESETS, SimConfig
from .truth import (
    TRUTH_TABLES,
    Bridge,
    Burst,
    Campaign,
    CommunityTruth,
    EvolutionEvent,
    FakeEngagement,
    GroundTruth,
    Pod,
    Spill,
    load_truth,
)
from .writer import FORMATS, DatasetInfo, write_dataset

__all__ = [
    "FORMATS",
    "PRESETS",
    "TRUTH_TABLES",
    "Bridge",
    "Burst",
    "Campaign",
    "CommunityTruth",
    "DatasetInfo",
    "EvolutionEvent",
    "FakeEngagement",
    "GroundTruth",
    "Pod",
    "SimConfig",
    "SimResult",
    "Spill",
    "TableStream",
    "iter_tables",
    "load_truth",
    "simulate",
    "write_dataset",
]
