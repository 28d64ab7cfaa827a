"""The loader's PostgreSQL side: the one asyncpg module of consumers/ (ledger/pools.py is the
other one, outside consumers/).

A batch (contiguous data records of one topic partition and one run) is applied in ONE
transaction, a unit of work (`async with store.batch(...) as tx`): the offset fence, COPY into
staging, divert rows whose parents are missing, guarded upsert, the dead-letter index, then on
the way out the page receipts, the load counters, the applied-batch log and the consumed offset.
So a batch is applied exactly once whatever the broker's own commits say.  Whatever the caller
does inside the block (publishing dead letters to their topic) happens before the commit.

This module opens the transactions and owns the rows: COPY into the temporary staging table,
the orphan and rule diversion, the guarded upsert with its bisection.  Every statement on the run
state (fence, receipts, counters, offsets, seals, the dead-letter index) is the
ledger's (ledger/loads.py, ledger/dead_letters.py), called on the
transaction's connection.  `LoadStore` and `BatchTx` are the real adapters of the ports in
consumers/ports.py.

SQLSTATE verdicts: class 22 (data exception) and 23 (integrity constraint) are the record's
fault (poison: the offending rows are isolated by bisection with savepoints and dead-lettered);
every other error is the infrastructure's (transient: the transaction rolls back, nothing is
advanced, the caller retries or stops; ledger/pools.py sorts them).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from consumers.ports import TP, BatchResult, TablePhase
from consumers.records import Consumed, Incoming
from consumers.sql import ORD, TableSql
from ledger import dead_letters, loads, pools, releases
from ledger.dead_letters import DeadLetterFilter, DeadLetterRow
from ledger.pools import SESSION_ERRORS, guarded, infrastructure
from ledger.statuses import LoadStatus
from streams import envelope
from streams.dead_letters import REASON_CONSTRAINT, REASON_MISSING_PARENT, DeadLetter, Failure

log = logging.getLogger(__name__)
POISON_CLASSES = ("22", "23")


def is_poison(e: BaseException) -> bool:
    return isinstance(e, asyncpg.PostgresError) and str(getattr(e, "sqlstate", "") or "")[:2] in POISON_CLASSES


class BatchTx:
    """The writes of one transaction: load records, index dead letters, settle replayed ones."""

    def __init__(self, conn: pools.Connection, ts: TableSql, run_id: int, skip_fk_triggers: bool, *,
                 staged: bool) -> None:
        self.conn = conn
        self.ts = ts
        self.run_id = run_id
        self.skip_fk_triggers = skip_fk_triggers
        self.staged = staged  # into the run's staged rows, else the canonical table
        self.target = ts.target(staged)
        self.loaded = 0
        self.dead_lettered = 0

    async def load(self, items: Sequence[Incoming], *, want_keys: bool = False) -> BatchResult:
        ts, conn = self.ts, self.conn
        result = BatchResult()
        good: list[Incoming] = []
        for inc in items:
            if inc.failure is not None:
                result.dead.append((inc, inc.failure))
            else:
                good.append(inc)
        if good:
            await conn.execute(ts.create_stage)
            await conn.copy_records_to_table(ts.stage, records=[(*(inc.row or ()), i) for i, inc in enumerate(good)],
                                             columns=[*ts.columns, ORD])
            orphaned = await self._divert_orphans(good, result)
            orphaned |= await self._divert_rule_failures(good, result)
            rejected, keys = await self._upsert(0, len(good), want_keys)
            for i, e in rejected:
                result.dead.append((good[i], Failure(
                    REASON_CONSTRAINT, f"{ts.table.name}: {e}", type(e).__name__, "TASK_PUT",
                    sqlstate=getattr(e, "sqlstate", None), constraint=getattr(e, "constraint_name", None))))
            result.loaded = len(good) - len(orphaned) - len(rejected)
            result.loaded_keys = keys
        self.loaded += result.loaded
        return result

    async def _divert_orphans(self, good: Sequence[Incoming], result: BatchResult) -> set[int]:
        ts = self.ts
        orphaned: set[int] = set()
        if not self.target.find_orphans:
            return orphaned
        args = (self.run_id,) if self.target.orphans_take_run else ()
        for r in await self.conn.fetch(self.target.find_orphans, *args):
            i = r[ORD]
            check = next(c for c, flag in zip(ts.checks, r["missing"], strict=True) if flag)
            row = good[i].row
            assert row is not None
            value = [row[ts.columns.index(ts.table.column(c).canonical)] for c in check.fk.columns]
            missing_key = envelope.key_text(value)
            result.dead.append((good[i], Failure(
                REASON_MISSING_PARENT,
                f"{ts.table.name}.{','.join(check.fk.columns)} = {missing_key[1:-1]} has no row in "
                f"{check.parent_name}{'' if check.cross_db else ' (sealed)'}", "MissingParent", "TASK_PUT",
                sqlstate="23503", constraint=check.fk.name, missing_table=check.parent_name,
                missing_key=missing_key)))
            orphaned.add(i)
        if orphaned:
            await self.conn.execute(ts.delete_staged, sorted(orphaned))
        return orphaned

    async def _divert_rule_failures(self, good: Sequence[Incoming], result: BatchResult) -> set[int]:
        """Rows the table's rules (consumers/rules.py) reject: dead-lettered with the first
        failing rule's reason, waiting on the table that rule depends on."""
        ts = self.ts
        failed: set[int] = set()
        if not ts.find_rule_failures:
            return failed
        for r in await self.conn.fetch(ts.find_rule_failures):
            i = r[ORD]
            rule, key = next((rule, v) for rule, v in zip(ts.rules, r["verdicts"], strict=True) if v is not None)
            result.dead.append((good[i], Failure(
                rule.reason, rule.failure_message(ts.table, key or None), "RuleViolation", "TASK_PUT",
                missing_table=rule.depends_on, missing_key=key or None)))
            failed.add(i)
        if failed:
            await self.conn.execute(ts.delete_staged, sorted(failed))
        return failed

    async def _upsert(self, lo: int, hi: int, want_keys: bool) -> tuple[list[tuple[int, asyncpg.PostgresError]],
                                                                         list[str]]:
        """Upsert staged rows lo..hi-1; on a poison error, bisect with savepoints down to the bad
        rows.  With `want_keys`, the keys the upsert really wrote (not those the version guard
        kept out)."""
        try:
            async with self.conn.transaction():
                if self.skip_fk_triggers and not self.staged:
                    await self.conn.execute("SET LOCAL session_replication_role = replica")
                if want_keys:
                    rows = await self.conn.fetch(self.target.upsert_returning, self.run_id, lo, hi)
                    return [], [envelope.key_text(list(r.values())) for r in rows]
                await self.conn.execute(self.target.upsert, self.run_id, lo, hi)
            return [], []
        except asyncpg.PostgresError as e:
            if not is_poison(e):
                raise
            if hi - lo == 1:
                return [(lo, e)], []
        mid = (lo + hi) // 2
        bad1, keys1 = await self._upsert(lo, mid, want_keys)
        bad2, keys2 = await self._upsert(mid, hi, want_keys)
        return bad1 + bad2, keys1 + keys2

    async def index(self, letters: Sequence[DeadLetter]) -> None:
        """Index dead letters (ledger/dead_letters.py): one open dead letter per source record."""
        self.dead_lettered += len(letters)
        await dead_letters.index(self.conn, letters)

    async def settle_replayed(self, loaded: Sequence[int], failed: Sequence[tuple[int, DeadLetter]]) -> None:
        """Replayed dead letters: those that loaded are resolved, the others stay open with the
        attempt count raised and the new reason."""
        await dead_letters.settle_replayed(self.conn, loaded, failed)


