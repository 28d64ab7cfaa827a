"""The loader's PostgreSQL side: the one asyncpg module of consumers/.

A batch (contiguous data records of one topic partition and one run) is applied in ONE
transaction, a unit of work (`async with store.batch(...) as tx`): the offset fence, COPY into
staging, divert rows whose parents are missing, guarded upsert, the dead-letter index, then on
the way out the page receipts, the load counters, the applied-batch log and the consumed offset.
So a batch is applied exactly once whatever the broker's own commits say.  Whatever the caller
does inside the block (publishing dead letters to their topic) happens before the commit.

SQLSTATE verdicts: class 22 (data exception) and 23 (integrity constraint) are the record's
fault (poison: the offending rows are isolated by bisection with savepoints and dead-lettered);
every other error is the infrastructure's (transient: the transaction rolls back, nothing is
advanced, the caller retries or stops).

The dead-letter index holds one open dead letter per source record (db, table, key), whatever
the offsets of its copies: a page re-published after a producer crash updates the same dead
letter, a later run's copy supersedes the earlier one (kept, status `superseded`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from consumers import submissions
from consumers.records import Consumed, Incoming
from consumers.sql import ORD, TableSql, table_sql
from ledger import pools
from ledger.errors import Fenced
from ledger.pools import SESSION_ERRORS, guarded, infrastructure
from ledger.statuses import LoadStatus
from schemas.catalog import load_catalog
from streams import envelope
from streams.dead_letters import REASON_CONSTRAINT, REASON_MISSING_PARENT, DeadLetter, Failure

log = logging.getLogger(__name__)
POISON_CLASSES = ("22", "23")


@dataclass
class BatchResult:
    loaded: int = 0
    dead: list[tuple[Incoming, Failure]] = field(default_factory=list)
    loaded_keys: list[str] = field(default_factory=list)  # keys the upsert wrote (with want_keys)


@dataclass(frozen=True)
class TablePhase:
    status: LoadStatus
    error: str | None


def is_poison(e: BaseException) -> bool:
    return isinstance(e, asyncpg.PostgresError) and str(getattr(e, "sqlstate", "") or "")[:2] in POISON_CLASSES


_INDEX_DEAD_LETTER = (
    "INSERT INTO ingest.dead_letters AS d (db, table_name, run_id, topic, partition, \"offset\", record_key, record, "
    "headers, reason, sqlstate, constraint_name, missing_table, missing_key, message, attempts) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12, $13, $14, $15, $16) "
    "ON CONFLICT (db, table_name, record_key) WHERE status = 'open' DO UPDATE SET run_id = EXCLUDED.run_id, "
    "topic = EXCLUDED.topic, partition = EXCLUDED.partition, \"offset\" = EXCLUDED.\"offset\", "
    "record = EXCLUDED.record, headers = EXCLUDED.headers, reason = EXCLUDED.reason, sqlstate = EXCLUDED.sqlstate, "
    "constraint_name = EXCLUDED.constraint_name, missing_table = EXCLUDED.missing_table, "
    "missing_key = EXCLUDED.missing_key, message = EXCLUDED.message, "
    "attempts = GREATEST(d.attempts, EXCLUDED.attempts), updated_at = now() "
    "WHERE coalesce(d.run_id, 0) <= coalesce(EXCLUDED.run_id, 0)")


_PENDING_SNAPSHOTS = (
    "SELECT l.run_id FROM ingest.table_load l JOIN ingest.runs r ON r.run_id = l.run_id AND r.db = $1 "
    "WHERE l.table_name = $2 AND l.status = 'sealed' AND l.snapshot_at IS NULL AND l.run_id < $3")
_LATEST = 2**62


async def snapshot_before_change(conn: asyncpg.Connection, ts: TableSql, run_id: int = _LATEST) -> list[int]:
    """Snapshot the table's rows for `vcdb diff` as the sealed runs before `run_id` left them, if
    that was not done yet: called in every transaction that is about to change the table, and by
    `vcdb diff` itself.  Taken lazily, not when the table seals, so the seal (which child tables
    wait on) costs no pass over the table.  Nothing has changed the table since those runs sealed
    (any change would have taken the snapshot first), so the live rows are their state.  An
    advisory lock per table makes the first change of a new run the only one that snapshots."""
    db, table = ts.table.db, ts.table.name
    if not await conn.fetchval(_PENDING_SNAPSHOTS + " LIMIT 1", db, table, run_id):
        return []
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('vcdb-stream snapshot'), hashtext($1))",
                       f"{db}.{table}")
    runs = [r["run_id"] for r in await conn.fetch(_PENDING_SNAPSHOTS, db, table, run_id)]
    for run in runs:
        await conn.execute(ts.snapshot, run, table)
    await conn.execute("UPDATE ingest.table_load SET snapshot_at = now() WHERE run_id = ANY($1::bigint[]) AND "
                       "table_name = $2", runs, table)
    return runs


async def take_pending_snapshots(pool: asyncpg.Pool, sqls: Sequence[TableSql]) -> None:
    """`vcdb diff`: snapshot what sealed runs have not snapshotted yet (their state is still live)."""
    try:
        for ts in sqls:
            async with pool.acquire() as conn, conn.transaction():
                await snapshot_before_change(conn, ts)
    except SESSION_ERRORS as e:
        raise infrastructure("taking diff snapshots", e) from e


class BatchTx:
    """The writes of one transaction: load records, index dead letters, settle replayed ones."""

    def __init__(self, conn: asyncpg.Connection, ts: TableSql, run_id: int, skip_fk_triggers: bool) -> None:
        self.conn = conn
        self.ts = ts
        self.run_id = run_id
        self.skip_fk_triggers = skip_fk_triggers
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
        if not ts.find_orphans:
            return orphaned
        for r in await self.conn.fetch(ts.find_orphans):
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
        ts = self.ts
        try:
            async with self.conn.transaction():
                if self.skip_fk_triggers:
                    await self.conn.execute("SET LOCAL session_replication_role = replica")
                if want_keys:
                    rows = await self.conn.fetch(ts.upsert_returning, self.run_id, lo, hi)
                    return [], [envelope.key_text(list(r.values())) for r in rows]
                await self.conn.execute(ts.upsert, self.run_id, lo, hi)
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
        """Index dead letters: one open dead letter per source record."""
        if not letters:
            return
        self.dead_lettered += len(letters)
        first = letters[0]
        run_id = max(dl.run_id or 0 for dl in letters)
        await self.conn.execute(
            "UPDATE ingest.dead_letters SET status = 'superseded', updated_at = now() WHERE db = $1 AND "
            "table_name = $2 AND status = 'open' AND record_key = ANY($3::text[]) AND coalesce(run_id, 0) < $4",
            first.db, first.table, [dl.record_key for dl in letters], run_id)
        await self.conn.executemany(_INDEX_DEAD_LETTER, [
            (dl.db, dl.table, dl.run_id, dl.topic, dl.partition, dl.offset, dl.record_key, dl.record_json(),
             dl.headers_json(), dl.failure.reason, dl.failure.sqlstate, dl.failure.constraint,
             dl.failure.missing_table, dl.failure.missing_key, dl.failure.message, dl.attempt)
            for dl in letters])

    async def settle_replayed(self, loaded: Sequence[int], failed: Sequence[tuple[int, DeadLetter]]) -> None:
        """Replayed dead letters: those that loaded are resolved, the others stay open with the
        attempt count raised and the new reason."""
        await self.conn.executemany(
            "UPDATE ingest.dead_letters SET attempts = $2, reason = $3, sqlstate = $4, constraint_name = $5, "
            "missing_table = $6, missing_key = $7, message = $8, headers = $9::jsonb, updated_at = now() "
            "WHERE dead_letter_id = $1",
            [(i, dl.attempt, dl.failure.reason, dl.failure.sqlstate, dl.failure.constraint, dl.failure.missing_table,
              dl.failure.missing_key, dl.failure.message, dl.headers_json()) for i, dl in failed])
        await self.conn.execute(
            "UPDATE ingest.dead_letters SET status = 'resolved', resolved_at = now(), updated_at = now(), "
            "attempts = attempts + 1 WHERE dead_letter_id = ANY($1::bigint[])", list(loaded))

    async def receipts(self, batch: Sequence[Consumed]) -> None:
        """Count each page's records per partition; a page re-published after a producer crash
        restarts its count (its index goes back), so a page is counted once."""
        table, run_id, partition = self.ts.table.name, self.run_id, batch[0].source.partition
        pages = sorted({c.page for c in batch})
        rows = await self.conn.fetch(
            "SELECT page, last_index, records FROM ingest.page_receipts WHERE run_id = $1 AND table_name = $2 "
            "AND partition = $3 AND page = ANY($4::int[])", run_id, table, partition, pages)
        state = {r["page"]: (r["last_index"], r["records"]) for r in rows}
        for c in batch:
            last, count = state.get(c.page, (-1, 0))
            state[c.page] = (c.position, count + 1 if c.position > last else 1)
        await self.conn.executemany(
            "INSERT INTO ingest.page_receipts (run_id, table_name, page, partition, last_index, records) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id, table_name, page, partition) DO UPDATE SET "
            "last_index = EXCLUDED.last_index, records = EXCLUDED.records",
            [(run_id, table, p, partition, li, n) for p, (li, n) in state.items()])


class LoadStore:
    def __init__(self, pool: asyncpg.Pool, group_id: str, *, skip_fk_triggers: bool = False) -> None:
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

    @guarded("reading the stored offsets")
    async def offsets(self, tps: Sequence[tuple[str, int]]) -> dict[tuple[str, int], int]:
        rows = await self.pool.fetch(
            "SELECT topic, partition, next_offset FROM ingest.consumer_offsets WHERE group_id = $1", self.group_id)
        stored = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
        return {tp: stored.get(tp, 0) for tp in tps}

    @guarded("reading a run's tables")
    async def run_tables(self, run_id: int) -> tuple[str, ...] | None:
        raw = await self.pool.fetchval("SELECT tables FROM ingest.runs WHERE run_id = $1", run_id)
        if raw is None:
            return None
        return tuple(json.loads(raw) if isinstance(raw, str) else raw)

    @guarded("reading a run's seals")
    async def sealed_tables(self, run_id: int) -> set[str]:
        rows = await self.pool.fetch("SELECT table_name FROM ingest.table_load WHERE run_id = $1 AND status = $2",
                                     run_id, LoadStatus.SEALED.value)
        return {r["table_name"] for r in rows}

    @guarded("reading the pending runs")
    async def pending_runs(self, db: str, tables: Sequence[str]) -> dict[str, int]:
        """Per table, the oldest run whose records of it are not all loaded (neither sealed nor
        stopped on a mismatch): a running run that pulls the table (its records may come any
        moment), or a finished one that published records of it.  The run its next records
        belong to."""
        rows = await self.pool.fetch(
            "SELECT t.table_name, min(r.run_id) AS run_id FROM ingest.runs r "
            "CROSS JOIN LATERAL jsonb_array_elements_text(r.tables) AS t(table_name) "
            "LEFT JOIN ingest.endpoint_progress e ON e.run_id = r.run_id AND e.table_name = t.table_name "
            "LEFT JOIN ingest.table_load l ON l.run_id = r.run_id AND l.table_name = t.table_name "
            "WHERE r.db = $2 AND t.table_name = ANY($1::text[]) "
            "AND (r.status = 'running' OR e.pages_published > 0 OR e.status = 'done') "
            "AND coalesce(l.status, 'loading') NOT IN ('sealed', 'mismatch') GROUP BY t.table_name",
            list(tables), db)
        return {r["table_name"]: r["run_id"] for r in rows}

    # ---- units of work -----------------------------------------------------------------------

    async def _fence(self, conn: asyncpg.Connection, topic: str, partition: int, first: int, expect: int) -> None:
        """Lock this partition's offset row and refuse to go on unless it holds `expect`, the
        offset the worker last committed (or read at assignment): so no batch is applied twice,
        and none is skipped after a commit lost in a crash."""
        stored = await conn.fetchval(
            "SELECT next_offset FROM ingest.consumer_offsets WHERE group_id = $1 AND topic = $2 AND "
            "partition = $3 FOR UPDATE", self.group_id, topic, partition)
        if (stored or 0) != expect:
            raise Fenced(topic, partition, first, expect, stored or 0)

    @asynccontextmanager
    async def batch(self, ts: TableSql, run_id: int, batch: Sequence[Consumed], *,
                    partitions: int, expect: int) -> AsyncIterator[BatchTx]:
        """One batch's transaction: fenced at its partition's stored offset (`expect`); the body
        loads and indexes; on the way out the receipts, counters, applied-batch log and offset are
        written and the transaction commits (or rolls back, if the body raised)."""
        first, last = batch[0].source, batch[-1].source
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                # Rows and offsets commit together, so a commit lost in a PostgreSQL crash loses
                # both, and the fence of the partition's next batch finds the offset behind: the
                # batch is read and applied again.  Waiting for the WAL flush buys nothing.  Seals
                # commit synchronously, which flushes every batch committed before them.
                await conn.execute("SET LOCAL synchronous_commit = off")
                await self._fence(conn, first.topic, first.partition, first.offset, expect)
                await snapshot_before_change(conn, ts, run_id)
                tx = BatchTx(conn, ts, run_id, self.skip_fk_triggers)
                yield tx
                await tx.receipts(batch)
                await conn.execute(
                    "INSERT INTO ingest.table_load (run_id, table_name, partitions, status, loaded, dead_lettered) "
                    "VALUES ($1, $2, $3, 'loading', $4, $5) ON CONFLICT (run_id, table_name) DO UPDATE SET "
                    "loaded = ingest.table_load.loaded + EXCLUDED.loaded, "
                    "dead_lettered = ingest.table_load.dead_lettered + EXCLUDED.dead_lettered",
                    run_id, ts.table.name, partitions, tx.loaded, tx.dead_lettered)
                await conn.execute(
                    "INSERT INTO ingest.applied_batches (topic, partition, first_offset, last_offset, records) "
                    "VALUES ($1, $2, $3, $4, $5)", first.topic, first.partition, first.offset, last.offset, len(batch))
                await self._advance(conn, first.topic, first.partition, last.offset + 1)
        except SESSION_ERRORS as e:
            raise infrastructure(f"loading {ts.table.name}", e) from e

    @asynccontextmanager
    async def replay(self, ts: TableSql, run_id: int) -> AsyncIterator[BatchTx]:
        """A transaction for replaying dead letters: no offsets, no receipts."""
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                # A replay changes the table after every run that sealed it: snapshot them all first.
                await snapshot_before_change(conn, ts)
                yield BatchTx(conn, ts, run_id, self.skip_fk_triggers)
        except SESSION_ERRORS as e:
            raise infrastructure(f"replaying {ts.table.name}", e) from e

    async def _advance(self, conn: asyncpg.Connection, topic: str, partition: int, next_offset: int) -> None:
        await conn.execute(
            "INSERT INTO ingest.consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, "
            "updated_at = now()", self.group_id, topic, partition, next_offset)

    # ---- end of table and seals --------------------------------------------------------------

    async def end_of_table(self, ts: TableSql, run_id: int, partition: int, partitions: int, announced: int,
                           topic: str, offset: int, *, expect: int) -> TablePhase:
        """Record one partition's end-of-table; seal the table when every partition has ended and
        the page receipts account for every announced record.  The diff snapshot of the sealed
        table is taken later (`snapshot_before_change`), off the path that children wait on."""
        table = ts.table.name
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await self._fence(conn, topic, partition, offset, expect)
                await conn.execute(
                    "INSERT INTO ingest.table_load (run_id, table_name, partitions, status) VALUES ($1, $2, $3, "
                    "'loading') ON CONFLICT (run_id, table_name) DO NOTHING", run_id, table, partitions)
                row = await conn.fetchrow(
                    "SELECT eot_partitions, status, error FROM ingest.table_load WHERE run_id = $1 AND table_name = $2 "
                    "FOR UPDATE", run_id, table)
                seen = sorted(set(json.loads(row["eot_partitions"])) | {partition})
                status, error = row["status"], row["error"]
                if status == "loading" and len(seen) >= partitions:
                    received = await conn.fetchval(
                        "SELECT coalesce(sum(records), 0) FROM ingest.page_receipts WHERE run_id = $1 AND "
                        "table_name = $2", run_id, table)
                    if received == announced:
                        status = "sealed"
                    else:
                        status = "mismatch"
                        error = (f"{table} run {run_id}: the producer announced {announced} records, the consumer "
                                 f"received {received}; not sealed")
                await conn.execute(
                    "UPDATE ingest.table_load SET eot_partitions = $3::jsonb, partitions = $4, announced = $5, "
                    "status = $6, error = $7, sealed_at = CASE WHEN $6 = 'sealed' THEN now() END "
                    "WHERE run_id = $1 AND table_name = $2",
                    run_id, table, json.dumps(seen), partitions, announced, status, error)
                if status == "sealed" and submissions.replaces_full(ts.table):
                    app = load_catalog("aces").tables["App"]
                    await snapshot_before_change(conn, table_sql(load_catalog("aces"), app), run_id)
                    ended = await submissions.replace_full(conn, run_id)
                    if ended:
                        log.info("run %s: a FULL ACES file; %d applications of its brands it did not deliver "
                                 "ended", run_id, ended)
                await self._advance(conn, topic, partition, offset + 1)
        except SESSION_ERRORS as e:
            raise infrastructure(f"sealing {table}", e) from e
        return TablePhase(LoadStatus(status), error)

    @guarded("refreshing the explorer's views")
    async def refresh_explorer(self) -> None:
        """The explorer's materialised views (migration 0007), after a table they read sealed."""
        await self.pool.execute("SELECT autocare_fitment.refresh_explorer()")

    @guarded("reading the runs' state")
    async def open_run_state(self, db: str) -> list[dict[str, Any]]:
        """Per finished-or-running run of db: which endpoints completed and which tables sealed."""
        rows = await self.pool.fetch(
            "SELECT r.run_id, r.status AS run_status, e.table_name, e.status AS endpoint_status, "
            "coalesce(l.status, 'waiting') AS load_status, l.error "
            "FROM ingest.runs r JOIN ingest.endpoint_progress e USING (run_id) "
            "LEFT JOIN ingest.table_load l ON l.run_id = e.run_id AND l.table_name = e.table_name "
            "WHERE r.db = $1 AND r.kind IN ('baseline', 'incremental', 'import', 'file')", db)
        return [dict(r) for r in rows]



