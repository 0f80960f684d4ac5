"""Mapping Research API records to table rows: field names, exact ids, value checks.

A :class:`Bad` raised here is a record-level reject naming the field as the API spells it.
"""

from __future__ import annotations

import json
from typing import Any

from ._api_records import Kind

#: stored column -> API field, per table (rejects name the field as the file spells it)
VIDEO_MAP = {
    "video_id": "id",
    "creator_id": "username",
    "created_at": "create_time",
    "duration_s": "video_duration",
    "description": "video_description",
    "hashtags": "hashtag_names",
    "sound_id": "music_id",
    "effect_ids": "effect_ids",
    "mentions": "video_mention_list",
    "region": "region_code",
    "view_count": "view_count",
    "like_count": "like_count",
    "comment_count": "comment_count",
    "share_count": "share_count",
    "favourite_count": "favorites_count",
    "transcript": "voice_to_text",
}
COMMENT_MAP = {
    "comment_id": "id",
    "video_id": "video_id",
    "text": "text",
    "parent_comment_id": "parent_comment_id",
    "created_at": "create_time",
    "like_count": "like_count",
    "reply_count": "reply_count",
}
USER_MAP = {
    "creator_id": "username",
    "display_name": "display_name",
    "bio": "bio_description",
    "verified": "is_verified",
    "follower_count": "follower_count",
    "following_count": "following_count",
    "likes_count": "likes_count",
    "video_count": "video_count",
}
MAPS: dict[Kind, tuple[str, dict[str, str]]] = {
    "video": ("videos", VIDEO_MAP),
    "comment": ("comments", COMMENT_MAP),
    "user": ("creators", USER_MAP),
}
#: tables each kind of record feeds
KIND_TABLES: dict[Kind, tuple[str, ...]] = {
    "video": ("creators", "hashtags", "sounds", "effects", "videos"),
    "comment": ("comments",),
    "user": ("creators",),
}
API_TABLES = frozenset(t for ts in KIND_TABLES.values() for t in ts)

COUNTS = {
    "video": ("like_count", "comment_count", "share_count", "view_count", "favorites_count"),
    "comment": ("like_count", "reply_count"),
    "user": ("follower_count", "following_count", "likes_count", "video_count"),
}


