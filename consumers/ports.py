"""What the loading worker, the seal gate and the replayer need from the store: ports that name no
asyncpg type, so the loop's decisions are tested against small in-memory fakes (tests/unit/fakes.py)
and the real adapters (consumers/store.py: `LoadStore`, `BatchTx`) are swapped in by the runner.

Besides the ports, the value types and errors they speak: `BatchResult` (what a load did), and,
from the ledger, `TablePhase`, the dead-letter rows and filter, `Fenced` and `InfrastructureError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from consumers.records import Consumed, Incoming
from consumers.sql import TableSql
from ledger.dead_letters import DeadLetterFilter, DeadLetterRow
from ledger.errors import Fenced, InfrastructureError
from ledger.loads import TablePhase
from schemas.catalog import Table
from streams.dead_letters import DeadLetter, Failure
from streams.records import InRecord

__all__ = [
    "TP", "BatchResult", "BatchWriter", "DeadLetterFilter", "DeadLetterRow", "Fenced", "GateStore",
    "InfrastructureError", "Releases", "ReplayStore", "ReplayWriter", "Replayer", "Source", "Store", "TablePhase",
]

TP = tuple[str, int]


@dataclass
class BatchResult:
    loaded: int = 0
    dead: list[tuple[Incoming, Failure]] = field(default_factory=list)
    loaded_keys: list[str] = field(default_factory=list)  # keys the upsert wrote (with want_keys)


class BatchWriter(Protocol):
    """The writes of one batch's transaction (the unit of work the store opens)."""

    async def load(self, items: Sequence[Incoming], *, want_keys: bool = False) -> BatchResult: ...
    async def index(self, letters: Sequence[DeadLetter]) -> None: ...


class ReplayWriter(Protocol):
    """The writes of one replay's transaction: load the records again, settle their dead letters."""

    async def load(self, items: Sequence[Incoming], *, want_keys: bool = False) -> BatchResult: ...
    async def settle_replayed(self, loaded: Sequence[int], failed: Sequence[tuple[int, DeadLetter]]) -> None: ...


class GateStore(Protocol):
    """What the seal gate reads: a run's tables, its seals, and the run each table waits in."""

    async def run_tables(self, run_id: int) -> tuple[str, ...] | None: ...
    async def sealed_tables(self, run_id: int) -> set[str]: ...
    async def pending_runs(self, db: str, tables: Sequence[str]) -> dict[str, int]: ...


class Store(GateStore, Protocol):
    """What the loading worker needs: stored offsets, a unit of work per batch, end-of-table
    bookkeeping, how a run loads (staged or in place), and the runs' state for the idle check."""

    async def offsets(self, tps: Sequence[TP]) -> dict[TP, int]: ...
    async def rewind(self, positions: dict[TP, int]) -> None: ...
    async def staged(self, run_id: int) -> bool: ...
    def batch(self, ts: TableSql, run_id: int, batch: Sequence[Consumed], *,
              partitions: int, expect: int, staged: bool) -> AbstractAsyncContextManager[BatchWriter]: ...
    async def end_of_table(self, ts: TableSql, run_id: int, partition: int, partitions: int, announced: int,
                           topic: str, offset: int, *, expect: int, staged: bool) -> TablePhase: ...
    async def open_run_state(self, db: str) -> list[dict[str, Any]]: ...
    async def waiting_runs(self, db: str) -> list[dict[str, Any]]: ...


class ReplayStore(Protocol):
    """What the replayer needs: a transaction to replay in, the dead-letter index, and the
    explorer's views to refresh."""

    def replay(self, ts: TableSql, run_id: int, *,
               staged: bool = False) -> AbstractAsyncContextManager[ReplayWriter]: ...
    async def refresh_explorer(self) -> None: ...
    async def dead_letters(self, f: DeadLetterFilter) -> list[DeadLetterRow]: ...
    async def any_open_for(self, db: str, table: str) -> bool: ...
    async def resolve_superseded(self, db: str, table: str, keys: Sequence[str]) -> int: ...
    async def waiting_on(self, db: str, parent_table: str, keys: Sequence[str]) -> list[DeadLetterRow]: ...
    async def waiting_on_table(self, dbs: Sequence[str], missing_tables: Sequence[str]) -> list[DeadLetterRow]: ...


# ---- what the loading worker reads from and hands to (consumers/worker.py) ----------------------

class Source(Protocol):
    async def read(self, timeout_ms: int = 500) -> list[InRecord]: ...
    async def ranges(self, stored: dict[TP, int]) -> dict[TP, tuple[int, int]]: ...
    def seek(self, tp: TP, offset: int) -> None: ...
    def pause(self, tps: Sequence[TP]) -> None: ...
    def resume(self, tps: Sequence[TP]) -> None: ...


class Replayer(Protocol):
    async def waiting(self, table: Table) -> bool: ...
    async def parent_loaded(self, table: Table, run_id: int, keys: list[str], *, staged: bool) -> None: ...
    async def self_references(self, table: Table, run_id: int, *, staged: bool) -> int: ...


class Releases(Protocol):
    async def publish_ready(self, db: str) -> list[Any]: ...
