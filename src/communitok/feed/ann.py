"""Approximate nearest-neighbour retrieval over embeddings with faiss.

HNSW: Malkov & Yashunin, "Efficient and robust approximate nearest neighbor search using
Hierarchical Navigable Small World graphs", TPAMI 2018. IVF: Jégou, Douze & Schmid,
"Product quantization for nearest neighbor search", TPAMI 2011 (inverted file part).
Library: Douze et al., "The Faiss library", 2024. Inner-product metric throughout, so
the same index serves dot-product (MF) and cosine (normalised content) retrieval.
:func:`exact_top_k` is the brute-force reference used to measure recall.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InputError
from ..core.seeds import rng


def isin_sorted(items: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``np.isin(items, ref)`` for a sorted *ref* (binary search; no ``np.isin`` fixed
    cost, which exceeds the search itself on request-sized arrays)."""
    items = np.asarray(items)
    if not len(ref) or not items.size:
        return np.zeros(items.shape, bool)
    pos = np.searchsorted(ref, items)
    np.minimum(pos, len(ref) - 1, out=pos)
    return ref[pos] == items


_KINDS = ("flat", "hnsw", "ivf")
#: where ``ann="auto"`` switches from exact scoring to an HNSW index: below it one
#: matrix-vector product over the catalogue costs about as much as an index search
ANN_MIN_ITEMS = 20_000


def resolve_ann(ann: str | None, min_items: int, n_items: int) -> str | None:
    """The index kind a source uses for *n_items* videos: *ann* itself, or for "auto"
    "hnsw" from *min_items* videos on and None (exact) below; validates both settings."""
    if ann is not None and ann != "auto" and ann not in _KINDS:
        raise InputError(f"must be 'auto', {', '.join(map(repr, _KINDS))} or None", field="ann")
    if isinstance(min_items, bool) or not isinstance(min_items, int) or min_items < 1:
        raise InputError(f"must be an integer >= 1, got {min_items!r}", field="ann_min_items")
    if ann == "auto":
        return "hnsw" if n_items >= min_items else None
    return ann


