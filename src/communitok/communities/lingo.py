"""Community lingo: words and phrases over-represented in a community's captions, comments
and transcripts, scored with the weighted log-odds ratio with an informative Dirichlet
prior of Monroe, Colaresi & Quinn (2008), "Fightin' Words: Lexical Feature Selection and
Evaluation for Identifying the Content of Political Conflict", Political Analysis 16(4).

For community *i* against all other text (*j*) and term *w* with counts ``y``, totals
``n`` and prior ``α_w = α₀ · (corpus share of w)``::

    δ_w = log((y_iw + α_w) / (n_i + α₀ − y_iw − α_w)) − log((y_jw + α_w) / (n_j + α₀ − y_jw − α_w))
    σ²_w ≈ 1 / (y_iw + α_w) + 1 / (y_jw + α_w)
    z_w = δ_w / σ_w

The prior shrinks rare terms (a word said twice is not lingo) and the z-score accounts
for the variance, so neither frequent function words nor one-off typos top the list.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from ..core.errors import InputError
from .text import terms


def term_counts(
    texts: Sequence[str | None], groups: np.ndarray, n_groups: int, *, max_n: int = 3
) -> tuple[sp.csr_matrix, np.ndarray]:
    """groups × terms count matrix from texts (``groups[t]`` < 0: text ignored)."""
    groups = np.asarray(groups, dtype=np.int64)
    if len(groups) != len(texts):
        raise InputError("one group per text is needed", field="groups")
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for g, toks in zip(groups, terms(texts, max_n=max_n), strict=True):
        if g < 0 or not toks:
            continue
        for tok in toks:
            cols.append(vocab.setdefault(tok, len(vocab)))
        rows.extend([int(g)] * len(toks))
    m = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_groups, len(vocab)))
    m.sum_duplicates()
    words = np.empty(len(vocab), dtype=object)
    for w, i in vocab.items():
        words[i] = w
    return m, words


def log_odds(
    counts: sp.csr_matrix, *, alpha0: float | None = None, prior: np.ndarray | None = None
) -> sp.csr_matrix:
    """z-scores of every (group, term) present in *counts* (groups × terms).

    *prior* is the background term distribution (default: the corpus itself);
    *alpha0* its total pseudo-count (default: 10% of the corpus, at most 100,000).
    """
    counts = sp.csr_matrix(counts, dtype=np.float64)
    total_w = np.asarray(counts.sum(axis=0)).ravel()
    total = float(total_w.sum())
    if total == 0:
        return sp.csr_matrix(counts.shape)
    share = total_w / total if prior is None else np.asarray(prior, float) / np.sum(prior)
    if share.shape != (counts.shape[1],):
        raise InputError("prior must have one value per term", field="prior")
    a0 = float(alpha0) if alpha0 is not None else min(0.1 * total, 100_000.0)
    if a0 <= 0:
        raise InputError("must be > 0", field="alpha0")
    alpha = a0 * share
    n_i = np.asarray(counts.sum(axis=1)).ravel()
    coo = counts.tocoo()
    y_i = coo.data
    a = alpha[coo.col]
    y_j = total_w[coo.col] - y_i
    n_j = total - n_i[coo.row]
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.log((y_i + a) / (n_i[coo.row] + a0 - y_i - a)) - np.log(
            (y_j + a) / (n_j + a0 - y_j - a)
        )
        z = d / np.sqrt(1.0 / (y_i + a) + 1.0 / (y_j + a))
    z = np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0)
    return sp.csr_matrix((z, (coo.row, coo.col)), shape=counts.shape)


def lingo(
    texts: Sequence[str | None],
    groups: np.ndarray,
    n_groups: int,
    *,
    top_n: int = 20,
    min_count: int = 3,
    min_z: float = 3.0,
    alpha0: float | None = None,
    max_n: int = 3,
) -> pa.Table:
    """Top *top_n* terms per group by log-odds z-score.

    Terms need ≥ *min_count* uses in the group and z ≥ *min_z* (3.0 ≈ one-sided
    p < 0.0013: a community with little text gets a short list, not noise). A phrase
    and a word inside it (``big zorbly energy`` / ``zorbly``) used about as often
    (≥ 80 %) are one expression: only the higher-scoring one is kept.
    Columns: ``community_id, rank, term, z, count, share``.
    """
    if top_n < 1 or min_count < 1:
        raise InputError("top_n and min_count must be >= 1", field="top_n")
    counts, words = term_counts(texts, groups, n_groups, max_n=max_n)
    z = log_odds(counts, alpha0=alpha0)
    out: dict[str, list] = {name: [] for name in LINGO_SCHEMA.names}
    n_i = np.asarray(counts.sum(axis=1)).ravel()
    for g in range(n_groups):
        lo, hi = z.indptr[g], z.indptr[g + 1]
        cols, zs = z.indices[lo:hi], z.data[lo:hi]
        cnt = np.asarray(counts[g, cols].todense()).ravel() if len(cols) else np.zeros(0)
        ok = (cnt >= min_count) & (zs >= min_z)
        cols, zs, cnt = cols[ok], zs[ok], cnt[ok]
        chosen: list[tuple[str, float, float]] = []
        for o in np.lexsort((words[cols].astype(str), -zs)):
            term = str(words[cols[o]])
            if any(_same_expression(term, cnt[o], t, c) for t, _, c in chosen):
                continue
            chosen.append((term, float(zs[o]), float(cnt[o])))
            if len(chosen) == top_n:
                break
        for rank, (term, zv, c) in enumerate(chosen, 1):
            out["community_id"].append(g)
            out["rank"].append(rank)
            out["term"].append(term)
            out["z"].append(zv)
            out["count"].append(int(c))
            out["share"].append(c / n_i[g] if n_i[g] else 0.0)
    return pa.table(out, schema=LINGO_SCHEMA)


def _same_expression(a: str, ca: float, b: str, cb: float) -> bool:
    wa, wb = a.split(" "), b.split(" ")
    if len(wa) == len(wb):
        return False
    short, long_ = (wa, wb) if len(wa) < len(wb) else (wb, wa)
    inside = any(long_[i : i + len(short)] == short for i in range(len(long_) - len(short) + 1))
    return inside and min(ca, cb) >= 0.8 * max(ca, cb)


LINGO_SCHEMA = pa.schema(
    [
        ("community_id", pa.int64()),
        ("rank", pa.int64()),
        ("term", pa.string()),
        ("z", pa.float64()),
        ("count", pa.int64()),
        ("share", pa.float64()),
    ]
)
