"""Simulator parameters: one frozen :class:`SimConfig`, validated once, with size presets.

Every size and rate of the generative model (see ``docs/simulator.md``) is a field here.
``SimConfig.preset("tiny" | "small" | "medium" | "large", seed=...)`` picks a coherent
set of sizes; any field can be overridden by keyword. Invalid values raise
:class:`communitok.core.errors.InputError` naming the field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from ..core.errors import InputError
from ..core.timeutil import to_utc

#: Default start of the simulated window (UTC).
DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)

#: Sizes of the presets. ``large`` is 1M viewers and 10M viewing events.
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(
        n_communities=8,
        n_creators=80,
        n_viewers=400,
        n_videos=800,
        n_events=10_000,
        n_comments=1_500,
        days=14,
        n_bursts=2,
        n_pods=2,
        n_campaigns=1,
    ),
    "small": dict(
        n_communities=12,
        n_creators=1_000,
        n_viewers=10_000,
        n_videos=10_000,
        n_events=200_000,
        n_comments=20_000,
        days=28,
        n_bursts=4,
        n_pods=4,
        n_campaigns=1,
    ),
    "medium": dict(
        n_communities=24,
        n_creators=10_000,
        n_viewers=100_000,
        n_videos=100_000,
        n_events=2_000_000,
        n_comments=200_000,
        days=28,
        n_bursts=8,
        n_pods=10,
        n_campaigns=2,
    ),
    "large": dict(
        n_communities=40,
        n_creators=50_000,
        n_viewers=1_000_000,
        n_videos=500_000,
        n_events=10_000_000,
        n_comments=1_000_000,
        days=28,
        n_bursts=12,
        n_pods=25,
        n_campaigns=3,
    ),
}


@dataclass(frozen=True)
class SimConfig:
    """All parameters of one simulation. Same config (seed included) → identical output."""

    seed: int = 0
    #: preset the sizes came from ("custom" when built field by field)
    preset_name: str = "custom"
    # sizes
    n_communities: int = 8
    n_creators: int = 80
    n_viewers: int = 400
    n_videos: int = 800
    n_events: int = 10_000
    n_comments: int = 1_500
    days: int = 14
    start: datetime = DEFAULT_START
    #: events are generated (and written) in chunks of this many rows
    chunk_size: int = 1_000_000
    # content and language
    mega_tag_rate: float = 0.6
    lingo_rate: float = 0.6
    lingo_leak: float = 0.02
    transcript_rate: float = 0.5
    # comments
    toxic_rate: float = 0.08
    #: shares of toxic comments that are (hate, offensive/harassment, spam)
    toxic_mix: tuple[float, float, float] = (0.25, 0.35, 0.40)
    reply_rate: float = 0.3
    # structure
    cocreation_rate: float = 0.25
    bridge_creator_rate: float = 0.05
    #: planted community pairs sharing a bridge hashtag; None → n_communities // 4
    n_bridges: int | None = None
    evolution: bool = True
    n_bursts: int = 2
    burst_share: float = 0.06
    spill_rate: float = 0.5
    # fake engagement
    fake_creator_rate: float = 0.02
    fake_event_share: float = 0.01
    n_pods: int = 2
    pod_size: tuple[int, int] = (4, 8)
    # campaigns
    n_campaigns: int = 1
    campaign_lift: float = 0.5
    #: ``randomised``: the target audience is split into treated and control viewers;
    #: ``community``: every viewer is exposed on the target community (no control arm: a
    #: non-randomised campaign, read out against comparable communities)
    campaign_design: str = "randomised"
    # audience
    follows_per_viewer: float = 3.0
    #: share of a targeted impression drawn from the video's community audience
    targeting: float = 0.85
    #: platform counts (views, likes…) ≈ expected simulated events × view_scale
    view_scale: float = 1.0

    def __post_init__(self) -> None:
        _validate(self)

    @classmethod
    def preset(cls, size: str = "tiny", *, seed: int = 0, **overrides: Any) -> SimConfig:
        """Sizes for ``tiny`` (tests, < 1 s), ``small``, ``medium`` or ``large`` (1M users,
        10M events); *overrides* replace any field."""
        if size not in PRESETS:
            raise InputError(f"unknown preset {size!r}; known: {', '.join(PRESETS)}", field="size")
        params: dict[str, Any] = {**PRESETS[size], "preset_name": size, "seed": seed}
        params.update(overrides)
        return cls(**params)

    def with_(self, **changes: Any) -> SimConfig:
        """A copy with *changes* applied (and validated)."""
        return replace(self, **changes)

    @property
    def start_us(self) -> int:
        """Window start as microseconds since the Unix epoch."""
        return round(self.start.timestamp() * 1_000_000)

    @property
    def end_us(self) -> int:
        """Window end (exclusive) as microseconds since the Unix epoch."""
        return self.start_us + self.days * 86_400 * 1_000_000

    @property
    def bridges(self) -> int:
        return self.n_communities // 4 if self.n_bridges is None else self.n_bridges

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (start as ISO 8601 with Z); inverse of :meth:`from_dict`."""
        d = asdict(self)
        d["start"] = self.start.strftime("%Y-%m-%dT%H:%M:%SZ")
        d["toxic_mix"] = list(self.toxic_mix)
        d["pod_size"] = list(self.pod_size)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"unknown simulator parameters: {unknown}", field=unknown[0])
        d = dict(data)
        if "start" in d:
            d["start"] = to_utc(d["start"], field="start")
        for k in ("toxic_mix", "pod_size"):
            if k in d and isinstance(d[k], list):
                d[k] = tuple(d[k])
        return cls(**d)


