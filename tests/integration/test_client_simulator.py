"""The AutoCare client against the simulator over HTTP under a fault profile: every VCdb table
paged completely, exactly the simulator's records, whatever the server throws."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx

from producers.api.client import AutoCareClient, ClientConfig
from schemas.catalog import load_catalog
from simulator.dataset import Dataset, DatasetConfig
from simulator.timeline import Timeline
from tests.support import settings_for
from vcdb.services import Service

FAULTS = {"seed": 5, "rules": [
    {"kind": "status", "status": 429, "retry_after": 1, "probability": 0.04},
    {"kind": "status", "status": 429, "retry_after": 1, "retry_after_format": "http-date", "probability": 0.02},
    {"kind": "500", "probability": 0.03}, {"kind": "502", "probability": 0.02}, {"kind": "503", "probability": 0.02},
    {"kind": "reset", "probability": 0.03},
    {"kind": "truncate", "mode": "content_length", "probability": 0.02},
    {"kind": "truncate", "mode": "cut_json", "probability": 0.02},
    {"kind": "malformed_json", "probability": 0.02},
    {"kind": "duplicate", "table": "BaseVehicle"},
    {"kind": "scheme_case", "table": "Vehicle"},
], "token": {"expires_in": 4, "revoke_after_s": 3}}


def test_client_pages_every_table_exactly_under_faults(start_simulator: Callable[..., Service]) -> None:
    sim = start_simulator("--scale", "0.005", "--seed", "8", "--default-page-size", "500", "--max-page-size", "500")
    assert httpx.post(f"{sim.url}/_sim/faults", json=FAULTS, timeout=10).status_code == 200
    settings = settings_for("postgresql://unused", "unused:9092", sim.url)
    ds = Dataset(DatasetConfig(seed=8, scale=0.005, timeline=Timeline.monthly(3)))
    config = ClientConfig.from_settings(settings, page_size=500, backoff_base=0.05, backoff_cap=0.5,
                                        max_attempts=12, read_timeout=10.0)

    async def go() -> None:
        async with AutoCareClient(config) as client:
            for table in load_catalog("vcdb").api_tables():
                got: dict[str, dict[str, object]] = {}
                async for page in client.iter_pages("vcdb", table.api_table or table.name):
                    assert [json.loads(raw) for raw in page.raw] == page.records, table.name  # cut as sent
                    for rec in page.records:
                        got[json.dumps(rec, sort_keys=True)] = rec
                view, release = ds.view("vcdb", table.name, now=ds.releases)
                want = {json.dumps(r, sort_keys=True) for r in ds.records("vcdb", table.name, list(view), release)}
                assert set(got) == want, table.name
            assert client.retries > 0

    asyncio.run(go())
    stats = httpx.get(f"{sim.url}/_sim/stats", timeout=10).json()
    assert sum(stats["faults"].values()) >= 10, stats["faults"]
