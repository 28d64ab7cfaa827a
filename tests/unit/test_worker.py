"""The loading worker's decisions, with fakes of its ports and a manual clock (milliseconds each):
gating (a child's partitions wait in Kafka until its parents seal, and are read once),
backpressure, linger, the offset fence, retries of infrastructure errors, the mismatch, blocked
and stall verdicts, and dead letters (published before the batch commits, indexed from the same
values)."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from consumers.retry import RetryPolicy
from consumers.worker import OffsetsOutOfRange, StoreUnavailable, Worker, WorkerOptions, WorkerResult, WorkerStopped
from ledger.statuses import EndpointStatus, LoadStatus, RunStatus
from schemas.catalog import Table
from streams.broker import BrokerError
from streams.dead_letters import REASON_MISSING_PARENT, Failure
from tests.unit.fakes import (
    TP,
    VCDB,
    Clock,
    FakeDlq,
    FakeSource,
    FakeStore,
    Journal,
    base_vehicle,
    base_vehicle_row,
    data,
    eot,
    eventually,
    make,
    make_row,
    page,
    reads,
    table,
    topic,
)

RUN = 7
MAKE, BASE_VEHICLE = table("Make"), table("BaseVehicle")
MK0 = (topic("Make"), 0)
MK1 = (topic("Make"), 1)
BV0 = (topic("BaseVehicle"), 0)
BV1 = (topic("BaseVehicle"), 1)
BV_DLQ = topic("BaseVehicle") + ".dlq"

OPTIONS = WorkerOptions(batch_size=100, linger_s=0.5, until_idle=True, poll_ms=5,
                        retry=RetryPolicy(max_attempts=3, base=0.001, cap=0.002))


@dataclass
class Rig:
    journal: Journal = field(default_factory=list)
    clock: Clock = field(default_factory=Clock)
    max_records: int = 500

    def __post_init__(self) -> None:
        self.source = FakeSource(max_records=self.max_records, journal=self.journal)
        self.store = FakeStore(self.journal)
        self.dlq = FakeDlq(self.journal)

    def worker(self, tables: list[Table], **options: Any) -> Worker:
        partitions: dict[str, int] = {}
        for t, p in self.source.log:
            partitions[t] = max(partitions.get(t, 0), p + 1)
        return Worker(VCDB, tables, self.store, self.source, self.dlq, dataclasses.replace(OPTIONS, **options),
                      partitions=partitions, clock=self.clock, rng=random.Random(0))

    async def start(self, worker: Worker, tps: list[TP]) -> None:
        """What the runner does with a static assignment."""
        self.source.assign(tps)
        await worker.assigned(tps)


async def until_idle(worker: Worker) -> WorkerResult:
    return await asyncio.wait_for(worker.run(), 5)


@asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[asyncio.Task[WorkerResult]]:
    task = asyncio.create_task(worker.run())
    try:
        yield task
    finally:
        worker.stop.set()
        await asyncio.wait_for(task, 5)


def makes(ids: range, *, announced: int | None = None, partitions: int = 1) -> list[Any]:
    """A page of Make records and the end-of-table after it."""
    return [*page(MAKE, [make(i) for i in ids], run_id=RUN),
            eot(MAKE, run_id=RUN, records=len(ids) if announced is None else announced, partitions=partitions)]


# ---- gating ----------------------------------------------------------------------------------


async def test_a_child_waits_in_kafka_until_its_parent_seals_and_each_record_is_read_once() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make", "BaseVehicle"])  # no Year, no Model: those parents count as ready
    r.source.put(MK0, makes(range(1, 4)))
    r.source.put(BV0, [*page(BASE_VEHICLE, [base_vehicle(1), base_vehicle(2)], run_id=RUN),
                       eot(BASE_VEHICLE, run_id=RUN, records=3, partitions=2)])
    r.source.put(BV1, [data(BASE_VEHICLE, base_vehicle(3), run_id=RUN, index=2),
                       eot(BASE_VEHICLE, run_id=RUN, records=3, partitions=2)])
    w = r.worker([MAKE, BASE_VEHICLE])
    await r.start(w, [MK0, BV0, BV1])
    assert r.source.paused == {BV0, BV1}  # from assignment, before the first read

    result = await until_idle(w)

    assert result.idle
    assert r.store.rows["Make"] == [make_row(1), make_row(2), make_row(3)]
    assert sorted(r.store.rows["BaseVehicle"]) == [base_vehicle_row(i) for i in (1, 2, 3)]
    assert r.journal.index(("read", topic("BaseVehicle"))) > r.journal.index(("seal", "Make"))
    assert r.source.handed == {MK0: 4, BV0: 3, BV1: 2}
    assert result.read == result.loaded == 6
    assert result.sealed == ["Make", "BaseVehicle"]
    assert r.store.overlaps == [] and r.source.paused == set()


async def test_a_child_resumes_once_another_worker_seals_its_parent_and_the_gate_asks_again() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make", "BaseVehicle"])
    r.source.put(BV0, [*page(BASE_VEHICLE, [base_vehicle(1), base_vehicle(2)], run_id=RUN),
                       eot(BASE_VEHICLE, run_id=RUN, records=2, partitions=1)])
    w = r.worker([BASE_VEHICLE], until_idle=False)  # Make is another worker's
    await r.start(w, [BV0])
    async with running(w):
        await reads(r.source, 5)
        assert r.source.handed[BV0] == 0
        r.store.seal(RUN, "Make")
        await reads(r.source, 5)
        assert r.source.handed[BV0] == 0  # not asked again before gate_refresh_s
        r.clock.advance(OPTIONS.gate_refresh_s)
        await eventually(lambda: r.store.status(RUN, "BaseVehicle") == LoadStatus.SEALED)
    assert r.store.rows["BaseVehicle"] == [base_vehicle_row(1), base_vehicle_row(2)]
    assert r.source.handed[BV0] == 3 and w.result.read == 2
    assert r.store.calls["sealed_tables"] == 2  # at assignment, and once refresh_s had passed


async def test_a_record_that_turns_out_to_wait_is_rewound_to_and_loaded_once_after_the_seal() -> None:
    r = Rig()
    # The run's pages of BaseVehicle are not known at assignment: its partition is read at once.
    r.store.add_run(RUN, ["Make", "BaseVehicle"], pending=False)
    r.source.put(BV0, [*page(BASE_VEHICLE, [base_vehicle(1), base_vehicle(2)], run_id=RUN),
                       eot(BASE_VEHICLE, run_id=RUN, records=2, partitions=1)])
    r.source.log[MK0] = []
    w = r.worker([MAKE, BASE_VEHICLE])
    await r.start(w, [MK0, BV0])
    assert r.source.paused == set()
    async with running(w) as task:
        await eventually(lambda: r.source.handed[BV0] == 3 and BV0 in r.source.paused, what="the rewind")
        assert r.store.committed == []
        r.source.put(MK0, makes(range(1, 3)))
        result = await asyncio.wait_for(task, 5)
    assert result.idle
    assert r.source.seeks.count((BV0, 0)) == 2  # at assignment, and back to the first waiting record
    assert r.store.rows["BaseVehicle"] == [base_vehicle_row(1), base_vehicle_row(2)]
    assert r.journal.index(("commit", "BaseVehicle")) > r.journal.index(("seal", "Make"))
    assert r.source.handed[BV0] == 6 and result.read == 6 and result.loaded == 4
    assert r.store.overlaps == []


# ---- backpressure and linger -----------------------------------------------------------------


def small_buffer_rig() -> tuple[Rig, Worker]:
    """Two partitions of 12 records each, read 4 at a time into a worker holding at most 6."""
    r = Rig(max_records=4)
    r.store.add_run(RUN, ["Make"])
    for tp, first in ((MK0, 1), (MK1, 13)):
        r.source.put(tp, makes(range(first, first + 12), announced=24, partitions=2))
    r.source.probe = lambda: sum(r.source.handed.values()) - r.store.done()  # records the worker holds
    return r, r.worker([MAKE], batch_size=2, buffer_limit=6)


async def test_a_small_buffer_pauses_and_resumes_partitions_and_loses_nothing() -> None:
    r, w = small_buffer_rig()
    await r.start(w, [MK0, MK1])

    result = await until_idle(w)

    assert result.idle and result.sealed == ["Make"]
    assert sorted(r.store.rows["Make"]) == [make_row(i) for i in range(1, 25)]
    assert r.store.overlaps == []
    assert r.source.handed == {MK0: 13, MK1: 13} and result.read == 24  # nothing read twice
    assert r.source.pauses[MK0] >= 1 and r.source.resumes[MK0] >= 1
    assert r.source.pauses[MK1] >= 1 and r.source.resumes[MK1] >= 1
    assert r.source.paused == set()


async def test_the_read_ahead_stays_within_the_budget_and_one_read() -> None:
    # Once the worker holds buffer_limit records, no partition should read until it drained: at
    # most one read (max_records) lands past the budget.
    r, w = small_buffer_rig()
    await r.start(w, [MK0, MK1])
    await until_idle(w)
    assert r.source.max_probe <= 6 - 1 + 4


async def test_a_partial_batch_waits_for_linger_s_then_applies() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"])
    r.source.put(MK0, page(MAKE, [make(1), make(2), make(3)], run_id=RUN))
    w = r.worker([MAKE], until_idle=False, batch_size=10, linger_s=0.5)
    await r.start(w, [MK0])
    async with running(w):
        await eventually(lambda: r.source.handed[MK0] == 3)
        await reads(r.source, 5)
        assert r.store.committed == []
        r.clock.advance(0.25)
        await reads(r.source, 5)
        assert r.store.committed == []
        r.clock.advance(0.25)
        await eventually(lambda: len(r.store.committed) == 1, what="the lingering batch")
    [batch] = r.store.committed
    assert (batch.first, batch.last) == (0, 2) and batch.rows == (make_row(1), make_row(2), make_row(3))


# ---- the offset fence and retries ------------------------------------------------------------


async def test_a_fenced_batch_is_re_read_from_the_stored_offset_and_not_applied_twice() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"])
    r.source.put(MK0, makes(range(1, 7)))
    w = r.worker([MAKE])
    await r.start(w, [MK0])
    # Meanwhile another worker (an earlier owner of the partition) applied offsets 0..2.
    r.store.stored[MK0] = 3
    r.store.state(RUN, "Make").received = 3

    result = await until_idle(w)

    assert result.idle and result.sealed == ["Make"]
    assert [(a.first, a.last) for a in r.store.committed] == [(3, 5)]
    assert r.store.rows["Make"] == [make_row(4), make_row(5), make_row(6)]
    assert (MK0, 3) in r.source.seeks
    assert r.source.handed[MK0] == 7 + 4 and result.read == 6 + 3 and result.loaded == 3


async def test_a_commit_lost_in_a_crash_is_found_by_the_next_fence_and_applied_again() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"])
    r.source.put(MK0, makes(range(1, 7)))
    r.store.lost_commits = 1  # the first batch's commit answers, then is lost
    w = r.worker([MAKE], batch_size=3)
    await r.start(w, [MK0])

    result = await until_idle(w)

    assert ("lost", "Make") in r.journal
    assert [(a.first, a.last) for a in r.store.committed] == [(0, 2), (3, 5)]  # nothing skipped
    assert r.store.rows["Make"] == [make_row(i) for i in range(1, 7)]
    assert (MK0, 0) in r.source.seeks[1:]  # re-read from the stored offset
    assert result.sealed == ["Make"] and r.store.overlaps == []


async def test_a_commit_lost_before_the_end_of_table_is_applied_again_before_the_seal() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"])
    r.source.put(MK0, makes(range(1, 4)))
    r.store.lost_commits = 1
    w = r.worker([MAKE])
    await r.start(w, [MK0])

    result = await until_idle(w)

    assert r.journal.index(("lost", "Make")) < r.journal.index(("commit", "Make")) < r.journal.index(("seal", "Make"))
    assert r.store.rows["Make"] == [make_row(1), make_row(2), make_row(3)]
    assert result.sealed == ["Make"] and r.store.status(RUN, "Make") == LoadStatus.SEALED


async def test_infrastructure_errors_are_retried_and_the_batch_applies_once() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"])
    r.source.put(MK0, makes(range(1, 4)))
    r.store.infra_failures = 2
    w = r.worker([MAKE])
    await r.start(w, [MK0])

    result = await until_idle(w)

    assert r.store.calls["batch"] == 3
    assert result.batches == 1 and result.loaded == 3 and result.sealed == ["Make"]
    assert r.store.rows["Make"] == [make_row(1), make_row(2), make_row(3)]


async def test_an_end_of_table_that_fails_for_infrastructure_reasons_is_retried_and_seals() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"])
    r.source.put(MK0, makes(range(1, 4)))
    r.store.eot_failures = 2
    w = r.worker([MAKE])
    await r.start(w, [MK0])

    result = await until_idle(w)

    assert r.store.calls["end_of_table"] == 3
    assert result.sealed == ["Make"] and result.loaded == 3


async def test_when_the_attempts_run_out_the_worker_stops_with_nothing_applied() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"])
    r.source.put(MK0, makes(range(1, 4)))
    r.store.infra_failures = 10
    w = r.worker([MAKE])
    await r.start(w, [MK0])

    with pytest.raises(StoreUnavailable, match="gave up after 3 attempts in 0 s, offsets not advanced"):
        await until_idle(w)

    assert r.store.calls["batch"] == 3
    assert r.store.committed == [] and r.store.rows == {} and r.store.stored == {}
    assert r.store.calls["end_of_table"] == 0  # nothing past the failed batch either
    assert w.result.batches == 0


@asynccontextmanager
async def ticking(clock: Clock) -> AsyncIterator[None]:
    """The worker's clock moves on (10 ms a real millisecond) while PostgreSQL is away."""
    async def tick() -> None:
        while True:
            clock.advance(0.01)
            await asyncio.sleep(0.001)

    task = asyncio.create_task(tick())
    try:
        yield
    finally:
        task.cancel()


