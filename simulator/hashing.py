"""Stable hashing: every simulated value is a pure function of (seed, names, integers).

Python's `hash()` of strings changes per process, so names are folded once with blake2b and
everything per row uses splitmix64 on plain ints (cheap, and the same on every platform).
"""

from __future__ import annotations

import hashlib

MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def splitmix64(x: int) -> int:
    z = (x + _GOLDEN) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def mix(a: int, b: int) -> int:
    """A 64-bit hash of two ints; order matters (`mix(a, b) != mix(b, a)`).  `splitmix64` of
    `a ^ b * golden`, inlined: this runs several times for every value served."""
    z = ((a ^ ((b * _GOLDEN) & MASK)) + _GOLDEN) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def seed_of(*parts: object) -> int:
    """A 64-bit seed from names and numbers, stable across processes."""
    text = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def unit(h: int) -> float:
    """A hash as a float in [0, 1)."""
    return (h >> 11) * (1.0 / (1 << 53))
