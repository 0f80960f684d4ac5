"""Community sources: the viewer's communities, followed creators, and exploration.

Community memberships arrive as plain tables (viewer → community weights, video →
community weights), e.g. from the communities package or from onboarding choices.
Exploration proposes videos from communities *adjacent* to the viewer's (co-membership
of videos and viewers, cosine-normalised; cf. "serendipity" in Ge et al., RecSys 2010)
and videos of new creators, so a viewer's feed does not collapse onto what it already
knows and new creators get an audience.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from ...core.errors import InputError
from ..stages import (
    Candidates,
    CandidateSource,
    FitContext,
    Reason,
    RequestBatch,
    ViewerRow,
    check_n,
    isin_sorted,
    pools_top,
    shared_reason,
    sparse_row,
    unique_ints,
)
from .lists import MAX_KEYS, KeyedLists, Memberships, top_keys, union_heads
from .popular import _row_normalise, community_reasons, viewer_community_weights

_KEY0 = np.zeros(1, np.int64)  # the one key of a single list


def _check_nonneg(name: str, v: object) -> None:
    if not isinstance(v, int | float) or v < 0:
        raise InputError(f"must be >= 0, got {v!r}", field=name)


def _quality(ctx: FitContext, half_life_days: float | None) -> np.ndarray:
    """log(2 + popularity) × freshness: fresh and liked videos first."""
    return (np.log(2.0 + ctx.popularity) * ctx.freshness(half_life_days)).astype(np.float32)


def _affinity(req: RequestBatch, members: sp.csr_matrix) -> np.ndarray:
    if not members.shape[1] or req.communities.shape[1] != members.shape[1]:
        return np.zeros((req.n, members.shape[0]), np.float32)
    return np.asarray((_row_normalise(req.communities) @ members.T).todense(), dtype=np.float32)


def _positive_or_ninf(s: np.ndarray, items: np.ndarray) -> np.ndarray:
    out = np.where(s > 0, s, -np.inf).astype(np.float32)
    out[items < 0] = -np.inf
    return out


class CommunitySource(CandidateSource):
    """The viewer's weighted communities → their fresh and top videos."""

    name: ClassVar[str] = "community"
    reason_kind: ClassVar[str] = "community"

    def __init__(self, half_life_days: float | None = 7.0) -> None:
        if half_life_days is not None:
            _check_nonneg("half_life_days", half_life_days)
            if half_life_days == 0:
                raise InputError("must be > 0", field="half_life_days")
        self.half_life_days = half_life_days

    def fit(self, ctx: FitContext) -> CommunitySource:
        self.members_ = _row_normalise(sp.csr_matrix(ctx.catalogue.communities, dtype=np.float32))
        self.quality_ = _quality(ctx, self.half_life_days)
        self.lists_ = KeyedLists(self.members_.T, self.quality_)
        self.memberships_ = Memberships(self.members_)
        return self

    def score_all(self, req: RequestBatch) -> np.ndarray:
        self._check_fitted("members_")
        aff = _affinity(req, self.members_)
        return np.where(aff > 0, aff * self.quality_[None, :], -np.inf).astype(np.float32)

    def score(self, req: RequestBatch, items: np.ndarray) -> np.ndarray:
        self._check_fitted("members_")
        return self._score(viewer_community_weights(req, self.members_.shape[1]), items)

    def _score(self, W: np.ndarray, items: np.ndarray) -> np.ndarray:
        aff = self.memberships_.affinity(W, items)
        return _positive_or_ninf(aff * self.quality_[np.maximum(items, 0)], items)

    def candidates(self, req: RequestBatch, n: int) -> Candidates:
        """The heads of the viewer's (at most :data:`~.lists.MAX_KEYS`) communities'
        lists, scored exactly: no work proportional to the catalogue."""
        n = check_n(n)
        self._check_fitted("members_")
        W = viewer_community_weights(req, self.members_.shape[1])
        pools = []
        for r in range(req.n):
            pool = self.lists_.head(top_keys(W[r], MAX_KEYS), n, req.excluded(r))
            pools.append((pool, self._score(W[r : r + 1], pool[None, :])[0]))
        return pools_top(pools, n)

    def explain(self, viewer: ViewerRow, item: int) -> Reason:
        return self.explain_many(viewer, np.array([item]))[0]

    def explain_many(self, viewer: ViewerRow, items: np.ndarray) -> list[Reason]:
        return community_reasons(
            viewer, self.members_, self.memberships_, items, "community", "popular",
            "in your communities",
        )  # fmt: skip


