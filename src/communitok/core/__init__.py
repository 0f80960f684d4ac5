"""Core: domain types, table schemas, errors, settings, time and seeds."""

from .errors import (
    CommunitokError,
    Conflict,
    InputError,
    NotFound,
    SchemaError,
    StoreError,
    StoreLocked,
)
from .model import CoCreationLink, Comment, Creator, Follow, Video, ViewEvent
from .schema import LOAD_ORDER, TABLES, Column, TableSpec, empty_table, table_spec
from .settings import Settings, load_settings

__all__ = [
    "LOAD_ORDER",
    "TABLES",
    "CoCreationLink",
    "Column",
    "Comment",
    "CommunitokError",
    "Conflict",
    "Creator",
    "Follow",
    "InputError",
    "NotFound",
    "SchemaError",
    "Settings",
    "StoreError",
    "StoreLocked",
    "TableSpec",
    "Video",
    "ViewEvent",
    "empty_table",
    "load_settings",
    "table_spec",
]
