"""In-memory fakes of the loading worker's ports (source, store, dead-letter publisher, clock).

They keep the contracts of the real adapters that the worker's decisions depend on, and nothing
else: `FakeSource` hands out records of non-paused partitions from their positions, like the
broker after `seek`/`pause`/`resume`; `FakeStore` fences a batch at its partition's stored offset,
commits rows, dead-letter index entries and the offset together on the way out of `batch()` (or
none of them), and seals a table when every partition's end-of-table came and the counts agree.
A shared `journal` of (event, name) pairs records the order in which things happened across them.

Records carry the real envelope (key, headers, end-of-table value) and real API JSON of VCdb
tables, so the worker's own header reading and decoding run unchanged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from consumers.ports import BatchResult, Fenced, InfrastructureError, TablePhase
from consumers.records import Consumed, Incoming, consumed
from consumers.sql import TableSql
from ledger.statuses import EndpointStatus, LoadStatus, RunStatus
from schemas.catalog import Table, load_catalog
from streams import envelope, topics
from streams.dead_letters import DeadLetter, Failure
from streams.records import InRecord, OutRecord

TP = tuple[str, int]
Row = tuple[Any, ...]
Journal = list[tuple[str, str]]  # (event, topic or table name), in the order they happened

VCDB = load_catalog("vcdb")
EXTRACTED_AT = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
EFFECTIVE = "2024-01-01T00:00:00"


def table(name: str) -> Table:
    return VCDB.tables[name]


def topic(name: str) -> str:
    return topics.data_topic(table(name))


# ---- API records (real field names of the AutoCare API) -------------------------------------


def make(i: int, name: str | None = None) -> dict[str, Any]:
    return {"MakeID": i, "MakeName": name or f"Make {i}", "CultureID": "en-US", "EffectiveDateTime": EFFECTIVE,
            "EndDateTime": None}


def make_row(i: int, name: str | None = None) -> Row:
    """The canonical row the decoder makes of `make(i, name)`."""
    return (i, name or f"Make {i}", "en-US", dt.datetime(2024, 1, 1), None)


def base_vehicle(i: int, *, year: int = 2001, make_id: int = 1, model_id: int = 1) -> dict[str, Any]:
    return {"BaseVehicleID": i, "YearID": year, "MakeID": make_id, "ModelID": model_id, "CultureID": "en-US",
            "EffectiveDateTime": EFFECTIVE, "EndDateTime": None}


def base_vehicle_row(i: int, *, year: int = 2001, make_id: int = 1, model_id: int = 1) -> Row:
    return (i, year, make_id, model_id, "en-US", dt.datetime(2024, 1, 1), None)


def vehicle(i: int, *, base_vehicle_id: int = 1) -> dict[str, Any]:
    return {"VehicleID": i, "BaseVehicleID": base_vehicle_id, "SubModelID": 3, "RegionID": 1, "Source": None,
            "PublicationStageID": 4, "PublicationStageSource": "AutoCare", "PublicationStageDate": EFFECTIVE,
            "CultureID": "en-US", "EffectiveDateTime": EFFECTIVE, "EndDateTime": None}


# ---- the envelope ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Msg:
    """A record as the producer sends it: key, value and headers (no position yet)."""

    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def _ctx(run_id: int) -> envelope.RunContext:
    return envelope.RunContext(run_id, "vcdb", None, None)


def data(t: Table, record: Mapping[str, Any], *, run_id: int, page: int = 1, index: int = 0,
         value: bytes | None = None) -> Msg:
    """A data record of `t`; `value` replaces the JSON body (a record that does not decode)."""
    headers = envelope.data_headers(_ctx(run_id), t.api_table or t.name, page, index, EXTRACTED_AT)
    return Msg(envelope.record_key(t, record), value if value is not None else envelope.encode_record(record),
               tuple(headers))


def page(t: Table, records: Sequence[Mapping[str, Any]], *, run_id: int, page: int = 1) -> list[Msg]:
    """One page's data records, indexed 0..n-1."""
    return [data(t, r, run_id=run_id, page=page, index=i) for i, r in enumerate(records)]


def eot(t: Table, *, run_id: int, records: int, partitions: int, pages: int = 1) -> Msg:
    """The end-of-table control record the producer sends to each partition after the last page."""
    value = envelope.EndOfTable(run_id, t.name, records, pages, records, partitions).encode()
    return Msg(envelope.EOT_KEY, value, tuple(envelope.eot_headers(_ctx(run_id), t.api_table or t.name)))


def in_records(tp: TP, msgs: Iterable[Msg], start: int = 0) -> list[InRecord]:
    return [InRecord(tp[0], tp[1], start + i, m.key, m.value, m.headers) for i, m in enumerate(msgs)]


