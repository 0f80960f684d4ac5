"""Serving one feed request: session, cold start, hard rules, re-ranking, fallback, why.

Order of relaxation when too little is left: the re-ranker relaxes its caps and quotas;
then popular unseen videos that pass the hard rules fill the feed; if even that yields
nothing, the viewer's "not interested" suppressions are relaxed, and then videos they
have already seen are served again. Visibility labels are never relaxed: a feed is
empty only if no video in the catalogue is servable.

Several requests can be served together (:func:`serve_many`): the candidate sources and
the scorer then run once over a batch (their per-call cost is shared: a batch of four
costs about half as much per request), and each request is re-ranked, filled and
explained on its own. A batch is served as if its requests came one after another:
two requests of the same viewer go into consecutive batches (the second sees what the
first marked as served), and requests asking for more than the default depth of
candidates (k > 20) are batched only with requests of the same depth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import InputError
from .explain import FALLBACK_REASON
from .rerank import LIMITED, VisibilityFilter
from .session import SessionState
from .stages import check_n

if TYPE_CHECKING:
    from .data import Catalogue
    from .pipeline import Feed, FeedPipeline
    from .stages import RequestBatch


@dataclass(frozen=True)
class ServeRequest:
    """One feed request: viewer, feed length *k*, onboarding *interests* (community ids,
    for viewers without memberships) and whether to mark the served videos as seen."""

    viewer_id: str
    k: int = 20
    interests: Sequence[str] | None = None
    mark_served: bool = True


#: feeds up to this length read each source's default number of candidates
BASE_K = 20


def _check(r: ServeRequest) -> ServeRequest:
    from .pipeline import MAX_K

    if not isinstance(r, ServeRequest):
        raise InputError(f"must be a ServeRequest, got {type(r).__name__}", field="requests")
    if not isinstance(r.viewer_id, str) or not r.viewer_id.strip():
        raise InputError("must be a non-empty string", field="viewer_id")
    check_n(r.k, "k")
    if r.k > MAX_K:
        raise InputError(f"must be <= {MAX_K}, got {r.k}", field="k")
    interests = r.interests
    if interests is not None and (
        isinstance(interests, str) or not all(isinstance(i, str) for i in interests)
    ):
        raise InputError("must be a list of community ids", field="interests")
    return r


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
    """The feed of one viewer (see :meth:`FeedPipeline.recommend`)."""
    req = ServeRequest(viewer_id, k, interests, mark_served)
    return serve_many(p, [req], visibility=visibility, now=now)[0]


def serve_many(
    p: FeedPipeline,
    requests: Sequence[ServeRequest],
    *,
    visibility: VisibilityFilter | None = None,
    now: float | None = None,
    max_batch: int = 16,
) -> list[Feed]:
    """The feeds of several requests, in order, computed in batches (module docstring);
    every request is validated before any is served."""
    from .pipeline import Feed

    if isinstance(requests, ServeRequest) or not isinstance(requests, Sequence):
        raise InputError("must be a sequence of ServeRequest", field="requests")
    check_n(max_batch, "max_batch")
    reqs = [_check(r) for r in requests]
    p._check_fitted()
    cat = p.ctx_.catalogue
    if cat.n_videos == 0:
        return [Feed(r.viewer_id, (), cold_start=True) for r in reqs]
    out: dict[int, Feed] = {}  # request position → its feed
    pending = list(range(len(reqs)))
    while pending:
        # one batch: the first pending request's depth; each viewer at most once
        depth = max(0, reqs[pending[0]].k - BASE_K)
        batch: list[int] = []
        seen: set[str] = set()
        rest: list[int] = []
        for i in pending:
            r = reqs[i]
            same_depth = max(0, r.k - BASE_K) == depth
            if same_depth and r.viewer_id not in seen and len(batch) < max_batch:
                batch.append(i)
                seen.add(r.viewer_id)
            else:
                rest.append(i)
                seen.add(r.viewer_id)  # later requests of this viewer wait for it
        for i, feed in zip(batch, _serve_batch(p, [reqs[i] for i in batch], depth,
                                               visibility, now), strict=True):  # fmt: skip
            out[i] = feed
        pending = rest
    return [out[i] for i in range(len(reqs))]


def _serve_batch(
    p: FeedPipeline,
    reqs: list[ServeRequest],
    extra: int,
    visibility: VisibilityFilter | None,
    now: float | None,
) -> list[Feed]:
    cat = p.ctx_.catalogue
    index = p.ctx_.interactions.index
    states = [p.sessions.get(r.viewer_id) for r in reqs]
    chosen = [list(r.interests) if r.interests else None for r in reqs]
    req = p.build_request(
        np.array([index.get(r.viewer_id, -1) for r in reqs]),
        states=states,
        interests=chosen if any(c is not None for c in chosen) else None,
        now=now,
    )
    items, scores, ranks = p.candidates(req, extra=extra)
    s_all = p.score(req, items, scores)
    vis = visibility or VisibilityFilter()
    return [
        _finish(p, req, row, r, states[row], items[row], s_all[row], ranks, vis, cat)
        for row, r in enumerate(reqs)
    ]


def _finish(
    p: FeedPipeline,
    req: RequestBatch,
    row: int,
    r: ServeRequest,
    state: SessionState | None,
    cand: np.ndarray,
    s: np.ndarray,
    ranks: dict[str, np.ndarray],
    vis: VisibilityFilter,
    cat: Catalogue,
) -> Feed:
    """Hard rules, re-ranking, fallback and reasons for request *row* of a batch."""
    from .pipeline import Feed, FeedItem

    k = r.k
    lo, hi = req.history.indptr[row], req.history.indptr[row + 1]
    cold = hi == lo
    suppression = state.suppression if state is not None else None

    def codes(idx: np.ndarray) -> np.ndarray:
        return vis.codes_of(cat, idx)

    cand_codes = codes(cand)
    ok = p.reranker.allowed(cand, suppression, cand_codes) & np.isfinite(s)
    explore = np.zeros(len(cand), bool)
    for label in p.config.explore_sources:
        if label in ranks:
            explore |= np.isfinite(ranks[label][row])
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
    exclude = req.exclude.indices[req.exclude.indptr[row] : req.exclude.indptr[row + 1]]
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
    sub_ranks = {lab: rk[row][ok][pos] for lab, rk in ranks.items()}
    reasons = p.explainer.explain(req, row, picked, sub_ranks, p.sources, cat, flags)
    out = []
    for i, item in enumerate(filled):
        if i < len(picked):
            label, reason = reasons[i]
            score, is_explore = float(picked_scores[i]), bool(flags[i])
        else:
            label, reason, score, is_explore = "fallback", FALLBACK_REASON, float("nan"), False
        out.append(FeedItem(str(cat.video_ids[item]), i + 1, score, label, reason, is_explore))
    if r.mark_served:
        st = state if state is not None else SessionState(r.viewer_id)
        st.seen.update(int(x) for x in filled)
        p.sessions.put(st)
    return Feed(
        r.viewer_id, tuple(out), cold_start=bool(cold), n_fallback=len(filled) - len(picked)
    )
