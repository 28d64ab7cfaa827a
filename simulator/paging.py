"""A record request's query parameters and the `X-Pagination` header of its answer.

Parameter names are case-insensitive (clients send `PageSize` and `pageSize`, reference [1.3]).
`X-Pagination` is a JSON object with totalCount, pageSize, currentPage, totalPages,
previousPageLink and nextPageLink (the last two are absolute URLs carrying every query parameter,
empty when there is no such page; totalPages/previousPageLink are the ASP.NET PagedList pattern
the reference marks [U], section 1.4).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode


class QueryError(ValueError):
    """A parameter the API would answer 400 for."""


@dataclass(frozen=True)
class PageQuery:
    page_size: int
    page_number: int
    culture: str | None = None
    since: dt.date | None = None
    as_of: dt.date | None = None

    @property
    def offset(self) -> int:
        return (self.page_number - 1) * self.page_size


def _first(params: Sequence[tuple[str, str]], name: str) -> str | None:
    for key, value in params:
        if key.lower() == name:
            return value
    return None


def _positive(params: Sequence[tuple[str, str]], name: str, default: int) -> int:
    raw = _first(params, name.lower())
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{name} must be an integer, got {raw!r}") from None
    if value < 1:
        raise QueryError(f"{name} must be at least 1, got {value}")
    return value


def _date(params: Sequence[tuple[str, str]], name: str) -> dt.date | None:
    raw = _first(params, name.lower())
    if raw is None or raw == "":
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(raw).date()
    except ValueError:
        raise QueryError(f"{name} must be a date (YYYY-MM-DD), got {raw!r}") from None


def parse_query(params: Sequence[tuple[str, str]], *, default_page_size: int, max_page_size: int) -> PageQuery:
    size = _positive(params, "PageSize", default_page_size)
    if size > max_page_size:
        raise QueryError(f"PageSize must be at most {max_page_size}, got {size}")
    return PageQuery(
        page_size=size,
        page_number=_positive(params, "PageNumber", 1),
        culture=_first(params, "cultureid"),
        since=_date(params, "SinceDate"),
        as_of=_date(params, "AsOfDate"),
    )


def page_link(base_url: str, path: str, params: Sequence[tuple[str, str]], page_number: int, page_size: int) -> str:
    """The request's URL on another page: its parameters kept in order and spelling, the page
    number and size set (appended when the request had none)."""
    out: list[tuple[str, str]] = []
    seen_number = seen_size = False
    for key, value in params:
        if key.lower() == "pagenumber":
            if not seen_number:
                out.append((key, str(page_number)))
            seen_number = True
        elif key.lower() == "pagesize":
            if not seen_size:
                out.append((key, str(page_size)))
            seen_size = True
        else:
            out.append((key, value))
    if not seen_size:
        out.append(("PageSize", str(page_size)))
    if not seen_number:
        out.append(("PageNumber", str(page_number)))
    return f"{base_url}{path}?{urlencode(out)}"


def pagination(total: int, query: PageQuery, base_url: str, path: str, params: Sequence[tuple[str, str]],
               next_base_url: str | None = None) -> dict[str, Any]:
    """The X-Pagination object; `next_base_url` lets a fault put another origin in nextPageLink."""
    pages = math.ceil(total / query.page_size) if total else 0
    current = query.page_number
    has_next = current < pages
    has_previous = 1 < current <= pages + 1 and pages > 0
    return {
        "totalCount": total,
        "pageSize": query.page_size,
        "currentPage": current,
        "totalPages": pages,
        "previousPageLink": page_link(base_url, path, params, min(current - 1, pages), query.page_size)
        if has_previous else "",
        "nextPageLink": page_link(next_base_url or base_url, path, params, current + 1, query.page_size)
        if has_next else "",
    }
