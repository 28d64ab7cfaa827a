"""AutoCareClient against a fake AutoCare API behind httpx.MockTransport (no sockets).

Every fault is produced by the transport; the client is the real one.  Time is a fake clock
that the injected sleep advances, so nothing waits for real.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import logging
import math
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from pydantic import SecretStr

from producers.api.client import AutoCareClient, ClientConfig
from producers.api.errors import (
    ApiError,
    AuthenticationFailed,
    Forbidden,
    ForeignLink,
    InvalidClient,
    InvalidGrant,
    NetworkError,
    NotFound,
    ResponseTooLarge,
    RetriesExhausted,
    RetryAfterTooLong,
    ServerError,
    TokenEndpointUnavailable,
    TruncatedBody,
)
from producers.api.paging import Page, PageCursor
from producers.api.retry import RetryEvent
from schemas import api_map
from schemas.settings import Settings

TOKEN_URL = "https://id.test/connect/token"
VCDB = "https://vcdb.test"
BASE_URLS = {"vcdb": VCDB, "pcdb": "https://pcdb.test", "padb": "https://pcdb.test", "qdb": "https://qdb.test"}
CLIENT_SECRET = "cs-SECRET-9f3a1c"
PASSWORD = "pw-SECRET-77b1e0"
EPOCH = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

Fault = httpx.Response | type[httpx.TransportError] | Callable[[httpx.Request], httpx.Response]


def rows(n: int, start: int = 1) -> list[dict[str, Any]]:
    return [{"BaseVehicleID": i, "MakeID": i % 7, "YearID": 2000 + i % 20} for i in range(start, start + n)]


def oauth_error(code: str, status: int = 400, description: str = "") -> httpx.Response:
    return httpx.Response(status, json={"error": code, "error_description": description})


class CutStream(httpx.AsyncByteStream):
    """A body that stops half-way, as a reset connection does."""

    def __init__(self, head: bytes) -> None:
        self.head = head

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


@dataclass
class FakeApi:
    """Token endpoint, paged record endpoints and catalog, with queued faults."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"BaseVehicle": rows(2500)})
    expires_in: int | None = 3600
    issue_refresh: bool = True
    link_base: str | None = None  # where nextPageLink points; None: the host asked
    token_faults: list[Fault] = field(default_factory=list)
    data_faults: list[Fault] = field(default_factory=list)
    token_forms: list[dict[str, str]] = field(default_factory=list)
    data_requests: list[httpx.Request] = field(default_factory=list)
    access_tokens: list[str] = field(default_factory=list)
    refresh_tokens: list[str] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/connect/token":
            return self.token(request)
        return self.data(request)

    def _fault(self, queue: list[Fault], request: httpx.Request) -> httpx.Response | None:
        if not queue:
            return None
        fault = queue.pop(0)
        if isinstance(fault, httpx.Response):
            return fault
        if isinstance(fault, type):
            raise fault("simulated", request=request)
        return fault(request)

    def token(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        self.token_forms.append(form)
        if (fault := self._fault(self.token_faults, request)) is not None:
            return fault
        if form.get("grant_type") == "refresh_token" and form.get("refresh_token") not in self.refresh_tokens:
            return oauth_error("invalid_grant")
        n = len(self.access_tokens) + 1
        access, refresh = f"at-SECRET-{n:04d}", f"rt-SECRET-{n:04d}"
        self.access_tokens.append(access)
        self.valid.add(access)
        body: dict[str, Any] = {"access_token": access, "token_type": "Bearer"}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        if self.issue_refresh:
            self.refresh_tokens.append(refresh)
            body["refresh_token"] = refresh
        return httpx.Response(200, json=body)

    def data(self, request: httpx.Request) -> httpx.Response:
        self.data_requests.append(request)
        if (fault := self._fault(self.data_faults, request)) is not None:
            return fault
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.valid:
            return httpx.Response(401)
        parts = [p for p in request.url.path.split("/") if p]
        if parts[:3] == ["api", "v1.0", "databases"]:
            if len(parts) == 3:
                return httpx.Response(200, json=[{"databaseName": "VCdb"}, {"databaseName": "PCdb"}])
            return httpx.Response(200, json=[{"TableName": t} for t in self.tables])
        table = next((t for t in self.tables if t.lower() == parts[-1].lower()), None)
        if table is None:
            return httpx.Response(404, json={"message": f"No table {parts[-1]}"})
        params = {k.lower(): v for k, v in request.url.params.items()}  # case-insensitive [1.3]
        size, number = int(params.get("pagesize", "100")), int(params.get("pagenumber", "1"))
        data = self.tables[table]
        pages = max(1, math.ceil(len(data) / size))
        link = ""
        if number < pages:
            query = {k: v for k, v in request.url.params.items() if k.lower() != "pagenumber"}
            base = self.link_base or f"{request.url.scheme}://{request.url.netloc.decode()}"
            link = f"{base}{request.url.path}?{urlencode({**query, 'PageNumber': number + 1})}"
        header = {"totalCount": len(data), "pageSize": size, "currentPage": number, "totalPages": pages,
                  "nextPageLink": link}
        chunk = data[(number - 1) * size : number * size]
        return httpx.Response(200, json=chunk, headers={"X-Pagination": json.dumps(header)})


@dataclass
class Harness:
    api: FakeApi
    client: AutoCareClient
    t: float = 0.0
    sleeps: list[float] = field(default_factory=list)
    events: list[RetryEvent] = field(default_factory=list)

    def clock(self) -> float:
        return self.t

    def now(self) -> dt.datetime:
        return EPOCH + dt.timedelta(seconds=self.t)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    async def all_pages(self, table: str = "BaseVehicle", **kw: Any) -> list[Page]:
        return [p async for p in self.client.iter_pages("vcdb", table, **kw)]


def config(**overrides: Any) -> ClientConfig:
    values: dict[str, Any] = {
        "token_url": TOKEN_URL, "client_id": "client-1", "client_secret": SecretStr(CLIENT_SECRET),
        "username": "user@example.com", "password": SecretStr(PASSWORD),
        "scope": "VcdbApis CommonApis offline_access", "base_urls": BASE_URLS,
        "backoff_base": 1.0, "backoff_cap": 8.0, **overrides,
    }
    return ClientConfig(**values)


def harness(api: FakeApi | None = None, **overrides: Any) -> Harness:
    api = api or FakeApi()
    h = Harness(api, client=None)  # type: ignore[arg-type]
    h.client = AutoCareClient(
        config(**overrides), transport=httpx.MockTransport(api), clock=h.clock, now=h.now, sleep=h.sleep,
        rng=random.Random(1), on_retry=h.events.append,
    )
    return h


def query(request: httpx.Request) -> dict[str, str]:
    return dict(request.url.params.items())


# --- paging -----------------------------------------------------------------------------------


async def test_pages_through_a_table() -> None:
    h = harness()
    async with h.client:
        pages = await h.all_pages()
    assert [len(p.records) for p in pages] == [1000, 1000, 500]
    assert [r["BaseVehicleID"] for p in pages for r in p.records] == list(range(1, 2501))
    assert [json.loads(raw) for p in pages for raw in p.raw] == [r for p in pages for r in p.records]
    first = h.api.data_requests[0]
    assert first.url.path == "/api/v2.0/vcdb/BaseVehicle"
    assert query(first) == {"PageSize": "1000", "CultureId": "en-US"}
    assert first.headers["Authorization"] == "Bearer at-SECRET-0001"
    assert [p.cursor.page_number for p in pages] == [1, 2, 3]
    assert pages[0].next_cursor == pages[1].cursor and pages[-1].next_cursor is None
    assert pages[0].pagination.total_count == 2500 and pages[0].pagination.total_pages == 3
    assert all(p.attempts == 1 and p.byte_size > 0 and p.path == "/api/v2.0/vcdb/BaseVehicle" for p in pages)
    assert len(h.api.token_forms) == 1 and h.sleeps == [] and h.client.retries == 0


async def test_run_parameters_reach_the_api() -> None:
    h = harness(page_size=200, culture="fr-CA")
    async with h.client:
        await h.all_pages(as_of=dt.date(2025, 12, 18), since=dt.date(2026, 1, 1))
    assert query(h.api.data_requests[0]) == {
        "PageSize": "200", "CultureId": "fr-CA", "AsOfDate": "2025-12-18", "SinceDate": "2026-01-01"}
    assert len(h.api.data_requests) == 13
    # following nextPageLink keeps every parameter [1.4]
    assert query(h.api.data_requests[-1])["AsOfDate"] == "2025-12-18"


async def test_empty_table_is_one_empty_page() -> None:
    h = harness(FakeApi(tables={"Make": []}))
    async with h.client:
        pages = await h.all_pages("Make")
    assert len(pages) == 1 and pages[0].records == [] and pages[0].next_cursor is None


async def test_empty_page_stops_even_with_a_next_link() -> None:
    header = json.dumps({"nextPageLink": f"{VCDB}/api/v2.0/vcdb/BaseVehicle?PageNumber=2"})
    api = FakeApi(data_faults=[httpx.Response(200, json=[], headers={"X-Pagination": header})])
    h = harness(api)
    async with h.client:
        pages = await h.all_pages()
    assert len(pages) == 1 and pages[0].next_cursor is None


async def test_each_record_comes_with_its_bytes_as_sent() -> None:
    body = b'[{"BaseVehicleID":1,"Price":1.50,"Big":1e3,"Name":"Citro\\u00ebn {\\"x\\"}"},\n {"BaseVehicleID":2}]'
    api = FakeApi(data_faults=[httpx.Response(200, content=body, headers={"X-Pagination": "{}"})])
    h = harness(api)
    async with h.client:
        (page,) = await h.all_pages()
    assert page.records == [{"BaseVehicleID": 1, "Price": 1.5, "Big": 1000.0, "Name": 'Citroën {"x"}'},
                            {"BaseVehicleID": 2}]
    assert page.raw == [b'{"BaseVehicleID":1,"Price":1.50,"Big":1e3,"Name":"Citro\\u00ebn {\\"x\\"}"}',
                        b'{"BaseVehicleID":2}']
    assert page.number == 1 and page.retries == 0 and page.checkpoint == PageCursor(None, 2, 1000)


async def test_duplicate_records_are_returned_as_they_are() -> None:
    dup = [{"MakeID": 1, "MakeName": "Ford"}, {"MakeID": 1, "MakeName": "Ford"}]
    h = harness(FakeApi(tables={"Make": dup}))
    async with h.client:
        pages = await h.all_pages("Make")
    assert pages[0].records == dup


async def test_http_next_link_is_rewritten_to_https() -> None:
    h = harness(FakeApi(link_base="http://vcdb.test"))
    async with h.client:
        pages = await h.all_pages()
    assert len(pages) == 3
    assert {r.url.scheme for r in h.api.data_requests} == {"https"}
    assert pages[1].cursor.url.startswith("https://vcdb.test/")


async def test_next_link_to_another_host_is_refused() -> None:
    h = harness(FakeApi(link_base="https://elsewhere.test"))
    async with h.client:
        with pytest.raises(ForeignLink) as info:
            await h.all_pages()
    assert "elsewhere.test" in str(info.value) and not info.value.transient
    assert {r.url.host for r in h.api.data_requests} == {"vcdb.test"}  # the token never left


async def test_foreign_cursor_is_refused_before_sending() -> None:
    h = harness()
    async with h.client:
        with pytest.raises(ForeignLink):
            await h.client.fetch_page(PageCursor("https://evil.test/api/v2.0/vcdb/Make", 1))
    assert h.api.data_requests == [] and h.api.token_forms == []


async def test_resume_at_page_number() -> None:
    h = harness()
    async with h.client:
        pages = await h.all_pages(start=2)
    assert query(h.api.data_requests[0])["PageNumber"] == "2"
    assert [r["BaseVehicleID"] for p in pages for r in p.records] == list(range(1001, 2501))


async def test_resume_from_a_checkpoint_without_a_link() -> None:
    h = harness()
    async with h.client:
        pages = await h.all_pages(start=PageCursor(None, 3))
    assert query(h.api.data_requests[0])["PageNumber"] == "3" and [p.number for p in pages] == [3]


async def test_a_cursor_without_a_url_is_not_fetched() -> None:
    h = harness()
    async with h.client:
        with pytest.raises(ValueError, match="has no URL"):
            await h.client.fetch_page(PageCursor(None, 2))
    assert h.api.data_requests == []


async def test_resume_from_a_checkpointed_cursor() -> None:
    h = harness()
    async with h.client:
        first = await anext(aiter(h.client.iter_pages("vcdb", "BaseVehicle")))
        checkpoint = first.next_cursor
        assert checkpoint is not None
        rest = [p async for p in h.client.iter_pages("vcdb", "BaseVehicle", start=checkpoint)]
    assert h.api.data_requests[1].url == checkpoint.url
    assert [p.cursor.page_number for p in rest] == [2, 3]


async def test_single_quoted_pagination_header() -> None:
    header = "{'totalCount': 1, 'nextPageLink': ''}"
    h = harness(FakeApi(data_faults=[httpx.Response(200, json=[{"a": 1}], headers={"X-Pagination": header})]))
    async with h.client:
        pages = await h.all_pages()
    assert pages[0].pagination.total_count == 1 and pages[0].next_cursor is None


async def test_catalog_endpoints() -> None:
    h = harness()
    async with h.client:
        dbs = await h.client.databases()
        tables = await h.client.tables("VCdb")
    assert dbs == [{"databaseName": "VCdb"}, {"databaseName": "PCdb"}]
    assert tables == [{"TableName": "BaseVehicle"}]
    assert [r.url.path for r in h.api.data_requests] == ["/api/v1.0/databases", "/api/v1.0/databases/VCdb/tables"]
    assert {r.url.host for r in h.api.data_requests} == {"vcdb.test"}  # common_url defaults to vcdb's


def test_config_from_settings() -> None:
    real = ClientConfig.from_settings(Settings(AUTOCARE_VCDB_URL=api_map.DATABASES["vcdb"].host))
    assert real.common_base == api_map.COMMON_URL and real.base_urls["padb"] == real.base_urls["pcdb"]
    local = ClientConfig.from_settings(
        Settings(AUTOCARE_VCDB_URL="http://127.0.0.1:8000/", AUTOCARE_CLIENT_SECRET="s"), page_size=10)
    assert local.common_base == "http://127.0.0.1:8000" and local.page_size == 10
    assert local.client_secret.get_secret_value() == "s" and "'s'" not in repr(local)


def test_unknown_database() -> None:
    with pytest.raises(ValueError, match="unknown database"):
        config().page_request("brand", "Brand")


# --- transient faults -------------------------------------------------------------------------


async def test_429_with_retry_after_seconds() -> None:
    h = harness(FakeApi(data_faults=[httpx.Response(429, headers={"Retry-After": "7"})]))
    async with h.client:
        pages = await h.all_pages()
    assert h.sleeps == [7.0] and pages[0].attempts == 2 and h.client.retries == 1
    (event,) = h.events
    assert event.attempt == 1 and event.delay == 7.0 and event.path == "/api/v2.0/vcdb/BaseVehicle"
    assert event.reason == "RateLimited HTTP 429"


async def test_429_with_retry_after_http_date() -> None:
    when = email.utils.format_datetime(EPOCH + dt.timedelta(seconds=30), usegmt=True)
    h = harness(FakeApi(data_faults=[httpx.Response(429, headers={"Retry-After": when})]))
    async with h.client:
        await h.all_pages()
    assert h.sleeps == [30.0]


async def test_retry_after_beyond_the_cap_is_fatal() -> None:
    h = harness(FakeApi(data_faults=[httpx.Response(503, headers={"Retry-After": "3600"})]), retry_after_cap=120)
    async with h.client:
        with pytest.raises(RetryAfterTooLong) as info:
            await h.all_pages()
    assert "server asked to wait 3600 s, more than the cap 120 s" in str(info.value)
    assert h.sleeps == []


async def test_server_errors_then_success() -> None:
    faults: list[Fault] = [httpx.Response(500), httpx.Response(502), httpx.Response(503)]
    h = harness(FakeApi(data_faults=faults))
    async with h.client:
        pages = await h.all_pages()
    assert pages[0].attempts == 4 and len(h.sleeps) == 3
    # full jitter under the capped exponential: base 1, cap 8
    assert all(0 <= s <= c for s, c in zip(h.sleeps, [1, 2, 4], strict=True))
    assert [e.error.status for e in h.events] == [500, 502, 503]


@pytest.mark.parametrize(
    "exc", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ConnectError, httpx.RemoteProtocolError,
            httpx.ReadError]
)
async def test_timeouts_and_resets_then_success(exc: type[httpx.TransportError]) -> None:
    h = harness(FakeApi(data_faults=[exc]))
    async with h.client:
        pages = await h.all_pages()
    assert pages[0].attempts == 2 and isinstance(h.events[0].error, NetworkError)


