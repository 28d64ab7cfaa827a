"""What both composition roots decide alike: the API run's (producers/runner.py) and a file run's
(producers/files/run.py).

`plan_for` says which endpoints a run does and where each resumes (its checkpoint, as the ledger
stored it: a `PageCursor` or a `FileCursor`); `run_status` says how the endpoints' outcome becomes
the run's status and error.  A run that dooms itself (`RunDoomed`) or raises is the roots' own
business: it ends `failed` with that one error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ledger.runs import Run
from ledger.statuses import EndpointStatus, RunStatus
from producers.runs import EndpointProgress
from producers.service import EndpointPlan, EndpointResult, RunPlan
from schemas.catalog import Table


def plan_for(run: Run, tables: Sequence[Table], states: Mapping[str, EndpointProgress]) -> RunPlan:
    """The run's endpoints, each from its checkpoint (a new run's `states` are empty): one done
    before is skipped, one paged sends only its end-of-table records, one with pages published
    resumes after them."""
    plan = RunPlan(run.run_id, run.db, run.as_of, run.since)
    for t in tables:
        st = states.get(t.name)
        paged = st is not None and st.status == EndpointStatus.PAGED
        done = st is not None and st.status == EndpointStatus.DONE
        if st is None or st.pages_published == 0:
            plan.endpoints.append(EndpointPlan(t, paged=paged, done=done))
        else:
            plan.endpoints.append(EndpointPlan(t, st.cursor, st.pages_published, st.records_published,
                                               st.total_count, paged=paged, done=done))
    return plan


def run_status(results: Sequence[EndpointResult], *, failure: BaseException | None = None) -> tuple[str, str | None]:
    """The run's status and error from its endpoints' results: failed when `failure` (what failed
    the run outside its endpoints: a file that broke) or an endpoint failed; interrupted when an
    endpoint was stopped or never started; succeeded otherwise."""
    if failure is not None:
        return RunStatus.FAILED, str(failure)
    failed = [r for r in results if r.status == EndpointStatus.FAILED]
    if failed:
        return RunStatus.FAILED, "; ".join(f"{r.table}: {r.error}" for r in failed)
    unfinished = [r for r in results if r.status in (EndpointStatus.INTERRUPTED, EndpointStatus.PENDING)]
    if unfinished:
        return RunStatus.INTERRUPTED, f"stopped by signal; resume with --resume ({len(unfinished)} endpoints)"
    return RunStatus.SUCCEEDED, None
