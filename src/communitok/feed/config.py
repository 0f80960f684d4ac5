"""Pipeline configuration: which stages, with which parameters (dataclass or dict)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..core.errors import InputError


@dataclass(frozen=True)
class StageSpec:
    """One stage: its ``kind`` (registry name), parameters, a ``label`` (defaults to the
    kind; needed when one kind is used twice) and, for sources, how many candidates."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    n: int = 100
    label: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not self.kind:
            raise InputError("must be a non-empty string", field="kind")
        if not isinstance(self.params, Mapping):
            raise InputError("must be a mapping", field="params")
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 1:
            raise InputError(f"must be an integer >= 1, got {self.n!r}", field="n")

    @property
    def name(self) -> str:
        return self.label or self.kind


def _spec(x: StageSpec | Mapping[str, Any]) -> StageSpec:
    if isinstance(x, StageSpec):
        return x
    if isinstance(x, Mapping):
        unknown = set(x) - {"kind", "params", "n", "label"}
        if unknown:
            raise InputError(f"unknown keys {sorted(unknown)}", field="stage")
        return StageSpec(**x)
    raise InputError(f"must be a StageSpec or a mapping, got {type(x).__name__}", field="stage")


#: EASE inverts a dense items × items matrix (cubic time, quadratic memory): the default
#: models the most engaged videos only (5,000: a few seconds, 100 MB); the other sources
#: cover the rest of the catalogue
EASE_MAX_ITEMS = 5000

#: the default sources. Every one scales with the catalogue on its own: EASE models at
#: most :data:`EASE_MAX_ITEMS` videos; MF and content retrieval switch from exact scoring
#: to an HNSW index from ``ann_min_items`` (20,000) videos on; popularity, trending,
#: community, following and exploration read precomputed ranked lists; and every
#: source proposes a bounded number ``n`` of candidates.
DEFAULT_SOURCES = (
    StageSpec("ease", {"l2": 40.0, "side_weight": 50.0, "max_items": EASE_MAX_ITEMS}, n=200),
    StageSpec("mf", {"factors": 64}, n=100),
    StageSpec("content", {}, n=50),
    StageSpec("content", {"new_only": True, "prior_weight": 0.5}, n=50, label="new_videos"),
    StageSpec("popular", {}, n=50),
    StageSpec("trending", {}, n=50),
    StageSpec("community", {}, n=50),
    StageSpec("following", {}, n=30),
    StageSpec("explore", {}, n=30),
)


#: default fusion weights: personal sources first, discovery sources as seasoning
#: (chosen on the planted replay world in ``benchmarks/feed_replay.py``)
DEFAULT_RRF_WEIGHTS = {
    "ease": 1.0,
    "mf": 1.0,
    "content": 0.5,
    "community": 0.5,
    "following": 0.5,
    "new_videos": 0.2,
    "trending": 0.2,
    "popular": 0.1,
    "explore": 0.1,
}


@dataclass(frozen=True)
class FeedConfig:
    """The whole pipeline: sources → scorer → re-ranker → explainer.

    sources : candidate sources (:data:`DEFAULT_SOURCES`).
    scorer : "rrf" (untrained reciprocal rank fusion, :data:`DEFAULT_RRF_WEIGHTS`) or
        "learned" (see :mod:`.scorer`).
    rerank : :class:`~.rerank.ReRanker` parameters.
    content : :class:`~.content.ContentModel` parameters (shared content vectors).
    session : :class:`~.session.SessionUpdater` parameters.
    explore_sources : source labels whose candidates fill the exploration budget.
    limited_factor : relevance multiplier of videos labelled ``limited``.
    seed : seed passed to every stochastic stage.
    """

    sources: tuple[StageSpec, ...] = DEFAULT_SOURCES
    scorer: StageSpec = field(
        default_factory=lambda: StageSpec("rrf", {"weights": dict(DEFAULT_RRF_WEIGHTS)})
    )
    rerank: Mapping[str, Any] = field(default_factory=dict)
    content: Mapping[str, Any] = field(default_factory=dict)
    session: Mapping[str, Any] = field(default_factory=dict)
    explore_sources: tuple[str, ...] = ("explore",)
    limited_factor: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", tuple(_spec(s) for s in self.sources))
        object.__setattr__(self, "scorer", _spec(self.scorer))
        object.__setattr__(self, "explore_sources", tuple(self.explore_sources))
        names = [s.name for s in self.sources]
        if not names:
            raise InputError("needs at least one candidate source", field="sources")
        if len(set(names)) != len(names):
            raise InputError(f"labels must be unique, got {names}; set 'label'", field="sources")
        for name in ("rerank", "content", "session"):
            if not isinstance(getattr(self, name), Mapping):
                raise InputError("must be a mapping", field=name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeedConfig:
        if not isinstance(data, Mapping):
            raise InputError("must be a mapping", field="config")
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise InputError(f"unknown keys {sorted(unknown)}", field="config")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sources"] = [asdict(s) for s in self.sources]
        return d