async def test_body_cut_short_then_success() -> None:
    cut = httpx.Response(200, stream=CutStream(b'[{"BaseVehicleID": 1},'))
    short = httpx.Response(200, content=b'[{"BaseVehicleID": 1}]', headers={"Content-Length": "5000"})
    h = harness(FakeApi(data_faults=[cut, short]))
    async with h.client:
        pages = await h.all_pages()
    assert pages[0].attempts == 3 and len(pages[0].records) == 1000
    assert [type(e.error) for e in h.events] == [TruncatedBody, TruncatedBody]
    assert "of 5000 bytes" in str(h.events[1].error)


@pytest.mark.parametrize(
    "body", [b'[{"BaseVehicleID": 1}, {"Base', b'{"data": []}', b"<html>oops</html>", b"[1, 2]", b"", b"  "]
)
async def test_malformed_body_then_success(body: bytes) -> None:
    h = harness(FakeApi(data_faults=[httpx.Response(200, content=body)]))
    async with h.client:
        pages = await h.all_pages()
    assert pages[0].attempts == 2 and type(h.events[0].error).__name__ == "MalformedBody"


async def test_no_content_is_an_empty_page() -> None:
    h = harness(FakeApi(data_faults=[httpx.Response(204)]))
    async with h.client:
        pages = await h.all_pages()
    assert len(pages) == 1 and pages[0].records == [] and pages[0].attempts == 1


