"""Readers for the real data sets in ``../shared/data`` (each folder's README describes it).

Every reader takes the data set's folder and yields raw batches for all the tables it
feeds, parents first, ready for :func:`communitok.ingest.load.load`::

    from communitok.ingest import load
    from communitok.ingest.datasets import read_dataset
    summary = load(store, read_dataset("stitchgraph", "../shared/data/stitchgraph"))

``DATASETS`` lists them with a description and the rows each table holds after ingest.
Pass a :class:`DatasetReport` to learn what a reader skipped or could not resolve.
Evaluation helpers that need no store: :func:`stitchgraph_labels` (community ground
truth) and :func:`load_tiktok_rec_split` (the recommendation benchmark's arrays).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..core.errors import InputError, NotFound
from ._dsutil import (
    DatasetReport,
    const,
    epoch_ts,
    first_rows,
    json_lists,
    need,
    norm_tag,
    prefixed,
    read_table,
)
from ._kuairec import UNKNOWN_CREATOR, read_kuairec
from ._stitchgraph import read_stitchgraph, stitchgraph_edges, stitchgraph_labels
from .readers import RawBatch
from .research_api import read_research_api

__all__ = [
    "DATASETS",
    "UNKNOWN_CREATOR",
    "Dataset",
    "DatasetReport",
    "TikTokRecSplit",
    "load_tiktok_rec_split",
    "read_dataset",
    "read_kuairec",
    "read_research_api_sample",
    "read_stitchgraph",
    "read_tiktok_rec",
    "read_trending_2020",
    "stitchgraph_edges",
    "stitchgraph_labels",
]

TIKTOK_REC_SPLITS = ("train", "val", "test")


# --------------------------------------------------------------------------- tiktok_rec
def read_tiktok_rec(
    folder: str | Path, *, report: DatasetReport | None = None
) -> Iterator[RawBatch]:
    """Events of the TikTok recommendation benchmark: viewer ``tkr:u<user>``, video
    ``tkr:i<item>``, ts 1970-01-01 (the data set has no time), source
    ``tiktok_rec:train|val|test``. The splits share no (user, item) pair, so all rows are
    distinct events under the (viewer, video, ts) key."""
    f = need(folder, *(f"{s}.tsv.gz" for s in TIKTOK_REC_SPLITS))
    rep = report if report is not None else DatasetReport("tiktok_rec")
    for split in TIKTOK_REC_SPLITS:
        t = read_table(f / f"{split}.tsv.gz")
        n = t.data.num_rows
        rep.add(f"events_{split}", n)
        yield t.batch(
            "events",
            {
                "viewer_id": prefixed("tkr:u", t.col("user")),
                "video_id": prefixed("tkr:i", t.col("item")),
                "ts": epoch_ts(n),
                "source": const(f"tiktok_rec:{split}", n, pa.string()),
            },
        )


@dataclass(frozen=True)
class TikTokRecSplit:
    """The benchmark as arrays: ``(n, 2)`` int64 ``[user, item]`` pairs per split and
    ``(n_items, 128)`` float32 item features (row = item id)."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    image_feat: np.ndarray
    audio_feat: np.ndarray
    n_users: int
    n_items: int


def load_tiktok_rec_split(folder: str | Path) -> TikTokRecSplit:
    """Read the train/val/test pairs and the item features (no store involved)."""
    f = need(
        folder, *(f"{s}.tsv.gz" for s in TIKTOK_REC_SPLITS), "image_feat.npy", "audio_feat.npy"
    )
    pairs: dict[str, np.ndarray] = {}
    for split in TIKTOK_REC_SPLITS:
        path = f / f"{split}.tsv.gz"
        try:
            t = pacsv.read_csv(
                path,
                parse_options=pacsv.ParseOptions(delimiter="\t"),
                convert_options=pacsv.ConvertOptions(
                    column_types={"user": pa.int64(), "item": pa.int64()}
                ),
            )
        except (pa.ArrowInvalid, KeyError) as exc:
            raise InputError(f"cannot read user/item pairs: {exc}", source=str(path)) from None
        pairs[split] = np.column_stack(
            [t.column("user").to_numpy(), t.column("item").to_numpy()]
        ).astype(np.int64)
    image = np.load(f / "image_feat.npy").astype(np.float32)
    audio = np.load(f / "audio_feat.npy").astype(np.float32)
    n_users = int(max(int(p[:, 0].max()) for p in pairs.values() if len(p)) + 1)
    n_items = int(image.shape[0])
    return TikTokRecSplit(
        pairs["train"], pairs["val"], pairs["test"], image, audio, n_users, n_items
    )


