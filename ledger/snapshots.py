"""Row snapshots for `vcdb diff`: `ingest.row_snapshots`, and when each sealed (run, table) was
snapshotted (`table_load.snapshot_at`).

A snapshot is, per row of a canonical table as a run left it: its key, an md5 of all its columns
and a hash per column (to name what changed).  It is taken lazily, just before a later
transaction changes the table (`snapshot_before_change`), or by `vcdb diff` itself for runs whose
state is still the live one (`take_pending_snapshots`); `vcdb diff` then compares two runs'
snapshots (`diff_counts` and the samples).
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.pools import SESSION_ERRORS, Connection, Pool, infrastructure
from schemas import naming
from schemas.catalog import Table


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def snapshot_sql(table: Table) -> str:
    """Row hashes of the table after a run, for `vcdb diff` ($1 run id, $2 AutoCare table name).
    Per row: its key, an md5 of all its columns and a hash per column (to name what changed)."""
    target = f"{_q(naming.schema_name(table.db))}.{_q(table.canonical)}"
    cols = [_q(c.canonical) for c in table.columns]
    key = ", ".join(_q(k) for k in table.key_canonical)
    return ("INSERT INTO ingest.row_snapshots (run_id, table_name, row_key, row_hash, column_hashes) "
            f"SELECT $1, $2, jsonb_build_array({key})::text, md5(row({', '.join(cols)})::text), "
            f"ARRAY[{', '.join(f'coalesce(hashtext({c}::text), 0)' for c in cols)}] FROM {target} "
            "ON CONFLICT (run_id, table_name, row_key) DO UPDATE SET row_hash = EXCLUDED.row_hash, "
            "column_hashes = EXCLUDED.column_hashes")


_PENDING_SNAPSHOTS = (
    "SELECT l.run_id FROM ingest.table_load l JOIN ingest.runs r ON r.run_id = l.run_id AND r.db = $1 "
    "WHERE l.table_name = $2 AND l.status = 'sealed' AND l.snapshot_at IS NULL AND l.run_id < $3")
_LATEST = 2**62


async def snapshot_before_change(conn: Connection, table: Table, run_id: int = _LATEST) -> list[int]:
    """Snapshot the table's rows for `vcdb diff` as the sealed runs before `run_id` left them, if
    that was not done yet: called in every transaction that is about to change the table, and by
    `vcdb diff` itself.  Taken lazily, not when the table seals, so the seal (which child tables
    wait on) costs no pass over the table.  Nothing has changed the table since those runs sealed
    (any change would have taken the snapshot first), so the live rows are their state.  An
    advisory lock per table makes the first change of a new run the only one that snapshots."""
    db, name = table.db, table.name
    if not await conn.fetchval(_PENDING_SNAPSHOTS + " LIMIT 1", db, name, run_id):
        return []
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('vcdb-stream snapshot'), hashtext($1))",
                       f"{db}.{name}")
    runs = [r["run_id"] for r in await conn.fetch(_PENDING_SNAPSHOTS, db, name, run_id)]
    insert = snapshot_sql(table)
    for run in runs:
        await conn.execute(insert, run, name)
    await conn.execute("UPDATE ingest.table_load SET snapshot_at = now() WHERE run_id = ANY($1::bigint[]) AND "
                       "table_name = $2", runs, name)
    return runs


async def take_pending_snapshots(pool: Pool, tables: Sequence[Table]) -> None:
    """`vcdb diff`: snapshot what sealed runs have not snapshotted yet (their state is still live)."""
    try:
        for table in tables:
            async with pool.acquire() as conn, conn.transaction():
                await snapshot_before_change(conn, table)
    except SESSION_ERRORS as e:
        raise infrastructure("taking diff snapshots", e) from e


# ---- comparing two runs (`vcdb diff`) ------------------------------------------------------------

async def snapshotted(pool: Pool, runs: Sequence[int]) -> set[tuple[int, str]]:
    """The (run, table) pairs of these runs that have a snapshot."""
    return {(r["run_id"], r["table_name"]) for r in await pool.fetch(
        "SELECT DISTINCT run_id, table_name FROM ingest.row_snapshots WHERE run_id = ANY($1::bigint[])", list(runs))}


def _live(run: str, end: int) -> str:
    """Rows of one run's snapshot of table $3 that are in force (end_date_time unset)."""
    return (f"SELECT row_key, row_hash, column_hashes FROM ingest.row_snapshots WHERE run_id = {run} AND "
            f"table_name = $3 AND column_hashes[{end}] = 0")


def _in_force(table: Table) -> str:
    """`a` and `b`: the rows in force after the first run ($1) and after the second ($2)."""
    # SQL arrays are 1-based; hashtext(NULL) was stored as 0
    end = [c.canonical for c in table.columns].index("end_date_time") + 1
    return f"WITH a AS ({_live('$1', end)}), b AS ({_live('$2', end)}) "


async def diff_counts(pool: Pool, from_run: int, to_run: int, table: Table) -> tuple[int, int, int]:
    """Rows added, no longer in force, and changed, from the first run's snapshot to the second's."""
    row = await pool.fetchrow(
        _in_force(table) + "SELECT (SELECT count(*) FROM b WHERE NOT EXISTS (SELECT 1 FROM a WHERE "
        "a.row_key = b.row_key)) AS added, (SELECT count(*) FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE "
        "a.row_key = b.row_key)) AS removed, (SELECT count(*) FROM a JOIN b USING (row_key) WHERE "
        "a.row_hash <> b.row_hash) AS changed", from_run, to_run, table.name)
    return row["added"], row["removed"], row["changed"]


async def added_keys(pool: Pool, from_run: int, to_run: int, table: Table, sample: int) -> list[str]:
    return [r["row_key"] for r in await pool.fetch(
        _in_force(table) + "SELECT row_key FROM b WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.row_key = b.row_key) "
        "ORDER BY row_key LIMIT $4", from_run, to_run, table.name, sample)]


async def removed_keys(pool: Pool, from_run: int, to_run: int, table: Table, sample: int) -> list[str]:
    return [r["row_key"] for r in await pool.fetch(
        _in_force(table) + "SELECT row_key FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE a.row_key = b.row_key) "
        "ORDER BY row_key LIMIT $4", from_run, to_run, table.name, sample)]


async def changed_rows(pool: Pool, from_run: int, to_run: int, table: Table,
                       sample: int) -> list[tuple[str, list[int], list[int]]]:
    """Rows in force after both runs whose hash differs: the key and both runs' column hashes (in
    catalog column order)."""
    return [(r["row_key"], list(r["ah"]), list(r["bh"])) for r in await pool.fetch(
        _in_force(table) + "SELECT a.row_key, a.column_hashes AS ah, b.column_hashes AS bh FROM a JOIN b "
        "USING (row_key) WHERE a.row_hash <> b.row_hash ORDER BY a.row_key LIMIT $4",
        from_run, to_run, table.name, sample)]
