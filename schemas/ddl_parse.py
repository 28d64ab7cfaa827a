"""Reading AutoCare DDL files with a real SQL parser (sqlglot), into plain table descriptions.

Understands CREATE TABLE with column and table constraints and ALTER TABLE ... ADD CONSTRAINT
(PRIMARY KEY / FOREIGN KEY), so a user can drop in the next AutoCare DDL and regenerate.  Only
generation, validation and staging import this module: everything else reads the parse that
`vcdb schema generate` wrote (`schemas.ddl.generated_ddl`).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from schemas.ddl import DdlColumn, DdlForeignKey, DdlTable, ddl_path


class DdlError(ValueError):
    """The DDL cannot be read; the message names the file, table and column."""


def read_ddl(db: str, path: Path | None = None) -> dict[str, DdlTable]:
    """The parse of `path`, or of the shipped DDL of `db` (parsed once per process: validation
    and generation each ask for it again, once per database and once per logical reference)."""
    if path is not None:
        return parse_ddl(path.read_text(), source=str(path))
    return _shipped(db)


@functools.cache
def _shipped(db: str) -> dict[str, DdlTable]:
    path = ddl_path(db)
    return parse_ddl(path.read_text(), source=str(path))


def parse_ddl(sql: str, source: str = "<ddl>") -> dict[str, DdlTable]:
    try:
        statements = sqlglot.parse(sql, read="postgres")
    except sqlglot.errors.ParseError as e:
        raise DdlError(f"{source}: cannot parse: {e}") from e
    tables: dict[str, DdlTable] = {}
    for stmt in statements:
        if isinstance(stmt, exp.Create) and str(stmt.args.get("kind", "")).upper() == "TABLE":
            table = _create_table(stmt, source)
            if table.name in tables:
                raise DdlError(f"{source}: table {table.name} is created twice")
            tables[table.name] = table
        elif isinstance(stmt, exp.Alter):
            _alter_table(stmt, tables, source)
    for table in tables.values():
        names = {c.name for c in table.columns}
        for col in table.primary_key:
            if col not in names:
                raise DdlError(f"{source}: table {table.name}: primary key column {col} does not exist")
        for fk in table.foreign_keys:
            for col in fk.columns:
                if col not in names:
                    raise DdlError(f"{source}: table {table.name}: foreign key column {col} does not exist")
    return tables


def _create_table(stmt: exp.Create, source: str) -> DdlTable:
    schema = stmt.this
    if not isinstance(schema, exp.Schema):
        raise DdlError(f"{source}: CREATE TABLE without a column list: {stmt.sql()[:80]}")
    table = DdlTable(name=schema.this.name)
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            table.columns.append(_column(table.name, item, source))
            for cc in item.constraints:
                if isinstance(cc.kind, exp.PrimaryKeyColumnConstraint):
                    table.primary_key = (item.name,)
        elif isinstance(item, exp.Constraint):
            name = item.name or None
            for inner in item.expressions:
                _table_constraint(table, name, inner, source)
        elif isinstance(item, (exp.PrimaryKey, exp.ForeignKey)):
            _table_constraint(table, None, item, source)
        else:
            raise DdlError(f"{source}: table {table.name}: unsupported element {item.sql()[:80]}")
    return table


def _alter_table(stmt: exp.Alter, tables: dict[str, DdlTable], source: str) -> None:
    name = stmt.this.name
    if name not in tables:
        raise DdlError(f"{source}: ALTER TABLE {name}: table not created")
    for action in stmt.args.get("actions") or []:
        constraints = action.expressions if isinstance(action, exp.AddConstraint) else [action]
        for c in constraints:
            if isinstance(c, exp.Constraint):
                for inner in c.expressions:
                    _table_constraint(tables[name], c.name or None, inner, source)


def _table_constraint(table: DdlTable, name: str | None, item: exp.Expression, source: str) -> None:
    if isinstance(item, exp.PrimaryKey):
        table.primary_key = tuple(_ident(e) for e in item.expressions)
    elif isinstance(item, exp.ForeignKey):
        ref = item.args.get("reference")
        if ref is None or not isinstance(ref.this, exp.Schema):
            raise DdlError(f"{source}: table {table.name}: foreign key {name} has no REFERENCES list")
        table.foreign_keys.append(
            DdlForeignKey(
                name=name,
                columns=tuple(_ident(e) for e in item.expressions),
                ref_table=ref.this.this.name,
                ref_columns=tuple(_ident(e) for e in ref.this.expressions),
            )
        )
    # UNIQUE / CHECK constraints carry nothing the catalog needs.


def _ident(e: exp.Expression) -> str:
    return e.name if isinstance(e, (exp.Identifier, exp.Column)) else e.sql()


def _column(table: str, col: exp.ColumnDef, source: str) -> DdlColumn:
    kind = col.args.get("kind")
    if kind is None:
        raise DdlError(f"{source}: table {table}: column {col.name} has no type")
    nullable = True
    default: str | None = None
    for cc in col.constraints:
        if isinstance(cc.kind, (exp.NotNullColumnConstraint, exp.PrimaryKeyColumnConstraint)):
            nullable = bool(isinstance(cc.kind, exp.NotNullColumnConstraint) and cc.kind.args.get("allow_null"))
        elif isinstance(cc.kind, exp.DefaultColumnConstraint):
            default = cc.kind.this.sql(dialect="postgres")
    return DdlColumn(col.name, _normalise_type(table, col.name, kind, source), nullable, default)


_TYPES = {
    exp.DataType.Type.INT: "INTEGER",
    exp.DataType.Type.SMALLINT: "INTEGER",
    exp.DataType.Type.BIGINT: "BIGINT",
    exp.DataType.Type.VARCHAR: "VARCHAR",
    exp.DataType.Type.NVARCHAR: "VARCHAR",
    exp.DataType.Type.CHAR: "CHAR",
    exp.DataType.Type.NCHAR: "CHAR",
    exp.DataType.Type.TEXT: "TEXT",
    exp.DataType.Type.TIMESTAMP: "TIMESTAMP",
    exp.DataType.Type.DATETIME: "TIMESTAMP",
    exp.DataType.Type.DATE: "DATE",
    exp.DataType.Type.DECIMAL: "NUMERIC",
    exp.DataType.Type.BOOLEAN: "BOOLEAN",
}


def _normalise_type(table: str, column: str, kind: exp.DataType, source: str) -> str:
    base = _TYPES.get(kind.this)
    if base is None:
        raise DdlError(f"{source}: table {table}: column {column}: unsupported type {kind.sql()}")
    params = [p.sql() for p in kind.expressions]
    if base in ("VARCHAR", "CHAR") and params:
        return f"{base}({params[0]})"
    if base == "NUMERIC" and params:
        return f"NUMERIC({','.join(params)})"
    return base


def executable_statements(sql: str, source: str = "<ddl>") -> list[str]:
    """The DDL's statements in an order PostgreSQL can run them: every CREATE TABLE after the
    tables its inline FKs reference (self-references aside), then everything else."""
    statements = [s for s in sqlglot.parse(sql, read="postgres") if s is not None]
    creates: dict[str, exp.Create] = {}
    rest: list[Any] = []  # sqlglot.parse types its results loosely
    for stmt in statements:
        if isinstance(stmt, exp.Create) and isinstance(stmt.this, exp.Schema):
            creates[stmt.this.this.name] = stmt
        else:
            rest.append(stmt)
    deps = {name: {fk.ref_table for fk in _create_table(stmt, source).foreign_keys} - {name}
            for name, stmt in creates.items()}
    ordered: list[str] = []
    while deps:
        ready = sorted(n for n, d in deps.items() if not (d & deps.keys()))
        if not ready:
            raise DdlError(f"{source}: inline foreign keys form a cycle among {', '.join(sorted(deps))}")
        ordered += ready
        for n in ready:
            del deps[n]
    return [creates[n].sql(dialect="postgres") for n in ordered] + [s.sql(dialect="postgres") for s in rest]
