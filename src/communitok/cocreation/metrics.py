"""Cascade metrics on a co-creation :class:`~communitok.cocreation.links.Forest`.

Everything is vectorised and (near) linear in the number of videos:

* **root and depth** by pointer doubling (``O(n log depth)``);
* **subtree sizes** level by level from the deepest (``O(n)`` work);
* **structural virality** (Goel et al. 2016), the mean shortest-path distance over all
  pairs of nodes of a tree, computed *exactly* from the Wiener index of a tree
  ``W = Σ_edges s·(n − s)`` (each edge lies on the path of the ``s·(n − s)`` pairs it
  separates; Wiener 1947, Mohar & Pisanski 1988), so ``ν = 2W / (n(n − 1))``: a star
  has ``ν → 2``, a chain ``ν = (n + 1)/3``;
* **breadth**: the largest number of nodes at one depth;
* **time to half size**: from the root's upload to the upload of the
  ``ceil((n − 1)/2)``-th co-creation (half of the children; for a pair, the first
  response);
* **communities reached**: distinct communities of the cascade's videos (a video may
  belong to several).

References: S. Goel, A. Anderson, J. Hofman, D. Watts, "The structural virality of
online diffusion", Management Science 62(1):180-196, 2016; H. Wiener, "Structural
determination of paraffin boiling points", JACS 69(1), 1947.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..core.errors import InputError
from .links import Forest

_NO_TIME = Forest.NO_TIME
_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Structure:
    """Per node: root index, depth (root = 0) and subtree size (itself included)."""

    root: np.ndarray
    depth: np.ndarray
    subtree: np.ndarray


def tree_structure(forest: Forest) -> Structure:
    """Roots, depths and subtree sizes of *forest* (which must be acyclic)."""
    parent = forest.parent
    n = parent.size
    idx = np.arange(n)
    anc = np.where(parent < 0, idx, parent)
    dist = (parent >= 0).astype(np.int64)
    for _ in range(64):
        up = parent[anc] >= 0
        if not up.any():
            break
        dist = dist + np.where(up, dist[anc], 0)
        anc = np.where(up, anc[anc], anc)
    else:  # pragma: no cover - build_forest breaks cycles
        raise InputError("the parent pointers contain a cycle", field="parent")
    size = np.ones(n, np.int64)
    if n and dist.max() > 0:
        order = np.argsort(-dist, kind="stable")
        d_sorted = dist[order]
        bounds = np.flatnonzero(np.diff(d_sorted)) + 1
        for level in np.split(order, bounds):
            if dist[level[0]] == 0:
                break
            np.add.at(size, parent[level], size[level])
    return Structure(anc, dist, size)


def _group_codes(
    memberships: pa.Table | None, forest: Forest
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(node index, community code) pairs and the community names."""
    if memberships is None or memberships.num_rows == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), []
    for c in ("video_id", "community_id"):
        if c not in memberships.column_names:
            raise InputError(f"memberships need column {c!r}", field=c)
    m = memberships.drop_null()
    vid = np.asarray(m.column("video_id").cast(pa.string()).to_pylist(), dtype=object).astype(str)
    com = np.asarray(m.column("community_id").cast(pa.string()).to_pylist(), dtype=object)
    node = forest.video_id.astype(str)
    sorter = np.argsort(node)
    pos = np.searchsorted(node, vid, sorter=sorter)
    pos = np.minimum(pos, max(node.size - 1, 0))
    hit = node[sorter[pos]] == vid if node.size else np.zeros(vid.size, bool)
    names, code = np.unique(com[hit].astype(str), return_inverse=True)
    return sorter[pos[hit]], code, names.tolist()


