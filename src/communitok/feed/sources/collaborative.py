"""Collaborative candidate sources: EASE item-item and implicit matrix factorisation."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from ...core.errors import InputError
from ..ann import EmbeddingIndex
from ..ease import EASE
from ..mf import ImplicitMF
from ..stages import (
    Candidates,
    CandidateSource,
    FitContext,
    Reason,
    RequestBatch,
    ViewerRow,
    check_n,
    top_from_pairs,
)


def watched_reason(
    viewer: ViewerRow,
    item: int,
    contrib: np.ndarray | None,
    vectors: np.ndarray | None,
    kind: str = "watched",
) -> Reason:
    """ "Because you watched X": X = the history video that contributes most to *item*."""
    hist, w = viewer.history_items, viewer.history_weights
    if len(hist) == 0:
        return Reason(kind, "recommended for viewers like you")
    if contrib is None and vectors is not None:
        contrib = w * (vectors[hist] @ vectors[item])
    if contrib is None or not np.any(contrib > 0):
        return Reason(kind, "similar to videos you watched")
    x = int(hist[int(np.argmax(contrib))])
    vid = str(viewer.catalogue.video_ids[x])
    return Reason(kind, f"because you watched {vid}", video_id=vid)


class EASESource(CandidateSource):
    """Item-item EASE over the viewer's history (Steck 2019), optionally with content side
    information (Jeunen et al. 2020) so new videos get scores too; see :mod:`..ease`.

    Parameters: ``l2`` (λ), ``side_weight`` (α on the shared content vectors),
    ``max_items`` (cap on modelled items)."""

    name: ClassVar[str] = "ease"
    reason_kind: ClassVar[str] = "watched"

    def __init__(self, l2: float = 40.0, side_weight: float = 0.0, max_items: int = 20_000) -> None:
        EASE(l2, side_weight, max_items)  # validates
        self.l2 = l2
        self.side_weight = side_weight
        self.max_items = max_items

    def fit(self, ctx: FitContext) -> EASESource:
        side = ctx.content.vectors_ if (self.side_weight > 0 and ctx.content.has_content_) else None
        self.model_ = EASE(self.l2, self.side_weight, self.max_items).fit(
            ctx.interactions.matrix, side=side
        )
        return self

    def score_all(self, req: RequestBatch) -> np.ndarray:
        self._check_fitted("model_")
        s = self.model_.score(req.history)
        s[np.asarray(req.history.getnnz(axis=1)) == 0] = -np.inf
        return s

    def explain(self, viewer: ViewerRow, item: int) -> Reason:
        contrib = self.model_.contributions(viewer.history_items, viewer.history_weights, item)
        return watched_reason(viewer, item, contrib, None)


class MFSource(CandidateSource):
    """Implicit ALS / BPR (Hu et al. 2008; Rendle et al. 2009) with fold-in of new history
    and optional faiss retrieval (HNSW or IVF) of the top candidates.

    Parameters: those of :class:`..mf.ImplicitMF`, plus ``ann`` ("hnsw", "ivf", "flat"
    or None for dense scoring; excluded videos are over-fetched and dropped)."""

    name: ClassVar[str] = "mf"
    reason_kind: ClassVar[str] = "watched"

    def __init__(
        self,
        method: str = "als",
        factors: int = 64,
        regularization: float = 1.0,
        alpha: float = 10.0,
        iterations: int = 15,
        learning_rate: float = 0.01,
        ann: str | None = None,
        seed: int = 0,
    ) -> None:
        ImplicitMF(method, factors, regularization, alpha, iterations, learning_rate, 1, seed)
        if ann is not None and ann not in ("hnsw", "ivf", "flat"):
            raise InputError(f"must be 'hnsw', 'ivf', 'flat' or None, got {ann!r}", field="ann")
        self.method = method
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.ann = ann
        self.seed = seed

    def fit(self, ctx: FitContext) -> MFSource:
        self.model_ = ImplicitMF(
            self.method,
            self.factors,
            self.regularization,
            self.alpha,
            self.iterations,
            self.learning_rate,
            1,
            self.seed,
        ).fit(ctx.interactions.matrix)
        self.train_ = ctx.interactions.matrix
        self.index_ = (
            EmbeddingIndex(self.ann, seed=self.seed).fit(self.model_.item_factors_)
            if self.ann
            else None
        )
        return self

    def set_factors(self, user_factors: np.ndarray, item_factors: np.ndarray) -> MFSource:
        """Use given embeddings (e.g. trained elsewhere, or synthetic in benchmarks)."""
        m = ImplicitMF(
            self.method, user_factors.shape[1], self.regularization, self.alpha, seed=self.seed
        )
        m.user_factors_ = np.ascontiguousarray(user_factors, dtype=np.float32)
        m.item_factors_ = np.ascontiguousarray(item_factors, dtype=np.float32)
        Y = m.item_factors_.astype(np.float64)
        m._yty = Y.T @ Y
        self.model_ = m
        shape = (len(user_factors), len(item_factors))
        if getattr(self, "train_", None) is None or self.train_.shape != shape:
            self.train_ = sp.csr_matrix(shape, dtype=np.float32)
        self.index_ = (
            EmbeddingIndex(self.ann, seed=self.seed).fit(item_factors) if self.ann else None
        )
        return self

    def user_vectors(self, req: RequestBatch) -> np.ndarray:
        """Learned vectors for known viewers; fold-in where the history has new videos.
        The last request's vectors are reused (candidates and scores of one request)."""
        self._check_fitted("model_")
        last = getattr(self, "_last", None)
        if last is not None and last[0] is req:
            return last[1]
        U = self._user_vectors(req)
        self._last = (req, U)
        return U

    def _user_vectors(self, req: RequestBatch) -> np.ndarray:
        U = np.zeros((req.n, self.model_.item_factors_.shape[1]), np.float32)
        known = (req.viewers >= 0) & (req.viewers < self.model_.user_factors_.shape[0])
        U[known] = self.model_.user_factors_[req.viewers[known]]
        H = req.history
        base = sp.csr_matrix(H.shape, dtype=np.float32)
        if known.any():
            rows = np.where(known, req.viewers, 0)
            base = self.train_[rows] if self.train_.shape[0] else base
            base = sp.diags(known.astype(np.float32)) @ base
        new = H - H.multiply(base > 0)
        redo = np.flatnonzero(
            (np.asarray(new.getnnz(axis=1)) > 0) | (~known & (np.asarray(H.getnnz(axis=1)) > 0))
        )
        if len(redo):
            U[redo] = self.model_.fold_in(H[redo])
        return U

    def score_all(self, req: RequestBatch) -> np.ndarray:
        U = self.user_vectors(req)
        s = self.model_.score(U)
        s[~np.any(U != 0, axis=1)] = -np.inf
        return s

    def score(self, req: RequestBatch, items: np.ndarray) -> np.ndarray:
        U = self.user_vectors(req)
        V = self.model_.item_factors_[np.maximum(items, 0)]
        s = np.einsum("uf,umf->um", U, V).astype(np.float32)
        s[(items < 0) | ~np.any(U != 0, axis=1)[:, None]] = -np.inf
        return s

    def candidates(self, req: RequestBatch, n: int) -> Candidates:
        n = check_n(n)
        if self.index_ is None:
            return super().candidates(req, n)
        U = self.user_vectors(req)
        n_ex = int(np.asarray(req.exclude.getnnz(axis=1)).max()) if req.exclude.nnz else 0
        # at most n_ex of the results can be excluded, so n + n_ex always yields n
        scores, ids = self.index_.search(U, n + n_ex)
        no_vec = ~np.any(U != 0, axis=1)
        for r in range(req.n):
            ex = req.exclude.indices[req.exclude.indptr[r] : req.exclude.indptr[r + 1]]
            bad = np.isin(ids[r], ex) | (ids[r] < 0) | no_vec[r]
            scores[r, bad] = -np.inf
        return top_from_pairs(ids, scores, n)

    def explain(self, viewer: ViewerRow, item: int) -> Reason:
        if len(viewer.history_items) == 0:
            return watched_reason(viewer, item, None, None)
        V = self.model_.item_factors_
        Vh = V[viewer.history_items]
        cos = (Vh @ V[item]) / (np.linalg.norm(Vh, axis=1) * np.linalg.norm(V[item]) + 1e-9)
        return watched_reason(viewer, item, viewer.history_weights * cos, None)
