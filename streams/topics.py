"""Names on the broker: topics `autocare.<db>.<table>`, `autocare.<db>.<table>.dlq` and
`autocare.<db>.<table>.changes` (table in snake_case; the fitment impact of VCdb releases is
`autocare.fitment.application.changes`), and the loaders' consumer group `vcdb-stream.<db>.loader`."""

from __future__ import annotations

from schemas.catalog import Table

PREFIX = "autocare"
DLQ_SUFFIX = ".dlq"
CHANGES_SUFFIX = ".changes"


def data_topic(table: Table) -> str:
    return f"{PREFIX}.{table.db}.{table.canonical}"


def dlq_topic(table: Table) -> str:
    return data_topic(table) + DLQ_SUFFIX


def changes_topic(db: str, canonical: str) -> str:
    """Where a release's changes of one table go (the table's snake_case name)."""
    return f"{PREFIX}.{db}.{canonical}{CHANGES_SUFFIX}"


def parse_topic(topic: str) -> tuple[str, str, bool]:
    """`autocare.vcdb.base_vehicle.dlq` -> ("vcdb", "base_vehicle", True)."""
    parts = topic.split(".")
    if len(parts) not in (3, 4) or parts[0] != PREFIX or (len(parts) == 4 and parts[3] != "dlq"):
        raise ValueError(f"not an AutoCare topic: {topic!r}")
    return parts[1], parts[2], len(parts) == 4


def group_id_for(db: str) -> str:
    """The loading workers' consumer group for one database."""
    return f"vcdb-stream.{db}.loader"
