"""Forgetting a database's run state (`vcdb reset`): its runs and everything recorded against
them (their releases' change outbox rows and, for VCdb, their fitment impact), its dead letters,
its consumer group's offsets and its topics' applied-batch log."""

from __future__ import annotations

from ledger.pools import Connection

# The outbox rows and the fitment impact go with their releases' runs: a reset database's next
# baseline is a first one again, and `vcdb diff` and `vcdb changes` must not net the old rows.
_PER_RUN = ("endpoint_progress", "table_load", "page_receipts", "changes", "fitment_impact")


async def forget(conn: Connection, db: str, group_id: str, topic_prefix: str) -> list[int]:
    """In the caller's transaction (which also truncates the canonical tables): the run ids forgotten."""
    runs = [r["run_id"] for r in await conn.fetch("SELECT run_id FROM ingest.runs WHERE db = $1", db)]
    for table in _PER_RUN:
        await conn.execute(f"DELETE FROM ingest.{table} WHERE run_id = ANY($1::bigint[])", runs)
    await conn.execute("DELETE FROM ingest.releases WHERE db = $1", db)
    await conn.execute("DELETE FROM ingest.runs WHERE db = $1", db)
    await conn.execute("DELETE FROM ingest.dead_letters WHERE db = $1", db)
    await conn.execute("DELETE FROM ingest.consumer_offsets WHERE group_id = $1", group_id)
    await conn.execute("DELETE FROM ingest.applied_batches WHERE topic LIKE $1", topic_prefix + "%")
    return runs
