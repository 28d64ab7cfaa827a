"""`vcdb diff`: rows added, removed and changed between two runs, from the per-run row hashes
of each sealed table (ingest.row_snapshots), taken just before a later run changes the table,
or here, for runs whose state is still the live one.

The diff compares the catalogue in force after each run: a row counts only while its
`end_date_time` is unset (deletes are soft).  So `removed` is a row in force after the first run
and not after the second (ended, or gone), `added` the reverse, and `changed` a row in force
after both whose columns differ (with the names of the columns that did).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.snapshots import take_pending_snapshots
from schemas.catalog import load_catalog


@dataclass
class TableDiff:
    table: str
    added: int = 0
    removed: int = 0
    changed: int = 0
    sample_added: list[str] = field(default_factory=list)
    sample_removed: list[str] = field(default_factory=list)
    sample_changed: list[dict[str, Any]] = field(default_factory=list)  # key and changed column names
    missing_snapshot: str | None = None


def _live(run: str, end: int) -> str:
    """Rows of one run's snapshot of table $3 that are in force (end_date_time unset)."""
    return (f"SELECT row_key, row_hash, column_hashes FROM ingest.row_snapshots WHERE run_id = {run} AND "
            f"table_name = $3 AND column_hashes[{end}] = 0")


async def diff(pool: Any, db: str, from_run: int, to_run: int, tables: list[str] | None = None,
               sample: int = 5) -> list[TableDiff]:
    catalog = load_catalog(db)
    names = [catalog.table(t).name for t in tables] if tables else sorted(catalog.tables)
    await take_pending_snapshots(pool, [catalog.tables[n] for n in names])
    have = {(r["run_id"], r["table_name"]) for r in await pool.fetch(
        "SELECT DISTINCT run_id, table_name FROM ingest.row_snapshots WHERE run_id = ANY($1::bigint[])",
        [from_run, to_run])}
    out: list[TableDiff] = []
    for name in names:
        d = TableDiff(name)
        missing = [str(r) for r in (from_run, to_run) if (r, name) not in have]
        if missing:
            d.missing_snapshot = f"no snapshot of run {', '.join(missing)} (table not sealed in that run)"
            out.append(d)
            continue
        cols = [c.canonical for c in catalog.tables[name].columns]
        end = cols.index("end_date_time") + 1  # SQL arrays are 1-based; hashtext(NULL) was stored as 0
        ctes = f"WITH a AS ({_live('$1', end)}), b AS ({_live('$2', end)}) "
        row = await pool.fetchrow(
            ctes + "SELECT (SELECT count(*) FROM b WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.row_key = b.row_key)) "
            "AS added, (SELECT count(*) FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE a.row_key = b.row_key)) "
            "AS removed, (SELECT count(*) FROM a JOIN b USING (row_key) WHERE a.row_hash <> b.row_hash) AS changed",
            from_run, to_run, name)
        d.added, d.removed, d.changed = row["added"], row["removed"], row["changed"]
        if d.added:
            d.sample_added = [r["row_key"] for r in await pool.fetch(
                ctes + "SELECT row_key FROM b WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.row_key = b.row_key) "
                "ORDER BY row_key LIMIT $4", from_run, to_run, name, sample)]
        if d.removed:
            d.sample_removed = [r["row_key"] for r in await pool.fetch(
                ctes + "SELECT row_key FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE a.row_key = b.row_key) "
                "ORDER BY row_key LIMIT $4", from_run, to_run, name, sample)]
        if d.changed:
            for r in await pool.fetch(
                    ctes + "SELECT a.row_key, a.column_hashes AS ah, b.column_hashes AS bh FROM a JOIN b "
                    "USING (row_key) WHERE a.row_hash <> b.row_hash ORDER BY a.row_key LIMIT $4",
                    from_run, to_run, name, sample):
                changed = [c for c, x, y in zip(cols, r["ah"], r["bh"], strict=False) if x != y]
                d.sample_changed.append({"key": r["row_key"], "columns": changed})
        out.append(d)
    return out
