"""Serving one feed request: session, cold start, hard rules, re-ranking, fallback, why.

Order of relaxation when too little is left: the re-ranker relaxes its caps and quotas;
then popular unseen videos that pass the hard rules fill the feed; if even that yields
nothing, the viewer's "not interested" suppressions are relaxed, and then videos they
have already seen are served again. Visibility labels are never relaxed: a feed is
empty only if no video in the catalogue is servable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import InputError
from .explain import FALLBACK_REASON
from .rerank import LIMITED, VisibilityFilter
from .session import SessionState
from .stages import check_n

if TYPE_CHECKING:
    from .pipeline import Feed, FeedPipeline


def serve(
    p: FeedPipeline,
    viewer_id: str,
    k: int,
    *,
    interests: Sequence[str] | None = None,
    visibility: VisibilityFilter | None = None,
    now: float | None = None,
    mark_served: bool = True,
) -> Feed:
    from .pipeline import MAX_K, Feed, FeedItem

    if not isinstance(viewer_id, str) or not viewer_id.strip():
        raise InputError("must be a non-empty string", field="viewer_id")
    k = check_n(k, "k")
    if k > MAX_K:
        raise InputError(f"must be <= {MAX_K}, got {k}", field="k")
    if interests is not None and (
        isinstance(interests, str) or not all(isinstance(i, str) for i in interests)
    ):
        raise InputError("must be a list of community ids", field="interests")
    p._check_fitted()
    cat = p.ctx_.catalogue
    if cat.n_videos == 0:
        return Feed(viewer_id, (), cold_start=True)
    vidx = p.ctx_.interactions.index.get(viewer_id, -1)
    state = p.sessions.get(viewer_id)
    req = p.build_request(
        np.array([vidx]),
        states=[state],
        interests=[list(interests)] if interests else None,
        now=now,
    )
    cold = req.history.nnz == 0
    items, scores, ranks = p.candidates(req, extra=max(0, k - 20))
    s = p.score(req, items, scores)[0]
    cand = items[0]
    vis = visibility or VisibilityFilter()
    suppression = state.suppression if state is not None else None

    def codes(idx: np.ndarray) -> np.ndarray:
        return vis.codes_of(cat, idx)

    cand_codes = codes(cand)
    ok = p.reranker.allowed(cand, suppression, cand_codes) & np.isfinite(s)
    explore = np.zeros(len(cand), bool)
    for label in p.config.explore_sources:
        if label in ranks:
            explore |= np.isfinite(ranks[label][0])
    pos, flags = p.reranker.select(
        cand[ok],
        s[ok],
        k,
        explore=explore[ok],
        limited=cand_codes[ok] == LIMITED,
        limited_factor=p.config.limited_factor,
    )
    picked = cand[ok][pos]
    picked_scores = s[ok][pos]
    exclude = req.exclude.indices[req.exclude.indptr[0] : req.exclude.indptr[1]]
    filled = p._fill(
        picked, exclude, k, lambda pool: p.reranker.allowed(pool, suppression, codes(pool))
    )
    if len(filled) == 0:
        filled = p._fill(
            picked, exclude, k, lambda pool: p.reranker.allowed(pool, None, codes(pool))
        )
    if len(filled) == 0:
        filled = p._fill(
            picked,
            np.zeros(0, np.int64),
            k,
            lambda pool: p.reranker.allowed(pool, None, codes(pool)),
        )
    sub_ranks = {lab: r[0][ok][pos] for lab, r in ranks.items()}
    reasons = p.explainer.explain(req, 0, picked, sub_ranks, p.sources, cat, flags)
    out = []
    for i, item in enumerate(filled):
        if i < len(picked):
            label, reason = reasons[i]
            score, is_explore = float(picked_scores[i]), bool(flags[i])
        else:
            label, reason, score, is_explore = "fallback", FALLBACK_REASON, float("nan"), False
        out.append(FeedItem(str(cat.video_ids[item]), i + 1, score, label, reason, is_explore))
    if mark_served:
        st = state if state is not None else SessionState(viewer_id)
        st.seen.update(int(x) for x in filled)
        p.sessions.put(st)
    return Feed(viewer_id, tuple(out), cold_start=bool(cold), n_fallback=len(filled) - len(picked))
