"""The gate (`vcdb schema validate`): what must hold before anyone generates, migrates or loads.

Checks every database's DDL with its decisions: it parses, every name has a valid canonical
form with no collisions, every key column exists, every FK points at an existing table and
columns, the FK graph has no cycle except self-references, and the generated code is fresh.
(Model/migration drift needs a database: the CLI adds `alembic check`.)
"""

from __future__ import annotations

from pathlib import Path

from schemas import naming
from schemas.catalog import DATABASES, Catalog, build_catalog
from schemas.ddl_parse import DdlError, read_ddl
from schemas.generate import stale
from schemas.graph import CycleError, load_plan
from schemas.references import LOGICAL_REFERENCES


def check_catalog(catalog: Catalog) -> list[str]:
    problems: list[str] = []
    db = catalog.db
    tables = catalog.tables
    table_names = {n: t.canonical for n, t in tables.items()}
    problems += [f"{db}: tables {p}" for p in naming.find_collisions(table_names)]
    for t in tables.values():
        cols = {c.name: c.canonical for c in t.columns}
        problems += [f"{db}.{t.name}: columns {p}" for p in naming.find_collisions(cols)]
        for k in t.key:
            if k not in cols:
                problems.append(f"{db}.{t.name}: key column {k} does not exist")
        for fk in t.foreign_keys:
            where = f"{db}.{t.name}.{','.join(fk.columns)}"
            for c in fk.columns:
                if c not in cols:
                    problems.append(f"{where}: FK column {c} does not exist in {t.name}")
            if fk.ref_db != db:
                continue
            parent = tables.get(fk.ref_table)
            if parent is None:
                problems.append(f"{where}: FK points to table {fk.ref_table}, which does not exist")
                continue
            pcols = {c.name for c in parent.columns}
            for rc in fk.ref_columns:
                if rc not in pcols:
                    problems.append(f"{where}: FK points to column {fk.ref_table}.{rc}, which does not exist")
            if tuple(fk.ref_columns) != tuple(parent.key):
                problems.append(f"{where}: FK references {fk.ref_table}({','.join(fk.ref_columns)}), "
                                f"which is not its key ({','.join(parent.key)})")
    try:
        load_plan(catalog)
    except CycleError as e:
        problems.append(f"{db}: {e}")
    return problems


def check_logical_references() -> list[str]:
    problems = []
    for ref in LOGICAL_REFERENCES:
        where = f"{ref.db}.{ref.table}.{','.join(ref.columns)} (logical reference)"
        try:
            target = read_ddl(ref.ref_db)
        except DdlError as e:
            problems.append(f"{where}: {e}")
            continue
        if ref.ref_table not in target:
            problems.append(f"{where}: points to {ref.ref_db}.{ref.ref_table}, which does not exist")
    return problems


def validate(ddl_dir: Path | None = None, *, check_generated: bool = True) -> list[str]:
    """Every problem found, each naming the database, table and column it concerns."""
    problems: list[str] = []
    for db in DATABASES:
        path = (ddl_dir / f"{db}.sql") if ddl_dir else None
        if path is not None and not path.exists():
            continue
        try:
            catalog = build_catalog(db, read_ddl(db, path))
        except (DdlError, naming.NamingError) as e:
            problems.append(f"{db}: {e}")
            continue
        problems += check_catalog(catalog)
    if ddl_dir is None:
        problems += check_logical_references()
        if check_generated:
            problems += [f"generated code is stale: {p.name} (run `vcdb schema generate`)" for p in stale()]
    return problems