async def test_garbled_pagination_header_is_retried() -> None:
    h = harness(FakeApi(data_faults=[httpx.Response(200, json=[{"a": 1}], headers={"X-Pagination": "{{nope"})]))
    async with h.client:
        pages = await h.all_pages()
    assert pages[0].attempts == 2


async def test_retries_exhausted_is_fatal_and_names_path_and_attempts() -> None:
    h = harness(FakeApi(data_faults=[httpx.Response(503)] * 10), max_attempts=4)
    async with h.client:
        with pytest.raises(RetriesExhausted) as info:
            await h.all_pages()
    e = info.value
    assert e.attempts == 4 and isinstance(e.last_error, ServerError) and not e.transient
    assert "/api/v2.0/vcdb/BaseVehicle" in str(e) and "4 attempts" in str(e) and "503" in str(e)
    assert len(h.sleeps) == 3 and len(h.api.data_requests) == 4


def _answer(request: httpx.Request) -> None:
    """A queued "fault" that lets the request through."""


async def test_an_outage_of_an_api_that_answered_is_ridden_out_past_max_attempts() -> None:
    down = [httpx.ConnectError] * 11  # page 2 refused 11 times: more than max_attempts, less than outage_s
    h = harness(FakeApi(data_faults=[_answer, *down]), max_attempts=4, outage_s=120.0)  # type: ignore[list-item]
    async with h.client:
        pages = await h.all_pages()
    assert [p.attempts for p in pages] == [1, 12, 1]
    assert len(h.events) == 11 and all(isinstance(e.error, NetworkError) for e in h.events)
    assert sum(h.sleeps) < 120.0  # within the window the whole time


