"""Stage contracts of the feed pipeline (after LensKit's component model).

Ekstrand, "LensKit for Python: Next-Generation Software for Recommender Systems
Experiments", CIKM 2020. A feed is computed by small named stages:

    CandidateSource(s)  →  Scorer  →  ReRanker  →  Explainer

Every stage is a :class:`Stage`: a ``name``, parameters set in ``__init__`` and
returned by :meth:`Stage.get_params` (so a stage can be rebuilt from configuration),
``fit`` returning ``self`` where it learns something, and learned state in trailing-
underscore attributes. Requests travel in batches (:class:`RequestBatch`) so offline
evaluation and online serving run the same code.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError
from .ann import isin_sorted as isin_sorted  # re-exported for the sources
from .content import ContentModel
from .data import Catalogue, Interactions


@dataclass(frozen=True)
class Reason:
    """Why one item was served: a kind, a sentence, and what it refers to."""

    kind: str
    text: str
    video_id: str | None = None
    community_id: str | None = None
    creator_id: str | None = None


#: reasons built so far, by their fields (see :func:`shared_reason`)
_REASONS: dict[tuple[str, str, str | None, str | None, str | None], Reason] = {}
#: most reasons :func:`shared_reason` remembers before it starts over
MAX_SHARED_REASONS = 65_536


def shared_reason(
    kind: str,
    text: str,
    video_id: str | None = None,
    community_id: str | None = None,
    creator_id: str | None = None,
) -> Reason:
    """``Reason(kind, text, ...)``, built once and shared: reasons are immutable values
    and the same few recur across feeds ("popular in c7", "because you watched v12"),
    so a request looks them up instead of constructing a frozen dataclass per item."""
    key = (kind, text, video_id, community_id, creator_id)
    got = _REASONS.get(key)
    if got is None:
        if len(_REASONS) >= MAX_SHARED_REASONS:
            _REASONS.clear()
        got = _REASONS[key] = Reason(kind, text, video_id, community_id, creator_id)
    return got


@dataclass(frozen=True, eq=False)
class FitContext:
    """What stages learn from: the catalogue, the interactions, the shared content
    model, and the reference time ``now`` (epoch seconds; NaN when data has no time)."""

    catalogue: Catalogue
    interactions: Interactions
    content: ContentModel
    now: float = float("nan")

    @property
    def popularity(self) -> np.ndarray:
        """Number of viewers with a positive interaction, per video."""
        return np.asarray((self.interactions.matrix > 0).sum(axis=0)).ravel().astype(np.float64)

    def freshness(self, half_life_days: float | None) -> np.ndarray:
        """exp(-ln 2 · age / half-life) per video; 1 where age or time is unknown."""
        created = self.catalogue.created_at
        if half_life_days is None or not np.isfinite(self.now):
            return np.ones(len(created))
        age = np.maximum(self.now - created, 0.0) / 86400.0
        return np.where(
            np.isfinite(age), np.exp(-np.log(2) * np.nan_to_num(age) / half_life_days), 1.0
        )


@dataclass(frozen=True, eq=False)
class RequestBatch:
    """What the stages know about a batch of feed requests (one row per request).

    viewers : viewer index in the fitted :class:`~.data.Interactions`, -1 if unknown.
    history : long-term plus session positives (n × n_videos, weights).
    exclude : videos never to serve (seen, "not interested"), n × n_videos, > 0 = excluded.
    communities : viewer → community weights (given, chosen at onboarding, or inferred).
    following : viewer → followed creators (n × n_creators).
    interest : short-term session interest in content space (n × d) or None.
    now : request time, epoch seconds (NaN when unknown).
    cache : per-request values a stage derives once and reuses (e.g. the MF user
        vectors for both candidates and scores); private to this batch.
    """

    viewers: np.ndarray
    history: sp.csr_matrix
    exclude: sp.csr_matrix
    communities: sp.csr_matrix
    following: sp.csr_matrix
    interest: np.ndarray | None = None
    now: float = float("nan")
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return len(self.viewers)

    def excluded(self, row: int) -> np.ndarray:
        """Video indices never to serve to request *row* (sorted, unique)."""
        ex = self.exclude
        if not ex.has_canonical_format:
            ex.sum_duplicates()  # sorts the indices in place, once per batch
        return ex.indices[ex.indptr[row] : ex.indptr[row + 1]]

    def max_excluded(self) -> int:
        """The most excluded videos of any request row (for over-fetching)."""
        return int(np.diff(self.exclude.indptr).max()) if self.n and self.exclude.nnz else 0

    def rows(self, idx: np.ndarray | slice) -> RequestBatch:
        return RequestBatch(
            viewers=self.viewers[idx],
            history=self.history[idx],
            exclude=self.exclude[idx],
            communities=self.communities[idx],
            following=self.following[idx],
            interest=None if self.interest is None else self.interest[idx],
            now=self.now,
        )


@dataclass(frozen=True, eq=False)
class ViewerRow:
    """One request row as plain arrays, for explanations (no sparse indexing per item)."""

    history_items: np.ndarray
    history_weights: np.ndarray
    communities: np.ndarray
    catalogue: Catalogue

    @classmethod
    def of(cls, req: RequestBatch, row: int, catalogue: Catalogue) -> ViewerRow:
        h, c = req.history, req.communities
        lo, hi = h.indptr[row], h.indptr[row + 1]
        comm = np.zeros(c.shape[1], np.float32)
        clo, chi = c.indptr[row], c.indptr[row + 1]
        comm[c.indices[clo:chi]] = c.data[clo:chi]
        return cls(h.indices[lo:hi], h.data[lo:hi], comm, catalogue)


#: empty float32 CSR matrices by shape: what :func:`csr_from_arrays` copies
_CSR_TEMPLATES: dict[tuple[int, int], sp.csr_matrix] = {}
_INT32_MAX = np.iinfo(np.int32).max


def csr_from_arrays(
    data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]
) -> sp.csr_matrix:
    """A canonical float32 CSR matrix (int32 indices) holding the given arrays, which
    the caller guarantees to be canonical already: ``indptr`` of length rows + 1 from 0
    to ``len(indices)``, and each row's column indices sorted, unique and < columns.

    What ``sp.csr_matrix((data, indices, indptr), shape=shape)`` returns, without its
    validation pass (about 20 µs, the dominant cost of the small per-request matrices):
    the matrix is a shallow copy of an empty one of the same shape with the arrays
    swapped in. The arrays are converted to float32 / int32 (not copied when they
    already are: callers pass arrays they own). Falls back to the constructor when the
    indices do not fit in int32."""
    n_rows, n_cols = int(shape[0]), int(shape[1])
    if len(indptr) != n_rows + 1:
        raise InputError(f"has length {len(indptr)}, expected {n_rows + 1}", field="indptr")
    if len(indices) != len(data):
        raise InputError("indices and data differ in length", field="indices")
    if max(n_rows, n_cols, len(indices)) >= _INT32_MAX:
        m = sp.csr_matrix((np.asarray(data, np.float32), indices, indptr), shape=(n_rows, n_cols))
        m.has_canonical_format = True
        return m
    key = (n_rows, n_cols)
    template = _CSR_TEMPLATES.get(key)
    if template is None:
        if len(_CSR_TEMPLATES) >= 256:  # many batch shapes (offline evaluation): start over
            _CSR_TEMPLATES.clear()
        template = _CSR_TEMPLATES[key] = sp.csr_matrix(key, dtype=np.float32)
    m = copy.copy(template)
    m.data = np.asarray(data, dtype=np.float32)
    m.indices = np.asarray(indices, dtype=np.int32)
    m.indptr = np.asarray(indptr, dtype=np.int32)
    m.has_canonical_format = True  # and sorted indices
    return m


def sparse_row(m: sp.csr_matrix, i: int) -> tuple[np.ndarray, np.ndarray]:
    """(column indices, values) of row *i* of a CSR matrix, without building a matrix."""
    lo, hi = m.indptr[i], m.indptr[i + 1]
    return m.indices[lo:hi], m.data[lo:hi]


@dataclass(frozen=True, eq=False)
class Candidates:
    """Top candidates per request: ``items`` (n × m, -1 padded) and ``scores`` (-inf padded)."""

    items: np.ndarray
    scores: np.ndarray


class Stage:
    """Base of every pipeline stage: a name and introspectable parameters."""

    name: ClassVar[str] = "stage"

    def get_params(self) -> dict[str, Any]:
        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self"}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _check_fitted(self, attr: str) -> None:
        if not hasattr(self, attr):
            raise InputError(f"{type(self).__name__} is not fitted; call fit() first")


def top_n(scores: np.ndarray, n: int) -> Candidates:
    """Best *n* columns per row of *scores* (-inf = not a candidate), best first."""
    n_rows, n_cols = scores.shape
    m = min(n, n_cols)
    if n_rows == 1 and m > 0:  # one request: 1-d operations
        row = scores[0]
        part = np.argpartition(-row, m - 1)[:m] if m < n_cols else np.arange(n_cols)
        s = row[part]
        order = np.lexsort((part, -s))
        it, s = part[order].astype(np.int64), s[order].astype(np.float32)
        bad = ~np.isfinite(s)
        it[bad], s[bad] = -1, -np.inf
        return Candidates(it[None, :], s[None, :])
    if m <= 0:
        return Candidates(np.full((n_rows, 0), -1, np.int64), np.zeros((n_rows, 0), np.float32))
    part = (
        np.argpartition(-scores, m - 1, axis=1)[:, :m]
        if m < n_cols
        else np.tile(np.arange(n_cols), (n_rows, 1))
    )
    s = np.take_along_axis(scores, part, 1)
    # ties broken by index, so results do not depend on argpartition internals
    order = np.lexsort((part, -s), axis=1)
    items = np.take_along_axis(part, order, 1).astype(np.int64)
    s = np.take_along_axis(s, order, 1).astype(np.float32)
    items[~np.isfinite(s)] = -1
    s[~np.isfinite(s)] = -np.inf
    return Candidates(items, s)


def top_from_pairs(items: np.ndarray, scores: np.ndarray, n: int) -> Candidates:
    """Best *n* of given (item, score) pairs per row (-inf scores dropped), best first."""
    n_rows = items.shape[0]
    if n_rows == 1:  # one request: 1-d operations
        o = np.lexsort((items[0], -scores[0]))[:n]
        it = items[0][o].astype(np.int64)[None, :]
        sc = scores[0][o].astype(np.float32)[None, :]
        bad = ~np.isfinite(sc)
        it[bad], sc[bad] = -1, -np.inf
        return Candidates(it, sc)
    order = (
        np.lexsort((items, -scores), axis=1)[:, :n]
        if items.shape[1]
        else np.zeros((n_rows, 0), np.int64)
    )
    it = np.take_along_axis(items, order, 1).astype(np.int64)
    sc = np.take_along_axis(scores, order, 1).astype(np.float32)
    it[~np.isfinite(sc)] = -1
    sc[~np.isfinite(sc)] = -np.inf
    return Candidates(it, sc)


#: pools longer than this are cut to their best n before the sort in :func:`pools_top`
PARTITION_MIN = 1024


def pools_top(pools: list[tuple[np.ndarray, np.ndarray]], n: int) -> Candidates:
    """Best *n* (item, score) pairs of each row's pool, best first (ties by index;
    -inf scores dropped); one pool per request row, items unique within a pool."""
    m = min(n, max((len(p[0]) for p in pools), default=0))
    items = np.full((len(pools), m), -1, np.int64)
    scores = np.full((len(pools), m), -np.inf, np.float32)
    for r, (it, sc) in enumerate(pools):
        ok = np.isfinite(sc)
        if not ok.all():
            it, sc = it[ok], sc[ok]
        if len(it) > max(m, PARTITION_MIN):  # else one sort of the pool is cheaper
            part = np.argpartition(-sc, m - 1)[:m]
            # keep every item tied with the m-th best so ties resolve by index
            cut = sc[part].min()
            part = np.flatnonzero(sc >= cut)
            it, sc = it[part], sc[part]
        order = np.lexsort((it, -sc))[:m]
        items[r, : len(order)] = it[order]
        scores[r, : len(order)] = sc[order]
    return Candidates(items, scores)


def unique_ints(items: np.ndarray) -> np.ndarray:
    """``np.unique`` of a 1-d integer array (sorted distinct values), at a fraction of
    its fixed cost on request-sized arrays."""
    a = np.sort(np.asarray(items).ravel())
    if len(a) < 2:
        return a
    keep = np.empty(len(a), bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def drop_excluded(items: np.ndarray, excluded: np.ndarray) -> np.ndarray:
    """*items* without those in the sorted array *excluded*."""
    if not len(excluded) or not len(items):
        return items
    pos = np.searchsorted(excluded, items)
    np.minimum(pos, len(excluded) - 1, out=pos)
    return items[excluded[pos] != items]


def check_n(n: object, field: str = "n") -> int:
    """*n* as a positive int (an :class:`InputError` naming *field* otherwise)."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise InputError(f"must be an integer, got {n!r}", field=field)
    if n <= 0:
        raise InputError(f"must be >= 1, got {n}", field=field)
    return int(n)


