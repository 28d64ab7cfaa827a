"""The seal gate: may records of run R for table T load yet?

They may once every parent of T (declared and logical references, from the FK graph) that R also
pulls is sealed for R.  Parents R does not pull count as ready: the set-based FK check diverts
orphans to the dead letters, and they load by themselves when the parent arrives.  Records of a
run the state does not know load with the FK checks only.

The gate also answers, before anything is read, which tables must wait (`waiting`): the run a
table's next records belong to is the oldest run that published records of it and has not
sealed it, so a partition of such a table is paused from the moment it is assigned and its
records are read once, when they can load.  The seal state lives in PostgreSQL (written in the
transactions that seal); the gate reads it at most every `refresh_s` per run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from consumers.ports import GateStore
from schemas.catalog import Table

log = logging.getLogger(__name__)


class SealGate:
    def __init__(self, store: GateStore, clock: Callable[[], float], refresh_s: float = 0.25) -> None:
        self.store = store
        self.clock = clock
        self.refresh_s = refresh_s
        self._run_tables: dict[int, tuple[str, ...] | None] = {}
        self._sealed: dict[int, set[str]] = {}
        self._checked: dict[int, float] = {}
        self._pending_checked: dict[str, float] = {}  # per table: when its pending run was asked
        self._pending: dict[str, int | None] = {}

    async def ready(self, table: Table, run_id: int) -> bool:
        if run_id not in self._run_tables:
            self._run_tables[run_id] = await self.store.run_tables(run_id)
            if self._run_tables[run_id] is None:
                log.warning("records of unknown run %s on %s: loading them with FK checks only", run_id, table.name)
        run_tables = self._run_tables[run_id]
        if run_tables is None:
            return True
        parents = [p for p in table.parents() if p in run_tables]
        sealed = self._sealed.setdefault(run_id, set())
        if all(p in sealed for p in parents):
            return True
        now = self.clock()
        if now - self._checked.get(run_id, -1e18) < self.refresh_s:
            return False
        sealed.update(await self.store.sealed_tables(run_id))
        self._checked[run_id] = now  # after the read: a failed read is asked again at once
        return all(p in sealed for p in parents)

    def sealed(self, run_id: int, table: str) -> None:
        """This worker sealed `table` for `run_id`: no need to ask the store."""
        self._sealed.setdefault(run_id, set()).add(table)

    async def waiting(self, tables: Sequence[Table]) -> dict[str, int]:
        """The tables whose next records cannot load yet, with the run they wait in."""
        now = self.clock()
        stale = [t.name for t in tables if now - self._pending_checked.get(t.name, -1e18) >= self.refresh_s]
        if stale:
            found = await self.store.pending_runs(tables[0].db, stale)
            for name in stale:
                self._pending_checked[name] = now
                self._pending[name] = found.get(name)
        out: dict[str, int] = {}
        for t in tables:
            run_id = self._pending.get(t.name)
            if run_id is not None and not await self.ready(t, run_id):
                out[t.name] = run_id
        return out
