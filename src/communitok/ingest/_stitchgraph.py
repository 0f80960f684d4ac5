"""The TikTok StitchGraph data set (``../shared/data/stitchgraph``): videos, creators,
hashtags and stitch links, plus the hashtag-community labels as ground truth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ._dsutil import DatasetReport, const, first_rows, json_lists, need, norm_tag, read_table
from .readers import RawBatch

FILES = ("edges.tsv.gz", "videos.tsv.gz", "transcriptions.tsv.gz")
SOURCE = "stitchgraph"


def _transcripts(folder: Path) -> dict[str, str]:
    """Whisper transcripts per video: the non-empty scenes in scene order, one per line."""
    t = read_table(folder / "transcriptions.tsv.gz")
    scenes: dict[str, list[tuple[int, str]]] = {}
    for vid, scene, text in zip(
        t.col("video_id").to_pylist(),
        t.col("scene").to_pylist(),
        t.col("transcription").to_pylist(),
        strict=True,
    ):
        if vid is None or text is None or not text.strip():
            continue
        scenes.setdefault(vid.strip(), []).append(
            (int(scene) if scene and scene.strip().isdigit() else 0, text.strip())
        )
    return {
        v: "\n".join(text for _, text in sorted(parts, key=lambda p: p[0]))
        for v, parts in scenes.items()
    }


def read_stitchgraph(
    folder: str | Path, *, report: DatasetReport | None = None
) -> Iterator[RawBatch]:
    """Videos (one row per distinct id), creators, hashtags and ``stitch`` links.

    * video: ``user`` is the creator, ``region_code`` upper-cased by validation, hashtags
      from the ``hashtag_names`` JSON list, transcript = ``voice_to_text`` or else the
      Whisper scenes of ``transcriptions.tsv.gz`` joined by newlines; rows repeated over
      communities/roles merge (first non-empty value wins).
    * link: child = stitcher video, parent = stitchee video, ``created_at`` = the child's
      upload time where known. Edges whose stitchee is unknown are skipped (counted as
      ``edges_unknown_stitchee``); a pair repeated across communities is one link.
      Links are kept when a video has no row (the store has no foreign keys); counted as
      ``link_children_without_video`` / ``link_parents_without_video`` (distinct ids).
    """
    f = need(folder, *FILES)
    rep = report if report is not None else DatasetReport(SOURCE)
    vt = read_table(f / "videos.tsv.gz")
    rep.add("video_rows", vt.data.num_rows)
    ids = pc.utf8_trim_whitespace(vt.col("video_id"))
    tag_col, tag_rows = json_lists(vt.col("hashtag_names"))
    raw = pa.table(
        {
            "video_id": ids,
            "creator_id": vt.col("user"),
            "created_at": vt.col("create_time"),
            "region": vt.col("region_code"),
            "view_count": vt.col("view_count"),
            "description": vt.col("video_description"),
            "transcript": vt.col("voice_to_text"),
            "hashtags": tag_col,
            "_line": vt.col("_line"),
        }
    )
    videos = first_rows(raw, ["video_id"])
    n = videos.num_rows
    rep.add("videos", n)

    whisper = _transcripts(f)
    spoken = videos.column("transcript").to_pylist()
    vids = videos.column("video_id").to_pylist()
    filled = 0
    for i, (v, s) in enumerate(zip(vids, spoken, strict=True)):
        if s is None and v in whisper:
            spoken[i] = whisper[v]
            filled += 1
    rep.add("transcripts_from_whisper", filled)
    videos = videos.set_column(
        videos.column_names.index("transcript"), "transcript", pa.array(spoken, pa.string())
    )
    mapper = vt.line_mapper
    src = vt.source

    # creators: uploader pseudonyms (region of their first video that has one)
    creators = first_rows(videos.select(["creator_id", "region", "_line"]), ["creator_id"])
    rep.add("creators", creators.num_rows)
    yield RawBatch(
        "creators",
        creators.append_column("source", const(SOURCE, creators.num_rows, pa.string())),
        src,
        line_mapper=mapper,
    )

    # hashtags: every name used on a video
    seen: dict[str, int] = {}
    for tags, line in zip(tag_rows, vt.col("_line").to_pylist(), strict=True):
        for t in tags:
            name = norm_tag(t)
            if name:
                seen.setdefault(name, line)
    rep.add("hashtags", len(seen))
    yield RawBatch(
        "hashtags",
        pa.table(
            {
                "name": pa.array(list(seen), pa.string()),
                "source": const(SOURCE, len(seen), pa.string()),
                "_line": pa.array(list(seen.values()), pa.int64()),
            }
        ),
        src,
        line_mapper=mapper,
    )
    yield RawBatch(
        "videos",
        videos.append_column("source", const(SOURCE, n, pa.string())),
        src,
        line_mapper=mapper,
    )

    # stitch links
    et = read_table(f / "edges.tsv.gz")
    rep.add("edges", et.data.num_rows)
    child = pc.utf8_trim_whitespace(et.col("stitcher_video_id"))
    parent = pc.utf8_trim_whitespace(et.col("stitchee_video_id"))
    parent = pc.if_else(pc.equal(parent, ""), pa.scalar(None, pa.string()), parent)
    known = pc.is_valid(parent)
    rep.add("edges_unknown_stitchee", int(pc.sum(pc.invert(known)).as_py() or 0))
    rep.add("link_children_without_video", len(set(child.to_pylist()) - set(vids)))
    parents = parent.to_pylist()
    have = set(vids)
    rep.add(
        "link_parents_without_video", len({p for p in parents if p is not None and p not in have})
    )
    rep.add(
        "edges_stitchee_without_video_row", sum(p is not None and p not in have for p in parents)
    )
    # the README's measure: no row for the stitchee in the edge's own community
    pairs = set(zip(ids.to_pylist(), vt.col("community").to_pylist(), strict=True))
    rep.add(
        "edges_stitchee_without_row_in_community",
        sum(
            p is not None and (p, c) not in pairs
            for p, c in zip(parents, et.col("community").to_pylist(), strict=True)
        ),
    )
    links = pa.table(
        {"child_video_id": child, "parent_video_id": parent, "_line": et.col("_line")}
    ).filter(known)
    before = links.num_rows
    links = first_rows(links, ["child_video_id", "parent_video_id"])
    rep.add("links_collapsed_repeats", before - links.num_rows)
    rep.add("links", links.num_rows)
    when = dict(zip(vids, videos.column("created_at").to_pylist(), strict=True))
    created = [when.get(c) for c in links.column("child_video_id").to_pylist()]
    m = links.num_rows
    links = links.append_column("kind", const("stitch", m, pa.string()))
    links = links.append_column("created_at", pa.array(created, pa.string()))
    links = links.append_column("source", const(SOURCE, m, pa.string()))
    yield RawBatch("cocreation_links", links, et.source, line_mapper=et.line_mapper)


def stitchgraph_labels(folder: str | Path) -> pa.Table:
    """Ground truth for community detection: the hashtag community each video was
    collected under, as distinct ``(video_id, community)`` pairs (labels overlap: a video
    can carry several collected hashtags)."""
    f = need(folder, "videos.tsv.gz")
    vt = read_table(f / "videos.tsv.gz")
    t = pa.table(
        {"video_id": pc.utf8_trim_whitespace(vt.col("video_id")), "community": vt.col("community")}
    )
    return t.group_by(["video_id", "community"], use_threads=False).aggregate([])


def stitchgraph_edges(folder: str | Path) -> pa.Table:
    """The raw edge list with the users on both ends (for user-level graphs, which need
    the uploaders of the 3,688 stitchee videos that have no row in ``videos``)."""
    f = need(folder, "edges.tsv.gz")
    et = read_table(f / "edges.tsv.gz")
    cols = ["community", "stitcher_video_id", "stitchee_video_id", "stitcher_user", "stitchee_user"]
    return pa.table({c: et.col(c) for c in cols})


__all__ = ["read_stitchgraph", "stitchgraph_edges", "stitchgraph_labels"]
