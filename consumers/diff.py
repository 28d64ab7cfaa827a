"""`vcdb diff`: rows added, removed and changed between the states two runs left, per table, shaped
from the net change the ledger reads off the change outbox of the published releases between them
(ledger/diffs.py says how changes net, and what a row loaded in place counts as).

The diff compares the catalogue in force: a row counts only while its `end_date_time` is unset
(deletes are soft).  So `removed` is a row in force after the first run and not after the second
(ended, or gone), `added` the reverse, and `changed` a row in force after both whose columns
differ (with the names of the columns that did, in catalogue order).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger import diffs
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


def changed_columns(columns: Sequence[str], before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The columns whose values differ between two images of a row, in the order given."""
    return [c for c in columns if before.get(c) != after.get(c)]


async def releases(pool: Any, db: str, from_run: int, to_run: int) -> list[tuple[int, int]]:
    """The (release, run) pairs the diff nets: db's published releases with a run in (from_run, to_run]."""
    return await diffs.releases_between(pool, db, from_run, to_run)


async def diff(pool: Any, db: str, from_run: int, to_run: int, tables: list[str] | None = None,
               sample: int = 5) -> list[TableDiff]:
    catalog = load_catalog(db)
    names = [catalog.table(t).name for t in tables] if tables else sorted(catalog.tables)
    counts = await diffs.net_counts(pool, db, names, from_run, to_run)
    out: list[TableDiff] = []
    for name in names:
        n = counts.get(name, dict.fromkeys(diffs.KINDS, 0))
        d = TableDiff(name, n["added"], n["removed"], n["changed"])
        if d.added:
            d.sample_added = [r.key for r in await diffs.net_rows(pool, db, name, from_run, to_run, "added", sample)]
        if d.removed:
            d.sample_removed = [r.key for r in await diffs.net_rows(pool, db, name, from_run, to_run, "removed",
                                                                    sample)]
        if d.changed:
            cols = [c.canonical for c in catalog.tables[name].columns]
            for r in await diffs.net_rows(pool, db, name, from_run, to_run, "changed", sample):
                d.sample_changed.append({"key": r.key, "columns": changed_columns(
                    cols, json.loads(r.before or "{}"), json.loads(r.after or "{}"))})
        out.append(d)
    return out
