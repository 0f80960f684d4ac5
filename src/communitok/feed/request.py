"""Assembling feed requests and merging candidate lists.

:func:`build_request` turns viewer indices plus session states and onboarding choices
into a :class:`~.stages.RequestBatch`: long-term history plus session positives,
everything to exclude (seen, "not interested"), community weights (given, chosen at
onboarding, or inferred from the history), followed creators and the session interest
vector. The helpers below merge the sources' candidate lists row by row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from .session import SessionState
from .stages import CandidateSource, FitContext, RequestBatch


def build_request(
    ctx: FitContext,
    viewers: np.ndarray,
    *,
    states: Sequence[SessionState | None] | None = None,
    interests: Sequence[Sequence[str] | None] | None = None,
    now: float | None = None,
) -> RequestBatch:
    """A request batch for viewer indices (-1 = unknown viewer)."""
    it, cat = ctx.interactions, ctx.catalogue
    v = np.asarray(viewers, dtype=np.int64)
    n = len(v)
    known = (v >= 0) & (v < it.n_viewers)
    sel = sp.csr_matrix(
        (np.ones(known.sum(), np.float32), (np.flatnonzero(known), v[known])),
        shape=(n, it.n_viewers),
    )
    H = sel @ it.matrix
    ex = sel @ it.excluded
    following = (
        sel @ it.following
        if it.following is not None
        else sp.csr_matrix((n, len(cat.creator_ids)), dtype=np.float32)
    )
    interest = None
    if states is not None and any(s is not None for s in states):
        hr, hc, hv, er, ec, fr, fc = [], [], [], [], [], [], []
        for r, st in enumerate(states):
            if st is None:
                continue
            hr += [r] * len(st.positives)
            hc += list(st.positives)
            hv += list(st.positives.values())
            gone = st.seen | st.suppression.videos
            er += [r] * len(gone)
            ec += list(gone)
            fr += [r] * len(st.followed)
            fc += list(st.followed)
        H = H + sp.csr_matrix((hv, (hr, hc)), shape=H.shape, dtype=np.float32)
        ex = ex + sp.csr_matrix((np.ones(len(er), np.float32), (er, ec)), shape=ex.shape)
        if len(cat.creator_ids):
            following = following + sp.csr_matrix(
                (np.ones(len(fr), np.float32), (fr, fc)), shape=following.shape
            )
        if ctx.content.has_content_:
            d = ctx.content.vectors_.shape[1]
            interest = np.zeros((n, d), np.float32)
            for r, st in enumerate(states):
                if st is not None and st.interest is not None:
                    interest[r] = st.interest
    comm = _communities(ctx, sel, H, interests, n)
    return RequestBatch(
        viewers=np.where(known, v, -1),
        history=sp.csr_matrix(H, dtype=np.float32),
        exclude=sp.csr_matrix(ex, dtype=np.float32),
        communities=comm,
        following=sp.csr_matrix(following, dtype=np.float32),
        interest=interest,
        now=ctx.now if now is None else float(now),
    )


def _communities(
    ctx: FitContext,
    sel: sp.csr_matrix,
    H: sp.csr_matrix,
    interests: Sequence[Sequence[str] | None] | None,
    n: int,
) -> sp.csr_matrix:
    """Given memberships, else onboarding choices, else inferred from the history."""
    it, cat = ctx.interactions, ctx.catalogue
    n_c = len(cat.community_ids)
    W = (
        sel @ it.viewer_communities
        if it.viewer_communities is not None
        else sp.csr_matrix((n, n_c), dtype=np.float32)
    )
    if interests is not None:
        # onboarding choices for viewers without memberships (unknown ids are ignored)
        have = np.asarray(sp.csr_matrix(W).getnnz(axis=1)) > 0
        cidx = {c: i for i, c in enumerate(cat.community_ids.tolist())}
        rows, cols = [], []
        for r in range(min(n, len(interests))):
            if not have[r]:
                chosen = {cidx[c] for c in (interests[r] or []) if c in cidx}
                rows += [r] * len(chosen)
                cols += sorted(chosen)
        W = W + sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, n_c))
    W = sp.csr_matrix(W, dtype=np.float32)
    empty = np.asarray(W.getnnz(axis=1)) == 0
    if empty.any() and n_c and H.nnz:
        inferred = sp.csr_matrix(sp.diags(empty.astype(np.float32)) @ H @ cat.communities)
        W = W + inferred
    return sp.csr_matrix(W, dtype=np.float32)


def is_dense(src: CandidateSource) -> bool:
    cls = type(src)
    return (
        cls.candidates is CandidateSource.candidates
        and cls.score is CandidateSource.score
        and not getattr(src, "index_", None)
    )


def union(lists: list[np.ndarray]) -> np.ndarray:
    """Row-wise union of candidate lists (duplicates and padding → -1)."""
    allc = np.concatenate(lists, axis=1) if lists else np.zeros((0, 0), np.int64)
    s = np.sort(allc, axis=1)
    dup = np.zeros_like(s, dtype=bool)
    dup[:, 1:] = s[:, 1:] == s[:, :-1]
    s[dup] = -1
    return s


def _row_keys(items: np.ndarray, n_cols: int) -> np.ndarray:
    return np.arange(items.shape[0], dtype=np.int64)[:, None] * (n_cols + 1) + items


def rank_in(items: np.ndarray, source_items: np.ndarray) -> np.ndarray:
    """Rank of each union item in a source's list (inf when absent), vectorised."""
    n_cols = int(max(items.max(initial=0), source_items.max(initial=0))) + 1
    keys = _row_keys(source_items, n_cols)
    pos = np.broadcast_to(np.arange(source_items.shape[1]), source_items.shape)
    valid = source_items >= 0
    k, p = keys[valid], pos[valid]
    order = np.argsort(k, kind="stable")
    k, p = k[order], p[order]
    q = _row_keys(items, n_cols)
    at = np.minimum(np.searchsorted(k, q), max(len(k) - 1, 0))
    hit = (items >= 0) & (len(k) > 0) & (k[at] == q) if len(k) else np.zeros(items.shape, bool)
    return np.where(hit, p[at] if len(k) else 0, np.inf)


def gather(T: sp.csr_matrix, items: np.ndarray) -> np.ndarray:
    """T[r, items[r, j]] for every (r, j); 0 for padding (vectorised)."""
    T = sp.csr_matrix(T)
    T.sort_indices()
    rows = np.repeat(np.arange(T.shape[0]), np.diff(T.indptr))
    keys = rows.astype(np.int64) * (T.shape[1] + 1) + T.indices
    q = _row_keys(items, T.shape[1])
    if len(keys) == 0:
        return np.zeros(items.shape, np.float32)
    at = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
    hit = (items >= 0) & (keys[at] == q)
    return np.where(hit, T.data[at], 0.0).astype(np.float32)
