"""Engine wiring for co-creation cascades (:mod:`communitok.cocreation`).

:func:`build_cascades` reads ``cocreation_links``, ``videos`` and ``sounds`` (and the
community membership, see :func:`communitok.engine.trends.resolve_communities`),
builds the forest and stores ``cascades`` (one row per tree of 2+ videos),
``cascade_nodes``, ``creator_sparks`` and ``cascade_issues`` (every repaired link),
with the size / depth / structural-virality distributions in the run summary.
:func:`predict_cascades` adds ``cascade_predictions`` (SEISMIC final size from the
first hour, doubling probability).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from ..cocreation import (
    DEFAULT_KINDS,
    DoublingPredictor,
    SeismicPredictor,
    build_forest,
    cascade_metrics,
    creator_sparks,
    distribution,
    node_table,
    tree_structure,
)
from ..core.errors import CommunitokError, InputError, NotFound
from ..store.base import in_key_order
from .trend_sql import MAP_RESULT, _fingerprint, resolve_communities

if TYPE_CHECKING:
    from .core import Engine

RESULTS = ("cascades", "cascade_nodes", "creator_sparks", "cascade_issues")
SORT_KEYS = ("size", "depth", "structural_virality", "max_breadth", "communities_reached")


@dataclass
class CascadeRun:
    """What :func:`build_cascades` computed (and stored)."""

    cascades: pa.Table
    nodes: pa.Table
    creators: pa.Table
    issues: pa.Table

    def summary(self) -> dict[str, Any]:
        c = self.cascades
        issues = (
            pc.value_counts(self.issues.column("issue")).to_pylist() if self.issues.num_rows else []
        )
        return {
            "n_cascades": c.num_rows,
            "n_videos_in_cascades": int(pc.sum(c.column("size")).as_py() or 0) if c.num_rows else 0,
            "size": distribution(c.column("size")).to_dict(),
            "depth": distribution(c.column("depth")).to_dict(),
            "structural_virality": distribution(c.column("structural_virality")).to_dict(),
            "issues": {d["values"]: d["counts"] for d in issues},
        }


def build_cascades(
    engine: Engine,
    *,
    communities: pa.Table | str | None = None,
    kinds: tuple[str, ...] = DEFAULT_KINDS,
    sound_attribution: str = "auto",
    min_size: int = 2,
) -> CascadeRun:
    """Build every co-creation tree in the store and store its metrics."""
    store = engine.store
    params = {"kinds": list(kinds), "sound_attribution": sound_attribution, "min_size": min_size}

    def work() -> CascadeRun:
        # inputs in key order: the forest's tie-breaks must not depend on the backend
        links = in_key_order(
            store.read(
                "cocreation_links", ["child_video_id", "parent_video_id", "kind", "created_at"]
            ),
            "cocreation_links",
        )
        videos = in_key_order(
            store.read(
                "videos", ["video_id", "creator_id", "created_at", "sound_id", "view_count"]
            ),
            "videos",
        )
        sounds = in_key_order(store.read("sounds", ["sound_id", "is_original"]), "sounds")  # fmt: skip
        members = resolve_communities(store, communities)
        # in (video, community) order: a video's communities are listed in this order
        mem = store.read(MAP_RESULT).sort_by([("video_id", "ascending"), ("community_id", "ascending")]) \
            if members else None  # fmt: skip
        forest = build_forest(links, videos, kinds=kinds, sound_attribution=sound_attribution,
                              sounds=sounds if sounds.num_rows else None)  # fmt: skip
        st = tree_structure(forest)
        run = CascadeRun(
            cascade_metrics(forest, mem, min_size=min_size, structure=st),
            node_table(forest, st), creator_sparks(forest, st), forest.issues,
        )  # fmt: skip
        for name, tab in zip(
            RESULTS, (run.cascades, run.nodes, run.creators, run.issues), strict=True
        ):
            store.put_result(name, tab)
        return run

    return engine._run("cascades-build", params, work, fingerprint=_fingerprint(store),
                       summarize=lambda r: r.summary())  # fmt: skip


def _ensure(engine: Engine, name: str = "cascades") -> pa.Table:
    if not engine.store.has_result(name):
        build_cascades(engine)
    return engine.store.read(name)


def top_cascades(
    engine: Engine, *, n: int = 20, by: str = "size", community: str | None = None
) -> pa.Table:
    """The *n* largest cascades by *by* (built when missing), optionally those reaching
    *community*."""
    if by not in SORT_KEYS:
        raise InputError(f"must be one of {SORT_KEYS}", field="by")
    if n < 1:
        raise InputError("must be >= 1", field="n")
    t = _ensure(engine)
    if community:
        reach = [community in (c or []) for c in t.column("communities").to_pylist()]
        t = t.filter(pa.array(reach, pa.bool_()))
    return t.sort_by(
        [(by, "descending"), ("size", "descending"), ("cascade_id", "ascending")]
    ).slice(0, n)


@dataclass
class CascadeDetail:
    """One cascade: its metrics row, its videos and (when computed) its prediction."""

    metrics: pa.Table
    nodes: pa.Table
    prediction: pa.Table | None


def show_cascade(engine: Engine, cascade_id: str) -> CascadeDetail:
    """Metrics and videos of cascade *cascade_id* (its root video id; a video inside a
    cascade also finds it)."""
    t = _ensure(engine)
    nodes = _ensure(engine, "cascade_nodes")
    hit = t.filter(pc.equal(t.column("cascade_id"), cascade_id))
    if hit.num_rows == 0:
        inside = nodes.filter(pc.equal(nodes.column("video_id"), cascade_id))
        if inside.num_rows == 0:
            raise NotFound(f"no cascade with root or member video {cascade_id!r}")
        cascade_id = inside.column("cascade_id")[0].as_py()
        hit = t.filter(pc.equal(t.column("cascade_id"), cascade_id))
    nd = nodes.filter(pc.equal(nodes.column("cascade_id"), cascade_id)).sort_by(
        [("depth", "ascending"), ("created_at", "ascending")]
    )
    pred = None
    if engine.store.has_result("cascade_predictions"):
        p = engine.store.read("cascade_predictions")
        pred = p.filter(pc.equal(p.column("cascade_id"), cascade_id))
    return CascadeDetail(hit, nd, pred)


def cascade_nodes_with_followers(engine: Engine) -> pa.Table:
    """Cascade nodes with the uploader's ``followers`` (the SEISMIC exposure) and the
    video's community (from the membership used for the cascades, when any)."""
    nodes = _ensure(engine, "cascade_nodes")
    cre = engine.store.read("creators", ["creator_id", "follower_count"])
    out = nodes.join(cre, "creator_id", join_type="left outer", use_threads=False)
    out = out.rename_columns(
        ["followers" if c == "follower_count" else c for c in out.column_names]
    )
    if engine.store.has_result(MAP_RESULT):
        mem = engine.store.read(MAP_RESULT)
        first = mem.group_by("video_id").aggregate([("community_id", "min")])
        first = first.rename_columns(["video_id", "community"])
        out = out.join(first, "video_id", join_type="left outer", use_threads=False)
    return out


