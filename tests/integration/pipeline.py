"""Helpers for integration tests: publish hand-made API records as a real producer run (the
producer service over a page source of given records), and consume until idle."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import asyncpg

from consumers.runner import consume
from consumers.worker import WorkerOptions, WorkerResult
from producers.runner import ProduceOptions, RunResult, produce
from producers.service import Checkpoint, FetchedPage
from schemas.settings import Settings


class RecordsSource:
    """A page source serving fixed records per API table (the API transport of the producer)."""

    def __init__(self, records: Mapping[str, Sequence[dict[str, Any]]], page_size: int = 1000) -> None:
        self.records = records
        self.page_size = page_size

    async def pages(self, db: str, api_table: str, *, as_of: dt.date | None, since: dt.date | None,
                    resume: Checkpoint | None) -> AsyncIterator[FetchedPage]:
        rows = list(self.records.get(api_table, []))
        pages = max(1, -(-len(rows) // self.page_size))
        for p in range(resume.next_page if resume else 1, pages + 1):
            chunk = rows[(p - 1) * self.page_size: p * self.page_size]
            yield FetchedPage(p, chunk, len(rows), pages, Checkpoint(None, p + 1) if p < pages else None)


def lookups() -> dict[str, list[dict[str, Any]]]:
    """The smallest consistent set of parents for Vehicle."""
    return {
        "Year": [{"YearID": y} for y in (2020, 2021)],
        "Make": [{"MakeID": 1, "MakeName": "Acme"}, {"MakeID": 2, "MakeName": "Zenith"}],
        "VehicleTypeGroup": [{"VehicleTypeGroupID": 1, "VehicleTypeGroupName": "Light Duty"}],
        "VehicleType": [{"VehicleTypeID": 5, "VehicleTypeName": "Car", "VehicleTypeGroupID": 1}],
        "Model": [{"ModelID": 10, "ModelName": "Roadster", "VehicleTypeID": 5}],
        "SubModel": [{"SubModelID": 1, "SubModelName": "Base"}],
        "Region": [{"RegionID": 1, "RegionAbbr": "US", "RegionName": "United States"}],
        "PublicationStage": [{"PublicationStageID": 4, "PublicationStageName": "Fully researched"}],
    }


def vehicle(vid: int, bvid: int, eff: str = "2026-01-31T00:00:00", end: str | None = None) -> dict[str, Any]:
    return {"VehicleID": vid, "BaseVehicleID": bvid, "SubModelID": 1, "RegionID": 1, "PublicationStageID": 4,
            "EffectiveDateTime": eff, "EndDateTime": end}


def base_vehicle(bvid: int, year: int = 2020) -> dict[str, Any]:
    return {"BaseVehicleID": bvid, "YearID": year, "MakeID": 1, "ModelID": 10,
            "EffectiveDateTime": "2026-01-31T00:00:00"}


async def publish(settings: Settings, records: Mapping[str, Sequence[dict[str, Any]]], *, kind: str = "baseline",
                  page_size: int = 1000, partitions: int = 3) -> RunResult:
    opts = ProduceOptions(db="vcdb", kind=kind, tables=tuple(records), partitions=partitions,
                          since=dt.date(2026, 1, 1) if kind == "incremental" else None)
    return await produce(settings, opts, RecordsSource(records, page_size), install_signals=False)


async def consume_until_idle(settings: Settings, stall_s: float = 60.0, **kw: Any) -> WorkerResult:
    opts = WorkerOptions(until_idle=True, stall_s=stall_s, **kw)
    return await asyncio.wait_for(consume(settings, "vcdb", opts, install_signals=False), timeout=stall_s + 60)


async def fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def execute(url: str, sql: str) -> None:
    """Run a script (several statements) outside the ingester: tests that tamper with the data."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
