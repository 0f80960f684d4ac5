"""The real data sets of ../shared/data: row counts after ingest match their READMEs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from communitok.core.errors import InputError, NotFound
from communitok.ingest import load, read_csv
from communitok.ingest.datasets import (
    DATASETS,
    DatasetReport,
    load_tiktok_rec_split,
    read_dataset,
    stitchgraph_edges,
    stitchgraph_labels,
)
from communitok.store import DuckDBStore

pytestmark = pytest.mark.shared_data

#: rows per table after ingest into an empty store, from the folders' READMEs where they
#: state them (videos, creators/authors, sounds, events, viewers) and measured otherwise
EXPECTED = {
    # README: 34,035 distinct videos, 22,975 distinct uploaders; 23,494 edges of which
    # 1,647 have no stitchee and 1,512 repeat a (stitcher, stitchee) pair -> 20,335 links
    "stitchgraph": {
        "videos": 34_035,
        "creators": 22_975,
        "hashtags": 55_068,
        "cocreation_links": 20_335,
    },
    # README: train 59,541, val 3,051, test 6,130; no pair overlaps
    "tiktok_rec": {"events": 59_541 + 3_051 + 6_130},
    # README: 10,728 videos, 7,176 users; 6,059 distinct topics (6,041 after lower-casing)
    # + 48 inline #tags that are not topics; one placeholder creator
    "kuairec_meta": {"videos": 10_728, "viewers": 7_176, "creators": 1, "hashtags": 6_089},
    # README: 1,000 videos, 802 authors, 907 music ids, 2,174 listed hashtags (+46 used on
    # videos only: pseudonymised handles are not listed)
    "trending_2020": {"videos": 1_000, "creators": 802, "sounds": 907, "hashtags": 2_220},
    # README: 224 video objects
    "research_api_sample": {"videos": 224, "creators": 160, "hashtags": 1_068},
}


class Loaded:
    def __init__(self, store: DuckDBStore, summary: Any, again: Any, report: DatasetReport):
        self.store, self.summary, self.again, self.report = store, summary, again, report

    def one(self, sql: str, params: list[object] | None = None) -> dict[str, Any]:
        rows = self.store.query(sql, params).to_pylist()
        assert len(rows) == 1, rows
        return rows[0]


@pytest.fixture(scope="session")
def loaded(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    """Each set loaded once (then loaded again) into its own in-memory store."""
    cache: dict[str, Loaded] = {}

    def get(name: str) -> Loaded:
        if name not in cache:
            store = DuckDBStore(":memory:")
            report = DatasetReport(name)
            rejects = tmp_path_factory.mktemp("rejects")
            summary = load(
                store, read_dataset(name, shared_data, report=report), rejects_dir=rejects
            )
            again = load(store, read_dataset(name, shared_data / name), rejects_dir=rejects)
            cache[name] = Loaded(store, summary, again, report)
        return cache[name]

    yield get
    for ds in cache.values():
        ds.store.close()


def test_expected_counts_are_registered() -> None:
    assert {k: dict(v.expected) for k, v in DATASETS.items()} == EXPECTED


@pytest.mark.parametrize("name", list(EXPECTED))
def test_row_counts_match_readme_and_reload_changes_nothing(loaded, name: str) -> None:
    ds = loaded(name)
    counts = {k: v for k, v in ds.store.counts().items() if v}
    assert counts == EXPECTED[name]
    assert ds.summary.rows_rejected == 0, ds.summary.rejects[:5]
    assert all(t.inserted == 0 and t.updated == 0 for t in ds.again.tables.values())


# --------------------------------------------------------------------------- stitchgraph
def test_stitchgraph_links_and_report(loaded) -> None:
    ds = loaded("stitchgraph")
    rep = ds.report.counts
    assert rep["edges"] == 23_494
    assert rep["edges_unknown_stitchee"] == 1_647
    assert rep["link_children_without_video"] == 10  # README: 10 stitcher ids without a row
    assert rep["edges_stitchee_without_row_in_community"] == 3_688  # README's 3,688
    assert rep["links_collapsed_repeats"] == 1_512
    assert rep["links"] == 20_335
    kinds = ds.store.query("SELECT DISTINCT kind FROM cocreation_links").column(0).to_pylist()
    assert kinds == ["stitch"]
    # first edge of the file: abortion 7375276788752190763 -> 7375182442296151342
    link = ds.one(
        "SELECT * FROM cocreation_links WHERE child_video_id = ?", ["7375276788752190763"]
    )
    assert link["parent_video_id"] == "7375182442296151342"
    assert link["created_at"] == datetime.fromtimestamp(1717190446, UTC)


def test_stitchgraph_videos(loaded) -> None:
    ds = loaded("stitchgraph")
    v = ds.one("SELECT * FROM videos WHERE video_id = ?", ["7375276788752190763"])
    assert v["creator_id"] == "910dd481cb9e"
    assert v["region"] == "US" and v["view_count"] == 131
    assert "texasabortionban" in v["hashtags"] and "stitch" in v["hashtags"]
    lower = ds.one("SELECT count(*) AS n FROM videos WHERE region <> upper(region)")
    assert lower["n"] == 0  # 'us' and 'US' both occur in the file
    bad_ids = ds.one(
        "SELECT count(*) AS n FROM videos WHERE NOT regexp_full_match(video_id, '[0-9]{19}')"
    )
    assert bad_ids["n"] == 0
    # voice_to_text on 17,470 rows; Whisper scenes fill in where it is missing
    assert ds.report.counts["transcripts_from_whisper"] > 0
    t = ds.one(  # a video with Whisper scenes but no voice_to_text
        "SELECT transcript FROM videos WHERE video_id = ?", ["7368239548456996142"]
    )
    # scenes in order, one per line: scene 1 (the stitched clip) first
    assert t["transcript"].startswith("And yesterday at a Palestine rally in downtown Orlando")
    assert "\nHey guys, I wanted to make a quick stitch" in t["transcript"]


def test_stitchgraph_labels(shared_data: Path) -> None:
    labels = stitchgraph_labels(shared_data / "stitchgraph")
    assert labels.column_names == ["video_id", "community"]
    assert labels.num_rows == 37_801  # 37,804 rows less 3 stitcher-and-stitchee repeats
    assert len(set(labels.column("community").to_pylist())) == 36
    vids = labels.column("video_id").to_pylist()
    assert len(set(vids)) == 34_035
    multi = len(vids) - len(set(vids))
    assert multi > 0  # labels overlap
    per_video: dict[str, int] = {}
    for v in vids:
        per_video[v] = per_video.get(v, 0) + 1
    assert sum(1 for n in per_video.values() if n > 1) == 2_697  # README
    edges = stitchgraph_edges(shared_data / "stitchgraph")
    assert edges.num_rows == 23_494


# --------------------------------------------------------------------------- tiktok_rec
def test_tiktok_rec_events(loaded) -> None:
    ds = loaded("tiktok_rec")
    per = ds.store.query("SELECT source, count(*) AS n FROM events GROUP BY 1 ORDER BY 1")
    assert dict(zip(*per.to_pydict().values(), strict=True)) == {
        "tiktok_rec:test": 6_130,
        "tiktok_rec:train": 59_541,
        "tiktok_rec:val": 3_051,
    }
    first = ds.one("SELECT * FROM events WHERE viewer_id = 'tkr:u0' AND video_id = 'tkr:i885'")
    assert first["ts"] == datetime(1970, 1, 1, tzinfo=UTC)
    assert first["source"] == "tiktok_rec:train"


def test_tiktok_rec_split_arrays(shared_data: Path) -> None:
    s = load_tiktok_rec_split(shared_data / "tiktok_rec")
    assert (len(s.train), len(s.val), len(s.test)) == (59_541, 3_051, 6_130)
    assert s.train.dtype == np.int64 and s.train.shape[1] == 2
    assert (s.n_users, s.n_items) == (9_308, 6_710)
    assert s.image_feat.shape == s.audio_feat.shape == (6_710, 128)
    assert s.image_feat.dtype == np.float32
    pairs = [set(map(tuple, a.tolist())) for a in (s.train, s.val, s.test)]
    assert not (pairs[0] & pairs[1]) and not (pairs[0] & pairs[2]) and not (pairs[1] & pairs[2])
    assert len(np.unique(s.test[:, 0])) == 6_130  # one test item per test user


# --------------------------------------------------------------------------- kuairec
def test_kuairec_bare_cr_rows(shared_data: Path) -> None:
    path = shared_data / "kuairec_meta" / "kuairec_caption_category.csv.gz"
    (batch,) = list(read_csv(path, "videos", batch_rows=1_000_000))
    assert batch.data.num_rows == 10_728  # not 10,732: a bare \r is content, not a line end
    ids = batch.data.column("video_id").to_pylist()
    caption = batch.data.column("caption").to_pylist()[ids.index("1378")]
    assert "\r" in caption


def test_kuairec_videos_and_viewers(loaded) -> None:
    ds = loaded("kuairec_meta")
    v = ds.one("SELECT * FROM videos WHERE video_id = 'kuai:1378'")
    assert "\r" in v["description"]  # survives ingest
    assert v["creator_id"] == "kuai:unknown"
    assert v["created_at"] == datetime(1970, 1, 1, tzinfo=UTC)
    crs = ds.one("SELECT count(*) AS n FROM videos WHERE contains(description, chr(13))")
    assert crs["n"] == 4  # README: videos 1378, 1613, 5910, 6331
    v4 = ds.one("SELECT * FROM videos WHERE video_id = 'kuai:4'")
    assert v4["description"].startswith("#搞笑 #感谢快手我要上热门 #五爱市场")
    assert set(v4["hashtags"]) == {"五爱市场", "感谢快手我要上热门", "搞笑"}
    v0 = ds.one("SELECT * FROM videos WHERE video_id = 'kuai:0'")
    assert v0["description"] == "精神小伙路难走 程哥你狗粮慢点撒"
    assert v0["categories"] == ["颜值", "颜值随拍"]  # third level UNKNOWN / -124 skipped
    v12 = ds.one("SELECT hashtags FROM videos WHERE video_id = 'kuai:12'")
    assert "情感视频" in v12["hashtags"]  # '#情感视频#' inline style
    empty = ds.one("SELECT count(*) AS n FROM videos WHERE description IS NULL")
    assert empty["n"] == 1_355  # README: caption empty for 1,355 videos
    act = ds.store.query("SELECT activity, count(*) AS n FROM viewers GROUP BY 1").to_pylist()
    assert {r["activity"]: r["n"] for r in act} == {
        "full_active": 6_092,
        "high_active": 938,
        None: 118,  # UNKNOWN
        "middle_active": 28,
    }


# --------------------------------------------------------------------------- trending_2020
def test_trending_2020(loaded) -> None:
    ds = loaded("trending_2020")
    v = ds.one("SELECT * FROM videos WHERE video_id = '6907228749016714497'")
    assert v["description"] == "Confidence went 📈"
    assert (v["like_count"], v["share_count"], v["view_count"], v["comment_count"]) == (
        3710,
        50,
        44800,
        68,
    )
    assert v["duration_s"] == 15.0 and v["sound_id"] == "6790057285814061057"
    assert v["creator_id"] == "2bee6b449dd7"
    m = ds.one("SELECT mentions FROM videos WHERE video_id = '6875468410612993286'")
    assert m["mentions"] == ["2b7ef785fb14"]  # '@' dropped
    s = ds.one("SELECT * FROM sounds WHERE sound_id = '6790057285814061057'")
    assert (s["title"], s["author"], s["is_original"]) == ("Element", "Pop Smoke", False)
    h = ds.one("SELECT * FROM hashtags WHERE name = 'fyp'")
    assert h["hashtag_id"] == "229207"
    no_tags = ds.one("SELECT count(*) AS n FROM videos WHERE len(hashtags) = 0")
    assert no_tags["n"] == 147  # README: 147 videos have no hashtag


# --------------------------------------------------------------------------- registry
def test_read_dataset_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="unknown data set"):
        read_dataset("nope", tmp_path)
    with pytest.raises(InputError, match=r"edges\.tsv\.gz"):
        read_dataset("stitchgraph", tmp_path)


def test_list_cell_helpers() -> None:
    import pyarrow as pa

    from communitok.ingest._dsutil import json_lists
    from communitok.ingest._kuairec import inline_tags, topic_list

    col, rows = json_lists(pa.array(['["@a", "b"]', None, "[]"]), strip="@")
    assert col.to_pylist() == [["a", "b"], None, []] and rows == [["a", "b"], [], []]
    # a cell that is not a JSON array: the text goes to validation, which parses or rejects
    col, rows = json_lists(pa.array(['["a"]', "x|y"]))
    assert col.to_pylist() == ['["a"]', "x|y"] and rows == [["a"], []]
    assert topic_list("[五爱市场,感谢快手我要上热门,搞笑]") == [
        "五爱市场",
        "感谢快手我要上热门",
        "搞笑",
    ]
    assert topic_list("[]") == [] and topic_list(None) == []
    assert inline_tags("爱你们#情感视频# #求热门# #官方 #") == ["情感视频", "求热门", "官方"]
    assert inline_tags("邓紫棋酒店隔离，洗手间大放歌喉。#邓紫棋 ") == ["邓紫棋"]
