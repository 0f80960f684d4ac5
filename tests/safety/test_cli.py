"""The ``safety`` Typer sub-app (registered in cli/app.py as ``communitok safety``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from communitok.cli.safety import app
from communitok.core.errors import InputError, NotFound
from communitok.store import DuckDBStore

runner = CliRunner()
T0 = datetime(2024, 3, 4, tzinfo=UTC)


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    path = tmp_path / "s.duckdb"
    s = DuckDBStore(path)
    s.write(
        "videos",
        pa.table({"video_id": ["v1"], "creator_id": ["a"], "created_at": [T0],
                  "hashtags": [["booktok"]], "view_count": [500]}),
    )  # fmt: skip
    s.write(
        "comments",
        pa.table(
            {
                "comment_id": ["c1", "c2"],
                "video_id": ["v1", "v1"],
                "text": ["subscribe to my channel for free gift cards", "lovely book"],
                "created_at": [T0, T0],
            }
        ),
    )
    s.close()
    return str(path)


def test_classify_json() -> None:
    r = runner.invoke(app, ["classify", "free followers, check my profile", "", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert [x["category"] for x in rows] == ["spam", "ok"]
    assert rows[0]["label"] in {"limited", "hidden"} and rows[0]["model_version"]
    r = runner.invoke(app, ["classify", "zorbly check forever", "--lingo", "zorbly check"])
    assert r.exit_code == 0 and "ok" in r.output


def test_moderate_queue_override_report_health(store_path: str) -> None:
    r = runner.invoke(app, ["moderate", "--store", store_path, "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out[0]["classified"] == 2 and out[1]["item_kind"] == "video"
    r = runner.invoke(app, ["override", "comment", "c2", "needs_review", "--store", store_path,
                            "--reviewer", "r1", "--reason", "odd", "--json"])  # fmt: skip
    assert r.exit_code == 0 and json.loads(r.output)["label"] == "needs_review"
    r = runner.invoke(app, ["report", "comment", "c1", "--reporter", "u1", "--reason", "spam",
                            "--store", store_path])  # fmt: skip
    assert r.exit_code == 0 and "recorded" in r.output
    r = runner.invoke(app, ["queue", "--store", store_path, "--json"])
    assert r.exit_code == 0
    assert {x["item_id"] for x in json.loads(r.output)} == {"c1", "c2"}
    r = runner.invoke(app, ["queue", "--store", store_path])
    assert r.exit_code == 0 and "severity" in r.output
    r = runner.invoke(app, ["health", "booktok", "--store", store_path, "--json"])
    assert r.exit_code == 0, r.output
    h = json.loads(r.output)
    assert h["summary"]["comments"] == 2 and h["summary"]["reports"] == 1
    r = runner.invoke(app, ["health", "booktok", "--store", store_path])
    assert r.exit_code == 0 and "booktok" in r.output
    r = runner.invoke(app, ["health", "nosuchtok", "--store", store_path])
    assert isinstance(r.exception, NotFound)  # cli/app.py's main() maps it to exit code 3


@pytest.mark.shared_data
def test_evaluate_json(shared_data: Path) -> None:
    r = runner.invoke(app, ["evaluate", "--data", str(shared_data), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert res["test"]["davidson"]["weighted_f1"] > res["baseline"]["davidson"]["weighted_f1"]
    r = runner.invoke(app, ["evaluate", "--data", str(shared_data)])
    assert r.exit_code == 0 and "weighted_f1" in r.output


def test_classify_a_file_with_bad_bytes(tmp_path: Path) -> None:
    f = tmp_path / "comments.txt"
    lines = [
        b"lovely book \xff\xfe review",  # not UTF-8
        b"",  # empty comment
        "\U0001f602\U0001f602\U0001f602".encode(),  # emoji only
        "\u6296\u97f3 booktok \u597d\u770b".encode(),  # mixed scripts
        b"ctrl\x00\x07\x1b[31m chars",
        b"x" * 100_000,
        b"check my channel and subscribe for free gift cards\r",
    ]
    f.write_bytes(b"\n".join(lines) + b"\n")
    r = runner.invoke(app, ["classify", "--file", str(f), "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert len(rows) == len(lines)
    assert "\ufffd" in rows[0]["text"] and rows[0]["label"] in {"visible", "limited"}
    assert [x["category"] for x in rows[1:4]] == ["ok", "ok", "ok"]
    assert rows[-1]["category"] == "spam"
    r = runner.invoke(app, ["classify", "typed text", "--file", str(f)])
    assert r.exit_code == 0 and "1 line(s) held bytes that are not UTF-8" in r.output
    r = runner.invoke(app, ["classify", "--file", str(tmp_path / "missing.txt")])
    assert isinstance(r.exception, NotFound)
    r = runner.invoke(app, ["classify"])
    assert isinstance(r.exception, InputError)


def test_train_missing_data_is_not_found(tmp_path: Path) -> None:
    r = runner.invoke(app, ["train", "--data", str(tmp_path), "--out", str(tmp_path / "m.npz")])
    assert isinstance(r.exception, NotFound)