def consumed_records(tp: TP, msgs: Iterable[Msg], start: int = 0) -> list[Consumed]:
    return [consumed(r) for r in in_records(tp, msgs, start)]


# ---- the clock -------------------------------------------------------------------------------


class Clock:
    """A manual monotonic clock: time moves only when the test says so."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# ---- the source ------------------------------------------------------------------------------


class FakeSource:
    """Topic partitions of records, read like the broker: `read()` hands out up to `max_records`
    records of the assigned, non-paused partitions from their positions.  A seek or pause made
    while a read is pending is honoured by that read."""

    def __init__(self, *, max_records: int = 500, journal: Journal | None = None, idle_s: float = 0.001) -> None:
        self.max_records = max_records
        self.journal: Journal = journal if journal is not None else []
        self.idle_s = idle_s  # real seconds an empty read waits (the broker's poll timeout)
        self.log: dict[TP, list[InRecord]] = {}
        self.log_start: dict[TP, int] = {}
        self.positions: dict[TP, int] = {}
        self.assignment: set[TP] = set()
        self.paused: set[TP] = set()
        self.handed: Counter[TP] = Counter()  # records handed out per partition (re-reads count again)
        self.pauses: Counter[TP] = Counter()
        self.resumes: Counter[TP] = Counter()
        self.seeks: list[tuple[TP, int]] = []
        self.reads = 0
        self.probe: Callable[[], int] | None = None  # sampled after every read; the largest value is kept
        self.max_probe = 0

    def put(self, tp: TP, msgs: Iterable[Msg]) -> list[InRecord]:
        """Append records to a partition (offsets continue from its end)."""
        log = self.log.setdefault(tp, [])
        recs = in_records(tp, msgs, len(log))
        log.extend(recs)
        return recs

    def assign(self, tps: Iterable[TP]) -> None:
        self.assignment.update(tps)

    async def ranges(self, stored: dict[TP, int]) -> dict[TP, tuple[int, int]]:
        """Each partition's log start and end (`log_start` moves the start, as retention would)."""
        return {tp: (self.log_start.get(tp, 0), len(self.log.get(tp, []))) for tp in stored}

    def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))
        self.positions[tp] = offset

    def pause(self, tps: Sequence[TP]) -> None:
        self.paused.update(tps)
        self.pauses.update(tps)

    def resume(self, tps: Sequence[TP]) -> None:
        self.paused.difference_update(tps)
        self.resumes.update(tps)

    async def read(self, timeout_ms: int = 500) -> list[InRecord]:
        self.reads += 1
        await asyncio.sleep(0)
        out: list[InRecord] = []
        for tp in sorted(self.assignment):
            room = self.max_records - len(out)
            if room <= 0:
                break
            if tp in self.paused:
                continue
            pos = self.positions.get(tp, 0)
            got = self.log.get(tp, [])[pos:pos + room]
            if got:
                self.positions[tp] = pos + len(got)
                self.handed[tp] += len(got)
                self.journal.append(("read", tp[0]))
                out.extend(got)
        if self.probe is not None:
            self.max_probe = max(self.max_probe, self.probe())
        if not out:
            await asyncio.sleep(self.idle_s)
        return out


# ---- the dead-letter publisher ---------------------------------------------------------------


class FakeDlq:
    def __init__(self, journal: Journal | None = None) -> None:
        self.journal: Journal = journal if journal is not None else []
        self.published: list[OutRecord] = []
        self.fail: Exception | None = None  # raised by every publish while set

    async def publish(self, records: Sequence[OutRecord]) -> None:
        if self.fail is not None:
            raise self.fail
        self.published.extend(records)
        for r in records:
            self.journal.append(("publish", r.topic))


# ---- the store -------------------------------------------------------------------------------


@dataclass
class LoadState:
    """One (run, table) row of table_load, with the receipts' record count folded in."""

    status: LoadStatus = LoadStatus.LOADING
    error: str | None = None
    eot_partitions: set[int] = field(default_factory=set)
    received: int = 0  # records of committed batches, dead-lettered ones included (page receipts)


@dataclass(frozen=True)
class Applied:
    """A committed batch."""

    table: str
    run_id: int
    topic: str
    partition: int
    first: int
    last: int
    rows: tuple[Row, ...]
    letters: tuple[DeadLetter, ...]


