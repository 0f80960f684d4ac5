"""The serving side of the For You feed: a trained pipeline per A/B variant, held in process.

:class:`FeedService` is what a server process keeps between requests (see
:func:`communitok.engine.feed.feed_service`): one fitted
:class:`~communitok.feed.FeedPipeline` per experiment variant, all sharing one session
store, so

- :meth:`FeedService.recommend` serves a viewer (known, onboarded with interests, or
  unknown → cold start) with a "why" per item, in the viewer's variant, and buffers the
  exposure rows;
- :meth:`FeedService.observe` applies a viewing event to the viewer's session at once,
  so the next :meth:`recommend` reflects it (no batch job); an event for a video the
  model does not know is ignored with a reason, never an error.

Exposures are buffered and written in batches by a background thread
(:class:`~.feed_log.ExposureLog`; the engine appends them to the ``feed_exposures``
result), so a request never waits for the store. Community ids in the catalogue are display labels
("#booktok"); :class:`CommunityLabels` maps them back to the stored community ids.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa

from ..core.errors import InputError
from ..core.timeutil import utcnow
from ..feed import Experiment, Feed, FeedPipeline, ServeRequest, VisibilityFilter
from .feed_log import FLUSH_ROWS, ExposureLog

#: largest feed one request may ask for (a clear error above it)
MAX_FEED_K = 1000


@dataclass(frozen=True)
class CommunityLabels:
    """Display label ("#booktok") ↔ stored community id, and what onboarding may name.

    ``aliases`` maps lower-case keys (the label, the label without "#", the stored id,
    the community name, each top hashtag) to labels, so onboarding interests may be
    given as any of them.
    """

    label_of: Mapping[str, str] = field(default_factory=dict)
    id_of: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_table(cls, communities: pa.Table | None, ids: Iterable[str]) -> CommunityLabels:
        """Labels for the stored community ids *ids*, named from the ``communities``
        result (its first top hashtag, else its name, else the id)."""
        rows: dict[str, dict[str, Any]] = {}
        if communities is not None and "community_id" in communities.column_names:
            for r in communities.to_pylist():
                rows[str(r["community_id"])] = r
        label_of: dict[str, str] = {}
        aliases: dict[str, list[str]] = {}
        used: set[str] = set()
        for cid in sorted(set(map(str, ids)), key=lambda c: (len(c), c)):
            r = rows.get(cid, {})
            tags = [t for t in (r.get("top_hashtags") or []) if isinstance(t, str) and t]
            name = r.get("name") if isinstance(r.get("name"), str) else None
            base = f"#{tags[0]}" if tags else (name or f"community {cid}")
            label = base if base not in used else f"{base} ({cid})"
            used.add(label)
            label_of[cid] = label
            keys = {label, label.lstrip("#"), cid, base, base.lstrip("#")}
            if name:
                keys.add(name)
            keys.update(tags)
            keys.update(f"#{t}" for t in tags)
            for key in keys:
                aliases.setdefault(key.lower(), []).append(label)
        return cls(
            label_of=label_of,
            id_of={v: k for k, v in label_of.items()},
            aliases={k: tuple(dict.fromkeys(v)) for k, v in aliases.items()},
        )

    def resolve(self, interests: Sequence[str]) -> tuple[str, ...]:
        """Catalogue labels for onboarding interests (unknown ones are dropped)."""
        out: list[str] = []
        for it in interests:
            out += self.aliases.get(str(it).strip().lower(), ())
        return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class ServedItem:
    """One served video and why it is there."""

    video_id: str
    rank: int
    score: float | None
    source: str
    why: str
    reason_kind: str
    community_id: str | None = None
    community: str | None = None
    creator_id: str | None = None
    because_video_id: str | None = None
    exploration: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FeedResponse:
    """A served feed: items with reasons, the viewer's variant, cold start / fallback."""

    viewer_id: str
    variant: str
    experiment: str
    items: tuple[ServedItem, ...]
    cold_start: bool = False
    n_fallback: int = 0
    interests: tuple[str, ...] = ()

    @property
    def video_ids(self) -> list[str]:
        return [i.video_id for i in self.items]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["items"] = [i.to_dict() for i in self.items]
        d["interests"] = list(self.interests)
        return d


@dataclass(frozen=True)
class ObserveResult:
    """What :meth:`FeedService.observe` did with one event (truthy when applied)."""

    viewer_id: str
    video_id: str
    applied: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.applied

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _field(event: Any, name: str) -> Any:
    return event.get(name) if isinstance(event, Mapping) else getattr(event, name, None)


@dataclass(frozen=True)
class FeedRequest:
    """One request to :meth:`FeedService.recommend_many` (the arguments of
    :meth:`FeedService.recommend`)."""

    viewer_id: str
    k: int = 20
    interests: Sequence[str] | None = None
    log_exposure: bool = True
    mark_served: bool = True


