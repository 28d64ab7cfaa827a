"""`vcdb status`: runs, releases, endpoint progress, per-table load state and consumer lag (reads only: the
run state through ledger/, the lag from the broker's high watermarks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from consumers.positions import message, misfits
from ledger import loads, releases, reports, runs
from schemas.catalog import load_catalog
from streams import topics
from streams.topics import group_id_for

if TYPE_CHECKING:
    from streams.broker import Kafka


async def status(pool: Any, bootstrap: Kafka | None, db: str, limit: int = 5) -> dict[str, Any]:
    run_rows = await runs.recent(pool, db, limit)
    out: dict[str, Any] = {"db": db, "runs": run_rows, "endpoints": [], "tables": [], "lag": []}
    async with pool.acquire() as conn:
        out["releases"] = [r.as_json() for r in (await releases.releases(conn, db))[-limit:]]
        out["waiting"] = [{k: w[k] for k in ("run_id", "kind", "run_status", "release", "reason", "error")}
                          for w in await releases.waiting_runs(conn, db)]
    if run_rows:
        last = run_rows[0]["run_id"]
        out["endpoints"] = await runs.progress(pool, last)
        out["tables"] = await reports.table_loads(pool, db, last)
    if bootstrap:
        catalog = load_catalog(db)
        offsets = await loads.stored_offsets(pool, group_id_for(db))
        known = {topics.data_topic(t) for t in catalog.loaded_tables()}
        positions = {tp: off for tp, off in offsets.items() if tp[0] in known}
        ranges: dict[tuple[str, int], tuple[int, int]] = {}
        if positions:  # aiokafka is imported only when there is a lag to measure
            from streams.broker import offset_ranges

            ranges = await offset_ranges(bootstrap, positions)
        per_topic: dict[str, int] = {}
        for tp, off in positions.items():
            end = ranges[tp][1] if tp in ranges else off
            per_topic[tp[0]] = per_topic.get(tp[0], 0) + max(0, end - off)
        out["lag"] = [{"topic": t, "lag": n} for t, n in sorted(per_topic.items())]
        found = misfits(positions, ranges)
        out["offsets_out_of_range"] = [str(m) for m in found]
        out["offsets_problem"] = message(found, db) if found else None
    return out
