"""The loading worker: the loop that reads table topics and applies batches in FK order.

It composes small parts and owns only the loop: `Flows` (each assigned partition's read-ahead,
offsets, gating and fullness, consumers/flow.py: they answer with the seeks, pauses and resumes
that `_act` alone applies to the source), `SealGate` (may a run's records of a table load yet?),
`judge` (idle, stalled, blocked), the store's unit of work per batch (consumers/batch.py decodes
the batch and deals with its dead letters), and the retry policy for infrastructure errors.

Ordering: a record of run R for table T is loaded only once every parent of T that R also pulls
is sealed for R.  A partition whose table must wait is paused from the moment it is assigned,
so its records wait in Kafka and are read once, when they can load; a record that still turns
out to belong to a waiting run is rewound to and its partition paused.  Offsets come from
PostgreSQL on every assignment.  Reading and loading overlap: a fetch task fills the flows'
queues while batches load.

Its stop errors (`WorkerStopped`, `OffsetsOutOfRange`, `StoreUnavailable`) and the retry loop live
in consumers/retry.py, the ports it reads from and hands to in consumers/ports.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from consumers import batch as batches
from consumers import positions
from consumers.flow import Action, Batch, BufferLimits, EndOfTable, Flows, PartitionFlow, Pause, Resume, Seek, Wait
from consumers.gate import SealGate
from consumers.ports import TP, Fenced, Releases, Replayer, Source, Store
from consumers.records import Consumed
from consumers.retry import OffsetsOutOfRange, RetryPolicy, StoreUnavailable, WorkerStopped, retrying
from consumers.sql import TableSql, table_sql
from consumers.verdicts import Verdict, judge
from ledger.statuses import LoadStatus
from schemas.catalog import Catalog, Table
from streams import envelope, metrics, topics

log = logging.getLogger(__name__)

__all__ = ["OffsetsOutOfRange", "StoreUnavailable", "Worker", "WorkerOptions", "WorkerResult", "WorkerStopped"]

T = TypeVar("T")


@dataclass(frozen=True)
class WorkerOptions:
    batch_size: int = 5000
    linger_s: float = 0.3
    until_idle: bool = False
    stall_s: float = 120.0  # --until-idle: give up when nothing moves for this long while not idle
    max_dead_letters: int | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    buffer_limit: int = 100_000  # records read ahead by the whole worker (memory bound)
    poll_ms: int = 200
    gate_refresh_s: float = 0.25
    resync: bool = False  # re-read every assigned partition from its log start (`consume --resync`)

    @property
    def limits(self) -> BufferLimits:
        return BufferLimits(self.batch_size, self.linger_s, self.buffer_limit)


@dataclass
class WorkerResult:
    batches: int = 0
    loaded: int = 0
    dead_lettered: int = 0
    read: int = 0  # data records read from Kafka (a record read twice counts twice)
    sealed: list[str] = field(default_factory=list)
    idle: bool = False


async def _all(steps: Sequence[Awaitable[None]]) -> None:
    """Run the steps concurrently; when one raises, the others are cancelled and awaited before
    the error goes on, so a retry never overlaps a step still running on the same partition."""
    tasks = [asyncio.ensure_future(s) for s in steps]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class Worker:
    def __init__(self, catalog: Catalog, tables: Sequence[Table], store: Store, source: Source,
                 dlq: batches.DeadLetterPublisher, options: WorkerOptions, *, partitions: dict[str, int],
                 replayer: Replayer | None = None, releases: Releases | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None) -> None:
        self.catalog = catalog
        self.tables = list(tables)
        self.store = store
        self.source = source
        self.dlq = dlq
        self.options = options
        self.clock = clock
        self.rng = rng or random.Random()
        self.replayer = replayer
        self.releases = releases
        self._staged: dict[int, bool] = {}  # run -> staged (else loaded in place)
        self._resynced: set[TP] = set()
        self._publish_due = False  # try to publish complete runs at the next turn of the loop
        self.by_topic: dict[str, Table] = {topics.data_topic(t): t for t in tables}
        self.sql: dict[str, TableSql] = {t.name: table_sql(catalog, t) for t in tables}
        self.partitions = partitions  # topic -> partition count
        self.flows = Flows(options.limits)  # one per assigned partition
        self.gate = SealGate(store, clock, options.gate_refresh_s)
        self._dead_letters = batches.DeadLetterLog()
        self._announced_wait: set[tuple[str, int]] = set()
        self.result = WorkerResult()
        self.last_progress = clock()
        self.stop = asyncio.Event()
        self._arrived = asyncio.Event()
        self._draining = asyncio.Lock()
        self._read_empty = False
        self._fatal: WorkerStopped | None = None  # what stopped the worker outside its loop

    @property
    def next_offset(self) -> Mapping[TP, int]:
        """Per assigned partition, the offset after the last record read (the lag gauge's)."""
        return self.flows.next_offsets

    def _act(self, actions: Sequence[Action]) -> None:
        """The one place the flows' decisions reach the source."""
        for a in actions:
            if isinstance(a, Seek):
                self.source.seek(a.tp, a.offset)
            elif isinstance(a, Pause):
                self.source.pause([a.tp])
            elif isinstance(a, Resume):
                self.source.resume([a.tp])

    # ---- assignment --------------------------------------------------------------------------

    async def assigned(self, tps: list[TP]) -> None:
        # In a consumer group this runs in the client's rebalance listener, which logs and
        # swallows what it raises: a failure that outlasts the retries stops the worker instead.
        try:
            await self._retrying(lambda: self._assign(tps))
        except WorkerStopped as e:
            self._fatal = e
            self.stop.set()
            raise

    async def _assign(self, tps: list[TP]) -> None:
        offsets = await self.store.offsets(tps)
        # In a consumer group this runs beside the loop: the batch in flight commits first, and no
        # batch of these partitions is cut from records read before the seek.
        async with self._draining:
            flows: list[PartitionFlow] = []
            for tp, offset in offsets.items():
                flow, actions = self.flows.assigned(tp, offset)
                self._act(actions)
                flows.append(flow)
            # Tables that must wait are paused before their first fetch: read once, when they can load.
            held = await self._gate_waiting([f for f in flows if f.tp[0] in self.by_topic], rewind=False)
        log.info("assigned %d partitions (%d wait for their parents)", len(tps), held)
        # A run completed by a worker that stopped before publishing it: published from the loop,
        # not here, where a long publication would hold up the group's rebalance.
        self._publish_due = True

    async def check_offsets(self, tps: list[TP]) -> None:
        """Before the worker reads (the runner calls it for every partition it may be given): the
        stored offsets checked against the broker's logs; with `resync`, each partition rewound to
        its log start instead.  Not on assignment, where a round trip to the broker would hold up
        the group's rebalance."""
        await self._retrying(lambda: self._check_offsets(tps))

    async def _check_offsets(self, tps: list[TP]) -> dict[TP, int]:
        offsets = await self.store.offsets(tps)
        ranges = await self.source.ranges({tp: off for tp, off in offsets.items() if tp[0] in self.by_topic})
        fresh = {tp: start for tp, (start, _) in ranges.items() if tp not in self._resynced}
        if self.options.resync and fresh:
            await self.store.rewind(fresh)
            self._resynced.update(fresh)
            log.warning("--resync: %d partitions re-read from their log start (the version guard keeps what "
                        "is loaded)", len(fresh))
            offsets.update(fresh)
        found = positions.misfits(offsets, ranges)
        if found:
            why = positions.message(found, self.catalog.db)
            metrics.READY.set("assigned", False, why)  # /readyz says it, until the worker has stopped
            raise OffsetsOutOfRange(why)
        return offsets

    async def _publish_ready(self) -> None:
        if self.releases is not None and await self.releases.publish_ready(self.catalog.db):
            self._staged.clear()  # a published run's records, read again, load live

    async def _is_staged(self, run_id: int) -> bool:
        if run_id not in self._staged:
            self._staged[run_id] = await self.store.staged(run_id)
        return self._staged[run_id]

    async def revoked(self, tps: list[TP]) -> None:
        # Called inside a read, before the partitions go to another worker: let the batch in
        # flight commit first (the offset fence in the store covers the rest).
        async with self._draining:
            for tp in tps:
                self.flows.revoked(tp)

    async def _gate_waiting(self, flows: list[PartitionFlow], *, rewind: bool) -> int:
        """Gate the flows whose table must wait (the gate asks the store at most every refresh_s);
        how many."""
        if not flows:
            return 0
        waiting = await self.gate.waiting(list({self.by_topic[f.tp[0]] for f in flows}))
        held = [f for f in flows if self.by_topic[f.tp[0]].name in waiting]
        for f in held:
            self._gate(f, self.by_topic[f.tp[0]], waiting[self.by_topic[f.tp[0]].name], rewind=rewind)
        return len(held)

    def _gate(self, flow: PartitionFlow, table: Table, run_id: int, *, rewind: bool = True) -> None:
        self._act(flow.gate(table, run_id, rewind=rewind))
        if (table.name, run_id) not in self._announced_wait:
            self._announced_wait.add((table.name, run_id))
            log.info("%s waits for its parents of run %s", table.name, run_id)

    # ---- main loop ---------------------------------------------------------------------------

    async def run(self) -> WorkerResult:
        fetcher = asyncio.create_task(self._fetch())
        try:
            while not self.stop.is_set():
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
                # that lands as the wait completes, and a cancelled worker then loads on for ever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.options.poll_ms / 1000):
                        await self._arrived.wait()
                self._arrived.clear()
                if fetcher.done():
                    fetcher.result()  # re-raises what stopped the fetch task
                    break
                async with self._draining:
                    await self._retrying(self.drain)
                if self._publish_due:
                    self._publish_due = False
                    await self._retrying(self._publish_ready)
                # Idleness is judged only after a read came back empty: checking it forces out
                # partial batches, which would otherwise cut batches to the size of one fetch.
                if self.options.until_idle and self._read_empty and await self._retrying(self.idle):
                    self.result.idle = True
                    break
        finally:
            fetcher.cancel()
            # gather, not `suppress(CancelledError)`: a cancellation of this task while it waits
            # here goes on; the fetch task's own ends as its result.
            await asyncio.gather(fetcher, return_exceptions=True)
        if self._fatal is not None:
            raise self._fatal
        return self.result

    async def _fetch(self) -> None:
        while not self.stop.is_set():
            got = await self.source.read(self.options.poll_ms)
            self._read_empty = not got
            reads = self.flows.received(got, self.clock())
            for topic, n in reads.items():
                self.result.read += n
                metrics.RECORDS_READ.labels(self.catalog.db, self.by_topic[topic].name).inc(n)
            self._act(self.flows.to_pause())
            self._arrived.set()

    async def drain(self, force: bool = False) -> None:
        for flow in self.flows:
            if flow.gated is not None and await self.gate.ready(*flow.gated):
                self._act(flow.ungate())
        # A run that started since the assignment (an incremental run, say) may make a table wait:
        # its partitions that hold nothing are paused before its records arrive, at the position
        # after the last record read, so they are read once, when they can load.
        await self._gate_waiting([f for f in self.flows if f.gated is None and not len(f) and f.tp[0] in self.by_topic],
                                 rewind=True)
        # Partitions drain concurrently, each batch on its own connection: one partition's
        # decoding (Python) overlaps another's load (PostgreSQL, on the other core).
        await _all([self._drain_partition(f, force) for f in self.flows if len(f)])
        self._act(self.flows.to_resume())

    async def _drain_partition(self, flow: PartitionFlow, force: bool) -> None:
        table = self.by_topic.get(flow.tp[0])
        if table is None:
            raise WorkerStopped(f"record on unexpected topic {flow.tp[0]}")
        while True:
            run_id = flow.head_run
            if run_id is not None and not await self.gate.ready(table, run_id):
                # The records wait in Kafka, not here: rewind to the first of them and pause.
                self._gate(flow, table, run_id)
                return
            step = flow.take(self.clock(), force=force)
            if isinstance(step, Wait):
                return  # wait for more records or for the batch to age
            try:
                if isinstance(step, EndOfTable):
                    await self._end_of_table(table, step.record, flow.stored)
                else:
                    await self._apply(table, step, flow.stored)
            except Fenced as e:
                # The stored offset is not where this worker left it: re-read the partition from it.
                log.warning("%s; re-reading partition %s[%d] from offset %d", e, *flow.tp, e.next_offset)
                self._act(flow.refence(e.next_offset))
                return
            flow.applied(len(step), self.clock())

    async def _apply(self, table: Table, batch: Batch, expect: int) -> None:
        incoming = batches.decode(table, batch.records)
        run_id = batch.run_id
        replayer = self.replayer
        want_keys = replayer is not None and await self._retrying(lambda: replayer.waiting(table))
        staged = await self._retrying(lambda: self._is_staged(run_id))
        topic = batch.records[0].source.topic

        async def apply() -> batches.Written:
            async with self.store.batch(self.sql[table.name], run_id, batch.records,
                                        partitions=self.partitions.get(topic, 1), expect=expect,
                                        staged=staged) as tx:
                return await batches.write(tx, table, incoming, self.dlq, want_keys=want_keys)

        started = time.monotonic()
        res, letters = await self._retrying(apply)
        batches.observe(self.catalog.db, table, res.loaded, len(letters), time.monotonic() - started)
        self.result.batches += 1
        self.result.loaded += res.loaded
        self.result.dead_lettered += len(letters)
        self.last_progress = self.clock()
        self._dead_letters.note(table, res.dead)
        limit = self.options.max_dead_letters
        if limit is not None and self.result.dead_lettered > limit:
            raise WorkerStopped(f"{self.result.dead_lettered} dead letters, more than --max-dead-letters {limit}: "
                                f"the data is unexpectedly bad; see `vcdb dlq list`")
        if replayer is not None and res.loaded_keys:
            # Committed already; a replay is its own transaction and selects only open dead
            # letters, so trying it again after an infrastructure error replays nothing twice.
            await self._retrying(lambda: replayer.parent_loaded(table, run_id, res.loaded_keys, staged=staged))

    async def _retrying(self, step: Callable[[], Awaitable[T]]) -> T:
        return await retrying(step, self.options.retry, self.clock, self.rng)

    async def _end_of_table(self, table: Table, c: Consumed, expect: int) -> None:
        eot = envelope.EndOfTable.decode(c.source.value or b"{}")
        replayer = self.replayer
        staged = await self._retrying(lambda: self._is_staged(eot.run_id))
        if replayer is not None and table.name in table.parents(include_self=True):
            # Parents before children inside the table: rows that waited on a row of their own
            # table that came later load now, before the seal lets child tables in.
            loaded = await self._retrying(lambda: replayer.self_references(table, eot.run_id, staged=staged))
            if loaded:
                log.info("%s: %d rows loaded once their parent row in the same table arrived", table.name, loaded)
        phase = await self._retrying(lambda: self.store.end_of_table(
            self.sql[table.name], eot.run_id, c.source.partition, eot.partitions, eot.records, c.source.topic,
            c.source.offset, expect=expect, staged=staged))
        self.last_progress = self.clock()
        if phase.status == LoadStatus.SEALED:
            self.gate.sealed(eot.run_id, table.name)
            self.result.sealed.append(table.name)
            metrics.SEALS.labels(self.catalog.db, table.name).inc()
            log.info("sealed %s for run %s (%d records)", table.name, eot.run_id, eot.records)
            # The seal that completes a run publishes it (consumers/publish.py).
            await self._retrying(self._publish_ready)
        elif phase.status == LoadStatus.MISMATCH:
            log.error("%s", phase.error)

    async def idle(self) -> bool:
        """Every endpoint a producer finished is sealed, no producer is running, nothing is held."""
        async with self._draining:
            await self.drain(force=True)
        await self._publish_ready()
        j = judge(self.catalog, await self.store.open_run_state(self.catalog.db), {t.name for t in self.tables},
                  holding=self.flows.held > 0, quiet_s=self.clock() - self.last_progress,
                  stall_s=self.options.stall_s, unpublished=await self.store.waiting_runs(self.catalog.db))
        if j.verdict == Verdict.STOP:
            raise WorkerStopped(j.message)
        return j.verdict == Verdict.IDLE
