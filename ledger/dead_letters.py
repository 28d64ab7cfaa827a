"""The dead-letter index: `ingest.dead_letters`, so dead letters can be listed, counted, replayed
and resolved (the records themselves are on their `.dlq` topics too).

The index holds one open dead letter per source record (db, table, key), whatever the offsets of
its copies: a page re-published after a producer crash updates the same dead letter, a later
run's copy supersedes the earlier one (kept, status `superseded`).  Dead letters are indexed in
the transaction of the batch that made them (`index`), and settled in the replay's transaction
(`settle_replayed`): those that loaded are resolved, the others stay open with the attempt count
raised and the new reason.

The conditions on `status = 'open'` stay literal in the SQL: the partial indexes (and the
ON CONFLICT target) are defined on that literal (schemas/ingest.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ledger.pools import Connection, Pool, Record, guarded
from ledger.statuses import DeadLetterStatus
from streams.dead_letters import DeadLetter


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
    """Which dead letters: the one filter of the CLI, the loader's replays and the explorer."""

    db: str | None  # None: every database (the explorer)
    table: str | None = None
    reason: str | None = None
    run_id: int | None = None
    since: Any = None  # datetime: created at or after
    status: str | None = DeadLetterStatus.OPEN
    ids: tuple[int, ...] = ()
    limit: int | None = None
    table_any_case: bool = False  # the explorer: "make" finds Make (no index serves it; the id order does)


# ---- in the loader's transactions ----------------------------------------------------------------

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


async def index(conn: Connection, letters: Sequence[DeadLetter]) -> None:
    """Index dead letters (of one table): one open dead letter per source record; an earlier
    run's open copy of a key is superseded first."""
    if not letters:
        return
    first = letters[0]
    run_id = max(dl.run_id or 0 for dl in letters)
    await conn.execute(
        "UPDATE ingest.dead_letters SET status = 'superseded', updated_at = now() WHERE db = $1 AND "
        "table_name = $2 AND status = 'open' AND record_key = ANY($3::text[]) AND coalesce(run_id, 0) < $4",
        first.db, first.table, [dl.record_key for dl in letters], run_id)
    await conn.executemany(_INDEX_DEAD_LETTER, [
        (dl.db, dl.table, dl.run_id, dl.topic, dl.partition, dl.offset, dl.record_key, dl.record_json(),
         dl.headers_json(), dl.failure.reason, dl.failure.sqlstate, dl.failure.constraint,
         dl.failure.missing_table, dl.failure.missing_key, dl.failure.message, dl.attempt)
        for dl in letters])


async def settle_replayed(conn: Connection, loaded: Sequence[int], failed: Sequence[tuple[int, DeadLetter]]) -> None:
    """Replayed dead letters: those that loaded are resolved, the others stay open with the
    attempt count raised and the new reason."""
    await conn.executemany(
        "UPDATE ingest.dead_letters SET attempts = $2, reason = $3, sqlstate = $4, constraint_name = $5, "
        "missing_table = $6, missing_key = $7, message = $8, headers = $9::jsonb, updated_at = now() "
        "WHERE dead_letter_id = $1",
        [(i, dl.attempt, dl.failure.reason, dl.failure.sqlstate, dl.failure.constraint, dl.failure.missing_table,
          dl.failure.missing_key, dl.failure.message, dl.headers_json()) for i, dl in failed])
    await conn.execute(
        "UPDATE ingest.dead_letters SET status = 'resolved', resolved_at = now(), updated_at = now(), "
        "attempts = attempts + 1 WHERE dead_letter_id = ANY($1::bigint[])", list(loaded))


# ---- listing, counting, replaying and resolving --------------------------------------------------

def _where(f: DeadLetterFilter) -> tuple[str, list[Any]]:
    conds: list[str] = []
    args: list[Any] = []
    for col, val in (("db", f.db), ("table_name", f.table), ("reason", f.reason), ("run_id", f.run_id),
                     ("status", f.status)):
        if val is not None:
            args.append(val)
            conds.append(f"lower({col}) = lower(${len(args)})" if col == "table_name" and f.table_any_case
                         else f"{col} = ${len(args)}")
    if f.since is not None:
        args.append(f.since)
        conds.append(f"created_at >= ${len(args)}")
    if f.ids:
        args.append(list(f.ids))
        conds.append(f"dead_letter_id = ANY(${len(args)}::bigint[])")
    return " AND ".join(conds) or "true", args


