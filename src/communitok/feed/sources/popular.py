"""Popularity sources: most popular (optionally recency-weighted) and trending.

Trending compares a video's engagement rate in a recent window with its rate in a
longer baseline window (a smoothed ratio, in the spirit of burst scores such as
Kleinberg 2002, kept deliberately simple here) times its recent volume, and is
personalised by the viewer's community weights: "trending in <community>".
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
    drop_excluded,
    pools_top,
    shared_reason,
)
from .lists import MAX_KEYS, KeyedLists, Memberships, best_keys, top_keys, union_heads

_KEY0 = np.zeros(1, np.int64)  # the one key of a single list


def _check_pos(name: str, v: object, allow_none: bool = False) -> None:
    if v is None and allow_none:
        return
    if not isinstance(v, int | float) or not v > 0:
        raise InputError(f"must be > 0, got {v!r}", field=name)


def _row_normalise(m: sp.csr_matrix) -> sp.csr_matrix:
    s = np.asarray(m.sum(axis=1)).ravel()
    return sp.csr_matrix(sp.diags(np.divide(1.0, s, out=np.zeros_like(s), where=s > 0)) @ m)


def viewer_community_weights(req: RequestBatch, n_communities: int) -> np.ndarray:
    """The request's community weights, rows summing to 1, dense (n × n_communities);
    zeros when the request's communities do not match. Computed once per request."""
    key = ("community_weights", n_communities)
    W = req.cache.get(key)
    if W is None:
        C = req.communities
        if C.shape[1] != n_communities or not n_communities:
            W = np.zeros((req.n, n_communities), np.float32)
        else:
            if req.n == 1 and C.has_canonical_format:  # todense() of one row, without scipy
                W = np.zeros((1, n_communities), np.float32)
                W[0, C.indices[C.indptr[0] : C.indptr[1]]] = C.data[C.indptr[0] : C.indptr[1]]
            else:
                W = np.asarray(C.todense(), dtype=np.float32)
            tot = W.sum(axis=1, keepdims=True)
            W = np.divide(W, tot, out=np.zeros_like(W), where=tot > 0)
        req.cache[key] = W
    return W


class PopularSource(CandidateSource):
    """Most-engaged videos; with ``half_life_days`` each event is decayed by its age."""

    user_independent: ClassVar[bool] = True
    name: ClassVar[str] = "popular"
    reason_kind: ClassVar[str] = "popular"

    def __init__(self, half_life_days: float | None = None) -> None:
        _check_pos("half_life_days", half_life_days, allow_none=True)
        self.half_life_days = half_life_days

    def fit(self, ctx: FitContext) -> PopularSource:
        pop = ctx.popularity
        it = ctx.interactions
        if self.half_life_days is not None and np.isfinite(ctx.now) and len(it.event_ts):
            age = np.maximum(ctx.now - it.event_ts, 0) / 86400.0
            w = (it.event_weight > 0) * np.exp(
                -np.log(2) * np.nan_to_num(age) / self.half_life_days
            )
            pop = np.bincount(it.event_video, weights=w, minlength=ctx.catalogue.n_videos)
        self.popularity_ = np.log1p(pop).astype(np.float32)
        self.order_ = np.lexsort((np.arange(len(pop)), -self.popularity_))
        return self

    def score_all(self, req: RequestBatch) -> np.ndarray:
        self._check_fitted("popularity_")
        return np.tile(self.popularity_, (req.n, 1))

    def score(self, req: RequestBatch, items: np.ndarray) -> np.ndarray:
        self._check_fitted("popularity_")
        s = self.popularity_[np.maximum(items, 0)].copy()
        s[items < 0] = -np.inf
        return s

    def candidates(self, req: RequestBatch, n: int) -> Candidates:
        """Walk the global order and skip each viewer's excluded videos (no dense matrix)."""
        n = check_n(n)
        self._check_fitted("order_")
        m = min(n, len(self.order_))
        items = np.full((req.n, m), -1, np.int64)
        scores = np.full((req.n, m), -np.inf, np.float32)
        for r in range(req.n):
            ex = req.excluded(r)  # sorted
            head = self.order_[: m + len(ex)]
            head = drop_excluded(head, ex)[:m]
            items[r, : len(head)] = head
            scores[r, : len(head)] = self.popularity_[head]
        return Candidates(items, scores)

    def explain(self, viewer: ViewerRow, item: int) -> Reason:
        return shared_reason("popular", "popular right now")

    def explain_many(self, viewer: ViewerRow, items: np.ndarray) -> list[Reason]:
        return [shared_reason("popular", "popular right now")] * len(items)


