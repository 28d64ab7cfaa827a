"""The load state of every (run, table), and what a batch's transaction writes besides its rows:
`ingest.table_load`, `ingest.page_receipts`, `ingest.applied_batches`, `ingest.consumer_offsets`.

The loader's unit of work (consumers/store.py, `LoadStore.batch`) opens a batch's transaction
and calls, on its connection: `fence` first (refuse to go on unless the partition's stored offset
is where the worker left it), then, after the rows, `receive` (page receipts), `count` (the load
counters), `log_batch` (the applied-batch log) and `advance` (the consumed offset).  Rows and
offsets commit together, so a batch is applied exactly once, whatever the broker's own commits say.

A table seals (`end_of_table`) when every partition's end-of-table record came and the page
receipts account for every record the producer announced; otherwise it stops on a mismatch.  The
seal gate (consumers/gate.py) reads the seals (`run_tables`, `sealed_tables`, `pending_runs`) and
the worker's idle check reads `open_run_state`.  Those reads fail as InfrastructureError, which
the worker retries.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.errors import Fenced
from ledger.pools import Connection, Pool, guarded
from ledger.statuses import LoadStatus

TP = tuple[str, int]


@dataclass(frozen=True)
class TablePhase:
    status: LoadStatus
    error: str | None


# ---- the offsets ---------------------------------------------------------------------------------

_OFFSETS = "SELECT topic, partition, next_offset FROM ingest.consumer_offsets WHERE group_id = $1"


async def stored_offsets(pool: Pool, group_id: str) -> dict[TP, int]:
    """Every partition's stored offset of the group (`vcdb status`)."""
    return {(r["topic"], r["partition"]): r["next_offset"] for r in await pool.fetch(_OFFSETS, group_id)}


@guarded("reading the stored offsets")
async def offsets(pool: Pool, group_id: str, tps: Sequence[TP]) -> dict[TP, int]:
    """Where the worker starts reading each partition on assignment (0: from the beginning)."""
    stored = await stored_offsets(pool, group_id)
    return {tp: stored.get(tp, 0) for tp in tps}


async def fence(conn: Connection, group_id: str, topic: str, partition: int, first: int, expect: int) -> None:
    """Lock this partition's offset row and refuse to go on unless it holds `expect`, the
    offset the worker last committed (or read at assignment): so no batch is applied twice,
    and none is skipped after a commit lost in a crash."""
    stored = await conn.fetchval(
        "SELECT next_offset FROM ingest.consumer_offsets WHERE group_id = $1 AND topic = $2 AND "
        "partition = $3 FOR UPDATE", group_id, topic, partition)
    if (stored or 0) != expect:
        raise Fenced(topic, partition, first, expect, stored or 0)


async def advance(conn: Connection, group_id: str, topic: str, partition: int, next_offset: int) -> None:
    await conn.execute(
        "INSERT INTO ingest.consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, "
        "updated_at = now()", group_id, topic, partition, next_offset)


@guarded("rewinding the stored offsets")
async def rewind(pool: Pool, group_id: str, positions: Mapping[TP, int]) -> None:
    """`vcdb consume --resync`: the partitions' stored offsets set to these (their log starts).
    The applied-batch log of those offsets goes with them: it describes the log as it was (a
    rebuilt broker numbers its records from 0 again), and the batches read again are logged anew."""
    async with pool.acquire() as conn, conn.transaction():
        for (topic, partition), offset in sorted(positions.items()):
            await conn.execute("DELETE FROM ingest.applied_batches WHERE topic = $1 AND partition = $2 AND "
                               "last_offset >= $3", topic, partition, offset)
            await advance(conn, group_id, topic, partition, offset)


# ---- a batch's bookkeeping -----------------------------------------------------------------------

