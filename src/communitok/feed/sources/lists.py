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

from ..stages import drop_excluded

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
        """Unique items among the first *n* non-excluded items of each key's list
        (*excluded* sorted). A list is read further only by as many excluded items as
        its head held, so a viewer with a long history costs little more."""
        parts = []
        for k in np.asarray(keys, dtype=np.int64):
            if not 0 <= k < self.n_keys:
                continue
            lo, hi = int(self.indptr[k]), int(self.indptr[k + 1])
            take = n
            while True:
                part = self.items[lo : min(lo + take, hi)]
                kept = part if excluded is None else drop_excluded(part, excluded)
                if len(kept) >= n or lo + take >= hi:
                    break
                take = n + (len(part) - len(kept))  # skip past the excluded ones seen
            parts.append(kept[:n])
        if not parts:
            return np.zeros(0, np.int64)
        return np.unique(np.concatenate(parts))


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
        keys = self.keys[it]  # n × m × width
        w = self.weights[it]
        rows = np.arange(items.shape[0])[:, None, None]
        vk = np.where(keys >= 0, viewer_keys[rows, np.maximum(keys, 0)], 0.0)
        out = (vk * w).sum(axis=2).astype(np.float32)
        out[items < 0] = 0.0
        return out


def top_keys(weights: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the (at most *limit*) largest positive entries of a dense vector."""
    pos = np.flatnonzero(weights > 0)
    if len(pos) > limit:
        pos = pos[np.argsort(-weights[pos], kind="stable")[:limit]]
    return pos
