"""The worker's read-ahead: batch cutting (size, age, run boundary, end-of-table, force) and the
read-ahead budget (pause when full, resume only below half)."""

from __future__ import annotations

from consumers.buffer import BufferLimits, Buffers
from consumers.records import Consumed
from tests.unit.fakes import consumed_records, eot, make, page, table, topic

MAKE = table("Make")
TP = (topic("Make"), 0)
TP1 = (topic("Make"), 1)
TP2 = (topic("Make"), 2)
READING = [TP, TP1]  # the partitions assigned and not waiting for their parents


def makes(n: int, *, run_id: int = 7, start: int = 0, tp: tuple[str, int] = TP, first_id: int = 1) -> list[Consumed]:
    return consumed_records(tp, page(MAKE, [make(first_id + i) for i in range(n)], run_id=run_id), start)


def offsets(batch: list[Consumed] | None) -> list[int]:
    assert batch is not None
    return [c.source.offset for c in batch]


def test_a_full_batch_is_cut_at_once_and_the_rest_waits() -> None:
    b = Buffers(BufferLimits(batch_size=3, linger_s=0.3))
    b.add(TP, makes(5), now=0.0)
    assert offsets(b.next_batch(TP, now=0.0)) == [0, 1, 2]
    b.pop(TP, 3, now=0.0)
    # Two records, neither a full batch nor old enough: they wait for more or for their age.
    assert b.next_batch(TP, now=0.1) is None
    assert b.size(TP) == 2 and b.held == 2


def test_a_partial_batch_is_cut_once_its_oldest_record_has_waited_linger_s() -> None:
    b = Buffers(BufferLimits(batch_size=10, linger_s=0.5))  # times exact in binary: no rounding at the edge
    b.add(TP, makes(2), now=100.0)
    b.add(TP, makes(1, start=2, first_id=3), now=100.25)  # later arrivals do not restart the wait
    assert b.next_batch(TP, now=100.4375) is None
    assert offsets(b.next_batch(TP, now=100.5)) == [0, 1, 2]


def test_the_wait_starts_again_when_the_queue_was_emptied() -> None:
    b = Buffers(BufferLimits(batch_size=10, linger_s=0.5))
    b.add(TP, makes(1), now=0.0)
    b.pop(TP, 1, now=0.0)
    b.add(TP, makes(1, start=1, first_id=2), now=5.0)
    assert b.next_batch(TP, now=5.25) is None
    assert offsets(b.next_batch(TP, now=5.5)) == [1]


def test_a_batch_never_spans_two_runs() -> None:
    b = Buffers(BufferLimits(batch_size=10, linger_s=0.3))
    b.add(TP, [*makes(2, run_id=7), *makes(2, run_id=8, start=2, first_id=3)], now=0.0)
    # The boundary is known, so the first run's records need not wait for their age.
    first = b.next_batch(TP, now=0.0)
    assert offsets(first) == [0, 1] and {c.run_id for c in first or []} == {7}
    b.pop(TP, 2, now=0.0)
    # The second run's records are at the tail: they wait like any partial batch.
    assert b.next_batch(TP, now=0.0) is None
    later = b.next_batch(TP, now=0.3)
    assert offsets(later) == [2, 3] and {c.run_id for c in later or []} == {8}


def test_a_batch_ends_before_an_end_of_table_which_then_heads_the_queue() -> None:
    b = Buffers(BufferLimits(batch_size=10, linger_s=0.3))
    recs = consumed_records(TP, [*page(MAKE, [make(1), make(2)], run_id=7), eot(MAKE, run_id=7, records=2,
                                                                                 partitions=1)])
    b.add(TP, recs, now=0.0)
    assert offsets(b.next_batch(TP, now=0.0)) == [0, 1]
    b.pop(TP, 2, now=0.0)
    head = b.head(TP)
    assert head is not None and head.eot and head.source.offset == 2