def cascade_metrics(
    forest: Forest,
    memberships: pa.Table | None = None,
    *,
    min_size: int = 2,
    structure: Structure | None = None,
) -> pa.Table:
    """One row per cascade (tree) of at least *min_size* videos.

    Columns: ``cascade_id`` (root video), ``root_creator``, ``root_known``, ``size``,
    ``depth``, ``max_breadth``, ``wiener_index``, ``structural_virality`` (NaN for a
    single video), ``n_creators``, ``start``, ``time_to_half_s``, ``duration_s``,
    ``communities_reached``, ``communities`` and ``root_communities``. Sorted by size.
    """
    if min_size < 1:
        raise InputError("must be >= 1", field="min_size")
    st = structure or tree_structure(forest)
    n = forest.n
    root, depth, sub = st.root, st.depth, st.subtree
    size_by_root = np.bincount(root, minlength=n)
    roots = np.flatnonzero((forest.parent < 0) & (size_by_root >= min_size))
    if roots.size == 0:
        return _empty_metrics()
    csize = size_by_root[root]
    nonroot = forest.parent >= 0
    wiener = np.zeros(n, np.int64)
    np.add.at(wiener, root[nonroot], sub[nonroot] * (csize[nonroot] - sub[nonroot]))
    maxdepth = np.zeros(n, np.int64)
    np.maximum.at(maxdepth, root, depth)
    key = root.astype(np.int64) * (int(depth.max()) + 1) + depth
    uk, cnt = np.unique(key, return_counts=True)
    breadth = np.zeros(n, np.int64)
    np.maximum.at(breadth, uk // (int(depth.max()) + 1), cnt)
    # creators per cascade
    _, cre = np.unique(forest.creator_id.astype(str), return_inverse=True)
    has_c = forest.creator_id.astype(str) != ""
    pairs = np.unique(
        root[has_c].astype(np.int64) * (cre.max() + 1 if cre.size else 1) + cre[has_c]
    )
    n_creators = np.bincount(pairs // (cre.max() + 1 if cre.size else 1), minlength=n)
    # times: start = root time, or the earliest known time when the root has none
    t = forest.time_us
    known_t = t != _NO_TIME
    tmin = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(tmin, root[known_t], t[known_t])
    tmax = np.full(n, _NO_TIME)
    np.maximum.at(tmax, root[known_t], t[known_t])
    start = np.where(t != _NO_TIME, t, tmin)  # indexed by root
    # the ceil((n-1)/2)-th child (index n // 2 with the root first), known times only
    order = np.lexsort((t, root))
    order = order[known_t[order]]
    r_sorted = root[order]
    first = np.searchsorted(r_sorted, roots)
    n_known = np.searchsorted(r_sorted, roots, side="right") - first
    k = np.minimum(size_by_root[roots] // 2, np.maximum(n_known, 1) - 1)  # 0-based
    has_time = n_known > 0
    kth = np.zeros(roots.size, np.int64)
    if order.size:
        kth[has_time] = t[order[first[has_time] + k[has_time]]]
    s_r = start[roots]
    half = np.where(has_time, (kth - s_r) / 1e6, np.nan)
    dur = np.where(has_time, (tmax[roots] - s_r) / 1e6, np.nan)
    # communities reached
    mi, mc, names = _group_codes(memberships, forest)
    comm_lists: list[list[str]] = [[] for _ in range(roots.size)]
    root_comms: list[list[str]] = [[] for _ in range(roots.size)]
    if mi.size:
        slot = np.full(n, -1, np.int64)
        slot[roots] = np.arange(roots.size)
        s = slot[root[mi]]
        ok = s >= 0
        pairs_c = np.unique(np.stack([s[ok], mc[ok]], 1), axis=0)
        for a, b in pairs_c.tolist():
            comm_lists[a].append(names[b])
        is_root = mi == root[mi]
        for a, b in zip(s[ok & is_root].tolist(), mc[ok & is_root].tolist(), strict=True):
            root_comms[a].append(names[b])
    m = size_by_root[roots]
    sv = np.where(m > 1, 2.0 * wiener[roots] / np.maximum(m * (m - 1), 1), np.nan)
    tab = pa.table(
        {
            "cascade_id": pa.array(forest.video_id[roots].astype(str).tolist(), pa.string()),
            "root_creator": pa.array(forest.creator_id[roots].astype(str).tolist(), pa.string()),
            "root_known": pa.array(forest.known[roots]),
            "size": pa.array(m, pa.int64()),
            "depth": pa.array(maxdepth[roots], pa.int64()),
            "max_breadth": pa.array(breadth[roots], pa.int64()),
            "wiener_index": pa.array(wiener[roots], pa.int64()),
            "structural_virality": pa.array(sv, pa.float64()),
            "n_creators": pa.array(n_creators[roots], pa.int64()),
            "start": _ts_or_null(s_r, has_time),
            "time_to_half_s": pa.array(half, pa.float64(), mask=~has_time),
            "duration_s": pa.array(dur, pa.float64(), mask=~has_time),
            "communities_reached": pa.array([len(c) for c in comm_lists], pa.int64()),
            "communities": pa.array(comm_lists, pa.list_(pa.string())),
            "root_communities": pa.array(root_comms, pa.list_(pa.string())),
        }
    )
    return tab.sort_by([("size", "descending"), ("cascade_id", "ascending")])


def _ts_or_null(us: np.ndarray, valid: np.ndarray) -> pa.Array:
    return pa.array(np.where(valid, us, 0), pa.int64(), mask=~valid).cast(_TS)


def _empty_metrics() -> pa.Table:
    return pa.schema(
        [
            ("cascade_id", pa.string()),
            ("root_creator", pa.string()),
            ("root_known", pa.bool_()),
            ("size", pa.int64()),
            ("depth", pa.int64()),
            ("max_breadth", pa.int64()),
            ("wiener_index", pa.int64()),
            ("structural_virality", pa.float64()),
            ("n_creators", pa.int64()),
            ("start", _TS),
            ("time_to_half_s", pa.float64()),
            ("duration_s", pa.float64()),
            ("communities_reached", pa.int64()),
            ("communities", pa.list_(pa.string())),
            ("root_communities", pa.list_(pa.string())),
        ]
    ).empty_table()


def node_table(forest: Forest, structure: Structure | None = None) -> pa.Table:
    """One row per video in a cascade of two or more: its cascade, parent, depth, subtree."""
    st = structure or tree_structure(forest)
    size_by_root = np.bincount(st.root, minlength=forest.n)
    keep = size_by_root[st.root] >= 2
    vid = forest.video_id.astype(str)
    par = np.where(forest.parent >= 0, forest.parent, 0)
    valid_t = forest.time_us != _NO_TIME
    return pa.table(
        {
            "video_id": pa.array(vid[keep].tolist(), pa.string()),
            "cascade_id": pa.array(vid[st.root[keep]].tolist(), pa.string()),
            "parent_video_id": pa.array(
                vid[par[keep]].tolist(), pa.string(), mask=forest.parent[keep] < 0
            ),
            "kind": pa.array(forest.kind[keep].astype(str).tolist(), pa.string()),
            "creator_id": pa.array(forest.creator_id[keep].astype(str).tolist(), pa.string()),
            "created_at": _ts_or_null(forest.time_us[keep], valid_t[keep]),
            "depth": pa.array(st.depth[keep], pa.int64()),
            "subtree_size": pa.array(st.subtree[keep], pa.int64()),
        }
    )


def creator_sparks(forest: Forest, structure: Structure | None = None) -> pa.Table:
    """How much co-creation each creator sparks.

    Columns: ``creator_id``, ``videos_sparking`` (their videos with at least one child),
    ``direct_cocreations`` (children posted by *other* creators), ``self_cocreations``,
    ``descendants`` (all videos below their videos; nested own videos count again),
    ``distinct_cocreators``, ``cascades_rooted`` (cascades of 2+ they started) and
    ``largest_cascade``. Sorted by direct co-creations.
    """
    st = structure or tree_structure(forest)
    cid = forest.creator_id.astype(str)
    names, code = np.unique(cid, return_inverse=True)
    k = names.size
    has_p = forest.parent >= 0
    c_child = code[has_p]
    c_par = code[forest.parent[has_p]]
    other = c_child != c_par
    direct = np.bincount(c_par[other], minlength=k)
    selfc = np.bincount(c_par[~other], minlength=k)
    n_children = np.bincount(forest.parent[has_p], minlength=forest.n)
    sparking = np.bincount(code[n_children > 0], minlength=k)
    desc = np.bincount(code, weights=st.subtree - 1, minlength=k).astype(np.int64)
    pairs = np.unique(c_par[other].astype(np.int64) * k + c_child[other])
    distinct = np.bincount(pairs // max(k, 1), minlength=k)
    size_by_root = np.bincount(st.root, minlength=forest.n)
    is_casc = (forest.parent < 0) & (size_by_root >= 2)
    rooted = np.bincount(code[is_casc], minlength=k)
    largest = np.zeros(k, np.int64)
    np.maximum.at(largest, code[is_casc], size_by_root[is_casc])
    keep = (names != "") & ((direct + selfc) > 0)
    tab = pa.table(
        {
            "creator_id": pa.array(names[keep].tolist(), pa.string()),
            "videos_sparking": pa.array(sparking[keep], pa.int64()),
            "direct_cocreations": pa.array(direct[keep], pa.int64()),
            "self_cocreations": pa.array(selfc[keep], pa.int64()),
            "descendants": pa.array(desc[keep], pa.int64()),
            "distinct_cocreators": pa.array(distinct[keep], pa.int64()),
            "cascades_rooted": pa.array(rooted[keep], pa.int64()),
            "largest_cascade": pa.array(largest[keep], pa.int64()),
        }
    )
    return tab.sort_by([("direct_cocreations", "descending"), ("creator_id", "ascending")])


@dataclass(frozen=True)
class Distribution:
    """Count, mean, quantiles and maximum of a sample (NaN when empty)."""

    count: int
    mean: float
    p50: float
    p90: float
    p99: float
    max: float

    def to_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in ("count", "mean", "p50", "p90", "p99", "max")}


def distribution(values: np.ndarray | pa.Array | pa.ChunkedArray) -> Distribution:
    """Summary of *values* with NaN and nulls dropped."""
    if isinstance(values, pa.ChunkedArray | pa.Array):
        values = np.asarray(
            values.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        )
    x = np.asarray(values, np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        nan = float("nan")
        return Distribution(0, nan, nan, nan, nan, nan)
    q = np.quantile(x, [0.5, 0.9, 0.99])
    return Distribution(
        int(x.size), float(x.mean()), float(q[0]), float(q[1]), float(q[2]), float(x.max())
    )
