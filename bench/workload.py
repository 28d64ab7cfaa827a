"""Synthetic API records for benchmarks and tests: a page source serving given records (the
producer's view of the API transport) and the smallest consistent parents of Vehicle."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from producers.api.paging import Page, PageCursor, Pagination
from streams.envelope import encode_record


class RecordsSource:
    """A page source serving fixed records per API table (the API transport of the producer).

    Each page carries its records' bytes too, as the client's pages do: the dicts encoded here.
    """

    def __init__(self, records: Mapping[str, Sequence[dict[str, Any]]], page_size: int = 1000) -> None:
        self.records = records
        self.page_size = page_size

    async def pages(self, db: str, api_table: str, *, as_of: dt.date | None, since: dt.date | None,
                    resume: PageCursor | None) -> AsyncIterator[Page]:
        rows = list(self.records.get(api_table, []))
        pages = max(1, -(-len(rows) // self.page_size))
        for p in range(resume.page_number if resume else 1, pages + 1):
            chunk = rows[(p - 1) * self.page_size: p * self.page_size]
            yield Page(chunk, [encode_record(r) for r in chunk], PageCursor(None, p, self.page_size),
                       PageCursor(None, p + 1, self.page_size) if p < pages else None,
                       Pagination(total_count=len(rows), page_size=self.page_size, current_page=p, total_pages=pages))


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
