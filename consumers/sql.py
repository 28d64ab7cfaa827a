"""The SQL of a batch load, built from the catalog (pure: strings only).

Per batch: COPY into a temporary staging table; find rows whose parents are missing with one
set-based anti-join per FK; delete them from staging; then one `INSERT ... ON CONFLICT DO
UPDATE` guarded so an older record (EffectiveDateTime) never overwrites a newer one, nor a
stale live copy resurrect a row that was ended at the same version.
"""

from __future__ import annotations

from dataclasses import dataclass

from consumers.rules import Rule, rules_for
from schemas import naming
from schemas.catalog import RUN_COLUMN, Catalog, ForeignKey, Table, load_catalog

ORD = "_ord"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class ParentCheck:
    fk: ForeignKey
    parent: Table
    sql: str  # a boolean expression over staging alias `s`: true when the parent is missing

    cross_db: bool = False

    @property
    def parent_name(self) -> str:
        """The missing table as dead letters name it: `BaseVehicle`, or `vcdb.BaseVehicle` in
        another database."""
        return f"{self.parent.db}.{self.parent.name}" if self.cross_db else self.parent.name



@dataclass(frozen=True)
class TableSql:
    table: Table
    stage: str
    columns: tuple[str, ...]  # canonical, COPY order
    create_stage: str
    checks: tuple[ParentCheck, ...]
    find_orphans: str | None  # SELECT _ord, check flags...
    rules: tuple[Rule, ...]
    find_rule_failures: str | None  # SELECT _ord, verdicts (NULL: passes; else the missing key or '')
    delete_staged: str
    upsert: str
    upsert_returning: str  # the same, answering the keys it wrote


def stage_name(table: Table) -> str:
    return naming.check_identifier(f"stage_{table.db}_{table.canonical}"[:63], "staging table")


def parent_checks(catalog: Catalog, table: Table) -> tuple[ParentCheck, ...]:
    """References (declared and logical) a row must satisfy before it loads: those inside its
    database, and for the tables of ACES and PIES files those into the reference databases."""
    checks: list[ParentCheck] = []
    for fk in table.foreign_keys:
        cross_db = fk.ref_db != table.db
        if cross_db and not catalog.from_files:
            continue  # between reference databases: checked by `vcdb verify` only
        parent = (load_catalog(fk.ref_db) if cross_db else catalog).tables[fk.ref_table]
        cols = [table.column(c).canonical for c in fk.columns]
        refs = [parent.column(c).canonical for c in fk.ref_columns]
        notnull = " AND ".join(f"s.{q(c)} IS NOT NULL" for c in cols)
        match = " AND ".join(f"p.{q(r)} = s.{q(c)}" for c, r in zip(cols, refs, strict=True))
        parent_table = f"{q(naming.schema_name(parent.db))}.{q(parent.canonical)}"
        missing = f"NOT EXISTS (SELECT 1 FROM {parent_table} p WHERE {match})"
        if fk.is_self:
            # A parent in the same batch is as good as one already loaded (parents before children).
            missing += f" AND NOT EXISTS (SELECT 1 FROM {{stage}} p WHERE {match})"
        checks.append(ParentCheck(fk, parent, f"({notnull} AND {missing})", cross_db))
    return tuple(checks)


def table_sql(catalog: Catalog, table: Table) -> TableSql:
    stage = stage_name(table)
    cols = tuple(c.canonical for c in table.columns)
    col_defs = ", ".join(f"{q(c.canonical)} {c.sql_type}" for c in table.columns)
    create = f"CREATE TEMP TABLE IF NOT EXISTS {q(stage)} ({col_defs}, {ORD} integer) ON COMMIT DELETE ROWS"
    checks = tuple(ParentCheck(c.fk, c.parent, c.sql.replace("{stage}", q(stage)), c.cross_db)
                   for c in parent_checks(catalog, table))
    find = None
    if checks:
        flags = ", ".join(c.sql for c in checks)
        find = (f"SELECT {ORD}, missing FROM (SELECT {ORD}, ARRAY[{flags}] AS missing FROM {q(stage)} s) x "
                f"WHERE true = ANY(missing)")
    rules = rules_for(table)
    find_rules = None
    if rules:
        verdicts = ", ".join(r.verdict for r in rules)
        find_rules = (f"SELECT {ORD}, verdicts FROM (SELECT {ORD}, ARRAY[{verdicts}]::text[] AS verdicts "
                      f"FROM {q(stage)} s) x WHERE cardinality(array_remove(verdicts, NULL)) > 0")
    target = f"{q(naming.schema_name(table.db))}.{q(table.canonical)}"
    keys = ", ".join(q(k) for k in table.key_canonical)
    collist = ", ".join(q(c) for c in cols)
    non_key = [c for c in cols if c not in table.key_canonical]
    updates = ", ".join(f"{q(c)} = EXCLUDED.{q(c)}" for c in [*non_key, RUN_COLUMN])
    eff, end = q("effective_date_time"), q("end_date_time")
    guard = (f"(t.{eff} IS NULL OR EXCLUDED.{eff} IS NULL OR EXCLUDED.{eff} >= t.{eff}) "
             f"AND NOT (t.{end} IS NOT NULL AND EXCLUDED.{end} IS NULL "
             f"AND EXCLUDED.{eff} IS NOT DISTINCT FROM t.{eff})")
    upsert = (f"INSERT INTO {target} AS t ({collist}, {q(RUN_COLUMN)}) "
              f"SELECT DISTINCT ON ({keys}) {collist}, $1::bigint FROM {q(stage)} WHERE {ORD} >= $2 AND {ORD} < $3 "
              f"ORDER BY {keys}, {ORD} DESC "
              f"ON CONFLICT ({keys}) DO UPDATE SET {updates} WHERE {guard}")
    returning = f"{upsert} RETURNING {', '.join(f't.{q(k)}' for k in table.key_canonical)}"
    return TableSql(table, stage, cols, create, checks, find, rules, find_rules,
                    f"DELETE FROM {q(stage)} WHERE {ORD} = ANY($1::int[])", upsert, returning)