@dataclass(frozen=True)
class DeadLetterRow:
    dead_letter_id: int
    db: str
    table_name: str
    run_id: int | None
    topic: str
    partition: int
    offset: int
    record_key: str
    record: Any
    headers: dict[str, str]
    reason: str
    sqlstate: str | None
    constraint_name: str | None
    missing_table: str | None
    missing_key: str | None
    message: str
    attempts: int
    status: str
    created_at: Any
    updated_at: Any


@dataclass(frozen=True)
class DeadLetterFilter:
    db: str
    table: str | None = None
    reason: str | None = None
    run_id: int | None = None
    since: Any = None  # datetime: created at or after
    status: str | None = "open"
    ids: tuple[int, ...] = ()
    limit: int | None = None


def _dead_letter(r: asyncpg.Record) -> DeadLetterRow:
    d = dict(r)
    d["record"] = json.loads(d["record"]) if isinstance(d["record"], str) else d["record"]
    d["headers"] = json.loads(d["headers"]) if isinstance(d["headers"], str) else d["headers"]
    d.pop("resolved_at", None)
    return DeadLetterRow(**d)


class DeadLetterStore:
    """The dead-letter index: listing, counting, replaying and resolving."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    def _where(self, f: DeadLetterFilter) -> tuple[str, list[Any]]:
        conds: list[str] = ["db = $1"]
        args: list[Any] = [f.db]
        for col, val in (("table_name", f.table), ("reason", f.reason), ("run_id", f.run_id), ("status", f.status)):
            if val is not None:
                args.append(val)
                conds.append(f"{col} = ${len(args)}")
        if f.since is not None:
            args.append(f.since)
            conds.append(f"created_at >= ${len(args)}")
        if f.ids:
            args.append(list(f.ids))
            conds.append(f"dead_letter_id = ANY(${len(args)}::bigint[])")
        return " AND ".join(conds), args

    @guarded("reading dead letters")
    async def select(self, f: DeadLetterFilter) -> list[DeadLetterRow]:
        where, args = self._where(f)
        limit = f" LIMIT {int(f.limit)}" if f.limit else ""
        rows = await self.pool.fetch(
            f"SELECT * FROM ingest.dead_letters WHERE {where} ORDER BY created_at, dead_letter_id{limit}", *args)
        return [_dead_letter(r) for r in rows]

    async def counts(self, f: DeadLetterFilter) -> list[dict[str, Any]]:
        where, args = self._where(f)
        rows = await self.pool.fetch(
            f"SELECT table_name, reason, status, count(*) AS n, max(attempts) AS max_attempts "
            f"FROM ingest.dead_letters WHERE {where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", *args)
        return [dict(r) for r in rows]

    @guarded("reading dead letters")
    async def any_open_for(self, db: str, table: str) -> bool:
        """Open dead letters of this table, or waiting on it as their missing parent?"""
        return bool(await self.pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM ingest.dead_letters WHERE db = $1 AND status = 'open' AND "
            "(missing_table = $2 OR table_name = $2))", db, table))

    @guarded("resolving superseded dead letters")
    async def resolve_superseded(self, db: str, table: str, keys: Sequence[str]) -> int:
        """Open dead letters of these keys whose key has since loaded from a newer record (the
        value was corrected at the source): resolved, nothing to replay."""
        status = await self.pool.execute(
            "UPDATE ingest.dead_letters SET status = 'resolved', resolved_at = now(), updated_at = now(), "
            "message = message || ' [superseded by a newer record that loaded]' WHERE db = $1 AND "
            "table_name = $2 AND status = 'open' AND record_key = ANY($3::text[])", db, table, list(keys))
        return int(status.split()[-1])

    @guarded("reading dead letters")
    async def waiting_on_table(self, dbs: Sequence[str], missing_tables: Sequence[str]) -> list[DeadLetterRow]:
        """Open dead letters of these databases waiting on one of these (`db.Table`) tables."""
        if not dbs:
            return []
        rows = await self.pool.fetch(
            "SELECT * FROM ingest.dead_letters WHERE db = ANY($1::text[]) AND status = 'open' "
            "AND missing_table = ANY($2::text[]) ORDER BY created_at, dead_letter_id", list(dbs), list(missing_tables))
        return [_dead_letter(r) for r in rows]

    @guarded("reading dead letters")
    async def waiting_on(self, db: str, parent_table: str, keys: Sequence[str]) -> list[DeadLetterRow]:
        rows = await self.pool.fetch(
            "SELECT * FROM ingest.dead_letters WHERE db = $1 AND missing_table = $2 AND status = 'open' "
            "AND missing_key = ANY($3::text[]) ORDER BY created_at, dead_letter_id", db, parent_table, list(keys))
        return [_dead_letter(r) for r in rows]
