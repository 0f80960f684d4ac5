"""Predicting cascades early: final size from the first hour, and "will it double?".

**SEISMIC** (Zhao, Erdogdu, He, Rajaraman & Leskovec, "SEISMIC: A Self-Exciting Point
Process Model for Predicting Tweet Popularity", KDD 2015). Each video of a cascade
exposes its creator's ``n_i`` followers; the co-creation rate is
``λ(t) = p · Σ_i n_i φ(t − t_i)`` with the memory kernel ``φ(s) = c`` for
``s ≤ s0`` and ``c (s/s0)^-(1+θ)`` after (Twitter: ``s0`` = 5 min, ``θ`` = 0.242).
At observation time ``t`` the infectiousness is ``p̂ = R_t / N^e_t`` (``R_t`` children
so far, ``N^e_t = Σ n_i Φ(t − t_i)`` the *effective* exposures) and the final number
of children is predicted as the branching-process limit
``R_∞ = R_t + α p̂ (N_t − N^e_t) / (1 − γ p̂ n*)`` with ``N_t = Σ n_i`` and ``n*`` the
mean followers of a co-creator. ``α = γ = 1`` is the paper's untrained form; when
``1 − γ p̂ n* ≤ 0`` (super-critical) the prediction is capped at ``cap × R_t``.
:meth:`SeismicPredictor.fit` can tune ``θ``, ``s0`` and ``α`` on finished cascades.

**Doubling** (Cheng, Adamic, Dow, Kleinberg & Leskovec, "Can cascades be predicted?",
WWW 2014): once a cascade has ``k`` children, will it reach ``2k``? A logistic
regression on temporal (time to the k-th child, speed-up between halves), structural
(depth, share of direct children, distinct parents), root (followers) and co-creator
features (followers, distinct creators, communities) of the first ``k`` children.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError
from ..core.seeds import rng as make_rng


@dataclass(frozen=True)
class Kernel:
    """SEISMIC's power-law memory kernel (normalised to integrate to one)."""

    s0: float = 300.0
    theta: float = 0.242

    def cdf(self, s: np.ndarray) -> np.ndarray:
        """``Φ(s) = ∫_0^s φ``: the share of a video's exposure already spent after *s*."""
        s = np.maximum(np.asarray(s, np.float64), 0.0)
        c = 1.0 / (self.s0 * (1.0 + 1.0 / self.theta))
        early = c * s
        late = (
            c
            * self.s0
            * (1.0 + (1.0 - (np.maximum(s, self.s0) / self.s0) ** -self.theta) / self.theta)
        )
        return np.where(s <= self.s0, early, late)


@dataclass(frozen=True)
class _Obs:
    ids: np.ndarray  # cascade ids, one per cascade
    code: np.ndarray  # cascade code per node
    rel_s: np.ndarray  # seconds since the root
    followers: np.ndarray
    depth: np.ndarray
    is_root: np.ndarray
    community: np.ndarray  # int code per node (-1 unknown)
    final_children: np.ndarray  # per cascade


def _observations(nodes: pa.Table) -> _Obs:
    for c in ("cascade_id", "video_id", "created_at"):
        if c not in nodes.column_names:
            raise InputError(f"cascade nodes need column {c!r}", field=c)
    nodes = nodes.filter(pc.is_valid(nodes.column("created_at")))
    cid = np.asarray(nodes.column("cascade_id").cast(pa.string()).to_pylist(), object).astype(str)
    vid = np.asarray(nodes.column("video_id").cast(pa.string()).to_pylist(), object).astype(str)
    ids, code = np.unique(cid, return_inverse=True)
    t = np.asarray(nodes.column("created_at").cast(pa.int64()).to_numpy(), np.float64) / 1e6
    is_root = cid == vid
    t0 = np.full(ids.size, np.inf)
    np.minimum.at(t0, code[is_root], t[is_root])
    missing = ~np.isfinite(t0)
    if missing.any():  # root without a time: start at the first child
        tmin = np.full(ids.size, np.inf)
        np.minimum.at(tmin, code, t)
        t0 = np.where(missing, tmin, t0)
    rel = np.maximum(t - t0[code], 0.0)

    def num(name: str, default: float) -> np.ndarray:
        if name not in nodes.column_names:
            return np.full(nodes.num_rows, default)
        a = nodes.column(name).cast(pa.float64()).fill_null(default)
        return np.asarray(a.to_numpy(), np.float64)

    fol = np.maximum(num("followers", 1.0), 0.0)
    depth = num("depth", 1.0)
    if "community" in nodes.column_names:
        comm = nodes.column("community").cast(pa.string()).fill_null("")
        names, cc = np.unique(np.asarray(comm.to_pylist(), object).astype(str), return_inverse=True)
        cc = np.where(names[cc] == "", -1, cc)
    else:
        cc = np.full(nodes.num_rows, -1)
    final = np.bincount(code[~is_root], minlength=ids.size)
    return _Obs(ids, code, rel, fol, depth, is_root, cc, final)


