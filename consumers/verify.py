"""`vcdb verify`: orphans per FK (declared or logical) and loaded counts against the API.

Orphans: rows whose non-null reference has no parent row, per FK, with a sample of keys (the old
playbook's `vehicle_to_engine_config` -> `vehicle` query is one of them).  Counts: for the last
successful baseline, rows in each table plus its open dead letters against the API's totalCount.
The canonical tables are queried here; the run state through ledger/ (asyncpg lives in
ledger/pools.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from consumers.sql import q
from ledger import reports, runs
from ledger.statuses import RunKind
from schemas import naming
from schemas.catalog import Catalog, ForeignKey, Table, load_catalog


@dataclass(frozen=True)
class OrphanCheck:
    table: str
    columns: tuple[str, ...]
    ref: str  # db.Table
    declared: bool
    orphans: int
    sample: list[str]


@dataclass(frozen=True)
class CountCheck:
    table: str
    api_total: int | None
    rows: int
    dead_letters: int

    @property
    def ok(self) -> bool:
        return self.api_total is None or self.rows + self.dead_letters == self.api_total


@dataclass
class VerifyReport:
    db: str
    orphans: list[OrphanCheck] = field(default_factory=list)
    counts: list[CountCheck] = field(default_factory=list)
    count_run: int | None = None
    count_note: str | None = None

    @property
    def ok(self) -> bool:
        return all(o.orphans == 0 for o in self.orphans) and all(c.ok for c in self.counts)


def orphan_sql(table: Table, fk: ForeignKey, parent: Table, sample: int) -> str:
    child = f"{q(naming.schema_name(table.db))}.{q(table.canonical)}"
    par = f"{q(naming.schema_name(parent.db))}.{q(parent.canonical)}"
    cols = [table.column(c).canonical for c in fk.columns]
    refs = [parent.column(c).canonical for c in fk.ref_columns]
    notnull = " AND ".join(f"c.{q(c)} IS NOT NULL" for c in cols)
    match = " AND ".join(f"p.{q(r)} = c.{q(c)}" for c, r in zip(cols, refs, strict=True))
    key = ", ".join(f"c.{q(k)}" for k in table.key_canonical)
    return (f"SELECT count(*) AS n, (array_agg(jsonb_build_array({key})::text))[1:{sample}] AS sample "
            f"FROM {child} c WHERE {notnull} AND NOT EXISTS (SELECT 1 FROM {par} p WHERE {match})")


async def verify(pool: Any, db: str, sample: int = 5) -> VerifyReport:
    catalog: Catalog = load_catalog(db)
    report = VerifyReport(db)
    for table in catalog.tables.values():
        for fk in table.foreign_keys:
            parent = load_catalog(fk.ref_db).tables[fk.ref_table]
            row = await pool.fetchrow(orphan_sql(table, fk, parent, sample))
            report.orphans.append(OrphanCheck(table.name, fk.columns, f"{fk.ref_db}.{fk.ref_table}", fk.declared,
                                              row["n"], list(row["sample"] or [])))
    last = await runs.last_succeeded(pool, db)
    if last is None:
        report.count_note = "no successful run yet: counts not compared"
        return report
    if last["kind"] != RunKind.BASELINE:
        report.count_note = (f"last run {last['run_id']} is {last['kind']}: totalCount is the size of its changes, "
                             "so counts are compared only after a baseline")
        return report
    report.count_run = last["run_id"]
    for r in await reports.api_counts(pool, db, last["run_id"]):
        table = catalog.tables[r["table_name"]]
        n = await pool.fetchval(f"SELECT count(*) FROM {q(naming.schema_name(db))}.{q(table.canonical)}")
        report.counts.append(CountCheck(table.name, r["total_count"], n, r["dead"]))
    return report
