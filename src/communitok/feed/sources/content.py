"""Content-similarity source: videos that look and sound like what the viewer engaged with.

This is how new videos (no interactions yet) reach viewers: the viewer's profile in
content space (:meth:`..content.ContentModel.profile`, blended with the session's
short-term interest vector) is matched against every video's content vector, plus an
optional content popularity prior (:attr:`..content.ContentModel.prior_`).

Retrieval is exact (one matrix-vector product over the eligible videos) up to
``ann_min_items`` eligible videos and through a faiss HNSW index above (``ann="auto"``):
the prior is folded into the inner product as one more dimension, [profile, w] ·
[vector, prior], so one index serves both terms.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ...core.errors import InputError
from ..ann import EmbeddingIndex, resolve_ann, search_excluding
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
    top_n,
)
from .collaborative import watched_reason, watched_reasons


class ContentSource(CandidateSource):
    """Cosine similarity between the viewer's content profile and each video.

    Parameters
    ----------
    new_only : propose only new videos (no interactions in training, or younger than
        ``new_days`` when upload times are known); the cold-start path for new videos.
    new_days : age limit for "new" when upload times are known.
    prior_weight : weight of the content popularity prior added to the similarity.
    interest_weight : weight of the session interest vector against the long-term profile.
    ann : "auto" (HNSW from ``ann_min_items`` eligible videos on, exact below), "hnsw",
        "ivf", "flat" or None (exact).
    ann_min_items : where "auto" switches to the index.
    """

    name: ClassVar[str] = "content"
    reason_kind: ClassVar[str] = "similar"

    def __init__(
        self,
        new_only: bool = False,
        new_days: float = 3.0,
        prior_weight: float = 0.0,
        interest_weight: float = 0.5,
        ann: str | None = "auto",
        ann_min_items: int = 20_000,
    ) -> None:
        if not isinstance(new_only, bool):
            raise InputError(f"must be a bool, got {new_only!r}", field="new_only")
        for name, v in (("new_days", new_days), ("prior_weight", prior_weight)):
            if not isinstance(v, int | float) or v < 0:
                raise InputError(f"must be >= 0, got {v!r}", field=name)
        if not isinstance(interest_weight, int | float) or not 0 <= interest_weight <= 1:
            raise InputError(f"must be in [0, 1], got {interest_weight!r}", field="interest_weight")
        resolve_ann(ann, ann_min_items, 0)  # validates
        self.new_only = new_only
        self.new_days = new_days
        self.prior_weight = prior_weight
        self.interest_weight = interest_weight
        self.ann = ann
        self.ann_min_items = ann_min_items

    def fit(self, ctx: FitContext) -> ContentSource:
        self.content_ = ctx.content
        n = ctx.catalogue.n_videos
        eligible = np.ones(n, bool)
        if self.new_only:
            eligible = ctx.popularity == 0
            if np.isfinite(ctx.now):
                age = (ctx.now - ctx.catalogue.created_at) / 86400.0
                eligible |= np.isfinite(age) & (age <= self.new_days)
        self.eligible_ = eligible
        prior = ctx.content.prior_.astype(np.float32)
        self.prior_ = (prior - prior.mean()) / (prior.std() + 1e-6) if len(prior) else prior
        self.active_ = bool(ctx.content.has_content_)
        # the retrieval space: eligible videos, [vector, prior] when the prior counts
        self.items_ = np.flatnonzero(eligible) if self.active_ else np.zeros(0, np.int64)
        V = ctx.content.vectors_[self.items_]
        if self.prior_weight:
            V = np.hstack([V, self.prior_[self.items_, None]])
        self.space_ = np.ascontiguousarray(V, dtype=np.float32)
        self.ann_ = resolve_ann(self.ann, self.ann_min_items, len(self.items_))
        self.index_ = (
            EmbeddingIndex(self.ann_).fit(self.space_) if self.ann_ and len(self.items_) else None
        )
        # viewers without a profile get the prior alone: its order, precomputed
        self.prior_order_ = self.items_[
            np.lexsort((self.items_, -self.prior_[self.items_]))
        ].astype(np.int64)
        return self

    def viewer_vectors(self, req: RequestBatch) -> np.ndarray:
        self._check_fitted("content_")
        key = ("content_profile", id(self.content_))
        P0 = req.cache.get(key)
        if P0 is None:
            P0 = req.cache[key] = self.content_.profile(req.history)
        P = P0.copy()
        if req.interest is not None and req.interest.shape[1] == P.shape[1]:
            w = self.interest_weight
            has = np.any(req.interest != 0, axis=1)
            P[has] = (1 - w) * P[has] + w * req.interest[has]
            n = np.linalg.norm(P, axis=1, keepdims=True)
            P = np.divide(P, n, out=np.zeros_like(P), where=n > 0)
        return P

    def _queries(self, req: RequestBatch) -> tuple[np.ndarray, np.ndarray]:
        """(query vectors in the retrieval space, rows that have a profile)."""
        key = ("content_queries", id(self))
        got = req.cache.get(key)
        if got is None:
            P = self.viewer_vectors(req)
            has = np.any(P != 0, axis=1)
            Q = (
                np.hstack([P, np.full((len(P), 1), self.prior_weight, np.float32)])
                if (self.prior_weight)
                else P
            )
            got = req.cache[key] = (np.ascontiguousarray(Q, dtype=np.float32), has)
        return got

    def score_all(self, req: RequestBatch) -> np.ndarray:
        P = self.viewer_vectors(req)
        s = P @ self.content_.vectors_.T
        if self.prior_weight:
            s = s + self.prior_weight * self.prior_[None, :]
        s = s.astype(np.float32)
        if not self.active_:
            s[:] = -np.inf
        s[:, ~self.eligible_] = -np.inf
        if not self.prior_weight:
            s[~np.any(P != 0, axis=1)] = -np.inf
        return s

    def score(self, req: RequestBatch, items: np.ndarray) -> np.ndarray:
        self._check_fitted("content_")
        Q, has = self._queries(req)
        it = np.maximum(items, 0)
        # the content sources of a pipeline share the vectors: gathered once per items
        key = ("content_rows", id(self.content_))
        got = req.cache.get(key)
        if got is not None and got[0] is items:
            V = got[1]
        else:
            V = self.content_.vectors_[it]
            req.cache[key] = (items, V)
        s = np.einsum("nd,nmd->nm", Q[:, : V.shape[2]], V)
        if self.prior_weight:
            s = s + self.prior_weight * self.prior_[it]
        s = s.astype(np.float32)
        bad = (items < 0) | ~self.eligible_[it] | (not self.active_)
        if not self.prior_weight:
            bad |= ~has[:, None]
        s[bad] = -np.inf
        return s

    def candidates(self, req: RequestBatch, n: int) -> Candidates:
        """Exact (below ``ann_min_items``) or HNSW retrieval over the eligible videos."""
        n = check_n(n)
        self._check_fitted("content_")
        if not len(self.items_):
            return Candidates(np.full((req.n, 0), -1, np.int64), np.zeros((req.n, 0), np.float32))
        Q, has = self._queries(req)
        n_ex = req.max_excluded()
        if self.index_ is None:
            s = Q @ self.space_.T
            for r in range(req.n):
                s[r, self._positions(req.excluded(r))] = -np.inf
                if not has[r] and not self.prior_weight:
                    s[r] = -np.inf
            c = top_n(s, n)
            items = np.where(c.items >= 0, self.items_[np.maximum(c.items, 0)], -1)
            return Candidates(items, c.scores)
        # excluded videos as positions in the retrieval space
        excluded = [self._positions(req.excluded(r)) for r in range(req.n)]  # sorted
        scores, pos = search_excluding(self.index_, Q, n, excluded)
        ids = np.where(pos >= 0, self.items_[np.maximum(pos, 0)], -1)
        pools = []
        for r in range(req.n):
            if has[r]:
                pools.append((ids[r], scores[r]))
            elif self.prior_weight:  # no profile: the prior alone, off its precomputed order
                head = drop_excluded(self.prior_order_[: n + n_ex], req.excluded(r))
                pools.append((head, (self.prior_weight * self.prior_[head]).astype(np.float32)))
            else:
                pools.append((np.zeros(0, np.int64), np.zeros(0, np.float32)))
        return pools_top(pools, n)

    def _positions(self, items: np.ndarray) -> np.ndarray:
        """Positions in the retrieval space of the eligible ones among *items* (sorted
        when *items* is: the retrieval space is in catalogue order)."""
        pos = np.searchsorted(self.items_, items)
        ok = pos < len(self.items_)
        pos, items = pos[ok], items[ok]
        return pos[self.items_[pos] == items]

    def explain(self, viewer: ViewerRow, item: int) -> Reason:
        r = watched_reason(viewer, item, None, self.content_.vectors_, kind="similar")
        return self._phrase(r, item)

    def explain_many(self, viewer: ViewerRow, items: np.ndarray) -> list[Reason]:
        V, hist = self.content_.vectors_, viewer.history_items
        it = np.asarray(items, dtype=np.int64)
        C = viewer.history_weights[:, None] * (V[hist] @ V[it].T) if len(hist) else None
        rs = watched_reasons(viewer, it, C, kind="similar")
        return [self._phrase(r, int(i)) for r, i in zip(rs, it, strict=True)]

    def _phrase(self, r: Reason, item: int) -> Reason:
        if r.video_id:
            prefix = (
                "new video similar to" if self.eligible_[item] and self.new_only else "similar to"
            )
            return shared_reason(
                "similar", f"{prefix} {r.video_id}, which you watched", video_id=r.video_id
            )
        return shared_reason("similar", "new video you may like" if self.new_only else r.text)
