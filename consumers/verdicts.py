"""Is the worker done? The idle, stall and blocked verdicts of `consume --until-idle` (pure).

Idle: no producer run of the database is running, every table a finished endpoint announced is
sealed, and nothing is held.  Blocked: every table still waiting belongs to a run that ended
without an ancestor's end-of-table records (its endpoint failed or was interrupted), so it can
never load: say so at once rather than after the stall timeout.  A count mismatch stops the
worker.  Stalled: not idle, and nothing moved for `stall_s`.

Releases: a staged run that ended without publishing (failed, interrupted, or refused by the
automatic rule) cannot finish by itself either: it stops the worker with a message naming the
run, why, and what the operator can do, while its staged rows wait (never published half).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ledger.statuses import EndpointStatus, LoadStatus, ReleaseStatus, RunStatus
from schemas.catalog import Catalog

StateRow = Mapping[str, Any]  # run_id, run_status, table_name, endpoint_status, load_status, error


class Verdict(StrEnum):
    BUSY = "busy"  # keep going
    IDLE = "idle"  # done: exit 0
    STOP = "stop"  # cannot finish: exit 1 with the message


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    message: str = ""


def judge(catalog: Catalog, state: Sequence[StateRow], mine: Collection[str], *, holding: bool, quiet_s: float,
          stall_s: float, unpublished: Sequence[StateRow] = ()) -> Judgement:
    """`state`: the open run state of the database (every table: a parent this worker does not
    load can still block its tables); `mine`: the tables this worker loads; `holding`: records
    still buffered; `quiet_s`: seconds since the worker last applied or sealed something;
    `unpublished`: the staged runs waiting for a decision (ledger/releases.py `waiting_runs`)."""
    rows = [r for r in state if r["table_name"] in mine]
    if holding or any(r["run_status"] == RunStatus.RUNNING for r in rows):
        return _stalled(quiet_s, stall_s, [])
    mismatched = [r for r in rows if r["load_status"] == LoadStatus.MISMATCH]
    if mismatched:
        return Judgement(Verdict.STOP, "; ".join(str(r["error"]) for r in mismatched))
    stuck = unfinished_releases(unpublished)
    if stuck:
        return Judgement(Verdict.STOP, "; ".join(stuck))
    waiting = [r for r in rows if r["endpoint_status"] == EndpointStatus.DONE and r["load_status"] != LoadStatus.SEALED]
    if not waiting:
        return Judgement(Verdict.IDLE)
    blocked = blocked_tables(catalog, state, waiting)
    if blocked and len(blocked) == len(waiting):
        return Judgement(Verdict.STOP, "; ".join(blocked))
    return _stalled(quiet_s, stall_s, waiting)


def _stalled(quiet_s: float, stall_s: float, waiting: Sequence[StateRow]) -> Judgement:
    if quiet_s <= stall_s:
        return Judgement(Verdict.BUSY)
    what = ", ".join(f"{r['table_name']} (run {r['run_id']}: {r['load_status']})" for r in waiting[:10])
    return Judgement(Verdict.STOP, f"nothing moved for {stall_s:.0f} s and not idle; waiting: {what or '?'}")


def blocked_tables(catalog: Catalog, rows: Sequence[StateRow], waiting: Sequence[StateRow]) -> list[str]:
    """Waiting tables of finished runs that can never load: an ancestor's endpoint in the same run
    did not finish (the run failed or was interrupted), so its end-of-table records never come."""
    cause: dict[tuple[object, str], str] = {
        (r["run_id"], str(r["table_name"])):
            f"{r['table_name']}, whose endpoint did not finish ({r['endpoint_status']})"
        for r in rows if r["endpoint_status"] != EndpointStatus.DONE}
    status = {r["run_id"]: r["run_status"] for r in rows}
    changed = True
    while changed:  # blocked parents block their children, down the FK graph
        changed = False
        for r in waiting:
            key = (r["run_id"], str(r["table_name"]))
            if key in cause:
                continue
            for parent in catalog.tables[key[1]].parents():
                if (r["run_id"], parent) in cause:
                    cause[key] = cause[(r["run_id"], parent)]
                    changed = True
                    break
    return [f"run {r['run_id']} ended {status[r['run_id']]}: {r['table_name']} waits for "
            f"{cause[(r['run_id'], str(r['table_name']))]}; resume the run with --resume, then consume again"
            for r in waiting if (r["run_id"], str(r["table_name"])) in cause]


def unfinished_releases(unpublished: Sequence[StateRow]) -> list[str]:
    """Staged runs that cannot publish by themselves: refused by the automatic rule, or ended
    (failed, interrupted) before every table sealed."""
    out = []
    for r in unpublished:
        run = r["run_id"]
        if r["release"] == ReleaseStatus.REFUSED:
            out.append(f"run {run} ({r['kind']}) is complete but its publication was refused: {r['reason']}; "
                       f"publish it anyway with `vcdb release publish {run} --force`, or drop it with "
                       f"`vcdb release discard {run}`")
        elif r["run_status"] not in (RunStatus.RUNNING, RunStatus.SUCCEEDED):
            out.append(f"run {run} ({r['kind']}) ended {r['run_status']}: {r['error'] or 'no error recorded'}; "
                       f"nothing of it is published, its complete records wait staged: resume it with --resume, "
                       f"or drop them with `vcdb release discard {run}`")
    return out
