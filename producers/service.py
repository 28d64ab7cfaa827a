"""The producer service: one run (baseline or incremental) of every endpoint into its topic.

Per endpoint: fetch a page, publish its records, wait for the broker's acknowledgement of all of
them, then checkpoint the cursor.  A crash therefore re-publishes at most the page in flight.
The next page is fetched while the current one is published (one page ahead, never more), but
pages are published and checkpointed strictly in order, each only after the previous one's
checkpoint.  After the last page, an end-of-table record goes to every partition of the topic.
Endpoints run concurrently (bounded); one endpoint's failure lets the others finish, then fails
the run, unless the error dooms the run (`dooms_run`: the credentials or the scope refused, the
API out of reach, PostgreSQL or the broker gone): then no other endpoint could succeed, so the
others are cancelled at once and the run stops with that one error (`RunDoomed`), said once.
A stop request ends each endpoint after the page in hand is checkpointed, without waiting for a
page still on its way (it was never published, so a resume asks for it again).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Protocol

from ledger.errors import StateUnavailable
from ledger.statuses import EndpointStatus
from producers.api.errors import dooms_run as api_dooms_run
from producers.api.paging import PageCursor
from producers.files.paging import FileCursor
from schemas.api_map import DEFAULT_SKIP
from schemas.catalog import Catalog, Table, load_catalog
from schemas.graph import load_plan
from streams import envelope, metrics, topics
from streams.broker import BrokerError
from streams.records import OutRecord

log = logging.getLogger(__name__)


class ProducerError(RuntimeError):
    """The run cannot start (bad options); nothing was published."""


def dooms_run(exc: BaseException) -> bool:
    """No endpoint of the run can succeed after this error (see the module docstring)."""
    return api_dooms_run(exc) or isinstance(exc, StateUnavailable | BrokerError)


class RunDoomed(Exception):
    """The run stopped at the first error that dooms it (`__cause__`); `results` are the
    endpoints as they stood (those cancelled keep their last checkpoint)."""

    def __init__(self, cause: BaseException, results: list[EndpointResult]) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause
        self.results = results


# Where an endpoint is: the API's page link and number, or how many entities of a file precede it.
Cursor = PageCursor | FileCursor


class SourcePage(Protocol):
    """What the service reads of a page: the API's (producers.api.paging.Page) or a file's
    (producers.files.paging.FilePage)."""

    @property
    def records(self) -> list[dict[str, Any]]: ...
    @property
    def raw(self) -> list[bytes]: ...
    @property
    def number(self) -> int: ...
    @property
    def next_cursor(self) -> Cursor | None: ...  # None: the last page
    @property
    def checkpoint(self) -> Cursor: ...
    @property
    def total_count(self) -> int | None: ...
    @property
    def total_pages(self) -> int | None: ...
    @property
    def retries(self) -> int: ...


class PageSource(Protocol):
    def pages(self, db: str, api_table: str, *, as_of: dt.date | None, since: dt.date | None,
              resume: Cursor | None) -> AsyncIterator[SourcePage]: ...


class Sink(Protocol):
    async def publish(self, records: Sequence[OutRecord]) -> None: ...
    async def partitions(self, topic: str) -> list[int]: ...


class Progress(Protocol):
    def endpoint_started(self, table: str) -> None: ...
    def page_done(self, table: str, page: SourcePage, records: int) -> None: ...
    def endpoint_finished(self, table: str, status: str, error: str | None) -> None: ...


class NoProgress:
    def endpoint_started(self, table: str) -> None:
        pass

    def page_done(self, table: str, page: SourcePage, records: int) -> None:
        pass

    def endpoint_finished(self, table: str, status: str, error: str | None) -> None:
        pass


class RunState(Protocol):
    async def start_endpoint(self, run_id: int, table: str) -> None: ...
    async def checkpoint(self, run_id: int, table: str, *, cursor: Cursor, records: int,
                         total_count: int | None, total_pages: int | None, retries: int, last: bool) -> None: ...
    async def finish_endpoint(self, run_id: int, table: str, status: str, error: str | None = None) -> None: ...


@dataclass
class EndpointResult:
    table: str
    status: str = EndpointStatus.PENDING  # done | failed | interrupted | skipped (already done before --resume)
    pages: int = 0
    records: int = 0
    total_count: int | None = None
    retries: int = 0
    error: str | None = None
    seconds: float = 0.0


@dataclass
class EndpointPlan:
    table: Table
    resume: Cursor | None = None
    pages_before: int = 0  # pages checkpointed by an earlier attempt of this run
    records_before: int = 0
    total_count: int | None = None
    paged: bool = False  # every page published; only the end-of-table records are missing
    done: bool = False


@dataclass
class RunPlan:
    run_id: int
    db: str
    as_of: dt.date | None
    since: dt.date | None
    endpoints: list[EndpointPlan] = field(default_factory=list)


def select_tables(catalog: Catalog, tables: Sequence[str] | None, skip: Sequence[str]) -> list[Table]:
    """The endpoints of a run: --tables (or every API table) minus --skip (default skip list applies
    only when no --tables are named)."""
    try:
        skip_set = {catalog.table(s).name for s in skip}
        if tables:
            chosen = [catalog.table(t) for t in tables]
        else:
            skip_set |= DEFAULT_SKIP.get(catalog.db, frozenset())
            chosen = catalog.api_tables()
    except KeyError as e:
        raise ProducerError(str(e.args[0])) from e
    missing_api = [t.name for t in chosen if t.api_table is None]
    if missing_api:
        raise ProducerError(f"not served by the AutoCare API: {', '.join(missing_api)}")
    return [t for t in chosen if t.name not in skip_set]


class EndpointRunner:
    def __init__(self, plan: RunPlan, source: PageSource, sink: Sink, state: RunState, progress: Progress,
                 stop: asyncio.Event, clock: Callable[[], dt.datetime]) -> None:
        self.plan = plan
        self.source = source
        self.sink = sink
        self.state = state
        self.progress = progress
        self.stop = stop
        self.clock = clock
        self.ctx = envelope.RunContext(plan.run_id, plan.db, plan.as_of, plan.since)
        self.doomed = False  # an endpoint met an error that dooms the run: none starts after it

    async def run(self, ep: EndpointPlan) -> EndpointResult:
        table = ep.table
        assert table.api_table is not None
        result = EndpointResult(table.name, pages=ep.pages_before, records=ep.records_before,
                                total_count=ep.total_count)
        if ep.done:
            result.status = "skipped"
            return result
        started = time.monotonic()
        topic = topics.data_topic(table)
        keys = envelope.KeyEncoder(table)
        headers = envelope.DataHeaders(self.ctx, table.name)
        await self.state.start_endpoint(self.plan.run_id, table.name)
        self.progress.endpoint_started(table.name)
        ahead: _Ahead | None = None
        try:
            ahead = _Ahead(_no_pages() if ep.paged else self.source.pages(
                self.plan.db, table.api_table, as_of=self.plan.as_of, since=self.plan.since, resume=ep.resume))
            page = await self._next(ahead)
            while page is not None:
                if page is _STOPPED:
                    result.status = EndpointStatus.INTERRUPTED
                    break
                if page.next_cursor is not None and not self.stop.is_set():
                    ahead.start()  # page n+1 comes in while page n goes out
                batch = data_records(topic, keys, headers.page(page.number, self.clock()), page)
                await self.sink.publish(batch)
                await self.state.checkpoint(self.plan.run_id, table.name, cursor=page.checkpoint, records=len(batch),
                                            total_count=page.total_count, total_pages=page.total_pages,
                                            retries=page.retries, last=page.next_cursor is None)
                result.pages += 1
                result.records += len(batch)
                result.total_count = page.total_count
                result.retries += page.retries
                metrics.PAGES.labels(self.plan.db, table.name).inc()
                metrics.RECORDS_PUBLISHED.labels(self.plan.db, table.name).inc(len(batch))
                metrics.RETRIES.labels(self.plan.db, table.name).inc(page.retries)
                self.progress.page_done(table.name, page, len(batch))
                if page.next_cursor is None:
                    break
                if self.stop.is_set():
                    result.status = EndpointStatus.INTERRUPTED  # the page fetched ahead is dropped: a resume asks again
                    break
                page = await self._next(ahead)
            if result.status != EndpointStatus.INTERRUPTED:
                await self._end_of_table(table, topic, result)
                result.status = EndpointStatus.DONE
            await self.state.finish_endpoint(self.plan.run_id, table.name, result.status)
        except asyncio.CancelledError:
            result.status = "stopped"  # another endpoint doomed the run, or the caller gave up
            raise
        except Exception as e:
            result.status = EndpointStatus.FAILED
            if dooms_run(e):
                self.doomed = True
                raise  # said once, by the run (run_endpoints)
            result.error = f"{type(e).__name__}: {e}"
            log.error("endpoint %s failed: %s", table.name, result.error)
            await self.state.finish_endpoint(self.plan.run_id, table.name, EndpointStatus.FAILED, result.error)
        finally:
            if ahead is not None:
                await ahead.aclose()
            result.seconds = time.monotonic() - started
            self.progress.endpoint_finished(table.name, result.status, result.error)
        return result

    async def _next(self, ahead: _Ahead) -> SourcePage | None:
        """The next page, or `_STOPPED` when a stop request comes first (the fetch is dropped)."""
        if self.stop.is_set():
            return _STOPPED
        fetch = asyncio.ensure_future(ahead.next())
        stopped = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait((fetch, stopped), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not fetch.done():
                fetch.cancel()
                await asyncio.wait((fetch,))
            if not fetch.cancelled():
                fetch.exception()  # read here too: a caller cancelled as the fetch failed would leave it unread
        if fetch.cancelled():
            return _STOPPED
        return fetch.result()

    async def _end_of_table(self, table: Table, topic: str, result: EndpointResult) -> None:
        parts = await self.sink.partitions(topic)
        eot = envelope.EndOfTable(self.plan.run_id, table.name, result.records, result.pages, result.total_count,
                                  len(parts))
        headers = envelope.eot_headers(self.ctx, table.name)
        await self.sink.publish([OutRecord(topic, envelope.EOT_KEY, eot.encode(), headers, p) for p in parts])


def data_records(topic: str, keys: envelope.KeyEncoder, headers: envelope.PageHeaders,
                 page: SourcePage) -> list[OutRecord]:
    """One page's records as they go on the topic: key, the API's bytes, the page's headers."""
    if len(page.records) != len(page.raw):
        raise ValueError(f"page {page.number} has {len(page.records)} records but {len(page.raw)} raw records")
    # map over _make: a C loop, no per-record Python frame (a page is a thousand records).
    return list(map(OutRecord._make, zip(repeat(topic), keys.many(page.records, page.raw), page.raw,
                                         headers.records(len(page.raw)), repeat(None))))


