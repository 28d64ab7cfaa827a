"""Run state in the `ingest` schema and the producer lock: the one asyncpg module of producers/.

A run is one pull from the API.  The lock is a PostgreSQL session advisory lock held on a
dedicated connection for the whole run: a second producer on the same database is refused at
once, and a killed holder frees it with its connection (the next run can `--resume`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import asyncpg

from producers.paging import PageCursor
from schemas.statuses import Publication, RunKind


class LockHeld(RuntimeError):
    """Another producer run holds the lock for this database."""


class RunStateError(RuntimeError):
    """Run state is missing or inconsistent (e.g. --resume with nothing to resume)."""


class StateUnavailable(RuntimeError):
    """PostgreSQL cannot be reached, or dropped the connection: no endpoint of the run can
    checkpoint, so the run stops (the service's `dooms_run`)."""


# What says "PostgreSQL is not there" rather than "this statement is wrong".
_UNAVAILABLE = (OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
                asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError, asyncpg.InvalidCatalogNameError,
                asyncpg.InvalidAuthorizationSpecificationError)

P = ParamSpec("P")
R = TypeVar("R")


def _guarded(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    @functools.wraps(fn)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except _UNAVAILABLE as e:
            raise StateUnavailable(f"PostgreSQL: {type(e).__name__}: {e}") from e
    return call


async def _connect(url: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(url)
    except _UNAVAILABLE as e:
        raise StateUnavailable(f"cannot connect to PostgreSQL: {e}") from e


def lock_key(db: str) -> int:
    digest = hashlib.blake2b(f"vcdb-stream:producer:{db}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


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

    @property
    def cursor(self) -> PageCursor:
        """Where the endpoint resumes: the page after the last one checkpointed."""
        return PageCursor(self.next_link, self.next_page)


class ProducerLock:
    """Holds the advisory lock on its own connection until released or the process dies."""

    def __init__(self, url: str, db: str) -> None:
        self._url = url
        self._db = db
        self._conn: asyncpg.Connection | None = None

    async def acquire(self) -> None:
        conn = await _connect(self._url)
        got = await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(self._db))
        if not got:
            holder = await conn.fetchrow(
                "SELECT run_id, kind, started_at FROM ingest.runs WHERE db = $1 AND status = 'running' "
                "ORDER BY run_id DESC LIMIT 1", self._db)
            await conn.close()
            what = f" (run {holder['run_id']}, {holder['kind']}, started {holder['started_at']:%Y-%m-%d %H:%M})" \
                if holder else ""
            raise LockHeld(f"another producer run holds the {self._db} lock{what}; wait for it to finish, "
                           f"or stop it and use --resume")
        self._conn = conn

    async def release(self) -> None:
        if self._conn is not None:
            await self._conn.close()  # closing the session releases the advisory lock
            self._conn = None


def _run(row: asyncpg.Record) -> Run:
    tables = row["tables"]
    return Run(row["run_id"], row["db"], row["kind"], row["as_of"], row["since"],
               tuple(json.loads(tables) if isinstance(tables, str) else tables), row["status"], row["started_at"],
               row["publication"])


class RunStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, url: str) -> RunStore:
        try:
            return cls(await asyncpg.create_pool(url, min_size=1, max_size=8))
        except _UNAVAILABLE as e:
            raise StateUnavailable(f"cannot connect to PostgreSQL: {e}") from e

    async def close(self) -> None:
        await self._pool.close()

    @_guarded
    async def create_run(self, db: str, kind: str, as_of: dt.date | None, since: dt.date | None,
                         tables: list[str], *, in_place: bool = False) -> Run:
        """Record a new run.  Its records are staged and published whole when it is complete,
        except a baseline (or raw import) into a database with no published release, which has
        nothing to protect and loads in place (as does any run asked `in_place`)."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO ingest.runs (db, kind, as_of, since, status, tables, publication) "
                "VALUES ($1, $2, $3, $4, 'running', $5::jsonb, CASE WHEN $6 OR ($2 = ANY($7::text[]) AND NOT EXISTS "
                "(SELECT 1 FROM ingest.releases WHERE db = $1 AND status = 'published')) THEN 'in_place' "
                "ELSE 'staged' END) RETURNING *",
                db, kind, as_of, since, json.dumps(tables), in_place, [RunKind.BASELINE.value, RunKind.IMPORT.value])
            await conn.executemany(
                "INSERT INTO ingest.endpoint_progress (run_id, table_name, status) VALUES ($1, $2, 'pending')",
                [(row["run_id"], t) for t in tables])
        return _run(row)

    @_guarded
    async def resumable_run(self, db: str, kind: str) -> Run:
        """The newest unfinished run of this kind (the lock is ours, so nobody else runs it)."""
        row = await self._pool.fetchrow(
            "SELECT * FROM ingest.runs WHERE db = $1 AND kind = $2 ORDER BY run_id DESC LIMIT 1", db, kind)
        if row is None or row["status"] == "succeeded":
            raise RunStateError(f"no unfinished {kind} run of {db} to resume"
                                + (f" (run {row['run_id']} succeeded)" if row else ""))
        await self._pool.execute("UPDATE ingest.runs SET status = 'running', error = NULL, finished_at = NULL "
                                 "WHERE run_id = $1", row["run_id"])
        return _run(row)

    @_guarded
    async def run(self, run_id: int) -> Run | None:
        row = await self._pool.fetchrow("SELECT * FROM ingest.runs WHERE run_id = $1", run_id)
        return _run(row) if row else None

    @_guarded
    async def last_successful(self, db: str) -> Run | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM ingest.runs WHERE db = $1 AND status = 'succeeded' AND kind IN ('baseline', 'incremental') "
            "ORDER BY started_at DESC LIMIT 1", db)
        return _run(row) if row else None

    @_guarded
    async def endpoints(self, run_id: int) -> dict[str, EndpointState]:
        rows = await self._pool.fetch("SELECT * FROM ingest.endpoint_progress WHERE run_id = $1", run_id)
        return {r["table_name"]: EndpointState(r["table_name"], r["status"], r["next_link"], r["next_page"],
                                               r["pages_published"], r["records_published"], r["total_count"])
                for r in rows}

    @_guarded
    async def start_endpoint(self, run_id: int, table: str) -> None:
        await self._pool.execute(
            "UPDATE ingest.endpoint_progress SET status = CASE WHEN status = 'paged' THEN status ELSE 'running' END, "
            "last_error = NULL, updated_at = now() WHERE run_id = $1 AND table_name = $2", run_id, table)

    @_guarded
    async def checkpoint(self, run_id: int, table: str, *, cursor: PageCursor, records: int,
                         total_count: int | None, total_pages: int | None, retries: int, last: bool) -> None:
        """Called only after the broker acknowledged every record of the page.  After the last
        page the endpoint is `paged` in the same statement: a resume then sends only its
        end-of-table records, and never asks the API for a page past the end."""
        await self._pool.execute(
            "UPDATE ingest.endpoint_progress SET next_link = $3, next_page = $4, pages_published = pages_published + 1,"
            " records_published = records_published + $5, total_count = $6, total_pages = $7, retries = $8, "
            "status = CASE WHEN $9 THEN 'paged' ELSE status END, updated_at = now() "
            "WHERE run_id = $1 AND table_name = $2",
            run_id, table, cursor.url, cursor.page_number, records, total_count, total_pages, retries, last)

    @_guarded
    async def finish_endpoint(self, run_id: int, table: str, status: str, error: str | None = None) -> None:
        await self._pool.execute(
            "UPDATE ingest.endpoint_progress SET status = $3, last_error = $4, updated_at = now() "
            "WHERE run_id = $1 AND table_name = $2", run_id, table, status, error)

    @_guarded
    async def finish_run(self, run_id: int, status: str, error: str | None = None) -> None:
        await self._pool.execute(
            "UPDATE ingest.runs SET status = $2, error = $3, finished_at = now() WHERE run_id = $1",
            run_id, status, error)
