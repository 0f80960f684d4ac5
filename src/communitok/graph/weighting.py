"""Edge weighting that keeps mega-items (#fyp, #foryou, #viral) from gluing everything.

* :func:`npmi_graph` — item co-occurrence weighted by normalised pointwise mutual
  information (Bouma 2009): ``npmi = log(p_ij / p_i p_j) / -log p_ij`` in [-1, 1]. A tag
  on half of all videos co-occurs with everything but at chance level, so its NPMI with
  any community tag is near 0, while two tags of one community score near 1.
* :func:`cosine_graph` — items compared by the contexts they share (e.g. creators by
  their viewers), contexts weighted by inverse frequency (TF-IDF, Salton & Buckley 1988)
  so heavy viewers who watch everything count less; kept sparse by top-k per node.
* :func:`group_spread` / :func:`stop_items` — *learned* stop-items: an item whose usage
  spreads evenly over many communities (high normalised entropy) says nothing about
  any one of them. No hard-coded list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError
from .types import Bipartite, Graph


def idf(b: Bipartite, *, smooth: bool = True) -> np.ndarray:
    """Inverse document frequency of each column: ``log((1+N)/(1+df)) + 1`` (smooth)."""
    n = b.shape[0]
    df = b.col_frequency().astype(np.float64)
    if smooth:
        return np.log((1.0 + n) / (1.0 + df)) + 1.0
    with np.errstate(divide="ignore"):
        return np.where(df > 0, np.log(n / np.maximum(df, 1.0)), 0.0)


def tfidf(b: Bipartite, *, sublinear: bool = True, norm: bool = True) -> Bipartite:
    """TF-IDF of the rows over the columns (sublinear tf ``1 + log tf``), L2-normalised."""
    m = b.matrix.copy().astype(np.float64)
    if sublinear and m.nnz:
        m.data = 1.0 + np.log(np.maximum(m.data, 1e-12))
        m.data[m.data < 0] = 0.0
    m = m @ sp.diags(idf(b))
    if norm:
        m = _l2_rows(m.tocsr())
    return Bipartite(m.tocsr(), b.rows, b.cols, b.col_kinds)


def _l2_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return (sp.diags(1.0 / norms) @ m).tocsr()


def cooccurrence(b: Bipartite) -> sp.csr_matrix:
    """Column × column co-occurrence counts over rows (0/1 incidence); diagonal = df."""
    x = b.binary().matrix
    return (x.T @ x).tocsr()


def npmi_graph(
    b: Bipartite,
    *,
    min_count: int = 2,
    min_weight: float = 0.0,
    counts: sp.csr_matrix | None = None,
) -> Graph:
    """Graph over the columns of *b* weighted by positive NPMI of co-occurrence in rows.

    Pairs seen in fewer than *min_count* rows are dropped (PMI of rare pairs is noise);
    only NPMI > *min_weight* is kept, so the weights lie in (0, 1].
    """
    if min_count < 1:
        raise InputError("must be >= 1", field="min_count")
    n_rows, n_cols = b.shape
    if n_cols == 0 or n_rows == 0:
        return Graph(sp.csr_matrix((n_cols, n_cols)), b.cols, b.col_kinds)
    c = counts if counts is not None else cooccurrence(b)
    df = c.diagonal().astype(np.float64)
    up = sp.triu(c, k=1, format="coo")
    keep = up.data >= min_count
    i, j, cij = up.row[keep], up.col[keep], up.data[keep].astype(np.float64)
    p_ij = cij / n_rows
    pmi = np.log(p_ij) - np.log(df[i] / n_rows) - np.log(df[j] / n_rows)
    denom = -np.log(p_ij)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(denom > 1e-12, pmi / denom, 1.0)
    ok = w > min_weight
    i, j, w = i[ok], j[ok], w[ok]
    a = sp.coo_matrix((np.r_[w, w], (np.r_[i, j], np.r_[j, i])), shape=(n_cols, n_cols))
    return Graph(a.tocsr(), b.cols, b.col_kinds)


def cosine_graph(
    b: Bipartite,
    *,
    top_k: int | None = 30,
    min_weight: float = 0.0,
    weighting: str = "tfidf",
    max_entries: int = 20_000_000,
) -> Graph:
    """Graph over the *rows* of *b*: cosine similarity of their (weighted) column vectors.

    ``weighting="tfidf"`` applies :func:`tfidf` first (columns that touch many rows
    count less); ``"none"`` uses the raw values. Each row keeps its *top_k* strongest
    neighbours (the graph is symmetrised with the max), computed in row chunks so that
    no chunk holds more than *max_entries* similarities.
    """
    if weighting not in ("tfidf", "none"):
        raise InputError("weighting must be 'tfidf' or 'none'", field="weighting")
    if top_k is not None and top_k < 1:
        raise InputError("must be >= 1 or None", field="top_k")
    n = b.shape[0]
    x = tfidf(b).matrix if weighting == "tfidf" else _l2_rows(b.matrix)
    if n == 0 or x.nnz == 0:
        return Graph(sp.csr_matrix((n, n)), b.rows)
    xt = x.T.tocsr()
    chunk = max(1, min(n, max_entries // max(n, 1)))
    rows, cols, vals = [], [], []
    for start in range(0, n, chunk):
        s = (x[start : start + chunk] @ xt).tocsr()
        r, c, v = _top_k_rows(s, top_k, min_weight, offset=start)
        rows.append(r + start)
        cols.append(c)
        vals.append(v)
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    a = sp.coo_matrix((v, (r, c)), shape=(n, n)).tocsr()
    a = a.maximum(a.T).tocsr()
    return Graph(a, b.rows)


def _top_k_rows(
    s: sp.csr_matrix, k: int | None, min_weight: float, offset: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries of each row above *min_weight*, at most *k* largest per row; with
    *offset*, the entry of row *i* at column ``i + offset`` (the diagonal) is skipped."""
    counts = np.diff(s.indptr)
    row = np.repeat(np.arange(s.shape[0]), counts)
    keep = s.data > min_weight
    if offset is not None:
        keep &= s.indices != row + offset
    row, col, val = row[keep], s.indices[keep], s.data[keep]
    if k is not None and len(val) and np.bincount(row).max() > k:
        # one float sort: rows ascending, weights descending inside a row
        span = float(val.max() - val.min()) or 1.0
        order = np.argsort(row * 2.0 + (val.max() - val) / span, kind="stable")
        row, col, val = row[order], col[order], val[order]
        first = np.searchsorted(row, row, side="left")
        sel = (np.arange(len(row)) - first) < k
        row, col, val = row[sel], col[sel], val[sel]
    return row.astype(np.int64), col.astype(np.int64), val


