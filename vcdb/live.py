"""What a person sees while a command works: one live view on a terminal, log lines otherwise.

The view (rich) shows per endpoint the pages, records, rate, retries and an ETA from the API's
totalCount, and per table what is loaded, dead-lettered and sealed.  A producer in this process
feeds the endpoints as pages go out (`ViewState` is a `producers.service.Progress`); everything
else comes from PostgreSQL (`consumers.status`), read once a second, so `vcdb consume`, whose
workers are other processes, shows the same.  The view is drawn by a thread of its own, so a
command's loop (or a supervisor's plain one) never waits for the terminal.  `render` is pure:
a state and a time in, a renderable out.

Off a terminal there is no view: progress goes to the log (`LogProgress`), a line an endpoint
start and end and one every `every` pages, with the figures as fields for `--log-format json`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger.statuses import EndpointStatus, LoadStatus
from producers.service import SourcePage
from vcdb.logs import Terminal

log = logging.getLogger("vcdb.progress")

ROWS = 12  # endpoints and tables shown one by one; the rest are counted


@dataclass
class EndpointView:
    started: float
    pages: int = 0
    total_pages: int | None = None
    records: int = 0
    total_count: int | None = None
    retries: int = 0
    status: str = EndpointStatus.RUNNING
    finished: float | None = None
    error: str | None = None

    def rate(self, now: float) -> float:
        secs = (self.finished or now) - self.started
        return self.records / secs if secs > 0 else 0.0

    def eta(self, now: float) -> float | None:
        """Seconds left at the current rate, from the API's totalCount."""
        rate = self.rate(now)
        if self.status != EndpointStatus.RUNNING or self.total_count is None or rate <= 0:
            return None
        return max(self.total_count - self.records, 0) / rate


@dataclass
class TableView:
    loaded: int = 0
    dead_lettered: int = 0
    status: str = LoadStatus.WAITING


@dataclass
class ViewState:
    title: str
    clock: Callable[[], float] = time.monotonic
    endpoints: dict[str, EndpointView] = field(default_factory=dict)
    tables: dict[str, TableView] = field(default_factory=dict)
    live_endpoints: bool = False  # fed by a producer here: PostgreSQL's endpoint rows are older
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # ---- producers.service.Progress --------------------------------------------------------------
    def endpoint_started(self, table: str) -> None:
        with self.lock:
            self.live_endpoints = True
            self.endpoints[table] = EndpointView(self.clock())

    def page_done(self, table: str, page: SourcePage, records: int) -> None:
        with self.lock:
            ep = self.endpoints.setdefault(table, EndpointView(self.clock()))
            ep.pages += 1
            ep.records += records
            ep.retries += page.retries
            ep.total_pages, ep.total_count = page.total_pages, page.total_count

    def endpoint_finished(self, table: str, status: str, error: str | None) -> None:
        with self.lock:
            ep = self.endpoints.setdefault(table, EndpointView(self.clock()))
            ep.status, ep.error, ep.finished = status, error, self.clock()

    # ---- PostgreSQL's view (consumers.status) ----------------------------------------------------
    def update(self, status: Mapping[str, Any]) -> None:
        with self.lock:
            for t in status.get("tables", []):
                self.tables[t["table_name"]] = TableView(t["loaded"] or 0, t["dead_lettered"] or 0, t["status"])
            if self.live_endpoints:
                return
            now = self.clock()
            for e in status.get("endpoints", []):
                ep = self.endpoints.get(e["table_name"]) or EndpointView(now)
                grew = e["records_published"] != ep.records
                ep.pages, ep.records = e["pages_published"] or 0, e["records_published"] or 0
                ep.total_pages, ep.total_count, ep.retries = e["total_pages"], e["total_count"], e["retries"] or 0
                ep.status = (EndpointStatus.RUNNING if e["status"] in (EndpointStatus.RUNNING, EndpointStatus.PAGED)
                             else e["status"])
                ep.error = e["last_error"]
                if ep.status != EndpointStatus.RUNNING and ep.finished is None and not grew:
                    ep.finished = now
                self.endpoints[e["table_name"]] = ep


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _of(n: int, total: int | None) -> str:
    return f"{n:,}/{total:,}" if total is not None else f"{n:,}"


