"""The explorer under hostile input (issue 21, hardening): every parameter of every operation of
the OpenAPI document driven with a NUL byte, ids past 2^31 and 2^63 and a 10,000-character string
(never a 500); foreign Host headers (421); the CSRF token bound to the session; links from the data;
Cache-Control and Server headers; an unexpected error (a table gone under the reader) as a 500 with
a request id, its traceback logged once; a replay that meets a dead letter of an unknown table."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import time
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from pydantic import SecretStr

from tests.integration.browser import explorer, get_json, validator
from tests.integration.pipeline import execute, fetch
from tests.integration.test_explorer import _serve
from tests.integration.test_explorer_operations import SEED
from tests.support import SMALL
from vcdb import exit_codes, services

TOKEN = "s3cret-admin"
ADMIN = {"admin_token": SecretStr(TOKEN)}
BEARER = {"Authorization": f"Bearer {TOKEN}"}
NUL = "a\x00b"
LONG = "x" * 10_000
BAD_VALUES: tuple[Any, ...] = (NUL, str(2**63), str(2**31), LONG, str(-(2**63) - 1))
BUDGET_S = 60.0  # the whole drive, bounded
MAX_REQUESTS = 2000


def _path(template: str, values: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda m: quote(values.get(m.group(1), "1"), safe=""), template)


def _filled(op: dict[str, Any]) -> dict[str, str]:
    """A valid-looking value for every required parameter, so that the one driven is reached."""
    return {p["name"]: "1" if p["schema"].get("type") == "integer" or "anyOf" in p["schema"] else "X"
            for p in op.get("parameters", []) if p["required"]}


async def test_every_parameter_of_every_operation_never_gives_500(database_url: str,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    await execute(database_url, SEED)
    caplog.set_level(logging.WARNING)
    seen: list[tuple[str, str, str, int]] = []
    started = time.monotonic()
    async with explorer(database_url, **ADMIN) as base, aiohttp.ClientSession() as client:
        doc = await get_json(client, f"{base}/api/v1/openapi.json")
        for template, ops in doc["paths"].items():
            for method, op in ops.items():
                filled = _filled(op)
                cases: list[tuple[str, Any]] = []
                for p in op.get("parameters", []):
                    cases += [(p["name"], v) for v in BAD_VALUES]
                body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
                json_values: tuple[Any, ...] = (NUL, 2**63, 2**31, LONG, [2**63], [NUL], {"a": NUL}, -(2**63) - 1)
                cases += [(f"body:{name}", v) for name in body.get("properties", {}) for v in json_values]
                for name, value in cases:
                    assert time.monotonic() - started < BUDGET_S and len(seen) < MAX_REQUESTS
                    kind = next((p["in"] for p in op.get("parameters", []) if p["name"] == name), "body")
                    path = _path(template, {**filled, name: value} if kind == "path" else filled)
                    query = {k: v for k, v in filled.items() if f"{{{k}}}" not in template}
                    if kind == "query":
                        query[name] = value
                    kw: dict[str, Any] = {"params": query}
                    if method == "post":
                        kw.update(json={name.removeprefix("body:"): value} if kind == "body" else {},
                                  headers=BEARER)
                    async with client.request(method.upper(), base + path, **kw) as r:
                        status, text = r.status, await r.text()
                        assert "aiohttp" not in r.headers.get("Server", ""), r.headers.get("Server")
                    seen.append((method, template, name, status))
                    assert status < 500, (method, template, name, repr(value)[:40], status, text[:300])
                    if status in (400, 404) and r.content_type == "application/json":
                        validator(doc, "Problem").validate(json.loads(text))
        # The pages parse the same way: the cases of the issue, as HTML.
        for url in ("/search?q=a%00b", "/dead-letters?table=a%00b", "/dead-letters?reason=a%00b",
                    "/part?part_number=a%00b", "/part?part_number=X&brand=a%00b", f"/runs?before={2**63}",
                    f"/dead-letters?after={2**63}", f"/dead-letters?run={2**63}", f"/runs/{2**63}",
                    f"/dead-letters/{2**63}", f"/vehicle/{2**31}/parts", f"/vehicle/1/parts?part_type_id={2**31}",
                    f"/vehicle/{2**63}", f"/vehicles/{2**31}", f"/release/{2**63}"):
            async with client.get(base + url) as r:
                assert r.status in (400, 404), (url, r.status)
                seen.append(("get", url, "", r.status))
    methods = {(m, t) for m, t, _, _ in seen}
    assert len(methods) >= len([1 for ops in doc["paths"].values() for _ in ops]) - 2  # every operation, or nearly
    assert sum(1 for *_, s in seen if s in (400, 404)) > len(seen) * 0.8
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "an error was logged"


async def test_a_foreign_host_gets_421_and_the_allowed_ones_are_served(database_url: str) -> None:
    async with explorer(database_url) as base, aiohttp.ClientSession() as client:
        port = base.rsplit(":", 1)[1]
        for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1:{int(port) + 1}", "127.0.0.1.nip.io",
                     f"localhost.evil.example:{port}", "", "a b"):
            for url in ("/", "/api/v1/", "/static/htmx.min.js", "/no/such"):
                async with client.get(base + url, headers={"Host": host}) as r:
                    assert r.status == 421, (host, url, r.status)
                    assert "vcdb_session" not in r.cookies and "data as of" not in await r.text()
        async with client.get(f"{base}/api/v1/", headers={"Host": "evil.example"}) as r:
            assert (await r.json())["title"] == "Misdirected request"
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
            async with client.get(f"{base}/api/v1/", headers={"Host": host}) as r:
                assert r.status == 200, host
    allowed = ("vcdb.example", "other.example:9000")
    async with explorer(database_url, allowed_hosts=allowed, **ADMIN) as base, aiohttp.ClientSession() as client:
        port = base.rsplit(":", 1)[1]
        for host, status in (("vcdb.example", 200), (f"vcdb.example:{port}", 200), ("other.example:9000", 200),
                             ("other.example", 421), (f"127.0.0.1:{port}", 421), ("evil.example", 421)):
            async with client.get(f"{base}/api/v1/", headers={"Host": host}) as r:
                assert r.status == status, (host, r.status)
        # The POST origin check compares with the allowed hosts, not with the request's own Host.
        url = f"{base}/api/v1/dead-letters/replay"
        for origin, status in (("http://other.example:9000", 200), ("https://vcdb.example", 200),
                               ("http://evil.example", 403), ("null", 403)):
            headers = {**BEARER, "Host": "vcdb.example", "Origin": origin}
            async with client.post(url, json={"ids": [1]}, headers=headers) as r:
                assert r.status == status, (origin, r.status, await r.text())
        async with client.post(url, json={"ids": [1]}, headers={**BEARER, "Host": "evil.example",
                                                                 "Origin": "http://evil.example"}) as r:
            assert r.status == 421


def _cookie(response: aiohttp.ClientResponse) -> str:
    return response.cookies["vcdb_session"].value


async def test_the_csrf_token_is_bound_to_the_session(database_url: str) -> None:
    await execute(database_url, SEED)
    acme = (await fetch(database_url, "SELECT dead_letter_id FROM ingest.dead_letters WHERE record_key = '[2]'"))[0][0]
    async with explorer(database_url, **ADMIN) as base, aiohttp.ClientSession() as client:
        async with client.get(f"{base}/dead-letters") as r:
            html, session = await r.text(), _cookie(r)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert token is not None and token.group(1) != session
        async with client.get(f"{base}/dead-letters") as r:  # another client, another session and token
            other_session = _cookie(r)
            other = re.search(r'name="csrf_token" value="([^"]+)"', await r.text())
        assert other is not None and other.group(1) != token.group(1)

        def post(cookie: str, field: str, **extra: str) -> Any:
            return client.post(f"{base}/dead-letters/replay", headers={"Cookie": f"vcdb_session={cookie}"},
                               data={"ids": str(acme), "admin_token": TOKEN, "csrf_token": field, **extra})

        invented = "A" * 32
        for cookie, field in ((invented, invented), (session, session), (session, other.group(1)),
                              (other_session, token.group(1)), ("", token.group(1)), (session, "")):
            async with post(cookie, field) as r:
                assert r.status == 403 and "CSRF" in await r.text(), (cookie, field)
        async with post(session, token.group(1)) as r:  # the real flow: the page's cookie and its form
            assert r.status == 200, await r.text()
        async with post(session, token.group(1), reason=NUL) as r:  # a form parameter reaches validation
            assert r.status == 400
        async with post(session, token.group(1), ids=str(2**63)) as r:
            assert r.status == 400
    assert (await fetch(database_url, "SELECT count(*) FROM ingest.replays"))[0][0] == 0  # previews only


async def test_links_from_the_data_are_http_only(database_url: str) -> None:
    await execute(database_url, SMALL)
    async with explorer(database_url) as base, aiohttp.ClientSession() as client:
        for uri in ("javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
                    "data:text/html;base64,PHNjcmlwdD4=", "vbscript:x"):
            await execute(database_url, "UPDATE autocare_pies.item_digital_asset SET uri = "
                                        f"'{uri.replace(chr(39), chr(39) * 2)}' WHERE file_name = 'z-main.jpg'")
            async with client.get(f"{base}/vehicle/1001/parts") as r:
                html = await r.text()
            assert r.status == 200 and "z-main.jpg" in html
            assert not re.search(r'href="\s*(java|data|vb)', html, re.I), uri
        await execute(database_url, "UPDATE autocare_pies.item_digital_asset SET uri = 'https://img.example/z.jpg' "
                                    "WHERE file_name = 'z-main.jpg'")
        async with client.get(f"{base}/vehicle/1001/parts") as r:
            assert 'href="https://img.example/z.jpg"' in await r.text()


async def test_headers_no_store_on_dead_letters_and_no_version_in_server(database_url: str) -> None:
    await execute(database_url, SEED)
    dl = (await fetch(database_url, "SELECT min(dead_letter_id) FROM ingest.dead_letters"))[0][0]
    async with explorer(database_url) as base, aiohttp.ClientSession() as client:
        for url in ("/dead-letters", f"/dead-letters/{dl}", "/api/v1/dead-letters", f"/api/v1/dead-letters/{dl}",
                    "/dead-letters?db=nosuch"):
            async with client.get(base + url) as r:
                assert r.headers["Cache-Control"] == "no-store", url
        for url in ("/", "/api/v1/", "/no/such", "/static/htmx.min.js", "/api/v1/openapi.json", "/runs"):
            async with client.get(base + url) as r:
                assert r.headers["Server"] == "vcdb-explorer", (url, r.headers["Server"])
                assert re.fullmatch(r"[0-9a-f]{16}", r.headers["X-Request-Id"]), url
        async with client.get(base + "/") as r:
            assert "no-store" not in r.headers.get("Cache-Control", "")


async def test_an_unexpected_error_is_a_500_with_a_request_id_logged_once(database_url: str,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    await execute(database_url, SMALL)
    # The failure comes from the real server: the table the vehicle page reads is gone.
    await execute(database_url, "ALTER TABLE autocare_vcdb.vehicle RENAME TO vehicle_gone")
    caplog.set_level(logging.INFO)
    async with explorer(database_url) as base, aiohttp.ClientSession() as client:
        doc = await get_json(client, f"{base}/api/v1/openapi.json")
        async with client.get(f"{base}/api/v1/vehicles/1001") as r:
            assert r.status == 500
            problem = await r.json()
            assert r.headers["X-Request-Id"] == problem["request_id"]
        validator(doc, "Problem").validate(problem)
        assert problem["request_id"] in problem["detail"] and "Undefined" not in problem["detail"]
        async with client.get(f"{base}/vehicle/1001") as r:
            html = await r.text()
            page_id = r.headers["X-Request-Id"]
        assert r.status == 500 and "text/html" in r.headers["Content-Type"]
        assert f'<code id="request-id">{page_id}</code>' in html and "Traceback" not in html
    for request_id in (problem["request_id"], page_id):
        mine = [rec for rec in caplog.records if request_id in rec.getMessage()]
        assert len(mine) == 1 and mine[0].exc_info is not None and mine[0].levelno == logging.ERROR
    assert len([rec for rec in caplog.records if rec.exc_info]) == 2  # one traceback per request, no more
    for ops in doc["paths"].values():
        for op in ops.values():
            assert "500" in op["responses"] and "421" in op["responses"], op["operationId"]


async def test_a_replay_meeting_an_unknown_table_replays_the_others_and_finishes(database_url: str) -> None:
    await execute(database_url, SEED)
    await execute(database_url, """
        INSERT INTO ingest.dead_letters (db, table_name, run_id, topic, partition, "offset", record_key, record,
                                         headers, reason, message)
        VALUES ('vcdb', 'NoSuchTable', 1, 'vcdb.NoSuchTable', 0, 1, '[1]', '{}', '{}', 'validation', 'x')""")
    ids = {r[0]: r[1] for r in await fetch(database_url, "SELECT record_key || table_name, dead_letter_id "
                                                         "FROM ingest.dead_letters WHERE db = 'vcdb'")}
    good, bad = ids["[2]Make"], ids["[1]NoSuchTable"]
    async with explorer(database_url, **ADMIN) as base, aiohttp.ClientSession() as client:
        body = {"ids": [good, bad], "confirm": True}
        async with client.post(f"{base}/api/v1/dead-letters/replay", json=body, headers=BEARER) as r:
            assert r.status == 200, await r.text()
            done = await r.json()
    outcome = {o["id"]: o for o in done["outcomes"]}
    assert outcome[good]["resolved"] and not outcome[bad]["resolved"]
    assert outcome[bad]["reason"] == "unknown_table" and "NoSuchTable" in outcome[bad]["message"]
    rec = await fetch(database_url, "SELECT finished_at, loaded, failed FROM ingest.replays")
    assert len(rec) == 1 and rec[0]["finished_at"] is not None and json.loads(rec[0]["loaded"]) == [good]
    assert [f[:2] for f in json.loads(rec[0]["failed"])] == [[bad, "unknown_table"]]
    left = await fetch(database_url, "SELECT status, attempts FROM ingest.dead_letters WHERE dead_letter_id = $1", bad)
    assert tuple(left[0]) == ("open", 1)


async def test_vcdb_serve_answers_only_its_allowed_hosts(database_url: str) -> None:
    port = services.free_port()
    proc = _serve({**os.environ, "DATABASE_URL": database_url}, "--port", str(port),
                  "--allowed-host", "vcdb.test", "--allowed-host", f"localhost:{port}")
    try:
        deadline = time.monotonic() + 30
        status = None
        async with aiohttp.ClientSession() as client:
            while time.monotonic() < deadline and status is None:
                try:
                    async with client.get(f"http://127.0.0.1:{port}/api/v1/", headers={"Host": "vcdb.test"}) as r:
                        status = r.status
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.2)
            assert status == 200
            for host, expected in ((f"localhost:{port}", 200), (f"127.0.0.1:{port}", 421), ("evil.test", 421)):
                async with client.get(f"http://127.0.0.1:{port}/", headers={"Host": host}) as r:
                    assert r.status == expected, host
                    assert r.headers["Server"] == "vcdb-explorer"
            async with client.get(f"http://127.0.0.1:{port}/api/v1/search", params={"q": LONG},
                                  headers={"Host": "vcdb.test"}) as r:
                assert r.status == 400 and r.headers["Server"] == "vcdb-explorer"  # ours, not the parser's
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == exit_codes.INTERRUPTED, err
        assert f"(hosts: vcdb.test, localhost:{port})" in out and "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
