"""The worker's flow control per partition, pure (no source, no store, no event loop): batch cutting
(size, age, run boundary, end-of-table, force), the read-ahead budget (pause when full, resume only
below half), gating (rewind to the first waiting record and pause), the offset fence's re-read,
assignment and revocation, and the next and stored offsets."""

from __future__ import annotations

from consumers.flow import (
    WAIT,
    Batch,
    BufferLimits,
    EndOfTable,
    Flows,
    PartitionFlow,
    Pause,
    Resume,
    Seek,
    Step,
)
from consumers.records import Consumed
from tests.unit.fakes import consumed_records, eot, in_records, make, page, table, topic

MAKE = table("Make")
TP = (topic("Make"), 0)
TP1 = (topic("Make"), 1)
TP2 = (topic("Make"), 2)


def makes(n: int, *, run_id: int = 7, start: int = 0, tp: tuple[str, int] = TP, first_id: int = 1) -> list[Consumed]:
    return consumed_records(tp, page(MAKE, [make(first_id + i) for i in range(n)], run_id=run_id), start)


def flow(limits: BufferLimits, *records: tuple[list[Consumed], float], offset: int = 0) -> PartitionFlow:
    f = PartitionFlow(TP, limits, offset)
    for recs, now in records:
        fill(f, recs, now)
    return f


def fill(f: PartitionFlow, records: list[Consumed], now: float) -> None:
    for c in records:
        f.add(c, now)


def flows(limits: BufferLimits, *tps: tuple[str, int]) -> Flows:
    fs = Flows(limits)
    for tp in tps:
        fs.assigned(tp, 0)
    return fs


def add(fs: Flows, tp: tuple[str, int], records: list[Consumed], now: float = 0.0) -> None:
    f = fs.get(tp)
    assert f is not None
    fill(f, records, now)


def offsets(step: Step) -> list[int]:
    assert isinstance(step, Batch), step
    return [c.source.offset for c in step.records]


# ---- batch cutting ---------------------------------------------------------------------------


def test_a_full_batch_is_cut_at_once_and_the_rest_waits() -> None:
    fs = flows(BufferLimits(batch_size=3, linger_s=0.3), TP)
    add(fs, TP, makes(5))
    f = fs.get(TP)
    assert f is not None
    assert offsets(f.take(now=0.0)) == [0, 1, 2]
    f.applied(3, now=0.0)
    # Two records, neither a full batch nor old enough: they wait for more or for their age.
    assert f.take(now=0.1) is WAIT
    assert len(f) == 2 and fs.held == 2


def test_a_partial_batch_is_cut_once_its_oldest_record_has_waited_linger_s() -> None:
    f = flow(BufferLimits(batch_size=10, linger_s=0.5),  # times exact in binary: no rounding at the edge
             (makes(2), 100.0),
             (makes(1, start=2, first_id=3), 100.25))  # later arrivals do not restart the wait
    assert f.take(now=100.4375) is WAIT
    assert offsets(f.take(now=100.5)) == [0, 1, 2]


def test_the_wait_starts_again_when_the_queue_was_emptied() -> None:
    f = flow(BufferLimits(batch_size=10, linger_s=0.5), (makes(1), 0.0))
    f.applied(1, now=0.0)
    fill(f, makes(1, start=1, first_id=2), now=5.0)
    assert f.take(now=5.25) is WAIT
    assert offsets(f.take(now=5.5)) == [1]


def test_the_wait_starts_again_after_a_batch_was_applied() -> None:
    f = flow(BufferLimits(batch_size=2, linger_s=0.5), (makes(3), 0.0))
    f.applied(len(f.take(now=0.0)), now=10.0)
    assert f.take(now=10.25) is WAIT  # the one left waits from the application, not from its arrival
    assert offsets(f.take(now=10.5)) == [2]


def test_a_batch_never_spans_two_runs() -> None:
    f = flow(BufferLimits(batch_size=10, linger_s=0.3), ([*makes(2, run_id=7), *makes(2, run_id=8, start=2,
                                                                                        first_id=3)], 0.0))
    # The boundary is known, so the first run's records need not wait for their age.
    first = f.take(now=0.0)
    assert offsets(first) == [0, 1] and isinstance(first, Batch) and first.run_id == 7
    assert {c.run_id for c in first.records} == {7}
    f.applied(2, now=0.0)
    # The second run's records are at the tail: they wait like any partial batch.
    assert f.take(now=0.0) is WAIT
    later = f.take(now=0.3)
    assert offsets(later) == [2, 3] and isinstance(later, Batch) and {c.run_id for c in later.records} == {8}


def test_a_batch_ends_before_an_end_of_table_which_then_heads_the_queue() -> None:
    recs = consumed_records(TP, [*page(MAKE, [make(1), make(2)], run_id=7), eot(MAKE, run_id=7, records=2,
                                                                                 partitions=1)])
    f = flow(BufferLimits(batch_size=10, linger_s=0.3), (recs, 0.0))
    assert offsets(f.take(now=0.0)) == [0, 1]
    assert f.head_run == 7
    f.applied(2, now=0.0)
    assert f.head_run is None  # an end-of-table record is never gated
    step = f.take(now=0.0)
    assert isinstance(step, EndOfTable) and step.record.eot and step.record.source.offset == 2 and len(step) == 1
    f.applied(len(step), now=0.0)
    assert f.stored == 3 and f.take(now=0.0, force=True) is WAIT


