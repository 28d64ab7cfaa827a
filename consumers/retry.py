"""When the loader tries a batch again after an infrastructure error, without I/O.

Shaped like the producer's policy (producers/api/retry.py): `next_delay` is the one place that acts
on the verdict.  Infrastructure errors (connection lost, disk full, deadlock, any SQLSTATE that
is not the record's fault) are transient: the batch is retried with capped exponential backoff
and full jitter (streams/backoff.py, the producer's too), nothing advanced meanwhile.  The
worker gives up (and stops without advancing) once the attempts have run out, and, when
PostgreSQL is unreachable (the session lost, the server not answering), once it has been down
for `outage_s`: a restart or failover (seconds to a minute) is ridden out, however the jitter
falls; a disk that is full is not waited for.  The random generator and the clock are the caller's.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from ledger.errors import InfrastructureError
from streams.backoff import backoff


class WorkerStopped(RuntimeError):
    """The worker stopped without finishing: the message says why; offsets were not advanced past
    anything that was not applied."""


class OffsetsOutOfRange(WorkerStopped):
    """A stored offset lies outside its partition's log on the broker (consumers/positions.py):
    a rebuilt broker, a recreated topic, or retention.  Nothing was read (exit 1)."""


class StoreUnavailable(WorkerStopped):
    """PostgreSQL was unreachable on every attempt, for longer than the outage window
    (DATABASE_OUTAGE_S): the worker stops, nothing advanced past what committed (exit 5)."""


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
        """Full-jitter wait after failed attempt number `attempt` (1-based): streams.backoff."""
        return backoff(attempt, rng, base=self.base, cap=self.cap)

    def next_delay(self, error: Exception, attempt: int, rng: random.Random, down_s: float | None = None) -> float:
        """Seconds to wait before attempt `attempt + 1`; raises RetriesExhausted if there is none.
        `down_s`: how long PostgreSQL has been unreachable for this step, None when the error is
        not that (the attempts alone decide)."""
        if attempt >= self.max_attempts and (down_s is None or down_s >= self.outage_s):
            waited = f" in {down_s:.0f} s" if down_s is not None else ""
            raise RetriesExhausted(f"{error}; gave up after {attempt} attempts{waited}, "
                                   "offsets not advanced") from error
        return self.backoff(attempt, rng)


T = TypeVar("T")
log = logging.getLogger("consumers.worker")  # its lines read as the worker's, as they always did


async def retrying(step: Callable[[], Awaitable[T]], policy: RetryPolicy, clock: Callable[[], float],
                   rng: random.Random) -> T:
    """Run one transaction of the worker, again after infrastructure errors as `policy` says; when
    the attempts run out the worker stops (StoreUnavailable when PostgreSQL stayed unreachable),
    nothing advanced past what committed."""
    attempt = 0
    first_failure: float | None = None
    while True:
        attempt += 1
        try:
            return await step()
        except InfrastructureError as e:
            first_failure = clock() if first_failure is None else first_failure
            down_s = clock() - first_failure if e.unreachable else None
            try:
                delay = policy.next_delay(e, attempt, rng, down_s)
            except RetriesExhausted as stop:
                raise (StoreUnavailable if e.unreachable else WorkerStopped)(str(stop)) from e
            log.warning("%s; retrying in %.1f s", e, delay)
            await asyncio.sleep(delay)