def render(state: ViewState, now: float | None = None) -> Any:
    """The view of `state` at `now` (a rich renderable)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    now = state.clock() if now is None else now
    with state.lock:
        endpoints = dict(state.endpoints)
        tables = dict(state.tables)
    parts: list[Any] = []
    by_status: dict[str, int] = {}
    for ep in endpoints.values():
        by_status[ep.status] = by_status.get(ep.status, 0) + 1
    running = [(t, e) for t, e in endpoints.items() if e.status == EndpointStatus.RUNNING]
    records = sum(e.records for e in endpoints.values())
    rate = sum(e.rate(now) for _, e in running)
    etas = [e.eta(now) for _, e in running]
    eta = max((x for x in etas if x is not None), default=None)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items())) or "none yet"
    parts.append(Text(f"{state.title}: endpoints {summary}; {records:,} records"
                      + (f", {rate:,.0f} rec/s, ETA {_duration(eta)}" if running else ""), style="bold"))
    shown = sorted(running, key=lambda te: -(te[1].eta(now) or 0))[:ROWS]
    shown += [(t, e) for t, e in endpoints.items() if e.status == EndpointStatus.FAILED][: max(0, ROWS - len(shown))]
    if shown:
        grid = Table(box=None, pad_edge=False, show_edge=False, header_style="dim")
        for name, justify in (("endpoint", "left"), ("pages", "right"), ("records", "right"), ("rec/s", "right"),
                              ("retries", "right"), ("ETA", "right"), ("", "left")):
            grid.add_column(name, justify=justify)  # type: ignore[arg-type]
        for t, e in shown:
            note = e.error or ("" if e.status == EndpointStatus.RUNNING else e.status)
            grid.add_row(t, _of(e.pages, e.total_pages), _of(e.records, e.total_count), f"{e.rate(now):,.0f}",
                         str(e.retries), _duration(e.eta(now)), note)
        parts.append(grid)
    if tables:
        counts: dict[str, int] = {}
        for tv in tables.values():
            counts[tv.status] = counts.get(tv.status, 0) + 1
        loaded = sum(tv.loaded for tv in tables.values())
        dead = sum(tv.dead_lettered for tv in tables.values())
        parts.append(Text(f"tables: {', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}; {loaded:,} loaded, "
                          f"{dead:,} dead-lettered", style="bold"))
        busy = [(t, tv) for t, tv in sorted(tables.items()) if tv.status != LoadStatus.SEALED][:ROWS]
        if busy:
            grid = Table(box=None, pad_edge=False, show_edge=False, header_style="dim")
            for name, justify in (("table", "left"), ("loaded", "right"), ("dead-lettered", "right"),
                                  ("status", "left")):
                grid.add_column(name, justify=justify)  # type: ignore[arg-type]
            for t, tv in busy:
                grid.add_row(t, f"{tv.loaded:,}", f"{tv.dead_lettered:,}", tv.status)
            parts.append(grid)
    return Group(*parts)


class LogProgress:
    """Progress off a terminal: log lines (with the figures as fields for JSON lines)."""

    def __init__(self, every: int = 50, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.state = ViewState("", clock)

    def endpoint_started(self, table: str) -> None:
        self.state.endpoint_started(table)
        log.info("%s: started", table, extra={"table": table, "status": EndpointStatus.RUNNING})

    def page_done(self, table: str, page: SourcePage, records: int) -> None:
        self.state.page_done(table, page, records)
        ep = self.state.endpoints[table]
        if ep.pages % self.every == 0:
            log.info("%s: %s", table, self._line(ep), extra=self._fields(table, ep))

    def endpoint_finished(self, table: str, status: str, error: str | None) -> None:
        self.state.endpoint_finished(table, status, error)
        ep = self.state.endpoints[table]
        level = logging.ERROR if status == EndpointStatus.FAILED and error else logging.INFO
        log.log(level, "%s: %s %s%s", table, status, self._line(ep), f" {error}" if error else "",
                extra=self._fields(table, ep))

    def _line(self, ep: EndpointView) -> str:
        total = f"/{ep.total_pages}" if ep.total_pages else ""
        return (f"pages {ep.pages}{total}, records {ep.records}, {ep.rate(self.state.clock()):,.0f} rec/s, "
                f"retries {ep.retries}")

    def _fields(self, table: str, ep: EndpointView) -> dict[str, Any]:
        return {"table": table, "status": ep.status, "pages": ep.pages, "total_pages": ep.total_pages,
                "records": ep.records, "total_count": ep.total_count, "retries": ep.retries}


class _Drawer(threading.Thread):
    """Redraws the view 4 times a second and reads PostgreSQL once a second, until stopped."""

    def __init__(self, terminal: Terminal, state: ViewState, database_url: str | None, db: str) -> None:
        super().__init__(name="vcdb live view", daemon=True)
        self.terminal, self.state, self.database_url, self.db = terminal, state, database_url, db
        self.done = threading.Event()

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        from rich.live import Live

        with Live(render(self.state), console=self.terminal.console, auto_refresh=False, transient=False,
                  redirect_stdout=sys.stdout.isatty(), redirect_stderr=True) as live:
            pool = None
            next_read = 0.0
            try:
                while True:
                    if self.database_url is not None and time.monotonic() >= next_read:
                        next_read = time.monotonic() + 1.0
                        pool = pool or await _pool(self.database_url)
                        await self._read(pool)
                    if self.done.is_set():  # the last frame: drawn once, by the Live as it stops
                        live.update(render(self.state), refresh=False)
                        break
                    live.update(render(self.state), refresh=True)
                    await asyncio.to_thread(self.done.wait, 0.25)
            finally:
                if pool is not None:
                    with contextlib.suppress(Exception):
                        await pool.close()

    async def _read(self, pool: Any) -> None:
        from consumers.status import status

        if pool is None:
            return
        with contextlib.suppress(Exception):  # PostgreSQL away for a moment: the command will say so
            self.state.update(await asyncio.wait_for(status(pool, None, self.db), 5))


async def _pool(database_url: str) -> Any:
    from ledger import pools

    try:
        return await asyncio.wait_for(pools.connect_pool(database_url, size=1), 5)
    except Exception:
        return None


@contextlib.contextmanager
def view(terminal: Terminal, title: str, *, database_url: str | None = None, db: str = "vcdb",
         ) -> Iterator[ViewState | LogProgress]:
    """The progress of a command: a live view on a terminal (with the tables of the database's
    latest run read from `database_url`, if given), log lines otherwise."""
    if not terminal.live:
        yield LogProgress()
        return
    state = ViewState(title)
    drawer = _Drawer(terminal, state, database_url, db)
    drawer.start()
    try:
        yield state
    finally:
        drawer.done.set()
        drawer.join(5)
