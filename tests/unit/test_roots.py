"""What the API run's and a file run's roots decide alike (producers/roots.py): no socket."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.runs import Run
from ledger.statuses import EndpointStatus, RunStatus
from producers.api.paging import PageCursor
from producers.files.paging import FileCursor
from producers.roots import plan_for, run_status
from producers.runs import EndpointProgress
from producers.service import EndpointResult
from schemas.catalog import load_catalog

DONE, FAILED, INTERRUPTED, PENDING = (EndpointStatus.DONE, EndpointStatus.FAILED, EndpointStatus.INTERRUPTED,
                                      EndpointStatus.PENDING)


@pytest.mark.parametrize(("statuses", "failure", "expected"), [
    ([DONE, "skipped"], None, (RunStatus.SUCCEEDED, None)),
    ([DONE, FAILED], None, (RunStatus.FAILED, "B: boom")),
    ([DONE, INTERRUPTED], None, (RunStatus.INTERRUPTED, "stopped by signal; resume with --resume (1 endpoints)")),
    ([INTERRUPTED, PENDING], None, (RunStatus.INTERRUPTED, "stopped by signal; resume with --resume (2 endpoints)")),
    ([FAILED, INTERRUPTED], None, (RunStatus.FAILED, "A: boom")),
    ([DONE, DONE], ValueError("line 3"), (RunStatus.FAILED, "line 3")),
])
def test_run_status(statuses: list[str], failure: BaseException | None, expected: tuple[str, str | None]) -> None:
    results = [EndpointResult(t, s, error="boom" if s == FAILED else None) for t, s in zip("AB", statuses, strict=True)]
    assert run_status(results, failure=failure) == expected


def _progress(table: str, status: str, pages: int, *, link: str | None = None, page: int = 1,
              entities: int | None = None, file: str | None = None) -> EndpointProgress:
    return EndpointProgress(table, status, link, page, pages, pages * 10, None, entities, file)


def test_plan_for_resumes_each_endpoint_from_the_cursor_it_stored() -> None:
    catalog = load_catalog("vcdb")
    tables = [catalog.table(t) for t in ("Make", "Model", "Vehicle", "BaseVehicle")]
    run = Run(7, "vcdb", "baseline", dt.date(2026, 1, 1), None, tuple(t.name for t in tables), "running",
              dt.datetime.now(dt.UTC))
    states = {"Make": _progress("Make", DONE, 0), "Model": _progress("Model", EndpointStatus.PAGED, 2, page=3),
              "Vehicle": _progress("Vehicle", FAILED, 2, link="https://x/Vehicle?PageNumber=3", page=3),
              "BaseVehicle": _progress("BaseVehicle", FAILED, 1, page=2, entities=1000, file="f.xml")}
    plan = plan_for(run, tables, states)
    assert (plan.run_id, plan.db, plan.as_of, plan.since) == (7, "vcdb", dt.date(2026, 1, 1), None)
    make, model, vehicle, base = plan.endpoints
    assert (make.done, make.resume, make.pages_before) == (True, None, 0)
    assert (model.paged, model.resume) == (True, PageCursor(None, 3))
    assert (vehicle.resume, vehicle.pages_before, vehicle.records_before) == (
        PageCursor("https://x/Vehicle?PageNumber=3", 3), 2, 20)
    assert base.resume == FileCursor(1000, 2, "f.xml")
    assert [e.resume for e in plan_for(run, tables, {}).endpoints] == [None] * 4
