"""Reading the container of a saved Research API response: which records a file holds.

A file is a response page, a JSON list (of records or pages) or JSON lines (records or
pages); this module finds the records in it, with their line (JSON lines) or record number
(JSON document), and tells a video from a comment from a user-info record by its keys.
Mapping the records to tables is :mod:`communitok.ingest.research_api`'s job.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..core.errors import InputError
from .validate import Reject

Kind = Literal["video", "comment", "user"]

#: fields of a video object, as the API's video query returns them
VIDEO_FIELDS = (
    "id", "create_time", "username", "region_code", "video_description", "music_id",
    "like_count", "comment_count", "share_count", "view_count", "favorites_count",
    "effect_ids", "hashtag_names", "playlist_id", "voice_to_text", "is_stem_verified",
    "video_duration", "video_mention_list", "video_label", "hashtag_info_list",
    "effect_info_list", "sticker_info_list", "video_tag",
)  # fmt: skip
#: fields of a comment object (comment list endpoint)
COMMENT_FIELDS = (
    "id", "video_id", "text", "like_count", "reply_count", "parent_comment_id", "create_time",
)  # fmt: skip
#: fields of the user info object (the response carries no username)
USER_FIELDS = (
    "display_name", "bio_description", "avatar_url", "is_verified", "follower_count",
    "following_count", "likes_count", "video_count", "bio_url",
)  # fmt: skip

USER_KEYS = frozenset(USER_FIELDS)
COMMENT_KEYS = frozenset({"text", "video_id", "parent_comment_id", "reply_count"})
VIDEO_KEYS = frozenset(VIDEO_FIELDS) - {"id", "create_time", "like_count"}


@dataclass
class Record:
    """One record found in a file, with where it sits (for rejects)."""

    obj: Any
    line: int
    note: str  # appended to reject reasons: where the record sits
    hint: Kind | None = None
    username: str | None = None  # added by the collector next to a user-info page


# --------------------------------------------------------------------------- parsing
def _open(p: Path) -> io.BufferedIOBase:
    return gzip.open(p, "rb") if p.name.endswith(".gz") else open(p, "rb")


def display(v: object) -> str | None:
    if v is None:
        return None
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
    return s if len(s) <= 200 else s[:197] + "..."


def iter_records(p: Path, source: str) -> Iterator[Record | Reject]:
    """Every record of the file (expanded from pages and lists), or a line-level Reject."""
    with _open(p) as fh:
        first, first_no = b"", 0
        for first_no, first in enumerate(fh, start=1):  # noqa: B007
            if first.strip():
                break
        head = first.lstrip().lstrip(b"\xef\xbb\xbf").lstrip()[:1]
        if not head:
            return  # empty file: nothing to read
        if head not in (b"[", b"{"):
            raise InputError(
                "not a Research API file: expected a JSON object, a JSON list or JSON lines",
                source=source,
                line=first_no,
            )
        if head == b"{":
            try:
                json.loads(first)
            except (json.JSONDecodeError, UnicodeDecodeError):
                pass  # a pretty-printed document, or JSON lines starting with a bad line
            else:
                yield from _jsonl(_chain(first_no, first, fh), source, None)
                return
        data = b"\n" * (first_no - 1) + first + fh.read()
    doc = _parse_document(data)
    if not isinstance(doc, Exception):
        yield from _expand_document(doc)
    elif head == b"{":  # not one document: JSON lines, some of them broken
        yield from _jsonl(io.BytesIO(data), source, doc)
    else:
        raise InputError(f"not valid JSON: {doc}", source=source)


def _chain(first_no: int, first: bytes, rest: Iterable[bytes]) -> Iterator[bytes]:
    for _ in range(first_no - 1):
        yield b"\n"
    yield first
    yield from rest


def _parse_document(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        return ValueError(f"not UTF-8 ({exc.reason} at byte {exc.start})")
    except json.JSONDecodeError as exc:
        return ValueError(f"{exc.msg} (line {exc.lineno}, column {exc.colno})")


def _jsonl(
    lines: Iterable[bytes], source: str, doc_error: Exception | None
) -> Iterator[Record | Reject]:
    good = 0
    pending: list[Reject] = []
    for lineno, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8").lstrip("\ufeff").strip()
        except UnicodeDecodeError as exc:
            pending.append(Reject(source, lineno, "(line)", None, f"not UTF-8 ({exc.reason})"))
            continue
        if not text:
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            pending.append(
                Reject(source, lineno, "(line)", display(text), f"invalid JSON: {exc.msg}")
            )
            continue
        good += 1
        if pending:  # line rejects travel with the records after them
            yield from pending
            pending = []
        if isinstance(obj, list):
            for k, o in enumerate(obj, start=1):
                yield from _expand(o, lineno, f" [record {k} of the list on this line]")
        else:
            yield from _expand(obj, lineno, "")
    if not good and pending:
        why = f": {doc_error}" if doc_error else ""
        raise InputError(
            f"no line is valid JSON (neither a JSON document nor JSON lines){why}", source=source
        )
    yield from pending


def _expand_document(doc: Any) -> Iterator[Record | Reject]:
    note = " [JSON document: line = record number]"
    n = 0
    items = doc if isinstance(doc, list) else [doc]
    for item in items:
        for rec in _expand(item, 0, note):
            n += 1
            rec.line = n
            yield rec


def _is_page(obj: Any) -> bool:
    return isinstance(obj, dict) and ("data" in obj or set(obj) == {"error"})


def _expand(obj: Any, line: int, note: str) -> Iterator[Record]:
    """A record, or the records of a response page."""
    if not _is_page(obj):
        yield Record(obj, line, note)
        return
    data, error = obj.get("data"), obj.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    failed = code not in (None, "", "ok")
    if data is None or data == {} or data == []:
        if failed:
            msg = error.get("message", "") if isinstance(error, dict) else ""
            yield Record(ApiError(f"API error {code}: {msg}".strip(), error), line, note)
        return
    username = obj.get("username") if isinstance(obj.get("username"), str) else None
    hint: Kind | None = None
    if isinstance(data, list):
        items = data
    elif isinstance(data, dict) and isinstance(data.get("videos"), list):
        items, hint = data["videos"], "video"
    elif isinstance(data, dict) and isinstance(data.get("comments"), list):
        items, hint = data["comments"], "comment"
    elif isinstance(data, dict) and USER_KEYS & set(data):
        yield Record(data, line, note, "user", username)
        return
    else:
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        yield Record(ApiError(f"unrecognised response page (data: {keys})", data), line, note)
        return
    for k, item in enumerate(items, start=1):
        where = f" [record {k} of the response page on this line]" if line else note
        yield Record(item, line, where, hint, username)


@dataclass
class ApiError:
    """A response page that reports an error (or is not understood) instead of data."""

    reason: str
    value: Any


def record_kind(rec: Record, fallback: Kind | None) -> Kind | None:
    """Video, comment or user info, from the page the record came in or its keys."""
    keys = set(rec.obj)
    if rec.hint is not None:
        return rec.hint
    if USER_KEYS & keys:
        return "user"
    if COMMENT_KEYS & keys:
        return "comment"
    if VIDEO_KEYS & keys:
        return "video"
    return fallback
