"""TikTok Research API reader: video query, comment list and user info, as the API saves them."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from communitok.core.errors import InputError
from communitok.ingest import load, read_file
from communitok.ingest.research_api import read_research_api, username_from_path
from communitok.store import DuckDBStore

VIDEO = {
    "id": 7375221350778031392,
    "create_time": 1717177539,
    "username": "jazz_cat",
    "region_code": "gb",
    "video_description": "#duet with @b2f806288c82 love it 😂 #Jazz 爵士乐",
    "music_id": 7012345678901234567,
    "like_count": 12,
    "comment_count": 3,
    "share_count": 1,
    "view_count": 289,
    "favorites_count": 4,
    "effect_ids": ["123456", 7890],
    "hashtag_names": ["jazz", "duet", "爵士乐"],
    "playlist_id": 0,
    "voice_to_text": "so smooth",
    "is_stem_verified": False,
    "video_duration": 14,
    "video_mention_list": ["b2f806288c82"],
    "video_label": {"content": ""},
    "hashtag_info_list": [
        {"hashtag_id": 1234, "hashtag_name": "jazz", "hashtag_description": "all that jazz"}
    ],
    "effect_info_list": [{"effect_id": "123456", "effect_name": "Green screen"}],
    "sticker_info_list": [],
    "video_tag": [],
}
OK = {"code": "ok", "message": "", "log_id": "20240601000000"}


def page(key: str, items: list[dict], **extra: object) -> dict:
    return {"data": {key: items, "cursor": len(items), "has_more": False, **extra}, "error": OK}


def store_load(*paths: Path, tmp_path: Path, **kw: object):
    store = DuckDBStore(":memory:")
    batches = (b for p in paths for b in read_research_api(p, **kw))  # type: ignore[arg-type]
    return store, load(store, batches, rejects_dir=tmp_path / "rejects")


def write(path: Path, obj: object, *, jsonl: bool = False) -> Path:
    if jsonl:
        text = "\n".join(json.dumps(o, ensure_ascii=False) for o in obj) + "\n"  # type: ignore[attr-defined]
    else:
        text = json.dumps(obj, ensure_ascii=False, indent=1)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- real sample
def test_real_sample_224_videos_exact_ids(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "research_api_sample" / "videos_duet_jazz.json"
    raw_ids = re.findall(r'"id": (\d+)', path.read_text(encoding="utf-8"))
    assert len(raw_ids) == 224  # README: 224 video objects
    store, summary = store_load(path, tmp_path=tmp_path)
    assert summary.rows_rejected == 0
    counts = store.counts()
    assert counts["videos"] == 224
    assert counts["creators"] == 160  # distinct usernames
    assert counts["hashtags"] == 1068
    ids = store.query("SELECT video_id FROM videos").column("video_id").to_pylist()
    assert sorted(ids) == sorted(raw_ids)
    assert all(len(i) == 19 and i.isdigit() for i in ids)
    # emoji round-trip: the first record's caption
    first = json.loads(path.read_text(encoding="utf-8"))[0]
    got = store.query(
        "SELECT description, created_at FROM videos WHERE video_id = ?", [str(first["id"])]
    ).to_pylist()[0]
    assert got["description"] == first["video_description"] and "😂" in got["description"]
    assert int(got["created_at"].timestamp()) == first["create_time"]
    # re-loading changes nothing
    again = load(store, read_research_api(path), rejects_dir=None)
    assert all(t.inserted == 0 and t.updated == 0 for t in again.tables.values())


def test_read_file_dispatches_research_api(shared_data: Path) -> None:
    path = shared_data / "research_api_sample" / "videos_duet_jazz.json"
    tables = {b.table: b.data.num_rows for b in read_file(path, format="research-api")}
    assert tables["videos"] == 224


# --------------------------------------------------------------------------- video query
def test_video_page_maps_every_field(tmp_path: Path) -> None:
    path = write(tmp_path / "page.json", page("videos", [VIDEO], search_id="7201388525814961198"))
    store, summary = store_load(path, tmp_path=tmp_path)
    assert summary.rows_rejected == 0
    v = store.query("SELECT * FROM videos").to_pylist()[0]
    assert v["video_id"] == "7375221350778031392"
    assert v["creator_id"] == "jazz_cat"
    assert int(v["created_at"].timestamp()) == 1717177539
    assert v["duration_s"] == 14.0
    assert v["description"] == VIDEO["video_description"]
    assert v["hashtags"] == ["jazz", "duet", "爵士乐"]
    assert v["sound_id"] == "7012345678901234567"
    assert v["effect_ids"] == ["123456", "7890"]
    assert v["mentions"] == ["b2f806288c82"]
    assert v["region"] == "GB"
    assert (v["view_count"], v["like_count"], v["comment_count"], v["share_count"]) == (
        289,
        12,
        3,
        1,
    )
    assert v["favourite_count"] == 4
    assert v["transcript"] == "so smooth"
    assert v["source"] == "research_api:page.json"
    assert store.query("SELECT creator_id, region FROM creators").to_pylist() == [
        {"creator_id": "jazz_cat", "region": "GB"}
    ]
    tags = {r["name"]: r for r in store.query("SELECT * FROM hashtags").to_pylist()}
    assert set(tags) == {"jazz", "duet", "爵士乐"}
    assert tags["jazz"]["hashtag_id"] == "1234" and tags["jazz"]["title"] == "all that jazz"
    assert store.query("SELECT sound_id FROM sounds").column(0).to_pylist() == [
        "7012345678901234567"
    ]
    effects = {r["effect_id"]: r["name"] for r in store.query("SELECT * FROM effects").to_pylist()}
    # validation lower-cases every column called "name" (meant for hashtags): compare casefolded
    assert {k: v and v.casefold() for k, v in effects.items()} == {
        "123456": "green screen",
        "7890": None,
    }


def test_video_jsonl_of_objects_and_of_pages(tmp_path: Path) -> None:
    other = {**VIDEO, "id": "7375221350778031393", "create_time": "2024-06-01T10:00:00Z"}
    objs = write(tmp_path / "videos.jsonl", [VIDEO, other], jsonl=True)
    pages = write(
        tmp_path / "pages.jsonl", [page("videos", [VIDEO]), page("videos", [other])], jsonl=True
    )
    lists = write(tmp_path / "list.json", [VIDEO, other])
    for path in (objs, pages, lists):
        store, summary = store_load(path, tmp_path=tmp_path)
        assert summary.rows_rejected == 0, path
        got = store.query("SELECT video_id, created_at FROM videos ORDER BY 1").to_pylist()
        assert [g["video_id"] for g in got] == ["7375221350778031392", "7375221350778031393"]
        assert got[1]["created_at"].isoformat().startswith("2024-06-01T10:00:00")


def test_gzip_and_hashtag_info_only(tmp_path: Path) -> None:
    rec = {k: v for k, v in VIDEO.items() if k not in ("hashtag_names", "effect_ids")}
    path = tmp_path / "p.json.gz"
    path.write_bytes(gzip.compress(json.dumps(page("videos", [rec])).encode()))
    store, _ = store_load(path, tmp_path=tmp_path)
    v = store.query("SELECT hashtags, effect_ids FROM videos").to_pylist()[0]
    assert v == {"hashtags": ["jazz"], "effect_ids": ["123456"]}


# --------------------------------------------------------------------------- comments
COMMENTS = [
    {
        "id": 7380000000000000001,
        "video_id": 7375221350778031392,
        "text": "so good 🎷",
        "like_count": 5,
        "reply_count": 1,
        "parent_comment_id": 7375221350778031392,
        "create_time": 1717200000,
    },
    {
        "id": 7380000000000000002,
        "video_id": 7375221350778031392,
        "text": "同意",
        "like_count": 0,
        "reply_count": 0,
        "parent_comment_id": 7380000000000000001,
        "create_time": 1717200100,
    },
]


@pytest.mark.parametrize("shape", ["page", "list", "jsonl"])
def test_comment_list(tmp_path: Path, shape: str) -> None:
    if shape == "page":
        path = write(tmp_path / "c.json", page("comments", COMMENTS))
    elif shape == "list":
        path = write(tmp_path / "c.json", COMMENTS)
    else:
        path = write(tmp_path / "c.jsonl", COMMENTS, jsonl=True)
    store, summary = store_load(path, tmp_path=tmp_path)
    assert summary.rows_rejected == 0
    assert set(summary.tables) == {"comments"}
    rows = store.query("SELECT * FROM comments ORDER BY comment_id").to_pylist()
    assert [r["comment_id"] for r in rows] == ["7380000000000000001", "7380000000000000002"]
    assert rows[0]["parent_comment_id"] is None  # parent == video id: top level
    assert rows[1]["parent_comment_id"] == "7380000000000000001"
    assert rows[0]["video_id"] == "7375221350778031392"
    assert rows[0]["text"] == "so good 🎷" and rows[1]["text"] == "同意"
    assert (rows[0]["like_count"], rows[0]["reply_count"]) == (5, 1)


# --------------------------------------------------------------------------- user info
USER = {
    "display_name": "Jazz Cat 🐈",
    "bio_description": "piano · 爵士",
    "avatar_url": "https://example.invalid/a.jpg",
    "is_verified": False,
    "follower_count": 1000,
    "following_count": 10,
    "likes_count": 5000,
    "video_count": 42,
    "bio_url": "https://example.invalid",
}


def test_user_info_username_from_the_object(tmp_path: Path) -> None:
    path = write(tmp_path / "u.json", {"data": {**USER, "username": "jazz_cat"}, "error": OK})
    store, summary = store_load(path, tmp_path=tmp_path)
    assert summary.rows_rejected == 0
    row = store.query("SELECT * FROM creators").to_pylist()[0]
    assert row["creator_id"] == "jazz_cat"
    assert row["display_name"] == "Jazz Cat 🐈" and row["bio"] == "piano · 爵士"
    assert row["verified"] is False
    assert (row["follower_count"], row["following_count"]) == (1000, 10)
    assert (row["likes_count"], row["video_count"]) == (5000, 42)


def test_user_info_username_next_to_data_jsonl(tmp_path: Path) -> None:
    lines = [
        {"username": "a_user", "data": USER, "error": OK},
        {"username": "b_user", "data": {**USER, "follower_count": 7}, "error": OK},
    ]
    path = write(tmp_path / "users.jsonl", lines, jsonl=True)
    store, summary = store_load(path, tmp_path=tmp_path)
    assert summary.rows_rejected == 0
    got = store.query("SELECT creator_id, follower_count FROM creators ORDER BY 1").to_pylist()
    assert got == [
        {"creator_id": "a_user", "follower_count": 1000},
        {"creator_id": "b_user", "follower_count": 7},
    ]


def test_user_info_username_from_option_or_file_name(tmp_path: Path) -> None:
    path = write(tmp_path / "user_info@some.user.json", {"data": USER, "error": OK})
    assert username_from_path(path) == "some.user"
    store, _ = store_load(path, tmp_path=tmp_path, username_from_filename=True)
    assert store.query("SELECT creator_id FROM creators").column(0).to_pylist() == ["some.user"]
    store, _ = store_load(path, tmp_path=tmp_path, username="given")
    assert store.query("SELECT creator_id FROM creators").column(0).to_pylist() == ["given"]


def test_user_info_without_username_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "u.json", {"data": USER, "error": OK})
    store, summary = store_load(path, tmp_path=tmp_path)
    assert store.counts()["creators"] == 0
    assert summary.rows_rejected == 1
    (r,) = summary.rejects
    assert (r.source, r.line, r.field) == (str(path), 1, "username")
    assert "username" in r.reason


# --------------------------------------------------------------------------- bad records
def test_bad_records_are_rejects_with_file_line_field(tmp_path: Path) -> None:
    good = {**VIDEO, "id": 7375221350778031400}
    no_id = {k: v for k, v in VIDEO.items() if k != "id"}
    bad_count = {**VIDEO, "id": 7375221350778031401, "like_count": "lots"}
    float_id = {**VIDEO, "id": 7.375221350778031e18}
    lines = [
        json.dumps(good),
        json.dumps(no_id),
        '{"id": 1, "username": "x", ',  # broken JSON
        json.dumps(bad_count),
        json.dumps(float_id),
        "",
        json.dumps({"id": 7375221350778031402, "create_time": 1717177539}),  # no username
    ]
    path = tmp_path / "videos.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store, summary = store_load(path, tmp_path=tmp_path)
    assert store.query("SELECT video_id FROM videos").column(0).to_pylist() == [
        "7375221350778031400"
    ]
    by_line = {r.line: r for r in summary.rejects}
    assert {r.source for r in summary.rejects} == {str(path)}
    assert by_line[2].field == "id" and "missing" in by_line[2].reason
    assert by_line[3].field == "(line)" and "invalid JSON" in by_line[3].reason
    assert by_line[4].field == "like_count" and by_line[4].value == "lots"
    assert "integer" in by_line[4].reason
    assert by_line[5].field == "id"
    assert by_line[7].field == "username"
    assert summary.tables["videos"].rows_rejected == 5
    assert summary.tables["videos"].rows_good == 1
    # the rejects report on disk says the same
    report = [json.loads(x) for x in Path(summary.rejects_path).read_text().splitlines()]
    assert {(x["line"], x["field"]) for x in report} == {(r.line, r.field) for r in summary.rejects}


def test_document_rejects_count_records(tmp_path: Path) -> None:
    recs = [VIDEO, {**VIDEO, "id": 7375221350778031500, "view_count": -1}]
    path = write(tmp_path / "p.json", page("videos", recs))
    _, summary = store_load(path, tmp_path=tmp_path)
    (r,) = summary.rejects
    assert (r.line, r.field) == (2, "view_count")
    assert "record number" in r.reason


def test_page_on_a_jsonl_line_names_the_record(tmp_path: Path) -> None:
    recs = [VIDEO, {**VIDEO, "id": 7375221350778031500, "create_time": "yesterday"}]
    path = write(tmp_path / "p.jsonl", [page("videos", [VIDEO]), page("videos", recs)], jsonl=True)
    _, summary = store_load(path, tmp_path=tmp_path)
    (r,) = summary.rejects
    assert (r.line, r.field) == (2, "create_time")
    assert "record 2 of the response page" in r.reason


def test_api_error_page_and_unknown_record(tmp_path: Path) -> None:
    err = {"data": {}, "error": {"code": "rate_limit_exceeded", "message": "slow down"}}
    path = write(tmp_path / "p.jsonl", [err, {"foo": 1}, VIDEO], jsonl=True)
    store, summary = store_load(path, tmp_path=tmp_path)
    assert store.counts()["videos"] == 1
    by_line = {r.line: r for r in summary.rejects}
    assert by_line[1].field == "error" and "rate_limit_exceeded" in by_line[1].reason
    assert by_line[2].field == "(record)"


def test_table_filter(tmp_path: Path) -> None:
    path = write(tmp_path / "p.json", page("videos", [VIDEO]))
    assert [b.table for b in read_research_api(path, "hashtags")] == ["hashtags"]
    with pytest.raises(InputError, match="follows"):
        list(read_research_api(path, "follows"))


@pytest.mark.parametrize(
    "content",
    [b"id,username\n1,a\n", b'[{"id": 1,', b'{\n"data": {\n', b"\xff\xfe{}"],
    ids=["csv", "truncated-list", "truncated-page", "not-utf8"],
)
def test_unparseable_file_is_input_error_naming_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises(InputError) as exc:
        list(read_research_api(path))
    assert str(path) in str(exc.value)


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        list(read_research_api(tmp_path / "nope.json"))
    (tmp_path / "empty.json").write_text("\n\n")
    assert list(read_research_api(tmp_path / "empty.json")) == []


def test_batches_stay_under_batch_rows(tmp_path: Path) -> None:
    recs = [{**VIDEO, "id": 7375221350778031000 + i} for i in range(25)]
    path = write(tmp_path / "v.jsonl", recs, jsonl=True)
    sizes = [b.data.num_rows for b in read_research_api(path, "videos", batch_rows=10)]
    assert sizes == [10, 10, 5]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=10**18, max_value=2**63 - 1), min_size=1, max_size=5))
def test_ids_never_go_through_float(
    tmp_path_factory: pytest.TempPathFactory, ids: list[int]
) -> None:
    path = tmp_path_factory.mktemp("ids") / "v.json"
    write(path, [{**VIDEO, "id": i, "music_id": i} for i in ids])
    (batch,) = [b for b in read_research_api(path) if b.table == "videos"]
    assert batch.data.column("video_id").to_pylist() == [str(i) for i in ids]
    assert set(batch.data.column("sound_id").to_pylist()) == {str(i) for i in ids}


def test_mixed_kinds_in_one_jsonl(tmp_path: Path) -> None:
    lines = [
        page("videos", [VIDEO]),
        {"username": "jazz_cat", "data": USER, "error": OK},
        page("comments", COMMENTS[:1]),
    ]
    path = write(tmp_path / "mixed.jsonl", lines, jsonl=True)
    store, summary = store_load(path, tmp_path=tmp_path)
    assert summary.rows_rejected == 0
    c = store.query("SELECT * FROM creators").to_pylist()
    assert len(c) == 1 and c[0]["region"] == "GB" and c[0]["follower_count"] == 1000
    assert store.counts()["comments"] == 1 and store.counts()["videos"] == 1


# --------------------------------------------------------------------------- docs
def test_data_format_reference_is_complete() -> None:
    from communitok.core.schema import TABLES
    from communitok.ingest.research_api import COMMENT_FIELDS, USER_FIELDS, VIDEO_FIELDS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "data-formats.md").read_text()
    sections = doc.split("\n### ")
    for name, spec in TABLES.items():
        (section,) = [s for s in sections if s.startswith(f"`{name}`")]
        for col in spec.column_names:
            assert f"| `{col}` |" in section, (name, col)
    for f in (*VIDEO_FIELDS, *COMMENT_FIELDS, *USER_FIELDS):
        assert f"`{f}`" in doc, f


def test_counts_beyond_int64_are_rejects_not_crashes(tmp_path: Path) -> None:
    recs = [
        {**VIDEO, "view_count": 2**64},
        {**VIDEO, "id": 7375221350778031501, "like_count": "100000000000000000000"},
        {**VIDEO, "id": 7375221350778031502, "share_count": True},
        {**VIDEO, "id": 7375221350778031503},
    ]
    path = write(tmp_path / "v.json", recs)
    store, summary = store_load(path, tmp_path=tmp_path)
    assert [(r.line, r.field) for r in summary.rejects] == [
        (1, "view_count"),
        (2, "like_count"),
        (3, "share_count"),
    ]
    assert store.query("SELECT video_id FROM videos").column(0).to_pylist() == [
        "7375221350778031503"
    ]