class _Ahead:
    """An endpoint's pages, the next one fetched in a task of its own when asked to (``start``),
    so that the fetch overlaps the publishing of the page before."""

    def __init__(self, pages: AsyncIterator[SourcePage]) -> None:
        self._pages = pages
        self._task: asyncio.Task[SourcePage | None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._fetch())

    async def next(self) -> SourcePage | None:
        """The next page (the one fetched ahead, if any), or None after the last."""
        self.start()
        task, self._task = self._task, None
        assert task is not None
        return await task

    async def _fetch(self) -> SourcePage | None:
        try:
            return await anext(self._pages)
        except StopAsyncIteration:
            return None

    async def aclose(self) -> None:
        """Drop a page fetched ahead (never published, so never checkpointed) and end the pages."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
            if not task.cancelled():
                task.exception()  # read: the endpoint's outcome is already decided
        aclose = getattr(self._pages, "aclose", None)
        if aclose is not None:
            await aclose()


# A stop request came before the next page: a page in type only, never published.
_STOPPED: SourcePage = object()  # type: ignore[assignment]


async def _no_pages() -> AsyncIterator[SourcePage]:
    return
    yield  # an async generator that yields nothing


async def run_endpoints(plan: RunPlan, source: PageSource, sink: Sink, state: RunState, *, concurrency: int,
                        stop: asyncio.Event, progress: Progress | None = None,
                        clock: Callable[[], dt.datetime] | None = None) -> list[EndpointResult]:
    runner = EndpointRunner(plan, source, sink, state, progress or NoProgress(), stop,
                            clock or (lambda: dt.datetime.now(dt.UTC)))
    gate = asyncio.Semaphore(max(1, concurrency))
    # Parents first, so consumers can start loading early tables while children are still paging.
    levels = load_plan(load_catalog(plan.db)).level_of
    order = sorted(plan.endpoints, key=lambda e: levels(e.table.name))

    async def one(ep: EndpointPlan) -> EndpointResult:
        async with gate:
            if (stop.is_set() or runner.doomed) and not ep.done:
                return EndpointResult(ep.table.name, status="stopped" if runner.doomed else EndpointStatus.INTERRUPTED,
                                      pages=ep.pages_before, records=ep.records_before)
            return await runner.run(ep)

    tasks = [asyncio.create_task(one(ep)) for ep in order]
    if not tasks:
        return []
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for t in tasks:
            t.cancel()  # a no-op for those done; the rest: a doomed run, or our caller cancelled
        await asyncio.wait(tasks)
    failed = [t for t in tasks if not t.cancelled() and t.exception() is not None]
    if failed:
        cause = failed[0].exception()
        assert cause is not None
        done = [t.result() for t in tasks if not t.cancelled() and t.exception() is None]
        raise RunDoomed(cause, done) from cause
    return [t.result() for t in tasks]

