"""`vcdb releases` and `vcdb release publish|discard RUN`: the releases, and the operator's word on a
run the automatic rule refused (counts off, orphans found) or that cannot finish."""

from __future__ import annotations

from typing import Any

from consumers.publish import Outcome, Publisher, Result
from ledger import pools, releases
from schemas.catalog import DATABASES
from schemas.settings import Settings
from vcdb import exit_codes
from vcdb.console import UsageError, print_json


class ReleaseRefused(RuntimeError):
    """The publication was refused (or the run cannot publish as it is): the message says why."""


async def _writer(settings: Settings) -> pools.Writer:
    return await pools.connect_writer(settings.database_url, size=2)


async def list_releases(settings: Settings, db: str | None, *, as_json: bool = False) -> int:
    pool = await pools.connect_pool(settings.database_url, size=1)
    try:
        async with pool.acquire() as conn:
            rows = await releases.releases(conn, db)
            waiting = [w for d in ([db] if db else DATABASES) for w in await releases.waiting_runs(conn, d)]
    finally:
        await pool.close()
    undecided = [w for w in waiting if w["release"] is None]
    if as_json:
        print_json({"releases": [r.as_json() for r in rows],
                    "waiting": [{"run_id": w["run_id"], "kind": w["kind"], "run_status": w["run_status"],
                                 "error": w["error"]} for w in undecided]})
        return exit_codes.OK
    print(f"{'release':>7}  {'db':<5} {'run':>5}  {'kind':<11} {'status':<9} {'publication':<11} "
          f"{'rows':>9}  {'published at':<25} reason")
    for r in rows:
        when = r.published_at.isoformat(timespec="seconds") if r.published_at else "-"
        rows_n = sum(r.counts.values())
        note = (r.reason or "") + (" (forced)" if r.forced else "")
        print(f"{r.release_id:>7}  {r.db:<5} {r.run_id:>5}  {r.kind:<11} {r.status:<9} {r.publication:<11} "
              f"{rows_n:>9,}  {when:<25} {note}")
    if not rows:
        print("no releases yet")
    for w in undecided:
        print(f"run {w['run_id']} ({w['kind']}, {w['run_status']}): staged, not published yet"
              + (f": {w['error']}" if w["error"] else ""))
    return exit_codes.OK


def _said(result: Result) -> dict[str, Any]:
    return {"run_id": result.run_id, "outcome": result.outcome.value, "release": result.release_id,
            "reason": result.reason, "rows": result.counts, "seconds": round(result.seconds, 3)}


async def publish(settings: Settings, run: int, *, force: bool = False, as_json: bool = False) -> int:
    writer = await _writer(settings)
    try:
        result = await Publisher(writer.pool, skip_fk_triggers=writer.skip_fk_triggers).publish(run, force=force)
    finally:
        await writer.pool.close()
    if result.outcome == Outcome.UNKNOWN:
        raise UsageError(f"no run {run}")
    if result.outcome == Outcome.ALREADY and result.reason == "discarded":
        raise ReleaseRefused(f"run {run} was discarded: its staged rows are gone; run it again")
    if result.outcome in (Outcome.REFUSED, Outcome.INCOMPLETE):
        raise ReleaseRefused(f"run {run} not published: {result.reason}; `vcdb release publish {run} --force` "
                             f"publishes it anyway")
    if as_json:
        print_json(_said(result))
    elif result.outcome == Outcome.ALREADY:
        print(f"run {run} is already published")
    else:
        print(f"run {run} published as release {result.release_id}: {sum(result.counts.values()):,} rows in "
              f"{result.seconds:.2f} s" + (f" (forced past: {result.reason})" if result.reason else ""))
    return exit_codes.OK


async def discard(settings: Settings, run: int, *, as_json: bool = False) -> int:
    writer = await _writer(settings)
    try:
        result = await Publisher(writer.pool, skip_fk_triggers=writer.skip_fk_triggers).discard(run)
    finally:
        await writer.pool.close()
    if result.outcome == Outcome.UNKNOWN:
        raise UsageError(f"no run {run}")
    if result.outcome == Outcome.ALREADY:
        raise ReleaseRefused(f"run {run} cannot be discarded: it is {result.reason}")
    if as_json:
        print_json(_said(result))
    else:
        print(f"run {run} discarded: {sum(result.counts.values()):,} staged rows dropped, nothing published")
    return exit_codes.OK
