"""The AutoCare API client: the one module of ``producers`` that speaks HTTP (httpx).

Owns the pooled connection, the shared bearer token and the request loop.  Everything it
decides is delegated to pure modules: ``tokens`` (grants, renewal), ``paging`` (the next page),
``retry`` (whether and how long to wait), ``errors`` (verdicts and messages).  It converts httpx
objects into those small values at the boundary.

Protocol (reference 1.1-1.6): password grant at the token URL; ``GET`` record pages with
``Authorization: Bearer``; bodies are bare JSON arrays; paging by ``X-Pagination``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from pydantic import SecretStr

from producers.api.errors import (
    ApiError,
    AuthenticationFailed,
    Forbidden,
    ForeignLink,
    MalformedBody,
    NetworkError,
    NotFound,
    RateLimited,
    ResponseTooLarge,
    ServerError,
    TokenEndpointUnavailable,
    TruncatedBody,
    UnexpectedResponse,
    Unreachable,
    describe,
    scrub,
)
from producers.api.page_body import BodyError, split_page
from producers.api.paging import Origin, Page, PageCursor, PageRequest, Pagination, next_cursor, parse_pagination
from producers.api.retry import RetryEvent, RetryPolicy, parse_retry_after
from producers.api.tokens import Credentials, Grant, TokenState
from schemas import api_map
from schemas.settings import Settings
from streams import metrics

log = logging.getLogger(__name__)

T = TypeVar("T")

_ERROR_BODY_BYTES = 64 * 1024  # enough for a server's error message; the rest is not read


@dataclass(frozen=True)
class ClientConfig:
    token_url: str
    client_id: str
    client_secret: SecretStr
    username: str
    password: SecretStr
    scope: str
    base_urls: Mapping[str, str]  # db -> base URL; PAdb shares the PCdb host [1.1]
    common_url: str | None = None  # catalog endpoints [1.2]; None: the vcdb base URL
    common_version: str = "v1.0"  # sandpim moved to v2.0 with VCdb v2 [1.1]
    api_versions: Mapping[str, str] = field(default_factory=dict)  # db -> "v2.0"; default api_map
    connect_timeout: float = 10.0
    read_timeout: float = 180.0  # large VehicleTo* pages are slow [1.6, nexus uses 180 s]
    write_timeout: float = 30.0
    pool_timeout: float = 60.0
    page_size: int = 1000  # what every client uses; the maximum is unknown [1.4]
    culture: str | None = "en-US"
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = 120.0
    outage_s: float = 0.0  # AUTOCARE_OUTAGE_S
    max_response_bytes: int = 64 * 1024 * 1024
    max_concurrent_requests: int = 4
    token_refresh_margin: float = 60.0
    token_refresh_fraction: float = 0.1
    default_token_lifetime: float = 3600.0  # [1.5]
    verify_tls: bool = True  # sandpim and token-script turned it off [1.5]; we do not by default
    user_agent: str = "vcdb-stream/0.1"

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ClientConfig:
        base_urls = {db: settings.base_url(db) for db in api_map.DATABASES}
        common = getattr(settings, "autocare_common_url", None)
        if common is None and base_urls["vcdb"] == api_map.DATABASES["vcdb"].host:
            common = api_map.COMMON_URL  # real hosts: the catalog lives on its own host [1.2]
        values: dict[str, Any] = {
            "token_url": settings.autocare_token_url,
            "client_id": settings.autocare_client_id,
            "client_secret": settings.autocare_client_secret,
            "username": settings.autocare_username,
            "password": settings.autocare_password,
            "scope": settings.autocare_scope,
            "base_urls": base_urls,
            "outage_s": settings.autocare_outage_s,
            "common_url": common,
        }
        return cls(**{**values, **overrides})

    @property
    def common_base(self) -> str:
        return (self.common_url or self.base_urls["vcdb"]).rstrip("/")

    def page_request(
        self, db: str, api_table: str, *, as_of: dt.date | None = None, since: dt.date | None = None
    ) -> PageRequest:
        if db not in api_map.DATABASES or db not in self.base_urls:
            raise ValueError(f"unknown database {db!r}; expected one of {sorted(self.base_urls)}")
        spec = api_map.DATABASES[db]
        return PageRequest(
            base_url=self.base_urls[db].rstrip("/"),
            version=self.api_versions.get(db, spec.version),
            db_path=spec.path,
            api_table=api_table,
            page_size=self.page_size,
            culture=self.culture,
            as_of=as_of,
            since=since,
        )

    def credentials(self) -> Credentials:
        return Credentials(self.client_id, self.client_secret, self.username, self.password, self.scope)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.max_attempts, self.backoff_base, self.backoff_cap, self.retry_after_cap,
                           self.outage_s)

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout, read=self.read_timeout, write=self.write_timeout, pool=self.pool_timeout
        )


@dataclass(frozen=True)
class _Response:
    status: int
    headers: httpx.Headers
    body: bytes


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AutoCareClient:
    """One pooled client for every database; use ``async with``.

    Concurrent iterators share the token, the pool and the bound on requests in flight.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = _utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> None:
        self.config = config
        self.retries = 0
        self._clock = clock
        self._now = now
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._on_retry = on_retry
        self._policy = config.retry_policy()
        # When the latest request that succeeded was sent: an API that answered a request sent
        # after another's first failure is up (that failure is the request's own); one that has
        # answered nothing since is down, and the outage is ridden out (ClientConfig.outage_s).
        self._ok_sent: float | None = None
        self._tokens = TokenState(
            config.credentials(),
            token_path=urlsplit(config.token_url).path or "/",
            refresh_margin=config.token_refresh_margin,
            refresh_fraction=config.token_refresh_fraction,
            default_lifetime=config.default_token_lifetime,
        )
        self._token_task: asyncio.Task[str] | None = None
        self._semaphore = asyncio.Semaphore(config.max_concurrent_requests)
        self._origins = [Origin.of(u) for u in (*config.base_urls.values(), config.common_base)]
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=config.timeout(),
            limits=httpx.Limits(
                max_connections=config.max_concurrent_requests + 1,  # +1: the token endpoint
                max_keepalive_connections=config.max_concurrent_requests + 1,
            ),
            follow_redirects=False,  # a redirect could carry the token to another host
            verify=config.verify_tls,
            headers={"User-Agent": config.user_agent, "Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"AutoCareClient(token_url={self.config.token_url!r}, base_urls={dict(self.config.base_urls)!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._token_task is not None and not self._token_task.done():
            self._token_task.cancel()
        await self._http.aclose()

    # --- public API -------------------------------------------------------------------------

    async def iter_pages(
        self,
        db: str,
        api_table: str,
        *,
        as_of: dt.date | None = None,
        since: dt.date | None = None,
        start: PageCursor | int | None = None,
    ) -> AsyncIterator[Page]:
        """Every page of one table from ``start`` (page 1, a page number or a checkpoint)."""
        cursor: PageCursor | None = self.config.page_request(db, api_table, as_of=as_of, since=since).start(start)
        while cursor is not None:
            page = await self.fetch_page(cursor)
            yield page
            cursor = page.next_cursor

    async def fetch_page(self, cursor: PageCursor) -> Page:
        """One page, retried as the policy allows; ``next_cursor`` says what comes after it.

        ``cursor`` has its URL (``PageRequest.start`` gives one to a checkpoint without it).
        """
        if cursor.url is None:
            raise ValueError(f"cursor of page {cursor.page_number} has no URL; resolve it with PageRequest.start")
        url, origin = self._own(cursor.url)
        path = urlsplit(url).path

        def parse(resp: _Response) -> tuple[tuple[list[dict[str, Any]], list[bytes]], Pagination]:
            records = _records(resp, path)
            try:
                pagination = parse_pagination(resp.headers.get("X-Pagination"))
            except ValueError as exc:
                what = describe("GET", path, str(exc))
                raise MalformedBody(what, path=path, status=resp.status) from exc
            return records, pagination

        resp, ((records, raw), pagination), attempts = await self._get(url, parse)
        nxt = next_cursor(origin, cursor, pagination, len(records))
        return Page(records, raw, cursor, nxt, pagination, path, len(resp.body), attempts)

    async def databases(self) -> list[dict[str, Any]]:
        """The catalog: ``GET /api/v1.0/databases`` [1.2]."""
        return await self._catalog(f"{self.config.common_base}/api/{self.config.common_version}/databases")

    async def tables(self, db: str) -> list[dict[str, Any]]:
        """The tables of one database as the catalog names it (e.g. ``VCdb``) [1.2]."""
        base = f"{self.config.common_base}/api/{self.config.common_version}/databases"
        return await self._catalog(f"{base}/{quote(db, safe='')}/tables")

    # --- the request loop ---------------------------------------------------------------------

    async def _catalog(self, url: str) -> list[dict[str, Any]]:
        path = urlsplit(url).path
        _, (records, _), _ = await self._get(url, lambda r: _records(r, path))
        return records

    async def _get(self, url: str, parse: Callable[[_Response], T]) -> tuple[_Response, T, int]:
        """GET until a parsed answer, a fatal error or the end of the retry budget.

        A 401 is answered once by re-authenticating at once (the token was revoked or expired
        early); a second 401 for the same request is fatal.
        """
        path = urlsplit(url).path
        attempt = 0
        reauthenticated = False
        first_failure: float | None = None
        while True:
            attempt += 1
            try:
                sent = self._clock()
                token = await self._bearer()
                started = time.monotonic()
                try:
                    resp = await self._send(url, path, token, attempt)
                except ApiError as e:
                    metrics.API_RESPONSES.labels(path, str(e.status) if e.status else "none").inc()
                    raise
                finally:
                    metrics.API_SECONDS.labels(path).observe(time.monotonic() - started)
                metrics.API_RESPONSES.labels(path, str(resp.status)).inc()
                if resp.status == 401:
                    if reauthenticated:
                        raise AuthenticationFailed(
                            describe("GET", path, "HTTP 401 again after re-authenticating",
                                     f"the API refuses our token; check AUTOCARE_SCOPE has {_scope_for(path)} "
                                     "and AUTOCARE_TOKEN_URL is the identity server of this API"),
                            path=path, status=401,
                        )
                    reauthenticated = True
                    self._tokens.invalidate(token)
                    continue
                self._raise_for_status(resp, path)
                parsed = parse(resp)
                self._ok_sent = sent if self._ok_sent is None else max(self._ok_sent, sent)
                return resp, parsed, attempt
            except ApiError as error:
                now = self._clock()
                first_failure = sent if first_failure is None else first_failure
                down = self._ok_sent is not None and self._ok_sent <= first_failure
                delay = self._policy.next_delay(error, attempt, self._rng,  # raises when it is over
                                                down_s=now - first_failure if down else None)
                await self._retry(RetryEvent("GET", path, attempt, self._policy.max_attempts, delay, error))

    async def _retry(self, event: RetryEvent) -> None:
        self.retries += 1
        log.info("retrying %s %s in %.1f s after attempt %d/%d: %s",
                 event.method, event.path, event.delay, event.attempt, event.max_attempts, event.reason)
        if self._on_retry is not None:
            self._on_retry(event)
        await self._sleep(event.delay)

    async def _send(self, url: str, path: str, token: str, attempt: int) -> _Response:
        """One attempt, converted into a ``_Response`` or a transient/fatal ``ApiError``."""
        limit = self.config.max_response_bytes
        got_headers = False
        async with self._semaphore:
            try:
                async with self._http.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as r:
                    got_headers = True
                    log.debug("GET %s -> %d (attempt %d)", path, r.status_code, attempt)
                    if not 200 <= r.status_code < 300:
                        return _Response(r.status_code, r.headers, await _read_some(r, _ERROR_BODY_BYTES))
                    declared = _content_length(r.headers)
                    if declared is not None and declared > limit:
                        raise self._too_large(path, r.status_code, f"Content-Length {declared}")
                    body = bytearray()
                    async for chunk in r.aiter_bytes():
                        body += chunk
                        if len(body) > limit:
                            raise self._too_large(path, r.status_code, f"more than {len(body)} bytes")
                    identity = r.headers.get("Content-Encoding", "identity").lower() in ("", "identity")
                    if identity and declared is not None and len(body) != declared:
                        raise TruncatedBody(
                            describe("GET", path, f"body has {len(body)} of {declared} bytes"),
                            path=path, status=r.status_code,
                        )
                    return _Response(r.status_code, r.headers, bytes(body))
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                log.debug("GET %s: no connection (%s, attempt %d)", path, type(exc).__name__, attempt)
                raise Unreachable(describe("GET", path, f"cannot connect ({type(exc).__name__})",
                                           "check the AUTOCARE_<DB>_URL setting and the network"),
                                  path=path) from exc
            except httpx.TimeoutException as exc:
                log.debug("GET %s timed out (%s, attempt %d)", path, type(exc).__name__, attempt)
                raise NetworkError(describe("GET", path, f"timed out ({type(exc).__name__})"),
                                   path=path) from exc
            except (httpx.TransportError, httpx.DecodingError) as exc:
                log.debug("GET %s failed (%s, attempt %d)", path, type(exc).__name__, attempt)
                if got_headers:
                    raise TruncatedBody(describe("GET", path, f"body cut short ({type(exc).__name__})"),
                                        path=path) from exc
                raise NetworkError(describe("GET", path, f"connection failed ({type(exc).__name__})"),
                                   path=path) from exc

    def _too_large(self, path: str, status: int, seen: str) -> ResponseTooLarge:
        cap = self.config.max_response_bytes
        return ResponseTooLarge(
            describe("GET", path, f"response too large ({seen}, cap {cap} bytes)",
                     "lower page_size or raise max_response_bytes"),
            path=path, status=status,
        )

    def _raise_for_status(self, resp: _Response, path: str) -> None:
        status = resp.status
        if 200 <= status < 300:
            return
        hint = _server_hint(resp, self._tokens.secret_values())
        said = f"HTTP {status}" + (f" ({hint})" if hint else "")
        retry_after = parse_retry_after(resp.headers.get("Retry-After"), self._now())
        if status == 429:
            raise RateLimited(describe("GET", path, f"{said}: rate limited"),
                              path=path, status=status, retry_after=retry_after)
        if status >= 500 or status == 408:
            raise ServerError(describe("GET", path, f"{said}: server error"),
                              path=path, status=status, retry_after=retry_after)
        if status == 403:
            raise Forbidden(describe("GET", path, said,
                                     f"the account may not read this; check AUTOCARE_SCOPE has {_scope_for(path)} "
                                     "and the subscription covers this database"), path=path, status=status)
        if status == 404:
            raise NotFound(describe("GET", path, said,
                                    "unknown table, database or API version; check the table name and the "
                                    "version in schemas.api_map / api_versions"), path=path, status=status)
        if 300 <= status < 400:
            where = urlsplit(resp.headers.get("Location", "")).hostname or "?"
            raise UnexpectedResponse(describe("GET", path, f"{said} redirect to {where}",
                                              "not followed; check the AUTOCARE_<DB>_URL setting"),
                                     path=path, status=status)
        raise UnexpectedResponse(describe("GET", path, said, "the request was refused; check the parameters"),
                                 path=path, status=status)

    def _own(self, url: str) -> tuple[str, Origin]:
        """``url`` on a configured origin (scheme normalised), or ForeignLink."""
        for origin in self._origins:
            adopted = origin.adopt(url)
            if adopted is not None:
                return adopted, origin
        parts = urlsplit(url)
        raise ForeignLink(
            describe("GET", parts.path, f"{parts.scheme}://{parts.hostname} is not a configured API host",
                     "refusing to send the token there; check the cursor and the AUTOCARE_<DB>_URL settings"),
            path=parts.path,
        )

    # --- the token ----------------------------------------------------------------------------

    async def _bearer(self) -> str:
        """The access token, renewed first if due; concurrent callers share one renewal."""
        token = self._tokens.usable(self._clock())
        if token is not None:
            return token.get_secret_value()
        task = self._token_task
        if task is None or task.done():
            task = self._token_task = asyncio.create_task(self._obtain_token())
            task.add_done_callback(_retrieve)
        # shield: one waiter cancelled must not cancel the renewal the others wait for.
        return await asyncio.shield(task)

    async def _obtain_token(self) -> str:
        grant = self._tokens.next_grant()
        for _ in range(2):  # at most: refresh refused, then password
            status, headers, body = await self._post_token(grant)
            if 200 <= status < 300:
                return self._tokens.accept(body, self._clock()).access_token.get_secret_value()
            retry_after = parse_retry_after(headers.get("Retry-After"), self._now())
            grant = self._tokens.reject(grant, status, body, retry_after)
        raise AssertionError("unreachable: a password grant either succeeds or raises")

    async def _post_token(self, grant: Grant) -> tuple[int, httpx.Headers, object]:
        path = self._tokens.token_path
        try:
            r = await self._http.post(self.config.token_url, data=self._tokens.form(grant))
        except (httpx.TransportError, httpx.DecodingError) as exc:
            log.debug("POST %s grant=%s failed (%s)", path, grant.value, type(exc).__name__)
            raise TokenEndpointUnavailable(
                describe("POST", path, f"token endpoint unreachable ({type(exc).__name__})"),
                path=path,
            ) from exc
        # Never the form, the headers or the answer: they hold the secrets.
        log.debug("POST %s grant=%s -> %d", path, grant.value, r.status_code)
        try:
            body: object = json.loads(r.content)
        except ValueError:
            body = None
        return r.status_code, r.headers, body


def _records(resp: _Response, path: str) -> tuple[list[dict[str, Any]], list[bytes]]:
    """A bare JSON array of objects [1.4], parsed and cut into each record's bytes
    (``page_body``); anything else is a garbled answer (transient).

    An empty 200 body is garbled too: taken as "no records" it would end the table silently.
    """
    if resp.status == 204:
        return [], []
    try:
        return split_page(resp.body)
    except BodyError as exc:
        raise MalformedBody(describe("GET", path, str(exc)), path=path, status=resp.status) from exc


async def _read_some(r: httpx.Response, limit: int) -> bytes:
    """The start of an error body, best effort: the status already says what happened."""
    body = bytearray()
    try:
        async for chunk in r.aiter_bytes():
            body += chunk
            if len(body) >= limit:
                break
    except (httpx.TransportError, httpx.DecodingError):
        pass
    return bytes(body[:limit])


def _content_length(headers: httpx.Headers) -> int | None:
    try:
        return int(headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _server_hint(resp: _Response, secrets: tuple[str, ...]) -> str:
    """What the server said about an error, if it said it in a known shape [1.6 U]."""
    try:
        data = json.loads(resp.body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "Message", "error", "title", "detail"):
            if isinstance(data.get(key), str):
                return scrub(data[key], secrets)
    if resp.headers.get("Content-Type", "").startswith("text/plain"):
        return scrub(resp.body.decode("utf-8", "replace"), secrets)
    return ""


def _scope_for(path: str) -> str:
    """The scope a record path needs: /api/{version}/{db}/... [1.5]."""
    parts = [p.lower() for p in path.split("/") if p]
    if "api" in parts:
        i = parts.index("api") + 2
        for spec in api_map.DATABASES.values():
            if i < len(parts) and parts[i] == spec.path:
                return repr(spec.scope)
    return "'CommonApis'"


def _retrieve(task: asyncio.Task[str]) -> None:
    # The waiters see the error; this only keeps asyncio from reporting it as never retrieved.
    if not task.cancelled():
        task.exception()
