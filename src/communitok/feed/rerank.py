"""Re-ranking: what may be served, and in which mix.

Hard rules first (separate from ranking): only *visible* videos are served (``limited``
ones are down-weighted, ``hidden`` and ``needs_review`` never served); seen videos and
videos the viewer said "not interested" to are dropped, and so are videos sharing a
creator, hashtag or sound the viewer rejected. Then a greedy selection:

- MMR diversity (Carbonell & Goldstein, "The Use of MMR, Diversity-Based Reranking for
  Reordering Documents and Producing Summaries", SIGIR 1998):
  pick argmax (1 − λ)·relevance − λ·max-similarity-to-already-picked;
- caps per creator and per sound, a quota on any one community's share;
- an exploration budget: a share of the slots goes to the best exploration candidates;
- a boost for new creators.

If the rules leave fewer than k videos, the caps and quotas are relaxed, then the
pipeline's fallback list fills the rest, so a feed is never empty unless nothing is
servable at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pyarrow as pa

from ..core.errors import InputError
from ..core.schema import VISIBILITY
from .data import Catalogue
from .stages import FitContext, Stage

VISIBLE, LIMITED, HIDDEN, NEEDS_REVIEW = range(4)

#: up to this many candidates the greedy reads them all at once: its cost is the number
#: of array operations (about ten per slot), not their length, so a first pass over the
#: most relevant ones only pays off on longer lists (the picks are the same either way)
DIRECT_MAX = 1000


class VisibilityFilter:
    """Moderation labels per video → serve / down-weight / drop; separate from ranking.

    ``labels`` is a mapping video_id → label, an Arrow table (video_id, label), or a
    callable taking a list of video ids and returning their labels. Videos without a
    label are visible. Labels: ``visible``, ``limited``, ``hidden``, ``needs_review``.
    """

    def __init__(
        self,
        labels: Mapping[str, str] | pa.Table | Callable[[list[str]], list[str]] | None = None,
        limited_factor: float = 0.5,
    ) -> None:
        if not isinstance(limited_factor, int | float) or not 0 <= limited_factor <= 1:
            raise InputError(f"must be in [0, 1], got {limited_factor!r}", field="limited_factor")
        if isinstance(labels, pa.Table):
            if not {"video_id", "label"} <= set(labels.column_names):
                raise InputError("needs columns video_id, label", field="labels")
            labels = dict(
                zip(
                    labels.column("video_id").to_pylist(),
                    labels.column("label").to_pylist(),
                    strict=True,
                )
            )
        if isinstance(labels, Mapping):
            bad = {v for v in labels.values() if v not in VISIBILITY}
            if bad:
                raise InputError(
                    f"unknown labels {sorted(map(str, bad))}; allowed {VISIBILITY}", field="labels"
                )
        self.labels = labels
        self.limited_factor = limited_factor
        self._by_index: tuple[object, np.ndarray] | None = None

    def codes_of(self, catalogue: Catalogue, items: np.ndarray) -> np.ndarray:
        """Label codes of catalogue rows *items* (-1 → visible). With mapping labels the
        whole catalogue is coded once per (filter, catalogue), so a request costs a
        gather; a label function is asked for the given videos only."""
        it = np.maximum(np.asarray(items, dtype=np.int64), 0)
        if self.labels is None:
            return np.zeros(len(it), np.int8)
        if callable(self.labels) and not isinstance(self.labels, Mapping):
            return self.codes([str(x) for x in catalogue.video_ids[it]])
        cached = self._by_index
        if cached is None or cached[0] is not catalogue:
            arr = np.zeros(catalogue.n_videos, np.int8)
            index = catalogue.index
            for vid, lab in self.labels.items():
                i = index.get(vid)
                if i is not None:
                    arr[i] = VISIBILITY.index(lab or "visible")
            cached = self._by_index = (catalogue, arr)
        return cached[1][it]

    def codes(self, video_ids: list[str]) -> np.ndarray:
        """Label code per video (VISIBLE, LIMITED, HIDDEN, NEEDS_REVIEW)."""
        if self.labels is None:
            return np.zeros(len(video_ids), np.int8)
        if callable(self.labels) and not isinstance(self.labels, Mapping):
            got = list(self.labels(list(video_ids)))
            if len(got) != len(video_ids):
                raise InputError(
                    "the label function returned the wrong number of labels", field="labels"
                )
        else:
            got = [self.labels.get(v, "visible") for v in video_ids]
        try:
            return np.asarray([VISIBILITY.index(g or "visible") for g in got], np.int8)
        except ValueError:
            raise InputError(f"unknown label; allowed {VISIBILITY}", field="labels") from None


@dataclass
class Suppression:
    """What a viewer rejected ("not interested"): videos, creators, sounds, hashtags."""

    videos: set[int] = field(default_factory=set)
    creators: set[int] = field(default_factory=set)
    sounds: set[int] = field(default_factory=set)
    hashtags: set[int] = field(default_factory=set)


class ReRanker(Stage):
    """Greedy constrained MMR selection of the final feed (see module docstring).

    Parameters
    ----------
    diversity : λ of MMR in [0, 1] (0 = relevance only).
    creator_cap, sound_cap : most videos per creator / per sound in one feed (0 = no cap).
    community_quota : most share of the feed from any one community (1 = no quota).
    explore_share : share of slots reserved for exploration candidates.
    new_creator_boost : added to the normalised relevance of new creators' videos.
    pool_factor : the greedy first reads the ``max(pool_factor·k, 100)`` most relevant
        candidates (plus every exploration candidate); all of them only when the caps
        cannot be met among those.
    """

    name: ClassVar[str] = "rerank"

    def __init__(
        self,
        diversity: float = 0.1,
        creator_cap: int = 2,
        sound_cap: int = 3,
        community_quota: float = 0.8,
        explore_share: float = 0.1,
        new_creator_boost: float = 0.05,
        pool_factor: int = 5,
    ) -> None:
        for name, v in (
            ("diversity", diversity),
            ("community_quota", community_quota),
            ("explore_share", explore_share),
        ):
            if not isinstance(v, int | float) or not 0 <= v <= 1:
                raise InputError(f"must be in [0, 1], got {v!r}", field=name)
        for name, v in (("creator_cap", creator_cap), ("sound_cap", sound_cap)):
            if not isinstance(v, int) or v < 0:
                raise InputError(f"must be an integer >= 0, got {v!r}", field=name)
        if not isinstance(new_creator_boost, int | float) or new_creator_boost < 0:
            raise InputError(f"must be >= 0, got {new_creator_boost!r}", field="new_creator_boost")
        if isinstance(pool_factor, bool) or not isinstance(pool_factor, int) or pool_factor < 1:
            raise InputError(f"must be an integer >= 1, got {pool_factor!r}", field="pool_factor")
        self.diversity = diversity
        self.creator_cap = creator_cap
        self.sound_cap = sound_cap
        self.community_quota = community_quota
        self.explore_share = explore_share
        self.new_creator_boost = new_creator_boost
        self.pool_factor = pool_factor

    def fit(self, ctx: FitContext, new_creator: np.ndarray | None = None) -> ReRanker:
        cat = ctx.catalogue
        self.creator_ = cat.creator
        self.sound_ = cat.sound
        self.hashtags_ = cat.hashtags.tocsr()
        comm = cat.communities.tocsr()
        # main community per video (-1 none) for quotas
        self.community_ = np.full(cat.n_videos, -1, np.int64)
        if comm.shape[1] and comm.nnz:
            has = np.asarray(comm.getnnz(axis=1)) > 0
            self.community_[has] = np.asarray(comm[has].argmax(axis=1)).ravel()
        self.vectors_ = ctx.content.vectors_ if ctx.content.has_content_ else None
        self.new_creator_ = np.zeros(cat.n_videos, bool) if new_creator is None else new_creator
        return self

    def allowed(
        self, items: np.ndarray, suppression: Suppression | None, visibility: np.ndarray | None
    ) -> np.ndarray:
        """Hard filter: visible or limited, not rejected by the viewer."""
        ok = items >= 0
        it = np.maximum(items, 0)
        if visibility is not None:
            ok &= visibility <= LIMITED
        if suppression is not None:
            if suppression.videos:
                ok &= ~np.isin(it, list(suppression.videos))
            if suppression.creators:
                ok &= ~np.isin(self.creator_[it], list(suppression.creators))
            if suppression.sounds:
                ok &= ~np.isin(self.sound_[it], list(suppression.sounds))
            if suppression.hashtags and self.hashtags_.shape[1]:
                tags = np.zeros(self.hashtags_.shape[1], bool)
                tags[list(suppression.hashtags)] = True
                hit = np.asarray(self.hashtags_[it] @ tags.astype(np.float32)).ravel() > 0
                ok &= ~hit
        return ok

    def select(
        self,
        items: np.ndarray,
        scores: np.ndarray,
        k: int,
        *,
        explore: np.ndarray | None = None,
        limited: np.ndarray | None = None,
        limited_factor: float = 0.5,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pick up to *k* of the (already allowed) candidates; returns (positions, flags)
        where flags mark slots filled from the exploration budget."""
        self._check_fitted("creator_")
        m = len(items)
        if m == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, bool)
        s = scores.astype(np.float64)
        finite = np.isfinite(s)
        lo, hi = (s[finite].min(), s[finite].max()) if finite.any() else (0.0, 1.0)
        rel = np.where(finite, (s - lo) / (hi - lo) if hi > lo else 1.0, 0.0)
        if limited is not None:
            rel = np.where(limited, rel * limited_factor, rel)
        rel = rel + self.new_creator_boost * self.new_creator_[items]
        explore = np.zeros(m, bool) if explore is None else explore
        n_explore = round(self.explore_share * k) if explore.any() else 0
        # exploration slots spread evenly over the feed (e.g. 10th and 20th of 20)
        explore_slots = {round((j + 1) * k / n_explore) - 1 for j in range(n_explore)}
        # the greedy reads the most relevant candidates (and every exploration one)
        # first; only if the caps cannot be met among them does it read them all
        pool = max(self.pool_factor * k, 100)
        if m > max(pool, DIRECT_MAX):
            head = np.zeros(m, bool)
            head[np.argpartition(-rel, pool - 1)[:pool]] = True
            sub = np.flatnonzero(head | explore)  # ascending: ties resolve as in the full set
            # an item left out scores at most (1 - λ)·its relevance (similarity only
            # lowers the objective): a pick above that is the full set's pick too
            rest = rel[~(head | explore)]
            bound = (1 - self.diversity) * float(rest.max()) if len(rest) else -np.inf
            chosen, flags, exact = self._greedy(
                items[sub], rel[sub], explore[sub], k, explore_slots, bound
            )
            if exact:
                return sub[chosen], flags
        chosen, flags, _ = self._greedy(items, rel, explore, k, explore_slots)
        return chosen, flags

    def _greedy(
        self,
        items: np.ndarray,
        rel: np.ndarray,
        explore: np.ndarray,
        k: int,
        explore_slots: set[int],
        bound: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """Greedy MMR under caps; (positions, exploration flags, exact) where exact says
        the caps held for every slot and every pick outside the exploration slots beat
        *bound* (the best objective of the candidates not given)."""
        m = len(items)
        V = self.vectors_[items] if self.vectors_ is not None and self.diversity > 0 else None
        max_sim = np.zeros(m)
        taken = np.zeros(m, bool)
        # items whose creator / sound / community reached its cap (kept up to date as
        # slots fill, instead of re-checking every cap at every slot)
        blocked = np.zeros(m, bool)
        quota = max(1, int(np.floor(self.community_quota * k))) if self.community_quota < 1 else 0
        caps: list[tuple[int, np.ndarray, dict[int, int]]] = [
            (cap, codes[items], {})
            for cap, codes in (
                (self.creator_cap, self.creator_),
                (self.sound_cap, self.sound_),
                (quota, self.community_),
            )
        ]
        chosen: list[int] = []
        flags: list[bool] = []
        strict = True
        base = (1 - self.diversity) * rel  # finite: so is the objective of every candidate
        any_explore = bool(explore.any())
        penalty = np.empty(m)
        for relax in (0, 1):
            # base where the candidate may still be picked, -inf where not (kept up to date
            # as slots fill and caps block): the objective of the candidates that may be
            # picked is then avail - λ·max_sim, the others stay at -inf
            avail = np.where(~taken if relax else ~taken & ~blocked, base, -np.inf)
            while m and len(chosen) < k:
                want_explore = len(chosen) in explore_slots
                pool = avail
                if want_explore and any_explore:
                    both = np.where(explore, avail, -np.inf)
                    if np.max(both) > -np.inf:
                        pool = both
                if V is not None:
                    obj = np.subtract(
                        pool, np.multiply(max_sim, self.diversity, out=penalty), out=penalty
                    )
                else:
                    obj = pool
                j = int(np.argmax(obj))
                if obj[j] == -np.inf:  # nothing left to pick
                    break
                if bound is not None and not (want_explore and explore[j]) and obj[j] <= bound:
                    return np.zeros(0, np.int64), np.zeros(0, bool), False
                taken[j] = True
                avail[j] = -np.inf
                chosen.append(j)
                flags.append(bool(want_explore and explore[j]))
                strict = strict and not relax
                for cap, keys, counts in caps:
                    key = int(keys[j])
                    if key < 0:
                        continue
                    counts[key] = counts.get(key, 0) + 1
                    if cap and counts[key] == cap:
                        hit = keys == key
                        blocked |= hit
                        if not relax:
                            avail[hit] = -np.inf
                if V is not None and len(chosen) < k:  # (the last pick needs no update)
                    np.maximum(max_sim, V @ V[j], out=max_sim)
        strict = strict and len(chosen) == min(k, m)
        return np.asarray(chosen, np.int64), np.asarray(flags, bool), strict