# --------------------------------------------------------------------------- trending_2020
def read_trending_2020(
    folder: str | Path, *, report: DatasetReport | None = None
) -> Iterator[RawBatch]:
    """1,000 trending videos (Dec 2020) with creators, sounds and hashtags.

    Counts: view_count = play_count, like_count = digg_count, share_count,
    comment_count; mentions lose their ``@``; sounds carry title / author / is_original;
    hashtags are ``hashtags.tsv.gz`` (id, title) plus any other name used on a video.
    """
    f = need(folder, "videos.tsv.gz", "hashtags.tsv.gz")
    rep = report if report is not None else DatasetReport("trending_2020")
    src = "trending_2020"
    vt = read_table(f / "videos.tsv.gz")
    n = vt.data.num_rows
    rep.add("videos", n)
    creators = first_rows(
        pa.table(
            {
                "creator_id": vt.col("author"),
                "verified": vt.col("author_verified"),
                "_line": vt.col("_line"),
            }
        ),
        ["creator_id"],
    )
    rep.add("creators", creators.num_rows)
    yield RawBatch(
        "creators",
        creators.append_column("source", const(src, creators.num_rows, pa.string())),
        vt.source,
        line_mapper=vt.line_mapper,
    )

    tag_col, tags = json_lists(vt.col("hashtags"))
    ht = read_table(f / "hashtags.tsv.gz")
    listed: dict[str, int] = {}
    for i, name in enumerate(ht.col("name").to_pylist()):
        if name and norm_tag(name):
            listed.setdefault(norm_tag(name), i)
    rows = list(listed.values())
    rep.add("hashtags_listed", len(rows))
    yield ht.batch(
        "hashtags",
        {
            "name": pa.array(list(listed), pa.string()),
            "hashtag_id": ht.col("hashtag_id").take(pa.array(rows, pa.int64())),
            "title": ht.col("title").take(pa.array(rows, pa.int64())),
            "source": const(src, len(rows), pa.string()),
        },
        rows=rows,
    )
    extra: dict[str, int] = {}
    for i, names in enumerate(tags):
        for t in names:
            name = norm_tag(t)
            if name and name not in listed:
                extra.setdefault(name, i)
    rep.add("hashtags_only_on_videos", len(extra))
    if extra:
        yield vt.batch(
            "hashtags",
            {
                "name": pa.array(list(extra), pa.string()),
                "source": const(src, len(extra), pa.string()),
            },
            rows=list(extra.values()),
        )

    sounds = first_rows(
        pa.table(
            {
                "sound_id": vt.col("music_id"),
                "title": vt.col("music_name"),
                "author": vt.col("music_author"),
                "is_original": vt.col("music_original"),
                "_line": vt.col("_line"),
            }
        ),
        ["sound_id"],
    )
    rep.add("sounds", sounds.num_rows)
    yield RawBatch(
        "sounds",
        sounds.append_column("source", const(src, sounds.num_rows, pa.string())),
        vt.source,
        line_mapper=vt.line_mapper,
    )
    yield vt.batch(
        "videos",
        {
            "video_id": vt.col("video_id"),
            "creator_id": vt.col("author"),
            "created_at": vt.col("create_time"),
            "duration_s": vt.col("duration_s"),
            "description": vt.col("text"),
            "hashtags": tag_col,
            "sound_id": vt.col("music_id"),
            "mentions": json_lists(vt.col("mentions"), strip="@")[0],
            "view_count": vt.col("play_count"),
            "like_count": vt.col("digg_count"),
            "share_count": vt.col("share_count"),
            "comment_count": vt.col("comment_count"),
            "source": const(src, n, pa.string()),
        },
    )