async def test_an_outage_longer_than_outage_s_gives_up_after_the_window() -> None:
    h = harness(FakeApi(data_faults=[_answer, *[httpx.ConnectError] * 200]), max_attempts=4,  # type: ignore[list-item]
                outage_s=30.0)
    async with h.client:
        with pytest.raises(RetriesExhausted) as info:
            await h.all_pages()
    assert info.value.attempts > 4
    assert 30.0 <= sum(h.sleeps[:-1]) + h.sleeps[-1] and sum(h.sleeps[:-1]) < 30.0  # the last wait crossed it
    assert len(h.api.data_requests) == 1 + info.value.attempts


async def test_a_request_failing_while_the_api_answers_others_is_not_an_outage() -> None:
    def fail_page_2(request: httpx.Request) -> httpx.Response | None:
        return httpx.Response(500) if request.url.params.get("PageNumber") == "2" else None

    api = FakeApi(data_faults=[fail_page_2] * 100)  # type: ignore[list-item]
    h = Harness(api, client=None)  # type: ignore[arg-type]

    async def sleep(seconds: float) -> None:  # a wait lets the other requests run
        h.sleeps.append(seconds)
        h.t += seconds
        await asyncio.sleep(0)

    h.client = AutoCareClient(config(outage_s=120.0, max_attempts=3), transport=httpx.MockTransport(api),
                              clock=h.clock, now=h.now, sleep=sleep, rng=random.Random(1))
    req = h.client.config.page_request("vcdb", "BaseVehicle")

    async def others() -> None:
        for _ in range(20):  # page 3 keeps loading meanwhile
            h.t += 0.01
            await h.client.fetch_page(req.start(3))
            await asyncio.sleep(0)

    async with h.client:
        await h.client.fetch_page(req.start(1))
        with pytest.raises(RetriesExhausted) as info:
            await asyncio.gather(h.client.fetch_page(req.start(2)), others())
    assert info.value.attempts == 3  # the page's own trouble: max_attempts, not two minutes