OUTAGE = RetryPolicy(max_attempts=3, base=0.001, cap=0.002, outage_s=5.0)


async def test_a_store_down_for_less_than_outage_s_is_waited_for_past_max_attempts() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"])
    r.source.put(MK0, makes(range(1, 4)))
    r.store.infra_failures = 8  # max_attempts is 3
    w = r.worker([MAKE], retry=OUTAGE)
    await r.start(w, [MK0])
    async with ticking(r.clock):
        result = await until_idle(w)
    assert r.store.calls["batch"] == 9 and result.loaded == 3 and result.sealed == ["Make"]
    assert len(r.store.committed) == 1


async def test_a_store_down_for_longer_than_outage_s_stops_the_worker_once_the_window_passed() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"])
    r.source.put(MK0, makes(range(1, 4)))
    r.store.infra_failures = 10_000  # down for good
    w = r.worker([MAKE], retry=dataclasses.replace(OUTAGE, outage_s=0.5))
    await r.start(w, [MK0])
    async with ticking(r.clock):
        with pytest.raises(StoreUnavailable, match=r"gave up after \d+ attempts in [01] s, offsets not advanced"):
            await until_idle(w)
    assert 3 < r.store.calls["batch"] < 10_000 and r.store.committed == []


async def test_a_refusal_that_is_not_an_outage_stops_after_the_attempts_whatever_outage_s() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"])
    r.source.put(MK0, makes(range(1, 4)))
    w = r.worker([MAKE], retry=OUTAGE)
    await r.start(w, [MK0])
    r.store.read_refusals["open_run_state"] = 100  # PostgreSQL answers, and refuses

    with pytest.raises(WorkerStopped, match=r"DiskFullError.*gave up after 3 attempts, offsets not advanced") as info:
        await until_idle(w)
    assert not isinstance(info.value, StoreUnavailable)  # exit 1, not 5
    assert r.store.read_refusals["open_run_state"] == 97