async def receive(conn: Connection, run_id: int, table: str, partition: int,
                  positions: Sequence[tuple[int, int]]) -> None:
    """Count each page's records per partition, from the batch's (page, index in the page) in
    offset order; a page re-published after a producer crash restarts its count (its index goes
    back), so a page is counted once."""
    pages = sorted({page for page, _ in positions})
    rows = await conn.fetch(
        "SELECT page, last_index, records FROM ingest.page_receipts WHERE run_id = $1 AND table_name = $2 "
        "AND partition = $3 AND page = ANY($4::int[])", run_id, table, partition, pages)
    state = {r["page"]: (r["last_index"], r["records"]) for r in rows}
    for page, position in positions:
        last, count = state.get(page, (-1, 0))
        state[page] = (position, count + 1 if position > last else 1)
    await conn.executemany(
        "INSERT INTO ingest.page_receipts (run_id, table_name, page, partition, last_index, records) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id, table_name, page, partition) DO UPDATE SET "
        "last_index = EXCLUDED.last_index, records = EXCLUDED.records",
        [(run_id, table, p, partition, li, n) for p, (li, n) in state.items()])


async def count(conn: Connection, run_id: int, table: str, partitions: int, loaded: int, dead_lettered: int) -> None:
    """Add a batch's rows loaded and records dead-lettered to the table's load counters."""
    await conn.execute(
        "INSERT INTO ingest.table_load (run_id, table_name, partitions, status, loaded, dead_lettered) "
        "VALUES ($1, $2, $3, 'loading', $4, $5) ON CONFLICT (run_id, table_name) DO UPDATE SET "
        "loaded = ingest.table_load.loaded + EXCLUDED.loaded, "
        "dead_lettered = ingest.table_load.dead_lettered + EXCLUDED.dead_lettered",
        run_id, table, partitions, loaded, dead_lettered)


async def log_batch(conn: Connection, topic: str, partition: int, first_offset: int, last_offset: int,
                    records: int) -> None:
    """Every applied batch, in the transaction that applied it: overlaps would mean a double apply."""
    await conn.execute(
        "INSERT INTO ingest.applied_batches (topic, partition, first_offset, last_offset, records) "
        "VALUES ($1, $2, $3, $4, $5)", topic, partition, first_offset, last_offset, records)


# ---- end of table and seals ----------------------------------------------------------------------

async def end_of_table(conn: Connection, run_id: int, table: str, partition: int, partitions: int,
                       announced: int) -> TablePhase:
    """Record one partition's end-of-table; seal the table when every partition has ended and
    the page receipts account for every announced record."""
    await conn.execute(
        "INSERT INTO ingest.table_load (run_id, table_name, partitions, status) VALUES ($1, $2, $3, "
        "'loading') ON CONFLICT (run_id, table_name) DO NOTHING", run_id, table, partitions)
    row = await conn.fetchrow(
        "SELECT eot_partitions, status, error FROM ingest.table_load WHERE run_id = $1 AND table_name = $2 "
        "FOR UPDATE", run_id, table)
    seen = sorted(set(json.loads(row["eot_partitions"])) | {partition})
    status, error = row["status"], row["error"]
    if status == LoadStatus.LOADING and len(seen) >= partitions:
        received = await conn.fetchval(
            "SELECT coalesce(sum(records), 0) FROM ingest.page_receipts WHERE run_id = $1 AND "
            "table_name = $2", run_id, table)
        if received == announced:
            status = LoadStatus.SEALED
        else:
            status = LoadStatus.MISMATCH
            error = (f"{table} run {run_id}: the producer announced {announced} records, the consumer "
                     f"received {received}; not sealed")
    await conn.execute(
        "UPDATE ingest.table_load SET eot_partitions = $3::jsonb, partitions = $4, announced = $5, "
        "status = $6, error = $7, sealed_at = CASE WHEN $6 = 'sealed' THEN now() END "
        "WHERE run_id = $1 AND table_name = $2",
        run_id, table, json.dumps(seen), partitions, announced, str(status), error)
    return TablePhase(LoadStatus(status), error)


