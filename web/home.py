"""The start page: what is loaded, by database."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from consumers import fitment
from ledger import releases
from schemas.catalog import DATABASES
from web.endpoints import Context, NoParams, endpoint


class DatabaseRelease(BaseModel):
    db: str
    release: int | None
    run_id: int | None
    kind: str | None
    published_at: dt.datetime | None


class HomePage(BaseModel):
    databases: list[DatabaseRelease]
    vehicle_with_parts: int | None = Field(
        description="a vehicle some live ACES application fits: where a first visit sees both sides")


@endpoint("home", page="/", api="/", template="home.html", tag="explorer")
async def home(ctx: Context, _: NoParams) -> HomePage:
    """The newest published release of each database: what its readers see; a vehicle with parts."""
    by_db = {r["db"]: r for r in await releases.newest_published_by_db(ctx.db)}
    start = await fitment.a_vehicle_with_parts(ctx.db) if "aces" in by_db else None
    return HomePage(vehicle_with_parts=start, databases=[
        DatabaseRelease(db=db, release=r["release_id"], run_id=r["run_id"], kind=r["kind"],
                        published_at=r["published_at"]) if (r := by_db.get(db)) is not None
        else DatabaseRelease(db=db, release=None, run_id=None, kind=None, published_at=None)
        for db in DATABASES])
