"""Scorers: turn the candidates of all sources into one ranking score.

:class:`FeatureBuilder` assembles, for every (request, candidate) pair, each source's
score (NaN where the source has no opinion), its gap to the best candidate of that
source in the request and log(1 + its rank among the candidates), plus video features
(log popularity, "new" flag, content popularity prior, age) and viewer features
(history length).

- :class:`RRFScorer` needs no training: reciprocal rank fusion (Cormack, Clarke &
  Büttcher, SIGIR 2009) of the sources' ranks.
- :class:`LearnedScorer` is trained offline on labelled candidates (held-out positives,
  or the duration-debiased engagement target of served impressions, see
  :mod:`.engagement`): gradient-boosted trees (scikit-learn's histogram GBDT, after
  LightGBM, Ke et al. 2017) or logistic regression, seeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from ..core.errors import InputError
from ..core.seeds import rng
from .stages import FitContext, RequestBatch, Stage


@dataclass(frozen=True, eq=False)
class Features:
    """Candidate features: ``values`` (n_requests × m × f) with column ``names``."""

    values: np.ndarray
    names: tuple[str, ...]

    def column(self, name: str) -> np.ndarray:
        return self.values[:, :, self.names.index(name)]


class FeatureBuilder:
    """Features of (request, candidate) pairs; see the module docstring.

    Video-level features are *bucketed* (``item_bins`` buckets per unit of log
    popularity / content prior, log age in whole units) and sources whose scores do not
    depend on the viewer (``user_independent``, e.g. popularity) contribute only their
    bucketed rank. A scorer trained on a later period then learns calibration ("new
    videos with a high content prior are hot"), not which individual videos were
    popular in that period, which would be memorising the training labels.
    """

    def __init__(self, item_bins: float = 2.0) -> None:
        if not isinstance(item_bins, int | float) or item_bins <= 0:
            raise InputError(f"must be > 0, got {item_bins!r}", field="item_bins")
        self.item_bins = item_bins

    def _bucket(self, x: np.ndarray) -> np.ndarray:
        return (np.round(x * self.item_bins) / self.item_bins).astype(np.float32)

    def fit(self, ctx: FitContext, sources: dict[str, Any]) -> FeatureBuilder:
        pop = ctx.popularity
        self.log_pop_ = self._bucket(np.log1p(pop))
        self.is_new_ = (pop == 0).astype(np.float32)
        prior = (
            ctx.content.prior_.astype(np.float32)
            if ctx.content.has_content_
            else np.zeros(len(pop), np.float32)
        )
        self.prior_ = self._bucket(prior)
        self.created_ = ctx.catalogue.created_at
        self.source_names_ = list(sources)
        self.user_independent_ = {
            k for k, s in sources.items() if getattr(s, "user_independent", False)
        }
        names = []
        for s in self.source_names_:
            names += (
                [f"{s}_logrank"]
                if s in self.user_independent_
                else [f"{s}", f"{s}_gap", f"{s}_logrank"]
            )
        names += ["log_pop", "is_new", "content_prior", "log_age_days", "viewer_log_history"]
        self.names_ = tuple(names)
        return self

    def build(
        self, req: RequestBatch, items: np.ndarray, source_scores: dict[str, np.ndarray]
    ) -> Features:
        if not hasattr(self, "names_"):
            raise InputError("FeatureBuilder is not fitted; call fit() first")
        n, m = items.shape
        it = np.maximum(items, 0)
        cols = []
        for s in self.source_names_:
            raw = source_scores[s].astype(np.float32)
            raw = np.where(np.isfinite(raw), raw, np.nan)
            ranks = np.argsort(
                np.argsort(-np.nan_to_num(raw, nan=-np.inf), axis=1, kind="stable"), axis=1
            )
            logrank = np.where(np.isnan(raw), np.nan, np.log1p(ranks)).astype(np.float32)
            if s in self.user_independent_:
                cols.append(self._bucket(logrank))
                continue
            with np.errstate(all="ignore"):
                best = np.nanmax(np.where(np.isnan(raw), -np.inf, raw), axis=1, keepdims=True)
            cols += [raw, raw - np.where(np.isfinite(best), best, np.nan), logrank]
        if np.isfinite(req.now):
            age = np.floor(np.log1p(np.maximum(req.now - self.created_[it], 0.0) / 86400.0))
        else:
            age = np.full((n, m), np.nan)
        hist = np.log1p(np.asarray(req.history.getnnz(axis=1), dtype=np.float32))
        cols += [
            self.log_pop_[it],
            self.is_new_[it],
            self.prior_[it],
            age.astype(np.float32),
            np.repeat(hist[:, None], m, axis=1),
        ]
        values = np.stack(cols, axis=-1).astype(np.float32)
        values[items < 0] = np.nan
        return Features(values, self.names_)


class Scorer(Stage):
    """A stage mapping :class:`Features` to one score per candidate (n × m)."""

    name: ClassVar[str] = "scorer"

    def fit(
        self, features: Features, labels: np.ndarray, weights: np.ndarray | None = None
    ) -> Scorer:
        return self

    def predict(self, features: Features) -> np.ndarray:
        raise NotImplementedError


class RRFScorer(Scorer):
    """Reciprocal rank fusion: Σ_sources w_s / (k + rank_s); a source contributes only
    for candidates it scored. ``weights`` maps source name → weight (default 1)."""

    name: ClassVar[str] = "rrf"

    def __init__(self, k: float = 60.0, weights: dict[str, float] | None = None) -> None:
        if not isinstance(k, int | float) or k < 0:
            raise InputError(f"must be >= 0, got {k!r}", field="k")
        if weights is not None and (
            not isinstance(weights, dict)
            or any(not isinstance(v, int | float) for v in weights.values())
        ):
            raise InputError("must map source names to numbers", field="weights")
        self.k = k
        self.weights = weights

    def predict(self, features: Features) -> np.ndarray:
        n, m, _ = features.values.shape
        out = np.zeros((n, m), np.float64)
        for name in features.names:
            if not name.endswith("_logrank"):
                continue
            rank = np.expm1(features.column(name))  # the source's 0-based rank (NaN: none)
            name = name.removesuffix("_logrank")
            w = 1.0 if self.weights is None else float(self.weights.get(name, 0.0))
            out += np.where(np.isnan(rank), 0.0, w / (self.k + 1.0 + np.nan_to_num(rank)))
        return out.astype(np.float32)


class _Classifier(Protocol):
    """What LearnedScorer needs of its fitted scikit-learn estimator."""

    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...


class LearnedScorer(Scorer):
    """A classifier of "engaged" over candidate features, trained offline.

    Parameters
    ----------
    model : "gbdt" (histogram gradient boosting) or "logistic".
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2 : GBDT settings
        (``l2`` is the inverse C for logistic regression).
    negative_rate : share of unlabelled candidates kept as negatives when fitting.
    n_threads : OpenMP threads for fitting and scoring (1 avoids oversubscription and
        spin-waiting when requests are served from several threads or the CPU is shared).
    seed : seed of the negative sampling and the model.
    """

    name: ClassVar[str] = "learned"

    def __init__(
        self,
        model: str = "gbdt",
        max_iter: int = 200,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 50,
        l2: float = 1.0,
        negative_rate: float = 0.1,
        n_threads: int = 1,
        seed: int = 0,
    ) -> None:
        if not isinstance(n_threads, int) or n_threads < 1:
            raise InputError(f"must be an integer >= 1, got {n_threads!r}", field="n_threads")
        if model not in ("gbdt", "logistic"):
            raise InputError(f"must be 'gbdt' or 'logistic', got {model!r}", field="model")
        for name, v in (
            ("max_iter", max_iter),
            ("max_leaf_nodes", max_leaf_nodes),
            ("min_samples_leaf", min_samples_leaf),
        ):
            if not isinstance(v, int) or v < (2 if name == "max_leaf_nodes" else 1):
                raise InputError(
                    f"must be an integer >= {2 if name == 'max_leaf_nodes' else 1}, got {v!r}",
                    field=name,
                )
        for name, x in (("learning_rate", learning_rate), ("l2", l2)):
            if not isinstance(x, int | float) or x <= 0:
                raise InputError(f"must be > 0, got {x!r}", field=name)
        if not isinstance(negative_rate, int | float) or not 0 < negative_rate <= 1:
            raise InputError(f"must be in (0, 1], got {negative_rate!r}", field="negative_rate")
        rng(seed)
        self.model = model
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2 = l2
        self.negative_rate = negative_rate
        self.n_threads = n_threads
        self.seed = seed

    def sample(self, labels: np.ndarray, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(keep mask, weight) of a negative sample: all positives (label > 0) and explicit
        negatives (< 0, e.g. skips), ``negative_rate`` of the unlabelled rest, re-weighted
        by 1 / rate so probabilities keep their scale."""
        lab = np.asarray(labels, dtype=np.float64).reshape(-1)
        labelled = lab != 0
        keep = labelled | (
            rng(self.seed if seed is None else seed).random(len(lab)) < self.negative_rate
        )
        return keep, np.where(labelled, 1.0, 1.0 / self.negative_rate)

    def fit(
        self,
        features: Features,
        labels: np.ndarray,
        weights: np.ndarray | None = None,
        *,
        sampled: bool = False,
    ) -> LearnedScorer:
        """Fit on candidate features and labels (> 0 = engaged). Unless ``sampled``
        (the caller already drew negatives and set weights), negatives are sampled."""
        X = features.values.reshape(-1, features.values.shape[-1])
        y = np.asarray(labels, dtype=np.float64).reshape(-1) > 0
        w = (
            np.ones(len(y))
            if weights is None
            else np.asarray(weights, dtype=np.float64).reshape(-1)
        )
        keep = ~np.all(np.isnan(X), axis=1)
        if not sampled:
            k, sw = self.sample(y)
            keep &= k
            w = w * sw
        X, y, w = X[keep], y[keep], w[keep]
        if y.all() or not y.any():
            raise InputError("needs both engaged and non-engaged candidates", field="labels")
        # drop columns without information (all missing or constant)
        with np.errstate(all="ignore"):
            lo, hi = (
                np.nanmin(np.where(np.isnan(X), np.inf, X), axis=0),
                np.nanmax(np.where(np.isnan(X), -np.inf, X), axis=0),
            )
        self.columns_ = np.flatnonzero(np.isfinite(lo) & np.isfinite(hi) & (hi > lo))
        if len(self.columns_) == 0:
            raise InputError("no informative features", field="features")
        X = X[:, self.columns_]
        with threadpool_limits(self.n_threads):
            self.estimator_ = self._fit_estimator(X, y, w)
        self.names_ = features.names
        return self

    def _fit_estimator(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> _Classifier:
        if self.model == "gbdt":
            from sklearn.ensemble import HistGradientBoostingClassifier

            est = HistGradientBoostingClassifier(
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes,
                min_samples_leaf=self.min_samples_leaf,
                l2_regularization=self.l2,
                random_state=self.seed,
            )
            est.fit(X, y, sample_weight=w)
        else:
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            self.fill_ = (
                np.nan_to_num(np.nanmin(np.where(np.isfinite(X), X, np.nan), axis=0), nan=0.0) - 1.0
            )
            X = np.where(np.isnan(X), self.fill_, X)
            est = make_pipeline(
                StandardScaler(),
                LogisticRegression(C=1.0 / self.l2, max_iter=1000, random_state=self.seed),
            )
            est.fit(X, y, logisticregression__sample_weight=w)
        return est

    def predict(self, features: Features) -> np.ndarray:
        self._check_fitted("estimator_")
        if features.names != self.names_:
            raise InputError(
                "features differ from those the scorer was fitted on", field="features"
            )
        n, m, f = features.values.shape
        X = features.values.reshape(-1, f)[:, self.columns_]
        if self.model == "logistic":
            X = np.where(np.isnan(X), self.fill_, X)
        if len(X) == 0:
            return np.zeros((n, m), np.float32)
        with threadpool_limits(self.n_threads):
            p = self.estimator_.predict_proba(X)[:, 1]
        return p.reshape(n, m).astype(np.float32)
