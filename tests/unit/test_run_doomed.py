"""An error that dooms the run stops every endpoint at its first occurrence (one error, not one per
endpoint); a stop request does not wait for a page still on its way; the verdicts themselves."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence

import pytest

from ledger.errors import StateUnavailable
from producers.api.errors import (
    Forbidden,
    InvalidClient,
    InvalidGrant,
    NotFound,
    RetriesExhausted,
    ServerError,
    TokenEndpointUnavailable,
    Unreachable,
)
from producers.api.paging import Page, PageCursor, Pagination
from producers.service import EndpointPlan, RunDoomed, RunPlan, dooms_run, run_endpoints
from schemas.catalog import load_catalog
from streams.broker import BrokerError
from streams.records import OutRecord

TABLES = ("Make", "Year", "VehicleType", "Aspiration", "BedLength", "BodyNumDoors")


class Source:
    """Each endpoint's first page takes `delay` s; endpoints named in `refuse` raise `error`."""

    def __init__(self, error: BaseException | None = None, refuse: Sequence[str] = (), delay: float = 0.0) -> None:
        self.error = error
        self.refuse = set(refuse)
        self.delay = delay
        self.asked: list[str] = []
        self.closed: list[str] = []

    async def pages(self, db: str, api_table: str, *, as_of: dt.date | None, since: dt.date | None,
                    resume: PageCursor | None) -> AsyncIterator[Page]:
        self.asked.append(api_table)
        try:
            await asyncio.sleep(self.delay)
            if api_table in self.refuse and self.error is not None:
                raise self.error
            record = {f"{api_table}ID": 1}
            yield Page([record], [b'{"%sID":1}' % api_table.encode()], PageCursor(None, 1), None, Pagination(1, 1))
        finally:
            self.closed.append(api_table)


class Sink:
    async def publish(self, records: Sequence[OutRecord]) -> None:
        await asyncio.sleep(0)

    async def partitions(self, topic: str) -> list[int]:
        return [0]


class State:
    def __init__(self) -> None:
        self.finished: list[tuple[str, str, str | None]] = []

    async def start_endpoint(self, run_id: int, table: str) -> None:
        pass

    async def checkpoint(self, run_id: int, table: str, *, cursor: PageCursor, records: int, total_count: int | None,
                         total_pages: int | None, retries: int, last: bool) -> None:
        pass

    async def finish_endpoint(self, run_id: int, table: str, status: str, error: str | None = None) -> None:
        self.finished.append((table, status, error))


def _plan() -> RunPlan:
    catalog = load_catalog("vcdb")
    return RunPlan(1, "vcdb", None, None, [EndpointPlan(catalog.table(t)) for t in TABLES])


def _refused() -> InvalidGrant:
    return InvalidGrant("POST /connect/token: username or password rejected", path="/connect/token", status=400)


async def test_a_rejected_password_stops_every_endpoint_with_one_error() -> None:
    source, state = Source(_refused(), refuse=TABLES, delay=0.01), State()
    with pytest.raises(RunDoomed) as info:
        await run_endpoints(_plan(), source, Sink(), state, concurrency=4, stop=asyncio.Event())
    assert isinstance(info.value.cause, InvalidGrant) and info.value.__cause__ is info.value.cause
    assert "username or password rejected" in str(info.value)
    # Four endpoints were under way; the others never started, and none recorded its own copy.
    assert len(source.asked) == 4 and not state.finished
    assert sorted(source.closed) == sorted(source.asked)


async def test_one_doomed_endpoint_cancels_the_others_in_flight() -> None:
    source, state = Source(_refused(), refuse=("Year",), delay=0.0), State()

    class Slow(Source):
        async def pages(self, db: str, api_table: str, **kw: object) -> AsyncIterator[Page]:  # type: ignore[override]
            if api_table != "Year":
                await asyncio.sleep(30)  # cancelled long before
            async for p in source.pages(db, api_table, **kw):  # type: ignore[arg-type]
                yield p

    started = asyncio.get_running_loop().time()
    with pytest.raises(RunDoomed):
        await run_endpoints(_plan(), Slow(), Sink(), state, concurrency=6, stop=asyncio.Event())
    assert asyncio.get_running_loop().time() - started < 5


async def test_an_error_that_dooms_nothing_lets_the_others_finish() -> None:
    source, state = Source(NotFound("GET /Year: HTTP 404", path="/Year", status=404), refuse=("Year",)), State()
    results = await run_endpoints(_plan(), source, Sink(), state, concurrency=2, stop=asyncio.Event())
    assert {r.table: r.status for r in results} == {**dict.fromkeys(TABLES, "done"), "Year": "failed"}
    assert [f for f in state.finished if f[1] == "failed"] == [("Year", "failed", "NotFound: GET /Year: HTTP 404")]


async def test_a_stop_does_not_wait_for_a_page_on_its_way() -> None:
    source, state, stop = Source(delay=30), State(), asyncio.Event()
    task = asyncio.create_task(run_endpoints(_plan(), source, Sink(), state, concurrency=2, stop=stop))
    await asyncio.sleep(0.05)
    stop.set()
    results = await asyncio.wait_for(task, 5)
    assert {r.status for r in results} == {"interrupted"}
    assert all(r.pages == 0 for r in results)


@pytest.mark.parametrize(("error", "doomed"), [
    (_refused(), True),
    (InvalidClient("client rejected"), True),
    (Forbidden("GET /Make: HTTP 403 scope", status=403), True),
    (RetriesExhausted(Unreachable("GET /Make: cannot connect"), 5), True),
    (RetriesExhausted(TokenEndpointUnavailable("POST /connect/token: unreachable"), 5), True),
    (StateUnavailable("PostgreSQL: ConnectionResetError"), True),
    (BrokerError("broker gone"), True),
    (RetriesExhausted(ServerError("GET /Make: HTTP 500", status=500), 5), False),
    (NotFound("GET /Make: HTTP 404", status=404), False),
    (RuntimeError("a bug"), False),
])
def test_which_errors_doom_the_run(error: BaseException, doomed: bool) -> None:
    assert dooms_run(error) is doomed
