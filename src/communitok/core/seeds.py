"""Seeded randomness: every stochastic function takes ``seed``; same seed, same output."""

from __future__ import annotations

import hashlib

import numpy as np

from .errors import InputError


def rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from an int seed (or pass one through)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise InputError("a seed is required for reproducible results", field="seed")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"must be a non-negative integer, got {seed!r}", field="seed")
    return np.random.default_rng(int(seed))


def derive_seed(seed: int, *labels: object) -> int:
    """A stable child seed for a named sub-task (independent of call order)."""
    h = hashlib.blake2b(repr((seed, *labels)).encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") & 0x7FFF_FFFF_FFFF_FFFF


def stable_hash(*parts: object, digest_size: int = 8) -> int:
    """Process-independent hash (unlike ``hash()``), e.g. for A/B buckets."""
    h = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=digest_size).digest()
    return int.from_bytes(h, "big")