class LoadStore:
    """The store's ports (consumers/ports.py) on one pool: the worker's `Store` and the
    replayer's `ReplayStore`."""

    def __init__(self, pool: pools.Pool, group_id: str, *, skip_fk_triggers: bool = False) -> None:
        self.pool = pool
        self.group_id = group_id
        # FK triggers off in the upsert where the role may (ledger/pools.py, `connect_writer`).
        self.skip_fk_triggers = skip_fk_triggers

    @classmethod
    async def connect(cls, url: str, group_id: str, size: int = 4) -> LoadStore:
        writer = await pools.connect_writer(url, size)
        return cls(writer.pool, group_id, skip_fk_triggers=writer.skip_fk_triggers)

    async def close(self) -> None:
        await self.pool.close()

    # ---- offsets and gates -------------------------------------------------------------------

    async def offsets(self, tps: Sequence[TP]) -> dict[TP, int]:
        return await loads.offsets(self.pool, self.group_id, tps)

    async def rewind(self, positions: dict[TP, int]) -> None:
        await loads.rewind(self.pool, self.group_id, positions)

    async def run_tables(self, run_id: int) -> tuple[str, ...] | None:
        return await loads.run_tables(self.pool, run_id)

    async def sealed_tables(self, run_id: int) -> set[str]:
        return await loads.sealed_tables(self.pool, run_id)

    async def pending_runs(self, db: str, tables: Sequence[str]) -> dict[str, int]:
        return await loads.pending_runs(self.pool, db, tables)

    async def open_run_state(self, db: str) -> list[dict[str, Any]]:
        return await loads.open_run_state(self.pool, db)

    # ---- units of work -----------------------------------------------------------------------

    @asynccontextmanager
    async def batch(self, ts: TableSql, run_id: int, batch: Sequence[Consumed], *,
                    partitions: int, expect: int, staged: bool) -> AsyncIterator[BatchTx]:
        """One batch's transaction: fenced at its partition's stored offset (`expect`); the body
        loads (into the run's staged rows, or in place) and indexes; on the way out the receipts,
        counters, applied-batch log and offset are written and the transaction commits (or rolls
        back, if the body raised)."""
        first, last = batch[0].source, batch[-1].source
        table = ts.table.name
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                # Rows and offsets commit together, so a commit lost in a PostgreSQL crash loses
                # both, and the fence of the partition's next batch finds the offset behind: the
                # batch is read and applied again.  Waiting for the WAL flush buys nothing.  Seals
                # commit synchronously, which flushes every batch committed before them.
                await conn.execute("SET LOCAL synchronous_commit = off")
                await loads.fence(conn, self.group_id, first.topic, first.partition, first.offset, expect)
                tx = BatchTx(conn, ts, run_id, self.skip_fk_triggers, staged=staged)
                yield tx
                await loads.receive(conn, run_id, table, first.partition, [(c.page, c.position) for c in batch])
                await loads.count(conn, run_id, table, partitions, tx.loaded, tx.dead_lettered)
                await loads.log_batch(conn, first.topic, first.partition, first.offset, last.offset, len(batch))
                await loads.advance(conn, self.group_id, first.topic, first.partition, last.offset + 1)
        except SESSION_ERRORS as e:
            raise infrastructure(f"loading {table}", e) from e

    @asynccontextmanager
    async def replay(self, ts: TableSql, run_id: int, *, staged: bool = False) -> AsyncIterator[BatchTx]:
        """A transaction for replaying dead letters: no offsets, no receipts.  Staged: into the
        staged rows of `run_id` (a parent that run brought), published with it; else live."""
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                yield BatchTx(conn, ts, run_id, self.skip_fk_triggers, staged=staged)
        except SESSION_ERRORS as e:
            raise infrastructure(f"replaying {ts.table.name}", e) from e

    # ---- end of table and seals --------------------------------------------------------------

    async def end_of_table(self, ts: TableSql, run_id: int, partition: int, partitions: int, announced: int,
                           topic: str, offset: int, *, expect: int, staged: bool) -> TablePhase:
        """Record one partition's end-of-table, fenced like a batch; seal the table when every
        partition has ended and the page receipts account for every announced record
        (ledger/loads.py).  A sealed table is ANALYZEd (its staged twin, or the canonical table of
        a run loaded in place): the run's child tables check their parents against it next, and
        bulk loads meet servers without autovacuum, or before it wakes."""
        table = ts.table.name
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await loads.fence(conn, self.group_id, topic, partition, offset, expect)
                phase = await loads.end_of_table(conn, run_id, table, partition, partitions, announced)
                await loads.advance(conn, self.group_id, topic, partition, offset + 1)
            if phase.status == LoadStatus.SEALED:
                await self.pool.execute(f"ANALYZE {ts.staged_table if staged else ts.canonical_table}")
        except SESSION_ERRORS as e:
            raise infrastructure(f"sealing {table}", e) from e
        return phase

    @guarded("refreshing the explorer's views")
    async def refresh_explorer(self) -> None:
        """The explorer's materialised views (migration 0007), after a table they read sealed."""
        await self.pool.execute("SELECT autocare_fitment.refresh_explorer()")

    @guarded("reading a run's publication")
    async def staged(self, run_id: int) -> bool:
        """Do the run's records load into the staged twins (else live: in place, or already published)?"""
        async with self.pool.acquire() as conn:
            return await releases.stages(conn, run_id)

    @guarded("reading the runs waiting for publication")
    async def waiting_runs(self, db: str) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            return await releases.waiting_runs(conn, db)

    # ---- the dead-letter index (ledger/dead_letters.py) ----------------------------------------

    async def dead_letters(self, f: DeadLetterFilter) -> list[DeadLetterRow]:
        return await dead_letters.select(self.pool, f)

    async def any_open_for(self, db: str, table: str) -> bool:
        return await dead_letters.any_open_for(self.pool, db, table)

    async def resolve_superseded(self, db: str, table: str, keys: Sequence[str]) -> int:
        return await dead_letters.resolve_superseded(self.pool, db, table, keys)

    async def waiting_on(self, db: str, parent_table: str, keys: Sequence[str]) -> list[DeadLetterRow]:
        return await dead_letters.waiting_on(self.pool, db, parent_table, keys)

    async def waiting_on_table(self, dbs: Sequence[str], missing_tables: Sequence[str]) -> list[DeadLetterRow]:
        return await dead_letters.waiting_on_table(self.pool, dbs, missing_tables)
