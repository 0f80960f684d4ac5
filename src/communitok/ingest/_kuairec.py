"""KuaiRec 2.0 metadata (``../shared/data/kuairec_meta``): Kuaishou videos and viewers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ._dsutil import (
    DatasetReport,
    const,
    epoch_ts,
    make_batch,
    need,
    norm_tag,
    prefixed,
    read_table,
)
from .readers import RawBatch

FILES = ("kuairec_caption_category.csv.gz", "user_features.csv.gz")
SOURCE = "kuairec"
#: KuaiRec has no uploader column: every video gets this creator
UNKNOWN_CREATOR = "kuai:unknown"
#: how KuaiRec spells a missing value
_MISSING = frozenset({"UNKNOWN", "-124", ""})
#: an inline hashtag: '#' then anything up to whitespace, another '#', '@' or punctuation
_INLINE_TAG = re.compile(r"#([^\s#＃@,，。.!！?？、;；:：\"“”'‘’()（）\[\]【】<>《》]+)")


def topic_list(cell: str | None) -> list[str]:
    """``[五爱市场,感谢快手我要上热门,搞笑]`` (bracketed, unquoted, comma-separated)."""
    if not cell:
        return []
    inner = cell.strip()
    if inner.startswith("[") and inner.endswith("]"):
        inner = inner[1:-1]
    return [p.strip() for p in inner.split(",") if p.strip()]


def inline_tags(text: str | None) -> list[str]:
    """``#tag`` words of a caption (also ``#话题#`` style; Chinese text intact)."""
    return _INLINE_TAG.findall(text) if text else []


def _tags(topic: str | None, caption: str | None) -> list[str]:
    out: dict[str, None] = {}
    for t in topic_list(topic) + inline_tags(caption):
        name = norm_tag(t)
        if name:
            out.setdefault(name, None)
    return list(out)


def read_kuairec(folder: str | Path, *, report: DatasetReport | None = None) -> Iterator[RawBatch]:
    """Videos from ``kuairec_caption_category.csv.gz`` and viewers from ``user_features.csv.gz``.

    * video id ``kuai:<video_id>``; creator ``kuai:unknown`` (the file has no uploader);
      ``created_at`` 1970-01-01 (no upload time); description = caption (empty -> null;
      the 4 bare ``\\r`` inside captions are kept); hashtags = the ``topic_tag`` list plus
      inline ``#tags`` of the caption; categories = first/second/third level names,
      skipping ``UNKNOWN`` / ``-124``. ``manual_cover_text`` has no column and is dropped.
    * viewer id ``kuai:u<user_id>``; activity = ``user_active_degree`` (``UNKNOWN`` -> null).
    """
    f = need(folder, *FILES)
    rep = report if report is not None else DatasetReport(SOURCE)
    vt = read_table(f / "kuairec_caption_category.csv.gz", delimiter=",")
    n = vt.data.num_rows
    rep.add("videos", n)
    captions = vt.col("caption").to_pylist()
    tags = [_tags(t, c) for t, c in zip(vt.col("topic_tag").to_pylist(), captions, strict=True)]
    levels = [
        zip(
            vt.col(f"{lvl}_level_category_id").to_pylist(),
            vt.col(f"{lvl}_level_category_name").to_pylist(),
            strict=True,
        )
        for lvl in ("first", "second", "third")
    ]
    categories = [
        [
            name.strip()
            for cid, name in row
            if name and name.strip() not in _MISSING and (cid or "").strip() not in _MISSING
        ]
        for row in zip(*levels, strict=True)
    ]
    yield make_batch(
        "creators",
        {
            "creator_id": [UNKNOWN_CREATOR],
            "display_name": ["unknown (KuaiRec has no uploader column)"],
            "source": [SOURCE],
        },
        [2],
        vt.source,
        None,
    )
    names: dict[str, int] = {}
    for row_tags, line in zip(tags, vt.col("_line").to_pylist(), strict=True):
        for t in row_tags:
            names.setdefault(t, line)
    rep.add("hashtags", len(names))
    yield make_batch(
        "hashtags",
        {
            "name": pa.array(list(names), pa.string()),
            "source": const(SOURCE, len(names), pa.string()),
        },
        names.values(),
        vt.source,
        vt.line_mapper,
    )
    yield vt.batch(
        "videos",
        {
            "video_id": prefixed("kuai:", vt.col("video_id")),
            "creator_id": const(UNKNOWN_CREATOR, n, pa.string()),
            "created_at": epoch_ts(n),
            "description": pa.array([c if c else None for c in captions], pa.string()),
            "hashtags": pa.array(tags, pa.list_(pa.string())),
            "categories": pa.array(categories, pa.list_(pa.string())),
            "source": const(SOURCE, n, pa.string()),
        },
    )
    ut = read_table(f / "user_features.csv.gz", delimiter=",")
    m = ut.data.num_rows
    rep.add("viewers", m)
    degree = pc.utf8_trim_whitespace(ut.col("user_active_degree"))
    degree = pc.if_else(
        pc.is_in(degree, pa.array(sorted(_MISSING))), pa.scalar(None, pa.string()), degree
    )
    yield ut.batch(
        "viewers",
        {
            "viewer_id": prefixed("kuai:u", ut.col("user_id")),
            "activity": degree,
            "source": const(SOURCE, m, pa.string()),
        },
    )
