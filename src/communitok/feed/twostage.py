"""Two-stage training of the feed: sources on the past, the scorer on a later period.

A learned scorer must be trained on engagement its sources did not see, so training has
two periods: ``older`` interactions (what the sources learn from) and a ``recent``
period whose positives are the scorer's labels. Serving refits the sources on both
periods and applies the scorer. So that the scorer's training features look like the
served ones, training is *cross-fitted* over the viewers of the recent period (as in
double machine learning, Chernozhukov et al. 2018): the recent viewers are split into
``folds``; for fold *f* the sources are fitted on the older period plus the recent
events of the *other* folds, and the candidates of fold *f*'s viewers are labelled with
their own recent positives. Every label is thus predicted by sources that never saw
it, and the served pipeline (older + the whole recent period) differs from the
training ones only by one fold's worth of recent events. Recency-aware sources (e.g.
``PopularSource(half_life_days=…)``) see the recent events as "now" in both cases.
Without timestamps (or to stay within a training set), the "recent" period can be a
seeded random share of each viewer's events
(:func:`communitok.evaluation.holdout_split`); recency-aware sources then have nothing
to learn from it and are best left out (see
:func:`communitok.engine.feed_eval.train_holdout`).

- :func:`period_interactions`: two periods of a viewer × video matrix as
  :class:`~.data.Interactions` (older events at time 0, recent ones ``gap_days`` later).
- :func:`candidate_table`: the labelled candidates and scorer features of a fitted
  pipeline; :func:`cross_fit`: the cross-fitted table of every recent viewer.
- :func:`fit_scorer_on_table` / :func:`rank_table`: train and apply a scorer on a table.
- :func:`fit_two_stage`: the whole thing, returning the served pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError
from ..core.seeds import derive_seed, rng
from .config import FeedConfig
from .data import Catalogue, Interactions
from .pipeline import FeedPipeline
from .request import gather
from .scorer import Features, LearnedScorer, Scorer

#: seconds per day
DAY = 86400.0


def period_interactions(
    older: sp.spmatrix,
    recent: sp.spmatrix | None = None,
    *,
    gap_days: float = 1.0,
    viewer_ids: np.ndarray | None = None,
) -> Interactions:
    """Interactions of two periods of a viewer × video matrix: ``older`` events at time
    0 and ``recent`` events ``gap_days`` later (so a pipeline fitted on them takes the
    recent period as "now"). The matrix is their sum; both count as seen."""
    if isinstance(gap_days, bool) or not isinstance(gap_days, int | float) or gap_days <= 0:
        raise InputError(f"must be > 0, got {gap_days!r}", field="gap_days")
    A = sp.csr_matrix(older, dtype=np.float32)
    B = sp.csr_matrix(A.shape, dtype=np.float32) if recent is None else sp.csr_matrix(recent)
    if B.shape != A.shape:
        raise InputError(f"has shape {B.shape}, expected {A.shape}", field="recent")
    B = sp.csr_matrix(B, dtype=np.float32)
    A.eliminate_zeros()
    B.eliminate_zeros()
    base = Interactions.from_matrix(A + B, viewer_ids=viewer_ids)
    if B.nnz == 0:
        return base
    return replace(
        base,
        event_video=np.concatenate([A.indices, B.indices]).astype(np.int64),
        event_ts=np.concatenate([np.zeros(A.nnz), np.full(B.nnz, float(gap_days) * DAY)]),
        event_weight=np.concatenate([A.data, B.data]).astype(np.float64),
    )


def rows_of(M: sp.spmatrix, users: np.ndarray) -> sp.csr_matrix:
    """*M* with only the rows of *users* kept (same shape)."""
    keep = np.zeros(M.shape[0], np.float32)
    keep[np.asarray(users, dtype=np.int64)] = 1.0
    out = sp.csr_matrix(sp.diags(keep) @ sp.csr_matrix(M, dtype=np.float32))
    out.eliminate_zeros()
    return out


def fold_of(n: int, folds: int, seed: int) -> np.ndarray:
    """A seeded, balanced fold number in [0, folds) for each of *n* viewers."""
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise InputError(f"must be an integer >= 2, got {folds!r}", field="folds")
    perm = rng(derive_seed(seed, "folds")).permutation(n)
    out = np.empty(n, np.int64)
    out[perm] = np.arange(n) % folds
    return out


@dataclass(frozen=True, eq=False)
class CandidateTable:
    """Candidates of some viewers, with scorer features and labels.

    users : viewer indices (n). items : candidate videos (n × m, -1 padded).
    features : scorer features (n × m × f). labels : targets (n × m, > 0 = engaged).
    fold : cross-fitting fold per row (-1 when not cross-fitted).
    """

    users: np.ndarray
    items: np.ndarray
    features: Features
    labels: np.ndarray
    fold: np.ndarray

    @property
    def recall(self) -> float:
        """Share of the viewers with at least one positive among their candidates."""
        return float(np.mean((self.labels > 0).any(axis=1))) if len(self.users) else 0.0

    def rows(self, mask: np.ndarray) -> CandidateTable:
        return CandidateTable(
            self.users[mask],
            self.items[mask],
            Features(self.features.values[mask], self.features.names),
            self.labels[mask],
            self.fold[mask],
        )

    @staticmethod
    def stack(tables: list[CandidateTable]) -> CandidateTable:
        """Tables one under the other (candidate lists padded to the widest)."""
        if not tables:
            raise InputError("needs at least one table", field="tables")
        names = tables[0].features.names
        if any(t.features.names != names for t in tables):
            raise InputError("tables have different features", field="tables")
        n = sum(len(t.users) for t in tables)
        m = max(t.items.shape[1] for t in tables)
        items = np.full((n, m), -1, np.int64)
        values = np.full((n, m, len(names)), np.nan, np.float32)
        labels = np.zeros((n, m), np.float32)
        r = 0
        for t in tables:
            w = t.items.shape[1]
            items[r : r + len(t.users), :w] = t.items
            values[r : r + len(t.users), :w] = t.features.values
            labels[r : r + len(t.users), :w] = t.labels
            r += len(t.users)
        return CandidateTable(
            np.concatenate([t.users for t in tables]),
            items,
            Features(values, names),
            labels,
            np.concatenate([t.fold for t in tables]),
        )


def candidate_table(
    pipeline: FeedPipeline,
    users: np.ndarray,
    targets: sp.spmatrix,
    *,
    fold: int = -1,
    batch_size: int = 512,
) -> CandidateTable:
    """The candidates of *users* under a fitted *pipeline*, their scorer features and
    their values in *targets* (viewer × video, rows as in the pipeline's interactions)."""
    users = np.asarray(users, dtype=np.int64)
    T = sp.csr_matrix(targets, dtype=np.float32)
    if T.shape != pipeline.ctx_.interactions.matrix.shape:
        raise InputError(
            f"has shape {T.shape}, expected {pipeline.ctx_.interactions.matrix.shape}",
            field="targets",
        )
    parts = []
    for s in range(0, len(users), batch_size):
        chunk = users[s : s + batch_size]
        items, f = pipeline.candidate_features(chunk)
        parts.append(
            CandidateTable(chunk, items, f, gather(T[chunk], items), np.full(len(chunk), fold))
        )
    if not parts:
        names = pipeline.features_.names_
        return CandidateTable(
            users,
            np.zeros((0, 0), np.int64),
            Features(np.zeros((0, 0, len(names)), np.float32), names),
            np.zeros((0, 0), np.float32),
            np.zeros(0, np.int64),
        )
    return CandidateTable.stack(parts)


def cross_fit(
    config: FeedConfig,
    catalogue: Catalogue,
    targets: sp.spmatrix,
    interactions_without: Callable[[np.ndarray], Interactions],
    *,
    folds: int = 4,
    seed: int = 0,
    log: Callable[[str], Any] | None = None,
) -> CandidateTable:
    """The cross-fitted candidate table of every viewer with a positive in *targets*
    (the recent period, viewer × video). ``interactions_without(viewers)`` returns the
    interactions to fit the sources on when the recent events of *viewers* are held
    out (e.g. ``lambda v: period_interactions(older, rows_of(recent, others(v)))``)."""
    T = sp.csr_matrix(targets, dtype=np.float32)
    users = np.flatnonzero(np.asarray((T > 0).sum(axis=1)).ravel() > 0)
    if len(users) < folds:
        raise InputError(f"needs at least {folds} viewers with a positive", field="targets")
    fold = fold_of(len(users), folds, seed)
    tables = []
    for f in range(folds):
        mine = users[fold == f]
        p = FeedPipeline(config).fit(catalogue, interactions_without(mine))
        t = candidate_table(p, mine, T.multiply(T > 0), fold=f)
        if log is not None:
            log(
                f"fold {f}: {len(mine)} viewers, up to {t.items.shape[1]} candidates, "
                f"positive among them for {t.recall:.3f}"
            )
        tables.append(t)
    return CandidateTable.stack(tables)


def fit_scorer_on_table(scorer: Scorer, table: CandidateTable, *, seed: int = 0) -> Scorer:
    """Fit *scorer* on a candidate table; a :class:`LearnedScorer` with its negative
    sampling (as :meth:`FeedPipeline.fit_scorer`), others unchanged."""
    if not isinstance(scorer, LearnedScorer):
        return scorer
    f = table.features.values.shape[-1]
    y = table.labels.reshape(-1)
    keep, w = scorer.sample(y, seed=derive_seed(seed, "scorer"))
    keep &= table.items.reshape(-1) >= 0
    X = table.features.values.reshape(-1, f)[keep]
    return scorer.fit(
        Features(X[:, None, :], table.features.names),
        y[keep][:, None],
        w[keep][:, None],
        sampled=True,
    )


def rank_table(scorer: Scorer, table: CandidateTable, k: int) -> np.ndarray:
    """Top-*k* candidates per row of *table* by *scorer* (n × k, -1 padded; ties by
    video index, as :meth:`FeedPipeline.rank_batch`)."""
    s = np.asarray(scorer.predict(table.features), dtype=np.float32)
    s = np.where((table.items >= 0) & np.isfinite(s), s, -np.inf)
    order = np.lexsort((table.items, -s), axis=1)[:, :k]
    top = np.take_along_axis(table.items, order, 1)
    top[~np.isfinite(np.take_along_axis(s, order, 1))] = -1
    if top.shape[1] < k:
        top = np.hstack([top, np.full((len(top), k - top.shape[1]), -1, top.dtype)])
    return top


def cross_fit_periods(
    config: FeedConfig,
    catalogue: Catalogue,
    older: sp.spmatrix,
    recent: sp.spmatrix,
    *,
    folds: int = 4,
    gap_days: float = 1.0,
    log: Callable[[str], Any] | None = None,
) -> CandidateTable:
    """:func:`cross_fit` for two periods of a matrix: fold *f*'s sources are fitted on
    :func:`period_interactions` of *older* and the other folds' rows of *recent*."""
    R = sp.csr_matrix(recent, dtype=np.float32)
    users = np.flatnonzero(np.asarray(R.getnnz(axis=1)) > 0)

    def without(held: np.ndarray) -> Interactions:
        return period_interactions(older, rows_of(R, np.setdiff1d(users, held)), gap_days=gap_days)

    return cross_fit(config, catalogue, R, without, folds=folds, seed=config.seed, log=log)


def fit_two_stage(
    config: FeedConfig,
    catalogue: Catalogue,
    older: sp.spmatrix,
    recent: sp.spmatrix,
    *,
    folds: int = 4,
    gap_days: float = 1.0,
    table: CandidateTable | None = None,
    log: Callable[[str], Any] | None = None,
) -> tuple[FeedPipeline, CandidateTable]:
    """Cross-fit the scorer of *config* on the *recent* period (its labels) and return
    the pipeline served after it, with the table it was trained on: sources refitted on
    *older* + *recent*, that scorer. A *table* from :func:`cross_fit_periods` with the
    same config is reused instead of recomputed."""
    if table is None:
        table = cross_fit_periods(
            config, catalogue, older, recent, folds=folds, gap_days=gap_days, log=log
        )
    p = FeedPipeline(config).fit(catalogue, period_interactions(older, recent, gap_days=gap_days))
    p.scorer = fit_scorer_on_table(p.scorer, table, seed=config.seed)
    return p, table
