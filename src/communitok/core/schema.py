"""The tables communitok stores: one source of truth for ingest, store and simulator.

Every table is a :class:`TableSpec`: ordered columns with an Arrow type, whether the
column is required, and the primary key used for idempotent upserts. Bulk data crosses
package boundaries as Arrow tables with exactly these schemas (see ``docs/data-formats.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from .errors import NotFound

TS = pa.timestamp("us", tz="UTC")
STR = pa.string()
STRLIST = pa.list_(pa.string())

Kind = Literal["id", "text", "int", "float", "bool", "ts", "list", "enum"]


@dataclass(frozen=True)
class Column:
    """One column of a stored table."""

    name: str
    type: pa.DataType
    required: bool = False
    doc: str = ""
    #: allowed values for enum-like string columns
    choices: tuple[str, ...] = ()
    #: lower bound for numeric columns (inclusive)
    min_value: float | None = None
    #: normal form applied on ingest: "tag" (hashtag names), "upper" (country codes)
    norm: str = ""

    @property
    def kind(self) -> Kind:
        t = self.type
        if self.choices:
            return "enum"
        if pa.types.is_timestamp(t):
            return "ts"
        if pa.types.is_list(t):
            return "list"
        if pa.types.is_boolean(t):
            return "bool"
        if pa.types.is_integer(t):
            return "int"
        if pa.types.is_floating(t):
            return "float"
        return "text"


@dataclass(frozen=True)
class TableSpec:
    """A stored table: columns in order and the primary key."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    doc: str = ""

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=not c.required) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise NotFound(f"table {self.name!r} has no column {name!r}")


def _c(
    name: str, type_: pa.DataType, required: bool = False, doc: str = "", **kw: object
) -> Column:
    return Column(name, type_, required, doc, **kw)  # type: ignore[arg-type]


COCREATION_KINDS = ("duet", "stitch", "sound_reuse", "effect_reuse")
VISIBILITY = ("visible", "limited", "hidden", "needs_review")

CREATORS = TableSpec(
    "creators",
    (
        _c("creator_id", STR, True, "account id (Research API: username)"),
        _c("display_name", STR, doc="display name"),
        _c("bio", STR, doc="profile text (Research API: bio_description)"),
        _c("region", STR, doc="upper-case ISO country code", norm="upper"),
        _c("verified", pa.bool_(), doc="Research API: is_verified"),
        _c("follower_count", pa.int64(), min_value=0),
        _c("following_count", pa.int64(), min_value=0),
        _c("likes_count", pa.int64(), min_value=0),
        _c("video_count", pa.int64(), min_value=0),
        _c("created_at", TS, doc="account creation time"),
        _c("source", STR, doc="where the row came from (file or data set)"),
    ),
    ("creator_id",),
    "Accounts that post videos.",
)

VIEWERS = TableSpec(
    "viewers",
    (
        _c("viewer_id", STR, True),
        _c("region", STR, norm="upper"),
        _c("language", STR),
        _c("registered_at", TS),
        _c("activity", STR, doc="activity level label, e.g. full_active"),
        _c("interests", STRLIST, doc="onboarding interests (hashtags or community names)"),
        _c("source", STR),
    ),
    ("viewer_id",),
    "Accounts that watch (side features; viewers also appear only in events).",
)

VIDEOS = TableSpec(
    "videos",
    (
        _c("video_id", STR, True, "video id (TikTok ids are 19-digit: kept as text)"),
        _c("creator_id", STR, True, "uploader (Research API: username)"),
        _c("created_at", TS, True, "upload time (Research API: create_time)"),
        _c(
            "duration_s",
            pa.float64(),
            doc="length in seconds (Research API: video_duration)",
            min_value=0,
        ),
        _c("description", STR, doc="caption (Research API: video_description)"),
        _c(
            "hashtags",
            STRLIST,
            doc="lower-case names without # (Research API: hashtag_names)",
            norm="tag",
        ),
        _c("sound_id", STR, doc="sound / music id (Research API: music_id)"),
        _c("effect_ids", STRLIST, doc="Research API: effect_ids"),
        _c("mentions", STRLIST, doc="mentioned accounts (Research API: video_mention_list)"),
        _c(
            "region",
            STR,
            doc="upper-case ISO country code (Research API: region_code)",
            norm="upper",
        ),
        _c("view_count", pa.int64(), min_value=0),
        _c("like_count", pa.int64(), min_value=0),
        _c("comment_count", pa.int64(), min_value=0),
        _c("share_count", pa.int64(), min_value=0),
        _c("favourite_count", pa.int64(), min_value=0, doc="Research API: favorites_count"),
        _c("transcript", STR, doc="speech to text (Research API: voice_to_text)"),
        _c("categories", STRLIST, doc="platform category path, coarse to fine"),
        _c("source", STR),
    ),
    ("video_id",),
    "Posted videos with the counts seen at collection time.",
)