async def test_a_lost_session_on_the_reads_at_assignment_and_at_idle_is_retried_and_loads_once() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make", "BaseVehicle"])
    r.source.put(MK0, makes(range(1, 4)))
    r.source.put(BV0, [*page(BASE_VEHICLE, [base_vehicle(1), base_vehicle(2)], run_id=RUN),
                       eot(BASE_VEHICLE, run_id=RUN, records=2, partitions=1)])
    w = r.worker([MAKE, BASE_VEHICLE])
    r.store.read_failures.update({"offsets": 1, "sealed_tables": 1})  # two of the three attempts
    await r.start(w, [MK0, BV0])
    assert r.source.paused == {BV0}  # the gate's answer, once its reads went through
    r.store.read_failures["open_run_state"] = 2

    result = await until_idle(w)

    assert +r.store.read_failures == {}, "every injected failure was met"
    assert r.store.calls["offsets"] == 3  # the whole assignment is tried again, offsets first
    assert r.store.calls["open_run_state"] >= 3
    assert result.idle and result.sealed == ["Make", "BaseVehicle"]
    assert r.store.rows["Make"] == [make_row(1), make_row(2), make_row(3)]
    assert r.store.rows["BaseVehicle"] == [base_vehicle_row(1), base_vehicle_row(2)]
    assert result.loaded == 5 and r.store.overlaps == []


