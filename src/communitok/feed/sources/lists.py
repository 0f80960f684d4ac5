"""Ranked lists and padded memberships: what lets sources skip dense per-request work.

A source whose score is "affinity of the viewer to a key (community, creator) × the
video's weight under that key × the video's quality" only needs, per request, the best
videos of the viewer's few keys: :class:`KeyedLists` keeps, for every key, its videos
sorted by weight × quality, so a request reads the head of a handful of lists and then
scores that pool exactly (:class:`Memberships` gives a video's keys as padded arrays,
vectorised over any batch of videos). With one key per video (the usual community
membership) the head of the lists holds the exact top-n; with overlapping memberships
it is an approximation, measured in ``tests/feed/test_feed_indexed.py``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..stages import drop_excluded, isin_sorted, unique_ints

#: most keys (communities) one request reads lists for: the viewer's strongest ones
MAX_KEYS = 8


class KeyedLists:
    """Per key, its items sorted by ``weight × item_score`` (best first, ties by index);
    only positive products are listed."""

    def __init__(self, key_item: sp.spmatrix, item_score: np.ndarray) -> None:
        m = sp.csr_matrix(key_item, dtype=np.float64)
        m.sum_duplicates()
        n_keys = m.shape[0]
        row = np.repeat(np.arange(n_keys), np.diff(m.indptr))
        s = m.data * np.asarray(item_score, dtype=np.float64)[m.indices]
        keep = s > 0
        row, items, s = row[keep], m.indices[keep], s[keep]
        order = np.lexsort((items, -s, row))
        self.items = items[order].astype(np.int64)
        self.scores = s[order].astype(np.float32)
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=n_keys))])

    @property
    def n_keys(self) -> int:
        return len(self.indptr) - 1

    def head(self, keys: np.ndarray, n: int, excluded: np.ndarray | None = None) -> np.ndarray:
        """Unique items (ascending) among the first *n* non-excluded items of each key's
        list (*excluded* sorted). A list is read further only by as many excluded items
        as its head held, so a viewer with a long history costs little more."""
        parts = self.head_parts(keys, n, excluded)
        if not parts:
            return np.zeros(0, np.int64)
        return unique_ints(np.concatenate(parts))

    def head_parts(
        self, keys: np.ndarray, n: int, excluded: np.ndarray | None = None
    ) -> list[np.ndarray]:
        """What :meth:`head` unites, not yet made unique: arrays that together hold the
        first *n* non-excluded items of each valid key's list. The heads of all keys are
        checked against *excluded* in one search; only a key whose head lost items
        reads its list further."""
        n = int(n)
        spans = []
        indptr = self.indptr
        for k in np.asarray(keys, dtype=np.int64).ravel().tolist():
            if 0 <= k < self.n_keys:
                spans.append((int(indptr[k]), int(indptr[k + 1])))
        if not spans or n <= 0:
            return []
        heads = [self.items[lo : min(lo + n, hi)] for lo, hi in spans]
        if excluded is None or not len(excluded):
            return heads
        allh = heads[0] if len(heads) == 1 else np.concatenate(heads)
        bad = isin_sorted(allh, excluded)
        if not bad.any():
            return [allh]
        parts = [allh[~bad]]
        lost = np.concatenate([[0], np.cumsum(bad)])
        start = 0
        for (lo, hi), h in zip(spans, heads, strict=True):
            end = start + len(h)
            need = int(lost[end] - lost[start])
            start = end
            at = lo + len(h)
            while need > 0 and at < hi:  # the head lost items and the list goes on
                part = self.items[at : min(at + need, hi)]
                kept = drop_excluded(part, excluded)
                parts.append(kept)
                need -= len(kept)
                at += len(part)
        return parts


def union_heads(
    lists: list[tuple[KeyedLists, np.ndarray]], n: int, excluded: np.ndarray | None = None
) -> np.ndarray:
    """``np.union1d`` of ``kl.head(keys, n, excluded)`` over (kl, keys) pairs, with one
    sort for all of them."""
    parts = [p for kl, keys in lists for p in kl.head_parts(keys, n, excluded)]
    if not parts:
        return np.zeros(0, np.int64)
    return unique_ints(np.concatenate(parts))


class Memberships:
    """A video × key weight matrix as padded arrays (``keys`` -1 padded, ``weights``),
    so affinities of many (request, video) pairs are gathered without sparse indexing."""

    def __init__(self, video_key: sp.spmatrix) -> None:
        m = sp.csr_matrix(video_key, dtype=np.float32)
        m.sum_duplicates()
        n, width = m.shape[0], int(np.diff(m.indptr).max(initial=0))
        self.n_keys = m.shape[1]
        self.keys = np.full((n, max(width, 1)), -1, np.int64)
        self.weights = np.zeros((n, max(width, 1)), np.float32)
        row = np.repeat(np.arange(n), np.diff(m.indptr))
        col = np.arange(m.nnz) - m.indptr[row]
        self.keys[row, col] = m.indices
        self.weights[row, col] = m.data

    def affinity(self, viewer_keys: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Σ_key viewer_keys[r, key] · weight[item, key] for items (n × m, -1 → 0);
        *viewer_keys* is dense (n × n_keys)."""
        if not self.n_keys or viewer_keys.shape[1] != self.n_keys:
            return np.zeros(items.shape, np.float32)
        it = np.maximum(items, 0)
        if self.keys.shape[1] == 1 and items.shape[0] == 1:
            # one key per video, one request: the same products without the key axis
            k1 = self.keys[:, 0][it[0]]
            vk1 = np.where(k1 >= 0, viewer_keys[0][np.maximum(k1, 0)], 0.0)
            out1 = (vk1 * self.weights[:, 0][it[0]]).astype(np.float32, copy=False)[None, :]
            out1[items < 0] = 0.0
            return out1
        keys = self.keys[it]  # n × m × width
        w = self.weights[it]
        rows = np.arange(items.shape[0])[:, None, None]
        vk = np.where(keys >= 0, viewer_keys[rows, np.maximum(keys, 0)], 0.0)
        out = (vk * w).sum(axis=2).astype(np.float32)
        out[items < 0] = 0.0
        return out


