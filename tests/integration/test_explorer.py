"""The explorer's frame: problems as pages and JSON, its OpenAPI document, the read-only pool,
`vcdb serve` as a process (its exit codes), and a page in headless Chromium."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import aiohttp
import pytest
from jsonschema import Draft202012Validator
from pydantic import SecretStr

from ledger.pools import connect_reader
from schemas.settings import Settings
from tests.integration.browser import chromium, explorer, screenshot, validator
from tests.integration.pipeline import execute
from vcdb import exit_codes, services
from web.app import SECURITY_HEADERS
from web.config import WebConfig

DEADLINE_S = 30.0


async def _get(client: aiohttp.ClientSession, url: str, **kw: object) -> tuple[int, str, dict[str, str]]:
    async with client.get(url, **kw) as r:  # type: ignore[arg-type]
        return r.status, await r.text(), dict(r.headers)


async def test_problems_are_pages_and_json_with_the_security_headers(database_url: str) -> None:
    async with explorer(database_url) as base, aiohttp.ClientSession() as client:
        status, html, headers = await _get(client, f"{base}/no/such/page")
        assert status == 404 and "text/html" in headers["Content-Type"]
        assert "there is no page at /no/such/page" in html
        for name, value in SECURITY_HEADERS.items():
            assert headers[name] == value
        async with client.get(f"{base}/api/v1/no/such") as r:
            assert r.status == 404
            body = await r.json()
        async with client.get(f"{base}/api/v1/openapi.json") as r:
            doc = await r.json()
        validator(doc, "Problem").validate(body)
        assert body["detail"] == "there is no page at /api/v1/no/such"
        async with client.post(f"{base}/api/v1/") as r:
            assert r.status == 405
            assert "use GET" in (await r.json())["detail"]


async def test_openapi_document_is_consistent_and_describes_the_home_page(database_url: str) -> None:
    # Run 1 published; run 2 failed; run 3 succeeded but is still staged: readers see run 1.
    await execute(database_url, "INSERT INTO ingest.runs (run_id, db, kind, status, finished_at) VALUES "
                                "(1, 'vcdb', 'baseline', 'succeeded', now()), "
                                "(2, 'vcdb', 'incremental', 'failed', now()), "
                                "(3, 'vcdb', 'incremental', 'succeeded', now()); "
                                "INSERT INTO ingest.releases (db, run_id, status, publication, published_at) VALUES "
                                "('vcdb', 1, 'published', 'in_place', now())")
    async with explorer(database_url) as base, aiohttp.ClientSession() as client:
        async with client.get(f"{base}/api/v1/openapi.json") as r:
            doc = await r.json()
        assert doc["openapi"].startswith("3.1")
        ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
        assert len(ids) == len(set(ids)) and "home" in ids
        for schema in doc["components"]["schemas"].values():
            Draft202012Validator.check_schema(schema)
        for path, ops in doc["paths"].items():  # every $ref resolves
            for op in ops.values():
                for resp in op["responses"].values():
                    ref = resp["content"]["application/json"]["schema"]["$ref"]
                    assert ref.rsplit("/", 1)[-1] in doc["components"]["schemas"], (path, ref)
        async with client.get(f"{base}/api/v1/") as r:
            home = await r.json()
        validator(doc, "HomePage").validate(home)
        vcdb = next(d for d in home["databases"] if d["db"] == "vcdb")
        assert (vcdb["release"], vcdb["run_id"], vcdb["kind"]) == (1, 1, "baseline")  # newer runs are not the data
        status, html, _ = await _get(client, f"{base}/")
        assert status == 200 and ('data as of <a id="banner-release" href="/release/1">release 1</a> '
                                  "(run #1, vcdb baseline") in html


async def test_the_read_pool_cannot_write(database_url: str) -> None:
    pool = await connect_reader(database_url, size=1)
    try:
        with pytest.raises(Exception, match="read-only transaction"):
            await pool.execute("INSERT INTO ingest.runs (db, kind, status) VALUES ('vcdb', 'baseline', 'running')")
    finally:
        await pool.close()


def test_the_reader_role_is_used_where_its_password_is_configured() -> None:
    plain = Settings(DATABASE_URL="postgresql://app@db:5432/vcdb")  # type: ignore[call-arg]
    assert WebConfig.from_settings(plain).read_url == "postgresql://app@db:5432/vcdb"
    reader = Settings(DATABASE_URL="postgresql://app@db:5432/vcdb",  # type: ignore[call-arg]
                      VCDB_READER_PASSWORD="s3cr:t", VCDB_ADMIN_TOKEN="tok")
    config = WebConfig.from_settings(reader, read_only=True)
    assert config.read_url == "postgresql://vcdb_reader:s3cr%3At@db:5432/vcdb"
    assert config.write_url == "postgresql://app@db:5432/vcdb"
    assert config.admin_token == SecretStr("tok") and not config.replay_enabled  # read-only wins


def _serve(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "vcdb", "serve", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_signals)


def _default_signals() -> None:  # a background CI job ignores SIGINT; the command must see what a terminal sends
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


async def test_serve_answers_then_stops_on_sigterm_with_4(database_url: str) -> None:
    port = services.free_port()
    proc = _serve({**os.environ, "DATABASE_URL": database_url}, "--port", str(port))
    try:
        deadline = time.monotonic() + DEADLINE_S
        status = None
        async with aiohttp.ClientSession() as client:
            while time.monotonic() < deadline and status is None:
                try:
                    status, html, _ = await _get(client, f"http://127.0.0.1:{port}/")
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.2)
        assert status == 200 and "vcdb-stream explorer" in html
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=DEADLINE_S)
        assert proc.returncode == exit_codes.INTERRUPTED, err
        assert f"explorer on http://127.0.0.1:{port}/" in out
        assert "replay off: VCDB_ADMIN_TOKEN unset" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=DEADLINE_S)


def test_serve_exit_codes_postgres_down_5_bad_port_2() -> None:
    down = _serve({**os.environ, "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{services.free_port()}/x"},
                  "--port", str(services.free_port()))
    bad = _serve(dict(os.environ), "--port", "eighty")
    try:
        _, err = down.communicate(timeout=DEADLINE_S)
        assert down.returncode == exit_codes.UNAVAILABLE, err
        assert "cannot connect to PostgreSQL" in err and "Traceback" not in err
        _, err = bad.communicate(timeout=DEADLINE_S)
        assert bad.returncode == exit_codes.USAGE and "--port" in err
    finally:
        for p in (down, bad):
            if p.poll() is None:
                p.kill()
                p.wait(timeout=DEADLINE_S)


async def test_a_page_in_headless_chromium_loads_htmx_offline(database_url: str) -> None:
    async with explorer(database_url) as base, chromium() as page:
        await page.goto(f"{base}/")
        assert await page.title() == "Home · vcdb-stream explorer"
        assert (await page.evaluate("window.htmx.version")).startswith("2.0.")
        assert "no release published yet" in await page.inner_text("#data-run")
        await screenshot(page, "explorer-home")
        response = await page.goto(f"{base}/vehicle/999999999999")
        assert response is not None and response.status == 404
        await screenshot(page, "explorer-404")
