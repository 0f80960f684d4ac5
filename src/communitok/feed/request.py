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
from .stages import CandidateSource, FitContext, RequestBatch, csr_from_arrays


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
    selector product, a COO round trip or the constructor's validation pass (the rows
    are canonical by construction; see :func:`.stages.csr_from_arrays`), so the
    per-request cost stays proportional to the rows' entries."""
    if len(parts) == 1 and (extra is None or not len(extra[0][0])):  # one plain row
        idx, val = parts[0]
        return csr_from_arrays(
            val.astype(np.float32),  # copies: the request never shares the fitted arrays
            idx.astype(np.int32),
            np.array([0, len(idx)], np.int32),
            (1, n_cols),
        )
    idx_parts, val_parts = [], []
    indptr = [0]
    for r, (idx, val) in enumerate(parts):
        if extra is not None and len(extra[r][0]):
            idx = np.concatenate([idx, np.asarray(extra[r][0], dtype=np.int64)])
            val = np.concatenate([val, np.asarray(extra[r][1], dtype=np.float32)])
            idx, inv = np.unique(idx, return_inverse=True)
            val = np.bincount(inv, weights=val, minlength=len(idx))
        idx_parts.append(idx)
        val_parts.append(val)
        indptr.append(indptr[-1] + len(idx))
    # concatenate copies even a single part: the request never shares the fitted arrays
    indices = np.concatenate(idx_parts) if idx_parts else np.zeros(0, np.int64)
    data = np.concatenate(val_parts) if val_parts else np.zeros(0, np.float32)
    return csr_from_arrays(
        data.astype(np.float32, copy=False),
        indices.astype(np.int32, copy=False),
        np.asarray(indptr, dtype=np.int64),
        (len(parts), n_cols),
    )


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


#: (list of each column, rank of each column within its list) by list widths
_COLUMNS: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}


def _columns(widths: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    got = _COLUMNS.get(widths)
    if got is None:
        if len(_COLUMNS) >= 64:
            _COLUMNS.clear()
        w = np.asarray(widths, dtype=np.int64)
        col_list = np.repeat(np.arange(len(w)), w)
        col_rank = np.arange(int(w.sum())) - np.repeat(np.cumsum(w) - w, w)
        got = _COLUMNS[widths] = (col_list, col_rank.astype(np.float64))
    return got


def union_ranks(lists: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Row-wise union of candidate lists (each row's distinct items ascending, then -1
    padding, so a row can be searched with ``np.searchsorted``) and, for each list, the
    rank of the union's items in it (inf when absent; a list naming an item twice keeps
    its best, first, rank).

    One sort of every listed entry of all rows at once, keyed by (row, item, column):
    an item's entries come out in column order, list by list, so the first entry of
    each (row, item, list) run holds the rank, and no list is searched again."""
    n = lists[0].shape[0] if lists else 0
    widths = tuple(int(x.shape[1]) for x in lists)
    col_list, col_rank = _columns(widths)
    n_cols = len(col_list)
    allc = np.concatenate(lists, axis=1) if lists else np.zeros((0, 0), np.int64)
    if n == 1:  # padding (-1) gets negative keys
        stride = 0
        key = allc[0].astype(np.int64) * n_cols + np.arange(n_cols)
    else:
        stride = int(allc.max()) + 1 if allc.size else 0
        code = np.arange(n, dtype=np.int64)[:, None] * stride + allc
        key = np.where(allc >= 0, code * n_cols + np.arange(n_cols), -1).ravel()
    key.sort()
    key = key[np.searchsorted(key, 0) :]
    if not len(key):  # nothing listed
        return np.full((n, 0), -1, np.int64), [np.full((n, 0), np.inf) for _ in lists]
    code, col = np.divmod(key, n_cols)  # code: row · stride + item
    first = np.empty(len(key), bool)  # the first entry of each (row, item)
    first[0] = True
    np.not_equal(code[1:], code[:-1], out=first[1:])
    u_code = code[first]
    lst = col_list[col]
    keep = first.copy()  # the first entry of each (row, item, list)
    np.not_equal(lst[1:], lst[:-1], out=keep[1:])
    keep |= first
    uid = np.searchsorted(u_code, code[keep])  # each kept entry's distinct (row, item)
    if n == 1:
        m = len(u_code)
        R = np.full((len(lists), m), np.inf)
        R[lst[keep], uid] = col_rank[col[keep]]
        return u_code[None, :], [r[None, :] for r in R]
    u_row = u_code // stride
    counts = np.bincount(u_row, minlength=n)
    m = int(counts.max())
    # position of each distinct item in its row (rows ascending, items ascending)
    u_pos = np.arange(len(u_code)) - np.repeat(np.cumsum(counts) - counts, counts)
    out = np.full((n, m), -1, np.int64)
    out[u_row, u_pos] = u_code - u_row * stride
    R3 = np.full((len(lists), n, m), np.inf)
    R3[lst[keep], u_row[uid], u_pos[uid]] = col_rank[col[keep]]
    return out, list(R3)


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
