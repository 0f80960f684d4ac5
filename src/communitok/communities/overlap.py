"""Overlapping memberships in the spirit of SimClusters (Satuluri et al. 2020, "SimClusters:
Community-Based Representations for Heterogeneous Recommendations at Twitter", KDD).

* **videos**: a video belongs to the communities of its (non-stop) hashtags, sound and
  creator, each weighted by the item's layer weight; weights sum to 1 per video.
* **KnownFor** (creators, hashtags, sounds): the spread of the item's videos over
  communities; the primary community is the detected label for hashtags and sounds and
  the largest share of the videos for creators.
* **InterestedIn** (viewers): viewer × video engagement times video memberships,
  normalised per viewer — a viewer belongs to several communities with weights.

Every matrix is pruned to weights ≥ ``min_weight`` and at most ``top_k`` per member,
then renormalised, as SimClusters does to keep the representations sparse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from ..graph import Bipartite


@dataclass(frozen=True, eq=False)
class Memberships:
    """Sparse member × community weights (rows sum to 1 or 0) plus primary communities."""

    kind: str
    members: np.ndarray
    weights: sp.csr_matrix
    #: primary community per member (-1: none)
    primary: np.ndarray

    def to_arrow(self) -> pa.Table:
        """Long table: ``member_kind, member_id, community_id, weight, is_primary`` plus
        ``video_id`` / ``creator_id`` (the member id on video / creator rows, else null) so
        that readers keyed by video or creator can use the table as it is."""
        coo = self.weights.tocoo()
        ids = pa.array(self.members[coo.row].astype(str), pa.string())
        none = pa.nulls(coo.nnz, pa.string())
        return pa.table(
            {
                "member_kind": pa.array([self.kind] * coo.nnz, pa.string()),
                "member_id": ids,
                "community_id": coo.col.astype(np.int64),
                "weight": coo.data.astype(np.float64),
                "is_primary": self.primary[coo.row] == coo.col,
                "video_id": ids if self.kind == "video" else none,
                "creator_id": ids if self.kind == "creator" else none,
            },
            schema=MEMBER_SCHEMA,
        )

    def counts(self, n_communities: int, *, primary_only: bool = False) -> np.ndarray:
        """Members per community (with any kept weight, or only as primary)."""
        if primary_only:
            p = self.primary[self.primary >= 0]
            return np.bincount(p, minlength=n_communities)[:n_communities]
        w = self.weights.tocsc()
        return np.diff(w.indptr)[:n_communities] if w.shape[1] else np.zeros(n_communities, int)


MEMBER_SCHEMA = pa.schema(
    [
        ("member_kind", pa.string()),
        ("member_id", pa.string()),
        ("community_id", pa.int64()),
        ("weight", pa.float64()),
        ("is_primary", pa.bool_()),
        ("video_id", pa.string()),
        ("creator_id", pa.string()),
    ]
)


def prune(m: sp.spmatrix, min_weight: float, top_k: int) -> sp.csr_matrix:
    """Row-normalise, drop weights < *min_weight*, keep *top_k* per row, renormalise."""
    m = _normalise(sp.csr_matrix(m, dtype=np.float64))
    m.data[m.data < min_weight] = 0.0
    m.eliminate_zeros()
    if top_k and m.nnz:
        counts = np.diff(m.indptr)
        if counts.max() > top_k:
            row = np.repeat(np.arange(m.shape[0]), counts)
            order = np.lexsort((-m.data, row))
            rank = np.arange(len(row)) - np.searchsorted(row[order], row[order], side="left")
            keep = np.zeros(len(row), dtype=bool)
            keep[order[rank < top_k]] = True
            m.data[~keep] = 0.0
            m.eliminate_zeros()
    return _normalise(m)


def _normalise(m: sp.csr_matrix) -> sp.csr_matrix:
    s = np.asarray(m.sum(axis=1)).ravel()
    s[s == 0] = 1.0
    return (sp.diags(1.0 / s) @ m).tocsr()


def _primary(m: sp.csr_matrix) -> np.ndarray:
    out = np.full(m.shape[0], -1, dtype=np.int64)
    if m.nnz:
        has = np.diff(m.indptr) > 0
        out[has] = np.asarray(m[has].argmax(axis=1)).ravel()
    return out


def item_onehot(item_ids: np.ndarray, labels: dict[str, int], k: int) -> sp.csr_matrix:
    """items × communities one-hot of the detected item labels (zero rows: unassigned)."""
    rows, cols = [], []
    for i, x in enumerate(item_ids):
        c = labels.get(str(x), -1)
        if c >= 0:
            rows.append(i)
            cols.append(c)
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(item_ids), k))


def video_memberships(
    incidence: Bipartite,
    labels: dict[str, int],
    k: int,
    *,
    kind_weights: dict[str, float] | None = None,
    min_weight: float = 0.1,
    top_k: int = 5,
) -> Memberships:
    """Videos × communities from their items' communities (see module docstring)."""
    kw = kind_weights or {"creator": 1.0, "hashtag": 1.0, "sound": 1.0, "effect": 0.5}
    col_w = np.asarray([kw.get(str(x), 1.0) for x in incidence.col_kinds], dtype=float)
    m = incidence.matrix @ sp.diags(col_w) @ item_onehot(incidence.cols, labels, k)
    m = prune(m, min_weight, top_k)
    return Memberships("video", incidence.rows, m, _primary(m))


def known_for(
    incidence: Bipartite,
    videos: Memberships,
    labels: dict[str, int],
    k: int,
    kind: str,
    *,
    min_weight: float = 0.1,
    top_k: int = 5,
) -> Memberships:
    """Items of *kind* (``creator``, ``hashtag``…) × communities: their videos' spread,
    with the item's detected community (when it has one) as primary."""
    cols = np.flatnonzero(incidence.col_kinds == kind)
    ids = incidence.cols[cols]
    spread = incidence.matrix[:, cols].T @ videos.weights
    m = prune(spread, min_weight, top_k)
    primary = _primary(m)
    own = np.asarray([labels.get(str(x), -1) for x in ids], dtype=np.int64)
    if kind != "creator":
        # hashtags and sounds define the communities: their detected label is primary
        primary = np.where(own >= 0, own, primary)
    else:
        # a creator is known for where most of their videos are (their own label is one
        # of the items of each video); measured better than the graph label alone
        primary = np.where(primary >= 0, primary, own)
    # the primary community is always a kept membership
    fix = sp.csr_matrix(
        (np.ones(int((primary >= 0).sum())), (np.flatnonzero(primary >= 0), primary[primary >= 0])),
        shape=m.shape,
    )
    m = _normalise((m + fix.multiply(min_weight)).tocsr())
    names = np.asarray([str(x).split(":", 1)[1] for x in ids], dtype=object)
    return Memberships(kind, names, m, primary)


def interested_in(
    engagement: Bipartite, videos: Memberships, *, min_weight: float = 0.1, top_k: int = 5
) -> Memberships:
    """Viewers × communities: engagement-weighted mix of the videos they engaged with.

    *engagement* is viewers × videos with columns in the same order as ``videos.members``.
    """
    m = prune(engagement.matrix @ videos.weights, min_weight, top_k)
    return Memberships("viewer", engagement.rows, m, _primary(m))
