"""The loader's PostgreSQL side: the one asyncpg module of consumers/.

A batch (contiguous data records of one topic partition and one run) is applied in ONE
transaction: COPY into staging, divert rows whose parents are missing, guarded upsert, the
dead-letter index, the load counters, the page receipts and the consumed offset.  So a batch is
applied exactly once whatever the broker's own commits say.

SQLSTATE verdicts: class 22 (data exception) and 23 (integrity constraint) are the record's
fault (poison: the offending rows are isolated by bisection with savepoints and dead-lettered);
every other error is the infrastructure's (transient: the transaction rolls back, nothing is
advanced, the caller retries or stops).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from consumers.records import Incoming, key_text
from consumers.sql import ORD, TableSql
from streams.dead_letters import REASON_CONSTRAINT, REASON_MISSING_PARENT, Failure, dead_letter_headers

POISON_CLASSES = ("22", "23")
MAX_ORD = 2**31 - 1


class Fenced(RuntimeError):
    """The partition's stored offset is already past this batch: another worker (or an earlier
    life of this one) applied it.  Nothing was written; re-read from `next_offset`."""

    def __init__(self, topic: str, partition: int, first: int, next_offset: int) -> None:
        super().__init__(f"batch at {topic}[{partition}] offset {first} was already applied "
                         f"(stored offset {next_offset})")
        self.next_offset = next_offset


class InfrastructureError(RuntimeError):
    """PostgreSQL failed for reasons that are not the record's (connection, disk, permissions,
    deadlock, ...): transient, never dead-lettered."""


@dataclass
class BatchResult:
    loaded: int = 0
    dead: list[tuple[Incoming, Failure]] = field(default_factory=list)
    loaded_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TablePhase:
    status: str  # loading | sealed | mismatch
    error: str | None


DeadLetterSink = Callable[[list[tuple[Incoming, Failure, int]]], Awaitable[None]]


def is_poison(e: BaseException) -> bool:
    return isinstance(e, asyncpg.PostgresError) and str(getattr(e, "sqlstate", "") or "")[:2] in POISON_CLASSES


class LoadStore:
    def __init__(self, pool: asyncpg.Pool, group_id: str, *, skip_fk_triggers: bool = False) -> None:
        self.pool = pool
        self.group_id = group_id
        # The loader checks every parent set-based before its upsert, and parents are never
        # deleted (deletes are soft), so PostgreSQL's per-row FK triggers only repeat that check
        # at several times its cost.  Where the role may set session_replication_role (superuser,
        # or PostgreSQL 15+ `GRANT SET ON PARAMETER session_replication_role`), the upsert runs
        # with triggers off; elsewhere the constraints are checked twice, correctly but slower.
        self.skip_fk_triggers = skip_fk_triggers

    @classmethod
    async def connect(cls, url: str, group_id: str, size: int = 4) -> LoadStore:
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=size)
            allowed = await pool.fetchval(
                "SELECT rolsuper OR (current_setting('server_version_num')::int >= 150000 AND "
                "has_parameter_privilege('session_replication_role', 'SET')) "
                "FROM pg_roles WHERE rolname = current_user")
        except (OSError, asyncpg.PostgresError) as e:
            raise InfrastructureError(f"cannot connect to PostgreSQL: {e}") from e
        return cls(pool, group_id, skip_fk_triggers=bool(allowed))

    async def close(self) -> None:
        await self.pool.close()

    # ---- offsets and gates -------------------------------------------------------------------

    async def offsets(self, tps: Sequence[tuple[str, int]]) -> dict[tuple[str, int], int]:
        rows = await self.pool.fetch(
            "SELECT topic, partition, next_offset FROM ingest.consumer_offsets WHERE group_id = $1", self.group_id)
        stored = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
        return {tp: stored.get(tp, 0) for tp in tps}

    async def run_tables(self, run_id: int) -> tuple[str, ...] | None:
        raw = await self.pool.fetchval("SELECT tables FROM ingest.runs WHERE run_id = $1", run_id)
        if raw is None:
            return None
        return tuple(json.loads(raw) if isinstance(raw, str) else raw)

    async def phases(self, run_id: int) -> dict[str, TablePhase]:
        rows = await self.pool.fetch("SELECT table_name, status, error FROM ingest.table_load WHERE run_id = $1",
                                     run_id)
        return {r["table_name"]: TablePhase(r["status"], r["error"]) for r in rows}

    # ---- batches -----------------------------------------------------------------------------

    async def apply_batch(self, ts: TableSql, run_id: int, batch: Sequence[Incoming], *, partitions: int,
                          dead_letter: DeadLetterSink, want_keys: bool = False) -> BatchResult:
        """Apply one batch and advance its partition's offset past its last record.  With
        `want_keys`, the result lists the keys loaded (for dead letters waiting on them)."""
        first, last = batch[0].source, batch[-1].source
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                # Rows and offsets commit together, so a commit lost in a PostgreSQL crash loses
                # both: the batch is read and applied again.  Waiting for the WAL flush buys nothing.
                await conn.execute("SET LOCAL synchronous_commit = off")
                # The fence: lock this partition's offset row and refuse a batch that starts
                # anywhere but at the stored offset, so no batch is ever applied twice.
                stored = await conn.fetchval(
                    "SELECT next_offset FROM ingest.consumer_offsets WHERE group_id = $1 AND topic = $2 AND "
                    "partition = $3 FOR UPDATE", self.group_id, first.topic, first.partition)
                if stored is not None and stored > first.offset:
                    raise Fenced(first.topic, first.partition, first.offset, stored)
                result = await self._load(conn, ts, run_id, batch, want_keys=want_keys)
                if result.dead:
                    attempts = [(inc, f, 1) for inc, f in result.dead]
                    await dead_letter(attempts)  # on the DLQ topic before the commit: write, commit, ack
                    await self._index_dead_letters(conn, ts, attempts)
                await self._receipts(conn, ts.table.name, run_id, batch)
                await conn.execute(
                    "INSERT INTO ingest.table_load (run_id, table_name, partitions, status, loaded, dead_lettered) "
                    "VALUES ($1, $2, $3, 'loading', $4, $5) ON CONFLICT (run_id, table_name) DO UPDATE SET "
                    "loaded = ingest.table_load.loaded + EXCLUDED.loaded, "
                    "dead_lettered = ingest.table_load.dead_lettered + EXCLUDED.dead_lettered",
                    run_id, ts.table.name, partitions, result.loaded, len(result.dead))
                await conn.execute(
                    "INSERT INTO ingest.applied_batches (topic, partition, first_offset, last_offset, records) "
                    "VALUES ($1, $2, $3, $4, $5)", first.topic, first.partition, first.offset, last.offset, len(batch))
                await self._advance(conn, first.topic, first.partition, last.offset + 1)
        except asyncpg.PostgresError as e:
            raise InfrastructureError(f"loading {ts.table.name}: {type(e).__name__}: {e}") from e
        except OSError as e:
            raise InfrastructureError(f"loading {ts.table.name}: connection lost: {e}") from e
        return result

    async def _load(self, conn: asyncpg.Connection, ts: TableSql, run_id: int, batch: Sequence[Incoming],
                    want_keys: bool = True) -> BatchResult:
        result = BatchResult()
        good: list[Incoming] = []
        for inc in batch:
            if inc.failure is not None:
                result.dead.append((inc, inc.failure))
            else:
                good.append(inc)
        if not good:
            return result
        await conn.execute(ts.create_stage)
        await conn.copy_records_to_table(ts.stage, records=[(*(inc.row or ()), i) for i, inc in enumerate(good)],
                                         columns=[*ts.columns, ORD])
        orphaned: set[int] = set()
        if ts.find_orphans:
            for r in await conn.fetch(ts.find_orphans):
                i = r[ORD]
                check = next(c for c, flag in zip(ts.checks, r["missing"], strict=True) if flag)
                row = good[i].row
                assert row is not None
                value = [row[ts.columns.index(ts.table.column(c).canonical)] for c in check.fk.columns]
                missing_key = json.dumps(value, default=str, separators=(",", ":"))
                result.dead.append((good[i], Failure(
                    REASON_MISSING_PARENT,
                    f"{ts.table.name}.{','.join(check.fk.columns)} = {missing_key[1:-1]} has no row in "
                    f"{check.parent.name} (sealed)", "MissingParent", "TASK_PUT",
                    sqlstate="23503", constraint=check.fk.name, missing_table=check.parent.name,
                    missing_key=missing_key)))
                orphaned.add(i)
            if orphaned:
                await conn.execute(ts.delete_staged, sorted(orphaned))
        rejected = await self._upsert(conn, ts, run_id, 0, len(good))
        for i, e in rejected:
            result.dead.append((good[i], Failure(
                REASON_CONSTRAINT, f"{ts.table.name}: {e}", type(e).__name__, "TASK_PUT",
                sqlstate=getattr(e, "sqlstate", None), constraint=getattr(e, "constraint_name", None))))
        bad = orphaned | {i for i, _ in rejected}
        result.loaded = len(good) - len(bad)
        if want_keys:
            result.loaded_keys = [key_text(ts.table, inc.row) for i, inc in enumerate(good)
                                  if i not in bad and inc.row is not None]
        return result

    async def _upsert(self, conn: asyncpg.Connection, ts: TableSql, run_id: int, lo: int,
                      hi: int) -> list[tuple[int, asyncpg.PostgresError]]:
        """Upsert staged rows lo..hi-1; on a poison error, bisect with savepoints down to the bad rows."""
        try:
            async with conn.transaction():
                if self.skip_fk_triggers:
                    await conn.execute("SET LOCAL session_replication_role = replica")
                await conn.execute(ts.upsert, run_id, lo, hi)
            return []
        except asyncpg.PostgresError as e:
            if not is_poison(e):
                raise
            if hi - lo == 1:
                return [(lo, e)]
        mid = (lo + hi) // 2
        return await self._upsert(conn, ts, run_id, lo, mid) + await self._upsert(conn, ts, run_id, mid, hi)

    async def _index_dead_letters(self, conn: asyncpg.Connection, ts: TableSql,
                                  items: Sequence[tuple[Incoming, Failure, int]]) -> None:
        await conn.executemany(
            "INSERT INTO ingest.dead_letters (db, table_name, run_id, topic, partition, \"offset\", record_key, record,"
            " headers, reason, sqlstate, constraint_name, missing_table, missing_key, message, attempts) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12, $13, $14, $15, $16) "
            "ON CONFLICT (topic, partition, \"offset\") DO UPDATE SET reason = EXCLUDED.reason, "
            "sqlstate = EXCLUDED.sqlstate, constraint_name = EXCLUDED.constraint_name, "
            "missing_table = EXCLUDED.missing_table, missing_key = EXCLUDED.missing_key, message = EXCLUDED.message, "
            "attempts = EXCLUDED.attempts, status = 'open', resolved_at = NULL, updated_at = now()",
            [(ts.table.db, ts.table.name, inc.run_id, inc.source.topic, inc.source.partition, inc.source.offset,
              (inc.source.key or b"").decode(errors="replace"), json.dumps(inc.record, default=str),
              _headers_json(inc, f, attempt), f.reason, f.sqlstate, f.constraint, f.missing_table, f.missing_key,
              f.message, attempt)
             for inc, f, attempt in items])

    async def _receipts(self, conn: asyncpg.Connection, table: str, run_id: int, batch: Sequence[Incoming]) -> None:
        """Count each page's records per partition; a page re-published after a producer crash
        restarts its count (its index goes back), so a page is counted once."""
        partition = batch[0].source.partition
        pages = sorted({inc.page for inc in batch})
        rows = await conn.fetch(
            "SELECT page, last_index, records FROM ingest.page_receipts WHERE run_id = $1 AND table_name = $2 "
            "AND partition = $3 AND page = ANY($4::int[])", run_id, table, partition, pages)
        state = {r["page"]: (r["last_index"], r["records"]) for r in rows}
        for inc in batch:
            last, count = state.get(inc.page, (-1, 0))
            state[inc.page] = (inc.position, count + 1 if inc.position > last else 1)
        await conn.executemany(
            "INSERT INTO ingest.page_receipts (run_id, table_name, page, partition, last_index, records) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id, table_name, page, partition) DO UPDATE SET "
            "last_index = EXCLUDED.last_index, records = EXCLUDED.records",
            [(run_id, table, p, partition, li, n) for p, (li, n) in state.items()])

    async def _advance(self, conn: asyncpg.Connection, topic: str, partition: int, next_offset: int) -> None:
        await conn.execute(
            "INSERT INTO ingest.consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, "
            "updated_at = now()", self.group_id, topic, partition, next_offset)

    # ---- end of table and seals --------------------------------------------------------------

    async def end_of_table(self, ts: TableSql, run_id: int, partition: int, partitions: int, announced: int,
                           topic: str, offset: int) -> TablePhase:
        """Record one partition's end-of-table; seal the table when every partition has ended and
        the page receipts account for every announced record.  A sealed table's row hashes are
        snapshotted for `vcdb diff` in the same transaction."""
        table = ts.table.name
        try:
            async with self.pool.acquire() as conn, conn.transaction():
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
                        await conn.execute(ts.snapshot, run_id, table)
                    else:
                        status = "mismatch"
                        error = (f"{table} run {run_id}: the producer announced {announced} records, the consumer "
                                 f"received {received}; not sealed")
                await conn.execute(
                    "UPDATE ingest.table_load SET eot_partitions = $3::jsonb, partitions = $4, announced = $5, "
                    "status = $6, error = $7, sealed_at = CASE WHEN $6 = 'sealed' THEN now() END "
                    "WHERE run_id = $1 AND table_name = $2",
                    run_id, table, json.dumps(seen), partitions, announced, status, error)
                await self._advance(conn, topic, partition, offset + 1)
        except asyncpg.PostgresError as e:
            raise InfrastructureError(f"sealing {table}: {type(e).__name__}: {e}") from e
        except OSError as e:
            raise InfrastructureError(f"sealing {table}: connection lost: {e}") from e
        return TablePhase(status, error)

    async def open_run_state(self, db: str) -> list[dict[str, Any]]:
        """Per finished-or-running run of db: which endpoints completed and which tables sealed."""
        rows = await self.pool.fetch(
            "SELECT r.run_id, r.status AS run_status, e.table_name, e.status AS endpoint_status, "
            "coalesce(l.status, 'waiting') AS load_status, l.error "
            "FROM ingest.runs r JOIN ingest.endpoint_progress e USING (run_id) "
            "LEFT JOIN ingest.table_load l ON l.run_id = e.run_id AND l.table_name = e.table_name "
            "WHERE r.db = $1 AND r.kind IN ('baseline', 'incremental', 'import')", db)
        return [dict(r) for r in rows]


def _headers_json(inc: Incoming, failure: Failure, attempt: int) -> str:
    """The dead letter's headers as on its DLQ topic: the original ones and this failure's."""
    src = inc.source
    headers = dead_letter_headers(src.headers, failure, topic=src.topic, partition=src.partition,
                                  offset=src.offset, attempt=attempt, run_id=inc.run_id)
    return json.dumps({k: v.decode(errors="replace") for k, v in headers})


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

    async def any_open_for(self, db: str, table: str) -> bool:
        """Open dead letters of this table, or waiting on it as their missing parent?"""
        return bool(await self.pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM ingest.dead_letters WHERE db = $1 AND status = 'open' AND "
            "(missing_table = $2 OR table_name = $2))", db, table))

    async def resolve_superseded(self, db: str, table: str, keys: Sequence[str]) -> int:
        """Open dead letters of these keys whose key has since loaded from a newer record (the
        value was corrected at the source): resolved, nothing to replay."""
        status = await self.pool.execute(
            "UPDATE ingest.dead_letters SET status = 'resolved', resolved_at = now(), updated_at = now(), "
            "message = message || ' [superseded by a newer record that loaded]' WHERE db = $1 AND "
            "table_name = $2 AND status = 'open' AND record_key = ANY($3::text[])", db, table, list(keys))
        return int(status.split()[-1])

    async def waiting_on(self, db: str, parent_table: str, keys: Sequence[str]) -> list[DeadLetterRow]:
        rows = await self.pool.fetch(
            "SELECT * FROM ingest.dead_letters WHERE db = $1 AND missing_table = $2 AND status = 'open' "
            "AND missing_key = ANY($3::text[]) ORDER BY created_at, dead_letter_id", db, parent_table, list(keys))
        return [_dead_letter(r) for r in rows]

    async def replay(self, ts: TableSql, items: Sequence[tuple[DeadLetterRow, Incoming]],
                     loader: LoadStore) -> tuple[list[int], list[tuple[int, Failure]]]:
        """Load dead letters again in one transaction: loaded ones are resolved, the others keep
        their row with the attempt count raised and the new reason."""
        by_offset = {(inc.source.topic, inc.source.partition, inc.source.offset): dl for dl, inc in items}
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                run_id = max((dl.run_id or 0) for dl, _ in items)
                result = await loader._load(conn, ts, run_id, [inc for _, inc in items])
                failed: list[tuple[int, Failure]] = []
                headers: list[str] = []
                for inc, f in result.dead:
                    dl = by_offset[(inc.source.topic, inc.source.partition, inc.source.offset)]
                    failed.append((dl.dead_letter_id, f))
                    headers.append(_headers_json(inc, f, dl.attempts + 1))
                failed_ids = {i for i, _ in failed}
                loaded = [dl.dead_letter_id for dl, _ in items if dl.dead_letter_id not in failed_ids]
                await conn.executemany(
                    "UPDATE ingest.dead_letters SET attempts = attempts + 1, reason = $2, sqlstate = $3, "
                    "constraint_name = $4, missing_table = $5, missing_key = $6, message = $7, headers = $8::jsonb, "
                    "updated_at = now() WHERE dead_letter_id = $1",
                    [(i, f.reason, f.sqlstate, f.constraint, f.missing_table, f.missing_key, f.message, h)
                     for (i, f), h in zip(failed, headers, strict=True)])
                await conn.execute(
                    "UPDATE ingest.dead_letters SET status = 'resolved', resolved_at = now(), updated_at = now(), "
                    "attempts = attempts + 1 WHERE dead_letter_id = ANY($1::bigint[])", loaded)
        except asyncpg.PostgresError as e:
            raise InfrastructureError(f"replaying {ts.table.name}: {type(e).__name__}: {e}") from e
        return loaded, failed
