"""The producer's endpoint loop with fakes: the next page is fetched while the previous one is
published, checkpoints follow acknowledgements strictly in page order, and a stop, a failed
fetch or a failed publish checkpoint nothing past the last acknowledged page."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest

from producers.api.paging import Page, PageCursor, Pagination
from producers.service import EndpointPlan, EndpointResult, RunPlan, run_endpoints
from schemas.catalog import load_catalog
from streams import envelope
from streams.records import OutRecord

PAGES = 4
WHEN = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)


@dataclass
class World:
    log: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    fail_fetch: int | None = None
    fail_publish: int | None = None
    stop_during: int | None = None
    published: list[list[OutRecord]] = field(default_factory=list)
    checkpoints: list[tuple[int, str | None, bool]] = field(default_factory=list)
    closed: bool = False

    # --- the page source
    async def pages(self, db: str, api_table: str, *, as_of: dt.date | None, since: dt.date | None,
                    resume: PageCursor | None) -> AsyncIterator[Page]:
        try:
            for n in range(resume.page_number if resume else 1, PAGES + 1):
                self.log.append(f"fetch {n}")
                for _ in range(3):
                    await asyncio.sleep(0)
                if n == self.fail_fetch:
                    raise RuntimeError(f"page {n} failed for good")
                ids = [n * 10 + i for i in range(3)]
                recs: list[dict[str, object]] = [{"MakeID": m, "MakeName": f"M{i}"} for i, m in enumerate(ids)]
                nxt = PageCursor(f"https://api.test/Make?PageNumber={n + 1}", n + 1) if n < PAGES else None
                self.log.append(f"fetched {n}")
                yield Page(recs, [b'{"MakeID":%d,"MakeName":"M%d"}' % (m, i) for i, m in enumerate(ids)],
                           PageCursor(f"https://api.test/Make?PageNumber={n}", n), nxt,
                           Pagination(total_count=PAGES * 3, total_pages=PAGES))
        finally:
            self.closed = True

    # --- the sink
    async def publish(self, records: Sequence[OutRecord]) -> None:
        page = int(envelope.header_map(records[0].headers).get(envelope.H_PAGE, b"0"))
        self.log.append(f"publish {page}")
        if page == self.stop_during:
            self.stop.set()
        for _ in range(6):  # the broker takes its time: the next fetch gets ahead meanwhile
            await asyncio.sleep(0)
        if page == self.fail_publish:
            raise RuntimeError("broker gone")
        self.published.append(list(records))
        self.log.append(f"ack {page}")

    async def partitions(self, topic: str) -> list[int]:
        return [0, 1, 2]

    # --- the run state
    async def start_endpoint(self, run_id: int, table: str) -> None:
        pass

    async def checkpoint(self, run_id: int, table: str, *, cursor: PageCursor, records: int, total_count: int | None,
                         total_pages: int | None, retries: int, last: bool) -> None:
        self.log.append(f"checkpoint {cursor.page_number - 1}")
        self.checkpoints.append((cursor.page_number, cursor.url, last))

    async def finish_endpoint(self, run_id: int, table: str, status: str, error: str | None = None) -> None:
        self.log.append(f"finish {status}")


async def _run(world: World, resume: PageCursor | None = None) -> EndpointResult:
    plan = RunPlan(1, "vcdb", None, None, [EndpointPlan(load_catalog("vcdb").table("Make"), resume)])
    (result,) = await run_endpoints(plan, world, world, world, concurrency=1, stop=world.stop, clock=lambda: WHEN)
    return result


def _data_pages(world: World) -> list[int]:
    return [int(envelope.header_map(b[0].headers)[envelope.H_PAGE]) for b in world.published
            if envelope.header_map(b[0].headers)[envelope.H_KIND] == envelope.KIND_DATA]


async def test_the_next_page_is_fetched_while_the_previous_is_published() -> None:
    world = World()
    result = await _run(world)
    assert result.status == "done" and result.pages == PAGES and result.records == PAGES * 3
    log = world.log
    for n in range(1, PAGES):
        assert log.index(f"fetch {n + 1}") < log.index(f"ack {n}")  # overlapped
        # ...but published, acknowledged and checkpointed strictly in order
        assert log.index(f"ack {n}") < log.index(f"checkpoint {n}") < log.index(f"publish {n + 1}")
    assert log.count(f"fetch {PAGES + 1}") == 0  # never past the last page
    assert world.checkpoints == [(2, "https://api.test/Make?PageNumber=2", False),
                                 (3, "https://api.test/Make?PageNumber=3", False),
                                 (4, "https://api.test/Make?PageNumber=4", False), (5, None, True)]
    assert _data_pages(world) == [1, 2, 3, 4]
    first = world.published[0]
    assert [r.key for r in first] == [b"[10]", b"[11]", b"[12]"]
    assert first[1].value == b'{"MakeID":11,"MakeName":"M1"}'  # the API's bytes, as sent
    assert envelope.header_map(first[1].headers)[envelope.H_INDEX] == b"1"
    assert [r.partition for r in world.published[-1]] == [0, 1, 2]  # end of table, every partition


async def test_stop_finishes_the_page_in_flight_and_drops_the_page_fetched_ahead() -> None:
    world = World(stop_during=2)
    result = await _run(world)
    assert result.status == "interrupted" and result.pages == 2
    assert _data_pages(world) == [1, 2]
    assert [c[0] for c in world.checkpoints] == [2, 3]
    assert "fetch 3" in world.log and "publish 3" not in world.log  # fetched ahead, never published
    assert world.closed


async def test_resume_starts_at_the_checkpointed_page() -> None:
    world = World()
    result = await _run(world, PageCursor(None, 3))
    assert result.status == "done" and _data_pages(world) == [3, 4]


@pytest.mark.parametrize("fail", [1, 3])
async def test_a_failed_fetch_fails_the_endpoint_past_the_last_acknowledged_page(fail: int) -> None:
    world = World(fail_fetch=fail)
    result = await _run(world)
    assert result.status == "failed" and f"page {fail} failed for good" in (result.error or "")
    assert _data_pages(world) == list(range(1, fail))
    assert [c[0] for c in world.checkpoints] == list(range(2, fail + 1))
    assert world.log[-1] == "finish failed"


async def test_a_failed_publish_checkpoints_nothing_of_its_page() -> None:
    world = World(fail_publish=2)
    result = await _run(world)
    assert result.status == "failed" and "broker gone" in (result.error or "")
    assert [c[0] for c in world.checkpoints] == [2]
    assert "publish 3" not in world.log and world.closed
