"""The worker's flow control, per partition (pure: no I/O, no asyncio; time is the caller's `now`).

A `PartitionFlow` is one assigned partition as the worker sees it: the records read ahead and not
yet applied (its queue), the offset after the last record read (`next_offset`), the offset this
worker last stored in PostgreSQL (`stored`, the offset fence's expectation), the (table, run) it
waits in while it is gated, and whether it is paused because it holds enough (`full`).  It answers
`take(now)` with the next step (a `Batch`, an `EndOfTable` or `WAIT`), and every change to how the
partition reads (assigned, gated, ungated, fenced, full, drained) with the `Seek`, `Pause` and
`Resume` actions the worker applies to the source, in one place.

A batch is contiguous data records of one partition and one run: it ends at an end-of-table
record, at a record of another run, at the batch size, or when its oldest record has waited
`linger_s` (whichever comes first).  The whole worker's read-ahead is bounded (`Flows`, the set
of a worker's partitions, owns the budget): a partition holding enough for a few batches, or any
partition once the worker holds `budget` records, is paused as full (its records wait in Kafka),
and resumed once the worker holds less than half its budget and the partition less than two
batches.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from consumers.records import Consumed, consumed
from schemas.catalog import Table
from streams.records import InRecord

TP = tuple[str, int]


@dataclass(frozen=True)
class BufferLimits:
    batch_size: int = 5000
    linger_s: float = 0.3
    budget: int = 100_000  # records held by the whole worker

    @property
    def per_partition(self) -> int:
        return 4 * self.batch_size  # enough read-ahead to cut full batches

    @property
    def resume_below(self) -> int:
        return 2 * self.batch_size


# ---- what the worker does to the source ------------------------------------------------------


@dataclass(frozen=True)
class Seek:
    tp: TP
    offset: int


@dataclass(frozen=True)
class Pause:
    tp: TP


@dataclass(frozen=True)
class Resume:
    tp: TP


Action = Seek | Pause | Resume


# ---- what a partition offers to apply --------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """Data records of one run, contiguous, from the head of the partition."""

    records: tuple[Consumed, ...]

    @property
    def run_id(self) -> int:
        return self.records[0].run_id

    def __len__(self) -> int:
        return len(self.records)


@dataclass(frozen=True)
class EndOfTable:
    """The end-of-table record at the head of the partition."""

    record: Consumed

    def __len__(self) -> int:
        return 1


@dataclass(frozen=True)
class Wait:
    """Nothing to apply now: no records, or too few and too young for a batch."""


WAIT = Wait()
Step = Batch | EndOfTable | Wait


class PartitionFlow:
    def __init__(self, tp: TP, limits: BufferLimits, offset: int = 0) -> None:
        self.tp = tp
        self.limits = limits
        self.queue: deque[Consumed] = deque()
        self.since = 0.0  # when the head of the queue started waiting
        self.next_offset = offset  # the offset after the last record read: where reading goes on
        self.stored = offset  # the offset this worker last stored (the fence's expectation)
        self.gated: tuple[Table, int] | None = None  # (table, run): paused until its parents seal in that run
        self.full = False  # paused by us because enough is held

    def __len__(self) -> int:
        return len(self.queue)

    # ---- reading ---------------------------------------------------------------------------

    def add(self, c: Consumed, now: float) -> None:
        if not self.queue:
            self.since = now
        self.queue.append(c)
        self.next_offset = c.source.offset + 1

    @property
    def head_run(self) -> int | None:
        """The run of the data record at the head (whose parents must be sealed), else None."""
        return self.queue[0].run_id if self.queue and not self.queue[0].eot else None

    def take(self, now: float, *, force: bool = False) -> Step:
        """What to apply now from the head: its end-of-table record, or the batch of data records of
        the head's run once it is cut (full, bounded, aged, or forced), else WAIT for more records
        or for the batch to age."""
        if not self.queue:
            return WAIT
        head = self.queue[0]
        if head.eot:
            return EndOfTable(head)
        size = self.limits.batch_size
        take: list[Consumed] = []
        for c in self.queue:
            if c.eot or c.run_id != head.run_id or len(take) >= size:
                break
            take.append(c)
        boundary = len(take) < len(self.queue)
        if force or boundary or len(take) >= size or now - self.since >= self.limits.linger_s:
            return Batch(tuple(take))
        return WAIT

    def applied(self, n: int, now: float) -> None:
        """The first n records were applied and their offset stored: forget them."""
        for _ in range(n - 1):
            self.queue.popleft()
        self.stored = self.queue.popleft().source.offset + 1
        self.since = now

    # ---- changes to how it reads -----------------------------------------------------------

    def assigned(self, offset: int) -> list[Action]:
        """(Re)assigned, at the offset stored in PostgreSQL: nothing held, nothing gated."""
        self._drop()
        self.gated = None
        self.next_offset = self.stored = offset
        return [Seek(self.tp, offset)]

    def gate(self, table: Table, run_id: int, *, rewind: bool = True) -> list[Action]:
        """The partition's next records wait for their parents in `run_id`: they wait in Kafka, not
        here.  Rewind to the first of them (the head, or the position after the last record read:
        seeking drops whatever the client fetched ahead) and pause; `rewind=False` just after the
        assignment's seek: no second seek, unless records were read since."""
        seek = rewind or bool(self.queue)
        offset = self.queue[0].source.offset if self.queue else self.next_offset
        self._drop()
        self.gated = (table, run_id)
        self.next_offset = offset
        return [Seek(self.tp, offset), Pause(self.tp)] if seek else [Pause(self.tp)]

    def ungate(self) -> list[Action]:
        """Its parents sealed: it reads again."""
        self.gated = None
        return [Resume(self.tp)]

    def refence(self, next_offset: int) -> list[Action]:
        """The stored offset is not where this worker left it: re-read the partition from it."""
        self._drop()
        self.stored = self.next_offset = next_offset
        return [Seek(self.tp, next_offset), Resume(self.tp)]

    def revoked(self) -> int:
        """Gone to another worker: the number of records forgotten."""
        self.gated = None
        return self._drop()

    def fill(self, over_budget: bool) -> list[Action]:
        """Pause a reading partition that holds enough, or any once the worker's budget is spent."""
        if self.gated is not None or self.full or not (over_budget or len(self.queue) >= self.limits.per_partition):
            return []
        self.full = True
        return [Pause(self.tp)]

    def drained(self) -> list[Action]:
        """Paused as full and now holding less than two batches: it may read again (the worker is
        below half its budget), unless it is gated, when its seal resumes it."""
        if not self.full or len(self.queue) >= self.limits.resume_below:
            return []
        self.full = False
        return [] if self.gated is not None else [Resume(self.tp)]

    def _drop(self) -> int:
        n = len(self.queue)
        self.queue.clear()
        self.full = False
        return n


