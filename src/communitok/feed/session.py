"""Real-time session state: every viewing event updates the viewer's state in process.

A :class:`SessionState` holds what the batch models do not know yet: videos seen in this
session, recent positives (added to the viewer's history at the next request, so EASE
and fold-in MF react at once), "not interested" suppressions, creators followed just now,
and a short-term interest vector in content space (an exponential moving average of the
content vectors of engaged videos, cf. session-based recommendation, Hidasi et al. 2016).

:class:`SessionStore` is the storage interface; :class:`InMemorySessionStore` (the
default) keeps states in a dict in the serving process with LRU eviction. An external
store (e.g. Redis) implements the same four methods for several workers.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..core.errors import InputError
from .data import Catalogue
from .engagement import SIGNALS, DurationDebiaser, EngagementWeights
from .rerank import Suppression


class RecentItems:
    """Video indices a viewer has seen in this session, the most recent ``cap`` of them,
    as one int32 array (4 bytes an item, where a Python set takes about 60): a long
    session costs bounded memory, and a video seen more than ``cap`` videos ago may
    come back."""

    __slots__ = ("_items", "cap")

    def __init__(self, items: Iterable[int] = (), cap: int = 10_000) -> None:
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            raise InputError(f"must be an integer >= 1, got {cap!r}", field="cap")
        self.cap = cap
        self._items = np.zeros(0, np.int32)
        self.update(items)

    def add(self, item: int) -> None:
        self.update((item,))

    def update(self, items: Iterable[int]) -> None:
        new = np.fromiter((int(i) for i in items), np.int32)
        if not len(new):
            return
        _, first = np.unique(new[::-1], return_index=True)  # last occurrence wins
        new = new[::-1][np.sort(first)][::-1]
        old = self._items[~np.isin(self._items, new)]
        self._items = np.concatenate([old, new])[-self.cap :]

    def array(self) -> np.ndarray:
        return self._items

    def __contains__(self, item: object) -> bool:
        return bool(np.any(self._items == item))

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[int]:
        return iter(self._items.tolist())

    def __or__(self, other: Iterable[int]) -> set[int]:
        return set(self._items.tolist()) | set(other)


@dataclass
class SessionState:
    """One viewer's in-session state (see module docstring)."""

    viewer_id: str
    seen: RecentItems = field(default_factory=RecentItems)
    positives: OrderedDict[int, float] = field(default_factory=OrderedDict)
    suppression: Suppression = field(default_factory=Suppression)
    followed: set[int] = field(default_factory=set)
    interest: np.ndarray | None = None
    n_events: int = 0
    last_event_ts: float = float("nan")
    updated_at: float = float("nan")  # time.perf_counter() of the last update

    def nbytes(self) -> int:
        """Approximate memory held by this state (for capacity planning)."""
        n = 260 + 4 * len(self.seen) + 72 * len(self.followed) + 100 * len(self.positives)
        s = self.suppression
        n += 72 * (len(s.videos) + len(s.creators) + len(s.sounds) + len(s.hashtags))
        return n + (0 if self.interest is None else self.interest.nbytes + 112)


class SessionStore(Protocol):
    """Where session states live: in process by default, external for several workers."""

    def get(self, viewer_id: str) -> SessionState | None: ...

    def put(self, state: SessionState) -> None: ...

    def delete(self, viewer_id: str) -> None: ...

    def __len__(self) -> int: ...


class InMemorySessionStore:
    """Session states in a dict, thread-safe, evicting the least recently used beyond
    ``max_viewers``."""

    def __init__(self, max_viewers: int = 1_000_000) -> None:
        if not isinstance(max_viewers, int) or max_viewers < 1:
            raise InputError(f"must be an integer >= 1, got {max_viewers!r}", field="max_viewers")
        self.max_viewers = max_viewers
        self._states: OrderedDict[str, SessionState] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, viewer_id: str) -> SessionState | None:
        with self._lock:
            st = self._states.get(viewer_id)
            if st is not None:
                self._states.move_to_end(viewer_id)
            return st

    def put(self, state: SessionState) -> None:
        with self._lock:
            self._states[state.viewer_id] = state
            self._states.move_to_end(state.viewer_id)
            while len(self._states) > self.max_viewers:
                self._states.popitem(last=False)

    def delete(self, viewer_id: str) -> None:
        with self._lock:
            self._states.pop(viewer_id, None)

    def __len__(self) -> int:
        return len(self._states)

    def nbytes(self) -> int:
        """Approximate memory of every state held (for capacity planning)."""
        with self._lock:
            states = list(self._states.values())
        return sum(st.nbytes() for st in states)