class FakeTx:
    """The writes of one fake transaction (a `BatchWriter`), kept until the batch commits."""

    def __init__(self, ts: TableSql, run_id: int, store: FakeStore) -> None:
        self.ts = ts
        self.run_id = run_id
        self.loaded = 0
        self.dead_lettered = 0
        self.store = store
        self.rows: list[Row] = []
        self.letters: list[DeadLetter] = []

    async def load(self, items: Sequence[Incoming], *, want_keys: bool = False) -> BatchResult:
        result = BatchResult()
        for inc in items:
            failure = inc.failure or self.store.dead_keys.get(inc.source.key or b"")
            if failure is not None:
                result.dead.append((inc, failure))
            else:
                assert inc.row is not None
                self.rows.append(inc.row)
                result.loaded += 1
        self.loaded += result.loaded
        return result

    async def index(self, letters: Sequence[DeadLetter]) -> None:
        self.letters.extend(letters)
        self.dead_lettered += len(letters)


class FakeStore:
    """The loader's PostgreSQL state in memory (a `Store`): offsets, runs, seals, rows and dead letters."""

    def __init__(self, journal: Journal | None = None) -> None:
        self.journal: Journal = journal if journal is not None else []
        self.stored: dict[TP, int] = {}  # consumer_offsets: the next offset per partition
        self.runs: dict[int, tuple[str, ...]] = {}  # run -> the tables it pulls
        self.run_status: dict[int, RunStatus] = {}
        self.endpoints: dict[tuple[int, str], EndpointStatus] = {}  # default: done
        self.pending: dict[str, int] = {}  # table -> the oldest run that published records of it
        self.loads: dict[tuple[int, str], LoadState] = {}
        self.rows: dict[str, list[Row]] = {}
        self.committed: list[Applied] = []
        self.indexed: list[DeadLetter] = []
        self.overlaps: list[tuple[TP, int, int]] = []  # batches that would have applied offsets twice
        self.dead_keys: dict[bytes, Failure] = {}  # record keys the load reports dead, and why
        self.infra_failures = 0  # the next n batches fail on the way in
        self.commit_failures = 0  # the next n batches fail on the way out (after the body ran)
        self.eot_failures = 0  # the next n end-of-table transactions fail
        self.lost_commits = 0  # the next n batches commit, then a PostgreSQL crash loses them
        self.read_failures: Counter[str] = Counter()  # per read (method name): the next n calls lose the session
        self.read_refusals: Counter[str] = Counter()  # ... or are refused (PostgreSQL answers: disk full)
        self.calls: Counter[str] = Counter()
        self.in_place: set[int] = set()  # runs loaded in place (the others are staged)
        self.staged_batches = 0
        self.unpublished: list[dict[str, Any]] = []  # ledger.releases.waiting_runs rows

    # ---- set-up --------------------------------------------------------------------------

    def add_run(self, run_id: int, tables: Sequence[str], status: RunStatus = RunStatus.SUCCEEDED,
                endpoints: Mapping[str, EndpointStatus] | None = None, pending: bool = True) -> None:
        """A producer run; with `pending` it is the run each of its tables' next records belong to."""
        self.runs[run_id] = tuple(tables)
        self.run_status[run_id] = status
        for t, s in (endpoints or {}).items():
            self.endpoints[(run_id, t)] = s
        if pending:
            for t in tables:
                self.pending.setdefault(t, run_id)

    def seal(self, run_id: int, table_name: str) -> None:
        """Another worker sealed a table."""
        self.state(run_id, table_name).status = LoadStatus.SEALED

    def state(self, run_id: int, table_name: str) -> LoadState:
        return self.loads.setdefault((run_id, table_name), LoadState())

    def status(self, run_id: int, table_name: str) -> LoadStatus:
        st = self.loads.get((run_id, table_name))
        return st.status if st else LoadStatus.WAITING

    def done(self) -> int:
        """Records whose processing committed: batch records and end-of-table records."""
        return sum(a.last - a.first + 1 for a in self.committed) + self.calls["end_of_table"]

    def _read(self, name: str) -> None:
        self.calls[name] += 1
        if self.read_failures[name] > 0:
            self.read_failures[name] -= 1
            raise InfrastructureError(f"{name}: ConnectionDoesNotExistError: connection was closed (fake)",
                                      unreachable=True)
        if self.read_refusals[name] > 0:
            self.read_refusals[name] -= 1
            raise InfrastructureError(f"{name}: DiskFullError: No space left on device (fake)")

    # ---- GateStore -----------------------------------------------------------------------

    async def run_tables(self, run_id: int) -> tuple[str, ...] | None:
        self._read("run_tables")
        return self.runs.get(run_id)

    async def sealed_tables(self, run_id: int) -> set[str]:
        self._read("sealed_tables")
        return {t for (r, t), st in self.loads.items() if r == run_id and st.status == LoadStatus.SEALED}

    async def pending_runs(self, db: str, tables: Sequence[str]) -> dict[str, int]:
        self._read("pending_runs")
        return {t: r for t in tables if (r := self.pending.get(t)) is not None
                and self.status(r, t) not in (LoadStatus.SEALED, LoadStatus.MISMATCH)}

    # ---- Store ---------------------------------------------------------------------------

    async def offsets(self, tps: Sequence[TP]) -> dict[TP, int]:
        self._read("offsets")
        return {tp: self.stored.get(tp, 0) for tp in tps}

    async def rewind(self, positions: dict[TP, int]) -> None:
        self.calls["rewind"] += 1
        self.stored.update(positions)

    async def staged(self, run_id: int) -> bool:
        self._read("staged")
        return run_id not in self.in_place

    async def waiting_runs(self, db: str) -> list[dict[str, Any]]:
        self._read("waiting_runs")
        return list(self.unpublished)

    @asynccontextmanager
    async def batch(self, ts: TableSql, run_id: int, batch: Sequence[Consumed], *,
                    partitions: int, expect: int, staged: bool) -> AsyncIterator[FakeTx]:
        self.calls["batch"] += 1
        self.staged_batches += staged
        first, last = batch[0].source, batch[-1].source
        tp = (first.topic, first.partition)
        name = ts.table.name
        if (stored := self.stored.get(tp, 0)) != expect:
            raise Fenced(first.topic, first.partition, first.offset, expect, stored)
        if self.infra_failures > 0:
            self.infra_failures -= 1
            raise InfrastructureError(f"loading {name}: connection lost: fake", unreachable=True)
        tx = FakeTx(ts, run_id, self)
        try:
            yield tx
        except BaseException:
            self.journal.append(("rollback", name))
            raise
        if self.commit_failures > 0:
            self.commit_failures -= 1
            self.journal.append(("rollback", name))
            raise InfrastructureError(f"loading {name}: connection lost at commit: fake", unreachable=True)
        if self.lost_commits > 0:  # the commit answered, then a crash lost it: rows and offset together
            self.lost_commits -= 1
            self.journal.append(("lost", name))
            return
        for a in self.committed:
            if (a.topic, a.partition) == tp and a.first <= last.offset and first.offset <= a.last:
                self.overlaps.append((tp, first.offset, last.offset))
        self.rows.setdefault(name, []).extend(tx.rows)
        self.indexed.extend(tx.letters)
        self.state(run_id, name).received += len(batch)
        self.committed.append(Applied(name, run_id, first.topic, first.partition, first.offset, last.offset,
                                      tuple(tx.rows), tuple(tx.letters)))
        self.stored[tp] = last.offset + 1
        self.journal.append(("commit", name))

    async def end_of_table(self, ts: TableSql, run_id: int, partition: int, partitions: int, announced: int,
                           topic: str, offset: int, *, expect: int, staged: bool) -> TablePhase:
        self.calls["end_of_table"] += 1
        if (stored := self.stored.get((topic, partition), 0)) != expect:
            raise Fenced(topic, partition, offset, expect, stored)
        if self.eot_failures > 0:
            self.eot_failures -= 1
            raise InfrastructureError("sealing: connection lost: reset by peer (fake)", unreachable=True)
        name = ts.table.name
        st = self.state(run_id, name)
        st.eot_partitions.add(partition)
        if st.status == LoadStatus.LOADING and len(st.eot_partitions) >= partitions:
            if st.received == announced:
                st.status = LoadStatus.SEALED
                self.journal.append(("seal", name))
            else:
                st.status = LoadStatus.MISMATCH
                st.error = (f"{name} run {run_id}: the producer announced {announced} records, the consumer "
                            f"received {st.received}; not sealed")
                self.journal.append(("mismatch", name))
        self.stored[(topic, partition)] = offset + 1
        return TablePhase(st.status, st.error)

    async def open_run_state(self, db: str) -> list[dict[str, Any]]:
        self._read("open_run_state")
        rows: list[dict[str, Any]] = []
        for run_id, tables in self.runs.items():
            for t in tables:
                st = self.loads.get((run_id, t))
                rows.append({"run_id": run_id, "run_status": self.run_status[run_id], "table_name": t,
                             "endpoint_status": self.endpoints.get((run_id, t), EndpointStatus.DONE),
                             "load_status": st.status if st else LoadStatus.WAITING,
                             "error": st.error if st else None})
        return rows


# ---- waiting in tests ------------------------------------------------------------------------


async def eventually(cond: Callable[[], bool], within_s: float = 2.0, what: str = "condition") -> None:
    """Wait (real time, in millisecond steps) until `cond()` holds; fail after `within_s`."""
    deadline = time.monotonic() + within_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.001)


async def reads(source: FakeSource, n: int) -> None:
    """Let the worker go round its loop: wait for n more reads of the source."""
    target = source.reads + n
    await eventually(lambda: source.reads >= target, what=f"{n} more reads")