class FollowingSource(CandidateSource):
    """Videos of creators the viewer follows, freshest first."""

    name: ClassVar[str] = "following"
    reason_kind: ClassVar[str] = "following"

    def __init__(self, half_life_days: float | None = 3.0) -> None:
        if half_life_days is not None and (
            not isinstance(half_life_days, int | float) or half_life_days <= 0
        ):
            raise InputError(f"must be > 0, got {half_life_days!r}", field="half_life_days")
        self.half_life_days = half_life_days

    def fit(self, ctx: FitContext) -> FollowingSource:
        cat = ctx.catalogue
        self.quality_ = _quality(ctx, self.half_life_days)
        ok = cat.creator >= 0
        self.by_creator_ = sp.csr_matrix(
            (np.ones(ok.sum(), np.float32), (np.flatnonzero(ok), cat.creator[ok])),
            shape=(cat.n_videos, len(cat.creator_ids)),
        )
        self.creator_ = np.where(ok, cat.creator, -1)
        self.lists_ = KeyedLists(self.by_creator_.T, self.quality_)
        return self

    def _followed(self, req: RequestBatch, r: int) -> np.ndarray:
        if req.following.shape[1] != self.by_creator_.shape[1]:
            return np.zeros(0, np.int64)
        cols, vals = sparse_row(req.following, r)
        return unique_ints(cols[vals > 0])

    def score(self, req: RequestBatch, items: np.ndarray) -> np.ndarray:
        self._check_fitted("by_creator_")
        out = np.full(items.shape, -np.inf, np.float32)
        for r in range(req.n):
            followed = self._followed(req, r)
            if not len(followed):
                continue
            it = items[r]
            c = self.creator_[np.maximum(it, 0)]
            hit = (it >= 0) & (c >= 0) & isin_sorted(c, followed)
            out[r, hit] = self.quality_[it[hit]]
        return out

    def candidates(self, req: RequestBatch, n: int) -> Candidates:
        """The freshest videos of each followed creator, merged."""
        n = check_n(n)
        self._check_fitted("by_creator_")
        pools = []
        for r in range(req.n):
            pool = self.lists_.head(self._followed(req, r), n, req.excluded(r))
            pools.append((pool, self.quality_[pool].astype(np.float32)))
        return pools_top(pools, n)

    def score_all(self, req: RequestBatch) -> np.ndarray:
        self._check_fitted("by_creator_")
        if req.following.shape[1] != self.by_creator_.shape[1] or not self.by_creator_.shape[1]:
            return np.full((req.n, self.by_creator_.shape[0]), -np.inf, np.float32)
        f = np.asarray((req.following @ self.by_creator_.T).todense(), dtype=np.float32)
        return np.where(f > 0, self.quality_[None, :], -np.inf).astype(np.float32)

    def explain(self, viewer: ViewerRow, item: int) -> Reason:
        cat = viewer.catalogue
        c = int(cat.creator[item])
        if c < 0:
            return shared_reason("following", "from a creator you follow")
        cid = str(cat.creator_ids[c])
        return shared_reason("following", f"from {cid}, whom you follow", creator_id=cid)