def test_force_cuts_a_partial_batch_at_once() -> None:
    f = flow(BufferLimits(batch_size=10, linger_s=0.3), (makes(2), 0.0))
    assert f.take(now=0.0) is WAIT
    assert offsets(f.take(now=0.0, force=True)) == [0, 1]


def test_an_empty_or_unknown_partition_has_no_batch() -> None:
    f = PartitionFlow(TP, BufferLimits())
    assert f.take(now=0.0, force=True) is WAIT and f.head_run is None and len(f) == 0
    assert Flows(BufferLimits()).get(TP) is None and Flows(BufferLimits()).held == 0


# ---- the budget ------------------------------------------------------------------------------


def test_a_partition_holding_four_batches_is_paused() -> None:
    limits = BufferLimits(batch_size=2, linger_s=0.3, budget=1000)
    assert limits.per_partition == 8
    fs = flows(limits, TP, TP1)
    add(fs, TP, makes(7))
    add(fs, TP1, makes(3, tp=TP1))
    assert fs.to_pause() == []
    add(fs, TP, makes(1, start=7, first_id=8))
    assert fs.to_pause() == [Pause(TP)]
    assert fs.to_pause() == []  # reported once: it is paused already
    assert [f.tp for f in fs if f.full] == [TP]


def test_once_the_budget_is_spent_every_reading_partition_is_paused() -> None:
    fs = flows(BufferLimits(batch_size=100, linger_s=0.3, budget=6), TP, TP1, TP2)
    add(fs, TP, makes(3))
    add(fs, TP1, makes(2, tp=TP1))
    assert fs.to_pause() == []  # 5 held, below the budget and far from any partition's limit
    add(fs, TP1, makes(1, start=2, tp=TP1))
    # TP2 holds nothing yet: it is paused too, or its next read would overshoot the budget.
    assert fs.to_pause() == [Pause(TP), Pause(TP1), Pause(TP2)]


def test_paused_partitions_resume_only_below_half_the_budget() -> None:
    fs = flows(BufferLimits(batch_size=100, linger_s=0.3, budget=6), TP, TP1)
    add(fs, TP, makes(4))
    add(fs, TP1, makes(2, tp=TP1))
    assert fs.to_pause() == [Pause(TP), Pause(TP1)]
    f = fs.get(TP)
    assert f is not None
    f.applied(1, now=0.0)  # 5 held
    assert fs.to_resume() == []
    f.applied(2, now=0.0)  # 3 held: half the budget, not below it
    assert fs.held == 3 and fs.to_resume() == []
    f.applied(1, now=0.0)  # 2 held
    assert fs.to_resume() == [Resume(TP), Resume(TP1)]
    assert not any(f.full for f in fs) and fs.to_resume() == []


def test_a_partition_still_holding_two_batches_stays_paused() -> None:
    limits = BufferLimits(batch_size=2, linger_s=0.3, budget=1000)
    assert limits.resume_below == 4
    fs = flows(limits, TP, TP1)
    add(fs, TP, makes(8))
    assert fs.to_pause() == [Pause(TP)]
    f = fs.get(TP)
    assert f is not None
    f.applied(4, now=0.0)  # 4 left: not below two batches
    assert fs.to_resume() == []
    f.applied(1, now=0.0)
    assert fs.to_resume() == [Resume(TP)]


def test_a_gated_partition_is_not_paused_as_full_and_once_its_seal_resumes_it_it_is() -> None:
    fs = flows(BufferLimits(batch_size=100, linger_s=0.3, budget=6), TP, TP1)
    add(fs, TP1, makes(6, tp=TP1))
    f = fs.get(TP)
    assert f is not None
    assert f.gate(MAKE, 7) == [Seek(TP, 0), Pause(TP)]
    assert fs.to_pause() == [Pause(TP1)]  # over the budget, but TP is paused already, waiting
    assert f.ungate() == [Resume(TP)]
    assert fs.to_pause() == [Pause(TP)] and f.full  # still over the budget: paused again, as full
    t1 = fs.get(TP1)
    assert t1 is not None
    t1.applied(6, now=0.0)
    assert fs.to_resume() == [Resume(TP), Resume(TP1)]


# ---- gating, the fence, assignment -----------------------------------------------------------


