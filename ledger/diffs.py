"""The net change between the states two runs left (`vcdb diff`), read from the change outbox
(`ingest.changes`, written by ledger/changes.py) of the published releases of one database.

The state after run FROM becomes the state after run TO by the changes of the published releases
whose run is in (FROM, TO], in the order they were written (`change_id`); a run that is not a
published release (staged, refused, discarded) changed nothing readers see, and contributes
nothing.  Per row key, the first of those changes says whether the row was in force after FROM
(op `u` or `d`: it was, and `before` is it; op `c`: it was not) and the last one's `after` is
the row after TO (none: not in force).  Op `r`, a row a run loaded in place, has no before-image:
when it is the key's first change in the range the row counts as not in force before, so as
added (a first baseline adds everything it loaded).  A row ended and in force again within the
range, or changed and changed back, nets to nothing.

Rows carry canonical column names; a row key is the JSON array of the key's values, as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.pools import SESSION_ERRORS, Pool, infrastructure

KINDS = ("added", "removed", "changed")

# $1 db, $2 AutoCare table names, $3 the FROM run, $4 the TO run.
_NET = """
WITH c AS (
    SELECT c.change_id, c.table_name, c.row_key, c.op, c.before::jsonb AS before, c.after::jsonb AS after
    FROM ingest.changes c JOIN ingest.releases r ON r.run_id = c.run_id AND r.db = c.db AND r.status = 'published'
    WHERE c.db = $1 AND c.table_name = ANY($2::text[]) AND c.run_id > $3 AND c.run_id <= $4),
net AS (
    SELECT table_name, row_key, (array_agg(op ORDER BY change_id))[1] IN ('u', 'd') AS was,
           (array_agg(before ORDER BY change_id))[1] AS before,
           (array_agg(after ORDER BY change_id DESC))[1] AS after
    FROM c GROUP BY table_name, row_key),
kinds AS (
    SELECT table_name, row_key, before, after,
           CASE WHEN NOT was AND after IS NOT NULL THEN 'added'
                WHEN was AND after IS NULL THEN 'removed'
                WHEN was AND before IS DISTINCT FROM after THEN 'changed' END AS kind
    FROM net)
"""


@dataclass(frozen=True)
class NetRow:
    """One row key's net change: the row after FROM (`before`) and after TO (`after`), JSON text."""

    key: str
    before: str | None
    after: str | None


async def releases_between(pool: Pool, db: str, from_run: int, to_run: int) -> list[tuple[int, int]]:
    """The (release, run) pairs of db's published releases whose run is in (from_run, to_run]."""
    try:
        return [(r["release_id"], r["run_id"]) for r in await pool.fetch(
            "SELECT release_id, run_id FROM ingest.releases WHERE db = $1 AND status = 'published' "
            "AND run_id > $2 AND run_id <= $3 ORDER BY release_id", db, from_run, to_run)]
    except SESSION_ERRORS as e:
        raise infrastructure("reading the releases to diff", e) from e


async def net_counts(pool: Pool, db: str, tables: Sequence[str], from_run: int,
                     to_run: int) -> dict[str, dict[str, int]]:
    """Per AutoCare table with a net change: rows added, removed (no longer in force) and changed."""
    try:
        rows = await pool.fetch(
            _NET + "SELECT table_name, kind, count(*) AS n FROM kinds WHERE kind IS NOT NULL GROUP BY 1, 2",
            db, list(tables), from_run, to_run)
    except SESSION_ERRORS as e:
        raise infrastructure("reading the change outbox to diff", e) from e
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["table_name"], dict.fromkeys(KINDS, 0))[r["kind"]] = r["n"]
    return out


async def net_rows(pool: Pool, db: str, table: str, from_run: int, to_run: int, kind: str,
                   limit: int) -> list[NetRow]:
    """The first `limit` rows of one kind (`KINDS`) in key order, with both states."""
    try:
        rows = await pool.fetch(
            _NET + "SELECT row_key::text AS key, before::text AS before, after::text AS after FROM kinds "
            "WHERE kind = $5 ORDER BY row_key LIMIT $6", db, [table], from_run, to_run, kind, limit)
    except SESSION_ERRORS as e:
        raise infrastructure("reading the change outbox to diff", e) from e
    return [NetRow(r["key"], r["before"], r["after"]) for r in rows]
