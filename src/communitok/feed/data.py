"""Feed inputs as arrays: the video catalogue and the viewers' interactions.

The feed works on integer indices internally. :class:`Catalogue` maps ``video_id`` to a
row index and carries per-video metadata (creator, sound, hashtags, upload time,
duration, community memberships, optional dense content features). :class:`Interactions`
holds the viewer × video engagement matrix built from an ``events`` table (see
:mod:`communitok.core.schema`), the seen matrix, "not interested" feedback, and the
optional viewer → community weights and follow edges. No I/O: both are built from Arrow
tables or arrays that the engine loads from the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from ..core.errors import InputError
from .engagement import DurationDebiaser, EngagementWeights, engagement_target


def _codes(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Dictionary-encode a string column: (codes with -1 for null, vocabulary)."""
    enc = pc.dictionary_encode(values)
    codes = np.asarray(enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return codes, np.asarray(enc.dictionary.to_pylist(), dtype=object)


def _isnull(a: pa.Array) -> np.ndarray:
    return np.asarray(a.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _index_of(values: pa.Array | pa.ChunkedArray, vocab: np.ndarray) -> np.ndarray:
    """Positions of *values* in *vocab* (-1 when absent or null)."""
    if len(vocab) == 0:
        return np.full(len(values), -1, dtype=np.int64)
    idx = pc.index_in(values, value_set=pa.array(vocab.tolist(), type=pa.string()))
    if isinstance(idx, pa.ChunkedArray):
        idx = idx.combine_chunks()
    return np.asarray(idx.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _as_str_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())


def _require(table: pa.Table, name: str, cols: tuple[str, ...]) -> None:
    if not isinstance(table, pa.Table):
        raise InputError(f"must be a pyarrow.Table, got {type(table).__name__}", field=name)
    missing = [c for c in cols if c not in table.column_names]
    if missing:
        raise InputError(f"missing columns {missing}", field=name)


def _epoch_seconds(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_timestamp(arr.type):
        us = pc.cast(pc.cast(arr, pa.timestamp("us", tz="UTC")), pa.int64())
        out = np.asarray(us.to_numpy(zero_copy_only=False), dtype=np.float64) / 1e6
    else:
        out = np.array(arr.to_numpy(zero_copy_only=False), dtype=np.float64)
    out[_isnull(arr)] = np.nan
    return out


def _membership(
    table: pa.Table | None, name: str, key: str, key_vocab: np.ndarray, comm_vocab: np.ndarray
) -> tuple[sp.csr_matrix, int]:
    """(key × community) weight matrix from (key, community_id, weight); dropped rows."""
    n = len(key_vocab)
    if table is None or table.num_rows == 0:
        return sp.csr_matrix((n, len(comm_vocab)), dtype=np.float32), 0
    _require(table, name, (key, "community_id"))
    rows = _index_of(_as_str_array(table.column(key)), key_vocab)
    cols = _index_of(_as_str_array(table.column("community_id")), comm_vocab)
    w = (
        np.asarray(table.column("weight").to_numpy(zero_copy_only=False), dtype=np.float64)
        if "weight" in table.column_names
        else np.ones(table.num_rows)
    )
    if np.any(np.isfinite(w) & (w < 0)):
        raise InputError("weights must be >= 0", field=f"{name}.weight")
    ok = (rows >= 0) & (cols >= 0) & np.isfinite(w)
    m = sp.csr_matrix((w[ok], (rows[ok], cols[ok])), shape=(n, len(comm_vocab)), dtype=np.float32)
    return m, int((~ok).sum())


@dataclass(frozen=True, eq=False)
class Catalogue:
    """The servable videos and their metadata, indexed 0..n_videos-1."""

    video_ids: np.ndarray
    creator: np.ndarray
    creator_ids: np.ndarray
    sound: np.ndarray
    sound_ids: np.ndarray
    hashtags: sp.csr_matrix
    hashtag_names: np.ndarray
    created_at: np.ndarray
    duration_s: np.ndarray
    communities: sp.csr_matrix
    community_ids: np.ndarray
    features: np.ndarray | None = None
    dropped_memberships: int = 0

    def __post_init__(self) -> None:
        n = len(self.video_ids)
        for name in ("creator", "sound", "created_at", "duration_s"):
            if len(getattr(self, name)) != n:
                raise InputError(f"has {len(getattr(self, name))} rows for {n} videos", field=name)
        if self.features is not None and (self.features.ndim != 2 or len(self.features) != n):
            raise InputError(f"must be an array of shape ({n}, d)", field="features")

    @property
    def n_videos(self) -> int:
        return len(self.video_ids)

    @cached_property
    def index(self) -> dict[str, int]:
        return {v: i for i, v in enumerate(self.video_ids.tolist())}

    @cached_property
    def community_index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.community_ids.tolist())}

    def lookup(self, video_ids: list[str] | np.ndarray) -> np.ndarray:
        """Row index per id, -1 for ids not in the catalogue."""
        idx = self.index
        return np.asarray([idx.get(str(v), -1) for v in video_ids], dtype=np.int64)

    @classmethod
    def from_arrow(
        cls,
        videos: pa.Table,
        *,
        video_communities: pa.Table | None = None,
        features: np.ndarray | None = None,
    ) -> Catalogue:
        """Build from a ``videos`` table; ``video_communities`` has (video_id, community_id,
        weight); ``features`` is an optional (n_videos × d) array aligned with the rows."""
        _require(videos, "videos", ("video_id",))
        ids = _as_str_array(videos.column("video_id"))
        if ids.null_count:
            raise InputError("has nulls", field="videos.video_id")
        vids = np.asarray(ids.to_pylist(), dtype=object)
        if len(np.unique(vids)) != len(vids):
            raise InputError("has duplicate ids", field="videos.video_id")
        n = len(vids)

        def codes(col: str) -> tuple[np.ndarray, np.ndarray]:
            if col not in videos.column_names:
                return np.full(n, -1, dtype=np.int64), np.asarray([], dtype=object)
            return _codes(_as_str_array(videos.column(col)))

        creator, creator_ids = codes("creator_id")
        sound, sound_ids = codes("sound_id")
        created = (
            _epoch_seconds(videos.column("created_at"))
            if "created_at" in videos.column_names
            else np.full(n, np.nan)
        )
        dur = (
            _epoch_seconds(videos.column("duration_s"))
            if "duration_s" in videos.column_names
            else np.full(n, np.nan)
        )
        if "hashtags" in videos.column_names:
            tags = videos.column("hashtags").combine_chunks()
            lengths = np.asarray(pc.list_value_length(tags).fill_null(0).to_numpy(), dtype=np.int64)
            flat = pc.list_flatten(tags)
            tag_codes, tag_names = (
                _codes(_as_str_array(flat))
                if len(flat)
                else (np.zeros(0, np.int64), np.asarray([], dtype=object))
            )
            rows = np.repeat(np.arange(n), lengths)
            ok = tag_codes >= 0
            hashtags = sp.csr_matrix(
                (np.ones(ok.sum(), np.float32), (rows[ok], tag_codes[ok])),
                shape=(n, len(tag_names)),
            )
            hashtags.data[:] = 1.0
        else:
            tag_names = np.asarray([], dtype=object)
            hashtags = sp.csr_matrix((n, 0), dtype=np.float32)
        comm_vocab = np.asarray([], dtype=object)
        if video_communities is not None and video_communities.num_rows:
            _require(video_communities, "video_communities", ("video_id", "community_id"))
            comm_vocab = np.asarray(
                sorted(
                    set(
                        _as_str_array(video_communities.column("community_id"))
                        .drop_null()
                        .to_pylist()
                    )
                ),
                dtype=object,
            )
        comms, dropped = _membership(
            video_communities, "video_communities", "video_id", vids, comm_vocab
        )
        feats = None if features is None else np.ascontiguousarray(features, dtype=np.float32)
        return cls(
            video_ids=vids,
            creator=creator,
            creator_ids=creator_ids,
            sound=sound,
            sound_ids=sound_ids,
            hashtags=hashtags,
            hashtag_names=tag_names,
            created_at=created,
            duration_s=dur,
            communities=comms,
            community_ids=comm_vocab,
            features=feats,
            dropped_memberships=dropped,
        )

    @classmethod
    def from_size(
        cls,
        n_videos: int,
        *,
        features: np.ndarray | None = None,
        creator: np.ndarray | None = None,
        communities: sp.spmatrix | None = None,
    ) -> Catalogue:
        """A catalogue of ``n_videos`` with ids "0".."n-1" (benchmarks, planted tests)."""
        if not isinstance(n_videos, int | np.integer) or n_videos < 0:
            raise InputError(f"must be an integer >= 0, got {n_videos!r}", field="n_videos")
        n = int(n_videos)
        cr = np.full(n, -1, np.int64) if creator is None else np.asarray(creator, dtype=np.int64)
        n_cr = int(cr.max()) + 1 if n and cr.max() >= 0 else 0
        comms = (
            sp.csr_matrix((n, 0), dtype=np.float32)
            if communities is None
            else sp.csr_matrix(communities, dtype=np.float32)
        )
        return cls(
            video_ids=np.asarray([str(i) for i in range(n)], dtype=object),
            creator=cr,
            creator_ids=np.asarray([f"c{i}" for i in range(n_cr)], dtype=object),
            sound=np.full(n, -1, np.int64),
            sound_ids=np.asarray([], dtype=object),
            hashtags=sp.csr_matrix((n, 0), dtype=np.float32),
            hashtag_names=np.asarray([], dtype=object),
            created_at=np.full(n, np.nan),
            duration_s=np.full(n, np.nan),
            communities=comms,
            community_ids=np.asarray([f"k{i}" for i in range(comms.shape[1])], dtype=object),
            features=None if features is None else np.ascontiguousarray(features, dtype=np.float32),
        )


@dataclass(frozen=True, eq=False)
class Interactions:
    """Viewer × video engagement (positive weights), seen pairs and negative feedback."""

    viewer_ids: np.ndarray
    matrix: sp.csr_matrix
    seen: sp.csr_matrix
    not_interested: sp.csr_matrix
    event_video: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    event_ts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    event_weight: np.ndarray = field(default_factory=lambda: np.zeros(0))
    viewer_communities: sp.csr_matrix | None = None
    following: sp.csr_matrix | None = None
    dropped_events: int = 0

    @property
    def n_viewers(self) -> int:
        return len(self.viewer_ids)

    @cached_property
    def excluded(self) -> sp.csr_matrix:
        """Never to serve again: seen or "not interested" (computed once)."""
        return sp.csr_matrix(self.seen + self.not_interested, dtype=np.float32)

    @cached_property
    def index(self) -> dict[str, int]:
        return {v: i for i, v in enumerate(self.viewer_ids.tolist())}

    @classmethod
    def from_matrix(
        cls, matrix: sp.spmatrix, *, viewer_ids: np.ndarray | None = None
    ) -> Interactions:
        """Binary / weighted implicit feedback as given (e.g. a benchmark split)."""
        m = sp.csr_matrix(matrix, dtype=np.float32)
        if m.nnz and (m.data.min() < 0 or not np.isfinite(m.data).all()):
            raise InputError("weights must be finite and >= 0", field="matrix")
        m.eliminate_zeros()
        ids = (
            np.asarray([str(i) for i in range(m.shape[0])], dtype=object)
            if viewer_ids is None
            else np.asarray(viewer_ids, dtype=object)
        )
        if len(ids) != m.shape[0]:
            raise InputError(f"has {len(ids)} ids for {m.shape[0]} rows", field="viewer_ids")
        seen = m.copy()
        seen.data[:] = 1.0
        return cls(
            viewer_ids=ids,
            matrix=m,
            seen=seen,
            not_interested=sp.csr_matrix(m.shape, dtype=np.float32),
            event_video=m.indices.astype(np.int64),
            event_ts=np.zeros(m.nnz),
            event_weight=m.data.astype(np.float64),
        )

    @classmethod
    def from_events(
        cls,
        events: pa.Table,
        catalogue: Catalogue,
        *,
        viewers: list[str] | None = None,
        viewer_communities: pa.Table | None = None,
        follows: pa.Table | None = None,
        weights: EngagementWeights | None = None,
        debiaser: DurationDebiaser | None = None,
    ) -> Interactions:
        """Aggregate an ``events`` table: positive engagement targets are summed per
        (viewer, video); events for videos outside the catalogue are dropped and counted."""
        _require(events, "events", ("viewer_id", "video_id"))
        vid = _index_of(_as_str_array(events.column("video_id")), catalogue.video_ids)
        keep = vid >= 0
        ev = events.filter(pa.array(keep))
        vid = vid[keep]
        viewer_col = _as_str_array(ev.column("viewer_id"))
        extra: list[str] = list(viewers or [])
        for tab, col in ((viewer_communities, "viewer_id"), (follows, "follower_id")):
            if tab is not None and col in tab.column_names:
                extra += _as_str_array(tab.column(col)).drop_null().to_pylist()
        vocab = np.asarray(
            sorted(set(viewer_col.drop_null().to_pylist()) | set(extra)), dtype=object
        )
        row = _index_of(viewer_col, vocab)
        shape = (len(vocab), catalogue.n_videos)
        target = engagement_target(
            ev, catalogue.duration_s[vid], debiaser=debiaser, weights=weights
        )
        pos = np.maximum(target, 0.0)
        matrix = sp.csr_matrix((pos, (row, vid)), shape=shape, dtype=np.float32)
        matrix.eliminate_zeros()
        seen = sp.csr_matrix((np.ones(len(vid), np.float32), (row, vid)), shape=shape)
        seen.data[:] = 1.0
        ni = (
            np.asarray(
                ev.column("not_interested").fill_null(False).to_numpy(zero_copy_only=False),
                dtype=bool,
            )
            if "not_interested" in ev.column_names
            else np.zeros(len(vid), bool)
        )
        not_int = sp.csr_matrix((np.ones(ni.sum(), np.float32), (row[ni], vid[ni])), shape=shape)
        ts = _epoch_seconds(ev.column("ts")) if "ts" in ev.column_names else np.zeros(len(vid))
        vc, _ = _membership(
            viewer_communities, "viewer_communities", "viewer_id", vocab, catalogue.community_ids
        )
        following = None
        if follows is not None:
            _require(follows, "follows", ("follower_id", "followee_id"))
            fr = _index_of(_as_str_array(follows.column("follower_id")), vocab)
            fc = _index_of(_as_str_array(follows.column("followee_id")), catalogue.creator_ids)
            ok = (fr >= 0) & (fc >= 0)
            following = sp.csr_matrix(
                (np.ones(ok.sum(), np.float32), (fr[ok], fc[ok])),
                shape=(len(vocab), len(catalogue.creator_ids)),
            )
        return cls(
            viewer_ids=vocab,
            matrix=matrix,
            seen=seen,
            not_interested=not_int,
            event_video=vid,
            event_ts=ts,
            event_weight=pos,
            viewer_communities=vc if viewer_communities is not None else None,
            following=following,
            dropped_events=int((~keep).sum()),
        )