@dataclass
class SeismicPredictor:
    """Final cascade size from its first ``observe_s`` seconds (SEISMIC, see module doc).

    Input *nodes*: one row per video with ``cascade_id`` (the root's video id),
    ``video_id``, ``created_at`` and optionally ``followers`` (exposure of each video;
    1 when absent, which turns the model into a plain Hawkes process).
    """

    observe_s: float = 3600.0
    kernel: Kernel = Kernel()
    alpha: float = 1.0
    gamma: float = 1.0
    n_star: float | None = None
    cap: float = 50.0

    def __post_init__(self) -> None:
        if not self.observe_s > 0:
            raise InputError("must be > 0", field="observe_s")
        if not (self.kernel.s0 > 0 and self.kernel.theta > 0):
            raise InputError("kernel needs s0 > 0 and theta > 0", field="kernel")
        if self.cap < 1:
            raise InputError("must be >= 1", field="cap")

    def _raw(self, obs: _Obs, kernel: Kernel, n_star: float) -> tuple[np.ndarray, ...]:
        seen = obs.rel_s <= self.observe_s
        k = obs.ids.size
        r_t = np.bincount(obs.code[seen & ~obs.is_root], minlength=k).astype(np.float64)
        n_t = np.bincount(obs.code[seen], weights=obs.followers[seen], minlength=k)
        phi = kernel.cdf(self.observe_s - obs.rel_s[seen])
        n_e = np.bincount(obs.code[seen], weights=obs.followers[seen] * phi, minlength=k)
        p_hat = np.where(n_e > 0, r_t / np.maximum(n_e, 1e-12), 0.0)
        return r_t, n_t, n_e, p_hat

    def _predict(
        self, obs: _Obs, kernel: Kernel, alpha: float, n_star: float
    ) -> tuple[np.ndarray, ...]:
        r_t, n_t, n_e, p_hat = self._raw(obs, kernel, n_star)
        denom = 1.0 - self.gamma * p_hat * n_star
        sup = denom <= 1e-3
        extra = alpha * p_hat * np.maximum(n_t - n_e, 0.0) / np.where(sup, 1.0, denom)
        pred = np.where(sup, r_t * self.cap, r_t + extra)
        pred = np.minimum(pred, np.maximum(r_t * self.cap, r_t + 1))
        return r_t, pred, p_hat, sup

    def fit(self, nodes: pa.Table, *, tune: bool = True) -> SeismicPredictor:
        """Estimate ``n*`` (mean followers of a co-creator) and, with *tune*, pick the
        kernel's ``θ``/``s0`` and the correction ``α`` that minimise the median absolute
        log error of the predicted number of children on these finished cascades."""
        obs = _observations(nodes)
        kids = obs.followers[~obs.is_root]
        self.n_star_ = float(kids.mean()) if kids.size else 1.0
        self.kernel_, self.alpha_ = self.kernel, self.alpha
        if tune and obs.ids.size:
            best = (np.inf, self.kernel, self.alpha)
            y = np.log1p(obs.final_children)
            for theta in (0.05, 0.1, 0.242, 0.5, 1.0):
                for s0 in (60.0, 300.0, 1800.0, 7200.0):
                    kern = Kernel(s0, theta)
                    r_t, pred, _, _ = self._predict(obs, kern, 1.0, self.n_star_)
                    grow = pred - r_t
                    ok = grow > 0
                    # α that best matches log(1 + R_t + α·grow) to y: grid in log space
                    for alpha in np.geomspace(0.05, 20, 25):
                        err = np.abs(np.log1p(r_t + alpha * grow) - y)
                        score = float(np.median(err[ok])) if ok.any() else np.inf
                        if score < best[0]:
                            best = (score, kern, float(alpha))
            self.kernel_, self.alpha_ = best[1], best[2]
        return self

    def predict(self, nodes: pa.Table) -> pa.Table:
        """Per cascade: ``observed_children`` (by ``observe_s``), ``predicted_children``,
        ``predicted_size`` (children + root), ``infectiousness`` and ``supercritical``."""
        obs = _observations(nodes)
        kern = getattr(self, "kernel_", self.kernel)
        alpha = getattr(self, "alpha_", self.alpha)
        n_star = self.n_star if self.n_star is not None else getattr(self, "n_star_", None)
        if n_star is None:
            kids = obs.followers[~obs.is_root]
            n_star = float(kids.mean()) if kids.size else 1.0
        r_t, pred, p_hat, sup = self._predict(obs, kern, alpha, n_star)
        return pa.table(
            {
                "cascade_id": pa.array(obs.ids.tolist(), pa.string()),
                "observed_children": pa.array(r_t.astype(np.int64)),
                "predicted_children": pa.array(pred),
                "predicted_size": pa.array(pred + 1.0),
                "final_size": pa.array(obs.final_children + 1),
                "infectiousness": pa.array(p_hat),
                "supercritical": pa.array(sup),
            }
        )