async def test_a_lost_session_on_the_gate_read_in_the_loop_is_retried_and_the_child_loads_once() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make", "BaseVehicle"])
    r.source.put(BV0, [*page(BASE_VEHICLE, [base_vehicle(1), base_vehicle(2)], run_id=RUN),
                       eot(BASE_VEHICLE, run_id=RUN, records=2, partitions=1)])
    w = r.worker([BASE_VEHICLE], until_idle=False)  # Make is another worker's
    await r.start(w, [BV0])
    async with running(w):
        await reads(r.source, 3)
        r.store.seal(RUN, "Make")
        r.store.read_failures["sealed_tables"] = 2
        r.clock.advance(OPTIONS.gate_refresh_s)
        await eventually(lambda: r.store.status(RUN, "BaseVehicle") == LoadStatus.SEALED)
    assert r.store.read_failures["sealed_tables"] == 0
    assert r.store.rows["BaseVehicle"] == [base_vehicle_row(1), base_vehicle_row(2)]
    assert w.result.loaded == 2 and r.store.overlaps == []


async def test_reads_at_assignment_that_keep_failing_stop_the_worker_even_inside_a_rebalance_listener() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"])
    r.source.put(MK0, makes(range(1, 4)))
    r.store.read_failures["offsets"] = 10
    w = r.worker([MAKE])

    with pytest.raises(StoreUnavailable, match="gave up after 3 attempts in 0 s, offsets not advanced"):
        await r.start(w, [MK0])
    # In a consumer group the client's rebalance listener logs and swallows that: the loop still
    # stops with it, rather than load from positions the store never gave.
    with pytest.raises(StoreUnavailable, match=r"offsets: .*gave up after 3 attempts"):
        await until_idle(w)
    assert r.store.calls["offsets"] == 3 and r.store.committed == []


