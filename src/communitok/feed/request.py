"""Assembling feed requests and merging candidate lists.

:func:`build_request` turns viewer indices plus session states and onboarding choices
into a :class:`~.stages.RequestBatch`: long-term history plus session positives,
everything to exclude (seen, "not interested"), community weights (given, chosen at
onboarding, or inferred from the history), followed creators and the session interest
vector. The helpers below merge the sources' candidate lists row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from .session import SessionState
from .stages import CandidateSource, FitContext, RequestBatch


def _row_parts(
    M: sp.csr_matrix | None, rows: np.ndarray, n_cols: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(indices, values) of rows *rows* of *M* (-1, or *M* of another width → empty)."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.float32))
    if M is None or M.shape[1] != n_cols:
        return [empty] * len(rows)
    if not M.has_canonical_format:
        M.sum_duplicates()  # sorts in place, once
    out = []
    for r in rows:
        if 0 <= r < M.shape[0]:
            lo, hi = M.indptr[r], M.indptr[r + 1]
            out.append((M.indices[lo:hi], M.data[lo:hi]))
        else:
            out.append(empty)
    return out


def merged_rows(
    parts: list[tuple[np.ndarray, np.ndarray]],
    extra: list[tuple[Any, Any]] | None,
    n_cols: int,
) -> sp.csr_matrix:
    """One CSR matrix (float32, canonical: sorted, duplicates summed) from per-row
    (indices, values) plus optional extra entries per row; built directly, without a
    selector product or a COO round trip (the per-request cost stays proportional to
    the rows' entries)."""
    idx_parts, val_parts, lens = [], [], []
    for r, (idx, val) in enumerate(parts):
        if extra is not None and len(extra[r][0]):
            idx = np.concatenate([idx, np.asarray(extra[r][0], dtype=np.int64)])
            val = np.concatenate([val, np.asarray(extra[r][1], dtype=np.float32)])
            idx, inv = np.unique(idx, return_inverse=True)
            val = np.bincount(inv, weights=val, minlength=len(idx))
        idx_parts.append(idx)
        val_parts.append(val)
        lens.append(len(idx))
    indptr = np.zeros(len(parts) + 1, np.int64)
    np.cumsum(lens, out=indptr[1:])
    indices = np.concatenate(idx_parts) if idx_parts else np.zeros(0, np.int64)
    data = np.concatenate(val_parts) if val_parts else np.zeros(0, np.float32)
    m = sp.csr_matrix(
        (data.astype(np.float32, copy=False), indices.astype(np.int32, copy=False), indptr),
        shape=(len(parts), n_cols),
    )
    m.has_canonical_format = True  # sorted and unique by construction
    return m


def take_rows(M: sp.csr_matrix | None, rows: np.ndarray, n_cols: int) -> sp.csr_matrix:
    """Rows *rows* of *M* (-1 → an empty row) as a new CSR matrix."""
    return merged_rows(_row_parts(M, rows, n_cols), None, n_cols)


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
    rows = np.where((v >= 0) & (v < it.n_viewers), v, -1)
    n_items, n_creators = cat.n_videos, len(cat.creator_ids)
    Extra = list[tuple[Any, list[float]]]
    hist_x: Extra | None = None
    excl_x: Extra | None = None
    follow_x: Extra | None = None
    interest = None
    if states is not None and any(s is not None for s in states):
        hist_x, excl_x, follow_x = [], [], []
        for st in states:
            if st is None:
                hist_x.append(([], []))
                excl_x.append(([], []))
                follow_x.append(([], []))
                continue
            gone = st.seen.array()
            if st.suppression.videos:
                gone = np.union1d(gone, list(st.suppression.videos))
            hist_x.append((list(st.positives), list(st.positives.values())))
            excl_x.append((gone, [1.0] * len(gone)))
            follow_x.append((list(st.followed), [1.0] * len(st.followed)))
        if ctx.content.has_content_:
            interest = np.zeros((n, ctx.content.vectors_.shape[1]), np.float32)
            for r, st in enumerate(states):
                if st is not None and st.interest is not None:
                    interest[r] = st.interest
    H = merged_rows(_row_parts(it.matrix, rows, n_items), hist_x, n_items)
    ex = merged_rows(_row_parts(it.excluded, rows, n_items), excl_x, n_items)
    following = merged_rows(
        _row_parts(it.following, rows, n_creators), follow_x if n_creators else None, n_creators
    )
    return RequestBatch(
        viewers=rows,
        history=H,
        exclude=ex,
        communities=_communities(ctx, rows, H, interests, n),
        following=following,
        interest=interest,
        now=ctx.now if now is None else float(now),
    )


def _communities(
    ctx: FitContext,
    rows: np.ndarray,
    H: sp.csr_matrix,
    interests: Sequence[Sequence[str] | None] | None,
    n: int,
) -> sp.csr_matrix:
    """Given memberships, else onboarding choices, else inferred from the history."""
    it, cat = ctx.interactions, ctx.catalogue
    n_c = len(cat.community_ids)
    W = take_rows(it.viewer_communities, rows, n_c)
    if interests is not None:
        # onboarding choices for viewers without memberships (unknown ids are ignored)
        have = np.diff(W.indptr) > 0
        cidx = cat.community_index
        extra: list[tuple[list[int], list[float]]] = []
        for r in range(n):
            wanted = interests[r] if r < len(interests) and not have[r] else None
            chosen = sorted({cidx[c] for c in (wanted or []) if c in cidx})
            extra.append((chosen, [1.0] * len(chosen)))
        W = merged_rows(_row_parts(W, np.arange(n), n_c), extra, n_c)
    empty = np.diff(W.indptr) == 0
    if empty.any() and n_c and H.nnz:
        inferred = sp.csr_matrix(sp.diags(empty.astype(np.float32)) @ H @ cat.communities)
        W = sp.csr_matrix(W + inferred, dtype=np.float32)
    return W


def is_dense(src: CandidateSource) -> bool:
    cls = type(src)
    return (
        cls.candidates is CandidateSource.candidates
        and cls.score is CandidateSource.score
        and not getattr(src, "index_", None)
    )


def union(lists: list[np.ndarray]) -> np.ndarray:
    """Row-wise union of candidate lists: each row's distinct items ascending, then -1
    padding (so a row can be searched with ``np.searchsorted``)."""
    return union_ranks(lists)[0]


def union_ranks(lists: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """:func:`union` of the lists and, for each list, :func:`rank_in` of the union's
    items in it, from one ``np.unique`` per row (the inverse says where each listed item
    went, so no list is searched again)."""
    n = lists[0].shape[0] if lists else 0
    widths = [x.shape[1] for x in lists]
    allc = np.concatenate(lists, axis=1) if lists else np.zeros((0, 0), np.int64)
    # each column's rank within its own list
    col_rank = np.concatenate([np.arange(w, dtype=np.float64) for w in widths] or [np.zeros(0)])
    col_list = np.repeat(np.arange(len(lists)), widths) if lists else np.zeros(0, np.int64)
    rows, invs, valid = [], [], []
    for r in range(n):
        row = allc[r]
        ok = np.flatnonzero(row >= 0)
        u, inv = np.unique(row[ok], return_inverse=True)
        rows.append(u)
        invs.append(inv)
        valid.append(ok)
    m = max((len(u) for u in rows), default=0)
    out = np.full((n, m), -1, np.int64)
    ranks = [np.full((n, m), np.inf) for _ in lists]
    flat = np.full((len(lists), m), np.inf)
    for r, (u, inv, ok) in enumerate(zip(rows, invs, valid, strict=True)):
        out[r, : len(u)] = u
        if not len(ok):
            continue
        flat.fill(np.inf)
        # a list names an item once; if it did twice, its best (first) rank wins: the
        # columns run list by list in rank order, so the first occurrence of each
        # (list, item) key is the one to keep
        key = col_list[ok] * m + inv
        key, first = np.unique(key, return_index=True)
        flat.flat[key] = col_rank[ok][first]
        for i in range(len(lists)):
            ranks[i][r] = flat[i]
    return out, ranks


def _row_keys(items: np.ndarray, n_cols: int) -> np.ndarray:
    return np.arange(items.shape[0], dtype=np.int64)[:, None] * (n_cols + 1) + items


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