def best_keys(
    weights: np.ndarray, members: sp.csr_matrix, memberships: Memberships, items: np.ndarray
) -> np.ndarray:
    """Per item, its key (community) with the largest ``weights[key] × membership``,
    the first such key of the item's row on ties, or -1 when no product is positive, the
    item has no key, or *weights* does not match *members* (video × key).

    All items at once from *memberships* (the padded form of *members*, rows in the same
    order) when *members* is canonical and of the same dtype; row by row otherwise."""
    items = np.asarray(items, dtype=np.int64).ravel()
    out = np.full(len(items), -1, np.int64)
    if len(weights) != members.shape[1] or not members.shape[1] or not len(items):
        return out
    if (
        members.has_canonical_format
        and memberships.keys.shape[0] == members.shape[0]
        and memberships.n_keys == members.shape[1]
        and memberships.weights.dtype == members.dtype
    ):
        keys = memberships.keys[items]
        score = np.where(
            keys >= 0, weights[np.maximum(keys, 0)] * memberships.weights[items], -np.inf
        )
        best = np.argmax(score, axis=1)
        has = (score > 0).any(axis=1)
        out[has] = keys[np.flatnonzero(has), best[has]]
        return out
    for j, item in enumerate(items.tolist()):
        lo, hi = members.indptr[item], members.indptr[item + 1]
        cols, vals = members.indices[lo:hi], members.data[lo:hi]
        score = weights[cols] * vals
        if len(cols) and np.any(score > 0):
            out[j] = cols[int(np.argmax(score))]
    return out


def top_keys(weights: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the (at most *limit*) largest positive entries of a dense vector."""
    pos = np.flatnonzero(weights > 0)
    if len(pos) > limit:
        pos = pos[np.argsort(-weights[pos], kind="stable")[:limit]]
    return pos