def test_gate_rewinds_to_the_first_waiting_record_and_pauses() -> None:
    limits = BufferLimits(batch_size=2, linger_s=0.3, budget=1000)
    f = flow(limits, (makes(3, start=10), 0.0), (makes(2, run_id=8, start=13, first_id=4), 0.0), offset=10)
    fs_full = f.fill(over_budget=True)
    assert fs_full == [Pause(TP)] and f.full
    f.applied(len(f.take(now=0.0)), now=0.0)  # 10, 11 applied
    assert f.head_run == 7 and (f.stored, f.next_offset) == (12, 15)
    assert f.gate(MAKE, 7) == [Seek(TP, 12), Pause(TP)]
    assert f.gated == (MAKE, 7) and len(f) == 0 and not f.full
    assert f.next_offset == 12 and f.stored == 12  # the records from 12 are read again, once they can load
    assert f.fill(over_budget=True) == [] and f.drained() == []


def test_an_empty_partition_is_gated_at_the_position_after_the_last_record_read() -> None:
    f = flow(BufferLimits(batch_size=2, linger_s=0.3), (makes(2, start=4), 0.0), offset=4)
    f.applied(len(f.take(now=0.0)), now=0.0)
    # Seeking drops whatever the client fetched ahead.
    assert f.gate(MAKE, 8) == [Seek(TP, 6), Pause(TP)] and f.gated == (MAKE, 8)
    assert f.ungate() == [Resume(TP)] and f.gated is None


def test_a_partition_gated_at_assignment_is_paused_without_a_second_seek() -> None:
    fs = Flows(BufferLimits())
    f, actions = fs.assigned(TP, 42)
    assert actions == [Seek(TP, 42)] and (f.next_offset, f.stored) == (42, 42)
    assert f.gate(MAKE, 7, rewind=False) == [Pause(TP)] and f.gated == (MAKE, 7)
    f.ungate()
    fill(f, makes(2, start=42), now=0.0)  # read since: rewound to the first of them all the same
    assert f.gate(MAKE, 7, rewind=False) == [Seek(TP, 42), Pause(TP)] and len(f) == 0


def test_records_of_a_gated_or_unassigned_partition_are_skipped_and_counted_only_when_queued() -> None:
    fs = flows(BufferLimits(batch_size=10, linger_s=0.3), TP, TP1)
    t1 = fs.get(TP1)
    assert t1 is not None
    t1.gate(MAKE, 7)
    msgs = page(MAKE, [make(1), make(2)], run_id=7)
    got = [*in_records(TP, [*msgs, eot(MAKE, run_id=7, records=2, partitions=3)]), *in_records(TP1, msgs),
           *in_records(TP2, msgs)]
    assert fs.received(got, now=3.0) == {TP[0]: 2}  # the end-of-table is queued, not counted as read
    assert fs.held == 3 and fs.next_offsets == {TP: 3, TP1: 0}
    f = fs.get(TP)
    assert f is not None and f.since == 3.0 and [c.eot for c in f.queue] == [False, False, True]


def test_a_fenced_partition_is_re_read_from_the_stored_offset() -> None:
    f = flow(BufferLimits(batch_size=2, linger_s=0.3), (makes(5), 0.0))
    f.fill(over_budget=True)
    assert f.refence(3) == [Seek(TP, 3), Resume(TP)]
    assert (f.stored, f.next_offset, len(f), f.full) == (3, 3, 0, False)


def test_stored_moves_past_what_was_applied_and_next_past_what_was_read() -> None:
    f = flow(BufferLimits(batch_size=2, linger_s=0.3), offset=20)
    assert (f.stored, f.next_offset) == (20, 20)
    fill(f, makes(3, start=20), now=0.0)
    assert (f.stored, f.next_offset) == (20, 23)
    f.applied(len(f.take(now=0.0)), now=0.0)
    assert (f.stored, f.next_offset) == (22, 23)


def test_a_reassigned_partition_starts_over_at_the_stored_offset() -> None:
    fs = flows(BufferLimits(batch_size=2, linger_s=0.3, budget=1000), TP)
    add(fs, TP, makes(8))
    fs.to_pause()
    f = fs.get(TP)
    assert f is not None
    f.gated = (MAKE, 7)
    same, actions = fs.assigned(TP, 5)
    assert same is f and actions == [Seek(TP, 5)]
    assert (len(f), f.full, f.gated, f.stored, f.next_offset, fs.held) == (0, False, None, 5, 5, 0)


# ---- bookkeeping -----------------------------------------------------------------------------


def test_applied_and_revoked_keep_the_count_of_held_records() -> None:
    fs = flows(BufferLimits(batch_size=2, linger_s=0.3, budget=1000), TP, TP1)
    add(fs, TP, makes(8))
    add(fs, TP1, makes(3, tp=TP1))
    assert fs.held == 11
    fs.to_pause()
    f = fs.get(TP)
    assert f is not None
    f.applied(2, now=0.0)
    assert fs.held == 9 and len(f) == 6
    assert f.queue[0].source.offset == 2
    assert f.revoked() == 6
    assert fs.held == 3 and len(f) == 0 and not f.full  # a dropped partition is not paused as full
    assert [g.tp for g in fs if g] == [TP1]
    assert f.revoked() == 0 and fs.held == 3  # dropping twice (revoked after a rewind) is harmless
    fs.revoked(TP)
    fs.revoked(TP)
    assert fs.get(TP) is None and fs.next_offsets == {TP1: 3} and fs.held == 3
