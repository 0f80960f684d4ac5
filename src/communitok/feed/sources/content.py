"""Content-similarity source: videos that look and sound like what the viewer engaged with.

This is how new videos (no interactions yet) reach viewers: the viewer's profile in
content space (:meth:`..content.ContentModel.profile`, blended with the session's
short-term interest vector) is matched against every video's content vector, plus an
optional content popularity prior (:attr:`..content.ContentModel.prior_`).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ...core.errors import InputError
from ..stages import CandidateSource, FitContext, Reason, RequestBatch, ViewerRow
from .collaborative import watched_reason


class ContentSource(CandidateSource):
    """Cosine similarity between the viewer's content profile and each video.

    Parameters
    ----------
    new_only : propose only new videos (no interactions in training, or younger than
        ``new_days`` when upload times are known); the cold-start path for new videos.
    new_days : age limit for "new" when upload times are known.
    prior_weight : weight of the content popularity prior added to the similarity.
    interest_weight : weight of the session interest vector against the long-term profile.
    """

    name: ClassVar[str] = "content"
    reason_kind: ClassVar[str] = "similar"

    def __init__(
        self,
        new_only: bool = False,
        new_days: float = 3.0,
        prior_weight: float = 0.0,
        interest_weight: float = 0.5,
    ) -> None:
        if not isinstance(new_only, bool):
            raise InputError(f"must be a bool, got {new_only!r}", field="new_only")
        for name, v in (("new_days", new_days), ("prior_weight", prior_weight)):
            if not isinstance(v, int | float) or v < 0:
                raise InputError(f"must be >= 0, got {v!r}", field=name)
        if not isinstance(interest_weight, int | float) or not 0 <= interest_weight <= 1:
            raise InputError(f"must be in [0, 1], got {interest_weight!r}", field="interest_weight")
        self.new_only = new_only
        self.new_days = new_days
        self.prior_weight = prior_weight
        self.interest_weight = interest_weight

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
        return self

    def viewer_vectors(self, req: RequestBatch) -> np.ndarray:
        self._check_fitted("content_")
        P = self.content_.profile(req.history)
        if req.interest is not None and req.interest.shape[1] == P.shape[1]:
            w = self.interest_weight
            has = np.any(req.interest != 0, axis=1)
            P[has] = (1 - w) * P[has] + w * req.interest[has]
            n = np.linalg.norm(P, axis=1, keepdims=True)
            P = np.divide(P, n, out=np.zeros_like(P), where=n > 0)
        return P

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

    def explain(self, viewer: ViewerRow, item: int) -> Reason:
        r = watched_reason(viewer, item, None, self.content_.vectors_, kind="similar")
        if r.video_id:
            prefix = (
                "new video similar to" if self.eligible_[item] and self.new_only else "similar to"
            )
            return Reason(
                "similar", f"{prefix} {r.video_id}, which you watched", video_id=r.video_id
            )
        return Reason("similar", "new video you may like" if self.new_only else r.text)
