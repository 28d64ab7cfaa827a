"""What a sealed file run does beyond its rows: a FULL ACES file replaces its brand's applications
(SQL, run on the
sealing transaction's connection).

ACES `SubmissionType` FULL means "these are all my applications": once the file's applications
and its header row are both sealed, the live applications of its brands that this run did not
deliver end, soft, as VCdb deletes do (`end_date_time` = the run's start, the time its records
carry).  UPDATE files need nothing here: their `D` records arrive ended and their `A` records
upsert.  The statement runs in the sealing transaction of whichever of the two tables seals
second; an advisory lock per run makes the two seals see each other.  Whether both are sealed,
and when the run started, the ledger says (ledger/loads.py, `start_if_sealed`).
"""

from __future__ import annotations

from typing import Any, Protocol

from ledger import changes, loads
from schemas.catalog import Table, load_catalog


class Executor(Protocol):
    async def execute(self, query: str, *args: Any) -> str: ...
    async def fetchval(self, query: str, *args: Any) -> Any: ...

_FULL_TABLES = ("App", "AcesFile")

# Its own statement: a READ COMMITTED statement sees what committed before it started, so the
# statements after the lock see the other seal's commit.
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('vcdb-stream full submission'), $1::bigint::int)"
# The brands a sealed FULL file ($1 its run) speaks for, and which of their live applications `t`
# it did not deliver: those end.
_BRANDS = """
WITH header AS (
    SELECT f.brand_aaia_id FROM autocare_aces.aces_file f
    WHERE f.ingest_run_id = $1 AND upper(f.submission_type) = 'FULL'),
brands AS (
    SELECT brand_aaia_id FROM header WHERE brand_aaia_id IS NOT NULL
    UNION SELECT DISTINCT a.brand_aaia_id FROM autocare_aces.app a WHERE a.ingest_run_id = $1
    AND EXISTS (SELECT 1 FROM header))"""
_ENDING = "t.brand_aaia_id IN (SELECT brand_aaia_id FROM brands) AND t.end_date_time IS NULL AND t.ingest_run_id < $1"
# $2: the run's start, the time its records carry.
_REPLACE_FULL = (_BRANDS + " UPDATE autocare_aces.app t SET end_date_time = $2::timestamptz AT TIME ZONE 'UTC', "
                 "ingest_run_id = $1 WHERE " + _ENDING)


def replaces_full(table: Table) -> bool:
    """Does sealing this table for a run possibly end a FULL file's brand's other applications?"""
    return table.db == "aces" and table.name in _FULL_TABLES


async def replace_full(conn: Executor, run_id: int) -> int:
    """In the sealing transaction: end what a sealed FULL file did not deliver; the count ended."""
    await conn.execute(_LOCK, run_id)
    started = await loads.start_if_sealed(conn, run_id, _FULL_TABLES)
    if started is None:
        return 0
    await changes.capture_ending(conn, run_id, load_catalog("aces").tables["App"], _BRANDS, _ENDING)
    status = await conn.execute(_REPLACE_FULL, run_id, started)
    return int(status.split()[-1])
