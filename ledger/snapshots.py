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