class TrendingSource(CandidateSource):
    """Videos whose recent engagement outpaces their baseline, weighted towards the
    viewer's communities.

    Parameters: ``window_days`` (recent window), ``baseline_days`` (comparison window
    before it), ``smoothing`` (pseudo-count), ``community_boost`` (how much membership
    in the viewer's communities multiplies the trend score)."""

    user_independent: ClassVar[bool] = True
    name: ClassVar[str] = "trending"
    reason_kind: ClassVar[str] = "trending"

    def __init__(
        self,
        window_days: float = 2.0,
        baseline_days: float = 14.0,
        smoothing: float = 1.0,
        community_boost: float = 4.0,
    ) -> None:
        for name, v in (
            ("window_days", window_days),
            ("baseline_days", baseline_days),
            ("smoothing", smoothing),
        ):
            _check_pos(name, v)
        if not isinstance(community_boost, int | float) or community_boost < 0:
            raise InputError(f"must be >= 0, got {community_boost!r}", field="community_boost")
        self.window_days = window_days
        self.baseline_days = baseline_days
        self.smoothing = smoothing
        self.community_boost = community_boost

    def fit(self, ctx: FitContext) -> TrendingSource:
        it, n = ctx.interactions, ctx.catalogue.n_videos
        pos = it.event_weight > 0
        if np.isfinite(ctx.now) and len(it.event_ts):
            age = (ctx.now - it.event_ts) / 86400.0
            recent = pos & (age >= 0) & (age <= self.window_days)
            base = pos & (age > self.window_days) & (age <= self.window_days + self.baseline_days)
            r = np.bincount(it.event_video[recent], minlength=n) / self.window_days
            b = np.bincount(it.event_video[base], minlength=n) / self.baseline_days
            trend = np.log1p(r * self.window_days) * (r + self.smoothing) / (b + self.smoothing)
        else:
            trend = np.log1p(ctx.popularity)
        self.trend_ = trend.astype(np.float32)
        self.members_ = _row_normalise(sp.csr_matrix(ctx.catalogue.communities, dtype=np.float32))
        self.global_ = KeyedLists(sp.csr_matrix(np.ones((1, n))), self.trend_)
        self.lists_ = KeyedLists(self.members_.T, self.trend_)
        self.memberships_ = Memberships(self.members_)
        return self

    def score(self, req: RequestBatch, items: np.ndarray) -> np.ndarray:
        self._check_fitted("trend_")
        return self._score(viewer_community_weights(req, self.members_.shape[1]), items)

    def _score(self, W: np.ndarray, items: np.ndarray) -> np.ndarray:
        t = self.trend_[np.maximum(items, 0)]
        s = t * (1.0 + self.community_boost * self.memberships_.affinity(W, items))
        s[(items < 0) | (t <= 0)] = -np.inf
        return s.astype(np.float32)

    def candidates(self, req: RequestBatch, n: int) -> Candidates:
        """The head of the global trend list and of the viewer's communities' lists,
        scored exactly (the exact top-n when each video has one community)."""
        n = check_n(n)
        self._check_fitted("trend_")
        W = viewer_community_weights(req, self.members_.shape[1])
        pools = []
        for r in range(req.n):
            ex = req.excluded(r)
            pool = union_heads(
                [(self.global_, _KEY0), (self.lists_, top_keys(W[r], MAX_KEYS))], n, ex
            )
            pools.append((pool, self._score(W[r : r + 1], pool[None, :])[0]))
        return pools_top(pools, n)

    def score_all(self, req: RequestBatch) -> np.ndarray:
        self._check_fitted("trend_")
        s = np.tile(self.trend_, (req.n, 1))
        if req.communities.shape[1] == self.members_.shape[1] and self.members_.shape[1]:
            aff = np.asarray(
                (_row_normalise(req.communities) @ self.members_.T).todense(), dtype=np.float32
            )
            s *= 1.0 + self.community_boost * aff
        s[:, self.trend_ <= 0] = -np.inf
        return s

    def explain(self, viewer: ViewerRow, item: int) -> Reason:
        return self.explain_many(viewer, np.array([item]))[0]

    def explain_many(self, viewer: ViewerRow, items: np.ndarray) -> list[Reason]:
        return community_reasons(
            viewer, self.members_, self.memberships_, items, "trending", "trending", "now"
        )


def community_reasons(
    viewer: ViewerRow,
    members: sp.csr_matrix,
    memberships: Memberships,
    items: np.ndarray,
    kind: str,
    verb: str,
    fallback: str,
) -> list[Reason]:
    """One reason per item naming the viewer's community it stands for best ("*verb* in
    <community>"), or "*verb* *fallback*" when none of the viewer's communities holds it."""
    best = best_keys(viewer.communities, members, memberships, items)
    ids = viewer.catalogue.community_ids
    out = []
    for c in best.tolist():
        if c < 0:
            out.append(shared_reason(kind, f"{verb} {fallback}"))
        else:
            cid = str(ids[c])
            out.append(shared_reason(kind, f"{verb} in {cid}", community_id=cid))
    return out
