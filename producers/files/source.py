"""The page source of a file run: one pass over an ACES or PIES file feeds every table's pages.

One parser task reads the file (producers.files.xml_stream) and feeds one bounded channel per entity
table; a page of a table is what N consecutive entities (Apps or Items) give it, and its cursor
says how many entities precede the next page, so a resumed run parses the file again and each
table publishes only the entities after its own checkpoint.  When the XML breaks, every table
gets the entities that were complete (a last, short page) and the error; nothing after them.
The file table's one page (the file's counts and digest) is asked for after the pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ledger.errors import RunStateError
from producers.files.paging import FileCursor, FilePage
from producers.files.xml_stream import Element, FileError, XmlStream
from producers.service import Cursor, EndpointPlan, RunPlan
from streams import envelope

PAGE_ENTITIES = 1000
CHANNEL_PAGES = 2  # pages of one table parsed ahead of its publishing (the service holds one more)


class FileChanged(FileError):
    """The file's bytes changed between two passes (still being written?): the run fails, resumable."""


class Reader(Protocol):
    """One format's reading of one file (producers.files.aces.AcesReader, pies.PiesReader)."""

    entity: str
    wanted: dict[str, frozenset[int]]
    tables: tuple[str, ...]
    file_table: str

    def element(self, elem: Element) -> dict[str, list[dict[str, Any]]] | None: ...
    def dropped(self, name: str) -> None: ...
    def file_record(self, file_id: str) -> dict[str, Any]: ...


def resume_point(ep: EndpointPlan) -> FileCursor | None:
    """Where a table of the file resumes paging: its checkpoint, or None (from the start)."""
    if ep.resume is None or not ep.pages_before:
        return None
    if isinstance(ep.resume, FileCursor):
        return ep.resume
    # A link: an API run's, or a file run's packed as a link before migration 0011 moved it.
    raise RunStateError(f"{ep.table.name}: checkpoint {ep.resume.url!r} is not a file cursor "
                        "(stored before migration 0011? run vcdb migrate, then resume)")


# --- the page source --------------------------------------------------------------------------------------------


class _Channel:
    """The pages of one table, parsed ahead of its endpoint (bounded), until the endpoint goes."""

    def __init__(self, capacity: int) -> None:
        self.queue: asyncio.Queue[FilePage | BaseException] = asyncio.Queue(capacity)
        self._space = asyncio.Event()
        self.closed = False
        self.took_last = False
        self.gone = asyncio.Event()  # the endpoint closed its pages (done, failed or stopped)

    async def put(self, item: FilePage | BaseException) -> None:
        while not self.closed:
            try:
                self.queue.put_nowait(item)
                return
            except asyncio.QueueFull:
                self._space.clear()
                await self._space.wait()

    async def get(self) -> FilePage | BaseException:
        item = await self.queue.get()
        self._space.set()
        return item

    def close(self) -> None:
        self.closed = True
        self._space.set()
        self.gone.set()


@dataclass
class _Buffer:
    """The page being filled for one table."""

    table: str
    skip: int  # entities published by an earlier attempt
    page: int  # number of the page being filled
    start: int  # entities before it
    entities: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)