class FeedService:
    """Serves the trained feed in process (see the module docstring).

    Parameters
    ----------
    pipelines : fitted pipeline per variant name (all sharing one session store).
    experiment : assigns viewers to variants (its variant names must be the keys).
    labels : community display labels (see :class:`CommunityLabels`).
    onboarding : stored onboarding interests per viewer id (used for cold start).
    visibility : moderation labels per video (from the safety results).
    exposure_sink : called with an Arrow table of exposure rows when the buffer flushes.
    flush_rows : buffered exposure rows that trigger a flush.
    flush_interval : the longest an exposure row waits in memory (seconds).
    max_k : largest feed one request may ask for.
    info : what training recorded (run id, counts, window), shown by :meth:`describe`.
    """

    def __init__(
        self,
        pipelines: Mapping[str, FeedPipeline],
        *,
        experiment: Experiment | None = None,
        labels: CommunityLabels | None = None,
        onboarding: Mapping[str, Sequence[str]] | None = None,
        visibility: VisibilityFilter | None = None,
        exposure_sink: Callable[[pa.Table], None] | None = None,
        flush_rows: int = FLUSH_ROWS,
        flush_interval: float = 1.0,
        max_k: int = MAX_FEED_K,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        if not pipelines:
            raise InputError("needs at least one fitted pipeline", field="pipelines")
        experiment = experiment or Experiment("feed", ((next(iter(pipelines)), 1.0),))
        names = {v for v, _ in experiment.variants}
        if names != set(pipelines):
            raise InputError(
                f"experiment variants {sorted(names)} differ from the pipelines "
                f"{sorted(pipelines)}",
                field="experiment",
            )
        if not isinstance(max_k, int) or max_k < 1:
            raise InputError(f"must be an integer >= 1, got {max_k!r}", field="max_k")
        self.pipelines = dict(pipelines)
        self.experiment = experiment
        self.labels = labels or CommunityLabels()
        self.onboarding = {k: tuple(v) for k, v in (onboarding or {}).items()}
        self.visibility = visibility or VisibilityFilter()
        self.exposure_log = ExposureLog(
            exposure_sink, flush_rows=flush_rows, flush_interval=flush_interval
        )
        self.max_k = max_k
        self.info = dict(info or {})

    # ------------------------------------------------------------------ look-ups
    @property
    def control(self) -> FeedPipeline:
        """The pipeline of the first variant."""
        return self.pipelines[self.experiment.variants[0][0]]

    @property
    def sessions(self) -> Any:
        return self.control.sessions

    @property
    def n_videos(self) -> int:
        return self.control.ctx_.catalogue.n_videos

    def variant_of(self, viewer_id: str) -> str:
        """The viewer's experiment variant (deterministic salted hash)."""
        if not isinstance(viewer_id, str) or not viewer_id.strip():
            raise InputError("must be a non-empty string", field="viewer_id")
        return self.experiment.assign(viewer_id)

    def knows_viewer(self, viewer_id: str) -> bool:
        return viewer_id in self.control.ctx_.interactions.index

    def describe(self) -> dict[str, Any]:
        """Counts and training metadata (for ``status`` pages)."""
        return {
            "training": self.info,
            "videos": self.n_videos,
            "viewers": self.control.ctx_.interactions.n_viewers,
            "experiment": self.experiment.name,
            "variants": [v for v, _ in self.experiment.variants],
            "sessions": len(self.sessions),
            "session_bytes": self.sessions.nbytes() if hasattr(self.sessions, "nbytes") else None,
            "exposures_logged": self.exposure_log.logged,
            "exposures_buffered": self.exposure_log.buffered,
            "exposures_dropped": self.exposure_log.dropped,
        }

    @property
    def exposures_logged(self) -> int:
        return self.exposure_log.logged

    # ------------------------------------------------------------------ serving
    def _check_k(self, k: object) -> int:
        if isinstance(k, bool) or not isinstance(k, int):
            raise InputError(f"must be an integer, got {k!r}", field="k")
        if k < 1:
            raise InputError(f"must be >= 1, got {k}", field="k")
        if k > self.max_k:
            raise InputError(f"must be <= {self.max_k}, got {k}", field="k")
        return k

    def recommend(
        self,
        viewer_id: str,
        k: int = 20,
        *,
        interests: Sequence[str] | None = None,
        log_exposure: bool = True,
        mark_served: bool = True,
        now: float | None = None,
    ) -> FeedResponse:
        """The viewer's feed of up to *k* videos, each with why it is there.

        An unknown viewer gets a cold-start feed: from *interests* (community labels,
        names, ids or hashtags), else from their stored onboarding interests, else
        trending and popular videos. An empty catalogue gives an empty feed.
        """
        req = FeedRequest(viewer_id, k, interests, log_exposure, mark_served)
        return self.recommend_many([req], now=now)[0]

    def recommend_many(
        self, requests: Sequence[FeedRequest], *, now: float | None = None
    ) -> list[FeedResponse]:
        """The feeds of several requests (:class:`FeedRequest`), in order: the same as
        one :meth:`recommend` after another, computed in batches per variant (a batch
        of four costs about half as much per request). Every request is validated
        before any is served."""
        if isinstance(requests, FeedRequest) or not isinstance(requests, Sequence):
            raise InputError("must be a sequence of FeedRequest", field="requests")
        prepared = []
        for r in requests:
            if not isinstance(r, FeedRequest):
                raise InputError(f"must be a FeedRequest, got {type(r).__name__}", field="requests")
            k = self._check_k(r.k)
            variant = self.variant_of(r.viewer_id)
            interests = r.interests
            if interests is not None and (
                isinstance(interests, str) or not all(isinstance(i, str) for i in interests)
            ):
                raise InputError("must be a list of strings", field="interests")
            chosen = interests if interests else self.onboarding.get(r.viewer_id, ())
            resolved = self.labels.resolve(chosen) if chosen else ()
            serve = ServeRequest(r.viewer_id, k, list(resolved) or None, r.mark_served)
            prepared.append((variant, resolved, serve))
        feeds: dict[int, Feed] = {}  # request position → its feed (every one is served)
        for variant in dict.fromkeys(v for v, _, _ in prepared):
            rows = [i for i, (v, _, _) in enumerate(prepared) if v == variant]
            got = self.pipelines[variant].recommend_many(
                [prepared[i][2] for i in rows], visibility=self.visibility, now=now
            )
            for i, served in zip(rows, got, strict=True):
                feeds[i] = served
        out = []
        for i, (r, (variant, resolved, _)) in enumerate(zip(requests, prepared, strict=True)):
            feed = feeds[i]
            resp = FeedResponse(
                viewer_id=r.viewer_id,
                variant=variant,
                experiment=self.experiment.name,
                items=tuple(self._item(feed, j) for j in range(len(feed.items))),
                cold_start=feed.cold_start,
                n_fallback=feed.n_fallback,
                interests=resolved,
            )
            if r.log_exposure and resp.items:
                self._log(resp)
            out.append(resp)
        return out

    def _item(self, feed: Feed, i: int) -> ServedItem:
        it = feed.items[i]
        r = it.reason
        cat = self.control.ctx_.catalogue
        creator = r.creator_id
        if creator is None:
            c = int(cat.creator[cat.index[it.video_id]])
            creator = str(cat.creator_ids[c]) if c >= 0 else None
        return ServedItem(
            video_id=it.video_id,
            rank=it.rank,
            score=None if not math.isfinite(it.score) else round(float(it.score), 6),
            source=it.source,
            why=r.text,
            reason_kind=r.kind,
            community_id=self.labels.id_of.get(r.community_id) if r.community_id else None,
            community=r.community_id,
            creator_id=creator,
            because_video_id=r.video_id,
            exploration=it.exploration,
        )

    # ------------------------------------------------------------------ events
    def observe(self, event: Any) -> ObserveResult:
        """Apply one viewing event (a mapping or an object with the ``events`` fields)
        to the viewer's session now. A video the model does not know is ignored with a
        reason (it arrived after training; the next training includes it)."""
        viewer = _field(event, "viewer_id")
        video = _field(event, "video_id")
        if not isinstance(viewer, str) or not viewer.strip():
            raise InputError("must be a non-empty string", field="viewer_id")
        if not isinstance(video, str) or not video.strip():
            raise InputError("must be a non-empty string", field="video_id")
        # every variant shares the session store: apply through the viewer's variant
        applied = self.pipelines[self.variant_of(viewer)].observe(event)
        reason = "" if applied else "unknown video: not in the trained catalogue (retrain)"
        return ObserveResult(viewer, video, applied, reason)

    def reset_session(self, viewer_id: str) -> None:
        self.sessions.delete(viewer_id)

    def set_visibility(self, visibility: VisibilityFilter | None) -> None:
        """Swap the moderation labels (e.g. after a reviewer override)."""
        self.visibility = visibility or VisibilityFilter()

    # ------------------------------------------------------------------ exposures
    def _log(self, feed: FeedResponse) -> None:
        self.exposure_log.add(
            (
                self.experiment.name,
                feed.variant,
                feed.viewer_id,
                feed.video_ids,
                [i.score for i in feed.items],
                [i.source for i in feed.items],
                utcnow(),
            )
        )

    def flush_exposures(self) -> int:
        """Write buffered exposure rows now; returns how many were written."""
        return self.exposure_log.flush()

    def close(self) -> int:
        """Stop the exposure writer after writing what is buffered (server shutdown)."""
        return self.exposure_log.close()
