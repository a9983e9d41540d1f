"""Seeded, order-free randomness: every draw is a hash of (seed, keys), never global state.

One place for it, so synthesis, packing and the mixture plan draw the same way: the same
keys give the same draws on every worker and in every run, whatever the order of records.
"""

from __future__ import annotations

import hashlib
import random


def _digest_int(material: str) -> int:
    return int.from_bytes(hashlib.blake2b(material.encode(), digest_size=8).digest(), "big")


def seeded_int(seed: int, key: str) -> int:
    """A 64-bit integer fixed by `seed` and `key`, the same on every worker and run."""
    return _digest_int(f"{seed}:{key}")


def seeded_unit(seed: int, key: str) -> float:
    """A number in [0, 1) fixed by `seed` and `key`."""
    return seeded_int(seed, key) / 2**64


def keyed_rng(seed: int, *keys: object) -> random.Random:
    """A private `random.Random` seeded from (seed, keys): same keys, same draws, no globals."""
    return random.Random(_digest_int(":".join([str(seed), *(str(k) for k in keys)])))


def stable_hash(*keys: object, size: int = 12) -> str:
    """Hex digest of the keys; used for job ids and deterministic orderings."""
    material = "\x00".join(str(k) for k in keys).encode()
    return hashlib.blake2b(material, digest_size=size).hexdigest()
