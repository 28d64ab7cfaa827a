"""The page source of a producer run: the AutoCare client, seen as the service expects it."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from producers.api_client import AutoCareClient, ClientConfig
from producers.paging import PageCursor
from producers.service import Checkpoint, FetchedPage
from schemas.settings import Settings


class ClientPageSource:
    def __init__(self, client: AutoCareClient) -> None:
        self.client = client

    async def pages(self, db: str, api_table: str, *, as_of: dt.date | None, since: dt.date | None,
                    resume: Checkpoint | None) -> AsyncIterator[FetchedPage]:
        start: PageCursor | int | None = None
        if resume is not None:
            start = PageCursor(resume.next_link, resume.next_page) if resume.next_link else resume.next_page
        async for page in self.client.iter_pages(db, api_table, as_of=as_of, since=since, start=start):
            nxt = page.next_cursor
            yield FetchedPage(
                number=page.cursor.page_number,
                records=page.records,
                total_count=page.pagination.total_count,
                total_pages=page.pagination.total_pages,
                next=Checkpoint(nxt.url, nxt.page_number) if nxt is not None else None,
                retries=page.attempts - 1,
            )


@asynccontextmanager
async def client_source(settings: Settings, **overrides: Any) -> AsyncIterator[ClientPageSource]:
    async with AutoCareClient(ClientConfig.from_settings(settings, **overrides)) as client:
        yield ClientPageSource(client)
