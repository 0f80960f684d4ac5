"""Implicit-feedback matrix factorisation through the ``implicit`` library.

- ALS: Hu, Koren & Volinsky, "Collaborative Filtering for Implicit Feedback Datasets",
  ICDM 2008 (confidence c = α·r, conjugate-gradient solver of Takács et al. 2011).
- BPR: Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI 2009.

Viewers who were not in the training matrix, or whose session added new positives, get
a vector by *folding in* their history: one exact ALS user step against the fixed item
factors (for BPR, a ridge regression onto the item factors). That is what makes the
model react to the latest events without retraining.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError
from ..core.seeds import rng

_METHODS = ("als", "bpr")


class ImplicitMF:
    """Matrix factorisation of a viewer × video matrix (implicit ALS or BPR).

    Parameters
    ----------
    method : "als" or "bpr".
    factors : embedding size.
    regularization : L2 penalty λ.
    alpha : ALS confidence scale (c = α·r).
    iterations : training epochs.
    learning_rate : BPR step size.
    num_threads : threads for training (1 keeps BPR bit-reproducible).
    seed : random seed.

    Learned state: ``user_factors_`` (n_users × f) and ``item_factors_`` (n_items × f),
    float32 numpy arrays.
    """

    def __init__(
        self,
        method: str = "als",
        factors: int = 64,
        regularization: float = 1.0,
        alpha: float = 10.0,
        iterations: int = 15,
        learning_rate: float = 0.01,
        num_threads: int = 1,
        seed: int = 0,
    ) -> None:
        if method not in _METHODS:
            raise InputError(f"must be one of {_METHODS}, got {method!r}", field="method")
        for name, v in (
            ("factors", factors),
            ("iterations", iterations),
            ("num_threads", num_threads),
        ):
            if not isinstance(v, int) or v < 1:
                raise InputError(f"must be an integer >= 1, got {v!r}", field=name)
        for name, x in (
            ("regularization", regularization),
            ("alpha", alpha),
            ("learning_rate", learning_rate),
        ):
            if not isinstance(x, int | float) or not x > 0:
                raise InputError(f"must be > 0, got {x!r}", field=name)
        rng(seed)  # validates
        self.method = method
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.num_threads = num_threads
        self.seed = seed

    def fit(self, X: sp.spmatrix) -> ImplicitMF:
        from threadpoolctl import threadpool_limits

        X = sp.csr_matrix(X, dtype=np.float32)
        n_users, n_items = X.shape
        if X.nnz == 0 or n_items < 2:
            # nothing to factorise: zero vectors, every score ties at 0
            self.user_factors_ = np.zeros((n_users, self.factors), np.float32)
            self.item_factors_ = np.zeros((n_items, self.factors), np.float32)
            return self
        # import before limiting threads: the limit applies to BLAS libraries loaded so far
        from implicit.cpu.als import AlternatingLeastSquares
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=".*BLAS is configured to use", category=RuntimeWarning
            )
            if self.method == "als":
                model = AlternatingLeastSquares(
                    factors=self.factors,
                    regularization=self.regularization,
                    alpha=self.alpha,
                    iterations=self.iterations,
                    num_threads=self.num_threads,
                    random_state=self.seed,
                )
            else:
                model = BayesianPersonalizedRanking(
                    factors=self.factors,
                    learning_rate=self.learning_rate,
                    regularization=self.regularization,
                    iterations=self.iterations,
                    num_threads=self.num_threads,
                    random_state=self.seed,
                )
            model.fit(X, show_progress=False)
        self.user_factors_ = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        Y = self.item_factors_.astype(np.float64)
        self._yty = Y.T @ Y
        return self

    def fold_in(self, H: sp.spmatrix) -> np.ndarray:
        """User vectors for history rows *H* (n × n_items) against the fixed item factors."""
        if not hasattr(self, "item_factors_"):
            raise InputError("ImplicitMF is not fitted; call fit() first")
        H = sp.csr_matrix(H, dtype=np.float64)
        f = self.item_factors_.shape[1]
        out = np.zeros((H.shape[0], f), np.float32)
        if not hasattr(self, "_yty"):
            return out
        reg = self.regularization * np.eye(f)
        for r in range(H.shape[0]):
            lo, hi = H.indptr[r], H.indptr[r + 1]
            if lo == hi:
                continue
            idx, val = H.indices[lo:hi], H.data[lo:hi]
            Yi = self.item_factors_[idx].astype(np.float64)
            if self.method == "als":
                c = self.alpha * val
                A = self._yty + (Yi.T * (c - 1.0)) @ Yi + reg
                b = Yi.T @ c
            else:
                A = Yi.T @ Yi + reg
                b = Yi.T @ val
            out[r] = np.linalg.solve(A, b)
        return out

    def score(self, U: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Dot-product scores of user vectors *U* against all (or the given) items."""
        V = self.item_factors_ if items is None else self.item_factors_[items]
        return np.asarray(U @ V.T, dtype=np.float32)
