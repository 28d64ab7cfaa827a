"""When the loader tries a batch again after an infrastructure error, without I/O.

Shaped like the producer's policy (producers/retry.py): `next_delay` is the one place that acts
on the verdict.  Infrastructure errors (connection lost, disk full, deadlock, any SQLSTATE that
is not the record's fault) are transient: the batch is retried with capped exponential backoff
and full jitter, nothing advanced meanwhile.  The worker gives up (and stops without advancing)
once the attempts have run out AND the store has been failing for `outage_s`: a PostgreSQL
restart or failover (seconds to a minute) is ridden out, however the jitter falls.  The random
generator and the clock are the caller's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


class RetriesExhausted(RuntimeError):
    """The batch failed for infrastructure reasons on every attempt; offsets were not advanced."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6  # attempts in all, the first included
    base: float = 0.5
    cap: float = 30.0
    outage_s: float = 0.0  # and keep trying while the store has failed for less than this (DATABASE_OUTAGE_S)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter wait after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.cap, self.base * 2.0 ** min(max(attempt - 1, 0), 62))
        return rng.uniform(0.0, ceiling)

    def next_delay(self, error: Exception, attempt: int, rng: random.Random, failing_s: float = 0.0) -> float:
        """Seconds to wait before attempt `attempt + 1` of a step that has been failing for
        `failing_s`; raises RetriesExhausted if there is none."""
        if attempt >= self.max_attempts and failing_s >= self.outage_s:
            raise RetriesExhausted(f"{error}; gave up after {attempt} attempts in {failing_s:.0f} s, "
                                   f"offsets not advanced") from error
        return self.backoff(attempt, rng)
