"""Seeded, order-free randomness: every draw is a hash of (seed, key), never global state."""

from __future__ import annotations

import hashlib


def seeded_int(seed: int, key: str) -> int:
    """A 64-bit integer fixed by `seed` and `key`, the same on every worker and run."""
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def seeded_unit(seed: int, key: str) -> float:
    """A number in [0, 1) fixed by `seed` and `key`."""
    return seeded_int(seed, key) / 2**64
