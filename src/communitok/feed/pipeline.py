"""The For You feed pipeline: sources → scorer → re-ranker → explainer, from a config.

:class:`FeedPipeline` is fitted on a :class:`~.data.Catalogue` and
:class:`~.data.Interactions`; :meth:`FeedPipeline.recommend` serves one viewer (session
state, onboarding interests, visibility labels, explanations, fallback), and
:meth:`FeedPipeline.rank_batch` ranks many viewers at once for offline evaluation with
the same stages. :meth:`FeedPipeline.observe` applies a viewing event to the viewer's
session so the next request reflects it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from ..core.errors import InputError
from ..core.seeds import derive_seed
from .config import FeedConfig
from .content import ContentModel
from .data import Catalogue, Interactions
from .engagement import DurationDebiaser, EngagementWeights, engagement_target
from .explain import Explainer
from .request import build_request, gather, is_dense, union_ranks
from .rerank import ReRanker, VisibilityFilter
from .scorer import FeatureBuilder, Features, LearnedScorer, RRFScorer, Scorer
from .serving import ServeRequest
from .session import InMemorySessionStore, SessionState, SessionStore, SessionUpdater
from .sources import SOURCES, ExplorationSource
from .stages import CandidateSource, FitContext, Reason, RequestBatch, check_n, top_n

SCORERS: dict[str, type[Scorer]] = {"rrf": RRFScorer, "learned": LearnedScorer}


def rrf_scores(
    scorer: RRFScorer, features: FeatureBuilder, items: np.ndarray, scores: dict[str, np.ndarray]
) -> np.ndarray:
    """What ``scorer.predict(features.build(...))`` returns, computed from the sources'
    rank columns alone (the fusion reads nothing else), for all sources at once: the
    serving hot path skips the other features. The same float32 operations as the
    feature path, summed in the same order, so the same scores bit for bit."""
    names = features.source_names_
    out = np.zeros(items.shape, np.float64)
    if not names or not items.size:
        return out.astype(np.float32)
    raw = np.stack([scores[s] for s in names]).astype(np.float32)  # sources × n × m
    fin = np.isfinite(raw)
    missing = ~fin | (items < 0)[None]
    order = np.argsort(np.where(fin, -raw, np.inf), axis=2, kind="stable")
    ranks = np.empty_like(order)  # the inverse permutation: each column's rank
    np.put_along_axis(ranks, order, np.arange(order.shape[2])[None, None, :], axis=2)
    logrank = np.log1p(ranks).astype(np.float32)
    for i, s in enumerate(names):
        if s in features.user_independent_:
            logrank[i] = features._bucket(logrank[i])
    rank = np.expm1(logrank)
    w = np.asarray(
        [1.0 if scorer.weights is None else float(scorer.weights.get(s, 0.0)) for s in names],
        np.float32,
    )
    contrib = np.where(missing, np.float32(0.0), w[:, None, None] / (scorer.k + 1.0 + rank))
    for c in contrib:  # sources in order, as the feature path adds them
        out += c
    return out.astype(np.float32)


#: largest feed one request may ask for
MAX_K = 10_000


@dataclass(frozen=True)
class FeedItem:
    """One served video with its rank, score, explaining source and reason."""

    video_id: str
    rank: int
    score: float
    source: str
    reason: Reason
    exploration: bool = False


@dataclass(frozen=True)
class Feed:
    """A served feed. ``cold_start``: the viewer had no history; ``n_fallback``: items
    filled from the fallback list because the stages left too few."""

    viewer_id: str
    items: tuple[FeedItem, ...]
    cold_start: bool = False
    n_fallback: int = 0

    @property
    def video_ids(self) -> list[str]:
        return [i.video_id for i in self.items]


def _make(
    spec_kind: str, registry: Mapping[str, type[Any]], params: Mapping[str, Any], seed: int
) -> Any:
    if spec_kind not in registry:
        raise InputError(f"unknown kind {spec_kind!r}; known: {sorted(registry)}", field="kind")
    cls = registry[spec_kind]
    kw = dict(params)
    if "seed" in cls.__init__.__code__.co_varnames and "seed" not in kw:
        kw["seed"] = seed
    try:
        return cls(**kw)
    except TypeError as e:
        raise InputError(f"bad parameters for {spec_kind!r}: {e}", field="params") from None


class FeedPipeline:
    """A configured feed (see module docstring). ``sessions`` defaults to in-memory."""

    def __init__(
        self,
        config: FeedConfig | Mapping[str, Any] | None = None,
        *,
        sessions: SessionStore | None = None,
    ) -> None:
        if config is None:
            config = FeedConfig()
        elif isinstance(config, Mapping):
            config = FeedConfig.from_dict(config)
        elif not isinstance(config, FeedConfig):
            raise InputError(
                f"must be a FeedConfig or a mapping, got {type(config).__name__}", field="config"
            )
        self.config = config
        self.sessions: SessionStore = sessions if sessions is not None else InMemorySessionStore()
        self.sources: dict[str, CandidateSource] = {
            s.name: _make(s.kind, SOURCES, s.params, derive_seed(config.seed, s.name))
            for s in config.sources
        }
        self.n_candidates = {s.name: s.n for s in config.sources}
        self.scorer: Scorer = _make(config.scorer.kind, SCORERS, config.scorer.params, config.seed)
        self.reranker = _make("rerank", {"rerank": ReRanker}, config.rerank, config.seed)
        self.explainer = Explainer(config.explore_sources)
        ContentModel(**{**config.content, "seed": config.seed})  # validate early

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        catalogue: Catalogue,
        interactions: Interactions,
        *,
        now: float | None = None,
        debiaser: DurationDebiaser | None = None,
        weights: EngagementWeights | None = None,
    ) -> FeedPipeline:
        """Fit every stage. ``now`` (epoch s) defaults to the latest event time."""
        if interactions.matrix.shape[1] != catalogue.n_videos:
            raise InputError("interactions do not match the catalogue size", field="interactions")
        if now is None:
            ts = (
                interactions.event_ts[np.isfinite(interactions.event_ts)]
                if len(interactions.event_ts)
                else np.zeros(0)
            )
            now = float(ts.max()) if len(ts) and ts.max() > 0 else float("nan")
        content = ContentModel(**{**self.config.content, "seed": self.config.seed}).fit(
            catalogue, interactions
        )
        ctx = FitContext(catalogue, interactions, content, now)
        for src in self.sources.values():
            src.fit(ctx)
        self.features_ = FeatureBuilder().fit(ctx, self.sources)
        explore = [s for s in self.sources.values() if isinstance(s, ExplorationSource)]
        self.reranker.fit(ctx, explore[0].new_creator_video_ if explore else None)
        pop = ctx.popularity
        self.fallback_ = np.lexsort((np.arange(len(pop)), -pop))
        self.ctx_ = ctx
        self.debiaser_ = debiaser
        self.updater_ = SessionUpdater(
            catalogue,
            content.vectors_ if content.has_content_ else None,
            weights,
            debiaser,
            **self.config.session,
        )
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "ctx_"):
            raise InputError("FeedPipeline is not fitted; call fit() first")

    def fit_scorer(self, targets: sp.spmatrix, *, batch_size: int = 512) -> FeedPipeline:
        """Train a learned scorer on held-out engagement: ``targets`` is viewer × video
        (rows as in the fitted interactions), > 0 = engaged. No-op for untrained scorers."""
        self._check_fitted()
        if not isinstance(self.scorer, LearnedScorer):
            return self
        T = sp.csr_matrix(targets, dtype=np.float32)
        if T.shape != self.ctx_.interactions.matrix.shape:
            raise InputError(
                f"has shape {T.shape}, expected {self.ctx_.interactions.matrix.shape}",
                field="targets",
            )
        rows = np.flatnonzero(np.asarray(T.getnnz(axis=1)) > 0)
        feats, labels, weights = [], [], []
        for b, start in enumerate(range(0, len(rows), batch_size)):
            chunk = rows[start : start + batch_size]
            items, f = self.candidate_features(chunk)
            y = gather(T[chunk], items)
            keep, w = self.scorer.sample(y, seed=derive_seed(self.config.seed, "scorer", b))
            keep &= items.reshape(-1) >= 0
            feats.append(f.values.reshape(-1, f.values.shape[-1])[keep])
            labels.append(y.reshape(-1)[keep])
            weights.append(w[keep])
        F = Features(np.concatenate(feats)[:, None, :], self.features_.names_)
        self.scorer.fit(
            F, np.concatenate(labels)[:, None], np.concatenate(weights)[:, None], sampled=True
        )
        return self

    def with_scorer(self, scorer: Scorer) -> FeedPipeline:
        """A shallow copy sharing the fitted sources, re-ranker and session store, with
        another scorer (e.g. an experiment variant that only changes ranking)."""
        if not isinstance(scorer, Scorer):
            raise InputError(f"must be a Scorer, got {type(scorer).__name__}", field="scorer")
        other = copy.copy(self)
        other.scorer = scorer
        return other

    def targets_from_events(
        self, events: pa.Table, *, weights: EngagementWeights | None = None
    ) -> sp.csr_matrix:
        """Scorer targets from a later period's events: the engagement target (duration-
        debiased watch time, likes, shares, follows, comments, minus skips and "not
        interested", see :mod:`.engagement`) summed per (viewer, video), aligned with the
        fitted viewers; events of unknown viewers or videos are dropped."""
        self._check_fitted()
        cat, it = self.ctx_.catalogue, self.ctx_.interactions
        if not isinstance(events, pa.Table) or not {"viewer_id", "video_id"} <= set(
            events.column_names
        ):
            raise InputError("must be an events table with viewer_id and video_id", field="events")
        vid = cat.lookup(events.column("video_id").to_pylist())
        row = np.asarray([it.index.get(str(v), -1) for v in events.column("viewer_id").to_pylist()])
        t = engagement_target(
            events, cat.duration_s[np.maximum(vid, 0)], debiaser=self.debiaser_, weights=weights
        )
        ok = (vid >= 0) & (row >= 0)
        T = sp.csr_matrix((t[ok], (row[ok], vid[ok])), shape=it.matrix.shape, dtype=np.float32)
        T.eliminate_zeros()
        return T

    def candidate_features(self, viewers: np.ndarray) -> tuple[np.ndarray, Features]:
        """Candidates (n × M, -1 padded) of viewer indices and their scorer features."""
        self._check_fitted()
        req = self.build_request(np.asarray(viewers, dtype=np.int64))
        items, scores, _ = self.candidates(req)
        return items, self.features_.build(req, items, scores)

    # ------------------------------------------------------------------ requests
    def build_request(
        self,
        viewers: np.ndarray,
        *,
        states: Sequence[SessionState | None] | None = None,
        interests: Sequence[Sequence[str] | None] | None = None,
        now: float | None = None,
    ) -> RequestBatch:
        """A request batch for viewer indices (-1 = unknown viewer); see
        :func:`.request.build_request`."""
        self._check_fitted()
        return build_request(self.ctx_, viewers, states=states, interests=interests, now=now)

    def candidates(
        self, req: RequestBatch, extra: int = 0
    ) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Union of all sources' candidates: (items n×M, scores per source, rank per source)."""
        got: dict[str, Any] = {}
        dense: dict[str, np.ndarray] = {}
        for label, src in self.sources.items():
            n_s = self.n_candidates[label] + extra
            if is_dense(src):
                s = src.score_all(req).astype(np.float32)
                dense[label] = s
                masked = s.copy()
                ex = req.exclude.tocoo()
                masked[ex.row, ex.col] = -np.inf
                got[label] = top_n(masked, n_s)
            else:
                got[label] = src.candidates(req, n_s)
        items, listed = union_ranks([c.items for c in got.values()])
        scores: dict[str, np.ndarray] = {}
        ranks: dict[str, np.ndarray] = {}
        for label, src in self.sources.items():
            if label in dense:
                s = np.take_along_axis(dense[label], np.maximum(items, 0), 1)
                s[items < 0] = -np.inf
            else:
                s = src.score(req, items)
            scores[label] = s
        for label, rank in zip(got, listed, strict=True):
            ranks[label] = rank
        return items, scores, ranks

    def score(
        self, req: RequestBatch, items: np.ndarray, scores: dict[str, np.ndarray]
    ) -> np.ndarray:
        if type(self.scorer) is RRFScorer and type(self.features_) is FeatureBuilder:
            out = rrf_scores(self.scorer, self.features_, items, scores)
        else:
            f = self.features_.build(req, items, scores)
            out = self.scorer.predict(f).astype(np.float32)
        out[items < 0] = -np.inf
        return out

    def rank_batch(
        self, viewers: np.ndarray, k: int, *, batch_size: int = 512, rerank: bool = False
    ) -> np.ndarray:
        """Top-*k* video indices per viewer index (n × k, -1 padded), for offline evaluation:
        seen videos excluded, the same stages as :meth:`recommend` (re-ranking optional)."""
        k = check_n(k, "k")
        self._check_fitted()
        v = np.asarray(viewers, dtype=np.int64)
        out = np.full((len(v), k), -1, np.int64)
        for start in range(0, len(v), batch_size):
            req = self.build_request(v[start : start + batch_size])
            items, scores, _ = self.candidates(req)
            s = self.score(req, items, scores)
            for r in range(req.n):
                picked = self._pick(items[r], s[r], k, rerank=rerank)
                picked = self._fill(
                    picked,
                    req.exclude.indices[req.exclude.indptr[r] : req.exclude.indptr[r + 1]],
                    k,
                )
                out[start + r, : len(picked)] = picked
        return out

    def _pick(
        self,
        items: np.ndarray,
        s: np.ndarray,
        k: int,
        *,
        rerank: bool,
        allowed: np.ndarray | None = None,
        **kw: Any,
    ) -> np.ndarray:
        ok = (items >= 0) & np.isfinite(s)
        if allowed is not None:
            ok &= allowed
        it, sc = items[ok], s[ok]
        if rerank:
            pos, _ = self.reranker.select(it, sc, k, **kw)
            return it[pos]
        order = np.lexsort((it, -sc))[:k]
        return it[order]

    def _fill(
        self, picked: np.ndarray, exclude: np.ndarray, k: int, allowed: Any = None
    ) -> np.ndarray:
        """*picked* topped up to *k* from the fallback list (most popular first), skipping
        *exclude* and what *allowed* rejects. Reads the list in growing chunks, so the
        usual case looks at about k videos and a feed whose candidates were nearly all
        filtered out still finds the few servable ones."""
        if len(picked) >= k:
            return picked
        bad = np.concatenate([picked, exclude]).astype(np.int64)
        order = self.fallback_
        parts, need, start, step = [picked], k - len(picked), 0, k + len(bad)
        while need > 0 and start < len(order):
            pool = order[start : start + step]
            start, step = start + step, step * 4
            pool = pool[~np.isin(pool, bad)]
            if allowed is not None and len(pool):
                pool = pool[allowed(pool)]
            parts.append(pool[:need])
            need -= len(parts[-1])
        return np.concatenate(parts).astype(np.int64)

    # ------------------------------------------------------------------ serving
    def recommend(
        self,
        viewer_id: str,
        k: int = 20,
        *,
        interests: Sequence[str] | None = None,
        visibility: VisibilityFilter | None = None,
        now: float | None = None,
        mark_served: bool = True,
    ) -> Feed:
        """The feed of one viewer (known, new with onboarding ``interests``, or unknown)."""
        from .serving import serve

        return serve(
            self,
            viewer_id,
            k,
            interests=interests,
            visibility=visibility,
            now=now,
            mark_served=mark_served,
        )

    def recommend_many(
        self,
        requests: Sequence[ServeRequest],
        *,
        visibility: VisibilityFilter | None = None,
        now: float | None = None,
        max_batch: int = 16,
    ) -> list[Feed]:
        """The feeds of several requests (:class:`~.serving.ServeRequest`), in order,
        computed in batches of up to *max_batch*: the same feeds as one
        :meth:`recommend` call after another (two requests of one viewer are served in
        order), at a lower cost per request."""
        from .serving import serve_many

        return serve_many(self, requests, visibility=visibility, now=now, max_batch=max_batch)

    def observe(self, event: Any) -> bool:
        """Apply one viewing event to the viewer's session; False if the video is unknown."""
        self._check_fitted()
        vid = (
            event.get("viewer_id")
            if isinstance(event, Mapping)
            else getattr(event, "viewer_id", None)
        )
        if not isinstance(vid, str) or not vid:
            raise InputError("must be a non-empty string", field="viewer_id")
        state = self.sessions.get(vid) or SessionState(vid)
        ok = self.updater_.apply(state, event)
        if ok:
            self.sessions.put(state)
        return ok