def _dead_letter(r: Record) -> DeadLetterRow:
    d = dict(r)
    d["record"] = json.loads(d["record"]) if isinstance(d["record"], str) else d["record"]
    d["headers"] = json.loads(d["headers"]) if isinstance(d["headers"], str) else d["headers"]
    d.pop("resolved_at", None)
    return DeadLetterRow(**d)


@guarded("reading dead letters")
async def select(pool: Pool, f: DeadLetterFilter) -> list[DeadLetterRow]:
    where, args = _where(f)
    limit = f" LIMIT {int(f.limit)}" if f.limit else ""
    rows = await pool.fetch(
        f"SELECT * FROM ingest.dead_letters WHERE {where} ORDER BY created_at, dead_letter_id{limit}", *args)
    return [_dead_letter(r) for r in rows]


async def counts(pool: Pool, f: DeadLetterFilter) -> list[dict[str, Any]]:
    where, args = _where(f)
    rows = await pool.fetch(
        f"SELECT table_name, reason, status, count(*) AS n, max(attempts) AS max_attempts "
        f"FROM ingest.dead_letters WHERE {where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", *args)
    return [dict(r) for r in rows]


@guarded("reading dead letters")
async def any_open_for(pool: Pool, db: str, table: str) -> bool:
    """Open dead letters of this table, or waiting on it as their missing parent?"""
    return bool(await pool.fetchval(
        "SELECT EXISTS (SELECT 1 FROM ingest.dead_letters WHERE db = $1 AND status = 'open' AND "
        "(missing_table = $2 OR table_name = $2))", db, table))


@guarded("resolving superseded dead letters")
async def resolve_superseded(pool: Pool, db: str, table: str, keys: Sequence[str]) -> int:
    """Open dead letters of these keys whose key has since loaded from a newer record (the
    value was corrected at the source): resolved, nothing to replay."""
    status = await pool.execute(
        "UPDATE ingest.dead_letters SET status = 'resolved', resolved_at = now(), updated_at = now(), "
        "message = message || ' [superseded by a newer record that loaded]' WHERE db = $1 AND "
        "table_name = $2 AND status = 'open' AND record_key = ANY($3::text[])", db, table, list(keys))
    return int(status.split()[-1])


@guarded("reading dead letters")
async def waiting_on_table(pool: Pool, dbs: Sequence[str], missing_tables: Sequence[str]) -> list[DeadLetterRow]:
    """Open dead letters of these databases waiting on one of these (`db.Table`) tables."""
    if not dbs:
        return []
    rows = await pool.fetch(
        "SELECT * FROM ingest.dead_letters WHERE db = ANY($1::text[]) AND status = 'open' "
        "AND missing_table = ANY($2::text[]) ORDER BY created_at, dead_letter_id", list(dbs), list(missing_tables))
    return [_dead_letter(r) for r in rows]


@guarded("reading dead letters")
async def waiting_on(pool: Pool, db: str, parent_table: str, keys: Sequence[str]) -> list[DeadLetterRow]:
    """Open dead letters of db waiting on one of these keys of `parent_table`."""
    rows = await pool.fetch(
        "SELECT * FROM ingest.dead_letters WHERE db = $1 AND missing_table = $2 AND status = 'open' "
        "AND missing_key = ANY($3::text[]) ORDER BY created_at, dead_letter_id", db, parent_table, list(keys))
    return [_dead_letter(r) for r in rows]


async def waiting_counts(pool: Pool, db: str) -> list[dict[str, Any]]:
    """Open dead letters of db that wait on a parent, counted by table, reason and missing table."""
    rows = await pool.fetch(
        "SELECT table_name, reason, missing_table, count(*) AS n FROM ingest.dead_letters "
        "WHERE db = $1 AND status = 'open' AND missing_table IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3",
        db)
    return [dict(r) for r in rows]