def _field(event: Any, name: str) -> Any:
    if isinstance(event, Mapping):
        return event.get(name)
    return getattr(event, name, None)


class SessionUpdater:
    """Applies one event to a :class:`SessionState`.

    Parameters
    ----------
    catalogue : the served catalogue (maps video ids, gives creator / sound / hashtags).
    vectors : content vectors of the videos (for the interest vector), or None.
    weights, debiaser : the engagement target (see :mod:`.engagement`).
    positive_threshold : target above which an event counts as a positive.
    interest_decay : weight of the old interest vector in the moving average.
    max_positives : most recent positives kept.
    hashtag_max_share : "not interested" suppresses a video's hashtags only if each is
        on at most this share of the catalogue (so #fyp is never suppressed).
    """

    def __init__(
        self,
        catalogue: Catalogue,
        vectors: np.ndarray | None = None,
        weights: EngagementWeights | None = None,
        debiaser: DurationDebiaser | None = None,
        positive_threshold: float = 0.5,
        interest_decay: float = 0.7,
        max_positives: int = 200,
        hashtag_max_share: float = 0.02,
    ) -> None:
        if not 0 <= interest_decay < 1:
            raise InputError(f"must be in [0, 1), got {interest_decay!r}", field="interest_decay")
        if not isinstance(max_positives, int) or max_positives < 1:
            raise InputError(
                f"must be an integer >= 1, got {max_positives!r}", field="max_positives"
            )
        self.catalogue = catalogue
        self.vectors = vectors
        self.weights = weights or EngagementWeights()
        self.debiaser = debiaser
        self.positive_threshold = positive_threshold
        self.interest_decay = interest_decay
        self.max_positives = max_positives
        share = np.asarray(catalogue.hashtags.getnnz(axis=0)) / max(catalogue.n_videos, 1)
        self._rare_tag = share <= hashtag_max_share

    def target(self, event: Any, item: int) -> float:
        """Engagement target of one event (same formula as the batch target)."""
        w = self.weights
        watch = _field(event, "watch_time_s")
        q = 0.5
        if watch is not None and self.debiaser is not None:
            d = self.catalogue.duration_s[item]
            q = float(
                np.nan_to_num(
                    self.debiaser.transform(np.array([float(watch)]), np.array([d]))[0], nan=0.5
                )
            )
        elif (
            watch is not None
            and np.isfinite(self.catalogue.duration_s[item])
            and self.catalogue.duration_s[item] > 0
        ):
            q = min(float(watch) / float(self.catalogue.duration_s[item]), 1.0)
        t = w.watch * q
        for s in SIGNALS:
            if _field(event, s):
                t += getattr(w, s)
        return t

    def apply(self, state: SessionState, event: Any) -> bool:
        """Update *state* with *event*; False (and no change) if the video is unknown."""
        vid = _field(event, "video_id")
        if vid is None:
            raise InputError("missing", field="video_id")
        item = self.catalogue.index.get(str(vid), -1)
        if item < 0:
            return False
        state.seen.add(item)
        state.n_events += 1
        ts = _field(event, "ts")
        if ts is not None:
            state.last_event_ts = ts.timestamp() if hasattr(ts, "timestamp") else float(ts)
        cat = self.catalogue
        if _field(event, "not_interested"):
            sup = state.suppression
            sup.videos.add(item)
            if cat.creator[item] >= 0:
                sup.creators.add(int(cat.creator[item]))
            if cat.sound[item] >= 0:
                sup.sounds.add(int(cat.sound[item]))
            row = cat.hashtags[item]
            sup.hashtags.update(int(t) for t in row.indices if self._rare_tag[t])
            state.positives.pop(item, None)
        else:
            t = self.target(event, item)
            if t >= self.positive_threshold:
                state.positives[item] = state.positives.pop(item, 0.0) + t
                while len(state.positives) > self.max_positives:
                    state.positives.popitem(last=False)
                if self.vectors is not None and np.any(self.vectors[item]):
                    v = self.vectors[item]
                    old = state.interest if state.interest is not None else np.zeros_like(v)
                    new = self.interest_decay * old + (1 - self.interest_decay) * v
                    state.interest = (new / (np.linalg.norm(new) or 1.0)).astype(np.float32)
            if _field(event, "followed") and cat.creator[item] >= 0:
                state.followed.add(int(cat.creator[item]))
        state.updated_at = time.perf_counter()
        return True
