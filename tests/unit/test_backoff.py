"""streams.backoff, the wait both retry policies use: no socket."""

from __future__ import annotations

import random

from consumers.retry import RetryPolicy as LoaderPolicy
from producers.api.retry import RetryPolicy as ApiPolicy
from streams.backoff import backoff


def test_the_wait_is_full_jitter_under_a_doubling_ceiling_up_to_the_cap() -> None:
    rng = random.Random(1)
    for attempt, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (7, 30.0), (10_000, 30.0)):
        waits = [backoff(attempt, rng, base=0.5, cap=30.0) for _ in range(300)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.9  # the whole range, not a fixed step
    assert 0.0 <= backoff(0, rng, base=0.5, cap=30.0) <= 0.5  # an attempt before the first counts as the first


def test_both_policies_wait_what_the_function_says_for_the_same_seed() -> None:
    want = [backoff(n, random.Random(7), base=0.25, cap=4.0) for n in range(1, 9)]
    assert [ApiPolicy(base=0.25, cap=4.0).backoff(n, random.Random(7)) for n in range(1, 9)] == want
    assert [LoaderPolicy(base=0.25, cap=4.0).backoff(n, random.Random(7)) for n in range(1, 9)] == want
