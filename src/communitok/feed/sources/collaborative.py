"""Collaborative candidate sources: EASE item-item and implicit matrix factorisation."""

from __future__ import annotations

from functools import cached_property
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from ..ann import EmbeddingIndex, resolve_ann, search_excluding
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
    csr_from_arrays,
    shared_reason,
    top_from_pairs,
    top_n,
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
        return shared_reason(kind, "recommended for viewers like you")
    if contrib is None and vectors is not None:
        contrib = w * (vectors[hist] @ vectors[item])
    if contrib is None or not np.any(contrib > 0):
        return shared_reason(kind, "similar to videos you watched")
    x = int(hist[int(np.argmax(contrib))])
    vid = str(viewer.catalogue.video_ids[x])
    return shared_reason(kind, f"because you watched {vid}", video_id=vid)


def watched_reasons(
    viewer: ViewerRow, items: np.ndarray, contrib: np.ndarray | None, kind: str = "watched"
) -> list[Reason]:
    """:func:`watched_reason` for many items at once: *contrib* is history × items."""
    hist = viewer.history_items
    if len(hist) == 0:
        return [shared_reason(kind, "recommended for viewers like you")] * len(items)
    if contrib is None or not contrib.size:
        return [shared_reason(kind, "similar to videos you watched")] * len(items)
    best = np.argmax(contrib, axis=0)
    has = np.any(contrib > 0, axis=0)
    ids = viewer.catalogue.video_ids
    out = []
    for h, x in zip(has.tolist(), hist[best].tolist(), strict=True):
        if h:
            vid = str(ids[x])
            out.append(shared_reason(kind, f"because you watched {vid}", video_id=vid))
        else:
            out.append(shared_reason(kind, "similar to videos you watched"))
    return out


class EASESource(CandidateSource):
    """Item-item EASE over the viewer's history (Steck 2019), optionally with content side
    information (Jeunen et al. 2020) so new videos get scores too; see :mod:`..ease`.

    Parameters: ``l2`` (λ), ``side_weight`` (α on the shared content vectors),
    ``max_items`` (cap on modelled items: the weights are a dense max_items² matrix and
    fitting inverts it, so the cap bounds memory and training time).

    Requests are scored over the modelled videos only (history × weights, then a top-n
    among them): a request costs O(history × max_items) whatever the catalogue size.
    Videos outside the model get no EASE score (-inf)."""

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
        n_items = ctx.catalogue.n_videos
        self.position_ = np.full(n_items, -1, np.int64)
        self.position_[self.model_.items_] = np.arange(len(self.model_.items_))
        return self

    def score_all(self, req: RequestBatch) -> np.ndarray:
        self._check_fitted("model_")
        s = self.model_.score(req.history)
        s[np.asarray(req.history.getnnz(axis=1)) == 0] = -np.inf
        return s

    def _modelled(self, req: RequestBatch) -> np.ndarray:
        """Scores over the modelled videos (n × max_items; -inf rows without history)."""
        key = ("ease", id(self))
        S = req.cache.get(key)
        if S is None:
            self._check_fitted("model_")
            H = req.history
            pos = self.position_[H.indices]
            keep = pos >= 0
            # positions keep the order of the (sorted) item indices: still a valid CSR
            if H.shape[0] == 1:
                indptr = np.array([0, np.count_nonzero(keep)])
            else:
                kept = np.concatenate([[0], np.cumsum(keep)])
                indptr = kept[H.indptr] - kept[H.indptr[0]]
            Hm = csr_from_arrays(
                H.data[keep].astype(np.float32),
                pos[keep].astype(np.int32),
                indptr,
                (H.shape[0], len(self.model_.items_)),
            )
            S = np.asarray(Hm @ self.model_.B_, dtype=np.float32)
            S[np.diff(H.indptr) == 0] = -np.inf
            req.cache[key] = S
        return S

    def score(self, req: RequestBatch, items: np.ndarray) -> np.ndarray:
        S = self._modelled(req)
        pos = self.position_[np.maximum(items, 0)]
        out = np.take_along_axis(S, np.maximum(pos, 0), 1) if S.shape[1] else np.zeros(items.shape)
        out = np.asarray(out, dtype=np.float32)
        out[(items < 0) | (pos < 0)] = -np.inf
        return out

    def candidates(self, req: RequestBatch, n: int) -> Candidates:
        n = check_n(n)
        S = self._modelled(req).copy()
        for r in range(req.n):
            pos = self.position_[req.excluded(r)]
            S[r, pos[pos >= 0]] = -np.inf
        c = top_n(S, n)
        items = np.where(c.items >= 0, self.model_.items_[np.maximum(c.items, 0)], -1)
        return Candidates(items.astype(np.int64), c.scores)

    def explain(self, viewer: ViewerRow, item: int) -> Reason:
        contrib = self.model_.contributions(viewer.history_items, viewer.history_weights, item)
        return watched_reason(viewer, item, contrib, None)

    def explain_many(self, viewer: ViewerRow, items: np.ndarray) -> list[Reason]:
        hist = viewer.history_items
        hp = self.position_[hist]
        ip = self.position_[np.asarray(items, dtype=np.int64)]
        C = np.zeros((len(hist), len(ip)), np.float32)
        ok_h, ok_i = hp >= 0, ip >= 0
        if ok_h.all() and ok_i.all():  # (plain gathers: the same entries as np.ix_)
            C[:] = viewer.history_weights[:, None] * self.model_.B_[hp][:, ip]
        elif ok_h.any() and ok_i.any():
            sub = self.model_.B_[np.ix_(hp[ok_h], ip[ok_i])]
            C[np.ix_(ok_h, ok_i)] = viewer.history_weights[ok_h, None] * sub
        return watched_reasons(viewer, items, C)