async def test_an_api_that_never_answered_fails_after_max_attempts_whatever_outage_s() -> None:
    h = harness(FakeApi(data_faults=[httpx.ConnectError] * 50), max_attempts=4, outage_s=120.0)
    async with h.client:
        with pytest.raises(RetriesExhausted) as info:
            await h.all_pages()
    assert info.value.attempts == 4 and len(h.sleeps) == 3  # a wrong address: no minutes of waiting


# --- fatal answers ----------------------------------------------------------------------------


async def test_403_is_fatal_at_once() -> None:
    h = harness(FakeApi(data_faults=[httpx.Response(403)]))
    async with h.client:
        with pytest.raises(Forbidden) as info:
            await h.all_pages()
    assert "VcdbApis" in str(info.value) and "HTTP 403" in str(info.value)
    assert len(h.api.data_requests) == 1 and h.sleeps == []


async def test_403_with_a_cut_error_body_is_still_403() -> None:
    h = harness(FakeApi(data_faults=[httpx.Response(403, stream=CutStream(b'{"message": "no'))]))
    async with h.client:
        with pytest.raises(Forbidden):
            await h.all_pages()
    assert len(h.api.data_requests) == 1


async def test_404_unknown_table_is_fatal() -> None:
    h = harness()
    async with h.client:
        with pytest.raises(NotFound) as info:
            await h.all_pages("NoSuchTable")
    assert "/api/v2.0/vcdb/NoSuchTable" in str(info.value) and "No table NoSuchTable" in str(info.value)
    assert len(h.api.data_requests) == 1


