"""API keys with scopes (stored hashed in the store) and per-key rate limits.

A key looks like ``ctk_<key_id>_<secret>``: the ``key_id`` (8 hex digits) is public
(it appears in listings and logs); only the SHA-256 of the whole key is stored. Keys are
256-bit random tokens, so a fast hash is the right tool (as for GitHub or Stripe keys):
there is nothing to brute-force the way there is with passwords.

Keys live in the store as the result table ``api_keys`` (``Store.put_result``; one
row per key: key_id, name, scope, key_hash, created_at, revoked_at, rate_per_s, burst).
The ring keeps them in memory for the per-request check and writes through on every
change.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..core.errors import InputError, NotFound
from ..core.timeutil import utcnow

if TYPE_CHECKING:
    from ..store import Store

SCOPES = ("admin", "analyst", "partner", "viewer-service")
KEYS_RESULT = "api_keys"
_KEY = re.compile(r"^ctk_([0-9a-f]{8})_[A-Za-z0-9_\-]{20,100}$")

#: Default token-bucket (requests per second, burst) per scope.
DEFAULT_RATES: dict[str, tuple[float, int]] = {
    "admin": (100.0, 200),
    "analyst": (50.0, 100),
    "partner": (10.0, 30),
    "viewer-service": (2000.0, 4000),
}

_SCHEMA = pa.schema(
    [
        ("key_id", pa.string()),
        ("name", pa.string()),
        ("scope", pa.string()),
        ("key_hash", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("revoked_at", pa.timestamp("us", tz="UTC")),
        ("rate_per_s", pa.float64()),
        ("burst", pa.int64()),
    ]
)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the secret itself)."""

    key_id: str
    name: str
    scope: str
    key_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    rate_per_s: float | None = None
    burst: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def public(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "name": self.name,
            "scope": self.scope,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
            "active": self.active,
            "rate_per_s": self.rate_per_s,
            "burst": self.burst,
        }


class KeyRing:
    """The API keys of one server: check a presented key, create and revoke keys."""

    def __init__(self, store: Store | None = None) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._keys: dict[str, ApiKey] = {}
        if store is not None and store.has_result(KEYS_RESULT):
            for row in store.read(KEYS_RESULT).to_pylist():
                self._keys[row["key_id"]] = ApiKey(**row)

    def __len__(self) -> int:
        return sum(k.active for k in self._keys.values())

    def list(self) -> list[ApiKey]:
        return sorted(self._keys.values(), key=lambda k: (k.created_at, k.key_id))

    def get(self, key_id: str) -> ApiKey:
        try:
            return self._keys[key_id]
        except KeyError:
            raise NotFound(f"no API key {key_id!r}") from None

    def create(
        self,
        scope: str,
        name: str = "",
        *,
        rate_per_s: float | None = None,
        burst: int | None = None,
    ) -> tuple[str, ApiKey]:
        """Mint a key; returns (the secret key, shown once; its stored record)."""
        if scope not in SCOPES:
            raise InputError(f"must be one of {', '.join(SCOPES)}", field="scope")
        if rate_per_s is not None and not (rate_per_s > 0 and math.isfinite(rate_per_s)):
            raise InputError("must be > 0", field="rate_per_s")
        if burst is not None and burst < 1:
            raise InputError("must be >= 1", field="burst")
        with self._lock:
            key_id = secrets.token_hex(4)
            while key_id in self._keys:
                key_id = secrets.token_hex(4)
            secret = f"ctk_{key_id}_{secrets.token_urlsafe(32)}"
            rec = ApiKey(key_id, name or scope, scope, hash_key(secret), utcnow(), None,
                         rate_per_s, burst)  # fmt: skip
            self._keys[key_id] = rec
            self._save()
        return secret, rec

    def revoke(self, key_id: str) -> ApiKey:
        with self._lock:
            rec = self.get(key_id)
            if rec.active:
                rec = replace(rec, revoked_at=utcnow())
                self._keys[key_id] = rec
                self._save()
        return rec

    def check(self, presented: str | None) -> ApiKey | None:
        """The active key matching *presented*, or None (constant-time hash compare)."""
        if not presented:
            return None
        m = _KEY.match(presented)
        if not m:
            return None
        rec = self._keys.get(m.group(1))
        if rec is None or not rec.active:
            return None
        if not hmac.compare_digest(rec.key_hash, hash_key(presented)):
            return None
        return rec

    def _save(self) -> None:
        if self._store is None:
            return
        if self._store.has_result(KEYS_RESULT):  # keep keys another ring wrote meanwhile
            for row in self._store.read(KEYS_RESULT).to_pylist():
                mine = self._keys.get(row["key_id"])
                if mine is None or (mine.active and row["revoked_at"] is not None):
                    self._keys[row["key_id"]] = ApiKey(**row)  # revocations win
        rows = [vars(k) for k in self.list()]
        cols = {f.name: [r[f.name] for r in rows] for f in _SCHEMA}
        self._store.put_result(KEYS_RESULT, pa.table(cols, schema=_SCHEMA))


class RateLimiter:
    """In-process token buckets, one per key (thread-safe)."""

    def __init__(
        self, rates: Mapping[str, tuple[float, int]] | None = None, *, max_buckets: int = 100_000
    ) -> None:
        self.max_buckets = max_buckets
        self.rates = dict(DEFAULT_RATES)
        self.rates.update(rates or {})
        self._lock = threading.Lock()
        self._buckets: dict[str, list[float]] = {}  # id -> [tokens, last_time]

    def take(self, bucket: str, rate: float, burst: int) -> float:
        """Take one token from *bucket*; 0.0 when allowed, else seconds until one is free."""
        now = time.monotonic()
        with self._lock:
            b = self._buckets.get(bucket)
            if b is None:
                if len(self._buckets) >= self.max_buckets:
                    self._prune(now)
                b = self._buckets[bucket] = [float(burst), now]
            tokens = min(float(burst), b[0] + (now - b[1]) * rate)
            b[1] = now
            if tokens >= 1.0:
                b[0] = tokens - 1.0
                return 0.0
            b[0] = tokens
            return (1.0 - tokens) / rate

    def _prune(self, now: float) -> None:
        """Forget buckets idle for a minute (they would be full again anyway), so that
        many client addresses cannot grow memory without bound."""
        idle = [k for k, (_, last) in self._buckets.items() if now - last > 60.0]
        for k in idle:
            del self._buckets[k]
        if len(self._buckets) >= self.max_buckets:  # still full: drop the oldest half
            oldest = sorted(self._buckets, key=lambda k: self._buckets[k][1])
            for k in oldest[: len(oldest) // 2]:
                del self._buckets[k]

    def for_key(self, key: ApiKey) -> float:
        rate, burst = self.rates.get(key.scope, (10.0, 20))
        return self.take(
            "key:" + key.key_id,
            key.rate_per_s or rate,
            key.burst or burst,
        )
