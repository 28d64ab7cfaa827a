"""Replaying dead letters: on request (`vcdb dlq replay`) and automatically when a parent arrives.

A replay validates the stored original record again (the record model may have been fixed),
re-runs the parent checks and the guarded upsert.  What loads is resolved; what still fails
stays open with its attempt count raised and its new reason.  Replaying a resolved dead letter
is not possible (only open ones are selected), so replaying twice changes nothing.  A dead letter
of a table its database's catalog does not know (any more) cannot be replayed: it stays open, is
reported failed (UNKNOWN_TABLE), and the others replay.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from consumers.decode import decoder_for
from consumers.ports import DeadLetterFilter, DeadLetterRow, ReplayStore
from consumers.records import Incoming, dead_letter
from consumers.rules import replayed_on_seal
from consumers.sql import table_sql
from schemas.catalog import FILE_DATABASES, Catalog, Table, load_catalog
from schemas.graph import load_plan
from streams.dead_letters import DeadLetter
from streams.records import InRecord

log = logging.getLogger(__name__)

# The tables the explorer's materialised views (migration 0007, autocare_fitment.explorer_*) read.
# The outcome of a dead letter whose table its database's catalog does not have.
UNKNOWN_TABLE = "unknown_table"

EXPLORER_SOURCES = frozenset({("vcdb", "BaseVehicle"), ("vcdb", "Make"), ("vcdb", "Model")})
UNKNOWN_TABLE = "unknown_table"  # a replay's failure, not a dead letter's reason: the letter is left as it is


@dataclass
class ReplayReport:
    selected: int = 0
    loaded: list[int] = field(default_factory=list)
    failed: list[tuple[int, str, str]] = field(default_factory=list)  # id, reason, message
    dry_run: bool = False
    plan: list[dict[str, object]] = field(default_factory=list)


def _incoming(dl: DeadLetterRow, table: Table) -> Incoming:
    """The stored original record, decoded again (the record model may have been fixed)."""
    headers = tuple((k, str(v).encode()) for k, v in dl.headers.items())
    rec = InRecord(dl.topic, dl.partition, dl.offset, dl.record_key.encode(),
                   json.dumps(dl.record).encode() if not isinstance(dl.record, str) else dl.record.encode(), headers)
    out = decoder_for(table).decode(rec.value)
    if isinstance(out, tuple):
        return Incoming(rec, dl.run_id or 0, 0, 0, out, None)
    return Incoming(rec, dl.run_id or 0, 0, 0, None, out)


async def replay(catalog: Catalog, store: ReplayStore, f: DeadLetterFilter, *, dry_run: bool = False
                 ) -> ReplayReport:
    rows = await store.dead_letters(f)
    report = ReplayReport(selected=len(rows), dry_run=dry_run)
    if dry_run:
        report.plan = [{"id": r.dead_letter_id, "table": r.table_name, "key": r.record_key, "reason": r.reason,
                        "attempts": r.attempts, "missing": f"{r.missing_table} {r.missing_key}" if r.missing_table
                        else None} for r in rows]
        return report
    await _replay_rows(catalog, store, rows, report)
    return report


async def _replay_rows(catalog: Catalog, store: ReplayStore, rows: Sequence[DeadLetterRow],
                       report: ReplayReport, *, staged_run: int | None = None) -> None:
    """Replay into the canonical tables, or with `staged_run` into that run's staged rows (the
    parent they waited on arrived in a run that is not published yet: they publish with it)."""
    by_table: dict[str, list[DeadLetterRow]] = defaultdict(list)
    for r in rows:
        if r.table_name in catalog.tables:
            by_table[r.table_name].append(r)
        else:
            report.failed.append((r.dead_letter_id, UNKNOWN_TABLE,
                                  f"{catalog.db} has no table {r.table_name!r}: not replayed, left open"))
    order = load_plan(catalog).order
    for name in sorted(by_table, key=order.index):
        table = catalog.tables[name]
        items = [(r, _incoming(r, table)) for r in by_table[name]]
        by_source = {(inc.source.topic, inc.source.partition, inc.source.offset): dl for dl, inc in items}
        run_id = staged_run if staged_run is not None else max((dl.run_id or 0) for dl, _ in items)
        async with store.replay(table_sql(catalog, table), run_id, staged=staged_run is not None) as tx:
            result = await tx.load([inc for _, inc in items])
            failed: list[tuple[int, DeadLetter]] = []
            for inc, f in result.dead:
                dl = by_source[(inc.source.topic, inc.source.partition, inc.source.offset)]
                failed.append((dl.dead_letter_id, dead_letter(table, inc, f, dl.attempts + 1)))
            failed_ids = {i for i, _ in failed}
            loaded = [dl.dead_letter_id for dl, _ in items if dl.dead_letter_id not in failed_ids]
            await tx.settle_replayed(loaded, failed)
        report.loaded.extend(loaded)
        report.failed.extend((i, letter.failure.reason, letter.failure.message) for i, letter in failed)


class AutoReplayer:
    """When a batch loads keys that dead letters wait on as their missing parent, replay them."""

    def __init__(self, catalog: Catalog, store: ReplayStore) -> None:
        self.catalog = catalog
        self.store = store

    async def waiting(self, table: Table) -> bool:
        """Do open dead letters concern this table (as theirs or as their missing parent)?  Asked
        before every batch, never cached: a dead letter made a moment ago by another worker must
        not miss the parent that arrives now (one indexed EXISTS per batch)."""
        return await self.store.any_open_for(self.catalog.db, table.name)

    async def parent_loaded(self, table: Table, run_id: int, keys: list[str], *, staged: bool) -> None:
        superseded = await self.store.resolve_superseded(self.catalog.db, table.name, keys)
        if superseded:
            log.info("%d dead letters of %s superseded by newer records that loaded", superseded, table.name)
        waiting = await self.store.waiting_on(self.catalog.db, table.name, keys)
        if not waiting:
            return
        report = ReplayReport(selected=len(waiting))
        await _replay_rows(self.catalog, self.store, waiting, report, staged_run=run_id if staged else None)
        log.info("parent %s arrived: replayed %d dead letters, %d loaded, %d still failing", table.name,
                 len(waiting), len(report.loaded), len(report.failed))
        if report.loaded:
            # A replayed row may itself be a parent others wait on: pass on the keys that loaded.
            done = set(report.loaded)
            for name in sorted({dl.table_name for dl in waiting if dl.dead_letter_id in done}):
                keys2 = [dl.record_key for dl in waiting if dl.table_name == name and dl.dead_letter_id in done]
                await self.parent_loaded(self.catalog.tables[name], run_id, keys2, staged=staged)

    async def release_published(self, catalog: Catalog, tables: Sequence[str], run_id: int) -> None:
        """A release published: ACES and PIES dead letters that wait on one of its tables (a
        missing vehicle, part type or qualifier, an invalid combination once any table of the
        combination check has changed) are tried again with their own database's catalog, into
        the live tables (they check against published rows only)."""
        waits = sorted({w for t in tables for w in replayed_on_seal(catalog.db, t)})
        rows = await self.store.waiting_on_table([db for db in FILE_DATABASES if db != catalog.db], waits)
        by_db: dict[str, list[DeadLetterRow]] = defaultdict(list)
        for r in rows:
            by_db[r.db].append(r)
        for db, waiting in sorted(by_db.items()):
            report = ReplayReport(selected=len(waiting))
            await _replay_rows(load_catalog(db), self.store, waiting, report)
            log.info("release of run %s (%s): replayed %d %s dead letters waiting on it, %d loaded, %d still failing",
                     run_id, catalog.db, len(waiting), db, len(report.loaded), len(report.failed))

    async def self_references(self, table: Table, run_id: int, *, staged: bool) -> int:
        """Rows of a self-referencing table whose parent row is in the same table but came in a
        later batch or on another partition: replayed at every end-of-table of the run, before the
        seal, until nothing more loads (chains load link by link).  What is still missing then is
        a real orphan and stays dead-lettered."""
        loaded = 0
        while True:
            mine = DeadLetterFilter(self.catalog.db, table.name, run_id=run_id)
            rows = [r for r in await self.store.dead_letters(mine) if r.missing_table == table.name]
            if not rows:
                return loaded
            report = ReplayReport(selected=len(rows))
            await _replay_rows(self.catalog, self.store, rows, report, staged_run=run_id if staged else None)
            if not report.loaded:
                return loaded
            loaded += len(report.loaded)

