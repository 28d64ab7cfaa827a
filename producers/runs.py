"""The producers' handle on the run state: a pool bound to the ledger's run statements
(ledger/runs.py), speaking in cursors: the API's `PageCursor` (stored as `next_link`, `next_page`)
and a file run's `FileCursor` (stored as `entities_before`, `file_name`, `next_page`).

`RunStore` is what the producer service's `RunState` port and the runners need; the statements,
the lock (ledger/locks.py) and the errors (ledger/errors.py) are the ledger's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ledger import pools, runs
from ledger.runs import EndpointState, Run
from producers.api.paging import PageCursor
from producers.files.paging import FileCursor
from producers.service import Cursor


@dataclass(frozen=True)
class EndpointProgress(EndpointState):
    """An endpoint's checkpoint, and the cursor it resumes from."""

    @property
    def cursor(self) -> Cursor:
        """Where the endpoint resumes: the page after the last one checkpointed, as it was stored."""
        if self.entities_before is not None:
            return FileCursor(self.entities_before, self.next_page, self.file_name)
        return PageCursor(self.next_link, self.next_page)


class RunStore:
    def __init__(self, pool: pools.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, url: str) -> RunStore:
        return cls(await pools.connect_run_state(url))

    async def close(self) -> None:
        await self._pool.close()

    async def create_run(self, db: str, kind: str, as_of: dt.date | None, since: dt.date | None,
                         tables: Sequence[str], *, in_place: bool = False) -> Run:
        return await runs.create_run(self._pool, db, kind, as_of, since, tables, in_place=in_place)

    async def resumable_run(self, db: str, kind: str) -> Run:
        """The newest unfinished run of this kind (the lock is ours, so nobody else runs it)."""
        return await runs.resumable_run(self._pool, db, kind)

    async def run(self, run_id: int) -> Run | None:
        return await runs.run(self._pool, run_id)

    async def last_successful(self, db: str) -> Run | None:
        return await runs.last_successful(self._pool, db)

    async def endpoints(self, run_id: int) -> dict[str, EndpointProgress]:
        return {t: EndpointProgress(**vars(s)) for t, s in (await runs.endpoints(self._pool, run_id)).items()}

    async def start_endpoint(self, run_id: int, table: str) -> None:
        await runs.start_endpoint(self._pool, run_id, table)

    async def checkpoint(self, run_id: int, table: str, *, cursor: Cursor, records: int,
                         total_count: int | None, total_pages: int | None, retries: int, last: bool) -> None:
        """Called only after the broker acknowledged every record of the page."""
        if isinstance(cursor, FileCursor):
            await runs.checkpoint(self._pool, run_id, table, next_link=None, next_page=cursor.page_number,
                                  records=records, total_count=total_count, total_pages=total_pages,
                                  retries=retries, last=last, entities_before=cursor.entities,
                                  file_name=cursor.file)
            return
        await runs.checkpoint(self._pool, run_id, table, next_link=cursor.url, next_page=cursor.page_number,
                              records=records, total_count=total_count, total_pages=total_pages, retries=retries,
                              last=last)

    async def finish_endpoint(self, run_id: int, table: str, status: str, error: str | None = None) -> None:
        await runs.finish_endpoint(self._pool, run_id, table, status, error)

    async def finish_run(self, run_id: int, status: str, error: str | None = None) -> None:
        await runs.finish_run(self._pool, run_id, status, error)