class CandidateSource(Stage):
    """A stage that proposes videos for each request and scores given videos.

    Subclasses implement :meth:`fit` and :meth:`score_all` (dense scores over the
    catalogue, -inf where the source has nothing to say); sources over very large
    catalogues override :meth:`candidates` and :meth:`score` instead.
    """

    name: ClassVar[str] = "source"
    #: default reason kind for explanations
    reason_kind: ClassVar[str] = "source"
    #: True when scores do not depend on the viewer (e.g. popularity); the scorer then
    #: sees only a bucketed rank, see :class:`~.scorer.FeatureBuilder`
    user_independent: ClassVar[bool] = False

    def fit(self, ctx: FitContext) -> CandidateSource:
        raise NotImplementedError

    def score_all(self, req: RequestBatch) -> np.ndarray:
        raise NotImplementedError

    def score(self, req: RequestBatch, items: np.ndarray) -> np.ndarray:
        """Scores of *items* (n × m, -1 = padding → -inf)."""
        s = self.score_all(req)
        out = np.take_along_axis(s, np.maximum(items, 0), 1).astype(np.float32)
        out[items < 0] = -np.inf
        return out

    def candidates(self, req: RequestBatch, n: int) -> Candidates:
        n = check_n(n)
        s = self.score_all(req).astype(np.float32, copy=True)
        ex = req.exclude.tocoo()
        s[ex.row, ex.col] = -np.inf
        return top_n(s, n)

    def explain(self, viewer: ViewerRow, item: int) -> Reason:
        """Why *item* is proposed to *viewer* (one sentence)."""
        return Reason(self.reason_kind, f"suggested by {self.name}")

    def explain_many(self, viewer: ViewerRow, items: np.ndarray) -> list[Reason]:
        """:meth:`explain` for several items (sources batch their arithmetic here)."""
        return [self.explain(viewer, int(i)) for i in items]
