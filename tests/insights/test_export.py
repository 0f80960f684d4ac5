"""Exports: JSON, CSV, and a self-contained HTML page (no outside URLs, user text escaped)."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser

import pytest

from communitok.core.errors import InputError
from communitok.insights.export import render, split, to_csv, to_html

EVIL = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def _report() -> dict:
    return {
        "community": {"community_id": 7, "name": EVIL},
        "k": 50,
        "top_hashtags": [
            {"rank": 1, "item": EVIL, "n_people": 60, "share": 0.4, "share_low": 0.3,
             "share_high": 0.5},
            {"rank": 2, "item": "booktok", "n_people": 55, "share": 0.2, "share_low": 0.1,
             "share_high": 0.3},
        ],
        "lingo": [{"rank": 1, "term": "zork", "n_people": 51, "example": EVIL}],
        "overlap": [],
        "notes": [f"note {EVIL}"],
    }  # fmt: skip


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        self.refs += [v or "" for k, v in attrs if k in ("src", "href", "action", "data")]


def test_html_is_self_contained_and_escaped() -> None:
    page = to_html(_report(), title=f"report {EVIL}")
    p = _Refs()
    p.feed(page)
    assert p.refs == []  # no src / href at all: nothing is fetched
    assert "img" not in p.tags  # the user's <img> never became a tag
    assert page.count("<script") == 1 + 2  # plotly.js inline + one per chart (2 sections)
    assert len(page) > 1_000_000 and "Plotly.newPlot" in page  # the library is inline
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "onerror=alert(1)>" not in page


def test_csv_and_json() -> None:
    text = to_csv(_report())
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["section"] == "meta"
    assert {r["section"] for r in rows} == {"meta", "top_hashtags", "lingo"}
    meta = {r["key"]: r["value"] for r in rows if r["section"] == "meta"}
    assert meta["community.name"] == EVIL and meta["k"] == "50"
    tags = [r for r in rows if r["section"] == "top_hashtags"]
    assert [t["item"] for t in tags] == [EVIL, "booktok"] and tags[0]["share_low"] == "0.3"
    assert json.loads(render(_report(), "json"))["top_hashtags"][1]["item"] == "booktok"
    meta, sections = split(_report())
    assert sections["overlap"] == [] and meta["notes"] == [f"note {EVIL}"]


def test_bad_format() -> None:
    with pytest.raises(InputError):
        render(_report(), "pdf")
    with pytest.raises(InputError):
        split(["not", "a", "report"])  # type: ignore[arg-type]