class MFSource(CandidateSource):
    """Implicit ALS / BPR (Hu et al. 2008; Rendle et al. 2009) with fold-in of new history
    and optional faiss retrieval (HNSW or IVF) of the top candidates.

    Parameters: those of :class:`..mf.ImplicitMF`, plus ``ann`` ("auto": an HNSW index
    from ``ann_min_items`` videos on, exact dot products below; "hnsw", "ivf", "flat",
    or None for exact scoring; excluded videos are over-fetched and dropped)."""

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
        ann: str | None = "auto",
        ann_min_items: int = 20_000,
        seed: int = 0,
    ) -> None:
        ImplicitMF(method, factors, regularization, alpha, iterations, learning_rate, 1, seed)
        resolve_ann(ann, ann_min_items, 0)  # validates
        self.method = method
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.ann = ann
        self.ann_min_items = ann_min_items
        self.seed = seed

    def _index(self, item_factors: np.ndarray) -> EmbeddingIndex | None:
        self.ann_ = resolve_ann(self.ann, self.ann_min_items, len(item_factors))
        return EmbeddingIndex(self.ann_, seed=self.seed).fit(item_factors) if self.ann_ else None

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
        self.train_ = sp.csr_matrix(ctx.interactions.matrix)
        self.index_ = self._index(self.model_.item_factors_)
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
        self.index_ = self._index(m.item_factors_)
        return self

    def user_vectors(self, req: RequestBatch) -> np.ndarray:
        """Learned vectors for known viewers; fold-in where the history has new videos
        (computed once per request: candidates and scores share them)."""
        self._check_fitted("model_")
        key = ("mf_users", id(self))
        U = req.cache.get(key)
        if U is None:
            U = req.cache[key] = self._user_vectors(req)
        return U

    def _user_vectors(self, req: RequestBatch) -> np.ndarray:
        U = np.zeros((req.n, self.model_.item_factors_.shape[1]), np.float32)
        n_known = min(self.model_.user_factors_.shape[0], self.train_.shape[0])
        known = (req.viewers >= 0) & (req.viewers < n_known)
        U[known] = self.model_.user_factors_[req.viewers[known]]
        H, T = req.history, self.train_
        redo = []
        for r in range(req.n):
            hist = H.indices[H.indptr[r] : H.indptr[r + 1]]
            if not len(hist):
                continue
            if not known[r]:
                redo.append(r)
                continue
            v = req.viewers[r]
            base = T.indices[T.indptr[v] : T.indptr[v + 1]]
            if len(hist) == len(base) and np.array_equal(hist, base):
                continue  # the history the model was trained on (no session additions)
            if len(hist) > len(base) or not np.isin(hist, base).all():
                redo.append(r)  # the session added videos the model has not seen
        if redo:
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
        U = self.user_vectors(req)
        no_vec = ~np.any(U != 0, axis=1)
        if self.index_ is None:
            s = self.model_.score(U)
            s[no_vec] = -np.inf
            for r in range(req.n):
                s[r, req.excluded(r)] = -np.inf
            return top_n(s, n)
        excluded = [req.excluded(r) for r in range(req.n)]
        scores, ids = search_excluding(self.index_, U, n, excluded)
        scores[no_vec] = -np.inf
        return top_from_pairs(ids, scores, n)

    @cached_property
    def _norms(self) -> list[np.ndarray]:
        """[item vectors, their norms] once computed (a cache: never stored)."""
        return []

    def item_norms(self) -> np.ndarray:
        """Euclidean norm of every item vector, computed once per set of vectors: the
        same values, row by row, as ``np.linalg.norm`` of any subset of the rows."""
        self._check_fitted("model_")
        V, got = self.model_.item_factors_, self._norms
        if not got or got[0] is not V:
            got[:] = [V, np.linalg.norm(V, axis=1)]
        return got[1]

    def explain(self, viewer: ViewerRow, item: int) -> Reason:
        if len(viewer.history_items) == 0:
            return watched_reason(viewer, item, None, None)
        V = self.model_.item_factors_
        Vh = V[viewer.history_items]
        cos = (Vh @ V[item]) / (np.linalg.norm(Vh, axis=1) * np.linalg.norm(V[item]) + 1e-9)
        return watched_reason(viewer, item, viewer.history_weights * cos, None)

    def explain_many(self, viewer: ViewerRow, items: np.ndarray) -> list[Reason]:
        if len(viewer.history_items) == 0:
            return watched_reasons(viewer, items, None)
        V, hist = self.model_.item_factors_, viewer.history_items
        it = np.asarray(items, dtype=np.int64)
        Vh, Vi = V[hist], V[it]
        n = self.item_norms()
        norms = n[hist][:, None] * n[it][None, :]
        cos = (Vh @ Vi.T) / (norms + 1e-9)
        return watched_reasons(viewer, items, viewer.history_weights[:, None] * cos)
