"""Reads that join several `ingest` tables, for the reports of the CLI and the explorer: a run's
per-table load with its open dead letters (`vcdb status`, the explorer's run page), a run's summary
(the demo), the counts `vcdb verify` compares with the API, and an ACES file run's duplicates.
"""

from __future__ import annotations

from typing import Any

from ledger.pools import Pool, Record


async def table_loads(pool: Pool, db: str, run_id: int) -> list[dict[str, Any]]:
    """Per table of the run: its load state, and the open dead letters of the table (any run)."""
    rows = await pool.fetch(
        "SELECT l.table_name, l.status, l.announced, l.loaded, l.dead_lettered, l.error, l.sealed_at, "
        "(SELECT count(*) FROM ingest.dead_letters d WHERE d.db = $2 AND d.table_name = l.table_name AND "
        "d.status = 'open') AS open_dead_letters FROM ingest.table_load l WHERE l.run_id = $1 "
        "ORDER BY l.table_name", run_id, db)
    return [dict(r) for r in rows]


async def run_table_loads(pool: Pool, run_id: int) -> list[Record]:
    """Per table of the run, in the order they sealed: its load state, and the open dead letters
    of this run's records of it (the explorer's run page)."""
    rows: list[Record] = await pool.fetch(
        "SELECT l.table_name, l.status, l.partitions, l.announced, l.loaded, l.dead_lettered, l.sealed_at, l.error, "
        "(SELECT count(*) FROM ingest.dead_letters d WHERE d.run_id = l.run_id AND d.table_name = l.table_name "
        " AND d.status = 'open') AS open_dead_letters "
        "FROM ingest.table_load l WHERE l.run_id = $1 ORDER BY l.sealed_at NULLS LAST, l.table_name", run_id)
    return rows


async def run_summary(pool: Pool, run_id: int) -> list[Record]:
    """Per endpoint of the run: the API's count, rows loaded, records dead-lettered and why, the
    load's status (`waiting` before the first batch)."""
    rows: list[Record] = await pool.fetch(
        "SELECT e.table_name, e.total_count, coalesce(l.loaded, 0) AS loaded, "
        "coalesce(l.dead_lettered, 0) AS dead, coalesce(l.status, 'waiting') AS status, "
        "(SELECT string_agg(reason || ' ' || n || coalesce(' (missing ' || mt || ')', ''), ', ') FROM "
        " (SELECT reason, missing_table AS mt, count(*) AS n FROM ingest.dead_letters d WHERE d.run_id = e.run_id "
        "  AND d.table_name = e.table_name GROUP BY 1, 2) x) AS reasons "
        "FROM ingest.endpoint_progress e LEFT JOIN ingest.table_load l USING (run_id, table_name) "
        "WHERE e.run_id = $1 ORDER BY e.table_name", run_id)
    return rows


async def api_counts(pool: Pool, db: str, run_id: int) -> list[Record]:
    """Per endpoint of the run: the API's totalCount and the table's open dead letters (`dead`),
    for `vcdb verify` to compare with the rows loaded."""
    rows: list[Record] = await pool.fetch(
        "SELECT e.table_name, e.total_count, (SELECT count(*) FROM ingest.dead_letters d WHERE d.db = $2 AND "
        "d.table_name = e.table_name AND d.status = 'open') AS dead FROM ingest.endpoint_progress e "
        "WHERE e.run_id = $1 ORDER BY e.table_name", run_id, db)
    return rows


# The records a file run received against the application keys it left (consumers/fitment.py's
# docstring).  A file run's records carry its start (UTC; to the microsecond, or to the second as
# files of the first releases did) as EffectiveDateTime, so the rows it left are those with that
# effective time: in the table, or, once a later release overwrote or ended them, in the
# before-image of that release's App change in the outbox (the images omit the run column).  A
# later run leaves no such image when it loaded in place (`r`: no before-image) or was published
# before the outbox (migration 0009): then an older run's figure is an upper bound (`traced` false).
_DUPLICATES = """
WITH received AS (
    SELECT p.run_id, sum(p.records)::bigint AS received FROM ingest.page_receipts p
    JOIN ingest.runs r ON r.run_id = p.run_id AND r.db = 'aces' WHERE p.table_name = 'App' GROUP BY p.run_id),
untraced AS (
    SELECT x.run_id FROM ingest.runs x WHERE x.run_id IN (SELECT run_id FROM received)
    AND (x.publication = 'in_place' OR EXISTS (
        SELECT 1 FROM ingest.releases l WHERE l.run_id = x.run_id AND l.status = 'published'
        AND NOT EXISTS (SELECT 1 FROM ingest.changes c WHERE c.run_id = x.run_id)))),
runs AS (
    SELECT r.run_id, r.started_at AT TIME ZONE 'UTC' AS effective,
           date_trunc('second', r.started_at AT TIME ZONE 'UTC') AS effective_s,
           NOT EXISTS (SELECT 1 FROM untraced u WHERE u.run_id > r.run_id) AS traced
    FROM ingest.runs r WHERE r.run_id IN (SELECT run_id FROM received)),
left_keys AS (
    SELECT r.run_id, a.app_key FROM autocare_aces.app a
    JOIN runs r ON a.effective_date_time IN (r.effective, r.effective_s)
    UNION
    SELECT r.run_id, c.row_key ->> 0 FROM ingest.changes c JOIN runs r ON c.run_id > r.run_id
    WHERE c.db = 'aces' AND c.table_name = 'App'
    AND (c.before ->> 'effective_date_time')::timestamp IN (r.effective, r.effective_s)
    UNION
    SELECT d.run_id, d.record_key::jsonb ->> 0 FROM ingest.dead_letters d
    WHERE d.db = 'aces' AND d.table_name = 'App' AND d.run_id IN (SELECT run_id FROM received))
SELECT r.run_id, f.file_name, f.submission_type, r.received,
       (SELECT count(*) FROM left_keys k WHERE k.run_id = r.run_id) AS distinct_apps,
       (SELECT traced FROM runs WHERE runs.run_id = r.run_id) AS traced
FROM received r LEFT JOIN autocare_aces.aces_file f ON f.ingest_run_id = r.run_id ORDER BY r.run_id
"""


async def file_duplicates(pool: Pool) -> list[dict[str, Any]]:
    """Per ACES file run that received App records: the records it received, the distinct
    application keys it left (its rows, as it left them, and its App dead letters), and whether
    every later change of App kept the before-images that tell those rows (`traced`;
    consumers/fitment.py says what the figures mean and how far to trust them)."""
    return [dict(r) for r in await pool.fetch(_DUPLICATES)]
