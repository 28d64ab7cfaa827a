"""The start page: what is loaded, by database."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

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


@endpoint("home", page="/", api="/", template="home.html", tag="explorer")
async def home(ctx: Context, _: NoParams) -> HomePage:
    """The newest published release of each database: what its readers see."""
    by_db = {r["db"]: r for r in await releases.newest_published_by_db(ctx.db)}
    return HomePage(databases=[
        DatabaseRelease(db=db, release=r["release_id"], run_id=r["run_id"], kind=r["kind"],
                        published_at=r["published_at"]) if (r := by_db.get(db)) is not None
        else DatabaseRelease(db=db, release=None, run_id=None, kind=None, published_at=None)
        for db in DATABASES])