# --------------------------------------------------------------------------- research_api_sample
def read_research_api_sample(
    folder: str | Path, *, report: DatasetReport | None = None
) -> Iterator[RawBatch]:
    """The 224 raw Research API video objects, through :func:`read_research_api`."""
    f = need(folder, "videos_duet_jazz.json")
    rep = report if report is not None else DatasetReport("research_api_sample")
    for b in read_research_api(f / "videos_duet_jazz.json"):
        rep.add(b.table, b.data.num_rows)
        yield b


# --------------------------------------------------------------------------- registry
Reader = Callable[..., Iterator[RawBatch]]


@dataclass(frozen=True)
class Dataset:
    """One real data set: its reader, what it is, its files and the rows per table it
    leaves in an empty store (measured; they match the folder's README)."""

    name: str
    reader: Reader
    description: str
    files: tuple[str, ...]
    expected: Mapping[str, int] = field(default_factory=dict)


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "stitchgraph",
            read_stitchgraph,
            "TikTok stitch graph, 36 hashtag communities (May 2024): videos, creators, "
            "hashtags, stitch links; labels via stitchgraph_labels()",
            ("edges.tsv.gz", "videos.tsv.gz", "transcriptions.tsv.gz"),
            {"videos": 34_035, "creators": 22_975, "hashtags": 55_068, "cocreation_links": 20_335},
        ),
        Dataset(
            "tiktok_rec",
            read_tiktok_rec,
            "TikTok implicit-feedback benchmark (DiffMM split): train/val/test events; "
            "arrays and item features via load_tiktok_rec_split()",
            ("train.tsv.gz", "val.tsv.gz", "test.tsv.gz"),
            {"events": 59_541 + 3_051 + 6_130},
        ),
        Dataset(
            "kuairec_meta",
            read_kuairec,
            "KuaiRec 2.0 (Kuaishou) video captions, topics, category tree; viewer features",
            ("kuairec_caption_category.csv.gz", "user_features.csv.gz"),
            {"videos": 10_728, "viewers": 7_176, "creators": 1, "hashtags": 6_089},
        ),
        Dataset(
            "trending_2020",
            read_trending_2020,
            "1,000 TikTok trending videos (Dec 2020) with creators, sounds and hashtags",
            ("videos.tsv.gz", "hashtags.tsv.gz"),
            {"videos": 1_000, "creators": 802, "sounds": 907, "hashtags": 2_220},
        ),
        Dataset(
            "research_api_sample",
            read_research_api_sample,
            "224 raw TikTok Research API video objects (#jazz duets, 2024)",
            ("videos_duet_jazz.json",),
            {"videos": 224, "creators": 160, "hashtags": 1_068},
        ),
    )
}


def dataset_folder(name: str, folder: str | Path) -> Path:
    """*folder* itself, or its ``<name>`` subfolder when given the shared data root."""
    ds = _dataset(name)
    f = Path(folder)
    if not all((f / n).is_file() for n in ds.files) and (f / name).is_dir():
        return f / name
    return f


def _dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise NotFound(f"unknown data set {name!r}; known: {', '.join(DATASETS)}") from None


def read_dataset(
    name: str, folder: str | Path, *, report: DatasetReport | None = None
) -> Iterator[RawBatch]:
    """Raw batches of data set *name* from *folder* (its own folder or the data root)."""
    ds = _dataset(name)
    f = need(dataset_folder(name, folder), *ds.files)  # fail now, not at the first batch
    return ds.reader(f, report=report)