HASHTAGS = TableSpec(
    "hashtags",
    (
        _c("name", STR, True, "lower-case name without #", norm="tag"),
        _c("hashtag_id", STR),
        _c("title", STR, doc="challenge description"),
        _c("source", STR),
    ),
    ("name",),
)

SOUNDS = TableSpec(
    "sounds",
    (
        _c("sound_id", STR, True),
        _c("title", STR),
        _c("author", STR),
        _c("is_original", pa.bool_(), doc="an 'original sound' recorded by the uploader"),
        _c("duration_s", pa.float64(), min_value=0),
        _c("source", STR),
    ),
    ("sound_id",),
)

EFFECTS = TableSpec(
    "effects",
    (_c("effect_id", STR, True), _c("name", STR), _c("source", STR)),
    ("effect_id",),
)

COMMENTS = TableSpec(
    "comments",
    (
        _c("comment_id", STR, True, "Research API: id"),
        _c("video_id", STR, True),
        _c("user_id", STR, doc="commenter"),
        _c("parent_comment_id", STR, doc="replied-to comment (Research API: parent_comment_id)"),
        _c("text", STR, True),
        _c("created_at", TS, doc="Research API: create_time"),
        _c("like_count", pa.int64(), min_value=0),
        _c("reply_count", pa.int64(), min_value=0),
        _c("source", STR),
    ),
    ("comment_id",),
)

FOLLOWS = TableSpec(
    "follows",
    (
        _c("follower_id", STR, True),
        _c("followee_id", STR, True),
        _c("created_at", TS),
        _c("source", STR),
    ),
    ("follower_id", "followee_id"),
)

COCREATION = TableSpec(
    "cocreation_links",
    (
        _c("child_video_id", STR, True, "the duet / stitch / reuse"),
        _c("parent_video_id", STR, True, "the video it builds on"),
        _c("kind", STR, True, choices=COCREATION_KINDS),
        _c("created_at", TS, doc="when the child was posted"),
        _c("source", STR),
    ),
    ("child_video_id", "parent_video_id", "kind"),
    "Co-creation: child video -> parent video.",
)

EVENTS = TableSpec(
    "events",
    (
        _c("viewer_id", STR, True),
        _c("video_id", STR, True),
        _c("ts", TS, True, "event time; data sets without time use 1970-01-01"),
        _c("watch_time_s", pa.float64(), min_value=0),
        _c("completed", pa.bool_()),
        _c("liked", pa.bool_()),
        _c("shared", pa.bool_()),
        _c("commented", pa.bool_()),
        _c("followed", pa.bool_()),
        _c("skipped", pa.bool_()),
        _c("not_interested", pa.bool_()),
        _c("source", STR, doc="data set or file; benchmark splits use e.g. 'tiktok_rec:train'"),
    ),
    ("viewer_id", "video_id", "ts"),
    "Viewing events: one impression with what the viewer did.",
)

#: the event columns analyses read (everything but provenance)
EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in EVENTS.columns if c.name != "source")

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        CREATORS,
        VIEWERS,
        VIDEOS,
        HASHTAGS,
        SOUNDS,
        EFFECTS,
        COMMENTS,
        FOLLOWS,
        COCREATION,
        EVENTS,
    )
}

#: Load order that respects references (parents before children).
LOAD_ORDER = (
    "creators",
    "viewers",
    "hashtags",
    "sounds",
    "effects",
    "videos",
    "cocreation_links",
    "comments",
    "follows",
    "events",
)


def table_spec(name: str) -> TableSpec:
    """Return the spec of table *name* or raise :class:`NotFound`."""
    try:
        return TABLES[name]
    except KeyError:
        raise NotFound(f"unknown table {name!r}; known: {', '.join(TABLES)}") from None


def empty_table(name: str) -> pa.Table:
    """An empty Arrow table with the schema of *name*."""
    return table_spec(name).schema.empty_table()
