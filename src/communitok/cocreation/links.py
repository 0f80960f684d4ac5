"""From co-creation links to a clean forest: one parent per video, no cycles.

A co-creation *cascade* is a tree: the root is an original video, every other node a
duet, stitch or sound reuse of its parent. Raw links are messier than that, so
:func:`build_forest` applies explicit, documented rules and *flags* every repair:

* **repeated links** (the same child, parent and kind twice, e.g. a video collected
  under two hashtags) count once, silently;
* **self links** (a video that claims to stitch itself) are dropped (``self_link``);
* **several parents** (a duet of A that also reuses B's sound): the link kind with the
  highest precedence wins (``duet``/``stitch`` before ``sound_reuse`` before
  ``effect_reuse``), then the earliest parent, then the smallest id
  (``multiple_parents``);
* **unknown parents** (a parent id absent from the videos table, e.g. a deleted video)
  stay as nodes without metadata (``unknown_parent``);
* **clocks out of order** (a parent posted after its child) are kept but flagged
  (``parent_after_child``);
* **cycles** (A stitches B stitches A) are broken by dropping the link of the cycle's
  earliest video (smallest id on ties), which becomes a root (``cycle_broken``).

Sound reuse needs an *attribution rule* because a reused sound names no parent video.
The rule decides the depth of sound cascades (:func:`attribute_sound_reuse`):

* ``"earliest"``: the first video that used the sound (the originator);
  sound cascades are stars of depth 1, the conservative choice.
* ``"most_viewed"``: the most-viewed video that used the sound *before* the child
  (views as seen at collection time, so later popularity leaks backwards);
  the "I saw it on a hit" hypothesis, giving deeper trees.
* ``"previous"``: the immediately preceding use; chains, an upper bound on depth.
* ``"given"``: keep ``sound_reuse`` links as the data set states them.
* ``"auto"`` (default): ``"given"`` when the links contain ``sound_reuse`` rows (the
  simulator and some exports name the parent), else ``"earliest"``.

Only *original* sounds (``sounds.is_original``) are attributed when a sounds table is
passed: using a licensed chart song is not a response to any one video.

References: Goel, Anderson, Hofman & Watts, "The structural virality of online
diffusion", Management Science 62(1), 2016 (cascades as trees, one parent per adopter).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError
from ..core.schema import COCREATION_KINDS

SOUND_RULES = ("auto", "given", "earliest", "most_viewed", "previous")
#: default kinds that make cascades (effects are a style, not a response to a video)
DEFAULT_KINDS = ("duet", "stitch", "sound_reuse")
#: lower value wins when a video has several parents
KIND_PRECEDENCE = {"duet": 0, "stitch": 0, "sound_reuse": 1, "effect_reuse": 2}
_NO_TIME = np.iinfo(np.int64).min


@dataclass(frozen=True)
class Forest:
    """Videos as nodes of co-creation trees (index-based, numpy arrays of length n).

    ``parent[i]`` is the index of the parent of node *i* (``-1`` for a root) and
    ``kind[i]`` the link kind (``""`` for roots). ``time_us`` holds upload times in
    microseconds since the epoch (``Forest.NO_TIME`` when unknown); ``known[i]`` says
    whether the node has a row in the videos table. ``issues`` lists every repair
    (``video_id``, ``other_id``, ``issue``).
    """

    video_id: np.ndarray
    parent: np.ndarray
    kind: np.ndarray
    time_us: np.ndarray
    creator_id: np.ndarray
    known: np.ndarray
    issues: pa.Table

    NO_TIME = _NO_TIME

    @property
    def n(self) -> int:
        return int(self.video_id.size)


def _col(table: pa.Table, name: str, default: object = None) -> pa.ChunkedArray | None:
    if name in table.column_names:
        return table.column(name)
    return None if default is None else pa.chunked_array([pa.nulls(table.num_rows)])


def _time_us(arr: pa.ChunkedArray | pa.Array | None, n: int) -> np.ndarray:
    if arr is None:
        return np.full(n, _NO_TIME, np.int64)
    a = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if pa.types.is_timestamp(a.type):
        a = pc.cast(a, pa.timestamp("us", tz=a.type.tz)).cast(pa.int64())
    return np.asarray(a.fill_null(_NO_TIME).to_numpy(zero_copy_only=False), np.int64)


def _strings(arr: pa.ChunkedArray | None, n: int) -> np.ndarray:
    if arr is None:
        return np.full(n, "", dtype=object)
    return np.asarray(arr.cast(pa.string()).fill_null("").to_numpy(zero_copy_only=False), object)


def attribute_sound_reuse(videos: pa.Table, rule: str = "earliest") -> pa.Table:
    """Sound-reuse links from the ``sound_id`` column of *videos* under *rule*.

    Every video that uses a sound already used by an earlier video becomes a child.
    Ties in upload time are ordered by ``video_id``. Returns a ``cocreation_links``-shaped
    table (``child_video_id``, ``parent_video_id``, ``kind``, ``created_at``).
    """
    if rule not in SOUND_RULES[2:]:
        raise InputError(f"must be one of {SOUND_RULES[2:]}, got {rule!r}", field="rule")
    for c in ("video_id", "sound_id", "created_at"):
        if c not in videos.column_names:
            raise InputError(f"videos table needs column {c!r}", field=c)
    keep = pc.is_valid(videos.column("sound_id"))
    v = videos.filter(pc.and_(keep, pc.is_valid(videos.column("created_at"))))
    n = v.num_rows
    out_schema = pa.schema(
        [
            ("child_video_id", pa.string()),
            ("parent_video_id", pa.string()),
            ("kind", pa.string()),
            ("created_at", pa.timestamp("us", tz="UTC")),
        ]
    )
    if n == 0:
        return out_schema.empty_table()
    vid = _strings(v.column("video_id"), n)
    t = _time_us(v.column("created_at"), n)
    _, sound = np.unique(_strings(v.column("sound_id"), n).astype(str), return_inverse=True)
    order = np.lexsort((vid.astype(str), t, sound))
    s, vid, t = sound[order], vid[order], t[order]
    first = np.r_[True, s[1:] != s[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    pos = np.arange(n)
    if rule == "earliest":
        par = start
    elif rule == "previous":
        par = pos - 1
    else:  # most_viewed: running argmax of views among strictly earlier uses
        views = (
            np.asarray(v.column("view_count").fill_null(0).to_numpy(), np.int64)[order]
            if "view_count" in v.column_names
            else np.zeros(n, np.int64)
        )
        # rank by (views asc, position desc) so the earliest of equal-view videos wins
        rank = np.empty(n, np.int64)
        rank[np.lexsort((-pos, views))] = np.arange(n)
        key = s.astype(np.int64) * (n + 1) + rank
        best = np.maximum.accumulate(key)
        prev_rank = np.r_[0, best[:-1] - s[1:].astype(np.int64) * (n + 1)]
        par = np.argsort(rank)[np.where(first, 0, prev_rank)]
    child = ~first
    ts = pa.array(t[child], pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    return pa.table(
        [
            pa.array(vid[child].tolist(), pa.string()),
            pa.array(vid[par[child]].tolist(), pa.string()),
            pa.array(["sound_reuse"] * int(child.sum()), pa.string()),
            ts,
        ],
        schema=out_schema,
    )


def build_forest(
    links: pa.Table,
    videos: pa.Table | None = None,
    *,
    kinds: Sequence[str] = DEFAULT_KINDS,
    sound_attribution: str = "auto",
    sounds: pa.Table | None = None,
) -> Forest:
    """Build the co-creation forest from *links* (``cocreation_links`` schema).

    *videos* (optional: ``video_id``, ``created_at``, ``creator_id``, ``sound_id``,
    ``view_count``) supplies upload times and creators, and the sound uses that
    *sound_attribution* turns into ``sound_reuse`` links (see the module doc); with
    ``"given"`` the stated ``sound_reuse`` links are kept instead. *sounds*
    (``sound_id``, ``is_original``) restricts derived links to original sounds.
    Every video of *videos* is a node (most are single-node cascades).
    """
    bad = [k for k in kinds if k not in COCREATION_KINDS]
    if bad:
        raise InputError(f"unknown link kinds {bad}; known: {COCREATION_KINDS}", field="kinds")
    if sound_attribution not in SOUND_RULES:
        raise InputError(f"must be one of {SOUND_RULES}", field="sound_attribution")
    for c in ("child_video_id", "parent_video_id", "kind"):
        if c not in links.column_names:
            raise InputError(f"links table needs column {c!r}", field=c)
    lk = pa.table(
        {
            c: links.column(c).cast(pa.string())
            for c in ("child_video_id", "parent_video_id", "kind")
        }
    )
    lk = lk.filter(
        pc.and_(pc.is_valid(lk.column("child_video_id")), pc.is_valid(lk.column("kind")))
    )
    lk = lk.filter(pc.is_in(lk.column("kind"), pa.array(list(kinds), pa.string())))
    rule = sound_attribution
    if rule == "auto":
        has_given = pc.any(pc.equal(lk.column("kind"), "sound_reuse")).as_py()
        rule = "given" if has_given else "earliest"
    use_sounds = "sound_reuse" in kinds and rule != "given" and videos is not None
    if use_sounds and "sound_id" in videos.column_names:  # type: ignore[union-attr]
        lk = lk.filter(pc.not_equal(lk.column("kind"), "sound_reuse"))
        src = videos
        if sounds is not None and "is_original" in sounds.column_names:
            orig = sounds.filter(pc.fill_null(sounds.column("is_original"), False))
            src = videos.filter(pc.is_in(videos.column("sound_id"), orig.column("sound_id")))  # type: ignore[union-attr]
        derived = attribute_sound_reuse(src, rule)
        lk = pa.concat_tables([lk, derived.select(lk.column_names)])

    issues: list[tuple[str, str, str]] = []
    lk = lk.group_by(lk.column_names, use_threads=False).aggregate([])  # exact repeats are one link
    child = _strings(lk.column("child_video_id"), lk.num_rows)
    par = _strings(lk.column("parent_video_id"), lk.num_rows)
    kind = _strings(lk.column("kind"), lk.num_rows)
    empty_parent = par == ""
    for c in child[empty_parent]:
        issues.append((c, "", "missing_parent"))
    selfl = (child == par) & ~empty_parent
    for c in child[selfl]:
        issues.append((c, c, "self_link"))
    ok = ~(selfl | empty_parent)
    child, par, kind = child[ok], par[ok], kind[ok]

    # nodes: every video, then link ends not in videos
    if videos is not None and videos.num_rows:
        vids = _strings(videos.column("video_id"), videos.num_rows)
        vt = _time_us(_col(videos, "created_at"), videos.num_rows)
        vc = _strings(_col(videos, "creator_id"), videos.num_rows)
    else:
        vids, vt, vc = np.empty(0, object), np.empty(0, np.int64), np.empty(0, object)
    vids_u, first_idx = np.unique(vids.astype(str), return_index=True)
    extra = np.setdiff1d(np.unique(np.r_[child, par].astype(str)), vids_u)
    node = np.r_[vids_u, extra].astype(object)
    n = node.size
    known = np.r_[np.ones(vids_u.size, bool), np.zeros(extra.size, bool)]
    t = np.r_[vt[first_idx], np.full(extra.size, _NO_TIME, np.int64)]
    creator = np.r_[vc[first_idx], np.full(extra.size, "", object)]
    sorter = np.argsort(node.astype(str))
    node_s = node.astype(str)[sorter]

    def index(ids: np.ndarray) -> np.ndarray:
        return sorter[np.searchsorted(node_s, ids.astype(str))]

    ci, pi = index(child), index(par)
    if videos is not None:
        for p in np.unique(par[~known[pi]].astype(str)) if pi.size else []:
            issues.append((p, "", "unknown_parent"))

    # one parent per child: precedence, then earliest parent, then smallest id
    prec = np.array([KIND_PRECEDENCE.get(k, 9) for k in kind], np.int64)
    pt = np.where(t[pi] == _NO_TIME, np.iinfo(np.int64).max, t[pi])
    order = np.lexsort((par.astype(str), pt, prec, ci))
    ci, pi, kind = ci[order], pi[order], kind[order]
    first = np.r_[True, ci[1:] != ci[:-1]] if ci.size else np.zeros(0, bool)
    multi_children = np.unique(ci[~first])
    for c in multi_children:
        issues.append((str(node[c]), "", "multiple_parents"))
    ci, pi, kind = ci[first], pi[first], kind[first]
    parent = np.full(n, -1, np.int64)
    parent[ci] = pi
    kinds_out = np.full(n, "", object)
    kinds_out[ci] = kind
    late = (t[pi] != _NO_TIME) & (t[ci] != _NO_TIME) & (t[pi] > t[ci])
    for c, p in zip(ci[late], pi[late], strict=True):
        issues.append((str(node[c]), str(node[p]), "parent_after_child"))

    for cut, old in _break_cycles(parent, t, node):
        issues.append((str(node[cut]), str(node[old]), "cycle_broken"))
        kinds_out[cut] = ""
    issue_tab = pa.table(
        {
            "video_id": pa.array([i[0] for i in issues], pa.string()),
            "other_id": pa.array([i[1] for i in issues], pa.string()),
            "issue": pa.array([i[2] for i in issues], pa.string()),
        }
    )
    return Forest(node, parent, kinds_out, t, creator, known, issue_tab)


def _break_cycles(parent: np.ndarray, t: np.ndarray, node: np.ndarray) -> list[tuple[int, int]]:
    """Cut every cycle of the parent pointers in place; return the cut (child, parent).

    Pointer doubling finds the nodes that do not reach a root in ``log2(n)`` rounds (on a
    cycle or below one); only those are walked one by one.
    """
    n = parent.size
    if n == 0:
        return []
    anc = np.where(parent < 0, np.arange(n), parent)
    for _ in range(int(np.ceil(np.log2(max(n, 2)))) + 1):
        anc = anc[anc]
    stuck = np.flatnonzero(parent[anc] >= 0)
    cuts: list[tuple[int, int]] = []
    state = np.zeros(n, np.int8)  # 0 unseen, 1 on current walk, 2 done
    key = np.where(t == _NO_TIME, np.iinfo(np.int64).max, t)
    for s in stuck.tolist():
        path = []
        u = s
        while u >= 0 and state[u] == 0:
            state[u] = 1
            path.append(u)
            u = int(parent[u])
        if u >= 0 and state[u] == 1:  # closed a new cycle at u
            cyc = path[path.index(u) :]
            cut = min(cyc, key=lambda i: (key[i], str(node[i])))
            cuts.append((cut, int(parent[cut])))
            parent[cut] = -1
        for w in path:
            state[w] = 2
    return cuts
