"""Runs and their endpoints' progress: `ingest.runs` and `ingest.endpoint_progress`.

A run is one pull from the API (or one ACES/PIES file, or one re-published export): database,
kind, `as_of` or `since`, the tables it pulls, status, timestamps.  Its endpoints' progress is the
producer's checkpoint: the next page link (an API run) or the entities of the file before the next
page and the file's name (a file run), the next page's number, pages and records published, the
API's totalCount.  The producers' statements raise StateUnavailable when PostgreSQL is not there
(ledger/pools.py, `state_guarded`); the reads of the CLI and the explorer raise asyncpg's errors as
they are, as they always did.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger.errors import RunStateError
from ledger.pools import Connection, Pool, Record, state_guarded
from ledger.statuses import Publication, RunKind, RunStatus


@dataclass(frozen=True)
class Run:
    run_id: int
    db: str
    kind: str
    as_of: dt.date | None
    since: dt.date | None
    tables: tuple[str, ...]
    status: str
    started_at: dt.datetime
    publication: str = Publication.STAGED


@dataclass(frozen=True)
class EndpointState:
    table: str
    status: str
    next_link: str | None
    next_page: int
    pages_published: int
    records_published: int
    total_count: int | None
    entities_before: int | None = None  # a file run's checkpoint: entities of the file before the next page
    file_name: str | None = None  # and the file read


def _tables(raw: Any) -> tuple[str, ...]:
    return tuple(json.loads(raw) if isinstance(raw, str) else raw)


def _run(row: Record) -> Run:
    return Run(row["run_id"], row["db"], row["kind"], row["as_of"], row["since"], _tables(row["tables"]),
               row["status"], row["started_at"], row["publication"])


# ---- the producers' statements ------------------------------------------------------------------

@state_guarded
async def create_run(pool: Pool, db: str, kind: str, as_of: dt.date | None, since: dt.date | None,
                     tables: Sequence[str], *, in_place: bool = False) -> Run:
    """A new run and its endpoints, in one transaction (a worker sees both or neither).  Its
    records are staged and published whole when it is complete, except a baseline (or raw import)
    into a database with no published release, which has nothing to protect and loads in place
    (as does any run asked `in_place`)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "INSERT INTO ingest.runs (db, kind, as_of, since, status, tables, publication) "
            "VALUES ($1, $2, $3, $4, 'running', $5::jsonb, CASE WHEN $6 OR ($2 = ANY($7::text[]) AND NOT EXISTS "
            "(SELECT 1 FROM ingest.releases WHERE db = $1 AND status = 'published')) THEN 'in_place' "
            "ELSE 'staged' END) RETURNING *",
            db, kind, as_of, since, json.dumps(list(tables)), in_place,
            [RunKind.BASELINE.value, RunKind.IMPORT.value])
        await conn.executemany(
            "INSERT INTO ingest.endpoint_progress (run_id, table_name, status) VALUES ($1, $2, 'pending')",
            [(row["run_id"], t) for t in tables])
    return _run(row)


@state_guarded
async def resumable_run(pool: Pool, db: str, kind: str) -> Run:
    """The newest unfinished run of this kind, running again (the caller holds the producer lock,
    so nobody else runs it)."""
    row = await pool.fetchrow(
        "SELECT * FROM ingest.runs WHERE db = $1 AND kind = $2 ORDER BY run_id DESC LIMIT 1", db, kind)
    if row is None or row["status"] == RunStatus.SUCCEEDED:
        raise RunStateError(f"no unfinished {kind} run of {db} to resume"
                            + (f" (run {row['run_id']} succeeded)" if row else ""))
    await pool.execute("UPDATE ingest.runs SET status = 'running', error = NULL, finished_at = NULL "
                       "WHERE run_id = $1", row["run_id"])
    return _run(row)


@state_guarded
async def run(pool: Pool, run_id: int) -> Run | None:
    row = await pool.fetchrow("SELECT * FROM ingest.runs WHERE run_id = $1", run_id)
    return _run(row) if row else None


@state_guarded
async def last_successful(pool: Pool, db: str) -> Run | None:
    """The newest succeeded baseline or incremental run (what `--since auto` counts from)."""
    row = await pool.fetchrow(
        "SELECT * FROM ingest.runs WHERE db = $1 AND status = 'succeeded' AND kind IN ('baseline', 'incremental') "
        "ORDER BY started_at DESC LIMIT 1", db)
    return _run(row) if row else None


@state_guarded
async def endpoints(pool: Pool, run_id: int) -> dict[str, EndpointState]:
    rows = await pool.fetch("SELECT * FROM ingest.endpoint_progress WHERE run_id = $1", run_id)
    return {r["table_name"]: EndpointState(r["table_name"], r["status"], r["next_link"], r["next_page"],
                                           r["pages_published"], r["records_published"], r["total_count"],
                                           r["entities_before"], r["file_name"])
            for r in rows}


