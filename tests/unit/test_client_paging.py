"""Paging state machine: X-Pagination parsing, link adoption, first and next cursors."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, urlsplit

import pytest

from producers.api.errors import ForeignLink, UnexpectedResponse
from producers.api.paging import Origin, PageCursor, PageRequest, Pagination, next_cursor, parse_pagination

REQ = PageRequest("https://vcdb.test", "v2.0", "vcdb", "BaseVehicle")
ORIGIN = REQ.origin


def params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, Pagination()),
        ("", Pagination()),
        (
            '{"totalCount": 2500, "pageSize": 1000, "currentPage": 1, "totalPages": 3, '
            '"nextPageLink": "https://vcdb.test/api/v2.0/vcdb/BaseVehicle?PageNumber=2"}',
            Pagination(2500, 1000, 1, 3, "https://vcdb.test/api/v2.0/vcdb/BaseVehicle?PageNumber=2"),
        ),
        # single quotes, as autocare-python had to tolerate [1.4 U]
        ("{'totalCount': 5, 'nextPageLink': 'https://x.test/a?b=1'}", Pagination(5, None, None, None, "https://x.test/a?b=1")),
        # Python-style literals too
        ("{'totalCount': 5, 'nextPageLink': None}", Pagination(total_count=5)),
        # key case does not matter; numbers as strings are read; blank link is no link
        ('{"TotalCount": "7", "PAGESIZE": 1000, "nextpagelink": "  "}', Pagination(7, 1000)),
        ('{"totalCount": 3, "nextPageLink": null}', Pagination(total_count=3)),
    ],
)
def test_parse_pagination(header: str | None, expected: Pagination) -> None:
    assert parse_pagination(header) == expected


@pytest.mark.parametrize("header", ["not json", "[1, 2]", "{'a': "])
def test_parse_pagination_rejects_garbage(header: str) -> None:
    with pytest.raises(ValueError, match="X-Pagination"):
        parse_pagination(header)


@pytest.mark.parametrize(
    ("link", "adopted"),
    [
        ("https://vcdb.test/a?b=1", "https://vcdb.test/a?b=1"),
        ("http://vcdb.test/a?b=1", "https://vcdb.test/a?b=1"),  # http:// behind TLS [1.4]
        ("HTTP://VCDB.test/a#frag", "https://vcdb.test/a"),
        ("https://vcdb.test:443/a", "https://vcdb.test/a"),
        ("http://vcdb.test:80/a", None),  # an explicit other port is another origin
        ("https://vcdb.test:8443/a", None),
        ("https://evil.test/a", None),
        ("https://vcdb.test.evil.test/a", None),
        ("https://user:pw@vcdb.test/a", None),
        ("ftp://vcdb.test/a", None),
        ("https://vcdb.test:notaport/a", None),
    ],
)
def test_origin_adopts_only_its_own_host(link: str, adopted: str | None) -> None:
    assert ORIGIN.adopt(link) == adopted


def test_origin_with_port_keeps_it() -> None:
    o = Origin.of("http://127.0.0.1:8000")
    assert o.adopt("http://127.0.0.1:8000/x") == "http://127.0.0.1:8000/x"
    assert o.adopt("http://127.0.0.1/x") == "http://127.0.0.1:8000/x"
    assert o.adopt("http://127.0.0.1:9000/x") is None


def test_first_url_carries_the_run_parameters() -> None:
    req = PageRequest("https://vcdb.test/", "v2.0", "vcdb", "BaseVehicle", page_size=500,
                      as_of=dt.date(2025, 12, 18), since=dt.date(2026, 1, 2))
    c = req.start()
    assert c.page_number == 1 and c.page_size == 500
    assert urlsplit(c.url).path == "/api/v2.0/vcdb/BaseVehicle"
    assert params(c.url) == {
        "PageSize": "500", "CultureId": "en-US", "AsOfDate": "2025-12-18", "SinceDate": "2026-01-02"}


def test_culture_can_be_left_out() -> None:
    req = PageRequest("https://vcdb.test", "v2.0", "vcdb", "Make", culture=None)
    assert params(req.start().url) == {"PageSize": "1000"}


def test_start_at_page_number() -> None:
    c = REQ.start(4)
    assert c.page_number == 4 and params(c.url)["PageNumber"] == "4"
    with pytest.raises(ValueError):
        REQ.start(0)


def test_start_from_a_checkpointed_link() -> None:
    saved = PageCursor("http://vcdb.test/api/v2.0/vcdb/basevehicle?PageSize=1000&PageNumber=3", 3, 1000)
    c = REQ.start(saved)
    assert c == PageCursor("https://vcdb.test/api/v2.0/vcdb/basevehicle?PageSize=1000&PageNumber=3", 3, 1000)


def test_checkpoint_that_no_longer_fits_falls_back_to_page_number() -> None:
    # saved against another host and version, with another page size
    saved = PageCursor("https://old-host.test/api/v1.0/vcdb/BaseVehicle?PageNumber=3&PageSize=200", 3, 200)
    c = REQ.start(saved)
    assert c.url.startswith("https://vcdb.test/api/v2.0/vcdb/BaseVehicle?")
    assert params(c.url)["PageNumber"] == "3" and params(c.url)["PageSize"] == "200"


def test_next_cursor_follows_the_link() -> None:
    first = REQ.start()
    link = "http://vcdb.test/api/v2.0/vcdb/BaseVehicle?PageSize=1000&CultureId=en-US&PageNumber=2"
    nxt = next_cursor(ORIGIN, first, Pagination(next_link=link), record_count=1000)
    assert nxt == PageCursor(link.replace("http://", "https://"), 2, 1000)


def test_relative_link_is_resolved_against_the_page() -> None:
    nxt = next_cursor(ORIGIN, REQ.start(), Pagination(next_link="/api/v2.0/vcdb/BaseVehicle?PageNumber=2"), 5)
    assert nxt is not None and nxt.url == "https://vcdb.test/api/v2.0/vcdb/BaseVehicle?PageNumber=2"


@pytest.mark.parametrize(
    ("pagination", "count"), [(Pagination(), 1000), (Pagination(next_link="https://vcdb.test/x"), 0)]
)
def test_next_cursor_stops(pagination: Pagination, count: int) -> None:
    assert next_cursor(ORIGIN, REQ.start(), pagination, count) is None


def test_foreign_next_link_is_refused_without_leaking_the_query() -> None:
    link = "https://evil.test:8443/steal?token=abc"
    with pytest.raises(ForeignLink) as info:
        next_cursor(ORIGIN, REQ.start(), Pagination(next_link=link), 10)
    msg = str(info.value)
    assert "evil.test:8443" in msg and "https://vcdb.test" in msg and "/api/v2.0/vcdb/BaseVehicle" in msg
    assert "token=abc" not in msg and not info.value.transient


def test_link_back_to_the_same_page_is_refused() -> None:
    first = REQ.start()
    with pytest.raises(UnexpectedResponse, match="same page"):
        next_cursor(ORIGIN, first, Pagination(next_link=first.url), 10)
