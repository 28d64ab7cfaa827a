"""Progress of a producer run for a person: a live table on a terminal, log lines otherwise."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TextIO

from producers.paging import Page


@dataclass
class _Endpoint:
    pages: int = 0
    total_pages: int | None = None
    records: int = 0
    retries: int = 0
    status: str = "running"
    started: float = field(default_factory=time.monotonic)
    error: str | None = None


class TerminalProgress:
    def __init__(self, out: TextIO, *, redraw_s: float = 0.5, log_every_pages: int = 50) -> None:
        self.out = out
        self.tty = out.isatty()
        self.redraw_s = redraw_s
        self.log_every = log_every_pages
        self.endpoints: dict[str, _Endpoint] = {}
        self._drawn = 0
        self._last = 0.0

    def endpoint_started(self, table: str) -> None:
        self.endpoints[table] = _Endpoint()
        if not self.tty:
            self.out.write(f"{table}: started\n")

    def page_done(self, table: str, page: Page, records: int) -> None:
        ep = self.endpoints.setdefault(table, _Endpoint())
        ep.pages += 1
        ep.records += records
        ep.retries += page.retries
        ep.total_pages = page.total_pages
        if self.tty:
            self._redraw()
        elif ep.pages % self.log_every == 0:
            self.out.write(f"{table}: {self._line(ep)}\n")

    def endpoint_finished(self, table: str, status: str, error: str | None) -> None:
        ep = self.endpoints.setdefault(table, _Endpoint())
        ep.status, ep.error = status, error
        if self.tty:
            self._redraw(force=True)
        else:
            self.out.write(f"{table}: {status} {self._line(ep)}{' ' + error if error else ''}\n")

    def _line(self, ep: _Endpoint) -> str:
        secs = max(time.monotonic() - ep.started, 1e-6)
        total = f"/{ep.total_pages}" if ep.total_pages else ""
        return (f"pages {ep.pages}{total}, records {ep.records}, {ep.records / secs:,.0f} rec/s, "
                f"retries {ep.retries}")

    def _redraw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.redraw_s:
            return
        self._last = now
        active = [(t, e) for t, e in self.endpoints.items() if e.status == "running"]
        done = sum(1 for e in self.endpoints.values() if e.status == "done")
        failed = [t for t, e in self.endpoints.items() if e.status == "failed"]
        lines = [f"endpoints done {done}/{len(self.endpoints)}" + (f", failed: {', '.join(failed)}" if failed else "")]
        lines += [f"  {t:<28} {self._line(e)}" for t, e in active[:12]]
        if self._drawn:
            self.out.write(f"\x1b[{self._drawn}F\x1b[J")
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()
        self._drawn = len(lines)

    def close(self) -> None:
        if self.tty:
            self._redraw(force=True)
