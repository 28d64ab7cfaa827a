"""When to try a request again and how long to wait first, without I/O.

``RetryPolicy.next_delay`` is the one place that acts on an error's verdict: it answers the
wait before the next attempt or raises what ends the request.  Backoff is capped exponential
with full jitter (each wait uniform in [0, min(cap, base * 2**(attempt-1))]; streams/backoff.py,
the loader's too), so many workers failing together do not retry in step.  The random generator
and the clock are the caller's.  A server's ``Retry-After`` (seconds or an HTTP-date) is honoured
as given, up to a cap.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import random
from dataclasses import dataclass

from producers.api.errors import ApiError, RetriesExhausted, RetryAfterTooLong, TransientApiError, describe
from streams.backoff import backoff


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # attempts in all, the first included
    base: float = 0.5
    cap: float = 30.0
    retry_after_cap: float = 120.0
    outage_s: float = 0.0  # and keep trying while an API that answered before has failed for less than this

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter wait after failed attempt number ``attempt`` (1-based): streams.backoff."""
        return backoff(attempt, rng, base=self.base, cap=self.cap)

    def next_delay(self, error: ApiError, attempt: int, rng: random.Random, method: str = "GET",
                   down_s: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1``; raises if there is none.

        ``down_s``: how long the whole API has been down as this request sees it, or None when
        it is not down: it never answered in this process (a wrong address), or it answered a
        request sent after this one first failed (this request's own trouble).  Only an outage
        is ridden out past ``max_attempts``, for ``outage_s``."""
        if not error.transient:
            raise error
        retry_after = error.retry_after if isinstance(error, TransientApiError) else None
        if retry_after is not None and retry_after > self.retry_after_cap:
            raise RetryAfterTooLong(
                describe(method, error.path,
                         f"server asked to wait {retry_after:.0f} s, more than the cap {self.retry_after_cap:.0f} s",
                         "run again later, or raise retry_after_cap"),
                path=error.path, status=error.status, retry_after=retry_after,
            ) from error
        if attempt >= self.max_attempts and (down_s is None or down_s >= self.outage_s):
            raise RetriesExhausted(error, attempt) from error
        if retry_after is not None:
            return retry_after
        return self.backoff(attempt, rng)


@dataclass(frozen=True)
class RetryEvent:
    """What a progress display hears about each retry."""

    method: str
    path: str
    attempt: int  # the attempt that failed
    max_attempts: int
    delay: float
    error: ApiError

    @property
    def reason(self) -> str:
        return type(self.error).__name__ + (f" HTTP {self.error.status}" if self.error.status else "")


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """``Retry-After`` in seconds from ``now`` (aware, UTC): delta-seconds or an HTTP-date.

    None when absent or unreadable (the caller then backs off on its own); a date in the past
    means no wait.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)  # RFC 9110: HTTP-dates are GMT
    return max((when - now).total_seconds(), 0.0)
