"""The SQL of a batch load and of a release's publication, built from the catalog (pure: strings only).

Per batch: COPY into a temporary table; find rows whose parents are missing with one set-based
anti-join per FK; delete them from the temporary table; then one `INSERT ... ON CONFLICT DO
UPDATE` guarded so an older record (EffectiveDateTime) never overwrites a newer one, nor a
stale live copy resurrect a row that was ended at the same version.

Two targets.  A staged run's batches go to the table's twin in `autocare_<db>_staged` (rows
keyed by run), their parents found in the canonical table or among the run's own staged rows;
its publication moves them into the canonical table with the same guard.  A run loaded in
place, and a replay of dead letters outside any run, write the canonical table directly, their
parents found there only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from consumers.rules import Rule, rules_for
from schemas import guard as guard_sql
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
    match: str = ""  # the join of parent alias `p` to the row `s`
    notnull: str = ""  # the row names a parent at all

    @property
    def parent_name(self) -> str:
        """The missing table as dead letters name it: `BaseVehicle`, or `vcdb.BaseVehicle` in
        another database."""
        return f"{self.parent.db}.{self.parent.name}" if self.cross_db else self.parent.name



@dataclass(frozen=True)
class Target:
    """Where a batch goes: the canonical table, or the run's rows of its staged twin."""

    find_orphans: str | None  # SELECT _ord, check flags...
    orphans_take_run: bool  # find_orphans reads $1, the run (a staged target with a parent in its database)
    upsert: str  # $1 run, $2..$3 the _ord range
    upsert_returning: str  # the same, answering the keys it wrote


@dataclass(frozen=True)
class TableSql:
    table: Table
    stage: str  # the batch's temporary table
    columns: tuple[str, ...]  # canonical, COPY order
    create_stage: str
    checks: tuple[ParentCheck, ...]
    live: Target
    staged: Target
    rules: tuple[Rule, ...]
    find_rule_failures: str | None  # SELECT _ord, verdicts (NULL: passes; else the missing key or '')
    delete_staged: str
    publish: str  # $1 run: its staged rows into the canonical table, guarded
    staged_rows: str  # $1 run: how many rows the run has staged
    staged_orphans: str | None  # $1 run: staged rows whose parent is neither live nor staged by the run
    clear_staged: str  # $1 run
    staged_keys: str  # $1 run: the key columns of the run's staged rows
    staged_table: str
    canonical_table: str

    def target(self, staged: bool) -> Target:
        return self.staged if staged else self.live


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
        checks.append(ParentCheck(fk, parent, f"({notnull} AND {missing})", cross_db, match, notnull))
    return tuple(checks)


def _in_staged(check: ParentCheck) -> str:
    twin = f"{q(naming.staged_schema_name(check.parent.db))}.{q(check.parent.canonical)}"
    return f"EXISTS (SELECT 1 FROM {twin} p WHERE {check.match} AND p.{q(RUN_COLUMN)} = $1)"


def _staged_parent(check: ParentCheck) -> str:
    """A batch's parent check that also accepts the parent among the run's ($1) staged rows."""
    if check.cross_db:
        return check.sql  # another database: only its published rows count
    return f"({check.sql} AND NOT {_in_staged(check)})"


def _staged_orphan(check: ParentCheck) -> str:
    """A staged row (alias `s`) of run $1 whose parent is neither live nor staged by the run."""
    live = f"{q(naming.schema_name(check.parent.db))}.{q(check.parent.canonical)}"
    missing = f"{check.notnull} AND NOT EXISTS (SELECT 1 FROM {live} p WHERE {check.match})"
    return f"({missing})" if check.cross_db else f"({missing} AND NOT {_in_staged(check)})"


def _find_orphans(stage: str, flags: list[str]) -> str | None:
    if not flags:
        return None
    return (f"SELECT {ORD}, missing FROM (SELECT {ORD}, ARRAY[{', '.join(flags)}] AS missing FROM {q(stage)} s) x "
            f"WHERE true = ANY(missing)")


def table_sql(catalog: Catalog, table: Table) -> TableSql:
    stage = stage_name(table)
    cols = tuple(c.canonical for c in table.columns)
    col_defs = ", ".join(f"{q(c.canonical)} {c.sql_type}" for c in table.columns)
    create = f"CREATE TEMP TABLE IF NOT EXISTS {q(stage)} ({col_defs}, {ORD} integer) ON COMMIT DELETE ROWS"
    checks = tuple(dataclasses.replace(c, sql=c.sql.replace("{stage}", q(stage)))
                   for c in parent_checks(catalog, table))
    staged_checks = [_staged_parent(c) for c in checks]
    rules = rules_for(table)
    find_rules = None
    if rules:
        verdicts = ", ".join(r.verdict for r in rules)
        find_rules = (f"SELECT {ORD}, verdicts FROM (SELECT {ORD}, ARRAY[{verdicts}]::text[] AS verdicts "
                      f"FROM {q(stage)} s) x WHERE cardinality(array_remove(verdicts, NULL)) > 0")
    target = f"{q(naming.schema_name(table.db))}.{q(table.canonical)}"
    twin = f"{q(naming.staged_schema_name(table.db))}.{q(table.canonical)}"
    keys = ", ".join(q(k) for k in table.key_canonical)
    collist = ", ".join(q(c) for c in cols)
    non_key = [c for c in cols if c not in table.key_canonical]
    updates = ", ".join(f"{q(c)} = EXCLUDED.{q(c)}" for c in [*non_key, RUN_COLUMN])
    guard = guard_sql.replaces("t", "EXCLUDED")
    returning = f" RETURNING {', '.join(f't.{q(k)}' for k in table.key_canonical)}"

    def upsert_into(into: str, conflict: str) -> str:
        return (f"INSERT INTO {into} AS t ({collist}, {q(RUN_COLUMN)}) "
                f"SELECT DISTINCT ON ({keys}) {collist}, $1::bigint FROM {q(stage)} WHERE {ORD} >= $2 AND {ORD} < $3 "
                f"ORDER BY {keys}, {ORD} DESC "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {updates} WHERE {guard}")

    live_upsert = upsert_into(target, keys)
    staged_upsert = upsert_into(twin, f"{q(RUN_COLUMN)}, {keys}")
    live = Target(_find_orphans(stage, [c.sql for c in checks]), False, live_upsert, live_upsert + returning)
    staged = Target(_find_orphans(stage, staged_checks), any(not c.cross_db for c in checks), staged_upsert,
                    staged_upsert + returning)
    publish = (f"INSERT INTO {target} AS t ({collist}, {q(RUN_COLUMN)}) "
               f"SELECT {collist}, {q(RUN_COLUMN)} FROM {twin} WHERE {q(RUN_COLUMN)} = $1 "
               f"ON CONFLICT ({keys}) DO UPDATE SET {updates} WHERE {guard}")
    orphans = None
    if checks:
        orphans = (f"SELECT count(*) FROM {twin} s WHERE s.{q(RUN_COLUMN)} = $1 AND "
                   f"({' OR '.join(_staged_orphan(c) for c in checks)})")
    return TableSql(table, stage, cols, create, checks, live, staged, rules, find_rules,
                    f"DELETE FROM {q(stage)} WHERE {ORD} = ANY($1::int[])", publish,
                    f"SELECT count(*) FROM {twin} WHERE {q(RUN_COLUMN)} = $1", orphans,
                    f"DELETE FROM {twin} WHERE {q(RUN_COLUMN)} = $1",
                    f"SELECT {keys} FROM {twin} WHERE {q(RUN_COLUMN)} = $1", twin, target)

