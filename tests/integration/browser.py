"""The explorer in a real browser: Debian's headless Chromium driven by Playwright's async API
(no browser download: `make browser` installs /usr/bin/chromium), and the explorer itself served
in-process on a free port.  Screenshots go to .vcdb/screenshots/.  Also what the explorer's HTTP
tests share: a JSON GET that checks its status, and a validator for one schema of the OpenAPI
document."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from jsonschema import Draft202012Validator

from web.app import SERVER_OPTIONS, build_app
from web.config import WebConfig

CHROMIUM = "/usr/bin/chromium"


async def get_json(client: aiohttp.ClientSession, url: str, status: int = 200) -> Any:
    """GET `url`, assert its status, return its JSON body."""
    async with client.get(url) as r:
        assert r.status == status, (url, r.status, await r.text())
        return await r.json()


def validator(doc: dict[str, object], name: str) -> Draft202012Validator:
    """A validator for `name` of the OpenAPI document's components (refs resolve within it)."""
    return Draft202012Validator({**doc, "$ref": f"#/components/schemas/{name}"})
SHOTS = Path(__file__).resolve().parents[2] / ".vcdb" / "screenshots"
# Without the background-networking flags Chromium keeps dialling Google on a closed network.
FLAGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@asynccontextmanager
async def explorer(database_url: str, **config: Any) -> AsyncIterator[str]:
    """The explorer on a free loopback port; yields its base URL."""
    server = TestServer(build_app(WebConfig(read_url=database_url, write_url=database_url, **config)),
                        host="127.0.0.1")
    await server.start_server(**SERVER_OPTIONS)  # the limits `vcdb serve` runs with
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A new page in headless Chromium; closed with the browser."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True, timeout=30_000)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(10_000)
            yield page
        finally:
            await browser.close()


async def screenshot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
