"""The API-bound ceiling: a bare httpx client that downloads the producer's pages and throws them away.

Same simulator, same endpoints, same first URLs (built by the producer's own ClientConfig), the same
4 endpoints at once, page size 1000, following `X-Pagination`'s `nextPageLink` to the end.  No
parsing of the body, no broker, no database: what is left is the API and HTTP.  Records are
counted from the header (`totalCount`, `pageSize`, `currentPage`), not by decoding pages.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from schemas.settings import Settings


@dataclass
class Downloaded:
    endpoints: int
    pages: int
    records: int
    bytes: int
    seconds: float  # from the token request to the last page
    cpu_s: float  # this process's CPU over the same span

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def password_grant(settings: Settings) -> dict[str, str]:
    """The form of the identity server's password grant, as producers.api.tokens sends it."""
    return {"grant_type": "password", "username": settings.autocare_username,
            "password": settings.autocare_password.get_secret_value(), "client_id": settings.autocare_client_id,
            "client_secret": settings.autocare_client_secret.get_secret_value(), "scope": settings.autocare_scope}


def _page_records(pagination: Mapping[str, object]) -> int:
    total, size, current = (pagination.get(k) for k in ("totalCount", "pageSize", "currentPage"))
    if not (isinstance(total, int) and isinstance(size, int) and isinstance(current, int)):
        return 0
    return max(0, min(size, total - (current - 1) * size))


async def download(token_url: str, form: Mapping[str, str], first_urls: Sequence[str], *, concurrency: int = 4,
                   timeout_s: float = 600.0) -> Downloaded:
    t0, c0 = time.perf_counter(), time.process_time()
    limits = httpx.Limits(max_connections=concurrency + 1, max_keepalive_connections=concurrency + 1)
    async with httpx.AsyncClient(timeout=httpx.Timeout(180.0), limits=limits) as http:
        r = await http.post(token_url, data=dict(form))
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['access_token']}", "Accept": "application/json"}
        todo = list(reversed(first_urls))
        counts = {"pages": 0, "records": 0, "bytes": 0}

        async def endpoint_loop() -> None:
            while todo:
                url: str | None = todo.pop()
                while url:
                    resp = await http.get(url, headers=headers)
                    resp.raise_for_status()
                    pagination = json.loads(resp.headers.get("X-Pagination") or "{}")
                    counts["pages"] += 1
                    counts["bytes"] += len(resp.content)
                    page = _page_records(pagination)
                    counts["records"] += page
                    link = pagination.get("nextPageLink") or ""
                    url = urljoin(url, link) if link and page else None

        async with asyncio.timeout(timeout_s):
            await asyncio.gather(*(endpoint_loop() for _ in range(concurrency)))
    return Downloaded(len(first_urls), counts["pages"], counts["records"], counts["bytes"],
                      time.perf_counter() - t0, time.process_time() - c0)
