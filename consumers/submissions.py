"""What a sealed file run does beyond its rows: a FULL ACES file replaces its brand's applications
(SQL, run on the
sealing transaction's connection).

ACES `SubmissionType` FULL means "these are all my applications": once the file's applications
and its header row are both sealed, the live applications of its brands that this run did not
deliver end, soft, as VCdb deletes do (`end_date_time` = the run's start, the time its records
carry).  UPDATE files need nothing here: their `D` records arrive ended and their `A` records
upsert.  The statement runs in the sealing transaction of whichever of the two tables seals
second; an advisory lock per run makes the two seals see each other.
"""

from __future__ import annotations

from typing import Any, Protocol

from schemas.catalog import Table


class Executor(Protocol):
    async def execute(self, query: str, *args: Any) -> str: ...

_FULL_TABLES = ("App", "AcesFile")

# Its own statement: a READ COMMITTED statement sees what committed before it started, so the
# statement after the lock sees the other seal's commit.
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('vcdb-stream full submission'), $1::bigint::int)"
_REPLACE_FULL = """
WITH ready AS (
    SELECT count(*) = 2 AS ok FROM ingest.table_load
    WHERE run_id = $1 AND table_name = ANY($2::text[]) AND status = 'sealed'),
header AS (
    SELECT f.brand_aaia_id, r.started_at FROM autocare_aces.aces_file f JOIN ingest.runs r ON r.run_id = $1
    WHERE f.ingest_run_id = $1 AND upper(f.submission_type) = 'FULL' AND (SELECT ok FROM ready)),
brands AS (
    SELECT brand_aaia_id FROM header WHERE brand_aaia_id IS NOT NULL
    UNION SELECT DISTINCT a.brand_aaia_id FROM autocare_aces.app a WHERE a.ingest_run_id = $1
    AND EXISTS (SELECT 1 FROM header))
UPDATE autocare_aces.app t
SET end_date_time = (SELECT started_at AT TIME ZONE 'UTC' FROM header LIMIT 1), ingest_run_id = $1
WHERE t.brand_aaia_id IN (SELECT brand_aaia_id FROM brands) AND t.end_date_time IS NULL AND t.ingest_run_id < $1
"""


def replaces_full(table: Table) -> bool:
    """Does sealing this table for a run possibly end a FULL file's brand's other applications?"""
    return table.db == "aces" and table.name in _FULL_TABLES


async def replace_full(conn: Executor, run_id: int) -> int:
    """In the sealing transaction: end what a sealed FULL file did not deliver; the count ended."""
    await conn.execute(_LOCK, run_id)
    status = await conn.execute(_REPLACE_FULL, run_id, list(_FULL_TABLES))
    return int(status.split()[-1])
