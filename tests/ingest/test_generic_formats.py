"""Generic readers + validation: every format rejects bad rows with file, line, field."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from communitok.core.errors import InputError
from communitok.ingest import detect_format, detect_table, load, read_file
from communitok.store import DuckDBStore

GOOD = [
    {
        "video_id": "7360000000000000001",
        "creator_id": "alice",
        "created_at": 1714557600,
        "description": "tbr pile 📚 #BookTok",
        "hashtags": ["BookTok", "#fyp"],
        "view_count": 10,
    },
    {
        "video_id": "2",
        "creator_id": "bob",
        "created_at": "2024-05-01T10:00:00Z",
        "description": "抖音 测试",
        "hashtags": [],
        "duration_s": 12.5,
    },
]
BAD = [
    {"video_id": "3", "creator_id": "carol", "created_at": "not a time"},
    {"video_id": "4", "creator_id": "dave", "created_at": 1714557600, "view_count": -5},
    {"video_id": "", "creator_id": "erin", "created_at": 1714557600},
]


def _write(tmp: Path, fmt: str, rows: list[dict]) -> Path:
    if fmt == "jsonl":
        p = tmp / "videos.jsonl"
        p.write_text(
            "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
        )
    elif fmt == "csv":
        p = tmp / "videos.csv"
        cols = [
            "video_id",
            "creator_id",
            "created_at",
            "description",
            "hashtags",
            "view_count",
            "duration_s",
        ]
        lines = [",".join(cols)]
        for r in rows:
            vals = []
            for c in cols:
                v = r.get(c)
                v = json.dumps(v) if isinstance(v, list) else ("" if v is None else str(v))
                vals.append('"' + v.replace('"', '""') + '"')
            lines.append(",".join(vals))
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        p = tmp / "videos.parquet"
        t = pa.table(
            {
                "video_id": [r["video_id"] for r in rows],
                "creator_id": [r["creator_id"] for r in rows],
                "created_at": [str(r["created_at"]) for r in rows],
                "view_count": [r.get("view_count") for r in rows],
            }
        )
        pq.write_table(t, p)
    return p


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_bad_rows_are_rejected_with_location_and_good_rows_land(tmp_path: Path, fmt: str) -> None:
    path = _write(tmp_path, fmt, GOOD + BAD)
    with DuckDBStore(tmp_path / "s.duckdb") as store:
        s = load(store, read_file(path), rejects_dir=tmp_path / "rejects")
        assert s.tables["videos"].rows_good == 2
        assert s.tables["videos"].rows_rejected == 3
        assert store.count("videos") == 2
        by_field = {(r.line, r.field) for r in s.rejects}
        first_bad_line = 4 if fmt != "parquet" else 3  # CSV/JSONL: header / 1-based lines
        if fmt == "jsonl":
            first_bad_line = 3
        assert (first_bad_line, "created_at") in by_field
        assert (first_bad_line + 1, "view_count") in by_field
        assert (first_bad_line + 2, "video_id") in by_field
        assert all(r.source == str(path) for r in s.rejects)
        report = Path(s.rejects_path).read_text(encoding="utf-8").splitlines()
        assert len(report) == 3 and json.loads(report[0])["source"] == str(path)
        # re-running the same load changes nothing
        again = load(store, read_file(path), rejects_dir=None)
        assert again.tables["videos"].inserted == 0 and again.tables["videos"].updated == 0
        assert store.count("videos") == 2


def test_quirks_round_trip(tmp_path: Path) -> None:
    path = _write(tmp_path, "jsonl", GOOD)
    with DuckDBStore(":memory:") as store:
        load(store, read_file(path), rejects_dir=None)
        rows = {r["video_id"]: r for r in store.read("videos").to_pylist()}
    assert rows["7360000000000000001"]["hashtags"] == ["booktok", "fyp"]
    assert rows["2"]["description"] == "抖音 测试"
    assert rows["2"]["created_at"].isoformat().startswith("2024-05-01T10:00:00")
    assert rows["7360000000000000001"]["created_at"].timestamp() == 1714557600


def test_csv_bare_cr_is_content_and_lines_are_physical(tmp_path: Path) -> None:
    p = tmp_path / "videos.csv"
    p.write_bytes(
        b"video_id,creator_id,created_at,description\n"
        b'1,a,1714557600,"two\nlines"\n'
        b"2,b,1714557600,bare\rcarriage\n"
        b"3,c,oops,x\r\n"
        b"4,d,1714557600,crlf end\r\n"
    )
    with DuckDBStore(":memory:") as store:
        s = load(store, read_file(p), rejects_dir=None)
        desc = dict(
            zip(
                *store.read("videos", ["video_id", "description"]).to_pydict().values(), strict=True
            )
        )
    assert desc["2"] == "bare\rcarriage"
    assert desc["1"] == "two\nlines"
    assert desc["4"] == "crlf end"
    assert [(r.line, r.field) for r in s.rejects] == [(5, "created_at")]


def test_broken_json_line_is_a_reject(tmp_path: Path) -> None:
    p = tmp_path / "events.jsonl"
    p.write_text(
        '{"viewer_id": "u", "video_id": "v", "ts": 1}\n\n{oops\n[1,2]\n'
        '{"viewer_id": "u", "video_id": "v", "ts": "2024-01-01T00:00:00+02:00", "liked": "yes"}\n'
    )
    with DuckDBStore(":memory:") as store:
        s = load(store, read_file(p), rejects_dir=None)
        assert store.count("events") == 2
        liked = store.read("events", ["liked"]).column(0).to_pylist()
    assert sorted([r.line for r in s.rejects]) == [3, 4]
    assert s.tables["events"].rows_rejected == 2
    assert True in liked


def test_gzip_and_tsv(tmp_path: Path) -> None:
    p = tmp_path / "follows.tsv.gz"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.write("follower_id\tfollowee_id\tcreated_at\nu1\tc1\t2024-01-01\nu2\t\t2024-01-01\n")
    with DuckDBStore(":memory:") as store:
        s = load(store, read_file(p), rejects_dir=None)
        assert store.count("follows") == 1
    assert [(r.line, r.field) for r in s.rejects] == [(3, "followee_id")]


def test_detection_and_errors(tmp_path: Path) -> None:
    assert detect_format("x/events.csv.gz") == "csv"
    assert detect_format("a.parquet") == "parquet"
    assert detect_table("cocreation_links-0001.parquet") == "cocreation_links"
    assert detect_table("events_2024.csv") == "events"
    with pytest.raises(InputError, match="format"):
        detect_format("data.xlsx")
    with pytest.raises(InputError, match="table"):
        detect_table("stuff.csv")
    with pytest.raises(InputError, match="file not found"):
        list(read_file(tmp_path / "missing.csv"))
    bad = tmp_path / "videos.parquet"
    bad.write_text("not parquet")
    with pytest.raises(InputError, match="Parquet"):
        list(read_file(bad))
    with pytest.raises(InputError, match="batch_rows"):
        list(read_file(bad, batch_rows=0))


def test_nothing_stored_is_lost_when_a_file_is_all_bad(tmp_path: Path) -> None:
    good = _write(tmp_path, "jsonl", GOOD)
    with DuckDBStore(":memory:") as store:
        load(store, read_file(good), rejects_dir=None)
        p = tmp_path / "videos-bad.jsonl"
        p.write_text('{"video_id": "7360000000000000001", "creator_id": "", "created_at": "x"}\n')
        s = load(store, read_file(p), rejects_dir=None)
        assert s.rows_rejected == 1
        assert store.count("videos") == 2
        assert (
            store.read("videos", filters={"video_id": "7360000000000000001"})
            .column("creator_id")[0]
            .as_py()
            == "alice"
        )


@pytest.mark.parametrize("prefetch", [0, 1, 3])
def test_reader_failure_mid_load_keeps_committed_batches(prefetch: int) -> None:
    from communitok.ingest import RawBatch

    def batches():
        for i in range(3):
            yield RawBatch(
                "follows",
                pa.table({"follower_id": [f"u{i}"], "followee_id": ["c"], "_line": [i + 2]}),
                "gen",
            )
        raise InputError("disk vanished", source="gen")

    with DuckDBStore(":memory:") as store:
        with pytest.raises(InputError, match="disk vanished"):
            load(store, batches(), rejects_dir=None, prefetch=prefetch)
        assert store.count("follows") == 3
    with pytest.raises(InputError, match="prefetch"):
        load(store, [], prefetch=-1)
