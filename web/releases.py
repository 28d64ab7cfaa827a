"""A release's page: what it was (database, run, kind, publication) and, for a VCdb release, the
live ACES applications whose fitted vehicles it changed (ledger/impact.py), linked to their part
and to the vehicles they lost or gained."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from ledger import impact
from ledger.statuses import ImpactStatus
from web.endpoints import BigInt, Context, Params, endpoint
from web.errors import NotFound


class ReleaseParams(Params):
    release_id: BigInt = Field(description="the release id, as `vcdb releases` lists it")


class ImpactedApp(BaseModel):
    app_key: str
    brand: str | None
    part_number: str | None
    status: str = Field(description="lost_all | lost_some | gained | changed")
    lost: list[int]
    gained: list[int]
    fits: int = Field(description="vehicles it fits after the release")


class ReleasePage(BaseModel):
    release_id: int
    db: str
    run_id: int
    kind: str
    status: str
    publication: str
    published_at: dt.datetime | None
    recorded: bool = Field(description="a published VCdb release from staged rows: its fitment impact is recorded")
    totals: dict[str, int]
    applications: list[ImpactedApp]


@endpoint("release", page="/release/{release_id}", api="/releases/{release_id}", template="release.html",
          tag="operations")
async def release(ctx: Context, p: ReleaseParams) -> ReleasePage:
    """A release, and the live applications whose fitted vehicles it changed (VCdb releases)."""
    found = await impact.of_release(ctx.db, p.release_id)  # None for an id no bigint holds, too
    if found is None:
        raise NotFound(f"there is no release {p.release_id}")
    apps = [ImpactedApp(app_key=a.app_key, brand=a.brand, part_number=a.part_number, status=a.status.value,
                        lost=list(a.lost), gained=list(a.gained), fits=a.fits) for a in found.apps]
    totals = {s.value: sum(a.status == s for a in found.apps) for s in ImpactStatus}
    return ReleasePage(release_id=found.release_id, db=found.db, run_id=found.run_id, kind=found.kind,
                       status=found.status, publication=found.publication, published_at=found.published_at,
                       recorded=found.recorded, totals=totals, applications=apps)
