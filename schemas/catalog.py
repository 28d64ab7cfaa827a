"""The table catalog of a database: AutoCare names, canonical names, API names, keys and FKs.

Built from the DDL (schemas/ddl/<db>.sql) plus the decisions kept beside it: API naming
(api_map), keys for keyless tables (keys) and undeclared references (references).  Every other
layer asks the catalog, never the DDL.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from schemas import api_map, naming
from schemas.ddl import DdlTable, generated_ddl
from schemas.keys import KEY_DECISIONS
from schemas.references import LOGICAL_REFERENCES

REFERENCE_DATABASES: tuple[str, ...] = ("vcdb", "pcdb", "padb", "qdb")  # served by the AutoCare API
FILE_DATABASES: tuple[str, ...] = ("aces", "pies")  # loaded from the files that refer to them
DATABASES: tuple[str, ...] = REFERENCE_DATABASES + FILE_DATABASES

# Canonical columns every table has besides its DDL columns: the API's record metadata
# (AutoCare reference [1.4], [4]) and the run that last wrote the row.
META_COLUMNS: tuple[tuple[str, str, str], ...] = (
    (api_map.CULTURE_FIELD, "culture_id", "VARCHAR(10)"),
    (api_map.EFFECTIVE_FIELD, "effective_date_time", "TIMESTAMP"),
    (api_map.END_FIELD, "end_date_time", "TIMESTAMP"),
)
RUN_COLUMN = "ingest_run_id"


class CatalogError(ValueError):
    """The DDL and the decisions beside it do not make a consistent catalog."""


@dataclass(frozen=True)
class Column:
    name: str  # AutoCare's name, as in the DDL
    canonical: str
    api_field: str  # the key of this value in API records
    sql_type: str  # canonical type: INTEGER, BIGINT, VARCHAR(n), TIMESTAMP, DATE, ...
    nullable: bool  # in the canonical table
    default: str | None = None
    in_api: bool = True  # False: the API never sends it (nullable for that reason)
    meta: bool = False  # record metadata, not a DDL column

    @property
    def python_type(self) -> str:
        t = self.sql_type.split("(")[0]
        return {"INTEGER": "int", "BIGINT": "int", "TIMESTAMP": "datetime.datetime",
                "DATE": "datetime.date", "NUMERIC": "decimal.Decimal", "BOOLEAN": "bool"}.get(t, "str")

    @property
    def max_length(self) -> int | None:
        if "(" in self.sql_type and self.sql_type.startswith("VARCHAR"):
            return int(self.sql_type.split("(")[1].rstrip(")"))
        return None


@dataclass(frozen=True)
class ForeignKey:
    table: str
    columns: tuple[str, ...]  # AutoCare names
    ref_db: str
    ref_table: str
    ref_columns: tuple[str, ...]
    declared: bool  # in the DDL (and a constraint in PostgreSQL); else a logical reference
    name: str  # canonical constraint / relationship name
    reason: str = ""

    @property
    def is_self(self) -> bool:
        return self.ref_table == self.table



@dataclass(frozen=True)
class Table:
    db: str
    name: str
    canonical: str
    columns: tuple[Column, ...]  # DDL columns, then extra API fields, then META_COLUMNS
    key: tuple[str, ...]  # AutoCare column names
    key_reason: str | None  # set when the key is our decision, not the DDL's
    foreign_keys: tuple[ForeignKey, ...]
    api_table: str | None  # API path segment; None when the API does not serve the table

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name}")

    @property
    def key_canonical(self) -> tuple[str, ...]:
        return tuple(self.column(k).canonical for k in self.key)

    def parents(self, *, include_self: bool = False) -> tuple[str, ...]:
        """Same-database tables this one references (declared and logical)."""
        out: list[str] = []
        for fk in self.foreign_keys:
            if fk.ref_db == self.db and (include_self or not fk.is_self) and fk.ref_table not in out:
                out.append(fk.ref_table)
        return tuple(out)


@dataclass(frozen=True)
class Catalog:
    db: str
    tables: dict[str, Table]

    @property
    def schema(self) -> str:
        return naming.schema_name(self.db)

    def table(self, name: str) -> Table:
        """By AutoCare name, canonical name or API name, case-insensitively."""
        t = self._lookup.get(name.lower())
        if t is None:
            raise KeyError(f"{self.db} has no table {name!r}")
        return t

    @functools.cached_property
    def _lookup(self) -> dict[str, Table]:
        out: dict[str, Table] = {}
        for t in self.tables.values():
            out[t.name.lower()] = t
            out[t.canonical.lower()] = t
            if t.api_table:
                out[t.api_table.lower()] = t
        return out

    def api_tables(self) -> list[Table]:
        return [t for t in self.tables.values() if t.api_table]

    @property
    def from_files(self) -> bool:
        """ACES and PIES: loaded from files that refer to the reference databases."""
        return self.db in FILE_DATABASES

    def loaded_tables(self) -> list[Table]:
        """The tables runs publish and the loader loads: what the API serves, or every table of
        a file database."""
        return list(self.tables.values()) if self.from_files else self.api_tables()

    def __hash__(self) -> int:
        return hash(self.db)


@functools.cache
def load_catalog(db: str) -> Catalog:
    if db not in DATABASES:
        raise CatalogError(f"unknown database {db!r}; expected one of {', '.join(DATABASES)}")
    return build_catalog(db, generated_ddl(db))


def build_catalog(db: str, ddl: dict[str, DdlTable]) -> Catalog:
    tables: dict[str, Table] = {}
    for name, d in sorted(ddl.items()):
        tables[name] = _table(db, d)
    return Catalog(db, tables)


def _table(db: str, d: DdlTable) -> Table:
    canonical = naming.table_name(d.name)
    decision = KEY_DECISIONS.get((db, d.name))
    if d.primary_key:
        key, key_reason = d.primary_key, None
    elif decision:
        key, key_reason = decision.columns, decision.reason
    else:
        key, key_reason = tuple(c.name for c in d.columns), "full row: the DDL declares no key"
    absent = api_map.ABSENT_FIELDS.get((db, d.name), frozenset())
    columns: list[Column] = []
    for c in d.columns:
        in_api = c.name not in absent
        sql_type = c.sql_type.replace("CHAR(", "VARCHAR(") if c.sql_type.startswith("CHAR(") else c.sql_type
        columns.append(
            Column(
                name=c.name,
                canonical=naming.column_name(d.name, c.name),
                api_field=api_map.FIELD_RENAMES.get((db, d.name, c.name), c.name),
                # CHAR(n) would blank-pad AutoCare's short codes ("5" -> "5  "); stored as VARCHAR(n).
                sql_type=sql_type,
                nullable=(c.nullable or not in_api) and c.name not in key,
                default=c.default,
                in_api=in_api,
            )
        )
    for name, sql_type in api_map.EXTRA_FIELDS.get((db, d.name), ()):
        columns.append(Column(name, naming.column_name(d.name, name), name, sql_type, True))
    for api_name, canon, sql_type in META_COLUMNS:
        columns.append(Column(api_name, canon, api_name, sql_type, True, meta=True))
    fks: list[ForeignKey] = []
    for fk in d.foreign_keys:
        fks.append(ForeignKey(d.name, fk.columns, db, fk.ref_table, fk.ref_columns, True,
                              _fk_name(d.name, fk.columns, fk.ref_table)))
    for ref in LOGICAL_REFERENCES:
        if ref.db == db and ref.table == d.name:
            fks.append(ForeignKey(d.name, ref.columns, ref.ref_db, ref.ref_table, ref.ref_columns, False,
                                  _fk_name(d.name, ref.columns, ref.ref_table), ref.reason))
    api_table = None
    if d.name in api_map.API_TABLES.get(db, frozenset()):
        api_table = api_map.TABLE_RENAMES.get((db, d.name), d.name)
    return Table(db, d.name, canonical, tuple(columns), tuple(key), key_reason, tuple(fks), api_table)


def _fk_name(table: str, columns: tuple[str, ...], ref_table: str) -> str:
    """Constraint and relationship name: `fk_<table>_<columns>`; self-FKs name their role."""
    cols = [naming.snake(c) for c in columns]
    return naming.constraint_name("fk", naming.table_name(table), *cols)
