"""Backoff, Retry-After and the verdict table."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from producers.api.errors import (
    ApiError,
    AuthenticationFailed,
    FatalApiError,
    Forbidden,
    ForeignLink,
    InvalidClient,
    InvalidGrant,
    MalformedBody,
    NetworkError,
    NotFound,
    RateLimited,
    ResponseTooLarge,
    RetriesExhausted,
    RetryAfterTooLong,
    ServerError,
    TokenEndpointUnavailable,
    TransientApiError,
    TruncatedBody,
    UnexpectedResponse,
    is_transient,
    scrub,
)
from producers.api.retry import RetryPolicy, parse_retry_after

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)


def test_full_jitter_stays_under_the_capped_exponential() -> None:
    policy = RetryPolicy(max_attempts=20, base=0.5, cap=8.0)
    rng = random.Random(7)
    for attempt in range(1, 20):
        ceiling = min(8.0, 0.5 * 2 ** (attempt - 1))
        waits = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling / 2  # it is spread, not constant


def test_backoff_is_reproducible_with_a_seed() -> None:
    policy = RetryPolicy()
    a = [policy.backoff(n, random.Random(3)) for n in range(1, 6)]
    b = [policy.backoff(n, random.Random(3)) for n in range(1, 6)]
    assert a == b


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("", None),
        ("120", 120.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("Sun, 01 Mar 2026 12:00:30 GMT", 30.0),
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),  # in the past: no wait
        ("nan", None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_retry_after_is_honoured() -> None:
    err = RateLimited("GET /x: HTTP 429", path="/x", status=429, retry_after=42.0)
    assert RetryPolicy().next_delay(err, 1, random.Random(0)) == 42.0


def test_retry_after_beyond_the_cap_is_fatal() -> None:
    err = RateLimited("GET /x: HTTP 429", path="/x", status=429, retry_after=3600.0)
    with pytest.raises(RetryAfterTooLong) as info:
        RetryPolicy(retry_after_cap=120.0).next_delay(err, 1, random.Random(0))
    assert "server asked to wait 3600 s, more than the cap 120 s" in str(info.value)
    assert "/x" in str(info.value) and not info.value.transient


def test_fatal_errors_are_raised_as_they_are() -> None:
    err = Forbidden("GET /x: HTTP 403", path="/x", status=403)
    with pytest.raises(Forbidden) as info:
        RetryPolicy().next_delay(err, 1, random.Random(0))
    assert info.value is err


def test_retries_exhausted_names_path_and_attempts() -> None:
    err = ServerError("GET /api/v2.0/vcdb/Make: HTTP 503", path="/api/v2.0/vcdb/Make", status=503)
    policy = RetryPolicy(max_attempts=3)
    assert policy.next_delay(err, 2, random.Random(0)) >= 0
    with pytest.raises(RetriesExhausted) as info:
        policy.next_delay(err, 3, random.Random(0))
    e = info.value
    assert e.attempts == 3 and e.last_error is err and e.path == "/api/v2.0/vcdb/Make" and not e.transient
    assert "/api/v2.0/vcdb/Make" in str(e) and "3 attempts" in str(e) and "503" in str(e)


def test_policy_needs_one_attempt() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


@pytest.mark.parametrize(
    "cls", [RateLimited, ServerError, NetworkError, TruncatedBody, MalformedBody, TokenEndpointUnavailable]
)
def test_transient_verdicts(cls: type[TransientApiError]) -> None:
    assert cls("m").transient and issubclass(cls, TransientApiError) and is_transient(cls("m"))


@pytest.mark.parametrize(
    "cls",
    [AuthenticationFailed, InvalidClient, InvalidGrant, Forbidden, NotFound, UnexpectedResponse, ForeignLink,
     ResponseTooLarge],
)
def test_fatal_verdicts(cls: type[FatalApiError]) -> None:
    assert not cls("m").transient and issubclass(cls, FatalApiError) and not is_transient(cls("m"))


def test_unknown_exceptions_are_transient() -> None:
    assert is_transient(KeyError("x")) and is_transient(ApiError("x"))


def test_scrub() -> None:
    text = "bad pw hunter2 and Authorization: Bearer eyJabc.def with secret s3cr3t " + "x" * 500
    out = scrub(text, ["hunter2", "s3cr3t", ""])
    assert "hunter2" not in out and "s3cr3t" not in out and "eyJabc" not in out
    assert len(out) <= 200 and out.endswith("...")


def test_an_outage_is_ridden_out_for_outage_s_and_any_other_failure_stops_at_max_attempts() -> None:
    err = ServerError("GET /x: HTTP 503", path="/x", status=503)
    policy = RetryPolicy(max_attempts=3, outage_s=60.0)
    rng = random.Random(0)
    assert policy.next_delay(err, 3, rng, down_s=59.0) >= 0.0  # past max_attempts, inside the window
    with pytest.raises(RetriesExhausted):
        policy.next_delay(err, 3, rng, down_s=60.0)
    with pytest.raises(RetriesExhausted):
        policy.next_delay(err, 3, rng)  # not an outage (never answered, or answered others since)
    assert policy.next_delay(err, 2, rng) >= 0.0
