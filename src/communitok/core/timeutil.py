"""Time helpers: UTC everywhere, timezone-aware datetimes, explicit windows."""

from __future__ import annotations

from datetime import UTC, datetime

from .errors import InputError

#: Epoch values above this are taken as milliseconds, above the next as microseconds.
_MS_THRESHOLD = 10**11
_US_THRESHOLD = 10**14


def parse_timestamp(value: object, *, field: str = "timestamp") -> datetime:
    """Parse epoch seconds (int/float/str; ms and µs detected by size) or ISO 8601 to UTC."""
    if isinstance(value, datetime):
        return to_utc(value, field=field)
    if isinstance(value, bool) or value is None:
        raise InputError(f"not a timestamp: {value!r}", field=field)
    if isinstance(value, int | float):
        return _from_epoch(float(value), field)
    if isinstance(value, str):
        s = value.strip()
        if not s:
            raise InputError("empty timestamp", field=field)
        try:
            return _from_epoch(float(s), field)
        except ValueError:
            pass
        try:
            dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"not epoch seconds or ISO 8601: {value!r}", field=field) from None
        return to_utc(dt, field=field)
    raise InputError(f"not a timestamp: {value!r}", field=field)


def _from_epoch(x: float, field: str) -> datetime:
    if x != x or x in (float("inf"), float("-inf")):
        raise InputError(f"not a finite number: {x}", field=field)
    if abs(x) >= _US_THRESHOLD:
        x /= 1_000_000
    elif abs(x) >= _MS_THRESHOLD:
        x /= 1000
    try:
        return datetime.fromtimestamp(x, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise InputError(f"timestamp out of range: {x}", field=field) from None


def to_utc(dt: object, *, field: str = "timestamp") -> datetime:
    """Return *dt* as an aware UTC datetime; naive datetimes are taken as UTC."""
    if not isinstance(dt, datetime):
        return parse_timestamp(dt, field=field)
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