@state_guarded
async def start_endpoint(pool: Pool, run_id: int, table: str) -> None:
    await pool.execute(
        "UPDATE ingest.endpoint_progress SET status = CASE WHEN status = 'paged' THEN status ELSE 'running' END, "
        "last_error = NULL, updated_at = now() WHERE run_id = $1 AND table_name = $2", run_id, table)


@state_guarded
async def checkpoint(pool: Pool, run_id: int, table: str, *, next_link: str | None, next_page: int, records: int,
                     total_count: int | None, total_pages: int | None, retries: int, last: bool,
                     entities_before: int | None = None, file_name: str | None = None) -> None:
    """Called only after the broker acknowledged every record of the page.  After the last
    page the endpoint is `paged` in the same statement: a resume then sends only its
    end-of-table records, and never asks the API for a page past the end.  An API run's
    checkpoint is `next_link`; a file run's `entities_before` and `file_name` (the other NULL)."""
    await pool.execute(
        "UPDATE ingest.endpoint_progress SET next_link = $3, next_page = $4, pages_published = pages_published + 1,"
        " records_published = records_published + $5, total_count = $6, total_pages = $7, retries = $8, "
        "status = CASE WHEN $9 THEN 'paged' ELSE status END, entities_before = $10, file_name = $11, "
        "updated_at = now() WHERE run_id = $1 AND table_name = $2",
        run_id, table, next_link, next_page, records, total_count, total_pages, retries, last, entities_before,
        file_name)


@state_guarded
async def finish_endpoint(pool: Pool, run_id: int, table: str, status: str, error: str | None = None) -> None:
    await pool.execute(
        "UPDATE ingest.endpoint_progress SET status = $3, last_error = $4, updated_at = now() "
        "WHERE run_id = $1 AND table_name = $2", run_id, table, status, error)


@state_guarded
async def finish_run(pool: Pool, run_id: int, status: str, error: str | None = None) -> None:
    await pool.execute(
        "UPDATE ingest.runs SET status = $2, error = $3, finished_at = now() WHERE run_id = $1",
        run_id, status, error)


async def running(conn: Connection, db: str) -> Record | None:
    """The newest running run of db: who holds the producer lock (ledger/locks.py)."""
    row: Record | None = await conn.fetchrow(
        "SELECT run_id, kind, started_at FROM ingest.runs WHERE db = $1 AND status = 'running' "
        "ORDER BY run_id DESC LIMIT 1", db)
    return row


# ---- the reads of the CLI, the explorer and the bench --------------------------------------------

RUN_COLUMNS = "run_id, db, kind, status, as_of, since, started_at, finished_at, error"


async def recent(pool: Pool, db: str, limit: int) -> list[dict[str, Any]]:
    """The newest runs of db, newest first (`vcdb status`)."""
    rows = await pool.fetch(
        "SELECT run_id, kind, status, as_of, since, started_at, finished_at, error FROM ingest.runs WHERE db = $1 "
        "ORDER BY run_id DESC LIMIT $2", db, limit)
    return [dict(r) for r in rows]


async def progress(pool: Pool, run_id: int) -> list[dict[str, Any]]:
    """The run's endpoints, by table (`vcdb status`)."""
    rows = await pool.fetch(
        "SELECT table_name, status, pages_published, total_pages, records_published, total_count, retries, "
        "last_error FROM ingest.endpoint_progress WHERE run_id = $1 ORDER BY table_name", run_id)
    return [dict(r) for r in rows]


async def records_published(pool: Pool, run_id: int) -> dict[str, int]:
    """Per table of the run: the records its producer published so far."""
    return {r["table_name"]: r["records_published"] for r in await pool.fetch(
        "SELECT table_name, records_published FROM ingest.endpoint_progress WHERE run_id = $1", run_id)}


async def last_succeeded(pool: Pool, db: str) -> Record | None:
    """The newest succeeded run of db, of any kind: its run_id and kind (`vcdb verify`)."""
    row: Record | None = await pool.fetchrow(
        "SELECT run_id, kind FROM ingest.runs WHERE db = $1 AND status = 'succeeded' ORDER BY run_id DESC LIMIT 1", db)
    return row


async def page(pool: Pool, db: str | None, status: str | None, before: int | None, limit: int) -> list[Record]:
    """Runs (RUN_COLUMNS), newest first, keyset-paged by run_id: those before `before`, at most `limit`."""
    rows: list[Record] = await pool.fetch(
        f"SELECT {RUN_COLUMNS} FROM ingest.runs WHERE ($1::text IS NULL OR db = $1) AND "
        "($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR run_id < $3) ORDER BY run_id DESC LIMIT $4",
        db, status, before, limit)
    return rows


async def row(pool: Pool, run_id: int) -> Record | None:
    """One run (RUN_COLUMNS)."""
    found: Record | None = await pool.fetchrow(f"SELECT {RUN_COLUMNS} FROM ingest.runs WHERE run_id = $1", run_id)
    return found


async def count(conn: Connection) -> int:
    """How many runs there are (the bench waits for the producer's first)."""
    n: int = await conn.fetchval("SELECT count(*) FROM ingest.runs")
    return n
