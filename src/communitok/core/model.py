"""Domain types for single entities (API edges, session updates, tests).

Bulk data travels as Arrow tables with the schemas in :mod:`communitok.core.schema`;
these frozen dataclasses are the one-row view of the same tables, validated on creation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar

import pyarrow as pa

from .errors import InputError
from .schema import COCREATION_KINDS, TableSpec, table_spec
from .timeutil import to_utc


def _check_id(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InputError("must be a non-empty string", field=name)


def _check_nonneg(name: str, value: float | None) -> None:
    if value is not None and value < 0:
        raise InputError(f"must be >= 0, got {value}", field=name)


class _Row:
    """Mixin: conversion of a dataclass row to and from Arrow."""

    table: ClassVar[str]

    @classmethod
    def spec(cls) -> TableSpec:
        return table_spec(cls.table)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def to_arrow(cls, rows: list[Any]) -> pa.Table:
        spec = cls.spec()
        cols = {c.name: [getattr(r, c.name, None) for r in rows] for c in spec.columns}
        return pa.table(cols, schema=spec.schema)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = set(data) - names
        if unknown:
            raise InputError(f"unknown fields: {sorted(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class Creator(_Row):
    table: ClassVar[str] = "creators"
    creator_id: str
    display_name: str | None = None
    bio: str | None = None
    region: str | None = None
    verified: bool | None = None
    follower_count: int | None = None
    following_count: int | None = None
    likes_count: int | None = None
    video_count: int | None = None
    created_at: datetime | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        _check_id("creator_id", self.creator_id)
        for n in ("follower_count", "following_count", "likes_count", "video_count"):
            _check_nonneg(n, getattr(self, n))


@dataclass(frozen=True)
class Video(_Row):
    table: ClassVar[str] = "videos"
    video_id: str
    creator_id: str
    created_at: datetime
    duration_s: float | None = None
    description: str | None = None
    hashtags: list[str] = field(default_factory=list)
    sound_id: str | None = None
    effect_ids: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    region: str | None = None
    view_count: int | None = None
    like_count: int | None = None
    comment_count: int | None = None
    share_count: int | None = None
    favourite_count: int | None = None
    transcript: str | None = None
    categories: list[str] = field(default_factory=list)
    source: str | None = None

    def __post_init__(self) -> None:
        _check_id("video_id", self.video_id)
        _check_id("creator_id", self.creator_id)
        object.__setattr__(self, "created_at", to_utc(self.created_at, field="created_at"))
        _check_nonneg("duration_s", self.duration_s)
        for n in ("view_count", "like_count", "comment_count", "share_count", "favourite_count"):
            _check_nonneg(n, getattr(self, n))


@dataclass(frozen=True)
class Comment(_Row):
    table: ClassVar[str] = "comments"
    comment_id: str
    video_id: str
    text: str
    user_id: str | None = None
    parent_comment_id: str | None = None
    created_at: datetime | None = None
    like_count: int | None = None
    reply_count: int | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        _check_id("comment_id", self.comment_id)
        _check_id("video_id", self.video_id)
        if not isinstance(self.text, str):
            raise InputError("must be a string", field="text")
        if self.created_at is not None:
            object.__setattr__(self, "created_at", to_utc(self.created_at, field="created_at"))


@dataclass(frozen=True)
class Follow(_Row):
    table: ClassVar[str] = "follows"
    follower_id: str
    followee_id: str
    created_at: datetime | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        _check_id("follower_id", self.follower_id)
        _check_id("followee_id", self.followee_id)


@dataclass(frozen=True)
class CoCreationLink(_Row):
    table: ClassVar[str] = "cocreation_links"
    child_video_id: str
    parent_video_id: str
    kind: str
    created_at: datetime | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        _check_id("child_video_id", self.child_video_id)
        _check_id("parent_video_id", self.parent_video_id)
        if self.kind not in COCREATION_KINDS:
            raise InputError(f"must be one of {COCREATION_KINDS}", field="kind")


@dataclass(frozen=True)
class ViewEvent(_Row):
    """One impression of a video to a viewer and what the viewer did."""

    table: ClassVar[str] = "events"
    viewer_id: str
    video_id: str
    ts: datetime
    watch_time_s: float | None = None
    completed: bool | None = None
    liked: bool | None = None
    shared: bool | None = None
    commented: bool | None = None
    followed: bool | None = None
    skipped: bool | None = None
    not_interested: bool | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        _check_id("viewer_id", self.viewer_id)
        _check_id("video_id", self.video_id)
        object.__setattr__(self, "ts", to_utc(self.ts, field="ts"))
        _check_nonneg("watch_time_s", self.watch_time_s)
