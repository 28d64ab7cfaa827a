"""The worker's read-ahead: per-partition queues of consumed records, cut into batches (pure).

A batch is contiguous data records of one partition and one run: it ends at an end-of-table
record, at a record of another run, at the batch size, or when its oldest record has waited
`linger_s` (whichever comes first).  The whole worker's read-ahead is bounded: a partition
holding enough for a few batches, or any partition once the worker holds `budget` records, is
reported full (the caller pauses it, so its records wait in Kafka) and reported resumable once
the queues have drained to half.  Time is the caller's `now`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from consumers.records import Consumed

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


@dataclass
class _Queue:
    records: deque[Consumed] = field(default_factory=deque)
    since: float = 0.0  # when the head of the queue started waiting


class Buffers:
    def __init__(self, limits: BufferLimits) -> None:
        self.limits = limits
        self._queues: dict[TP, _Queue] = {}
        self.held = 0
        self.full: set[TP] = set()  # paused by us because enough is held

    def add(self, tp: TP, records: Iterable[Consumed], now: float) -> None:
        q = self._queues.get(tp)
        if q is None:
            q = self._queues[tp] = _Queue()
        if not q.records:
            q.since = now
        before = len(q.records)
        q.records.extend(records)
        self.held += len(q.records) - before

    def to_pause(self, reading: Iterable[TP]) -> list[TP]:
        """Partitions to pause now, of those `reading`: each full one, and every one (held records
        or not) once the budget is spent, so the worker holds at most the budget and one read."""
        over = self.held >= self.limits.budget
        out = [tp for tp in reading if tp not in self.full and (over or self.size(tp) >= self.limits.per_partition)]
        self.full.update(out)
        return out

    def to_resume(self) -> list[TP]:
        """Partitions paused as full that may read again (the worker is below half its budget)."""
        if not self.full or self.held >= self.limits.budget // 2:
            return []
        out = [tp for tp in self.full if self.size(tp) < self.limits.resume_below]
        self.full.difference_update(out)
        return out

    def partitions(self) -> list[TP]:
        return [tp for tp, q in self._queues.items() if q.records]

    def size(self, tp: TP) -> int:
        q = self._queues.get(tp)
        return len(q.records) if q else 0

    def head(self, tp: TP) -> Consumed | None:
        q = self._queues.get(tp)
        return q.records[0] if q and q.records else None

    def next_batch(self, tp: TP, now: float, *, force: bool = False) -> list[Consumed] | None:
        """The batch to apply now from the head of the partition (data records of the head's run),
        or None while it should wait for more records or for its age.  The head must be data."""
        q = self._queues.get(tp)
        if q is None or not q.records:
            return None
        head = q.records[0]
        assert not head.eot, "end-of-table records are taken with pop()"
        size = self.limits.batch_size
        take: list[Consumed] = []
        for c in q.records:
            if c.eot or c.run_id != head.run_id or len(take) >= size:
                break
            take.append(c)
        boundary = len(take) < len(q.records)
        if force or boundary or len(take) >= size or now - q.since >= self.limits.linger_s:
            return take
        return None

    def pop(self, tp: TP, n: int, now: float) -> None:
        """Forget the first n records of a partition: they were applied."""
        q = self._queues[tp]
        for _ in range(n):
            q.records.popleft()
        self.held -= n
        q.since = now

    def drop(self, tp: TP) -> int:
        """Forget a partition (rewound to re-read, or revoked); the number of records dropped."""
        q = self._queues.pop(tp, None)
        self.full.discard(tp)
        n = len(q.records) if q else 0
        self.held -= n
        return n