async def count(conn: Connection, db: str) -> int:
    """Every dead letter of db, whatever its status."""
    n: int = await conn.fetchval("SELECT count(*) FROM ingest.dead_letters WHERE db = $1", db)
    return n


# ---- the explorer's pages ------------------------------------------------------------------------

BIGINT_MAX = 2**63 - 1
SUMMARY_COLUMNS = "dead_letter_id, db, table_name, run_id, record_key, reason, message, attempts, status, created_at"


@dataclass(frozen=True)
class Facets:
    """What the explorer's filter lists offer: the values present in the index."""

    dbs: list[str]
    tables: list[str]
    reasons: list[str]


@dataclass(frozen=True)
class Window:
    """One page of dead letters in id order, where it sits among all that match, and the facets."""

    rows: list[Record]
    total: int  # all that match the filter
    before: int  # how many that match come before this page
    facets: Facets


async def window(pool: Pool, f: DeadLetterFilter, *, after: int | None = None, before: int | None = None,
                 last: bool = False) -> Window:
    """A keyset page of `f.limit` dead letters by id: the first, those after `after`, those before
    `before`, or the last.  Two statements in one snapshot (REPEATABLE READ), so the position and
    the total agree with the rows: the page (down the primary key), then one scan that counts per
    database, table and reason (the total, the position, and the filter's lists at once)."""
    where, args = _where(f)
    limit = int(f.limit or 50)
    n = len(args)
    if after is not None:
        sql, extra, newest_first = f"{where} AND dead_letter_id > ${n + 1}", [after], False
    elif before is not None:
        sql, extra, newest_first = f"{where} AND dead_letter_id < ${n + 1}", [before], True
    else:
        sql, extra, newest_first = where, [], last
    order = "DESC" if newest_first else ""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        rows = await conn.fetch(f"SELECT {SUMMARY_COLUMNS} FROM ingest.dead_letters WHERE {sql} "
                                f"ORDER BY dead_letter_id {order} LIMIT {limit}", *args, *extra)
        rows = sorted(rows, key=lambda r: r["dead_letter_id"])
        first = rows[0]["dead_letter_id"] if rows else (min(after + 1, BIGINT_MAX) if after is not None else 0)
        groups = await conn.fetch(
            f"SELECT db, table_name, reason, count(*) FILTER (WHERE {where}) AS n, "
            f"count(*) FILTER (WHERE {where} AND dead_letter_id < ${n + 1}) AS ahead "
            f"FROM ingest.dead_letters GROUP BY 1, 2, 3", *args, first)
    facets = Facets(sorted({g["db"] for g in groups}), sorted({g["table_name"] for g in groups}, key=str.lower),
                    sorted({g["reason"] for g in groups}))
    return Window(list(rows), sum(g["n"] for g in groups), sum(g["ahead"] for g in groups), facets)


async def detail(pool: Pool, dead_letter_id: int) -> Record | None:
    """Every column of one dead letter (the record and headers as stored)."""
    row: Record | None = await pool.fetchrow("SELECT * FROM ingest.dead_letters WHERE dead_letter_id = $1",
                                             dead_letter_id)
    return row


async def summaries(pool: Pool, ids: Sequence[int]) -> list[Record]:
    """These dead letters (SUMMARY_COLUMNS plus what they wait on), by id."""
    rows: list[Record] = await pool.fetch(
        f"SELECT {SUMMARY_COLUMNS}, missing_table, missing_key FROM ingest.dead_letters "
        f"WHERE dead_letter_id = ANY($1::bigint[]) ORDER BY dead_letter_id", list(ids))
    return rows


async def replay_candidates(pool: Pool, f: DeadLetterFilter) -> list[Record]:
    """Open dead letters that match `f` (and are among `f.ids`, if any), by id, at most `f.limit`:
    what a replay asked for from the explorer would select."""
    where, args = _where(replace(f, status=DeadLetterStatus.OPEN))
    limit = f" LIMIT {int(f.limit)}" if f.limit else ""
    rows: list[Record] = await pool.fetch(
        f"SELECT dead_letter_id, db, table_name, record_key, reason, attempts, missing_table, missing_key "
        f"FROM ingest.dead_letters WHERE {where} ORDER BY dead_letter_id{limit}", *args)
    return rows
