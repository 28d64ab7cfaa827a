"""Reports for people and machines: verify, diff, status, and the demo's per-table summary."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from ledger import pools
from ledger import reports as ledger_reports
from schemas.settings import Settings
from vcdb import exit_codes
from vcdb.console import print_json

if TYPE_CHECKING:
    from consumers.verify import VerifyReport

# Each report imports its consumers module when it runs: `vcdb status` does not pay for verify and diff.


@asynccontextmanager
async def read_pool(settings: Settings, db: str) -> AsyncIterator[Any]:
    """A small pool with the loader's server settings for the reading commands."""
    pool = await pools.connect_pool(settings.database_url, size=2)
    try:
        yield pool
    finally:
        await pool.close()


async def verify_report(settings: Settings, db: str, sample: int = 5) -> VerifyReport:
    from consumers import verify as verify_mod

    async with read_pool(settings, db) as pool:
        return await verify_mod.verify(pool, db, sample)


def render_verify(report: VerifyReport) -> str:
    lines = [f"verify {report.db}: {'OK' if report.ok else 'PROBLEMS FOUND'}"]
    bad = [o for o in report.orphans if o.orphans]
    lines.append(f"  orphan checks: {len(report.orphans)} references "
                 f"({sum(1 for o in report.orphans if not o.declared)} logical), {len(bad)} with orphans")
    for o in bad:
        kind = "FK" if o.declared else "logical reference"
        lines.append(f"    {o.table}.{','.join(o.columns)} -> {o.ref} ({kind}): {o.orphans} orphan rows, "
                     f"e.g. keys {', '.join(o.sample)}")
    if report.count_note:
        lines.append(f"  counts: {report.count_note}")
    else:
        off = [c for c in report.counts if not c.ok]
        lines.append(f"  counts against run {report.count_run}: {len(report.counts)} tables, {len(off)} off")
        for c in off:
            lines.append(f"    {c.table}: API totalCount {c.api_total}, rows {c.rows} + open dead letters "
                         f"{c.dead_letters} = {c.rows + c.dead_letters}")
    return "\n".join(lines)


async def verify(settings: Settings, db: str, *, sample: int = 5, as_json: bool = False) -> int:
    report = await verify_report(settings, db, sample)
    if as_json:
        print_json({"ok": report.ok, "db": report.db, "orphans": [asdict(o) for o in report.orphans],
                    "counts": [{**asdict(c), "ok": c.ok} for c in report.counts], "count_run": report.count_run,
                    "count_note": report.count_note})
    else:
        print(render_verify(report))
    return exit_codes.OK if report.ok else exit_codes.FAILED


async def diff(settings: Settings, db: str, from_run: int, to_run: int, tables: Sequence[str] = (), *,
               as_json: bool = False) -> int:
    from consumers import diff as diff_mod

    async with read_pool(settings, db) as pool:
        covered = await diff_mod.releases(pool, db, from_run, to_run)
        result = await diff_mod.diff(pool, db, from_run, to_run, list(tables) or None)
    if as_json:
        print_json([asdict(d) for d in result])
        return exit_codes.OK
    print(f"diff {db} run {from_run} -> run {to_run}: "
          + (f"the changes of release(s) {', '.join(f'{r} (run {run})' for r, run in covered)}" if covered
             else f"no published release of {db} has a run in ({from_run}, {to_run}]"))
    for d in result:
        if d.added or d.removed or d.changed:
            print(f"  {d.table}: +{d.added} added, -{d.removed} no longer in force, ~{d.changed} changed")
            for c in d.sample_changed:
                print(f"      {c['key']}: {', '.join(c['columns'])}")
    return exit_codes.OK


async def status(settings: Settings, db: str, *, as_json: bool = False) -> int:
    from consumers import status as status_mod

    async with read_pool(settings, db) as pool:
        data = await status_mod.status(pool, settings.kafka, db)
    if as_json:
        print_json(data)
        return exit_codes.OK
    print(f"runs of {db}:")
    for r in data["runs"]:
        print(f"  {r['run_id']:>4} {r['kind']:<11} {r['status']:<11} started {r['started_at']:%Y-%m-%d %H:%M:%S}"
              + (f"  {r['error']}" if r["error"] else ""))
    for x in data.get("releases", []):
        print(f"  release {x['release']:>4}: run {x['run_id']} {x['status']} ({x['publication']})"
              + (f" at {x['published_at']}" if x["published_at"] else "")
              + (", changes not relayed yet" if x["status"] == "published" and not x.get("relayed_at") else "")
              + (f": {x['reason']}" if x["reason"] else ""))
    for w in data.get("waiting", []):
        why = w["reason"] if w["release"] == "refused" else w["error"]
        print(f"  run {w['run_id']} ({w['kind']}, {w['run_status']}): staged, not published"
              + (f" ({w['release']}: {why})" if w["release"] else f": {why}" if why else ""))
    if data["endpoints"]:
        print("endpoints of the last run:")
        for e in data["endpoints"]:
            print(f"  {e['table_name']:<28} {e['status']:<9} pages {e['pages_published']}/{e['total_pages'] or '?'} "
                  f"records {e['records_published']}/{e['total_count'] if e['total_count'] is not None else '?'}")
    if data["tables"]:
        print("loading of the last run:")
        for t in data["tables"]:
            print(f"  {t['table_name']:<28} {t['status']:<8} loaded {t['loaded']} dead-lettered {t['dead_lettered']}"
                  f" (open {t['open_dead_letters']})")
    if data["lag"]:
        print("consumer lag: " + (", ".join(f"{x['topic']}={x['lag']}" for x in data["lag"] if x["lag"]) or "0"))
    if data.get("offsets_problem"):
        print(f"THE LOADER CANNOT GO ON: {data['offsets_problem']}")
    return exit_codes.OK


async def summary_table(settings: Settings, db: str, run_id: int) -> str:
    async with read_pool(settings, db) as pool:
        rows = await ledger_reports.run_summary(pool, run_id)
    width = max(len(r["table_name"]) for r in rows) if rows else 10
    lines = [f"{'table':<{width}}  {'API count':>9}  {'loaded':>8}  {'dead':>5}  status  dead-letter reasons"]
    for r in rows:
        lines.append(f"{r['table_name']:<{width}}  {r['total_count'] or 0:>9}  {r['loaded']:>8}  {r['dead']:>5}  "
                     f"{r['status']:<6}  {r['reasons'] or ''}")
    total = sum(r["total_count"] or 0 for r in rows), sum(r["loaded"] for r in rows), sum(r["dead"] for r in rows)
    lines.append(f"{'total':<{width}}  {total[0]:>9}  {total[1]:>8}  {total[2]:>5}")
    return "\n".join(lines)
