"""`vcdb diff`: rows added, removed and changed between two runs, from the per-run row hashes
the loader snapshots when it seals a table (ingest.row_snapshots)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.catalog import load_catalog


@dataclass
class TableDiff:
    table: str
    added: int = 0
    removed: int = 0  # keys gone (never with soft deletes)
    ended: int = 0  # rows whose EndDateTime was set (soft deletes), counted apart from `changed`
    changed: int = 0
    sample_added: list[str] = field(default_factory=list)
    sample_removed: list[str] = field(default_factory=list)
    sample_changed: list[dict[str, Any]] = field(default_factory=list)  # key and changed column names
    missing_snapshot: str | None = None


async def diff(pool: Any, db: str, from_run: int, to_run: int, tables: list[str] | None = None,
               sample: int = 5) -> list[TableDiff]:
    catalog = load_catalog(db)
    names = [catalog.table(t).name for t in tables] if tables else sorted(catalog.tables)
    have = {(r["run_id"], r["table_name"]) for r in await pool.fetch(
        "SELECT DISTINCT run_id, table_name FROM ingest.row_snapshots WHERE run_id = ANY($1::bigint[])",
        [from_run, to_run])}
    out: list[TableDiff] = []
    for name in names:
        d = TableDiff(name)
        missing = [str(r) for r in (from_run, to_run) if (r, name) not in have]
        if missing:
            d.missing_snapshot = f"no snapshot of run {', '.join(missing)} (table not sealed in that run)"
            if len(missing) == 2 or not any(t == name for _, t in have):
                continue
        cols = [c.canonical for c in catalog.tables[name].columns]
        end = cols.index("end_date_time") + 1  # SQL arrays are 1-based
        ended = f"(a.column_hashes[{end}] = 0 AND b.column_hashes[{end}] <> 0)"
        row = await pool.fetchrow(
            "WITH a AS (SELECT row_key, row_hash, column_hashes FROM ingest.row_snapshots WHERE run_id = $1 AND "
            "table_name = $3), b AS (SELECT row_key, row_hash, column_hashes FROM ingest.row_snapshots WHERE "
            "run_id = $2 AND table_name = $3) "
            "SELECT (SELECT count(*) FROM b WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.row_key = b.row_key)) AS added,"
            " (SELECT count(*) FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE a.row_key = b.row_key)) AS removed,"
            f" (SELECT count(*) FROM a JOIN b USING (row_key) WHERE a.row_hash <> b.row_hash AND {ended}) AS ended,"
            " (SELECT count(*) FROM a JOIN b USING (row_key) "
            f"WHERE a.row_hash <> b.row_hash AND NOT {ended}) AS changed",
            from_run, to_run, name)
        d.added, d.removed, d.ended, d.changed = row["added"], row["removed"], row["ended"], row["changed"]
        if d.added:
            d.sample_added = [r["row_key"] for r in await pool.fetch(
                "SELECT row_key FROM ingest.row_snapshots b WHERE run_id = $2 AND table_name = $3 AND NOT EXISTS "
                "(SELECT 1 FROM ingest.row_snapshots a WHERE a.run_id = $1 AND a.table_name = $3 AND "
                "a.row_key = b.row_key) ORDER BY row_key LIMIT $4", from_run, to_run, name, sample)]
        if d.removed:
            d.sample_removed = [r["row_key"] for r in await pool.fetch(
                "SELECT row_key FROM ingest.row_snapshots a WHERE run_id = $1 AND table_name = $3 AND NOT EXISTS "
                "(SELECT 1 FROM ingest.row_snapshots b WHERE b.run_id = $2 AND b.table_name = $3 AND "
                "a.row_key = b.row_key) ORDER BY row_key LIMIT $4", from_run, to_run, name, sample)]
        if d.changed:
            for r in await pool.fetch(
                    "SELECT a.row_key, a.column_hashes AS ah, b.column_hashes AS bh FROM ingest.row_snapshots a "
                    "JOIN ingest.row_snapshots b ON b.run_id = $2 AND b.table_name = a.table_name AND "
                    "b.row_key = a.row_key WHERE a.run_id = $1 AND a.table_name = $3 AND a.row_hash <> b.row_hash "
                    f"AND NOT {ended} ORDER BY a.row_key LIMIT $4", from_run, to_run, name, sample):
                changed = [c for c, x, y in zip(cols, r["ah"], r["bh"], strict=False) if x != y]
                d.sample_changed.append({"key": r["row_key"], "columns": changed})
        out.append(d)
    return out
