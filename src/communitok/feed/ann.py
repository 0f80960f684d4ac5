"""Approximate nearest-neighbour retrieval over embeddings with faiss.

HNSW: Malkov & Yashunin, "Efficient and robust approximate nearest neighbor search using
Hierarchical Navigable Small World graphs", TPAMI 2018. IVF: Jégou, Douze & Schmid,
"Product quantization for nearest neighbor search", TPAMI 2011 (inverted file part).
Library: Douze et al., "The Faiss library", 2024. Inner-product metric throughout, so
the same index serves dot-product (MF) and cosine (normalised content) retrieval.
:func:`exact_top_k` is the brute-force reference used to measure recall.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import InputError
from ..core.seeds import rng

_KINDS = ("flat", "hnsw", "ivf")


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
        scores, ids = self.index_.search(q, k)
        scores = np.where(ids < 0, -np.inf, scores).astype(np.float32)
        return scores, ids.astype(np.int64)