# ---- verdicts --------------------------------------------------------------------------------


async def test_a_count_mismatch_stops_the_worker_naming_the_table() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"])
    r.source.put(MK0, makes(range(1, 4), announced=5))
    w = r.worker([MAKE])
    await r.start(w, [MK0])

    with pytest.raises(WorkerStopped) as stopped:
        await until_idle(w)

    assert str(stopped.value) == "Make run 7: the producer announced 5 records, the consumer received 3; not sealed"
    assert r.store.status(RUN, "Make") == LoadStatus.MISMATCH
    assert w.result.loaded == 3 and w.result.sealed == []


async def test_idle_is_false_while_a_run_is_running_and_true_once_it_finished_and_sealed() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"], status=RunStatus.RUNNING)
    r.store.seal(RUN, "Make")
    w = r.worker([MAKE])
    assert not await w.idle()
    r.store.run_status[RUN] = RunStatus.SUCCEEDED
    assert await w.idle()


async def test_a_stall_stops_after_stall_s_of_the_clock_naming_the_waiting_table() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make", "BaseVehicle"])
    r.store.seal(RUN, "Make")
    w = r.worker([MAKE, BASE_VEHICLE], stall_s=60.0)
    assert not await w.idle()
    r.clock.advance(60.0)
    assert not await w.idle()
    r.clock.advance(0.5)
    with pytest.raises(WorkerStopped) as stopped:
        await w.idle()
    assert str(stopped.value) == "nothing moved for 60 s and not idle; waiting: BaseVehicle (run 7: waiting)"


