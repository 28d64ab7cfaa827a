"""Paging through one API table as a state machine, without I/O (reference 1.3, 1.4).

State is a ``PageCursor`` (the URL of the next page and its 1-based number): the one cursor of
the producer, checkpointed in the run state and resumed from.  ``PageRequest`` answers the first
cursor (page 1, or a resume point); ``next_cursor`` answers, from the last response's
``X-Pagination`` header and record count, the next cursor or ``None`` at the end.  The loop that
sends the requests lives in ``client``; what it answers is a ``Page``, the one page value of
the producer, from the client through the service to the progress display.

The API's ``nextPageLink`` is absolute and carries every query parameter, but has been seen
with ``http://`` behind an HTTPS front [1.4, sandpim]: the scheme is replaced by the configured
one.  A link to any other host or port is refused: the bearer token goes only to the
configured origin.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, quote, urlencode, urljoin, urlsplit, urlunsplit

from producers.api.errors import ForeignLink, UnexpectedResponse, describe

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Pagination:
    """The parsed ``X-Pagination`` header; every field may be missing [1.4 U for totalPages]."""

    total_count: int | None = None
    page_size: int | None = None
    current_page: int | None = None
    total_pages: int | None = None
    next_link: str | None = None


@dataclass(frozen=True)
class PageCursor:
    """Where a page is: checkpoint it, resume from it.

    ``url`` is the page's full URL (a server ``nextPageLink`` or one we built; None when only
    the number is known, as in a checkpoint without a link); ``page_number`` and ``page_size``
    rebuild it with ``PageNumber=n`` when the URL is missing or cannot be used any more.
    """

    url: str | None
    page_number: int = 1
    page_size: int | None = None


@dataclass(frozen=True)
class Page:
    """One page of records, as the API sent it (duplicates included: dedup is downstream).

    ``records`` are parsed (for the keys); ``raw[i]`` is record i's bytes as sent, what goes on
    the topic.
    """

    records: list[dict[str, Any]]
    raw: list[bytes]
    cursor: PageCursor  # the request this page answers
    next_cursor: PageCursor | None  # checkpoint this once the page is safely published; None: last
    pagination: Pagination = Pagination()
    path: str = ""
    byte_size: int = 0
    attempts: int = 1

    @property
    def number(self) -> int:
        return self.cursor.page_number

    @property
    def total_count(self) -> int | None:
        return self.pagination.total_count

    @property
    def total_pages(self) -> int | None:
        return self.pagination.total_pages

    @property
    def retries(self) -> int:
        return self.attempts - 1

    @property
    def checkpoint(self) -> PageCursor:
        """What to checkpoint once every record is acknowledged: the next page, or the page
        after the last one (a resume then asks for nothing more)."""
        return self.next_cursor or PageCursor(None, self.cursor.page_number + 1, self.cursor.page_size)


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"not an http(s) base URL: {url!r}")
        return cls(scheme, parts.hostname.lower(), parts.port or _DEFAULT_PORTS[scheme])

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    def adopt(self, url: str) -> str | None:
        """``url`` moved onto this origin's scheme, or None if it points at another host:port.

        A link without an explicit port takes ours: an ``http://`` link from a server behind a
        TLS front names the same host, and its implied port 80 is not the port it means.
        """
        parts = urlsplit(url)
        if parts.scheme.lower() not in _DEFAULT_PORTS or parts.username is not None or parts.password is not None:
            return None
        try:
            port = parts.port
        except ValueError:
            return None
        if (parts.hostname or "").lower() != self.host or (port is not None and port != self.port):
            return None
        return urlunsplit(SplitResult(self.scheme, self.netloc, parts.path, parts.query, ""))


@dataclass(frozen=True)
class PageRequest:
    """The first request of one table: what the configuration and the run ask for [1.1, 1.3]."""

    base_url: str
    version: str
    db_path: str
    api_table: str
    page_size: int = 1000
    culture: str | None = "en-US"
    as_of: dt.date | None = None
    since: dt.date | None = None

    @property
    def origin(self) -> Origin:
        return Origin.of(self.base_url)

    @property
    def path(self) -> str:
        prefix = urlsplit(self.base_url).path.rstrip("/")
        return f"{prefix}/api/{self.version}/{self.db_path}/{quote(self.api_table)}"

    def url_for_page(self, page_number: int, page_size: int | None = None) -> str:
        if page_number < 1:
            raise ValueError(f"page numbers start at 1, got {page_number}")
        # Parameter names are case-insensitive on the server [1.3]; sandpim's spelling.
        params: list[tuple[str, str]] = [("PageSize", str(page_size or self.page_size))]
        if self.culture:
            params.append(("CultureId", self.culture))
        if self.as_of is not None:
            params.append(("AsOfDate", self.as_of.strftime("%Y-%m-%d")))
        if self.since is not None:
            params.append(("SinceDate", self.since.strftime("%Y-%m-%d")))
        if page_number > 1:
            params.append(("PageNumber", str(page_number)))
        return urlunsplit(SplitResult(self.origin.scheme, self.origin.netloc, self.path, urlencode(params), ""))

    def start(self, start: PageCursor | int | None = None) -> PageCursor:
        """The first cursor: page 1, page ``n``, or a checkpointed cursor.

        A checkpointed URL is used only if it still points at this table on the configured
        origin; otherwise (configuration changed since) the page number rebuilds it.
        """
        if start is None:
            return PageCursor(self.url_for_page(1), 1, self.page_size)
        if isinstance(start, int):
            return PageCursor(self.url_for_page(start), start, self.page_size)
        adopted = self.origin.adopt(start.url) if start.url else None
        if adopted is not None and urlsplit(adopted).path.lower() == self.path.lower():
            return PageCursor(adopted, start.page_number, start.page_size)
        size = start.page_size or self.page_size
        return PageCursor(self.url_for_page(start.page_number, size), start.page_number, size)


def next_cursor(origin: Origin, cursor: PageCursor, pagination: Pagination, record_count: int) -> PageCursor | None:
    """The transition: the cursor after the page ``cursor`` fetched, or None when done.

    Done on an empty page or an empty/absent ``nextPageLink`` [1.4].
    """
    link = (pagination.next_link or "").strip()
    if record_count == 0 or not link:
        return None
    here = cursor.url or ""
    path = urlsplit(here).path
    target = urljoin(here, link)
    url = origin.adopt(target)
    if url is None:
        parts = urlsplit(target)
        shown = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if _has_port(parts) else "")
        raise ForeignLink(
            describe("GET", path, f"nextPageLink points at {shown}, not the configured {origin}",
                     "refusing to send the token there; check the AUTOCARE_<DB>_URL setting"),
            path=path,
        )
    if url == cursor.url:
        raise UnexpectedResponse(
            describe("GET", path, f"nextPageLink of page {cursor.page_number} points back at the same page",
                     "the server's paging is broken; stopping rather than looping"),
            path=path,
        )
    return PageCursor(url, cursor.page_number + 1, cursor.page_size)


def parse_pagination(header: str | None) -> Pagination:
    """``X-Pagination`` as sent: JSON, keys in any case; single-quoted JSON is tolerated because
    a client once had to (autocare-python [1.4 U]).  Raises ValueError if it is neither."""
    if header is None or not header.strip():
        return Pagination()
    data = _loads(header)
    if not isinstance(data, dict):
        raise ValueError("X-Pagination is not a JSON object")
    fields = {str(k).lower(): v for k, v in data.items()}
    link = fields.get("nextpagelink")
    return Pagination(
        total_count=_int(fields.get("totalcount")),
        page_size=_int(fields.get("pagesize")),
        current_page=_int(fields.get("currentpage")),
        total_pages=_int(fields.get("totalpages")),
        next_link=link if isinstance(link, str) and link.strip() else None,
    )


def _loads(header: str) -> object:
    try:
        return json.loads(header)
    except ValueError:
        pass
    try:
        return json.loads(header.replace("'", '"'))  # what autocare-python does
    except ValueError:
        pass
    try:
        # Python-literal parsing, not eval: accepts {'a': None}, runs nothing.
        return ast.literal_eval(header)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise ValueError("X-Pagination is not JSON") from exc


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str | float):
        try:
            return int(value)
        except (ValueError, OverflowError):
            return None
    return None


def _has_port(parts: SplitResult) -> bool:
    try:
        return parts.port is not None
    except ValueError:
        return False