def top_k(graph: Graph, k: int) -> Graph:
    """Keep each node's *k* strongest edges (an edge survives if either end keeps it)."""
    if k < 1:
        raise InputError("must be >= 1", field="k")
    r, c, v = _top_k_rows(graph.adjacency, k, 0.0)
    n = graph.n_nodes
    a = sp.coo_matrix((v, (r, c)), shape=(n, n)).tocsr()
    return Graph(a.maximum(a.T).tocsr(), graph.nodes, graph.kinds)


def combine(graphs: list[Graph], weights: list[float] | None = None) -> Graph:
    """Weighted sum of graphs over the union of their node ids."""
    if not graphs:
        raise InputError("nothing to combine")
    weights = weights or [1.0] * len(graphs)
    if len(weights) != len(graphs):
        raise InputError("one weight per graph", field="weights")
    ids: dict[str, int] = {}
    kinds: dict[str, str] = {}
    for g in graphs:
        for pos, node in enumerate(g.nodes):
            ids.setdefault(str(node), len(ids))
            if g.kinds is not None:
                kinds.setdefault(str(node), str(g.kinds[pos]))
    n = len(ids)
    total = sp.csr_matrix((n, n))
    for g, w in zip(graphs, weights, strict=True):
        if g.n_nodes == 0:
            continue
        idx = np.fromiter((ids[str(x)] for x in g.nodes), np.int64, g.n_nodes)
        a = g.adjacency.tocoo()
        total = total + sp.coo_matrix((w * a.data, (idx[a.row], idx[a.col])), shape=(n, n))
    nodes = np.empty(n, dtype=object)
    for k, i in ids.items():
        nodes[i] = k
    kind_arr = np.asarray([kinds.get(x, "") for x in nodes], dtype=object) if kinds else None
    return Graph(total.tocsr(), nodes, kind_arr)


