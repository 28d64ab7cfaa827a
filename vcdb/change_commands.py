"""`vcdb changes --release N`: what a release changed, from the change outbox; `--reemit` sends
its changes to the `.changes` topics once more (a consumer that was rebuilt)."""

from __future__ import annotations

from consumers.relay import Relay
from ledger import changes, pools, releases
from ledger.statuses import ReleaseStatus
from schemas.settings import Settings
from streams.broker import Publisher
from vcdb import exit_codes
from vcdb.console import UsageError, print_json


async def _published(pool: pools.Pool, release_id: int) -> releases.Release:
    found = await releases.release(pool, release_id)
    if found is None:
        raise UsageError(f"no release {release_id} (`vcdb releases` lists them)")
    if found.status != ReleaseStatus.PUBLISHED:
        raise UsageError(f"release {release_id} was {found.status}, not published: it changed nothing")
    return found


async def summary(settings: Settings, release_id: int, table: str | None, *, as_json: bool = False) -> int:
    pool = await pools.connect_pool(settings.database_url, size=1)
    try:
        found = await _published(pool, release_id)
        tables = await changes.summary(pool, found.run_id, table)
    finally:
        await pool.close()
    relayed = found.relayed_at.isoformat(timespec="seconds") if found.relayed_at else None
    if as_json:
        print_json({"release": release_id, "db": found.db, "run_id": found.run_id, "relayed_at": relayed,
                    "tables": [t.as_json() for t in tables]})
        return exit_codes.OK
    print(f"release {release_id} of {found.db} (run {found.run_id}): "
          + (f"relayed to the .changes topics at {relayed}" if relayed else "not relayed yet"))
    if not tables:
        print("  no row changed" + (f" in {table}" if table else ""))
    for t in tables:
        parts = [f"{t.added:,} added", f"{t.changed:,} changed", f"{t.ended:,} ended"]
        if t.loaded:
            parts.append(f"{t.loaded:,} loaded in place")
        print(f"  {t.table}: {', '.join(parts)}")
        for col, n in t.columns.items():
            print(f"      {col}: {n:,}")
    return exit_codes.OK


async def reemit(settings: Settings, release_id: int, *, as_json: bool = False) -> int:
    pool = await pools.connect_pool(settings.database_url, size=2)
    try:
        await _published(pool, release_id)
        async with Publisher(settings.kafka) as producer:
            try:
                done = await Relay(pool, settings.kafka, producer).again(release_id)
            except LookupError as e:
                raise UsageError(str(e)) from e
    finally:
        await pool.close()
    if as_json:
        print_json({"release": release_id, "sent": done.sent, "seconds": round(done.seconds, 3)})
    else:
        print(f"release {release_id}: {done.sent:,} changes sent again to the .changes topics in {done.seconds:.2f} s")
    return exit_codes.OK