def exact_top_k(queries: np.ndarray, items: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force top-*k* by inner product: (scores, ids), each n_queries × k, best first."""
    q = np.ascontiguousarray(queries, dtype=np.float32)
    v = np.ascontiguousarray(items, dtype=np.float32)
    k = int(min(k, len(v)))
    if k <= 0 or len(q) == 0:
        return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
    s = q @ v.T
    top = np.argpartition(-s, k - 1, axis=1)[:, :k]
    ts = np.take_along_axis(s, top, 1)
    order = np.argsort(-ts, axis=1, kind="stable")
    return np.take_along_axis(ts, order, 1), np.take_along_axis(top, order, 1).astype(np.int64)


def search_excluding(
    index: EmbeddingIndex, queries: np.ndarray, n: int, excluded: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Top-*n* (scores, ids) per query with each row's *excluded* ids (sorted) removed
    (-inf / -1 padded). Searches with a modest over-fetch first and again, deeper, only
    for the rows that came back short: a viewer with a long history does not make every
    search deep."""
    n_items = getattr(index, "n_items_", 0)
    extra = max(n // 2, 8)
    k = min(n + min(max((len(e) for e in excluded), default=0), extra), n_items)
    scores, ids = index.search(queries, k)
    scores = np.array(scores, dtype=np.float32)  # written to below
    bad = ids < 0
    short = []
    for r, ex in enumerate(excluded):
        if len(ex):
            bad[r] |= isin_sorted(ids[r], ex)
        if ids.shape[1] - int(np.count_nonzero(bad[r])) < n and k < min(n + len(ex), n_items):
            short.append(r)
    scores[bad] = -np.inf
    if not short and len(ids):  # the usual case: every row found n
        return scores, np.asarray(ids, dtype=np.int64)
    rows_s, rows_i = list(scores), list(ids)
    for r in short:
        deep = min(n + len(excluded[r]), n_items)
        s2, i2 = index.search(queries[r : r + 1], deep)
        bad = (i2[0] < 0) | isin_sorted(i2[0], excluded[r])
        rows_s[r], rows_i[r] = np.where(bad, -np.inf, s2[0]), i2[0]
    width = max((len(x) for x in rows_i), default=0)
    out_s = np.full((len(rows_i), width), -np.inf, np.float32)
    out_i = np.full((len(rows_i), width), -1, np.int64)
    for r, (s_, i_) in enumerate(zip(rows_s, rows_i, strict=True)):
        out_s[r, : len(s_)], out_i[r, : len(i_)] = s_, i_
    return out_s, out_i


def recall_vs_exact(approx_ids: np.ndarray, exact_ids: np.ndarray) -> float:
    """Mean share of the exact top-k that the approximate search returned."""
    if exact_ids.size == 0:
        return 1.0
    hits = [
        len(set(a[a >= 0].tolist()) & set(e.tolist())) / max(len(e), 1)
        for a, e in zip(approx_ids, exact_ids, strict=True)
    ]
    return float(np.mean(hits))


class EmbeddingIndex:
    """A faiss inner-product index over item vectors.

    Parameters
    ----------
    kind : "hnsw" (graph, default), "ivf" (inverted file) or "flat" (exact).
    hnsw_m : HNSW links per node.
    ef_construction, ef_search : HNSW build / search breadth.
    nlist, nprobe : IVF cells and cells probed (nlist defaults to ≈ 4·√n).
    num_threads : faiss OpenMP threads.
    seed : seed of the IVF k-means.
    """

    def __init__(
        self,
        kind: str = "hnsw",
        hnsw_m: int = 32,
        ef_construction: int = 80,
        ef_search: int = 64,
        nlist: int | None = None,
        nprobe: int = 16,
        num_threads: int = 1,
        seed: int = 0,
    ) -> None:
        if kind not in _KINDS:
            raise InputError(f"must be one of {_KINDS}, got {kind!r}", field="kind")
        for name, v in (
            ("hnsw_m", hnsw_m),
            ("ef_construction", ef_construction),
            ("ef_search", ef_search),
            ("nprobe", nprobe),
            ("num_threads", num_threads),
        ):
            if not isinstance(v, int) or v < 1:
                raise InputError(f"must be an integer >= 1, got {v!r}", field=name)
        if nlist is not None and (not isinstance(nlist, int) or nlist < 1):
            raise InputError(f"must be an integer >= 1, got {nlist!r}", field="nlist")
        rng(seed)
        self.kind = kind
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self.nlist = nlist
        self.nprobe = nprobe
        self.num_threads = num_threads
        self.seed = seed

    def fit(self, vectors: np.ndarray) -> EmbeddingIndex:
        import faiss

        v = np.ascontiguousarray(vectors, dtype=np.float32)
        if v.ndim != 2:
            raise InputError("must be a 2-d array", field="vectors")
        faiss.omp_set_num_threads(self.num_threads)
        n, d = v.shape
        kind = self.kind if n >= 2 else "flat"
        index: Any
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(d, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = self.ef_construction
            index.hnsw.efSearch = self.ef_search
        elif kind == "ivf":
            nlist = self.nlist or max(1, min(n // 39, int(4 * np.sqrt(n))))
            quant = faiss.IndexFlatIP(d)
            index = faiss.IndexIVFFlat(quant, d, nlist, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = int(self.seed % (2**31))
            index.train(v)
            index.nprobe = min(self.nprobe, nlist)
        else:
            index = faiss.IndexFlatIP(d)
        if n:
            index.add(v)
        self.index_ = index
        self.n_items_ = n
        self.dim_ = d
        return self

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-*k* (scores, ids) per query, best first; ids -1 / scores -inf pad short rows."""
        if not hasattr(self, "index_"):
            raise InputError("EmbeddingIndex is not fitted; call fit() first")
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if q.shape[1] != self.dim_:
            raise InputError(f"has dimension {q.shape[1]}, expected {self.dim_}", field="queries")
        k = int(min(k, self.n_items_))
        if k <= 0 or len(q) == 0:
            return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
        import faiss

        faiss.omp_set_num_threads(self.num_threads)  # also after loading a saved index
        scores, ids = self.index_.search(q, k)
        scores = scores.astype(np.float32, copy=False)
        scores[ids < 0] = -np.inf
        return scores, ids.astype(np.int64, copy=False)