def _int(cfg: SimConfig, name: str, lo: int, hi: int | None = None) -> None:
    v = getattr(cfg, name)
    if isinstance(v, bool) or not isinstance(v, int):
        raise InputError(f"must be an integer, got {v!r}", field=name)
    if v < lo or (hi is not None and v > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
        raise InputError(f"must be {bound}, got {v}", field=name)


def _float(cfg: SimConfig, name: str, lo: float, hi: float) -> None:
    v = getattr(cfg, name)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise InputError(f"must be a number, got {v!r}", field=name)
    if not lo <= float(v) <= hi:
        raise InputError(f"must be between {lo} and {hi}, got {v}", field=name)


def _validate(cfg: SimConfig) -> None:
    _int(cfg, "seed", 0)
    if not isinstance(cfg.preset_name, str):
        raise InputError("must be a string", field="preset_name")
    _int(cfg, "n_communities", 6 if cfg.evolution else 2, 500)
    _int(cfg, "n_creators", 3 * cfg.n_communities)
    _int(cfg, "n_viewers", 10)
    _int(cfg, "n_videos", cfg.n_creators)
    _int(cfg, "n_events", 1)
    _int(cfg, "n_comments", 0)
    _int(cfg, "days", 2, 3650)
    _int(cfg, "chunk_size", 1_000)
    if not isinstance(cfg.start, datetime):
        raise InputError(f"must be a datetime, got {cfg.start!r}", field="start")
    if cfg.start.tzinfo is None:
        raise InputError("must be timezone-aware (UTC)", field="start")
    object.__setattr__(cfg, "start", to_utc(cfg.start, field="start"))
    for name in ("mega_tag_rate", "lingo_rate", "transcript_rate", "toxic_rate", "reply_rate"):
        _float(cfg, name, 0.0, 1.0)
    _float(cfg, "lingo_leak", 0.0, 0.5)
    _float(cfg, "cocreation_rate", 0.0, 0.8)
    _float(cfg, "bridge_creator_rate", 0.0, 0.5)
    _float(cfg, "burst_share", 0.0, 0.5)
    _float(cfg, "spill_rate", 0.0, 1.0)
    _float(cfg, "fake_creator_rate", 0.0, 0.3)
    _float(cfg, "fake_event_share", 0.0, 0.2)
    _float(cfg, "campaign_lift", 0.0, 2.0)
    if cfg.campaign_design not in ("randomised", "community"):
        raise InputError("must be randomised or community", field="campaign_design")
    _float(cfg, "follows_per_viewer", 0.0, 1000.0)
    _float(cfg, "targeting", 0.0, 1.0)
    _float(cfg, "view_scale", 1e-6, 1e9)
    _int(cfg, "n_bursts", 0, 10_000)
    _int(cfg, "n_pods", 0, 10_000)
    _int(cfg, "n_campaigns", 0, 100)
    if cfg.n_bridges is not None:
        _int(cfg, "n_bridges", 0, 10_000)
    if cfg.evolution not in (True, False):
        raise InputError(f"must be true or false, got {cfg.evolution!r}", field="evolution")
    mix = cfg.toxic_mix
    if (
        not isinstance(mix, tuple)
        or len(mix) != 3
        or any(isinstance(x, bool) or not isinstance(x, int | float) or x < 0 for x in mix)
        or abs(sum(mix) - 1.0) > 1e-6
    ):
        raise InputError(
            f"must be 3 non-negative shares summing to 1, got {mix!r}", field="toxic_mix"
        )
    ps = cfg.pod_size
    if (
        not isinstance(ps, tuple)
        or len(ps) != 2
        or any(isinstance(x, bool) or not isinstance(x, int) for x in ps)
        or not 2 <= ps[0] <= ps[1]
    ):
        raise InputError(f"must be (min, max) with 2 <= min <= max, got {ps!r}", field="pod_size")
    stable = cfg.n_communities - (4 if cfg.evolution else 0)
    if cfg.n_pods * ps[1] > cfg.n_creators // 2:
        raise InputError(
            f"{cfg.n_pods} pods of up to {ps[1]} need more than half of {cfg.n_creators} creators",
            field="n_pods",
        )
    if cfg.bridges > stable * (stable - 1) // 2:
        raise InputError(f"at most {stable * (stable - 1) // 2} bridges fit", field="n_bridges")
