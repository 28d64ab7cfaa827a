"""`vcdb dlq list|show|replay`."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Any

from consumers.store import LoadStore
from ledger import dead_letters, pools
from ledger.dead_letters import DeadLetterFilter
from ledger.statuses import DeadLetterStatus
from schemas.catalog import load_catalog
from schemas.settings import Settings
from streams.topics import group_id_for
from vcdb import exit_codes
from vcdb.console import UsageError, print_json


@dataclass(frozen=True)
class Query:
    """Which dead letters: the options of `dlq list` and `dlq replay`."""

    db: str = "vcdb"
    table: str | None = None
    reason: str | None = None
    run: int | None = None
    since: dt.date | None = None
    limit: int | None = None
    include_resolved: bool = False

    def filter(self) -> DeadLetterFilter:
        table = None
        if self.table:
            try:
                table = load_catalog(self.db).table(self.table).name
            except KeyError as e:
                raise UsageError(str(e.args[0])) from e
        since = dt.datetime.combine(self.since, dt.time(), tzinfo=dt.UTC) if self.since else None
        return DeadLetterFilter(self.db, table, self.reason, self.run, since,
                                None if self.include_resolved else DeadLetterStatus.OPEN, limit=self.limit)


@asynccontextmanager
async def _pool(settings: Settings) -> AsyncIterator[Any]:
    """A small pool with the loader's server settings, for listing and showing."""
    pool = await pools.connect_pool(settings.database_url, size=2)
    try:
        yield pool
    finally:
        await pool.close()


@asynccontextmanager
async def _loader(settings: Settings, db: str) -> AsyncIterator[LoadStore]:
    """The loader's store, for replaying: its upserts, its FK-trigger privilege."""
    loader = await LoadStore.connect(settings.database_url, group_id_for(db), size=2)
    try:
        yield loader
    finally:
        await loader.close()


async def show(settings: Settings, db: str, dead_letter_id: int, *, as_json: bool = False) -> int:
    async with _pool(settings) as pool:
        rows = await dead_letters.select(pool, DeadLetterFilter(db, status=None, ids=(dead_letter_id,)))
    if not rows:
        print(f"no dead letter {dead_letter_id} in {db}")
        return exit_codes.FAILED
    row = asdict(rows[0])
    if as_json:
        print_json(row)
        return exit_codes.OK
    for k, v in row.items():
        if k not in ("headers", "record"):
            print(f"{k:>16}: {v}")
    print(f"{'record':>16}: {row['record']}")
    print(f"{'headers':>16}:")
    for k, v in row["headers"].items():
        print(f"{'':>18}{k} = {v}")
    return exit_codes.OK


async def list_letters(settings: Settings, query: Query, *, as_json: bool = False) -> int:
    f = query.filter()
    async with _pool(settings) as pool:
        counts = await dead_letters.counts(pool, f)
        rows = await dead_letters.select(pool, f)
    if as_json:
        print_json({"counts": counts, "dead_letters": [
            {k: v for k, v in asdict(r).items() if k != "headers"} for r in rows]})
        return exit_codes.OK
    print(f"dead letters of {query.db}: {sum(c['n'] for c in counts)}")
    for c in counts:
        print(f"  {c['table_name']:<28} {c['reason']:<15} {c['status']:<9} {c['n']:>6} "
              f"(max attempts {c['max_attempts']})")
    for r in rows[: query.limit or 20]:
        print(f"  #{r.dead_letter_id} {r.table_name} key {r.record_key} run {r.run_id}: {r.message}")
    return exit_codes.OK


async def replay_letters(settings: Settings, query: Query, *, dry_run: bool = False, as_json: bool = False) -> int:
    from consumers.replay import replay  # the decoder and the record models: only replay needs them

    f = query.filter()
    async with _loader(settings, query.db) as loader:
        report = await replay(load_catalog(query.db), loader, f, dry_run=dry_run)
    if as_json:
        print_json(asdict(report))
    elif dry_run:
        print(f"dry run: {report.selected} dead letters would be replayed (nothing changed)")
        for p in report.plan:
            print(f"  #{p['id']} {p['table']} key {p['key']} ({p['reason']}, attempts {p['attempts']})")
    else:
        print(f"replayed {report.selected}: {len(report.loaded)} loaded and resolved, "
              f"{len(report.failed)} still failing")
        for i, reason, message in report.failed[:20]:
            print(f"  #{i} {reason}: {message}")
    return exit_codes.OK
