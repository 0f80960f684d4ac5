"""Incidence matrices from the stored Arrow tables (videos, events, co-creation links).

Everything here is vectorised with ``pyarrow.compute`` (dictionary encoding, list
flattening) and ``scipy.sparse``; nothing reads files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from ..core.errors import InputError
from .types import Bipartite, Graph, stack_cols

#: item kinds a video can carry, and the videos column each comes from
VIDEO_ITEM_COLUMNS = {
    "hashtag": "hashtags",
    "sound": "sound_id",
    "creator": "creator_id",
    "effect": "effect_ids",
}


def _require(table: pa.Table, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InputError(f"{what} table lacks column(s) {missing}", field=missing[0])


def _encode(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Dictionary-encode strings: (codes, vocabulary)."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    enc = arr.cast(pa.string()).dictionary_encode()
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), np.asarray(
        enc.dictionary.to_pylist(), dtype=object
    )


def _lookup(values: pa.Array | pa.ChunkedArray, vocab: np.ndarray) -> np.ndarray:
    """Position of each value in *vocab* (-1 when absent or null)."""
    idx = pc.index_in(values.cast(pa.string()), value_set=pa.array(vocab.tolist(), pa.string()))
    return idx.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def incidence(
    table: pa.Table,
    row: str,
    col: str,
    *,
    weight: str | np.ndarray | None = None,
    rows: np.ndarray | None = None,
    binary: bool = False,
    prefix: str = "",
) -> Bipartite:
    """Row-id × column-value incidence from *table*.

    *col* may be a string column or a list-of-strings column (e.g. ``hashtags``). Null
    and empty values are dropped; repeated (row, value) pairs add up unless *binary*.
    *rows* fixes the row vocabulary (rows of the table not in it are dropped); column
    ids get *prefix* (e.g. ``"hashtag:"``).
    """
    _require(table, [row, col], "input")
    n = table.num_rows
    w = np.ones(n)
    if isinstance(weight, str):
        _require(table, [weight], "input")
        w = table[weight].fill_null(0).to_numpy(zero_copy_only=False).astype(np.float64)
    elif weight is not None:
        w = np.asarray(weight, dtype=np.float64)
        if len(w) != n:
            raise InputError("weight must have one value per row", field="weight")
    if rows is None:
        r_codes, row_ids = _encode(table[row])
    else:
        row_ids = np.asarray(rows, dtype=object)
        r_codes = _lookup(table[row], row_ids)
    values = table[col]
    if pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
        values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        parent = pc.list_parent_indices(values).to_numpy(zero_copy_only=False)
        values = pc.list_flatten(values)
    else:
        parent = np.arange(n)
    values = values.cast(pa.string())
    ok = pc.and_(values.is_valid(), pc.not_equal(pc.utf8_length(values.fill_null("")), 0))
    ok = ok.to_numpy(zero_copy_only=False) & (r_codes[parent] >= 0)
    if not ok.any():
        return Bipartite(sp.csr_matrix((len(row_ids), 0)), row_ids, np.array([], dtype=object))
    keep = np.flatnonzero(ok)
    c_codes, col_ids = _encode(values.take(pa.array(keep)))
    m = sp.coo_matrix(
        (w[parent[keep]], (r_codes[parent[keep]], c_codes)), shape=(len(row_ids), len(col_ids))
    ).tocsr()
    m.sum_duplicates()
    if binary:
        m.data[:] = 1.0
    if prefix:
        col_ids = np.asarray([prefix + str(c) for c in col_ids], dtype=object)
    return Bipartite(m, row_ids, col_ids)


def video_items(
    videos: pa.Table,
    kinds: Sequence[str] = ("hashtag", "sound", "creator"),
    *,
    exclude: Mapping[str, Sequence[str]] | None = None,
) -> Bipartite:
    """Videos × items (``hashtag:booktok``, ``sound:s1``, ``creator:c7``…), 0/1.

    *exclude* maps a kind to item names to leave out (e.g. learned stop-tags).
    Columns missing from *videos* are skipped.
    """
    _require(videos, ["video_id"], "videos")
    for k in kinds:
        if k not in VIDEO_ITEM_COLUMNS:
            raise InputError(f"unknown item kind {k!r}; known: {list(VIDEO_ITEM_COLUMNS)}")
    vid_codes, vids = _encode(videos["video_id"])
    if len(np.unique(vid_codes)) != len(vid_codes):
        raise InputError("videos has duplicate video_id values", field="video_id")
    parts = []
    for k in kinds:
        column = VIDEO_ITEM_COLUMNS[k]
        if column not in videos.column_names:
            continue
        b = incidence(videos, "video_id", column, rows=vids, binary=True, prefix=f"{k}:")
        if exclude and exclude.get(k):
            drop = {f"{k}:{x}" for x in exclude[k]}
            b = b.select_cols(np.array([c not in drop for c in b.cols], dtype=bool))
        parts.append(Bipartite(b.matrix, b.rows, b.cols, np.full(len(b.cols), k, dtype=object)))
    if not parts:
        return Bipartite(sp.csr_matrix((len(vids), 0)), vids, np.array([], dtype=object))
    return stack_cols(parts)


@dataclass(frozen=True)
class EngagementWeights:
    """How much one event counts: ``view + like·liked + share·shared + ...``.

    Completion and watch time say more than an impression; likes, shares, comments and
    follows are explicit signals. ``not_interested`` and ``skipped`` subtract.
    """

    view: float = 1.0
    completed: float = 1.0
    liked: float = 2.0
    shared: float = 3.0
    commented: float = 2.0
    followed: float = 3.0
    skipped: float = -0.5
    not_interested: float = -2.0
    floor: float = 0.0

    def score(self, events: pa.Table) -> np.ndarray:
        n = events.num_rows
        s = np.full(n, self.view)
        for name in (
            "completed",
            "liked",
            "shared",
            "commented",
            "followed",
            "skipped",
            "not_interested",
        ):
            if name in events.column_names:
                flag = events[name].fill_null(False).to_numpy(zero_copy_only=False)
                s += getattr(self, name) * flag.astype(np.float64)
        return np.maximum(s, self.floor)


def engagement(
    events: pa.Table,
    *,
    videos: np.ndarray | None = None,
    weights: EngagementWeights | None = None,
) -> Bipartite:
    """Viewers × videos engagement weights summed over events (see :class:`EngagementWeights`).

    *videos* fixes the column vocabulary (events on other videos are dropped).
    """
    _require(events, ["viewer_id", "video_id"], "events")
    w = (weights or EngagementWeights()).score(events)
    b = incidence(events, "video_id", "viewer_id", weight=w, rows=videos)
    return b.transpose()


def cocreation_graph(
    links: pa.Table,
    videos: pa.Table | None = None,
    *,
    level: str = "video",
) -> Graph:
    """Co-creation (duet / stitch / reuse) as an undirected weighted graph.

    ``level="video"``: child video – parent video; ``level="creator"``: the creators of
    the two videos (needs *videos* with ``video_id, creator_id``); self-links dropped.
    """
    _require(links, ["child_video_id", "parent_video_id"], "cocreation_links")
    if level not in ("video", "creator"):
        raise InputError("level must be 'video' or 'creator'", field="level")
    child, parent = links["child_video_id"], links["parent_video_id"]
    if level == "creator":
        if videos is None:
            raise InputError("creator level needs the videos table", field="videos")
        _require(videos, ["video_id", "creator_id"], "videos")
        vid = videos["video_id"].cast(pa.string())
        ci = pc.index_in(child.cast(pa.string()), value_set=vid)
        pi = pc.index_in(parent.cast(pa.string()), value_set=vid)
        ok = pc.and_(ci.is_valid(), pi.is_valid())
        creators = videos["creator_id"].cast(pa.string())
        child = creators.take(ci.filter(ok))
        parent = creators.take(pi.filter(ok))
    else:
        ok = pc.and_(child.is_valid(), parent.is_valid())
        child, parent = child.filter(ok), parent.filter(ok)
    return Graph.from_edges(
        child.to_numpy(zero_copy_only=False), parent.to_numpy(zero_copy_only=False)
    )
