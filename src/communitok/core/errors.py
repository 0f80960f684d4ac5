"""One exception hierarchy for the whole package.

The API maps these to one JSON error shape with status codes; the CLI maps them to a
one-line message and a non-zero exit code.
"""

from __future__ import annotations


class CommunitokError(Exception):
    """Base class of every error communitok raises on purpose."""

    #: HTTP status the API uses for this error.
    status_code: int = 500
    #: Process exit code the CLI uses for this error.
    exit_code: int = 1


class InputError(CommunitokError, ValueError):
    """Bad input: a parameter, a file, a row or a field is not what it must be."""

    status_code = 422
    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.source = source
        self.line = line
        self.field = field
        where = ":".join(str(p) for p in (source, line) if p is not None)
        prefix = f"{where}: " if where else ""
        if field:
            prefix += f"field {field!r}: "
        super().__init__(prefix + message)
        self.reason = message


class NotFound(CommunitokError, LookupError):
    """A requested entity, table, run or file does not exist."""

    status_code = 404
    exit_code = 3


class Conflict(CommunitokError):
    """The operation conflicts with the current state (e.g. the store is locked)."""

    status_code = 409
    exit_code = 4


class StoreError(CommunitokError):
    """The storage backend failed (I/O, schema mismatch, migration)."""

    status_code = 503
    exit_code = 5


class StoreLocked(Conflict):
    """Another process holds the embedded store read-write."""


class SchemaError(StoreError):
    """The stored schema is newer than this code or otherwise incompatible."""


def check(condition: bool, message: str, *, field: str | None = None) -> None:
    """Raise :class:`InputError` with *message* unless *condition* holds."""
    if not condition:
        raise InputError(message, field=field)