class ExplorationSource(CandidateSource):
    """Adjacent communities and new creators.

    Parameters
    ----------
    adjacent_weight : weight of videos from communities next to the viewer's.
    new_creator_weight : weight of videos by new creators.
    new_creator_days : a creator is new if their first video is younger than this...
    new_creator_max_videos : ...or if they have at most this many videos and no more
        than ``new_creator_max_views`` viewers in total (used when times are unknown).
    half_life_days : freshness half-life of the quality score.
    """

    name: ClassVar[str] = "explore"
    reason_kind: ClassVar[str] = "explore"

    def __init__(
        self,
        adjacent_weight: float = 1.0,
        new_creator_weight: float = 1.0,
        new_creator_days: float = 30.0,
        new_creator_max_videos: int = 3,
        new_creator_max_views: int = 50,
        half_life_days: float | None = 7.0,
    ) -> None:
        for name, v in (
            ("adjacent_weight", adjacent_weight),
            ("new_creator_weight", new_creator_weight),
            ("new_creator_days", new_creator_days),
        ):
            _check_nonneg(name, v)
        for name, v in (
            ("new_creator_max_videos", new_creator_max_videos),
            ("new_creator_max_views", new_creator_max_views),
        ):
            if not isinstance(v, int) or v < 0:
                raise InputError(f"must be an integer >= 0, got {v!r}", field=name)
        if half_life_days is not None and (
            not isinstance(half_life_days, int | float) or half_life_days <= 0
        ):
            raise InputError(f"must be > 0, got {half_life_days!r}", field="half_life_days")
        self.adjacent_weight = adjacent_weight
        self.new_creator_weight = new_creator_weight
        self.new_creator_days = new_creator_days
        self.new_creator_max_videos = new_creator_max_videos
        self.new_creator_max_views = new_creator_max_views
        self.half_life_days = half_life_days

    def fit(self, ctx: FitContext) -> ExplorationSource:
        cat, it = ctx.catalogue, ctx.interactions
        M = sp.csr_matrix(cat.communities, dtype=np.float32)
        co = (M.T @ M).toarray()
        if it.viewer_communities is not None and it.viewer_communities.shape[1] == M.shape[1]:
            W = sp.csr_matrix(it.viewer_communities, dtype=np.float32)
            co = co + (W.T @ W).toarray()
        d = np.sqrt(np.maximum(np.diag(co), 1e-12))
        adj = co / d[:, None] / d[None, :] if len(d) else co
        np.fill_diagonal(adj, 0.0)
        self.adjacency_ = adj.astype(np.float32)
        self.members_ = _row_normalise(M)
        self.quality_ = _quality(ctx, self.half_life_days)
        self.new_creator_video_ = self._new_creator_videos(ctx)
        self.lists_ = KeyedLists(self.members_.T, self.quality_)
        self.memberships_ = Memberships(self.members_)
        self.new_term_ = (
            self.new_creator_weight
            * (self.new_creator_video_ * self.quality_)
            / max(float(self.quality_.max(initial=1.0)), 1e-6)
        ).astype(np.float32)
        self.new_list_ = KeyedLists(
            sp.csr_matrix(np.ones((1, len(self.new_term_)))), self.new_term_
        )
        return self

    def _adjacent(self, req: RequestBatch) -> np.ndarray:
        """Weights of the communities next to (not among) the viewer's, rows summing to 1."""
        key = ("adjacent", id(self))
        got = req.cache.get(key)
        if got is not None:
            return got
        n_c = self.adjacency_.shape[0]
        if not n_c or req.communities.shape[1] != n_c:
            adj = np.zeros((req.n, n_c), np.float32)
        else:
            own = viewer_community_weights(req, n_c)
            adj = own @ self.adjacency_
            adj[own > 0] = 0.0  # adjacent, not the viewer's own
            adj = (adj / np.maximum(adj.sum(axis=1, keepdims=True), 1e-12)).astype(np.float32)
        req.cache[key] = adj
        return adj

    def score(self, req: RequestBatch, items: np.ndarray) -> np.ndarray:
        self._check_fitted("adjacency_")
        return self._score(self._adjacent(req), items)

    def _score(self, adj: np.ndarray, items: np.ndarray) -> np.ndarray:
        it = np.maximum(items, 0)
        s = self.new_term_[it].copy()
        if self.adjacency_.shape[0]:
            aff = self.memberships_.affinity(adj, items)
            s += self.adjacent_weight * aff * self.quality_[it]
        return _positive_or_ninf(s, items)

    def candidates(self, req: RequestBatch, n: int) -> Candidates:
        """The heads of the adjacent communities' lists and of the new creators' list,
        scored exactly."""
        n = check_n(n)
        self._check_fitted("adjacency_")
        adj = self._adjacent(req)
        pools = []
        for r in range(req.n):
            ex = req.excluded(r)
            pool = union_heads(
                [(self.lists_, top_keys(adj[r], MAX_KEYS)), (self.new_list_, _KEY0)], n, ex
            )
            pools.append((pool, self._score(adj[r : r + 1], pool[None, :])[0]))
        return pools_top(pools, n)

    def _new_creator_videos(self, ctx: FitContext) -> np.ndarray:
        cat = ctx.catalogue
        n_cr = len(cat.creator_ids)
        new = np.zeros(cat.n_videos, bool)
        ok = cat.creator >= 0
        if not n_cr or not ok.any():
            return new
        n_videos = np.bincount(cat.creator[ok], minlength=n_cr)
        views = np.bincount(cat.creator[ok], weights=ctx.popularity[ok], minlength=n_cr)
        is_new = (n_videos <= self.new_creator_max_videos) & (views <= self.new_creator_max_views)
        if np.isfinite(ctx.now) and np.isfinite(cat.created_at[ok]).any():
            first = np.full(n_cr, np.inf)
            np.minimum.at(first, cat.creator[ok], np.nan_to_num(cat.created_at[ok], nan=np.inf))
            is_new |= (ctx.now - first) / 86400.0 <= self.new_creator_days
        new[ok] = is_new[cat.creator[ok]]
        return new

    def score_all(self, req: RequestBatch) -> np.ndarray:
        self._check_fitted("adjacency_")
        n_items = len(self.quality_)
        s = np.zeros((req.n, n_items), np.float32)
        if self.adjacency_.shape[0] and req.communities.shape[1] == self.adjacency_.shape[0]:
            own = _row_normalise(req.communities).toarray().astype(np.float32)
            adj = own @ self.adjacency_
            adj[own > 0] = 0.0  # adjacent, not the viewer's own
            adj_n = adj / np.maximum(adj.sum(axis=1, keepdims=True), 1e-12)
            s += (
                self.adjacent_weight
                * np.asarray(self.members_ @ adj_n.T).T
                * self.quality_[None, :]
            )
        s += (
            self.new_creator_weight
            * (self.new_creator_video_ * self.quality_)[None, :]
            / max(float(self.quality_.max(initial=1.0)), 1e-6)
        )
        return np.where(s > 0, s, -np.inf).astype(np.float32)

    def explain(self, viewer: ViewerRow, item: int) -> Reason:
        cat = viewer.catalogue
        c = int(cat.creator[item])
        cid = str(cat.creator_ids[c]) if c >= 0 else None
        if self.new_creator_video_[item]:
            return shared_reason("new_creator", "new creator you may like", creator_id=cid)
        cols, vals = sparse_row(self.members_, item)
        if len(cols) and vals.max() > 0:
            comm = str(cat.community_ids[int(cols[int(np.argmax(vals))])])
            return shared_reason(
                "explore", f"explore {comm}, close to your communities", community_id=comm
            )
        return shared_reason("explore", "something new to explore")