def seismic_predict(nodes: pa.Table, *, observe_s: float = 3600.0, **kw: object) -> pa.Table:
    """One-shot untrained SEISMIC (``α = γ = 1``, Twitter kernel): see :class:`SeismicPredictor`."""
    return SeismicPredictor(observe_s=observe_s, **kw).predict(nodes)  # type: ignore[arg-type]


FEATURES = (
    "log_time_to_k", "log_time_first_half", "log_time_second_half", "speedup",
    "max_depth", "share_direct", "distinct_parents_share", "log_root_followers",
    "mean_log_followers", "max_log_followers", "distinct_creators_share", "n_communities",
)  # fmt: skip


def doubling_features(nodes: pa.Table, k: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(cascade_ids, X, doubled)`` for cascades with at least *k* children.

    Uses only the first *k* children (by upload time) of each cascade; ``doubled`` is
    whether the cascade ended with ``≥ 2k`` children. Optional columns: ``depth``,
    ``parent_video_id``, ``followers``, ``creator_id``, ``community``.
    """
    if k < 2:
        raise InputError("must be >= 2", field="k")
    obs = _observations(nodes)
    keep_c = obs.final_children >= k
    order = np.lexsort(
        (obs.rel_s, ~obs.is_root, obs.code)
    )  # per cascade: root, then children by time
    code, child = obs.code[order], ~obs.is_root[order]
    starts = np.searchsorted(code, np.arange(obs.ids.size))
    root_count = np.bincount(code[~child], minlength=obs.ids.size)
    rank = np.arange(code.size) - starts[code] - root_count[code]  # rank among children
    sel = child & (rank < k) & keep_c[code]
    o = order[sel]
    c = code[sel]
    r = rank[sel]
    ids = np.flatnonzero(keep_c)
    slot = np.full(obs.ids.size, -1)
    slot[ids] = np.arange(ids.size)
    s = slot[c]
    m = ids.size
    times = np.zeros((m, k))
    times[s, r] = obs.rel_s[o]
    depth = np.zeros((m, k))
    depth[s, r] = obs.depth[o]
    fol = np.zeros((m, k))
    fol[s, r] = np.log1p(obs.followers[o])
    root_f = np.zeros(obs.ids.size)
    root_f[obs.code[obs.is_root]] = np.log1p(obs.followers[obs.is_root])
    half = k // 2
    t_k = times[:, -1]
    t_h = times[:, half - 1]
    x = np.column_stack(
        [
            np.log1p(t_k),
            np.log1p(t_h),
            np.log1p(t_k - t_h),
            np.log1p(t_h) - np.log1p(t_k - t_h),
            depth.max(1),
            (depth == 1).mean(1),
            _distinct_share(nodes, obs, o, s, m, "parent_video_id"),
            root_f[ids],
            fol.mean(1),
            fol.max(1),
            _distinct_share(nodes, obs, o, s, m, "creator_id"),
            _distinct_count(obs.community[o], s, m),
        ]
    )
    return obs.ids[ids], x, obs.final_children[ids] >= 2 * k


def _distinct_share(
    nodes: pa.Table, obs: _Obs, o: np.ndarray, s: np.ndarray, m: int, col: str
) -> np.ndarray:
    if col not in nodes.column_names:
        return np.ones(m)
    valid = pc.is_valid(nodes.column("created_at"))
    vals = nodes.filter(valid).column(col).cast(pa.string()).fill_null("")
    _, codes = np.unique(np.asarray(vals.to_pylist(), object).astype(str), return_inverse=True)
    return _distinct_count(codes[o], s, m) / np.maximum(np.bincount(s, minlength=m), 1)


def _distinct_count(vals: np.ndarray, s: np.ndarray, m: int) -> np.ndarray:
    ok = vals >= 0
    pairs = np.unique(np.stack([s[ok], vals[ok]], 1), axis=0) if ok.any() else np.empty((0, 2), int)
    return np.bincount(pairs[:, 0], minlength=m).astype(np.float64) if pairs.size else np.zeros(m)


@dataclass(frozen=True)
class DoublingReport:
    """Cross-validated quality of doubling prediction, with the base rate."""

    k: int
    n_cascades: int
    base_rate: float
    accuracy: float
    auc: float
    majority_accuracy: float
    time_only_accuracy: float
    time_only_auc: float


@dataclass
class DoublingPredictor:
    """Will a cascade with *k* children reach *2k*? (Cheng et al. 2014; see module doc)."""

    k: int = 5
    C: float = 1.0
    seed: int = 0

    def _model(self):  # type: ignore[no-untyped-def]
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=1000))

    def fit(self, nodes: pa.Table) -> DoublingPredictor:
        _, x, y = doubling_features(nodes, self.k)
        if y.size < 4 or y.all() or not y.any():
            raise InputError(
                f"need cascades that do and do not double (got {y.size})", field="nodes"
            )
        self.model_ = self._model().fit(x, y)
        return self

    def predict_proba(self, nodes: pa.Table) -> pa.Table:
        ids, x, _ = doubling_features(nodes, self.k)
        p = self.model_.predict_proba(x)[:, 1] if ids.size else np.empty(0)
        return pa.table(
            {"cascade_id": pa.array(ids.tolist(), pa.string()), "p_double": pa.array(p)}
        )

    def evaluate(self, nodes: pa.Table, folds: int = 5) -> DoublingReport:
        """Stratified *folds*-fold cross-validation (seeded) against a majority-class and a
        time-to-k-only baseline in the same run."""
        from sklearn.metrics import accuracy_score, roc_auc_score
        from sklearn.model_selection import StratifiedKFold

        _, x, y = doubling_features(nodes, self.k)
        if y.size < 2 * folds or min(y.sum(), (~y).sum()) < folds:
            raise InputError(
                f"too few cascades with >= {self.k} children to cross-validate", field="nodes"
            )
        seed = int(make_rng(self.seed).integers(0, 2**31 - 1))
        cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
        p_full, p_time = np.zeros(y.size), np.zeros(y.size)
        for tr, te in cv.split(x, y):
            p_full[te] = self._model().fit(x[tr], y[tr]).predict_proba(x[te])[:, 1]
            p_time[te] = self._model().fit(x[tr][:, :1], y[tr]).predict_proba(x[te][:, :1])[:, 1]
        base = float(y.mean())
        return DoublingReport(
            k=self.k, n_cascades=int(y.size), base_rate=base,
            accuracy=float(accuracy_score(y, p_full >= 0.5)), auc=float(roc_auc_score(y, p_full)),
            majority_accuracy=max(base, 1 - base),
            time_only_accuracy=float(accuracy_score(y, p_time >= 0.5)),
            time_only_auc=float(roc_auc_score(y, p_time)),
        )  # fmt: skip