async def start_if_sealed(conn: Connection, run_id: int, tables: Sequence[str]) -> dt.datetime | None:
    """The run's start, if every one of `tables` is sealed for it; else None."""
    started: dt.datetime | None = await conn.fetchval(
        "SELECT r.started_at FROM ingest.runs r WHERE r.run_id = $1 AND (SELECT count(*) FROM ingest.table_load "
        "WHERE run_id = $1 AND table_name = ANY($2::text[]) AND status = 'sealed') = cardinality($2::text[])",
        run_id, list(tables))
    return started


# ---- what the seal gate and the idle check read --------------------------------------------------

@guarded("reading a run's tables")
async def run_tables(pool: Pool, run_id: int) -> tuple[str, ...] | None:
    raw = await pool.fetchval("SELECT tables FROM ingest.runs WHERE run_id = $1", run_id)
    if raw is None:
        return None
    return tuple(json.loads(raw) if isinstance(raw, str) else raw)


@guarded("reading a run's seals")
async def sealed_tables(pool: Pool, run_id: int) -> set[str]:
    rows = await pool.fetch("SELECT table_name FROM ingest.table_load WHERE run_id = $1 AND status = $2",
                            run_id, LoadStatus.SEALED.value)
    return {r["table_name"] for r in rows}


@guarded("reading the pending runs")
async def pending_runs(pool: Pool, db: str, tables: Sequence[str]) -> dict[str, int]:
    """Per table, the oldest run whose records of it are not all loaded (neither sealed nor
    stopped on a mismatch): a running run that pulls the table (its records may come any
    moment), or a finished one that published records of it.  The run its next records
    belong to."""
    rows = await pool.fetch(
        "SELECT t.table_name, min(r.run_id) AS run_id FROM ingest.runs r "
        "CROSS JOIN LATERAL jsonb_array_elements_text(r.tables) AS t(table_name) "
        "LEFT JOIN ingest.endpoint_progress e ON e.run_id = r.run_id AND e.table_name = t.table_name "
        "LEFT JOIN ingest.table_load l ON l.run_id = r.run_id AND l.table_name = t.table_name "
        "WHERE r.db = $2 AND t.table_name = ANY($1::text[]) "
        "AND (r.status = 'running' OR e.pages_published > 0 OR e.status = 'done') "
        "AND coalesce(l.status, 'loading') NOT IN ('sealed', 'mismatch') GROUP BY t.table_name",
        list(tables), db)
    return {r["table_name"]: r["run_id"] for r in rows}


@guarded("reading the runs' state")
async def open_run_state(pool: Pool, db: str) -> list[dict[str, Any]]:
    """Per finished-or-running run of db: which endpoints completed and which tables sealed."""
    rows = await pool.fetch(
        "SELECT r.run_id, r.status AS run_status, e.table_name, e.status AS endpoint_status, "
        "coalesce(l.status, 'waiting') AS load_status, l.error "
        "FROM ingest.runs r JOIN ingest.endpoint_progress e USING (run_id) "
        "LEFT JOIN ingest.table_load l ON l.run_id = e.run_id AND l.table_name = e.table_name "
        "WHERE r.db = $1 AND r.kind IN ('baseline', 'incremental', 'import', 'file')", db)
    return [dict(r) for r in rows]


async def applied_since(conn: Connection, since: dt.datetime) -> tuple[int, int, dt.datetime | None,
                                                                         dt.datetime | None]:
    """Batches applied since `since` (every table): how many, their records, and when the first
    and the last began (each is stamped when its transaction began)."""
    row = await conn.fetchrow("SELECT min(applied_at) AS first, max(applied_at) AS last, count(*) AS n, "
                              "coalesce(sum(records), 0) AS rows FROM ingest.applied_batches "
                              "WHERE applied_at >= $1", since)
    return row["n"], int(row["rows"]), row["first"], row["last"]
