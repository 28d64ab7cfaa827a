"""The AutoCare DDL as plain table descriptions, and where each database's DDL lives.

schemas/ddl_parse.py reads a DDL file with a real SQL parser; `vcdb schema generate` writes that
parse to schemas/generated/<db>_ddl.py, and `generated_ddl` reads it back, so a command that
only needs the catalog never imports the parser (sqlglot alone took ~0.13 s at every start).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

DDL_DIR = Path(__file__).parent / "ddl"


@dataclass
class DdlColumn:
    name: str
    sql_type: str  # normalised: INTEGER, VARCHAR(n), CHAR(n), TIMESTAMP, DATE, ...
    nullable: bool
    default: str | None = None


@dataclass
class DdlForeignKey:
    name: str | None
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass
class DdlTable:
    name: str
    columns: list[DdlColumn] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    foreign_keys: list[DdlForeignKey] = field(default_factory=list)


def ddl_path(db: str) -> Path:
    return DDL_DIR / f"{db}.sql"


def generated_ddl(db: str) -> dict[str, DdlTable]:
    """The parse of schemas/ddl/<db>.sql that `vcdb schema generate` wrote (a test fails when it
    is stale)."""
    tables: tuple[DdlTable, ...] = importlib.import_module(f"schemas.generated.{db}_ddl").TABLES
    return {t.name: t for t in tables}
