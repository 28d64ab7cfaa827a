"""The explorer's guards without a socket: which Host headers are answered, which addresses from the
data may be links, what parameters SQL can take, and `vcdb serve --allowed-host`."""

from __future__ import annotations

import pytest
from pydantic import Field, ValidationError

from vcdb.cli import build_parser
from web import openapi
from web.config import WebConfig
from web.endpoints import OUT_OF_RANGE, STR_MAX, BigInt, Endpoint, Params
from web.security import host_allowed, is_link, split_host

DEFAULT = WebConfig(read_url="postgresql:///x", write_url="postgresql:///x", host="127.0.0.1", port=8080)
LISTED = WebConfig(read_url="postgresql:///x", write_url="postgresql:///x",
                   allowed_hosts=("vcdb.example", "other.example:9000", "[::1]:8080"))


@pytest.mark.parametrize(("host", "config", "local", "answered"), [
    ("127.0.0.1:8080", DEFAULT, ("127.0.0.1", 8080), True),
    ("localhost:8080", DEFAULT, ("127.0.0.1", 8080), True),
    ("LocalHost:8080", DEFAULT, ("127.0.0.1", 8080), True),
    ("[::1]:8080", DEFAULT, ("::1", 8080), True),
    ("10.0.0.5:8080", DEFAULT, ("10.0.0.5", 8080), True),  # bound to 0.0.0.0: the address it came in on
    ("10.0.0.6:8080", DEFAULT, ("10.0.0.5", 8080), False),
    ("127.0.0.1:41000", DEFAULT, ("127.0.0.1", 41000), True),  # the port actually served
    ("127.0.0.1:8081", DEFAULT, ("127.0.0.1", 8080), False),
    ("127.0.0.1", DEFAULT, ("127.0.0.1", 8080), False),  # port 80
    ("localhost", DEFAULT, ("127.0.0.1", 80), True),
    ("evil.example:8080", DEFAULT, ("127.0.0.1", 8080), False),  # DNS rebinding
    ("localhost.evil.example:8080", DEFAULT, ("127.0.0.1", 8080), False),
    ("127.0.0.1:8080@evil", DEFAULT, ("127.0.0.1", 8080), False),
    ("", DEFAULT, ("127.0.0.1", 8080), False),
    ("a b", DEFAULT, ("127.0.0.1", 8080), False),
    ("vcdb.example", LISTED, ("127.0.0.1", 8080), True),
    ("VCDB.example:443", LISTED, ("127.0.0.1", 8080), True),  # a name without a port: any port
    ("other.example:9000", LISTED, ("127.0.0.1", 8080), True),
    ("other.example", LISTED, ("127.0.0.1", 8080), False),
    ("[::1]:8080", LISTED, ("127.0.0.1", 8080), True),
    ("127.0.0.1:8080", LISTED, ("127.0.0.1", 8080), False),  # the list replaces the default
])
def test_hosts_answered(host: str, config: WebConfig, local: tuple[str, int], answered: bool) -> None:
    assert host_allowed(host, config, local) is answered


def test_split_host() -> None:
    assert split_host("Example.COM:80") == ("example.com", 80)
    assert split_host("[::1]") == ("[::1]", None)
    assert split_host("::1") is None and split_host("a:b") is None and split_host("x/y") is None


@pytest.mark.parametrize(("address", "link"), [
    ("https://img.example/a.jpg", True), ("HTTP://img.example/a.jpg", True), ("/static/a.png", True),
    ("images/a.png", True), ("a.png?x=1:2", True), ("javascript:alert(1)", False), ("JavaScript:alert(1)", False),
    (" javascript:alert(1)", False), ("java\tscript:alert(1)", False), ("java\nscript:x", False),
    ("data:text/html;base64,PHNjcmlwdD4=", False), ("vbscript:x", False), ("file:///etc/passwd", False),
    ("", False), (None, False), (3, False),
])
def test_only_http_and_relative_addresses_are_links(address: object, link: bool) -> None:
    assert is_link(address) is link


class Some(Params):
    small: int | None = None
    big: BigInt | None = None
    ids: list[BigInt] = Field(default_factory=list)
    positive: int | None = Field(default=None, ge=1)
    text: str | None = None


@pytest.mark.parametrize(("raw", "error"), [
    ({"small": str(2**31)}, OUT_OF_RANGE), ({"small": str(-(2**31) - 1)}, OUT_OF_RANGE),
    ({"big": str(2**63)}, OUT_OF_RANGE), ({"ids": ["1", str(2**63)]}, OUT_OF_RANGE),
    ({"text": "a\x00b"}, "value_error"), ({"text": "x" * (STR_MAX + 1)}, "value_error"),
    ({"positive": "0"}, "greater_than_equal"), ({"small": "1" * 5000}, None),
])
def test_parameters_sql_cannot_take_are_refused(raw: dict[str, object], error: str | None) -> None:
    with pytest.raises(ValidationError) as e:
        Some.model_validate(raw)
    if error is not None:
        assert e.value.errors()[0]["type"] == error


def test_parameters_sql_can_take_pass() -> None:
    ok = Some.model_validate({"small": str(2**31 - 1), "big": str(2**63 - 1), "ids": [str(2**40)], "text": "é" * 50})
    assert ok.small == 2**31 - 1 and ok.big == 2**63 - 1 and ok.ids == [2**40]


def test_openapi_bounds_ints_by_their_sql_type_and_names_500() -> None:
    class Out(Params):
        pass

    async def handler(ctx: object, p: object) -> Out:
        return Out()

    ep = Endpoint("some", handler, Some, Out, "some", api="/some")
    doc = openapi.document([ep], "/api/v1")
    op = doc["paths"]["/api/v1/some"]["get"]
    schemas = {p["name"]: p["schema"] for p in op["parameters"]}
    small = next(s for s in schemas["small"]["anyOf"] if s.get("type") == "integer")
    big = next(s for s in schemas["big"]["anyOf"] if s.get("type") == "integer")
    assert (small["format"], small["maximum"]) == ("int32", 2**31 - 1)
    assert (big["format"], big["maximum"]) == ("int64", 2**63 - 1)
    assert schemas["ids"]["items"]["maximum"] == 2**63 - 1
    assert next(s for s in schemas["positive"]["anyOf"] if s.get("type") == "integer")["minimum"] == 1
    assert {"400", "404", "421", "500"} <= set(op["responses"])


def test_serve_takes_allowed_hosts() -> None:
    args = build_parser().parse_args(["serve", "--allowed-host", "vcdb.example", "--allowed-host", "[::1]:8080"])
    assert args.allowed_hosts == ["vcdb.example", "[::1]:8080"]
    assert build_parser().parse_args(["serve"]).allowed_hosts == []
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--allowed-host", "not a host"])
