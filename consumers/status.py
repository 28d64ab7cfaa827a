"""`vcdb status`: runs, endpoint progress, per-table load state and consumer lag (queries only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemas.catalog import load_catalog
from streams import topics
from streams.topics import group_id_for

if TYPE_CHECKING:
    from streams.broker import Kafka


async def status(pool: Any, bootstrap: Kafka | None, db: str, runs: int = 5) -> dict[str, Any]:
    run_rows = await pool.fetch(
        "SELECT run_id, kind, status, as_of, since, started_at, finished_at, error FROM ingest.runs WHERE db = $1 "
        "ORDER BY run_id DESC LIMIT $2", db, runs)
    out: dict[str, Any] = {"db": db, "runs": [dict(r) for r in run_rows], "endpoints": [], "tables": [], "lag": []}
    if run_rows:
        last = run_rows[0]["run_id"]
        out["endpoints"] = [dict(r) for r in await pool.fetch(
            "SELECT table_name, status, pages_published, total_pages, records_published, total_count, retries, "
            "last_error FROM ingest.endpoint_progress WHERE run_id = $1 ORDER BY table_name", last)]
        out["tables"] = [dict(r) for r in await pool.fetch(
            "SELECT l.table_name, l.status, l.announced, l.loaded, l.dead_lettered, l.error, l.sealed_at, "
            "(SELECT count(*) FROM ingest.dead_letters d WHERE d.db = $2 AND d.table_name = l.table_name AND "
            "d.status = 'open') AS open_dead_letters FROM ingest.table_load l WHERE l.run_id = $1 "
            "ORDER BY l.table_name", last, db)]
    if bootstrap:
        catalog = load_catalog(db)
        offsets = {(r["topic"], r["partition"]): r["next_offset"] for r in await pool.fetch(
            "SELECT topic, partition, next_offset FROM ingest.consumer_offsets WHERE group_id = $1",
            group_id_for(db))}
        known = {topics.data_topic(t) for t in catalog.loaded_tables()}
        positions = {tp: off for tp, off in offsets.items() if tp[0] in known}
        marks = {}
        if positions:  # aiokafka is imported only when there is a lag to measure
            from streams.broker import high_watermarks

            marks = await high_watermarks(bootstrap, positions)
        per_topic: dict[str, int] = {}
        for (topic, _), off in positions.items():
            hw = marks.get((topic, _))
            per_topic[topic] = per_topic.get(topic, 0) + max(0, (hw or off) - off)
        out["lag"] = [{"topic": t, "lag": n} for t, n in sorted(per_topic.items())]
    return out