class Bad(Exception):
    """A record-level problem found while mapping (becomes one Reject)."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(reason)
        self.field, self.value, self.reason = field, value, reason


# --------------------------------------------------------------------------- values
def _id(v: object, field: str, *, required: bool = False) -> str | None:
    """An id as exact text: ints and digit strings pass, floats (lossy) are refused."""
    if v is None:
        if required:
            raise Bad(field, None, "required field is missing")
        return None
    if isinstance(v, bool) or not isinstance(v, int | str):
        raise Bad(field, v, f"an id must be an integer or a string, got {type(v).__name__}")
    s = str(v).strip()
    if not s:
        if required:
            raise Bad(field, v, "required field is missing or empty")
        return None
    return s


def _ids(v: object, field: str) -> list[str] | None:
    if v is None:
        return None
    if not isinstance(v, list):
        raise Bad(field, v, "expected a JSON array of ids")
    return [s for s in (_id(x, field) for x in v) if s is not None]


def _texts(v: object, field: str) -> list[str] | str | None:
    if v is None or isinstance(v, str):
        return v  # text lists ("a|b", JSON text) are parsed by validation
    if not isinstance(v, list):
        raise Bad(field, v, "expected a JSON array of strings")
    return [
        x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in v if x is not None
    ]


def _text(v: object, field: str) -> str | None:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, int | float) and not isinstance(v, bool):
        return str(v)
    raise Bad(field, v, f"expected text, got {type(v).__name__}")


def _info(v: object, field: str) -> list[dict[str, Any]]:
    if v is None:
        return []
    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
        raise Bad(field, v, "expected a JSON array of objects")
    return v


_INT64_MAX = 2**63 - 1


def check_count(v: object, field: str) -> None:
    """What validation would mishandle: booleans, and numbers beyond int64."""
    if isinstance(v, bool):
        raise Bad(field, v, "a boolean where a count is expected")
    x: float | int | None = None
    if isinstance(v, int | float):
        x = v
    elif isinstance(v, str):
        try:
            x = int(v.strip())
        except ValueError:
            return  # validation says what is wrong with it
    if x is not None and abs(x) > _INT64_MAX:
        raise Bad(field, v, "out of the int64 range")


def _norm_tag(t: str) -> str:
    return t.strip().lstrip("#").strip().lower()


# --------------------------------------------------------------------------- mapping
def map_video(r: dict[str, Any], source: str) -> tuple[dict[str, Any], list[dict], list[dict]]:
    tag_info = _info(r.get("hashtag_info_list"), "hashtag_info_list")
    eff_info = _info(r.get("effect_info_list"), "effect_info_list")
    hashtags = _texts(r.get("hashtag_names"), "hashtag_names")
    if hashtags is None and tag_info:
        hashtags = [str(h["hashtag_name"]) for h in tag_info if h.get("hashtag_name") is not None]
    effects = _ids(r.get("effect_ids"), "effect_ids")
    if effects is None and eff_info:
        effects = [s for s in (_id(e.get("effect_id"), "effect_info_list") for e in eff_info) if s]
    row = {
        "video_id": _id(r.get("id"), "id", required=True),
        "creator_id": _text(r.get("username"), "username"),
        "created_at": r.get("create_time"),
        "duration_s": r.get("video_duration"),
        "description": _text(r.get("video_description"), "video_description"),
        "hashtags": hashtags,
        "sound_id": _id(r.get("music_id"), "music_id"),
        "effect_ids": effects,
        "mentions": _texts(r.get("video_mention_list"), "video_mention_list"),
        "region": _text(r.get("region_code"), "region_code"),
        "view_count": r.get("view_count"),
        "like_count": r.get("like_count"),
        "comment_count": r.get("comment_count"),
        "share_count": r.get("share_count"),
        "favourite_count": r.get("favorites_count"),
        "transcript": _text(r.get("voice_to_text"), "voice_to_text"),
        "source": source,
    }
    tags = [
        {
            "name": _norm_tag(str(h["hashtag_name"])),
            "hashtag_id": _id(h.get("hashtag_id"), "hashtag_info_list"),
            "title": _text(h.get("hashtag_description"), "hashtag_info_list") or None,
        }
        for h in tag_info
        if h.get("hashtag_name") is not None
    ]
    effs = [
        {
            "effect_id": _id(e.get("effect_id"), "effect_info_list"),
            "name": _text(e.get("effect_name"), "effect_info_list"),
        }
        for e in eff_info
        if e.get("effect_id") is not None
    ]
    return row, tags, effs


def map_comment(r: dict[str, Any], source: str) -> dict[str, Any]:
    video_id = _id(r.get("video_id"), "video_id", required=True)
    parent = _id(r.get("parent_comment_id"), "parent_comment_id")
    return {
        "comment_id": _id(r.get("id"), "id", required=True),
        "video_id": video_id,
        "parent_comment_id": None if parent == video_id else parent,  # top level in the API
        "text": _text(r.get("text"), "text"),
        "created_at": r.get("create_time"),
        "like_count": r.get("like_count"),
        "reply_count": r.get("reply_count"),
        "source": source,
    }


def map_user(r: dict[str, Any], username: str | None, source: str) -> dict[str, Any]:
    name = _text(r.get("username"), "username") or username
    if not name:
        raise Bad(
            "username",
            None,
            "user info carries no username: add a 'username' key to the object (or next to "
            "'data'), or pass username= / username_from_filename=True",
        )
    return {
        "creator_id": name,
        "display_name": _text(r.get("display_name"), "display_name"),
        "bio": _text(r.get("bio_description"), "bio_description"),
        "verified": r.get("is_verified"),
        "follower_count": r.get("follower_count"),
        "following_count": r.get("following_count"),
        "likes_count": r.get("likes_count"),
        "video_count": r.get("video_count"),
        "source": source,
    }
