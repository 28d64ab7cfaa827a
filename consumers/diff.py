"""`vcdb diff`: rows added, removed and changed between two runs, from the per-run row hashes
of each sealed table (ingest.row_snapshots, ledger/snapshots.py), taken just before a later run changes the table,
or here, for runs whose state is still the live one.

The diff compares the catalogue in force after each run: a row counts only while its
`end_date_time` is unset (deletes are soft).  So `removed` is a row in force after the first run
and not after the second (ended, or gone), `added` the reverse, and `changed` a row in force
after both whose columns differ (with the names of the columns that did).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger import snapshots
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


async def diff(pool: Any, db: str, from_run: int, to_run: int, tables: list[str] | None = None,
               sample: int = 5) -> list[TableDiff]:
    catalog = load_catalog(db)
    names = [catalog.table(t).name for t in tables] if tables else sorted(catalog.tables)
    await snapshots.take_pending_snapshots(pool, [catalog.tables[n] for n in names])
    have = await snapshots.snapshotted(pool, [from_run, to_run])
    out: list[TableDiff] = []
    for name in names:
        d = TableDiff(name)
        missing = [str(r) for r in (from_run, to_run) if (r, name) not in have]
        if missing:
            d.missing_snapshot = f"no snapshot of run {', '.join(missing)} (table not sealed in that run)"
            out.append(d)
            continue
        table = catalog.tables[name]
        d.added, d.removed, d.changed = await snapshots.diff_counts(pool, from_run, to_run, table)
        if d.added:
            d.sample_added = await snapshots.added_keys(pool, from_run, to_run, table, sample)
        if d.removed:
            d.sample_removed = await snapshots.removed_keys(pool, from_run, to_run, table, sample)
        if d.changed:
            cols = [c.canonical for c in table.columns]
            for key, ah, bh in await snapshots.changed_rows(pool, from_run, to_run, table, sample):
                changed = [c for c, x, y in zip(cols, ah, bh, strict=False) if x != y]
                d.sample_changed.append({"key": key, "columns": changed})
        out.append(d)
    return out