class Flows:
    """The flows of the partitions assigned to one worker, and the budget they share."""

    def __init__(self, limits: BufferLimits) -> None:
        self.limits = limits
        self._flows: dict[TP, PartitionFlow] = {}

    def __iter__(self) -> Iterator[PartitionFlow]:
        return iter(list(self._flows.values()))

    def get(self, tp: TP) -> PartitionFlow | None:
        return self._flows.get(tp)

    @property
    def held(self) -> int:
        return sum(len(f.queue) for f in self._flows.values())

    def assigned(self, tp: TP, offset: int) -> tuple[PartitionFlow, list[Action]]:
        flow = self._flows.get(tp)
        if flow is None:
            flow = self._flows[tp] = PartitionFlow(tp, self.limits)
        return flow, flow.assigned(offset)

    @property
    def next_offsets(self) -> Mapping[TP, int]:
        """Per assigned partition, the offset after the last record read (a live view)."""
        return _NextOffsets(self._flows)

    def revoked(self, tp: TP) -> None:
        flow = self._flows.pop(tp, None)
        if flow is not None:
            flow.revoked()

    def received(self, records: Iterable[InRecord], now: float) -> dict[str, int]:
        """Queue what a read returned, its headers read once; the data records queued, per topic.
        A gated partition's records are skipped: it was rewound to its first waiting record and
        will read them again.  So are those of a partition no longer assigned."""
        reads: dict[str, int] = {}
        for rec in records:
            flow = self._flows.get((rec.topic, rec.partition))
            if flow is None or flow.gated is not None:
                continue
            c = consumed(rec)
            flow.add(c, now)
            if not c.eot:
                reads[rec.topic] = reads.get(rec.topic, 0) + 1
        return reads

    def to_pause(self) -> list[Action]:
        """Each full partition paused, and every reading one (held records or not) once the budget
        is spent, so the worker holds at most the budget and one read."""
        over = self.held >= self.limits.budget
        return [a for f in self._flows.values() for a in f.fill(over)]

    def to_resume(self) -> list[Action]:
        """Partitions paused as full that may read again (the worker is below half its budget)."""
        if not any(f.full for f in self._flows.values()) or self.held >= self.limits.budget // 2:
            return []
        return [a for f in self._flows.values() for a in f.drained()]


class _NextOffsets(Mapping[TP, int]):
    def __init__(self, flows: dict[TP, PartitionFlow]) -> None:
        self._flows = flows

    def __getitem__(self, tp: TP) -> int:
        return self._flows[tp].next_offset

    def __iter__(self) -> Iterator[TP]:
        return iter(self._flows)

    def __len__(self) -> int:
        return len(self._flows)
