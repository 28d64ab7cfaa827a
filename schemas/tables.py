"""Every SQLAlchemy table: the generated canonical tables of the four databases and `ingest`.

Importing this module fills schemas.metadata.metadata, which Alembic compares with the database.
"""

from __future__ import annotations

from sqlalchemy import Table

from schemas import ingest
from schemas.generated import padb_tables, pcdb_tables, qdb_tables, vcdb_tables
from schemas.metadata import metadata

CANONICAL: dict[str, dict[str, Table]] = {
    "vcdb": vcdb_tables.TABLES,
    "pcdb": pcdb_tables.TABLES,
    "padb": padb_tables.TABLES,
    "qdb": qdb_tables.TABLES,
}
SCHEMAS: tuple[str, ...] = ("autocare_vcdb", "autocare_pcdb", "autocare_padb", "autocare_qdb", ingest.SCHEMA)

__all__ = ["CANONICAL", "SCHEMAS", "ingest", "metadata"]