async def test_a_table_blocked_by_a_failed_parent_endpoint_is_said_at_once() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make", "BaseVehicle"], status=RunStatus.FAILED,
                    endpoints={"Make": EndpointStatus.FAILED})
    w = r.worker([MAKE, BASE_VEHICLE])
    with pytest.raises(WorkerStopped, match="run 7 ended failed: BaseVehicle waits for Make, whose endpoint did not "
                                            r"finish \(failed\)"):
        await w.idle()


async def test_a_worker_of_the_child_table_only_is_told_at_once_too() -> None:
    # `consume --tables BaseVehicle --until-idle` after run 7's Make endpoint failed: BaseVehicle's
    # records of run 7 can never load, and the cause is in the run state of a table it does not load.
    r = Rig()
    r.store.add_run(RUN, ["Make", "BaseVehicle"], status=RunStatus.FAILED,
                    endpoints={"Make": EndpointStatus.FAILED})
    w = r.worker([BASE_VEHICLE])
    with pytest.raises(WorkerStopped, match="BaseVehicle waits for Make"):
        await w.idle()


# ---- dead letters ----------------------------------------------------------------------------

MISSING_MAKE = Failure(REASON_MISSING_PARENT, "BaseVehicle.MakeID = 99 has no row in Make (sealed)", "MissingParent",
                       "TASK_PUT", sqlstate="23503", constraint="fk_base_vehicle_make_id", missing_table="Make",
                       missing_key="[99]")


def dead_letter_rig(**options: Any) -> tuple[Rig, Worker]:
    r = Rig()
    r.store.add_run(RUN, ["BaseVehicle"])
    bad_year = {**base_vehicle(3), "YearID": "two thousand"}
    r.source.put(BV0, [*page(BASE_VEHICLE, [base_vehicle(1), base_vehicle(2, make_id=99), bad_year, base_vehicle(4)],
                             run_id=RUN),
                       eot(BASE_VEHICLE, run_id=RUN, records=4, partitions=1)])
    r.store.dead_keys[b"[2]"] = MISSING_MAKE
    return r, r.worker([BASE_VEHICLE], **options)


async def test_dead_letters_are_published_before_the_batch_commits_and_indexed_from_the_same_values() -> None:
    r, w = dead_letter_rig()
    await r.start(w, [BV0])

    result = await until_idle(w)

    assert result.idle and result.sealed == ["BaseVehicle"]  # dead letters count as received
    assert result.loaded == 2 and result.dead_lettered == 2
    assert r.store.rows["BaseVehicle"] == [base_vehicle_row(1), base_vehicle_row(4)]
    assert [p.topic for p in r.dlq.published] == [BV_DLQ, BV_DLQ]
    assert [p.key for p in r.dlq.published] == [b"[2]", b"[3]"]
    assert [dl.out_record() for dl in r.store.indexed] == r.dlq.published
    assert r.journal.index(("publish", BV_DLQ)) < r.journal.index(("commit", "BaseVehicle"))
    missing, invalid = (dict(p.headers) for p in r.dlq.published)
    assert missing["vcdb.error.reason"] == b"missing_parent" and missing["vcdb.error.missing_table"] == b"Make"
    assert missing["__connect.errors.offset"] == b"1" and missing["vcdb.run_id"] == b"7"
    assert invalid["vcdb.error.reason"] == b"validation" and b"year_id" in invalid["__connect.errors.exception.message"]
    assert invalid["__connect.errors.offset"] == b"2"
    assert [dl.run_id for dl in r.store.indexed] == [RUN, RUN]


