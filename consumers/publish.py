"""Publishing a release: a complete run's staged rows become the canonical tables' rows in ONE
transaction, so readers see the old catalogue until the commit and the new one after it.

What publication does, in this order, in that one transaction (and nowhere else):

  1. take the database's release lock, read the run's facts, and decide (`refusal`): complete
     means every table of the run sealed, the announced counts equal to the API's totalCount,
     and no staged row whose parent is neither live nor staged by the run;
  2. per table, parents before children: write what the move changes into the change outbox
     (ledger/changes.py, by the move's own version guard), move the run's staged rows into the
     canonical table (the loader's version guard), drop them from the twin; for a VCdb release,
     the fitment impact is taken around the moves (ledger/impact.py);
  3. a FULL ACES file ends its brands' applications it did not deliver (consumers/submissions.py);
  4. record the release (ingest.releases);
  5. refresh the explorer's materialised view when a table it reads changed.

Step 3 writes the applications it ends into the outbox too.

After the commit: ANALYZE the tables that changed, replay the ACES and PIES dead letters that
wait on them (a vehicle, part type or qualifier that arrived with this release), then relay the
release's changes to the `.changes` topics (consumers/relay.py).

A run loaded in place (a first baseline into an empty database, or `--in-place`) has nothing
staged: its publication writes the rows it loaded to the outbox as read (`r`), then runs steps 3
to 5.  A run that is refused is
recorded as refused with the reason, and waits for the operator (`vcdb release publish RUN
--force`, or `vcdb release discard RUN`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from consumers import submissions
from consumers.relay import Relay
from consumers.replay import EXPLORER_SOURCES
from consumers.sql import TableSql, q, table_sql
from ledger import changes, impact, releases
from ledger.pools import SESSION_ERRORS, infrastructure
from ledger.releases import RunFacts
from ledger.statuses import LoadStatus, Publication, ReleaseStatus
from schemas.catalog import Catalog, load_catalog
from schemas.graph import load_plan
from streams import envelope

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    PUBLISHED = "published"
    ALREADY = "already"  # published or discarded before
    INCOMPLETE = "incomplete"  # not every table sealed yet: nothing recorded
    REFUSED = "refused"
    DISCARDED = "discarded"
    UNKNOWN = "unknown"  # no such run


@dataclass
class Result:
    run_id: int
    outcome: Outcome
    reason: str | None = None
    release_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    db: str = ""
    tables: tuple[str, ...] = ()


async def _locked_facts(conn: Any, run_id: int) -> RunFacts | None:
    """The run's facts as of its database's release lock (taken here, held to the commit)."""
    facts = await releases.run_facts(conn, run_id)
    if facts is None:
        return None
    await releases.lock_db(conn, facts.db)
    return await releases.run_facts(conn, run_id)


def _in_load_order(catalog: Catalog) -> list[TableSql]:
    return [table_sql(catalog, catalog.tables[n]) for level in load_plan(catalog).levels for n in level]


def refusal(facts: RunFacts, orphans: dict[str, int]) -> str | None:
    """Why the automatic rule does not publish a complete run (None: it does).  Pure."""
    reasons: list[str] = []
    for t in facts.tables:
        if t.total_count is not None and t.announced is not None and t.announced != t.total_count:
            reasons.append(f"{t.table}: the API's totalCount is {t.total_count}, the producer published "
                           f"{t.announced}")
    reasons += [f"{table}: {n} staged rows whose parent is missing" for table, n in sorted(orphans.items()) if n]
    return "; ".join(reasons) or None


def incomplete(facts: RunFacts) -> str:
    waiting = [f"{t.table} ({t.load_status})" for t in facts.tables if t.load_status != LoadStatus.SEALED]
    return f"run {facts.run_id} is not complete: {', '.join(waiting[:10]) or 'no table'} not sealed"


class Publisher:
    """Publishes runs of one database.  `pool`: the loader's writer pool; `after`: what runs
    after a publication committed (the replay of dead letters waiting on its tables)."""

    def __init__(self, pool: Any, *, skip_fk_triggers: bool,
                 after: Callable[[Catalog, Sequence[str], int], Awaitable[None]] | None = None,
                 relay: Relay | None = None) -> None:
        self.pool = pool
        self.skip_fk_triggers = skip_fk_triggers
        self.after = after
        self.relay = relay

    async def pending(self, db: str) -> list[int]:
        try:
            async with self.pool.acquire() as conn:
                return await releases.undecided_runs(conn, db)
        except SESSION_ERRORS as e:
            raise infrastructure("reading the runs waiting for publication", e) from e

    async def publish_ready(self, db: str) -> list[Result]:
        """Publish every run of db that has become complete (the loader, after a seal or when idle)."""
        out = []
        for run_id in await self.pending(db):
            r = await self.publish(run_id)
            if r.outcome in (Outcome.PUBLISHED, Outcome.REFUSED):
                out.append(r)
        if self.relay is not None:  # also what a loader stopped between a commit and its relay left
            await self.relay.pending(db)
        return out

    async def publish(self, run_id: int, *, force: bool = False) -> Result:
        try:
            result = await self._publish(run_id, force)
        except SESSION_ERRORS as e:
            raise infrastructure(f"publishing run {run_id}", e) from e
        if result.outcome == Outcome.PUBLISHED:
            log.info("run %s published as release %s of %s in %.2f s (%s rows)", run_id, result.release_id,
                     result.db, result.seconds, sum(result.counts.values()))
            await self._after(result)
            if self.relay is not None:
                await self.relay.pending(result.db)
        elif result.outcome == Outcome.REFUSED:
            log.error("run %s is complete but not published: %s; `vcdb release publish %s --force` or "
                      "`vcdb release discard %s`", run_id, result.reason, run_id, run_id)
        return result

    async def _publish(self, run_id: int, force: bool) -> Result:
        async with self.pool.acquire() as conn, conn.transaction():
            facts = await _locked_facts(conn, run_id)
            if facts is None:
                return Result(run_id, Outcome.UNKNOWN, f"no run {run_id}")
            catalog = load_catalog(facts.db)
            names = tuple(t.table for t in facts.tables)
            if facts.decided:
                return Result(run_id, Outcome.ALREADY, facts.release, db=facts.db, tables=names)
            if not facts.complete and not force:
                return Result(run_id, Outcome.INCOMPLETE, incomplete(facts), db=facts.db, tables=names)
            # Every table of the database, not only those the run pulls: dead letters waiting on a
            # parent the run brought were replayed into its staged rows of their own tables.
            sqls = _in_load_order(catalog)
            staged = facts.publication == Publication.STAGED
            orphans = {ts.table.name: int(await conn.fetchval(ts.staged_orphans, run_id))
                       for ts in sqls if staged and ts.staged_orphans}
            reason = refusal(facts, orphans)
            if reason and not force:
                await releases.record(conn, facts, ReleaseStatus.REFUSED, reason=reason)
                return Result(run_id, Outcome.REFUSED, reason, db=facts.db, tables=names)
            started = time.monotonic()
            impacted = staged and facts.db == "vcdb"  # in place: no before state (ledger/impact.py)
            if impacted:
                await impact.before(conn, run_id)
            if staged:
                counts = await self._move(conn, sqls, run_id)
            else:
                counts = {}
                await self._capture_in_place(conn, catalog, facts)
            if impacted:
                await impact.record(conn, run_id)
            names = tuple(dict.fromkeys([*names, *(n for n, c in counts.items() if c)]))
            if facts.db == "aces":
                ended = await submissions.replace_full(conn, run_id)
                if ended:
                    counts["App (ended by a FULL file)"] = ended
            seconds = time.monotonic() - started
            release_id = await releases.record(conn, facts, ReleaseStatus.PUBLISHED, reason=reason,
                                               forced=force and (reason is not None or not facts.complete),
                                               counts=counts, seconds=round(seconds, 3))
            if any((facts.db, n) in EXPLORER_SOURCES for n in names):
                await conn.execute("SELECT autocare_fitment.refresh_explorer()")
            return Result(run_id, Outcome.PUBLISHED, reason, release_id, counts, seconds, facts.db, names)

    async def _move(self, conn: Any, sqls: Sequence[TableSql], run_id: int) -> dict[str, int]:
        counts: dict[str, int] = {}
        if self.skip_fk_triggers:
            # Every staged row was checked against its parents, live or staged by this run, when it
            # was staged, and parents are never deleted (deletes are soft): the per-row FK triggers
            # would only repeat that check.  Parents publish before children all the same.
            await conn.execute("SET LOCAL session_replication_role = replica")
        for ts in sqls:
            if not await conn.fetchval(ts.staged_rows, run_id):
                continue
            await changes.capture_staged(conn, run_id, ts.table)  # before the move: it reads the before-images
            status = await conn.execute(ts.publish, run_id)
            counts[ts.table.name] = int(status.split()[-1])
            await conn.execute(ts.clear_staged, run_id)
        return counts

    @staticmethod
    async def _capture_in_place(conn: Any, catalog: Catalog, facts: RunFacts) -> None:
        """A run loaded in place: the rows it wrote go to the outbox as read (`r`), and those it
        ended as `d` when an earlier release was live (there was something to end)."""
        over = await releases.has_published(conn, facts.db)
        mine = {t.table for t in facts.tables}
        for ts in _in_load_order(catalog):
            if ts.table.name in mine:
                await changes.capture_in_place(conn, facts.run_id, ts.table, over_release=over)

    async def _after(self, result: Result) -> None:
        catalog = load_catalog(result.db)
        for name in result.tables:
            try:
                await self.pool.execute(f"ANALYZE {q(catalog.schema)}.{q(catalog.tables[name].canonical)}")
            except SESSION_ERRORS as e:
                raise infrastructure(f"analyzing {name} after release {result.release_id}", e) from e
        if self.after is not None:
            await self.after(catalog, result.tables, result.run_id)

    async def discard(self, run_id: int) -> Result:
        """Drop a run's staged rows and record the release as discarded: nothing it loaded is published."""
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                facts = await _locked_facts(conn, run_id)
                if facts is None:
                    return Result(run_id, Outcome.UNKNOWN, f"no run {run_id}")
                names = tuple(t.table for t in facts.tables)
                if facts.publication == Publication.IN_PLACE:
                    return Result(run_id, Outcome.ALREADY, "loaded in place: its rows are already live",
                                  db=facts.db, tables=names)
                if facts.decided:
                    return Result(run_id, Outcome.ALREADY, facts.release, db=facts.db, tables=names)
                counts = {}
                for ts in _in_load_order(load_catalog(facts.db)):
                    keys = [envelope.key_text(list(r.values())) for r in await conn.fetch(ts.staged_keys, run_id)]
                    if not keys:
                        continue
                    reopened = await releases.reopen_replayed(conn, run_id, facts.db, ts.table.name, keys)
                    if reopened:
                        log.info("run %s discarded: %d dead letters of %s its replays had resolved are open again",
                                 run_id, reopened, ts.table.name)
                    status = await conn.execute(ts.clear_staged, run_id)
                    counts[ts.table.name] = int(status.split()[-1])
                release_id = await releases.record(conn, facts, ReleaseStatus.DISCARDED, reason=facts.reason,
                                                   counts=counts)
                return Result(run_id, Outcome.DISCARDED, facts.reason, release_id, counts, db=facts.db, tables=names)
        except SESSION_ERRORS as e:
            raise infrastructure(f"discarding run {run_id}", e) from e
