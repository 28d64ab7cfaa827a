"""AutoCare issues every id: no canonical column may invent one (a sequence or identity default),
in a database built by the migrations."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests.integration.pipeline import fetch


def test_no_canonical_column_invents_ids(database_url: str) -> None:
    rows = asyncio.run(fetch(database_url, """
        SELECT table_schema, table_name, column_name, column_default, is_identity
        FROM information_schema.columns
        WHERE table_schema LIKE 'autocare\\_%' AND (column_default LIKE 'nextval%' OR is_identity = 'YES')
        ORDER BY 1, 2, 3"""))
    assert [tuple(r) for r in rows] == []
    sequences = asyncio.run(fetch(database_url, "SELECT sequence_schema, sequence_name FROM information_schema."
                                                "sequences WHERE sequence_schema LIKE 'autocare\\_%'"))
    assert [tuple(r) for r in sequences] == []
    # The check itself sees what it looks for: ingest's own ids do have their sequences.
    ours = asyncio.run(fetch(database_url, "SELECT table_name, column_name FROM information_schema.columns "
                                           "WHERE table_schema = 'ingest' AND column_default LIKE 'nextval%' "
                                           "ORDER BY 1"))
    assert [tuple(r) for r in ours] == [("dead_letters", "dead_letter_id"), ("releases", "release_id"),
                                       ("replays", "replay_id"), ("runs", "run_id")]


def test_an_insert_without_the_id_fails(database_url: str) -> None:
    async def insert() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("INSERT INTO autocare_vcdb.make (make_name, ingest_run_id) VALUES ('Invented', 0)")
        finally:
            await conn.close()

    with pytest.raises(asyncpg.NotNullViolationError):
        asyncio.run(insert())