class FileSource:
    """The run's page source: `pages(table)` is that table's share of one pass over the file.

    The entity tables are paged while the file is read; the file table's one page is asked for
    only after the pass (and the entity tables' end-of-table records): it holds the file's counts
    and digest."""

    def __init__(self, stream: XmlStream, reader: Reader, plan: RunPlan, *, page_entities: int = PAGE_ENTITIES,
                 channel_pages: int = CHANNEL_PAGES, file_id: str | None = None) -> None:
        self.stream = stream
        self.expected_id = file_id  # the digest of a pass before this one: the file must not change
        self.reader = reader
        self.page_entities = max(1, page_entities)
        self.channels: dict[str, _Channel] = {}
        self.buffers: dict[str, _Buffer] = {}
        self.skipped: dict[str, int] = {}
        self.entities = 0
        self.error: BaseException | None = None
        self.parse_seconds = 0.0
        self.file_id: str | None = None
        self._file_page = 1
        for ep in plan.endpoints:
            first = ep.resume.page_number if ep.resume is not None and ep.pages_before else 1
            if ep.table.name == reader.file_table:
                self._file_page = first
                continue
            if ep.done or ep.paged:
                continue  # the service asks no pages of it
            resume = resume_point(ep)
            skip = resume.entities if resume is not None else 0
            self.channels[ep.table.name] = _Channel(channel_pages)
            self.skipped[ep.table.name] = skip
            self.buffers[ep.table.name] = _Buffer(ep.table.name, skip, first, skip)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._pump(), name=f"parse {self.stream.name}")

    async def read_all(self) -> None:
        """Until the pass over the file has ended (started if no table asked for pages)."""
        self.start()
        assert self._task is not None
        await asyncio.shield(self._task)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def pages(self, db: str, api_table: str, *, as_of: dt.date | None, since: dt.date | None,
                    resume: Cursor | None) -> AsyncIterator[FilePage]:
        if api_table == self.reader.file_table:
            await self.read_all()
            if self.error is not None:
                raise self.error
            assert self.file_id is not None
            record = self.reader.file_record(self.file_id)
            yield self._page([record], self._file_page, self.entities, self.entities, last=True)
            return
        channel = self.channels[api_table]
        self.start()
        try:
            while True:
                item = await channel.get()
                if isinstance(item, BaseException):
                    raise item
                if item.next_cursor is None:
                    channel.took_last = True
                yield item
                if item.next_cursor is None:
                    return
        finally:
            channel.close()

    def _page(self, records: list[dict[str, Any]], number: int, start: int, end: int, *, last: bool) -> FilePage:
        raw = [envelope.encode_record(r) for r in records]
        name = self.stream.name
        return FilePage(records, raw, FileCursor(start, number, name),
                        None if last else FileCursor(end, number + 1, name), end, byte_size=sum(map(len, raw)))

    async def _flush(self, buf: _Buffer, *, last: bool) -> None:
        end = buf.start + buf.entities
        page = self._page(buf.records, buf.page, buf.start, end, last=last)
        buf.page, buf.start, buf.entities, buf.records = buf.page + 1, end, 0, []
        await self.channels[buf.table].put(page)

    async def _pump(self) -> None:
        started = time.monotonic()
        reader, size = self.reader, self.page_entities
        buffers = list(self.buffers.values())
        channels = list(self.channels.values())
        count = 0
        try:
            with contextlib.closing(self.stream.elements(reader.wanted, reader.dropped)) as elements:
                for elem in elements:
                    entity = reader.element(elem)
                    if entity is None:
                        continue
                    index, count = count, count + 1
                    for buf in buffers:
                        if index < buf.skip:
                            continue
                        if buf.entities >= size:  # full, and not the last: another entity came
                            await self._flush(buf, last=False)
                        records = entity.get(buf.table)
                        if records:
                            buf.records.extend(records)
                        buf.entities += 1
                    if count % size == 0:
                        self.entities = count
                        if channels and all(ch.closed for ch in channels):
                            return  # nobody reads on: every table stopped (a signal) or failed
                        await asyncio.sleep(0)  # let the pages out while the file is read
            self.entities = count
            self.parse_seconds = time.monotonic() - started
            if self.expected_id is not None and self.stream.digest != self.expected_id:
                raise FileChanged(f"{self.stream.name} changed while it was read (digest {self.expected_id} "
                                  f"before, {self.stream.digest} now): load it again once it is complete")
            self.file_id = self.stream.digest
            for buf in buffers:
                await self._flush(buf, last=True)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self.entities = count
            self.error = e
            for buf in buffers:
                if buf.entities:  # the complete entities of the page in flight, then the failure
                    await self._flush(buf, last=False)
            for ch in channels:
                await ch.put(e)


# --- the run ----------------------------------------------------------------------------------------------------
