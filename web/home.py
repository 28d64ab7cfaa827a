"""The start page: what is loaded, by database."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from ledger import runs
from schemas.catalog import DATABASES
from web.endpoints import Context, NoParams, endpoint


class DatabaseRun(BaseModel):
    db: str
    run_id: int | None
    kind: str | None
    finished_at: dt.datetime | None


class HomePage(BaseModel):
    databases: list[DatabaseRun]


@endpoint("home", page="/", api="/", template="home.html", tag="explorer")
async def home(ctx: Context, _: NoParams) -> HomePage:
    """The newest succeeded run of each database."""
    rows = await runs.newest_succeeded_by_db(ctx.db)
    by_db = {r["db"]: r for r in rows}
    return HomePage(databases=[DatabaseRun(db=db, run_id=by_db[db]["run_id"] if db in by_db else None,
                                           kind=by_db[db]["kind"] if db in by_db else None,
                                           finished_at=by_db[db]["finished_at"] if db in by_db else None)
                               for db in DATABASES])