async def test_table_name_case_does_not_matter() -> None:
    h = harness()
    async with h.client:
        pages = await h.all_pages("basevehicle")
    assert len(pages) == 3


async def test_response_over_the_cap_is_fatal() -> None:
    h = harness(max_response_bytes=10_000)
    async with h.client:
        with pytest.raises(ResponseTooLarge) as info:
            await h.all_pages()
    assert "cap 10000 bytes" in str(info.value) and "Content-Length" in str(info.value)


async def test_streamed_response_over_the_cap_is_fatal() -> None:
    class Big(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for _ in range(100):
                yield b" " * 1000

    h = harness(FakeApi(data_faults=[httpx.Response(200, stream=Big())]), max_response_bytes=10_000)
    async with h.client:
        with pytest.raises(ResponseTooLarge, match="more than"):
            await h.all_pages()


async def test_redirect_is_not_followed() -> None:
    h = harness(FakeApi(data_faults=[httpx.Response(302, headers={"Location": "https://evil.test/x"})]))
    async with h.client:
        with pytest.raises(ApiError) as info:
            await h.all_pages()
    assert "evil.test" in str(info.value) and not info.value.transient
    assert {r.url.host for r in h.api.data_requests} == {"vcdb.test"}


# --- authentication -----------------------------------------------------------------------------


async def test_token_is_renewed_before_it_expires() -> None:
    h = harness()
    async with h.client:
        pages = h.client.iter_pages("vcdb", "BaseVehicle")
        await anext(pages)
        h.t = 3000.0  # before the renewal point (3600 - 360): same token
        await anext(pages)
        h.t = 3300.0  # inside the margin: renewed with the refresh grant, before any 401
        await anext(pages)
    assert [f["grant_type"] for f in h.api.token_forms] == ["password", "refresh_token"]
    assert h.api.token_forms[1]["refresh_token"] == "rt-SECRET-0001"
    assert [r.headers["Authorization"] for r in h.api.data_requests] == [
        "Bearer at-SECRET-0001", "Bearer at-SECRET-0001", "Bearer at-SECRET-0002"]


async def test_missing_expires_in_means_an_hour() -> None:
    h = harness(FakeApi(expires_in=None))
    async with h.client:
        pages = h.client.iter_pages("vcdb", "BaseVehicle")
        await anext(pages)
        h.t = 3000.0
        await anext(pages)
        h.t = 3500.0
        await anext(pages)
    assert len(h.api.token_forms) == 2


async def test_401_reauthenticates_once_then_succeeds() -> None:
    h = harness(FakeApi(data_faults=[httpx.Response(401)]))
    async with h.client:
        pages = await h.all_pages()
    assert pages[0].attempts == 2 and len(h.api.token_forms) == 2 and h.sleeps == []


async def test_revoked_token_is_replaced() -> None:
    h = harness()
    async with h.client:
        pages = h.client.iter_pages("vcdb", "BaseVehicle")
        await anext(pages)
        h.api.valid.clear()  # the server forgets every token
        page = await anext(pages)
    assert page.attempts == 2 and h.api.data_requests[-1].headers["Authorization"] == "Bearer at-SECRET-0002"


async def test_401_twice_is_fatal() -> None:
    h = harness(FakeApi(data_faults=[httpx.Response(401), httpx.Response(401)]))
    async with h.client:
        with pytest.raises(AuthenticationFailed) as info:
            await h.all_pages()
    assert "401 again" in str(info.value) and "VcdbApis" in str(info.value) and not info.value.transient
    assert len(h.api.data_requests) == 2 and h.sleeps == []


async def test_invalid_client_is_fatal_at_once() -> None:
    h = harness(FakeApi(token_faults=[oauth_error("invalid_client", 401)]))
    async with h.client:
        with pytest.raises(InvalidClient) as info:
            await h.all_pages()
    assert "AUTOCARE_CLIENT_ID" in str(info.value) and "/connect/token" in str(info.value)
    assert len(h.api.token_forms) == 1 and h.api.data_requests == [] and h.sleeps == []


async def test_invalid_grant_on_password_is_fatal() -> None:
    h = harness(FakeApi(token_faults=[oauth_error("invalid_grant")]))
    async with h.client:
        with pytest.raises(InvalidGrant, match="AUTOCARE_PASSWORD"):
            await h.all_pages()
    assert len(h.api.token_forms) == 1


async def test_invalid_grant_on_refresh_falls_back_to_password() -> None:
    h = harness()
    async with h.client:
        pages = h.client.iter_pages("vcdb", "BaseVehicle")
        await anext(pages)
        h.api.refresh_tokens.clear()  # the refresh token is revoked
        h.t = 3500.0
        page = await anext(pages)
    assert [f["grant_type"] for f in h.api.token_forms] == ["password", "refresh_token", "password"]
    assert page.attempts == 1 and h.sleeps == []


async def test_token_endpoint_down_for_a_while() -> None:
    faults: list[Fault] = [httpx.Response(503), httpx.ConnectError, httpx.Response(503, headers={"Retry-After": "2"})]
    h = harness(FakeApi(token_faults=faults))
    async with h.client:
        pages = await h.all_pages()
    assert pages[0].attempts == 4 and len(h.api.token_forms) == 4 and len(h.sleeps) == 3 and h.sleeps[2] == 2.0
    assert all(isinstance(e.error, TokenEndpointUnavailable) for e in h.events)


async def test_garbled_token_answer_is_retried() -> None:
    h = harness(FakeApi(token_faults=[httpx.Response(200, content=b"<html>")]))
    async with h.client:
        pages = await h.all_pages()
    assert pages[0].attempts == 2 and len(h.api.token_forms) == 2


async def test_concurrent_requests_share_one_token_request() -> None:
    h = harness()
    req = h.client.config.page_request("vcdb", "BaseVehicle", )
    async with h.client:
        await asyncio.gather(*(h.client.fetch_page(req.start(n)) for n in (1, 2, 3, 1, 2, 3)))
        assert len(h.api.token_forms) == 1
        h.t = 3500.0  # all due for renewal at once
        await asyncio.gather(*(h.client.fetch_page(req.start(n)) for n in (1, 2, 3, 1, 2, 3)))
    assert [f["grant_type"] for f in h.api.token_forms] == ["password", "refresh_token"]


async def test_concurrent_401s_share_one_reauthentication() -> None:
    h = harness()
    req = h.client.config.page_request("vcdb", "BaseVehicle")
    async with h.client:
        await h.client.fetch_page(req.start())
        h.api.valid.clear()
        await asyncio.gather(*(h.client.fetch_page(req.start(n)) for n in (1, 2, 3)))
    assert len(h.api.token_forms) == 2


async def test_token_failure_reaches_every_waiter() -> None:
    h = harness(FakeApi(token_faults=[oauth_error("invalid_client")]))
    req = h.client.config.page_request("vcdb", "BaseVehicle")
    async with h.client:
        results = await asyncio.gather(*(h.client.fetch_page(req.start(n)) for n in (1, 2, 3)),
                                       return_exceptions=True)
    assert all(isinstance(r, InvalidClient) for r in results) and len(h.api.token_forms) == 1


async def test_requests_in_flight_are_bounded() -> None:
    api = FakeApi()
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        if request.url.path == "/connect/token":
            return api(request)
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)  # let the others try to get in
        await asyncio.sleep(0)
        in_flight -= 1
        return api(request)

    h = harness(api, max_concurrent_requests=2)
    h.client = AutoCareClient(h.client.config, transport=httpx.MockTransport(handler), clock=h.clock, now=h.now,
                              sleep=h.sleep, rng=random.Random(1))
    req = h.client.config.page_request("vcdb", "BaseVehicle")
    async with h.client:
        await asyncio.gather(*(h.client.fetch_page(req.start(n % 3 + 1)) for n in range(8)))
    assert peak == 2


# --- logging ----------------------------------------------------------------------------------


async def test_requests_are_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="producers.api.client")
    h = harness(FakeApi(data_faults=[httpx.Response(500)]))
    async with h.client:
        await h.all_pages()
    messages = [r.getMessage() for r in caplog.records if r.name == "producers.api.client"]
    assert "GET /api/v2.0/vcdb/BaseVehicle -> 500 (attempt 1)" in messages
    assert "GET /api/v2.0/vcdb/BaseVehicle -> 200 (attempt 2)" in messages
    assert "POST /connect/token grant=password -> 200" in messages
    assert any(m.startswith("retrying GET /api/v2.0/vcdb/BaseVehicle") for m in messages)
