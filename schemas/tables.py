"""Every SQLAlchemy table: the generated canonical tables (the four reference databases, ACES and
PIES), their staged twins (schemas/staged.py) and `ingest`.

Importing this module fills schemas.metadata.metadata, which Alembic compares with the database.
"""

from __future__ import annotations

from sqlalchemy import Table

from schemas import indexes, ingest, naming, staged
from schemas.generated import aces_tables, padb_tables, pcdb_tables, pies_tables, qdb_tables, vcdb_tables
from schemas.metadata import metadata

CANONICAL: dict[str, dict[str, Table]] = {
    "vcdb": vcdb_tables.TABLES,
    "pcdb": pcdb_tables.TABLES,
    "padb": padb_tables.TABLES,
    "qdb": qdb_tables.TABLES,
    "aces": aces_tables.TABLES,
    "pies": pies_tables.TABLES,
}
INDEXES = indexes.declare(CANONICAL)
STAGED: dict[str, dict[str, Table]] = staged.declare(CANONICAL)
SCHEMAS: tuple[str, ...] = (*(naming.schema_name(db) for db in CANONICAL), ingest.SCHEMA,
                            *(naming.staged_schema_name(db) for db in CANONICAL))

__all__ = ["CANONICAL", "SCHEMAS", "STAGED", "ingest", "metadata"]
