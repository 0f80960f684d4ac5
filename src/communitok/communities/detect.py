"""Community detection: Leiden with the CPM objective and an automatic resolution.

References
----------
* V. A. Traag, L. Waltman, N. J. van Eck (2019). From Louvain to Leiden: guaranteeing
  well-connected communities. Scientific Reports 9, 5233.
* V. A. Traag, P. Van Dooren, Y. Nesterov (2011). Narrow scope for resolution-limit-free
  community detection. Physical Review E 84, 016114 (the Constant Potts Model).
* V. A. Traag, G. Krings, P. Van Dooren (2013). Significant scales in community
  structure. Scientific Reports 3, 2930 (resolution profiles).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError
from ..graph import Graph
from . import leiden as lei
from .resolution import DEFAULT_GRID, ResolutionProfile, coarse_profile, full_profile

#: coarse profile: above this ARI with the base partition, a finer r needs no new run
AGREEMENT = 0.98


@dataclass(frozen=True)
class _Params:
    objective: str
    resolution: float | str
    node_weights: str
    n_iterations: int
    beta: float
    seed: int
    n_seeds: int
    grid: tuple[float, ...]
    scan_max_edges: int
    sample_edges: int
    scan_iterations: int


class Leiden:
    """Leiden community detection (sklearn-style estimator).

    Parameters
    ----------
    objective : ``"cpm"`` (default) or ``"modularity"`` (baseline).
    resolution : ``"auto"`` (default: stability profile, see
        :mod:`communitok.communities.resolution`) or a relative resolution *r* > 0
        (``r = 1``: modularity's scale for ``node_weights="strength"``, the graph's
        density for ``"uniform"``).
    node_weights : ``"strength"`` (default; CPM with the configuration-model null) or
        ``"uniform"`` (classic CPM: γ is an edge-density threshold).
    n_iterations : Leiden iterations of the final run; -1 (default) runs to convergence.
    scan_iterations : Leiden iterations of each profile run (default 2).
    seed : int; the scan uses seeds ``seed … seed + n_seeds − 1``.
    scan_max_edges : graphs with more edges use the coarse profile (≈ one full run).

    Attributes
    ----------
    labels_ : int64 array, community of each node (0 = largest).
    n_communities_ : int.
    resolution_ : float, the relative resolution used.
    gamma_ : float, the γ passed to igraph (CPM) or the modularity resolution.
    quality_ : float, CPM quality ``Σ_c (w_c − γ N_c²/2)`` (modularity for that objective).
    profile_ : :class:`ResolutionProfile` or None (fixed resolution).
    """

    def __init__(
        self,
        objective: str = "cpm",
        resolution: float | str = "auto",
        *,
        node_weights: str = "strength",
        n_iterations: int = -1,
        beta: float = 0.01,
        seed: int = 0,
        n_seeds: int = 3,
        grid: tuple[float, ...] | None = None,
        scan_max_edges: int = 200_000,
        sample_edges: int = 60_000,
        scan_iterations: int = 2,
    ) -> None:
        self.objective = objective
        self.resolution = resolution
        self.node_weights = node_weights
        self.n_iterations = n_iterations
        self.beta = beta
        self.seed = seed
        self.n_seeds = n_seeds
        self.grid = grid
        self.scan_max_edges = scan_max_edges
        self.sample_edges = sample_edges
        self.scan_iterations = scan_iterations

    def _validate(self) -> _Params:
        if self.objective not in lei.OBJECTIVES:
            raise InputError(f"must be one of {lei.OBJECTIVES}", field="objective")
        if self.node_weights not in lei.NODE_WEIGHTS:
            raise InputError(f"must be one of {lei.NODE_WEIGHTS}", field="node_weights")
        res = self.resolution
        if isinstance(res, str):
            if res != "auto":
                raise InputError("must be 'auto' or a number > 0", field="resolution")
        elif isinstance(res, bool) or not isinstance(res, int | float) or not res > 0:
            raise InputError(f"must be 'auto' or a number > 0, got {res!r}", field="resolution")
        if not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise InputError("must be a non-negative integer", field="seed")
        for name in ("n_iterations", "scan_iterations"):
            it = getattr(self, name)
            if isinstance(it, bool) or not isinstance(it, int | np.integer) or it == 0 or it < -1:
                raise InputError("must be -1 (converge) or >= 1", field=name)
        if self.n_seeds < 1:
            raise InputError("must be >= 1", field="n_seeds")
        if not self.beta > 0:
            raise InputError("must be > 0", field="beta")
        grid = tuple(sorted(float(g) for g in (self.grid or DEFAULT_GRID)))
        if not grid or grid[0] <= 0:
            raise InputError("grid values must be > 0", field="grid")
        if self.scan_max_edges < 0 or self.sample_edges < 1:
            raise InputError("must be positive", field="scan_max_edges")
        return _Params(
            self.objective,
            res,
            self.node_weights,
            int(self.n_iterations),
            float(self.beta),
            int(self.seed),
            int(self.n_seeds),
            grid,
            int(self.scan_max_edges),
            int(self.sample_edges),
            int(self.scan_iterations),
        )

    def fit(self, graph: Graph | sp.spmatrix) -> Leiden:
        """Detect communities of *graph* (a :class:`~communitok.graph.Graph` or a
        symmetric sparse adjacency). An empty graph gives no communities; nodes without
        edges are singleton communities."""
        p = self._validate()
        g = lei.to_graph(graph)
        self.n_nodes_ = g.n_nodes
        self.profile_: ResolutionProfile | None = None
        if g.n_nodes == 0:
            self.labels_ = np.zeros(0, dtype=np.int64)
            self.resolution_ = float("nan") if p.resolution == "auto" else float(p.resolution)
            self.gamma_, self.quality_, self.n_communities_ = float("nan"), 0.0, 0
            return self
        prep = lei.prepare(g.adjacency, p.node_weights)
        labels = None
        if p.resolution == "auto" and p.objective == "cpm" and g.n_edges > 0:
            r, labels = self._auto(p, prep, g)
        else:
            r = 1.0 if p.resolution == "auto" else float(p.resolution)
        if labels is None:
            labels = lei.run(
                prep,
                r,
                seed=p.seed,
                objective=p.objective,
                n_iterations=p.n_iterations,
                beta=p.beta,
            )
        self.labels_ = lei.canonical(labels)
        self.resolution_ = float(r)
        self.n_communities_ = int(self.labels_.max()) + 1
        if p.objective == "cpm":
            self.gamma_ = prep.gamma(r)
            self.quality_ = lei.cpm_quality(
                g.adjacency, self.labels_, prep.node_weights, self.gamma_
            )
        else:
            self.gamma_ = r
            self.quality_ = modularity(g.adjacency, self.labels_, r)
        return self

    def _auto(self, p: _Params, prep: lei.Prepared, g: Graph) -> tuple[float, np.ndarray | None]:
        """Resolution profile; returns r and, when the profile already holds the final
        partition (coarse mode), its labels."""
        seeds = [p.seed + i for i in range(p.n_seeds)]
        grid = np.asarray(p.grid)
        if g.n_edges <= p.scan_max_edges:
            prof = full_profile(prep, grid, seeds, n_iterations=p.scan_iterations, beta=p.beta)
            self.profile_ = prof
            return prof.best_resolution, None
        prof = coarse_profile(
            prep,
            g.adjacency,
            grid,
            seeds,
            n_iterations=p.scan_iterations,
            beta=p.beta,
            sample_edges=p.sample_edges,
            base_iterations=p.n_iterations,
        )
        self.profile_ = prof
        r = prof.best_resolution
        base = int(np.argmin(np.abs(np.log(prof.resolution))))
        if prof.chosen <= base:
            return r, prof.memberships[prof.chosen]
        assert prof.agreement is not None
        if prof.agreement[prof.chosen] >= AGREEMENT:
            # the sample shows the finer resolution splits nothing: keep the base run
            return r, prof.memberships[base]
        # CPM is local: split each base community on its own (one call on the graph of
        # within-community edges) instead of a second full-graph run
        return r, refine_within(
            g.adjacency,
            prof.memberships[base],
            prep,
            r,
            seed=p.seed,
            n_iterations=p.n_iterations,
            beta=p.beta,
        )

    def fit_predict(self, graph: Graph | sp.spmatrix) -> np.ndarray:
        return self.fit(graph).labels_


def refine_within(
    adjacency: sp.spmatrix,
    labels: np.ndarray,
    prep: lei.Prepared,
    r: float,
    *,
    seed: int,
    n_iterations: int,
    beta: float,
) -> np.ndarray:
    """Leiden at resolution *r* on the edges inside each community of *labels* only:
    every community is split (or kept) independently; node weights stay global."""
    a = sp.triu(adjacency, k=1, format="coo")
    keep = labels[a.row] == labels[a.col]
    inner = sp.coo_matrix((a.data[keep], (a.row[keep], a.col[keep])), shape=a.shape)
    sub = lei.prepare((inner + inner.T).tocsr(), prep.node_weights)
    out = lei.run(sub, 0.0, gamma=prep.gamma(r), seed=seed, n_iterations=n_iterations, beta=beta)
    # keep communities nested in the base ones (isolated nodes stay with their base)
    pair = labels.astype(np.int64) * (int(out.max()) + 1) + out
    return lei.canonical(np.unique(pair, return_inverse=True)[1].ravel())


def modularity(adjacency: sp.spmatrix, labels: np.ndarray, resolution: float = 1.0) -> float:
    """Newman–Girvan modularity (with resolution) of *labels* on a symmetric adjacency."""
    a = sp.csr_matrix(adjacency)
    two_m = float(a.sum())
    if two_m == 0 or len(labels) == 0:
        return 0.0
    k = int(labels.max()) + 1
    s = sp.csr_matrix(
        (np.ones(len(labels)), (np.arange(len(labels)), labels)), shape=(len(labels), k)
    )
    internal = (s.T @ a @ s).diagonal()
    deg = np.bincount(labels, weights=np.asarray(a.sum(axis=1)).ravel(), minlength=k)
    return float(np.sum(internal / two_m - resolution * (deg / two_m) ** 2))


def detect(
    graph: Graph | sp.spmatrix, *, resolution: float | str = "auto", seed: int = 0, **params: object
) -> np.ndarray:
    """Function twin of :class:`Leiden`: the community label of every node."""
    return Leiden(resolution=resolution, seed=seed, **params).fit(graph).labels_  # type: ignore[arg-type]
