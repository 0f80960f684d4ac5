"""The ground-truth bundle: what the simulator planted, for known-answer tests.

A :class:`GroundTruth` holds small structured facts (communities, evolution events,
bridges, bursts, pods, fake engagement, campaigns) as frozen dataclasses and per-entity
facts as Arrow tables (:data:`TRUTH_TABLES`). On disk it is a folder with ``truth.json``
(the small facts, times as ISO 8601 with ``Z``) and one Parquet file per table.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..core.errors import InputError, NotFound
from ..core.timeutil import parse_timestamp

FORMAT_VERSION = 1

#: Per-entity truth tables written as Parquet beside ``truth.json``.
TRUTH_TABLES = {
    "creator_communities": "creator_id, community_id (home), second_community_id (bridging), "
    "late_community_id (after merge/split), is_core, is_fake, pod_id",
    "viewer_interests": "viewer_id, community_id, weight, late_community_id",
    "video_truth": "video_id, community_id (effective at upload), lineage_community_id, "
    "burst_id, burst_role, campaign_id, parent_video_id, link_kind, cascade_root_id, "
    "cascade_depth, is_boosted",
    "comment_labels": "comment_id, label (clean | hate | offensive | spam)",
    "cascades": "root_video_id, community_id, size, depth, n_duet, n_stitch, n_sound_reuse",
    "accounts": "account_id, role (throwaway | troll | spammer | pod_member | fake_creator), "
    "group_id",
    "campaign_assignments": "campaign_id, entity_kind (creator | viewer), entity_id, "
    "arm (treated | control)",
}


@dataclass(frozen=True)
class CommunityTruth:
    id: str
    name: str
    category: str
    #: base | born | merged | split
    kind: str
    parents: tuple[str, ...]
    active_from: datetime
    #: None while still active at the window end
    active_to: datetime | None
    hashtags: tuple[str, ...]
    lingo: tuple[str, ...]
    sounds: tuple[str, ...]
    effects: tuple[str, ...]
    core_creators: tuple[str, ...]
    size_weight: float


@dataclass(frozen=True)
class EvolutionEvent:
    #: birth | merge | split
    kind: str
    time: datetime
    sources: tuple[str, ...]
    results: tuple[str, ...]


@dataclass(frozen=True)
class Bridge:
    communities: tuple[str, str]
    hashtag: str
    creators: tuple[str, ...]


@dataclass(frozen=True)
class Spill:
    community: str
    lag_days: float
    n_videos: int


@dataclass(frozen=True)
class Burst:
    id: str
    #: hashtag | sound
    item_kind: str
    #: the hashtag name, or the sound id
    item: str
    item_title: str
    community: str
    start: datetime
    peak: datetime
    end: datetime
    #: peak usage rate / baseline usage rate of the item in its community
    magnitude: float
    n_videos: int
    baseline_per_day: float
    peak_per_day: float
    spilled_into: tuple[Spill, ...]


@dataclass(frozen=True)
class Pod:
    id: str
    community: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class FakeEngagement:
    creators: tuple[str, ...]
    n_boosted_videos: int
    n_bought_events: int
    n_throwaway_accounts: int
    n_pod_events: int


@dataclass(frozen=True)
class Campaign:
    id: str
    brand: str
    hashtags: tuple[str, ...]
    target_community: str
    start: datetime
    end: datetime
    #: relative lift of treated viewers' engagement probabilities (like, share, comment,
    #: follow) on target-community videos during [start, end); control lift is 0
    lift: float
    metric: str
    n_videos: int
    n_treated_viewers: int
    n_control_viewers: int
    ambassadors: tuple[str, ...]
    control_creators: tuple[str, ...]
    #: randomised (treated / control viewers) | community (everyone exposed)
    design: str = "randomised"


@dataclass(frozen=True)
class GroundTruth:
    """Everything planted by one simulation (see module doc and ``docs/simulator.md``)."""

    config: dict[str, Any]
    window_start: datetime
    window_end: datetime
    mega_tags: tuple[str, ...]
    communities: tuple[CommunityTruth, ...]
    evolution: tuple[EvolutionEvent, ...]
    bridges: tuple[Bridge, ...]
    bursts: tuple[Burst, ...]
    pods: tuple[Pod, ...]
    fake_engagement: FakeEngagement
    campaigns: tuple[Campaign, ...]
    toxic_rate: float
    label_counts: dict[str, int]
    tables: Mapping[str, pa.Table] = field(default_factory=dict, compare=False, repr=False)

    # -- look-ups -------------------------------------------------------------------
    def table(self, name: str) -> pa.Table:
        if name not in self.tables:
            raise NotFound(f"no truth table {name!r}; known: {', '.join(self.tables)}")
        return self.tables[name]

    def community(self, key: str) -> CommunityTruth:
        """A community by id (``k03``) or name (``booktok``)."""
        for c in self.communities:
            if key in (c.id, c.name):
                return c
        raise NotFound(f"no planted community {key!r}")

    def communities_at(self, t: datetime) -> list[CommunityTruth]:
        """Communities active at time *t* (after births, merges and splits so far)."""
        return [
            c
            for c in self.communities
            if c.active_from <= t and (c.active_to is None or t < c.active_to)
        ]

    def _map(self, table: str, key: str, value: str) -> dict[str, Any]:
        t = self.table(table)
        return dict(zip(t.column(key).to_pylist(), t.column(value).to_pylist(), strict=True))

    def creator_home(self) -> dict[str, str]:
        return self._map("creator_communities", "creator_id", "community_id")

    def video_community(self) -> dict[str, str]:
        return self._map("video_truth", "video_id", "community_id")

    def comment_labels(self) -> dict[str, str]:
        return self._map("comment_labels", "comment_id", "label")

    # -- bundle I/O -------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        d = {f.name: _dump(getattr(self, f.name)) for f in fields(self) if f.name != "tables"}
        return {"format_version": FORMAT_VERSION, **d}

    def save(self, folder: str | Path) -> Path:
        """Write ``truth.json`` and one Parquet file per truth table into *folder*."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        (out / "truth.json").write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False))
        for name, table in self.tables.items():
            pq.write_table(table, out / f"{name}.parquet")
        return out

    @classmethod
    def load(cls, folder: str | Path) -> GroundTruth:
        """Read a bundle written by :meth:`save`."""
        path = Path(folder)
        meta = path / "truth.json"
        if not meta.is_file():
            raise NotFound(f"no ground-truth bundle in {path} (truth.json missing)")
        data = json.loads(meta.read_text())
        if data.pop("format_version", None) != FORMAT_VERSION:
            raise InputError(f"unsupported truth bundle version in {meta}", field="format_version")
        tables = {
            n: pq.read_table(path / f"{n}.parquet")
            for n in TRUTH_TABLES
            if (path / f"{n}.parquet").is_file()
        }
        return _load(cls, data, tables=tables)


def load_truth(folder: str | Path) -> GroundTruth:
    """Load a ground-truth bundle folder (``out_dir/truth`` of :func:`write_dataset`)."""
    return GroundTruth.load(folder)


def _dump(x: Any) -> Any:
    if isinstance(x, datetime):
        return x.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if is_dataclass(x) and not isinstance(x, type):
        return {f.name: _dump(getattr(x, f.name)) for f in fields(x)}
    if isinstance(x, list | tuple):
        return [_dump(i) for i in x]
    if isinstance(x, dict):
        return {k: _dump(val) for k, val in x.items()}
    return x


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is datetime:
        return parse_timestamp(value)
    if origin is tuple:
        inner = args[0] if args else Any
        return tuple(_convert(inner, v) for v in value)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        return _convert(non_none[0], value) if len(non_none) == 1 else value
    if isinstance(hint, type) and is_dataclass(hint):
        return _load(hint, value)
    return value


def _load(cls: Any, data: dict[str, Any], **extra: Any) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs = {f.name: _convert(hints[f.name], data[f.name]) for f in fields(cls) if f.name in data}
    return cls(**kwargs, **extra)
