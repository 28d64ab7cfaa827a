"""The loading worker: reads every table topic of a database, gates each table on its parents'
seals, and applies batches through the store.

Ordering: a record of run R for table T is loaded only once every parent of T that R also
pulls is sealed for R; until then its partition is paused and the records wait in Kafka (only a
bounded buffer is held here).  Batches are contiguous records of one partition and one run, cut
by size or age, whichever comes first.  Offsets come from PostgreSQL on every assignment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from consumers.records import ControlEvent, Incoming, classify
from consumers.sql import TableSql, table_sql
from consumers.store import Fenced, InfrastructureError, LoadStore
from schemas.catalog import Catalog, Table
from schemas.generated import padb_models, pcdb_models, qdb_models, vcdb_models
from schemas.records import RecordModel
from streams import envelope, topics
from streams.broker import InRecord, OutRecord
from streams.dead_letters import Failure, dead_letter_headers

log = logging.getLogger(__name__)

MODELS: dict[str, dict[str, type[RecordModel]]] = {
    "vcdb": vcdb_models.MODELS, "pcdb": pcdb_models.MODELS, "padb": padb_models.MODELS, "qdb": qdb_models.MODELS,
}
TP = tuple[str, int]
DEAD_LETTERS_LOGGED = 10  # per table; the rest are counted, listed by `vcdb dlq list`


class WorkerStopped(RuntimeError):
    """The worker stopped without finishing: the message says why; offsets were not advanced past
    anything that was not applied."""


class Source(Protocol):
    async def read(self, timeout_ms: int = 500) -> list[InRecord]: ...
    def seek(self, tp: TP, offset: int) -> None: ...
    def pause(self, tps: Sequence[TP]) -> None: ...
    def resume(self, tps: Sequence[TP]) -> None: ...
    def assignment(self) -> list[TP]: ...
    async def position(self, tp: TP) -> int: ...
    def highwater(self, tp: TP) -> int | None: ...


class DeadLetterPublisher(Protocol):
    async def publish(self, records: Sequence[OutRecord]) -> None: ...


@dataclass(frozen=True)
class WorkerOptions:
    batch_size: int = 5000
    linger_s: float = 0.3
    until_idle: bool = False
    stall_s: float = 120.0  # --until-idle: give up when nothing moves for this long while not idle
    max_dead_letters: int | None = None
    infra_retries: int = 5
    buffer_limit: int = 100_000  # records read ahead by the whole worker (memory bound)
    poll_ms: int = 200


@dataclass
class WorkerResult:
    batches: int = 0
    loaded: int = 0
    dead_lettered: int = 0
    sealed: list[str] = field(default_factory=list)
    idle: bool = False


class Replayer(Protocol):
    async def waiting(self, table: Table) -> bool: ...
    async def parent_loaded(self, table: Table, run_id: int, keys: list[str]) -> None: ...
    async def self_references(self, table: Table, run_id: int) -> int: ...


class Worker:
    def __init__(self, catalog: Catalog, tables: Sequence[Table], store: LoadStore, source: Source,
                 dlq: DeadLetterPublisher, options: WorkerOptions, *, partitions: dict[str, int],
                 replayer: Replayer | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.catalog = catalog
        self.store = store
        self.source = source
        self.dlq = dlq
        self.options = options
        self.clock = clock
        self.replayer = replayer
        self.by_topic: dict[str, Table] = {topics.data_topic(t): t for t in tables}
        self.sql: dict[str, TableSql] = {t.name: table_sql(catalog, t) for t in tables}
        self.models = MODELS[catalog.db]
        self.partitions = partitions  # topic -> partition count
        self.pending: dict[TP, deque[tuple[InRecord, bool, int]]] = {}  # record, is end-of-table, run
        self.oldest: dict[TP, float] = {}
        self.gated: dict[TP, tuple[Table, int]] = {}  # waiting for parents: rewound and paused
        self.full: set[TP] = set()  # paused because enough is buffered
        self.buffered = 0
        self._run_tables: dict[int, tuple[str, ...] | None] = {}
        self._sealed: dict[int, set[str]] = {}
        self._checked: dict[int, float] = {}
        self._announced_wait: set[tuple[str, int]] = set()
        self._dead_logged: dict[str, int] = {}
        self.result = WorkerResult()
        self.last_progress = clock()
        self.stop = asyncio.Event()
        self._arrived = asyncio.Event()
        self._draining = asyncio.Lock()
        self._read_empty = False

    # ---- assignment --------------------------------------------------------------------------

    async def assigned(self, tps: list[TP]) -> None:
        offsets = await self.store.offsets(tps)
        for tp, offset in offsets.items():
            self.source.seek(tp, offset)
            self._drop(tp)
            self.gated.pop(tp, None)
        log.info("assigned %d partitions", len(tps))

    async def revoked(self, tps: list[TP]) -> None:
        # Called inside a read, before the partitions go to another worker: let the batch in
        # flight commit first (the offset fence in the store covers the rest).
        async with self._draining:
            for tp in tps:
                self._drop(tp)
                self.gated.pop(tp, None)

    # ---- main loop ---------------------------------------------------------------------------

    async def run(self) -> WorkerResult:
        """Reading and loading overlap: a fetch task fills the partition queues while batches
        load, so Python's decoding and validation run while PostgreSQL works on the other core."""
        fetcher = asyncio.create_task(self._fetch())
        try:
            while not self.stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), self.options.poll_ms / 1000)
                self._arrived.clear()
                if fetcher.done():
                    fetcher.result()  # re-raises what stopped the fetch task
                    break
                async with self._draining:
                    await self.drain()
                # Idleness is judged only after a read came back empty: checking it forces out
                # partial batches, which would otherwise cut batches to the size of one fetch.
                if self.options.until_idle and self._read_empty and await self.idle():
                    self.result.idle = True
                    break
        finally:
            fetcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fetcher
        return self.result

    async def _fetch(self) -> None:
        per_partition = 4 * self.options.batch_size  # enough read-ahead to cut full batches
        while not self.stop.is_set():
            got = await self.source.read(self.options.poll_ms)
            self._read_empty = not got
            for rec in got:
                tp = (rec.topic, rec.partition)
                if tp in self.gated:
                    continue  # rewound to its first waiting record: it will be read again
                queue = self.pending.get(tp)
                if queue is None:
                    queue = self.pending[tp] = deque()
                if not queue:
                    self.oldest[tp] = self.clock()
                eot = _is_eot(rec)
                queue.append((rec, eot, 0 if eot else _run_of(rec)))
                self.buffered += 1
                if len(queue) >= per_partition and tp not in self.full:
                    self.full.add(tp)
                    self.source.pause([tp])
            if self.buffered >= self.options.buffer_limit:
                # The whole worker's read-ahead is bounded too, however many tables are ready.
                busy = [tp for tp, q in self.pending.items() if q and tp not in self.full]
                self.full.update(busy)
                self.source.pause(busy)
            self._arrived.set()

    async def drain(self, force: bool = False) -> None:
        for tp, (table, run_id) in list(self.gated.items()):
            if await self._ready(table, run_id):
                del self.gated[tp]
                self.source.resume([tp])
        # Partitions drain concurrently, each batch on its own connection: one partition's
        # validation (Python) overlaps another's load (PostgreSQL, on the other core).
        await asyncio.gather(*(self._drain_partition(tp, force) for tp in list(self.pending)))
        if self.full and self.buffered < self.options.buffer_limit // 2:
            ready = [tp for tp in self.full if len(self.pending.get(tp, ())) < 2 * self.options.batch_size]
            self.full.difference_update(ready)
            self.source.resume(ready)

    def _drop(self, tp: TP) -> None:
        queue = self.pending.pop(tp, None)
        self.buffered -= len(queue or ())
        self.full.discard(tp)

    async def _drain_partition(self, tp: TP, force: bool) -> None:
        queue = self.pending.get(tp)
        table = self.by_topic.get(tp[0])
        while queue:
            head, head_eot, run_id = queue[0]
            if table is None:
                raise WorkerStopped(f"record on unexpected topic {tp[0]}")
            if head_eot:
                await self._end_of_table(table, head)
                queue.popleft()
                self.buffered -= 1
                continue
            if not await self._ready(table, run_id):
                # The records wait in Kafka, not here: rewind to the first of them and pause.
                self._drop(tp)
                self.source.seek(tp, head.offset)
                self.source.pause([tp])
                self.gated[tp] = (table, run_id)
                if (table.name, run_id) not in self._announced_wait:
                    self._announced_wait.add((table.name, run_id))
                    log.info("%s waits for its parents of run %s", table.name, run_id)
                return
            take: list[InRecord] = []
            for rec, eot, run in queue:
                if eot or run != run_id or len(take) >= self.options.batch_size:
                    break
                take.append(rec)
            boundary = len(take) < len(queue)
            young = self.clock() - self.oldest.get(tp, 0.0) < self.options.linger_s
            if not (force or boundary or len(take) >= self.options.batch_size or not young):
                return  # wait for more records or for the batch to age
            try:
                await self._apply(table, run_id, take)
            except Fenced as e:
                log.warning("%s; re-reading partition %s[%d] from offset %d", e, tp[0], tp[1], e.next_offset)
                self._drop(tp)
                self.source.seek(tp, e.next_offset)
                self.source.resume([tp])
                return
            for _ in take:
                queue.popleft()
            self.buffered -= len(take)
            self.oldest[tp] = self.clock()
            if (tp in self.full and len(queue) < 2 * self.options.batch_size
                    and self.buffered < self.options.buffer_limit // 2):
                self.full.discard(tp)
                self.source.resume([tp])

    async def _ready(self, table: Table, run_id: int) -> bool:
        if run_id not in self._run_tables:
            self._run_tables[run_id] = await self.store.run_tables(run_id)
            if self._run_tables[run_id] is None:
                log.warning("records of unknown run %s on %s: loading them with FK checks only", run_id, table.name)
        run_tables = self._run_tables[run_id]
        if run_tables is None:
            return True
        parents = [p for p in table.parents() if p in run_tables]
        sealed = self._sealed.setdefault(run_id, set())
        if all(p in sealed for p in parents):
            return True
        now = self.clock()
        if now - self._checked.get(run_id, 0.0) < 0.25:
            return False
        self._checked[run_id] = now
        phases = await self.store.phases(run_id)
        sealed.update(t for t, ph in phases.items() if ph.status == "sealed")
        return all(p in sealed for p in parents)

    async def _apply(self, table: Table, run_id: int, take: list[InRecord]) -> None:
        model = self.models[table.name]
        incoming: list[Incoming] = []
        for rec in take:
            item = classify(rec, model)
            assert isinstance(item, Incoming)
            incoming.append(item)
        partitions = self.partitions.get(take[0].topic, 1)

        async def dead_letter(items: list[tuple[Incoming, Failure, int]]) -> None:
            await self.dlq.publish([_dlq_record(table, inc, f, attempt) for inc, f, attempt in items])

        want_keys = self.replayer is not None and await self.replayer.waiting(table)
        for attempt in range(self.options.infra_retries + 1):
            try:
                res = await self.store.apply_batch(self.sql[table.name], run_id, incoming, partitions=partitions,
                                                   dead_letter=dead_letter, want_keys=want_keys)
                break
            except InfrastructureError as e:
                if attempt == self.options.infra_retries:
                    raise WorkerStopped(f"{e}; gave up after {attempt + 1} attempts, offsets not advanced") from e
                delay = min(30.0, 0.5 * 2**attempt)
                log.warning("%s; retrying in %.1f s", e, delay)
                await asyncio.sleep(delay)
        self.result.batches += 1
        self.result.loaded += res.loaded
        self.result.dead_lettered += len(res.dead)
        self.last_progress = self.clock()
        for inc, f in res.dead:
            shown = self._dead_logged.get(table.name, 0)
            self._dead_logged[table.name] = shown + 1
            if shown < DEAD_LETTERS_LOGGED:
                log.warning("dead-lettered %s key %s: %s", table.name,
                            (inc.source.key or b"").decode(errors="replace"), f.message)
            elif shown == DEAD_LETTERS_LOGGED:
                log.warning("more dead letters of %s are not logged one by one: `vcdb dlq list`", table.name)
        limit = self.options.max_dead_letters
        if limit is not None and self.result.dead_lettered > limit:
            raise WorkerStopped(f"{self.result.dead_lettered} dead letters, more than --max-dead-letters {limit}: "
                                f"the data is unexpectedly bad; see `vcdb dlq list`")
        if self.replayer is not None and res.loaded_keys:
            await self.replayer.parent_loaded(table, run_id, res.loaded_keys)

    async def _end_of_table(self, table: Table, rec: InRecord) -> None:
        event = classify(rec, self.models[table.name])
        assert isinstance(event, ControlEvent)
        eot = event.eot
        if self.replayer is not None and table.name in table.parents(include_self=True):
            # Parents before children inside the table: rows that waited on a row of their own
            # table that came later load now, before the seal lets child tables in.
            loaded = await self.replayer.self_references(table, eot.run_id)
            if loaded:
                log.info("%s: %d rows loaded once their parent row in the same table arrived", table.name, loaded)
        phase = await self.store.end_of_table(self.sql[table.name], eot.run_id, rec.partition, eot.partitions,
                                              eot.records, rec.topic, rec.offset)
        self.last_progress = self.clock()
        if phase.status == "sealed":
            self._sealed.setdefault(eot.run_id, set()).add(table.name)
            self.result.sealed.append(table.name)
            log.info("sealed %s for run %s (%d records)", table.name, eot.run_id, eot.records)
        elif phase.status == "mismatch":
            log.error("%s", phase.error)

    async def idle(self) -> bool:
        """Every endpoint a producer finished is sealed, no producer is running, nothing is buffered."""
        async with self._draining:
            await self.drain(force=True)
        if any(self.pending.values()):
            return self._stalled()
        rows = await self.store.open_run_state(self.catalog.db)
        mine = {t.name for t in self.by_topic.values()}
        rows = [r for r in rows if r["table_name"] in mine]
        if any(r["run_status"] == "running" for r in rows):
            return self._stalled()
        mismatched = [r for r in rows if r["load_status"] == "mismatch"]
        if mismatched:
            raise WorkerStopped("; ".join(str(r["error"]) for r in mismatched))
        waiting = [r for r in rows if r["endpoint_status"] == "done" and r["load_status"] != "sealed"]
        if not waiting:
            return True
        blocked = _blocked(self.catalog, rows, waiting)
        if blocked and len(blocked) == len(waiting):
            raise WorkerStopped("; ".join(blocked))
        return self._stalled(waiting)

    def _stalled(self, waiting: list[dict[str, object]] | None = None) -> bool:
        if self.clock() - self.last_progress > self.options.stall_s:
            what = ", ".join(f"{r['table_name']} (run {r['run_id']}: {r['load_status']})" for r in (waiting or [])[:10])
            raise WorkerStopped(f"nothing moved for {self.options.stall_s:.0f} s and not idle; waiting: {what or '?'}")
        return False


def _blocked(catalog: Catalog, rows: list[dict[str, object]], waiting: list[dict[str, object]]) -> list[str]:
    """Waiting tables of finished runs that can never load: an ancestor's endpoint in the same run
    did not finish (the run failed or was interrupted), so its end-of-table records never come."""
    cause: dict[tuple[object, str], str] = {
        (r["run_id"], str(r["table_name"])):
            f"{r['table_name']}, whose endpoint did not finish ({r['endpoint_status']})"
        for r in rows if r["endpoint_status"] != "done"}
    status = {r["run_id"]: r["run_status"] for r in rows}
    changed = True
    while changed:  # blocked parents block their children, down the FK graph
        changed = False
        for r in waiting:
            key = (r["run_id"], str(r["table_name"]))
            if key in cause:
                continue
            for parent in catalog.tables[key[1]].parents():
                if (r["run_id"], parent) in cause:
                    cause[key] = cause[(r["run_id"], parent)]
                    changed = True
                    break
    return [f"run {r['run_id']} ended {status[r['run_id']]}: {r['table_name']} waits for "
            f"{cause[(r['run_id'], str(r['table_name']))]}; resume the run with --resume, then consume again"
            for r in waiting if (r["run_id"], str(r["table_name"])) in cause]


def _is_eot(rec: InRecord) -> bool:
    return any(k == envelope.H_KIND and v == envelope.KIND_EOT for k, v in rec.headers)


def _run_of(rec: InRecord) -> int:
    for k, v in rec.headers:
        if k == envelope.H_RUN:
            try:
                return int(v)
            except ValueError:
                return 0
    return 0


def _dlq_record(table: Table, inc: Incoming, failure: Failure, attempt: int) -> OutRecord:
    src = inc.source
    headers = dead_letter_headers(src.headers, failure, topic=src.topic, partition=src.partition, offset=src.offset,
                                  attempt=attempt, run_id=inc.run_id)
    return OutRecord(topics.dlq_topic(table), src.key or b"", src.value or b"", headers)
