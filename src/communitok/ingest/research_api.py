"""Reader for files saved from the TikTok Research API (video query, comment list, user info).

Accepted shapes, detected from the content (not the file name):

* a response page ``{"data": {"videos" | "comments": [...], "cursor": .., "has_more": ..},
  "error": {...}}`` or, for user info, ``{"data": {display_name, ...}, "error": {...}}``;
* a JSON list of record objects (or of response pages);
* JSON lines: one record object or one response page per line.

The kind of each record (video, comment, user info) is told from its keys. Video ids are
~7.4e18: they are kept exactly as text (never through a float). A bad record becomes a
:class:`~communitok.ingest.validate.Reject` naming the file, the record's line, the field
as the API spells it and the reason; a file that is not JSON at all is an ``InputError``.

``_line`` of a record: in JSON lines, its physical line (records of a response page on one
line share it, and rejects say which record of the page it was); in a JSON document, the
1-based number of the record in the document (rejects say so).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..core.errors import InputError
from ..core.schema import TABLES
from ._api_mapping import (
    API_TABLES,
    COMMENT_MAP,
    COUNTS,
    KIND_TABLES,
    MAPS,
    USER_MAP,
    VIDEO_MAP,
    Bad,
    check_count,
    map_comment,
    map_user,
    map_video,
)
from ._api_records import (
    COMMENT_FIELDS,
    USER_FIELDS,
    VIDEO_FIELDS,
    ApiError,
    Kind,
    Record,
    display,
    iter_records,
    record_kind,
)
from .readers import DEFAULT_BATCH_ROWS, RawBatch
from .validate import LINE, Reject, validate_batch

__all__ = [
    "COMMENT_FIELDS",
    "COMMENT_MAP",
    "KIND_TABLES",
    "USER_FIELDS",
    "USER_MAP",
    "VIDEO_FIELDS",
    "VIDEO_MAP",
    "read_research_api",
    "username_from_path",
]

_JSON_SUFFIXES = (".gz", ".jsonl", ".ndjson", ".json")
#: parents before children
_ORDER = ("creators", "hashtags", "sounds", "effects", "videos", "comments")


def _column(values: list[object]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # mixed types: hand text over
        return pa.array(
            [
                None
                if v is None
                else v
                if isinstance(v, str)
                else json.dumps(v, ensure_ascii=False)
                for v in values
            ],
            type=pa.string(),
        )


def _raw_table(rows: list[dict[str, Any]], lines: list[int], columns: Iterable[str]) -> pa.Table:
    cols = {c: _column([r.get(c) for r in rows]) for c in columns}
    cols[LINE] = pa.array(lines, type=pa.int64())
    return pa.table(cols)


# --------------------------------------------------------------------------- batches
class _Batcher:
    """Maps, pre-validates and splits the pending records of one kind into table batches."""

    def __init__(self, source: str, source_label: str, username: str | None) -> None:
        self.source, self.label, self.username = source, source_label, username

    def reject(self, rec: Record, field: str, value: object, reason: str) -> Reject:
        return Reject(self.source, rec.line, field, display(value), reason + rec.note)

    def run(self, kind: Kind, recs: list[Record]) -> tuple[dict[str, pa.Table], list[Reject]]:
        table, api = MAPS[kind]
        rejects: list[Reject] = []
        rows: list[dict[str, Any]] = []
        kept: list[Record] = []
        tags: list[tuple[int, dict]] = []
        effs: list[tuple[int, dict]] = []
        for rec in recs:
            try:
                for f in COUNTS[kind]:
                    check_count(rec.obj.get(f), f)
                if kind == "video":
                    row, t, e = map_video(rec.obj, self.label)
                    tags += [(len(rows), x) for x in t]
                    effs += [(len(rows), x) for x in e]
                elif kind == "comment":
                    row = map_comment(rec.obj, self.label)
                else:
                    row = map_user(rec.obj, rec.username or self.username, self.label)
            except Bad as bad:
                rejects.append(self.reject(rec, bad.field, bad.value, bad.reason))
                continue
            rows.append(row)
            kept.append(rec)
        out: dict[str, pa.Table] = {}
        if not rows:
            return out, rejects
        spec = TABLES[table]
        raw = _raw_table(
            rows,
            [r.line for r in kept],
            [c for c in spec.column_names if c in api or c == "source"],
        )
        v = validate_batch(
            raw.drop_columns([LINE]), spec, source=self.source, lines=np.arange(len(rows))
        )
        bad_pos = sorted({int(r.line) for r in v.rejects if r.line is not None})
        for r in v.rejects:
            rec = kept[int(r.line or 0)]
            rejects.append(
                Reject(
                    self.source, rec.line, api.get(r.field, r.field), r.value, r.reason + rec.note
                )
            )
        good_pos = np.setdiff1d(np.arange(len(rows)), np.array(bad_pos, dtype=np.int64))
        lines = pa.array([kept[i].line for i in good_pos], type=pa.int64())
        good = v.table.append_column(LINE, lines)
        out[table] = good
        if kind == "video":
            out.update(self._derived(good, good_pos, tags, effs))
        rejects.sort(key=lambda r: r.line or 0)  # stable: reader checks, then validation
        return out, rejects

    def _derived(
        self,
        videos: pa.Table,
        good_pos: np.ndarray,
        tags: list[tuple[int, dict]],
        effs: list[tuple[int, dict]],
    ) -> dict[str, pa.Table]:
        keep = {int(p): i for i, p in enumerate(good_pos)}
        lines = videos.column(LINE).to_pylist()
        out: dict[str, pa.Table | None] = {}
        creators: dict[str, dict[str, Any]] = {}
        for cid, region, line in zip(
            videos["creator_id"].to_pylist(), videos["region"].to_pylist(), lines, strict=True
        ):
            c = creators.setdefault(cid, {"creator_id": cid, "region": None, LINE: line})
            c["region"] = c["region"] or region
        out["creators"] = _rows(creators.values(), self.label)
        hashtags: dict[str, dict[str, Any]] = {}
        for names, line in zip(videos["hashtags"].to_pylist(), lines, strict=True):
            for n in names or ():
                hashtags.setdefault(n, {"name": n, LINE: line})
        for pos, t in tags:
            if pos in keep and t["name"]:
                h = hashtags.setdefault(t["name"], {"name": t["name"], LINE: lines[keep[pos]]})
                h.update({k: v for k, v in t.items() if v is not None})
        out["hashtags"] = _rows(hashtags.values(), self.label)
        sounds: dict[str, dict[str, Any]] = {}
        for sid, line in zip(videos["sound_id"].to_pylist(), lines, strict=True):
            if sid is not None:
                sounds.setdefault(sid, {"sound_id": sid, LINE: line})
        out["sounds"] = _rows(sounds.values(), self.label)
        effects: dict[str, dict[str, Any]] = {}
        for ids, line in zip(videos["effect_ids"].to_pylist(), lines, strict=True):
            for e in ids or ():
                effects.setdefault(e, {"effect_id": e, LINE: line})
        for pos, e in effs:
            if pos in keep:
                x = effects.setdefault(
                    e["effect_id"], {"effect_id": e["effect_id"], LINE: lines[keep[pos]]}
                )
                x.update({k: v for k, v in e.items() if v is not None})
        out["effects"] = _rows(effects.values(), self.label)
        return {k: v for k, v in out.items() if v is not None}


def _rows(rows: Iterable[dict[str, Any]], label: str) -> pa.Table | None:
    rows = list(rows)
    if not rows:
        return None
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r))
    cols = {
        k: pa.array([r.get(k) for r in rows], type=pa.int64() if k == LINE else pa.string())
        for k in keys
    }
    cols["source"] = pa.array([label] * len(rows), type=pa.string())
    return pa.table(cols)


def username_from_path(path: str | Path) -> str:
    """The username a user-info file is named for: its name without ``.json``/``.jsonl``/
    ``.gz``, after the last ``@`` if there is one (``user_info@some.user.json`` -> ``some.user``)."""
    name = Path(path).name
    changed = True
    while changed:
        changed = False
        for suf in _JSON_SUFFIXES:
            if name.lower().endswith(suf) and len(name) > len(suf):
                name, changed = name[: -len(suf)], True
    return name.rsplit("@", 1)[-1]


def read_research_api(
    path: str | Path,
    table: str | None = None,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    username: str | None = None,
    username_from_filename: bool = False,
) -> Iterator[RawBatch]:
    """Read a saved Research API response (video query, comment list, user info).

    Yields raw batches for every table the records feed (videos also give creators,
    hashtags, sounds and effects), parents first; with *table*, only that table.
    User info has no username in the API's response: it is taken from a ``username`` key
    the collector added, else from *username*, else (with *username_from_filename*) from
    the file name (see :func:`username_from_path`); otherwise the record is rejected.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found", source=str(p))
    if not isinstance(batch_rows, int) or batch_rows < 1:
        raise InputError("must be a positive integer", field="batch_rows")
    if table is not None and table not in API_TABLES:
        raise InputError(
            f"the Research API feeds {', '.join(sorted(API_TABLES))}; not {table!r}", field="table"
        )
    source = str(p)
    if username is None and username_from_filename:
        username = username_from_path(p) or None
    batcher = _Batcher(source, f"research_api:{p.name}", username)
    pending: dict[Kind, list[Record]] = {"video": [], "comment": [], "user": []}
    rejects: dict[str, list[Reject]] = {}
    count = 0
    last: Kind | None = {"comments": "comment", "videos": "video"}.get(table or "")  # type: ignore[assignment]

    def reject(name: str | None, r: Reject) -> None:
        name = table or name or (MAPS[last][0] if last else "videos")
        rejects.setdefault(name, []).append(r)

    def flush() -> Iterator[RawBatch]:
        nonlocal rejects, count
        tables: dict[str, list[pa.Table]] = {}
        for kind, recs in pending.items():
            if not recs:
                continue
            out, rej = batcher.run(kind, recs)
            for r in rej:
                reject(MAPS[kind][0], r)
            for name, t in out.items():
                tables.setdefault(name, []).append(t)
            recs.clear()
        names = [t for t in _ORDER if t in tables or t in rejects]
        for name in [table] if table is not None else names:
            if name not in tables and name not in rejects:
                continue
            parts = tables.get(name, [])
            if len(parts) > 1:
                data = pa.concat_tables(parts, promote_options="permissive")
            else:
                data = parts[0] if parts else pa.table({LINE: pa.array([], pa.int64())})
            yield RawBatch(name, data, source, rejects.get(name, []))
        rejects, count = {}, 0

    for item in iter_records(p, source):
        if isinstance(item, Reject):
            reject(None, item)
            continue
        if isinstance(item.obj, ApiError):
            reject(None, batcher.reject(item, "error", item.obj.value, item.obj.reason))
            continue
        if not isinstance(item.obj, dict):
            reject(None, batcher.reject(item, "(record)", item.obj, "not a JSON object"))
            continue
        kind = record_kind(item, last)
        if kind is None:
            why = "cannot tell a video, comment or user-info record from its keys"
            reject(None, batcher.reject(item, "(record)", item.obj, why))
            continue
        if table is not None and table not in KIND_TABLES[kind]:
            why = f"a {kind} record, but table={table!r} was asked for"
            reject(None, batcher.reject(item, "(record)", item.obj, why))
            continue
        last = kind
        pending[kind].append(item)
        count += 1
        if count >= batch_rows:
            yield from flush()
    if count or rejects:
        yield from flush()
