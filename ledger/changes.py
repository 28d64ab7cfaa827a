"""The change outbox (`ingest.changes`): what each release changed, per row, and what reads it.

The publishing transaction of a release writes, per table and before it moves the run's staged
rows, one outbox row per canonical row the publication changes (`capture_staged`), by the same
version guard as the move itself (schemas/guard.py), so the outbox holds exactly the changes
that commit with the release:

  c  a row that comes into force: new, or in force again after an end (`before` empty);
  u  a row in force before and after whose columns changed (`changed` names them);
  d  a row in force before and ended (EndDateTime set) or deleted now (`after` empty);
  r  a row a run loaded in place (a first baseline, `--in-place`): its publication has no
     before-image to compare with, so the rows it wrote are given as read, as Debezium's
     snapshots are (`capture_in_place`).

A FULL ACES file's ending of its brand's other applications is captured by `capture_ending`,
and the fitment impact of a VCdb release by ledger/impact.py, in the same outbox.  The relay
(consumers/relay.py) sends each release's rows to the `.changes` topics; `vcdb changes` reads
them here, `vcdb diff` through ledger/diffs.py.  Rows carry canonical column names, without the loader's run column.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ledger.pools import Connection, Pool, Record
from schemas import guard, naming
from schemas.catalog import Table

CHANGES = ("c", "u", "d", "r")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _names(table: Table) -> tuple[str, str, list[str], list[str]]:
    live = f"{_q(naming.schema_name(table.db))}.{_q(table.canonical)}"
    twin = f"{_q(naming.staged_schema_name(table.db))}.{_q(table.canonical)}"
    return live, twin, [c.canonical for c in table.columns], list(table.key_canonical)


def _row_json(alias: str, cols: Sequence[str]) -> str:
    """The row as a JSON object of its canonical columns, in catalog order (not the run column)."""
    return f"(SELECT row_to_json(x) FROM (SELECT {', '.join(f'{alias}.{_q(c)}' for c in cols)}) x)"


def _key(alias: str, keys: Sequence[str]) -> str:
    return f"jsonb_build_array({', '.join(f'{alias}.{_q(k)}' for k in keys)})"


_INSERT = "INSERT INTO ingest.changes (run_id, db, table_name, op, row_key, before, after, changed) "


@cache
def staged_sql(table: Table) -> str:
    """$1 run, $2 db, $3 AutoCare table: the outbox rows of the run's staged rows of the table
    that its publication will write (run before the move, in the publishing transaction)."""
    live, twin, cols, keys = _names(table)
    end = _q(guard.END)
    match = " AND ".join(f"l.{_q(k)} = s.{_q(k)}" for k in keys)
    found = f"l.{_q(keys[0])} IS NOT NULL"
    was, now = f"({found} AND l.{end} IS NULL)", f"(s.{end} IS NULL)"
    differs = ", ".join(f"CASE WHEN l.{_q(c)} IS DISTINCT FROM s.{_q(c)} THEN '{c}' END" for c in cols)
    return (_INSERT + f"SELECT $1, $2, $3, CASE WHEN NOT {was} THEN 'c' WHEN NOT {now} THEN 'd' ELSE 'u' END, "
            f"{_key('s', keys)}, CASE WHEN {was} THEN {_row_json('l', cols)} END, "
            f"CASE WHEN {now} THEN {_row_json('s', cols)} END, "
            f"CASE WHEN {was} AND {now} THEN array_remove(ARRAY[{differs}]::text[], NULL) END "
            f"FROM {twin} s LEFT JOIN {live} l ON {match} "
            f"WHERE s.{_q('ingest_run_id')} = $1 AND ({was} OR {now}) "
            f"AND (NOT {found} OR (({guard.replaces('l', 's')}) "
            f"AND ROW({', '.join(f'l.{_q(c)}' for c in cols)}) IS DISTINCT FROM "
            f"ROW({', '.join(f's.{_q(c)}' for c in cols)})))")


@cache
def in_place_sql(table: Table) -> str:
    """$1 run, $2 db, $3 AutoCare table, $4 whether an earlier release of the database is live:
    the rows the run wrote in place, in force as `r`; ended as `d` when there was something to end."""
    live, _, cols, keys = _names(table)
    end = _q(guard.END)
    return (_INSERT + f"SELECT $1, $2, $3, CASE WHEN l.{end} IS NULL THEN 'r' ELSE 'd' END, {_key('l', keys)}, "
            f"CASE WHEN l.{end} IS NOT NULL THEN {_row_json('l', cols)} END, "
            f"CASE WHEN l.{end} IS NULL THEN {_row_json('l', cols)} END, NULL "
            f"FROM {live} l WHERE l.{_q('ingest_run_id')} = $1 AND (l.{end} IS NULL OR $4)")


def ending_sql(table: Table, cte: str, where: str) -> str:
    """$1 run, $2 db, $3 AutoCare table: `d` rows for the live rows `t` that a statement of the
    publication is about to end (`cte` and `where` are that statement's, over `t`, with $1 the run)."""
    live, _, cols, keys = _names(table)
    return (f"{cte} " + _INSERT + f"SELECT $1, $2, $3, 'd', {_key('t', keys)}, {_row_json('t', cols)}, NULL, NULL "
            f"FROM {live} t WHERE {where}")


def _count(status: str) -> int:
    return int(status.split()[-1])


async def capture_staged(conn: Connection, run_id: int, table: Table) -> int:
    return _count(await conn.execute(staged_sql(table), run_id, table.db, table.name))


async def capture_in_place(conn: Connection, run_id: int, table: Table, *, over_release: bool) -> int:
    return _count(await conn.execute(in_place_sql(table), run_id, table.db, table.name, over_release))


async def capture_ending(conn: Connection, run_id: int, table: Table, cte: str, where: str) -> int:
    return _count(await conn.execute(ending_sql(table, cte, where), run_id, table.db, table.name))


# ---- reading the outbox --------------------------------------------------------------------------

@dataclass
class TableChanges:
    """What one release changed in one table: rows added, changed (per column) and ended."""

    table: str
    added: int = 0  # c
    changed: int = 0  # u
    ended: int = 0  # d
    loaded: int = 0  # r: written in place
    columns: dict[str, int] = field(default_factory=dict)  # per canonical column: updates that changed it

    def as_json(self) -> dict[str, Any]:
        return {"table": self.table, "added": self.added, "changed": self.changed, "ended": self.ended,
                "loaded_in_place": self.loaded, "changed_columns": self.columns}


async def summary(pool: Pool | Connection, run_id: int, table: str | None = None) -> list[TableChanges]:
    """Per table (in the order the release wrote them): rows added, changed by column, ended."""
    rows = await pool.fetch(
        "SELECT db, table_name, op, count(*) AS n, min(change_id) AS first FROM ingest.changes "
        "WHERE run_id = $1 AND ($2::text IS NULL OR table_name = $2) GROUP BY db, table_name, op ORDER BY first",
        run_id, table)
    out: dict[str, TableChanges] = {}
    for r in rows:
        t = out.setdefault(r["table_name"], TableChanges(r["table_name"]))
        attr = {"c": "added", "u": "changed", "d": "ended", "r": "loaded"}[r["op"]]
        setattr(t, attr, getattr(t, attr) + r["n"])
    for r in await pool.fetch(
            "SELECT table_name, col, count(*) AS n FROM ingest.changes, unnest(changed) AS col "
            "WHERE run_id = $1 AND op = 'u' AND ($2::text IS NULL OR table_name = $2) "
            "GROUP BY table_name, col ORDER BY table_name, n DESC, col", run_id, table):
        out[r["table_name"]].columns[r["col"]] = r["n"]
    return list(out.values())


# ---- the relay -------------------------------------------------------------------------------

async def lock_relay(conn: Connection) -> bool:
    """One relay at a time, across the loader's processes (held to the end of the transaction)."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext('vcdb-stream relay'), 0)"))


# A skip scan of ix_changes_run (run_id, db, table_name): one index probe per table the release
# touched, where `SELECT DISTINCT` read every outbox row of the release (a 200k-application FULL
# ACES file: its whole 800 MB of after-images, 3 to 5 s, before the relay sent anything).
_TABLES = """
WITH RECURSIVE t AS (
    (SELECT db, table_name FROM ingest.changes WHERE run_id = $1 ORDER BY db, table_name LIMIT 1)
    UNION ALL
    SELECT n.db, n.table_name FROM t, LATERAL (
        SELECT c.db, c.table_name FROM ingest.changes c
        WHERE c.run_id = $1 AND (c.db, c.table_name) > (t.db, t.table_name)
        ORDER BY c.db, c.table_name LIMIT 1) n)
SELECT db, table_name FROM t"""


async def tables(conn: Connection, run_id: int) -> list[tuple[str, str]]:
    """The (db, AutoCare table) pairs a release's changes touch, ordered."""
    return [(r["db"], r["table_name"]) for r in await conn.fetch(_TABLES, run_id)]


# A release's rows are read a window of change ids at a time, between its first and last change
# (ix_changes_run_change): each statement reads at most `chunk` ids whatever plan it gets.  Right
# after the publishing commit ingest.changes has no statistics, and the planner, guessing a few
# thousand rows, reads "the release's rows after change X, ordered" by a bitmap scan and a sort of
# all of them: a portal over the release, or a LIMIT after the last id read, sorted what was left
# of a 200k-application FULL ACES file for every chunk (6.2, 4.1, 3.0 s ...).  A published
# release's rows no longer change; ids of other releases inside a window are skipped.
_BOUNDS = "SELECT min(change_id) AS first, max(change_id) AS last FROM ingest.changes WHERE run_id = $1"
_WINDOW = ("SELECT change_id, db, table_name, op, row_key::text AS row_key, before::text AS before, "
           "after::text AS after FROM ingest.changes WHERE run_id = $1 AND change_id > $2 AND change_id <= $3 "
           "ORDER BY change_id")


async def rows(conn: Connection, run_id: int, chunk: int = 5000) -> AsyncIterator[list[Record]]:
    """The release's outbox rows in change order, a chunk (at most `chunk` rows) at a time."""
    bounds = await conn.fetchrow(_BOUNDS, run_id)
    if bounds is None or bounds["first"] is None:
        return
    done, last = bounds["first"] - 1, bounds["last"]
    while done < last:
        upto = min(done + chunk, last)
        batch = await conn.fetch(_WINDOW, run_id, done, upto)
        if batch:
            yield batch
        done = upto