@dataclass(frozen=True)
class Spread:
    """How evenly each item's usage spreads over groups (e.g. communities)."""

    #: normalised Shannon entropy in [0, 1] (1 = spread evenly over all groups)
    entropy: np.ndarray
    #: exp(entropy in nats): the effective number of groups the item is used in
    effective_groups: np.ndarray
    #: total usage mass counted
    support: np.ndarray


def group_spread(
    usage: sp.spmatrix,
    groups: np.ndarray,
    n_groups: int | None = None,
    *,
    baseline: np.ndarray | None = None,
) -> Spread:
    """Spread of each row of *usage* (items × contexts) over the contexts' *groups*.

    ``groups[j]`` is the group of context *j* (-1: ignore). E.g. usage = tag × tag edge
    weights and groups = the first-pass community of each co-tag. The entropy is
    normalised by ``log(n_groups)``, or, with *baseline* (the overall mass of each
    group), by the entropy of that baseline — an item used at chance level everywhere
    then scores ≈ 1 however uneven the group sizes are (clipped to [0, 1]).
    """
    usage = sp.csr_matrix(usage, dtype=np.float64)
    groups = np.asarray(groups, dtype=np.int64)
    if groups.shape[0] != usage.shape[1]:
        raise InputError("one group per context (column) is needed", field="groups")
    g = int(n_groups if n_groups is not None else (groups.max() + 1 if len(groups) else 0))
    valid = groups >= 0
    if g <= 1 or not valid.any():
        z = np.zeros(usage.shape[0])
        return Spread(z, np.ones(usage.shape[0]), np.asarray(usage.sum(axis=1)).ravel())
    onehot = sp.csr_matrix(
        (np.ones(valid.sum()), (np.flatnonzero(valid), groups[valid])), shape=(len(groups), g)
    )
    mass = np.asarray((usage @ onehot).todense())
    total = mass.sum(axis=1)
    h = _entropy(mass / np.maximum(total, 1e-300)[:, None])
    norm = np.log(g)
    if baseline is not None:
        b = np.asarray(baseline, dtype=np.float64)
        if b.shape != (g,) or b.sum() <= 0:
            raise InputError("baseline needs one positive mass per group", field="baseline")
        norm = max(float(_entropy((b / b.sum())[None, :])[0]), 1e-12)
    return Spread(np.clip(h / norm, 0.0, 1.0), np.exp(h), total)


def _entropy(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.nansum(np.where(p > 0, p * np.log(p), 0.0), axis=1)


def stop_items(
    spread: Spread,
    *,
    threshold: float = 0.5,
    min_groups: float = 2.0,
    min_support: float = 10.0,
) -> np.ndarray:
    """Boolean mask of stop-items: normalised spread ≥ *threshold*, used in at least
    *min_groups* effective groups, with at least *min_support* usage."""
    if not 0.0 < threshold <= 1.0:
        raise InputError("must be in (0, 1]", field="threshold")
    return (
        (spread.entropy >= threshold)
        & (spread.effective_groups >= min_groups)
        & (spread.support >= min_support)
    )
