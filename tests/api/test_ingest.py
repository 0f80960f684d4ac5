"""Batch upload (JSON lines, JSON, CSV, Parquet) and single viewing events."""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .helpers import assert_error

ROWS = [{"creator_id": f"api-c{i}", "display_name": f"Creator {i}"} for i in range(3)]


def _upload(
    client: Any, h: dict[str, str], table: str, body: bytes, ctype: str, **params: str
) -> Any:
    return client.post(f"/v1/ingest/{table}", content=body, params=params,
                       headers={**h, "Content-Type": ctype})  # fmt: skip


def test_jsonl_upload_with_rejects_and_idempotence(client: Any, as_scope: Any, engine: Any) -> None:
    h = as_scope("admin")
    body = (
        "\n".join(json.dumps(r) for r in ROWS).encode() + b'\n{"display_name": "no id"}\n{broken\n'
    )
    r = _upload(client, h, "creators", body, "application/x-ndjson")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["rows_good"] == 3 and out["rows_rejected"] == 2
    assert out["tables"]["creators"]["inserted"] == 3
    reasons = {(x["line"], x["source"]) for x in out["rejects"]}
    assert reasons == {(4, "upload"), (5, "upload")}
    again = _upload(client, h, "creators", body, "application/x-ndjson").json()
    assert again["tables"]["creators"]["inserted"] == 0 and again["rows_good"] == 3
    got = engine.store.read("creators", filters={"creator_id": [r["creator_id"] for r in ROWS]})
    assert got.num_rows == 3


def test_json_csv_parquet_uploads(client: Any, as_scope: Any, engine: Any) -> None:
    h = as_scope("admin")
    tags = [{"name": "apitag_a"}, {"name": "apitag_b"}]
    assert (
        _upload(client, h, "hashtags", json.dumps(tags).encode(), "application/json").json()[
            "rows_good"
        ]
        == 2
    )
    wrapped = json.dumps({"rows": [{"name": "apitag_c"}]}).encode()
    assert _upload(client, h, "hashtags", wrapped, "application/json").json()["rows_good"] == 1
    csv = b"name\napitag_d\napitag_e\n"
    assert _upload(client, h, "hashtags", csv, "text/csv").json()["rows_good"] == 2
    buf = io.BytesIO()
    pq.write_table(pa.table({"name": ["apitag_f"]}), buf)
    out = _upload(
        client, h, "hashtags", buf.getvalue(), "application/octet-stream", format="parquet"
    )
    assert out.status_code == 200 and out.json()["format"] == "parquet"
    names = set(engine.store.read("hashtags", ["name"]).column("name").to_pylist())
    assert {f"apitag_{c}" for c in "abcdef"} <= names


def test_bad_uploads(client: Any, as_scope: Any) -> None:
    h = as_scope("admin")
    assert_error(
        _upload(client, h, "hashtags", b"name\nx\n", "text/plain"), 415, "unsupported_media_type"
    )
    assert_error(_upload(client, h, "hashtags", b"", "text/csv"), 422)
    assert_error(_upload(client, h, "nope", b"name\nx\n", "text/csv"), 422)
    assert_error(_upload(client, h, "hashtags", b"{bad", "application/json"), 400, "malformed_json")
    assert_error(_upload(client, h, "hashtags", b'"just a string"', "application/json"), 422)
    assert_error(_upload(client, h, "hashtags", b"x", "text/csv", format="xml"), 422)
    r = _upload(client, h, "hashtags", b"\x00\x01garbage", "application/vnd.apache.parquet")
    assert r.status_code in (400, 422) and "error" in r.json()


def test_script_and_sql_strings_are_stored_verbatim(
    client: Any, as_scope: Any, engine: Any
) -> None:
    evil = ["<script>alert(1)</script>", "x'); DROP TABLE creators; --"]
    rows = [{"creator_id": f"evil-{i}", "display_name": s, "bio": s} for i, s in enumerate(evil)]
    r = _upload(
        client, as_scope("admin"), "creators", json.dumps(rows).encode(), "application/json"
    )
    assert r.json()["rows_good"] == 2
    got = engine.store.read("creators", filters={"creator_id": ["evil-0", "evil-1"]})
    assert sorted(got.column("display_name").to_pylist()) == sorted(evil)
    assert engine.store.count("creators") > 80


def test_viewing_event(client: Any, as_scope: Any, engine: Any, app: Any) -> None:
    h = as_scope("viewer-service")
    writer = app.state.api.events
    vid = engine.store.read("videos", ["video_id"], limit=1).column(0)[0].as_py()
    writer.flush()
    before = engine.store.count("events")
    ev = {"viewer_id": "api-viewer", "video_id": vid, "ts": "2024-01-20T10:00:00Z",
          "watch_time_s": 12.5, "completed": True, "liked": True}  # fmt: skip
    r = client.post("/v1/events", json=ev, headers=h)
    assert r.status_code == 202, r.text
    assert r.json()["queued"] is True and r.json()["ts"].startswith("2024-01-20T10:00:00")
    assert client.post("/v1/events", json=ev, headers=h).status_code == 202  # the same again
    now = client.post("/v1/events", json={"viewer_id": "api-viewer", "video_id": vid}, headers=h)
    assert now.status_code == 202
    writer.flush()
    assert engine.store.count("events") == before + 2  # the repeat is stored once
    got = engine.store.read("events", filters={"viewer_id": "api-viewer"}).to_pylist()
    assert any(e["liked"] and e["watch_time_s"] == 12.5 and e["source"] == "api" for e in got)


def test_event_writer_batches_and_drains_on_close(engine: Any) -> None:
    import time
    from datetime import UTC, datetime, timedelta

    from communitok.api.events import EventWriter
    from communitok.core.model import ViewEvent

    vid = engine.store.read("videos", ["video_id"], limit=1).column(0)[0].as_py()
    w = EventWriter(engine.store, max_batch=50, max_delay=0.02)
    t0 = datetime(2024, 3, 1, tzinfo=UTC)
    before = engine.store.count("events")
    for i in range(120):
        w.submit(ViewEvent(viewer_id="batch-viewer", video_id=vid, ts=t0 + timedelta(seconds=i)))
    deadline = time.monotonic() + 5
    while w.written < 120 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert w.written == 120 and w.failed == 0
    for i in range(5):
        w.submit(
            ViewEvent(viewer_id="batch-viewer", video_id=vid, ts=t0 - timedelta(seconds=i + 1))
        )
    w.close()
    assert engine.store.count("events") == before + 125 and w.pending == 0


def test_bad_events(client: Any, as_scope: Any, engine: Any) -> None:
    h = as_scope("viewer-service")
    vid = engine.store.read("videos", ["video_id"], limit=1).column(0)[0].as_py()
    err = assert_error(
        client.post("/v1/events", json={"viewer_id": "v", "video_id": "nope"}, headers=h), 404
    )
    assert "nope" in err["message"]
    for bad in ({"viewer_id": "", "video_id": vid}, {"viewer_id": "v", "video_id": vid, "ts": "2024-01-01T00:00:00"},
                {"viewer_id": "v", "video_id": vid, "watch_time_s": -1}, {"viewer_id": "v", "video_id": vid, "ts": "yesterday"},
                {"viewer_id": "v", "video_id": vid, "watch_time_s": "NaN"}, {"video_id": vid}):  # fmt: skip
        assert_error(client.post("/v1/events", json=bad, headers=h), 422)