def test_force_cuts_a_partial_batch_at_once() -> None:
    b = Buffers(BufferLimits(batch_size=10, linger_s=0.3))
    b.add(TP, makes(2), now=0.0)
    assert b.next_batch(TP, now=0.0) is None
    assert offsets(b.next_batch(TP, now=0.0, force=True)) == [0, 1]


def test_an_empty_or_unknown_partition_has_no_batch() -> None:
    b = Buffers(BufferLimits())
    assert b.next_batch(TP, now=0.0, force=True) is None and b.head(TP) is None and b.size(TP) == 0


# ---- the budget ------------------------------------------------------------------------------


def test_a_partition_holding_four_batches_is_paused() -> None:
    limits = BufferLimits(batch_size=2, linger_s=0.3, budget=1000)
    assert limits.per_partition == 8
    b = Buffers(limits)
    b.add(TP, makes(7), now=0.0)
    b.add(TP1, makes(3, tp=TP1), now=0.0)
    assert b.to_pause(READING) == []
    b.add(TP, makes(1, start=7, first_id=8), now=0.0)
    assert b.to_pause(READING) == [TP]
    assert b.to_pause(READING) == []  # reported once: it is paused already
    assert b.full == {TP}


def test_once_the_budget_is_spent_every_reading_partition_is_paused() -> None:
    b = Buffers(BufferLimits(batch_size=100, linger_s=0.3, budget=6))
    b.add(TP, makes(3), now=0.0)
    b.add(TP1, makes(2, tp=TP1), now=0.0)
    assert b.to_pause([TP, TP1, TP2]) == []  # 5 held, below the budget and far from any partition's limit
    b.add(TP1, makes(1, start=2, tp=TP1), now=0.0)
    # TP2 holds nothing yet: it is paused too, or its next read would overshoot the budget.
    assert sorted(b.to_pause([TP, TP1, TP2])) == [TP, TP1, TP2]


def test_paused_partitions_resume_only_below_half_the_budget() -> None:
    b = Buffers(BufferLimits(batch_size=100, linger_s=0.3, budget=6))
    b.add(TP, makes(4), now=0.0)
    b.add(TP1, makes(2, tp=TP1), now=0.0)
    assert sorted(b.to_pause(READING)) == [TP, TP1]
    b.pop(TP, 1, now=0.0)  # 5 held
    assert b.to_resume() == []
    b.pop(TP, 2, now=0.0)  # 3 held: half the budget, not below it
    assert b.held == 3 and b.to_resume() == []
    b.pop(TP, 1, now=0.0)  # 2 held
    assert sorted(b.to_resume()) == [TP, TP1]
    assert b.full == set() and b.to_resume() == []


def test_a_partition_still_holding_two_batches_stays_paused() -> None:
    limits = BufferLimits(batch_size=2, linger_s=0.3, budget=1000)
    assert limits.resume_below == 4
    b = Buffers(limits)
    b.add(TP, makes(8), now=0.0)
    assert b.to_pause(READING) == [TP]
    b.pop(TP, 4, now=0.0)  # 4 left: not below two batches
    assert b.to_resume() == []
    b.pop(TP, 1, now=0.0)
    assert b.to_resume() == [TP]


# ---- bookkeeping -----------------------------------------------------------------------------


def test_pop_and_drop_keep_the_count_of_held_records() -> None:
    b = Buffers(BufferLimits(batch_size=2, linger_s=0.3, budget=1000))
    b.add(TP, makes(8), now=0.0)
    b.add(TP1, makes(3, tp=TP1), now=0.0)
    assert b.held == 11
    b.to_pause(READING)
    b.pop(TP, 2, now=0.0)
    assert b.held == 9 and b.size(TP) == 6
    head = b.head(TP)
    assert head is not None and head.source.offset == 2
    assert b.drop(TP) == 6
    assert b.held == 3 and b.size(TP) == 0 and b.full == set()  # a dropped partition is not paused as full
    assert b.partitions() == [TP1]
    assert b.drop(TP) == 0 and b.held == 3  # dropping twice (revoked after a rewind) is harmless
