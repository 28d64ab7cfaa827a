"""The request-level rules without a socket: query parameters, X-Pagination, token grants."""

from __future__ import annotations

import base64
import datetime as dt
from urllib.parse import parse_qsl, urlsplit

import pytest

from simulator.config import Credentials
from simulator.paging import PageQuery, QueryError, page_link, pagination, parse_query
from simulator.tokens import OAuthError, TokenStore

CREDS = Credentials("client", "secret", "user@example.com", "pw")
PASSWORD = {"grant_type": "password", "client_id": "client", "client_secret": "secret",
            "username": "user@example.com", "password": "pw", "scope": "VcdbApis offline_access"}


def q(**params: str) -> PageQuery:
    return parse_query(list(params.items()), default_page_size=1000, max_page_size=1000)


def test_parameter_names_are_case_insensitive() -> None:
    query = q(pagesize="5", PAGENUMBER="3", cultureid="en-US", sincedate="2026-02-01", AsOfDate="2026-03-01")
    assert (query.page_size, query.page_number, query.offset) == (5, 3, 10)
    assert query.culture == "en-US"
    assert query.since == dt.date(2026, 2, 1) and query.as_of == dt.date(2026, 3, 1)
    assert q().page_size == 1000 and q().page_number == 1
    assert q(SinceDate="2026-02-01T00:00:00").since == dt.date(2026, 2, 1)


@pytest.mark.parametrize("params", [{"PageSize": "1001"}, {"PageSize": "0"}, {"PageSize": "ten"},
                                    {"PageNumber": "0"}, {"SinceDate": "02/01/2026"}, {"AsOfDate": "2026-13-01"}])
def test_bad_parameters_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(QueryError):
        q(**params)


def test_links_keep_every_parameter() -> None:
    link = page_link("http://h:1", "/api/v2.0/vcdb/Make", [("pageSize", "2"), ("CultureId", "en-US")], 3, 2)
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "h:1", "/api/v2.0/vcdb/Make")
    assert parse_qsl(parts.query) == [("pageSize", "2"), ("CultureId", "en-US"), ("PageNumber", "3")]


def test_pagination_header_on_first_middle_last_and_beyond() -> None:
    params = [("PageSize", "10"), ("SinceDate", "2026-01-31")]
    first = pagination(25, q(PageSize="10"), "http://h", "/p", params)
    assert first["totalCount"] == 25 and first["totalPages"] == 3 and first["currentPage"] == 1
    assert first["previousPageLink"] == "" and "PageNumber=2" in first["nextPageLink"]
    assert "SinceDate=2026-01-31" in first["nextPageLink"]
    last = pagination(25, q(PageSize="10", PageNumber="3"), "http://h", "/p", params)
    assert last["nextPageLink"] == "" and "PageNumber=2" in last["previousPageLink"]
    beyond = pagination(25, q(PageSize="10", PageNumber="9"), "http://h", "/p", params)
    assert beyond["nextPageLink"] == "" and beyond["previousPageLink"] == ""
    empty = pagination(0, q(), "http://h", "/p", [])
    assert empty["totalPages"] == 0 and empty["nextPageLink"] == ""
    foreign = pagination(25, q(PageSize="10"), "http://h", "/p", params, next_base_url="http://other")
    assert foreign["nextPageLink"].startswith("http://other/p?")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def store(clock: Clock) -> TokenStore:
    counter = iter(range(1, 1000))
    return TokenStore(CREDS, ttl=60, refresh_ttl=600, clock=clock, new_token=lambda: f"tok{next(counter)}")


def test_password_grant_issues_a_token_that_expires() -> None:
    clock = Clock()
    tokens = store(clock)
    body = tokens.grant(PASSWORD)
    assert body["token_type"] == "Bearer" and body["expires_in"] == 60 and "refresh_token" in body
    access = str(body["access_token"])
    grant = tokens.check(access)
    assert grant is not None and grant.scope == frozenset({"VcdbApis", "offline_access"})
    clock.now += 59
    assert tokens.check(access) is not None
    assert tokens.check(access, revoke_after_s=30) is None, "revoked early by a fault profile"
    clock.now += 1
    assert tokens.check(access) is None
    assert tokens.check("forged") is None


def test_refresh_grant_and_offline_access() -> None:
    clock = Clock()
    tokens = store(clock)
    first = tokens.grant(PASSWORD)
    clock.now += 120
    again = tokens.grant({"grant_type": "refresh_token", "refresh_token": str(first["refresh_token"]),
                          "client_id": "client", "client_secret": "secret"})
    assert tokens.check(str(again["access_token"])) is not None
    no_offline = tokens.grant({**PASSWORD, "scope": "VcdbApis"})
    assert "refresh_token" not in no_offline
    default = tokens.grant({k: v for k, v in PASSWORD.items() if k != "scope"})
    assert "PcadbApis" in str(default["scope"]), "no scope asked: every API scope"


@pytest.mark.parametrize(("form", "status", "error"), [
    ({**PASSWORD, "client_secret": "nope"}, 401, "invalid_client"),
    ({**PASSWORD, "password": "nope"}, 400, "invalid_grant"),
    ({**PASSWORD, "grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
    ({**PASSWORD, "scope": "VcdbApis EverythingApis"}, 400, "invalid_scope"),
    ({"grant_type": "refresh_token", "refresh_token": "unknown", "client_id": "client",
      "client_secret": "secret"}, 400, "invalid_grant"),
    ({k: v for k, v in PASSWORD.items() if k != "grant_type"}, 400, "invalid_request"),
])
def test_grant_errors_are_oauth_errors(form: dict[str, str], status: int, error: str) -> None:
    with pytest.raises(OAuthError) as caught:
        store(Clock()).grant(form)
    assert (caught.value.status, caught.value.error) == (status, error)
    assert set(caught.value.body()) == {"error", "error_description"}


def test_client_may_authenticate_with_basic() -> None:
    form = {k: v for k, v in PASSWORD.items() if not k.startswith("client")}
    basic = "Basic " + base64.b64encode(b"client:secret").decode()
    assert "access_token" in store(Clock()).grant(form, basic)
    with pytest.raises(OAuthError):
        store(Clock()).grant(form, "Basic " + base64.b64encode(b"client:wrong").decode())
