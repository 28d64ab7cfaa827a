"""The page source of a producer run: the AutoCare client, seen as the service expects it."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ledger.errors import RunStateError
from producers.api.client import AutoCareClient, ClientConfig
from producers.api.paging import Page, PageCursor
from producers.files.paging import FileCursor
from schemas.settings import Settings


class ClientPageSource:
    def __init__(self, client: AutoCareClient) -> None:
        self.client = client

    def pages(self, db: str, api_table: str, *, as_of: dt.date | None, since: dt.date | None,
              resume: PageCursor | FileCursor | None) -> AsyncIterator[Page]:
        """The client's pages from ``resume`` (a checkpoint without a link resumes by number)."""
        if isinstance(resume, FileCursor):
            raise RunStateError(f"{db} {api_table}: the checkpoint is a file run's ({resume.entities} entities "
                                f"of {resume.file}), not a page of the API")
        return self.client.iter_pages(db, api_table, as_of=as_of, since=since, start=resume)


@asynccontextmanager
async def client_source(settings: Settings, **overrides: Any) -> AsyncIterator[ClientPageSource]:
    async with AutoCareClient(ClientConfig.from_settings(settings, **overrides)) as client:
        yield ClientPageSource(client)
