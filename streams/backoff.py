"""Capped exponential backoff with full jitter: the one wait both retry policies use, without I/O.

The producers' API policy (producers/api/retry.py) and the loader's (consumers/retry.py) back
off alike; producers and consumers may not import each other (the layer table in pyproject.toml),
so the function lives below both.  It lives in streams/, the lowest layer that holds behaviour of
the running pipeline (the broker adapter, the metrics) rather than the shape of its data, which is
what schemas/ owns.  The random generator is the caller's: a seeded one makes the waits a test's.
"""

from __future__ import annotations

import random


def backoff(attempt: int, rng: random.Random, *, base: float, cap: float) -> float:
    """Full-jitter wait after failed attempt number ``attempt`` (1-based): uniform in
    [0, min(cap, base * 2**(attempt-1))], so many callers failing together do not retry in step."""
    ceiling = min(cap, base * 2.0 ** min(max(attempt - 1, 0), 62))
    return rng.uniform(0.0, ceiling)