def predict_cascades(
    engine: Engine,
    *,
    observe_s: float = 3600.0,
    k: int = 5,
    tune: bool = True,
    seed: int | None = None,
) -> pa.Table:
    """SEISMIC final-size predictions from the first *observe_s* seconds of every
    cascade (kernel tuned on the stored, finished cascades when *tune*), plus the
    probability of doubling past ``2k`` for cascades with at least *k* children.
    Stored as ``cascade_predictions``; the run summary has the median relative error
    and the cross-validated doubling accuracy / AUC."""
    seed = engine.settings.seed if seed is None else seed
    params = {"observe_s": observe_s, "k": k, "tune": tune}

    def work() -> tuple[pa.Table, dict[str, Any]]:
        nodes = cascade_nodes_with_followers(engine)
        sp = SeismicPredictor(observe_s=observe_s).fit(nodes, tune=tune)
        pred = sp.predict(nodes)
        fin = pred.column("final_size").to_numpy()
        est = pred.column("predicted_size").to_numpy()
        rel = abs(est - fin) / fin
        summary: dict[str, Any] = {"median_rel_error": float(sorted(rel)[len(rel) // 2]) if len(rel) else None,
                                   "theta": sp.kernel_.theta, "s0": sp.kernel_.s0, "alpha": sp.alpha_}  # fmt: skip
        try:
            dp = DoublingPredictor(k=k, seed=seed)
            summary["doubling"] = dp.evaluate(nodes).__dict__
            proba = dp.fit(nodes).predict_proba(nodes)
            pred = pred.join(proba, "cascade_id", join_type="left outer", use_threads=False)
        except CommunitokError as exc:
            summary["doubling"] = {"skipped": str(exc)}
            pred = pred.append_column("p_double", pa.nulls(pred.num_rows, pa.float64()))
        engine.store.put_result("cascade_predictions", pred)
        return pred, summary

    pred, _ = engine._run("cascades-predict", params, work, seed=seed, fingerprint=_fingerprint(engine.store),
                          summarize=lambda r: r[1])  # fmt: skip
    return pred
