"""The staging area of releases: one twin per canonical table, in `autocare_<db>_staged`.

A run's records load here, FK-checked against the canonical tables and the run's own staged
rows, and wait until the run is complete; one transaction then publishes them into the canonical
tables (consumers/publish.py).  A twin has the canonical table's columns without its foreign keys
(each batch is checked set-based before it is staged) and is keyed by run first, so that two
runs of a database can be staged at once and one run's rows are a range of the key.
"""

from __future__ import annotations

from sqlalchemy import Column, PrimaryKeyConstraint, Table

from schemas import naming
from schemas.catalog import RUN_COLUMN
from schemas.metadata import metadata


def twin(table: Table, db: str) -> Table:
    key = [c.name for c in table.primary_key.columns]
    columns = [Column(c.name, c.type, nullable=c.nullable if c.name not in key else False, comment=c.comment)
               for c in table.columns]
    return Table(table.name, metadata, *columns,
                 PrimaryKeyConstraint(RUN_COLUMN, *key, name=naming.check_identifier(f"pk_staged_{table.name}"[:63],
                                                                                    "constraint")),
                 schema=naming.staged_schema_name(db), comment=f"staged {table.comment or table.name}")


def declare(canonical: dict[str, dict[str, Table]]) -> dict[str, dict[str, Table]]:
    return {db: {name: twin(t, db) for name, t in tables.items()} for db, tables in canonical.items()}
