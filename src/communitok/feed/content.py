"""Content vectors of videos: dense features plus hashtags, sound, creator and communities.

A new video has no interactions, so collaborative models cannot place it; its content
can. :class:`ContentModel` turns what the catalogue knows about each video into one
L2-normalised vector:

- dense features (e.g. the 128-d image and audio embeddings of the TikTok benchmark),
  standardised per column and L2-normalised per block, so each modality counts as set;
- sparse metadata (hashtags, sound, creator, community memberships) as TF-IDF-weighted
  one-hot columns, reduced with truncated SVD (Halko, Martinsson & Tropp 2011) when wide.

Viewers are placed in the same space by the weighted mean of the videos they engaged
with (a Rocchio-style profile; Rocchio 1971). ``prior_`` is a *content popularity prior*:
a ridge regression from a video's content vector to log(1 + interactions), fitted on
videos that have interactions and predicted for all, so a new video's expected appeal
can be estimated from how similar-looking videos did (cf. CB2CF, Barkan et al. 2019).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError
from ..core.seeds import rng
from .data import Catalogue, Interactions


def _l2_rows(a: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(a, axis=1, keepdims=True)
    return np.divide(a, n, out=np.zeros_like(a), where=n > 0)


def _onehot(codes: np.ndarray, n_cols: int) -> sp.csr_matrix:
    ok = codes >= 0
    return sp.csr_matrix(
        (np.ones(ok.sum(), np.float32), (np.flatnonzero(ok), codes[ok])), shape=(len(codes), n_cols)
    )


class ContentModel:
    """Content vectors and a content popularity prior (see module docstring).

    Parameters
    ----------
    blocks : column widths of the dense feature blocks (default: one block).
    block_weights : weight per block (default 1 each).
    hashtag_weight, sound_weight, creator_weight, community_weight : weights of the
        sparse metadata groups (0 drops a group).
    n_components : SVD size of the sparse part when it is wider than this.
    prior_l2 : ridge penalty of the popularity prior.
    seed : seed of the SVD.

    Learned state: ``vectors_`` (n_videos × d, unit rows or zero), ``prior_``
    (n_videos, predicted log(1 + interactions); 0 when nothing to learn from).
    """

    def __init__(
        self,
        blocks: tuple[int, ...] | None = None,
        block_weights: tuple[float, ...] | None = None,
        hashtag_weight: float = 1.0,
        sound_weight: float = 0.5,
        creator_weight: float = 0.5,
        community_weight: float = 0.5,
        n_components: int = 32,
        prior_l2: float = 1.0,
        seed: int = 0,
    ) -> None:
        if blocks is not None and (
            not blocks or any(not isinstance(b, int) or b < 1 for b in blocks)
        ):
            raise InputError(f"must be positive integers, got {blocks!r}", field="blocks")
        if block_weights is not None and (blocks is None or len(block_weights) != len(blocks)):
            raise InputError("needs one weight per block", field="block_weights")
        for name, v in (
            ("hashtag_weight", hashtag_weight),
            ("sound_weight", sound_weight),
            ("creator_weight", creator_weight),
            ("community_weight", community_weight),
        ):
            if not isinstance(v, int | float) or v < 0:
                raise InputError(f"must be >= 0, got {v!r}", field=name)
        if not isinstance(n_components, int) or n_components < 1:
            raise InputError(f"must be an integer >= 1, got {n_components!r}", field="n_components")
        if not isinstance(prior_l2, int | float) or prior_l2 <= 0:
            raise InputError(f"must be > 0, got {prior_l2!r}", field="prior_l2")
        rng(seed)
        self.blocks = blocks
        self.block_weights = block_weights
        self.hashtag_weight = hashtag_weight
        self.sound_weight = sound_weight
        self.creator_weight = creator_weight
        self.community_weight = community_weight
        self.n_components = n_components
        self.prior_l2 = prior_l2
        self.seed = seed

    def _dense(self, features: np.ndarray) -> np.ndarray:
        F = np.asarray(features, dtype=np.float32)
        blocks = self.blocks or (F.shape[1],)
        if sum(blocks) != F.shape[1]:
            raise InputError(
                f"sum to {sum(blocks)}, features have {F.shape[1]} columns", field="blocks"
            )
        weights = self.block_weights or (1.0,) * len(blocks)
        F = (F - F.mean(0)) / (F.std(0) + 1e-6)
        parts, start = [], 0
        for width, w in zip(blocks, weights, strict=True):
            parts.append(w * _l2_rows(F[:, start : start + width]))
            start += width
        return np.hstack(parts)

    def _sparse(self, cat: Catalogue) -> np.ndarray | None:
        groups = []
        for w, m in (
            (self.hashtag_weight, cat.hashtags),
            (self.sound_weight, _onehot(cat.sound, len(cat.sound_ids))),
            (self.creator_weight, _onehot(cat.creator, len(cat.creator_ids))),
            (self.community_weight, cat.communities),
        ):
            if w > 0 and m.shape[1] and m.nnz:
                m = sp.csr_matrix(m, dtype=np.float32)
                df = np.asarray((m > 0).sum(axis=0)).ravel()
                idf = np.log((1 + m.shape[0]) / (1 + df)) + 1.0
                m = sp.csr_matrix(m.multiply(idf[None, :]))
                norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
                m = sp.diags(np.divide(w, norms, out=np.zeros_like(norms), where=norms > 0)) @ m
                groups.append(m)
        if not groups:
            return None
        S = sp.hstack(groups).tocsr()
        if S.shape[1] <= self.n_components:
            return S.toarray().astype(np.float32)
        from sklearn.decomposition import TruncatedSVD

        k = min(self.n_components, min(S.shape) - 1)
        if k < 1:
            return S.toarray().astype(np.float32)
        svd = TruncatedSVD(n_components=k, random_state=self.seed)
        return svd.fit_transform(S).astype(np.float32)

    def fit(self, catalogue: Catalogue, interactions: Interactions | None = None) -> ContentModel:
        parts = []
        if catalogue.features is not None and catalogue.features.shape[1]:
            parts.append(self._dense(catalogue.features))
        sparse = self._sparse(catalogue)
        if sparse is not None:
            parts.append(sparse)
        n = catalogue.n_videos
        V = np.hstack(parts) if parts else np.zeros((n, 1), np.float32)
        self.vectors_ = np.ascontiguousarray(_l2_rows(V.astype(np.float32)))
        self.has_content_ = bool(parts)
        self.prior_ = np.zeros(n, np.float32)
        if interactions is not None and parts and n:
            pop = np.asarray((interactions.matrix > 0).sum(axis=0)).ravel().astype(np.float64)
            warm = pop > 0
            if warm.sum() >= 2:
                A = self.vectors_[warm].astype(np.float64)
                y = np.log1p(pop[warm])
                mu = y.mean()
                coef = np.linalg.solve(A.T @ A + self.prior_l2 * np.eye(A.shape[1]), A.T @ (y - mu))
                self.prior_ = (self.vectors_ @ coef + mu).astype(np.float32)
        return self

    def profile(self, H: sp.spmatrix) -> np.ndarray:
        """Unit-length viewer vectors: weighted mean of the content of *H*'s videos."""
        if not hasattr(self, "vectors_"):
            raise InputError("ContentModel is not fitted; call fit() first")
        if not (isinstance(H, sp.csr_matrix) and H.dtype == np.float32):
            H = sp.csr_matrix(H, dtype=np.float32)
        if H.shape[0] <= 8:  # a few requests: gather rows, no sparse product
            out = np.zeros((H.shape[0], self.vectors_.shape[1]), np.float32)
            for r in range(H.shape[0]):
                lo, hi = H.indptr[r], H.indptr[r + 1]
                if hi > lo:
                    out[r] = H.data[lo:hi] @ self.vectors_[H.indices[lo:hi]]
            return _l2_rows(out)
        sums = np.asarray(H.sum(axis=1)).ravel()
        inv = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
        return _l2_rows(np.asarray(sp.diags(inv) @ H @ self.vectors_, dtype=np.float32))