async def test_a_dead_letter_topic_that_refuses_the_letters_stops_the_worker_before_the_commit() -> None:
    r, w = dead_letter_rig()
    r.dlq.fail = BrokerError("dlq down")
    await r.start(w, [BV0])

    with pytest.raises(BrokerError):
        await until_idle(w)

    assert r.store.committed == [] and r.store.indexed == [] and r.store.stored == {}
    assert ("rollback", "BaseVehicle") in r.journal


async def test_a_batch_retried_after_a_failed_commit_indexes_its_dead_letters_once() -> None:
    r, w = dead_letter_rig()
    r.store.commit_failures = 1
    await r.start(w, [BV0])

    result = await until_idle(w)

    assert [dl.record_key for dl in r.store.indexed] == ["[2]", "[3]"]
    assert len(r.dlq.published) == 4  # the topic is at least once; the index is exactly once
    assert result.dead_lettered == 2 and r.store.rows["BaseVehicle"] == [base_vehicle_row(1), base_vehicle_row(4)]


async def test_more_dead_letters_than_allowed_stop_the_worker() -> None:
    r, w = dead_letter_rig(max_dead_letters=1)
    await r.start(w, [BV0])
    with pytest.raises(WorkerStopped, match="2 dead letters, more than --max-dead-letters 1"):
        await until_idle(w)


# ---- offsets the broker does not have ---------------------------------------------------------


async def test_a_stored_offset_past_the_partitions_end_stops_the_worker_before_it_reads() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"])
    r.source.put(MK0, makes(range(1, 4)))  # a rebuilt broker: 4 records where PostgreSQL stored 120
    r.store.stored[MK0] = 120
    w = r.worker([MAKE])
    with pytest.raises(OffsetsOutOfRange) as e:
        await w.check_offsets([MK0])
    assert str(e.value).startswith(f"the broker does not have the stored offsets: {MK0[0]}[0]: the stored offset "
                                   "120 is past its end: a rebuilt broker or a recreated topic (the broker holds "
                                   "offsets 0..4)")
    assert "vcdb consume --resync" in str(e.value) and "vcdb reset --db vcdb --yes" in str(e.value)
    assert r.source.handed == {} and r.store.calls["batch"] == 0


async def test_a_stored_offset_before_the_log_start_stops_the_worker() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"])
    r.source.put(MK0, makes(range(1, 4)))
    r.source.log_start[MK0] = 3  # retention deleted offsets 0..2, never loaded
    w = r.worker([MAKE])
    with pytest.raises(OffsetsOutOfRange, match=r"stored offset 0 is before its log start: retention deleted "
                                                r"records never loaded \(the broker holds offsets 3\.\.4\)"):
        await w.check_offsets([MK0])


async def test_resync_rewinds_each_partition_to_its_log_start_once_and_loads_everything_again() -> None:
    r = Rig()
    r.store.add_run(RUN, ["Make"])
    r.source.put(MK0, makes(range(1, 4)))
    r.store.stored[MK0] = 120
    w = r.worker([MAKE], resync=True)
    await w.check_offsets([MK0])
    await r.start(w, [MK0])
    assert r.store.stored[MK0] == 0 and r.store.calls["rewind"] == 1
    result = await until_idle(w)
    assert result.idle and r.store.rows["Make"] == [make_row(1), make_row(2), make_row(3)]
    await w.check_offsets([MK0])  # asked again, a partition already rewound is not rewound twice
    assert r.store.calls["rewind"] == 1 and r.store.stored[MK0] == 4
