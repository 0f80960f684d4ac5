"""Automatic resolution choice: a resolution profile scored by stability across seeds.

For each relative resolution *r* on a log grid, Leiden runs with several seeds; the
partition's *stability* is the mean pairwise adjusted Rand index of those runs. Planted
or real structure gives a plateau of reproducible partitions; resolutions between
scales give partitions that change with the seed (cf. the resolution profiles of Traag,
Krings & Van Dooren 2013, "Significant scales in community structure", and the
stability criterion of Lancichinetti & Fortunato 2012, "Consensus clustering"). The
chosen *r* maximises the stability smoothed over neighbouring grid points, among
non-trivial partitions (not mostly singletons, not one giant block); near-ties go to
the resolution closest to r = 1.

Large graphs (more than ``scan_max_edges`` edges) use a *coarse* profile that costs
about one full Leiden run: one run at r = 1 on the whole graph; resolutions below 1
are scanned on the graph aggregated by that partition (exact for coarsenings, since CPM
is additive over communities); resolutions above 1 are scanned on the subgraph of a
size-weighted sample of its communities (CPM is local: whether a community splits at
γ depends only on its own edges). Only when the chosen r is above 1 does a second
full-graph run happen.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from ..core.seeds import rng
from . import leiden as lei

#: default grid of relative resolutions: 2^(k/2), k = -6 … 12 (0.125 … 64)
DEFAULT_GRID = tuple(float(2 ** (k / 2)) for k in range(-6, 13))
#: score slack within which the resolution closest to r = 1 wins
TIE_TOLERANCE = 0.01


@dataclass(frozen=True, eq=False)
class ResolutionProfile:
    """One row per scanned resolution, plus which one was chosen."""

    resolution: np.ndarray
    gamma: np.ndarray
    n_communities: np.ndarray
    stability: np.ndarray
    #: mean ARI with the partitions at the neighbouring grid points (plateau measure)
    adjacent: np.ndarray
    singleton_share: np.ndarray
    largest_share: np.ndarray
    trivial: np.ndarray
    score: np.ndarray
    chosen: int
    method: str
    memberships: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    #: coarse profiles: ARI of each grid point's partition with the base (r = 1) one
    agreement: np.ndarray | None = None

    @property
    def best_resolution(self) -> float:
        return float(self.resolution[self.chosen])

    def to_arrow(self) -> pa.Table:
        return pa.table(
            {
                "resolution": self.resolution,
                "gamma": self.gamma,
                "n_communities": self.n_communities.astype(np.int64),
                "stability": self.stability,
                "adjacent": self.adjacent,
                "singleton_share": self.singleton_share,
                "largest_share": self.largest_share,
                "trivial": self.trivial,
                "score": self.score,
                "chosen": np.arange(len(self.resolution)) == self.chosen,
                "agreement": self.agreement
                if self.agreement is not None
                else np.full(len(self.resolution), np.nan),
            }
        )


def ari(a: np.ndarray, b: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Adjusted Rand index (Hubert & Arabie 1985) of two labelings of the same items;
    *weights* counts each item that many times (e.g. aggregated nodes by their size)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    w = np.ones(len(a)) if weights is None else np.asarray(weights, dtype=np.float64)
    n = float(w.sum())
    if n < 2:
        return 1.0
    a = np.unique(a, return_inverse=True)[1].ravel()
    b = np.unique(b, return_inverse=True)[1].ravel()
    cell = np.unique(a * (int(b.max()) + 1) + b, return_inverse=True)[1].ravel()

    def pairs(codes: np.ndarray) -> float:
        c = np.bincount(codes, weights=w)
        return float(np.sum(c * (c - 1)) / 2.0)

    sum_ij, sum_a, sum_b = pairs(cell), pairs(a), pairs(b)
    expected = sum_a * sum_b / (n * (n - 1) / 2.0)
    top = (sum_a + sum_b) / 2.0
    if top == expected:
        return 1.0
    return float((sum_ij - expected) / (top - expected))


def _stats(labels: np.ndarray, active: np.ndarray) -> tuple[int, float, float]:
    """(communities, share of active nodes alone, share of active nodes in the largest)."""
    lab = labels[active]
    if lab.size == 0:
        return 0, 0.0, 0.0
    counts = np.bincount(lab)
    counts = counts[counts > 0]
    single = float(np.sum(counts == 1)) / lab.size
    return len(counts), single, float(counts.max()) / lab.size


def _stability(runs: list[np.ndarray], weights: np.ndarray | None = None) -> float:
    if len(runs) < 2:
        return 1.0
    return float(np.mean([ari(a, b, weights) for a, b in itertools.combinations(runs, 2)]))


def choose(
    resolution: np.ndarray,
    stability: np.ndarray,
    adjacent: np.ndarray,
    trivial: np.ndarray,
    singleton_share: np.ndarray | None = None,
) -> tuple[int, np.ndarray]:
    """Index of the chosen resolution and the score of every grid point.

    Score = stability across seeds × similarity to the neighbouring resolutions' partitions
    (mean ARI) × share of nodes not left alone: high only where the partition is
    reproducible, on a plateau, and groups the nodes. Mostly-singleton and one-block
    partitions are excluded (they are reproducible but say nothing). Near-ties (within
    :data:`TIE_TOLERANCE`) go to the r closest to 1; all trivial: r closest to 1.
    """
    single = np.zeros(len(resolution)) if singleton_share is None else singleton_share
    score = np.where(trivial, np.nan, stability * adjacent * (1.0 - single))
    closest = np.abs(np.log(resolution))
    if np.all(np.isnan(score)):
        return int(np.argmin(closest)), score
    near = np.flatnonzero(score >= np.nanmax(score) - TIE_TOLERANCE)
    return int(near[np.argmin(closest[near])]), score


def _adjacent(idx: list[int], pairs: dict[tuple[int, int], float]) -> np.ndarray:
    """Mean similarity of each scanned grid point with its scanned neighbours."""
    out = np.ones(len(idx))
    for pos, i in enumerate(idx):
        sims = [pairs[p] for p in ((i - 1, i), (i, i + 1)) if p in pairs]
        if sims:
            out[pos] = float(np.mean(sims))
    return out


def _pairs(
    memb: dict[int, np.ndarray], weights: np.ndarray | None = None
) -> dict[tuple[int, int], float]:
    return {(i, i + 1): float(ari(memb[i], memb[i + 1], weights)) for i in memb if i + 1 in memb}


def _trivial(n_comm: int, single: float, largest: float, n_active: int) -> bool:
    """Mostly singletons, or one block holding most nodes (over 90 %, or over half while
    several communities exist: a giant that failed to resolve): not a useful partition."""
    giant = largest > 0.9 or (largest > 0.5 and n_comm >= 3)
    return n_active == 0 or n_comm < 2 or single > 0.5 or giant


def _scan_order(grid: np.ndarray) -> list[list[int]]:
    """Grid indices from r = 1 upwards, then from just below 1 downwards."""
    base = int(np.argmin(np.abs(np.log(grid))))
    return [list(range(base, len(grid))), list(range(base - 1, -1, -1))]


def full_profile(
    prep: lei.Prepared,
    grid: np.ndarray,
    seeds: list[int],
    *,
    n_iterations: int,
    beta: float,
    patience: int = 2,
) -> ResolutionProfile:
    """Exact profile on the whole graph: grid points × seeds. Each direction of the scan
    stops after *patience* trivial partitions in a row."""
    active = np.asarray(prep.graph.degree()) > 0
    n_active = int(active.sum())
    rows: dict[int, tuple] = {}
    memberships: dict[int, np.ndarray] = {}
    for direction in _scan_order(grid):
        streak = 0
        for i in direction:
            runs = [
                lei.run(prep, grid[i], seed=s, n_iterations=n_iterations, beta=beta) for s in seeds
            ]
            memberships[i] = runs[0]
            k, single, largest = _stats(runs[0], active)
            triv = _trivial(k, single, largest, n_active)
            rows[i] = (k, _stability(runs), single, largest, triv)
            streak = streak + 1 if triv else 0
            if streak >= patience:
                break
    return _profile(grid, prep, rows, "full", memberships, _pairs(memberships))


def _profile(
    grid: np.ndarray,
    prep: lei.Prepared,
    rows: dict[int, tuple],
    method: str,
    memberships: dict[int, np.ndarray],
    pairs: dict[tuple[int, int], float],
    agreement: dict[int, float] | None = None,
) -> ResolutionProfile:
    idx = sorted(rows)
    grid = np.asarray(grid, dtype=float)[idx]
    k, stab, single, largest, trivial = (
        np.asarray(x) for x in zip(*(rows[i] for i in idx), strict=True)
    )
    adjacent = _adjacent(idx, pairs)
    chosen, score = choose(
        grid, stab.astype(float), adjacent, trivial.astype(bool), single.astype(float)
    )
    agree = agreement or {}
    return ResolutionProfile(
        resolution=grid,
        gamma=np.asarray([prep.gamma(r) for r in grid]),
        n_communities=k.astype(np.int64),
        stability=stab.astype(float),
        adjacent=adjacent,
        singleton_share=single.astype(float),
        largest_share=largest.astype(float),
        trivial=trivial.astype(bool),
        score=score,
        chosen=chosen,
        method=method,
        memberships={pos: memberships[i] for pos, i in enumerate(idx) if i in memberships},
        agreement=np.asarray([agree.get(i, np.nan) for i in idx]),
    )


def coarse_profile(
    prep: lei.Prepared,
    adjacency: sp.csr_matrix,
    grid: np.ndarray,
    seeds: list[int],
    *,
    n_iterations: int,
    beta: float,
    sample_edges: int,
    base_iterations: int = -1,
    patience: int = 2,
) -> ResolutionProfile:
    """Profile that costs about one full run (see the module docstring).

    ``agreement[i]`` is the ARI between the base partition and the partition at grid
    point *i* on the scanned nodes: 1 means resolution *i* changes nothing.
    """
    n = prep.n_nodes
    active = np.diff(adjacency.indptr) > 0
    n_active = int(active.sum())
    up, down = _scan_order(grid)
    base_i = up[0]
    base = lei.run(prep, grid[base_i], seed=seeds[0], n_iterations=base_iterations, beta=beta)
    memberships: dict[int, np.ndarray] = {base_i: base}
    rows: dict[int, tuple] = {}
    agreement: dict[int, float] = {base_i: 1.0}
    # --- merges: the aggregated graph ------------------------------------------
    # (similarities are computed on the aggregated nodes weighted by their sizes: the
    # same numbers as on the nodes, since these partitions are coarsenings of the base)
    agg, agg_w = lei.aggregate(adjacency, base, prep.node_weights)
    agg_prep = lei.prepare(agg, agg_w)
    size = np.bincount(base).astype(np.float64)
    agg_memb: dict[int, np.ndarray] = {base_i: np.arange(len(size))}
    streak = 0
    for i in down:
        runs = [
            lei.run(
                agg_prep,
                0.0,
                seed=s,
                n_iterations=n_iterations,
                beta=beta,
                gamma=prep.gamma(grid[i]),
            )
            for s in seeds
        ]
        memberships[i] = lei.canonical(runs[0][base])
        agg_memb[i] = runs[0]
        k, single, largest = _stats(memberships[i], active)
        triv = _trivial(k, single, largest, n_active)
        rows[i] = (k, _stability(runs, size), single, largest, triv)
        agreement[i] = float(ari(agg_memb[base_i], runs[0], size))
        streak = streak + 1 if triv else 0
        if streak >= patience:
            break
    # --- splits: a sample of communities ---------------------------------------
    sub = _sample_communities(adjacency, base, sample_edges, seeds[0])
    sub_prep = lei.prepare(adjacency[sub][:, sub], prep.node_weights[sub])
    sub_active = active[sub]
    frac = len(sub) / max(n, 1)
    streak = 0
    sample_memb: dict[int, np.ndarray] = {base_i: base[sub]}
    for i in up:
        runs = [
            lei.run(
                sub_prep,
                0.0,
                seed=s,
                n_iterations=n_iterations,
                beta=beta,
                gamma=prep.gamma(grid[i]),
            )
            for s in seeds
        ]
        if i == base_i:
            k, single, largest = _stats(base, active)
        else:
            k, single, largest = _stats(runs[0], sub_active)
            k, largest = round(k / max(frac, 1e-12)), largest * frac
            agreement[i] = float(ari(base[sub], runs[0]))
            sample_memb[i] = runs[0]
        triv = _trivial(k, single, largest, int(sub_active.sum()))
        rows[i] = (k, _stability(runs), single, largest, triv)
        streak = streak + 1 if triv else 0
        if streak >= patience:
            break
    pairs = {**_pairs(agg_memb, size), **_pairs(sample_memb)}
    return _profile(grid, prep, rows, "coarse", memberships, pairs, agreement)


def _sample_communities(
    adjacency: sp.csr_matrix, labels: np.ndarray, sample_edges: int, seed: int
) -> np.ndarray:
    """Node positions of randomly drawn communities (size-weighted) up to ~sample_edges."""
    k = int(labels.max()) + 1
    deg = np.diff(adjacency.indptr).astype(float)
    comm_edges = np.bincount(labels, weights=deg, minlength=k) / 2.0
    sizes = np.bincount(labels, minlength=k)
    cand = np.flatnonzero(sizes > 1)
    if cand.size == 0:
        return np.arange(len(labels))
    p = sizes[cand] / sizes[cand].sum()
    order = rng(seed).choice(cand, size=cand.size, replace=False, p=p)
    picked, total = [], 0.0
    for c in order:
        picked.append(c)
        total += comm_edges[c]
        if total >= sample_edges:
            break
    return np.flatnonzero(np.isin(labels, picked))
