"""`vcdb consume --workers N`: N loading worker processes run and stopped as one.

Each worker is this same command with `--worker i/N` (and `--json`, so its summary comes back
on its stdout).  SIGTERM, SIGINT and SIGHUP are passed on to every worker; a worker that fails
stops the others (SIGTERM: they finish the batch in flight); the exit code is the worst of the
workers'.  With `on_stderr`, the workers' log lines come through it (above a live view) rather
than straight to the terminal.
Each worker asks the kernel to kill it when the supervisor dies (PR_SET_PDEATHSIG), so a
supervisor killed with SIGKILL leaves no worker behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

from vcdb import exit_codes, signals

PARENT_ENV = "VCDB_SUPERVISOR_PID"
_PR_SET_PDEATHSIG = 1


def worst(codes: Sequence[int]) -> int:
    """The exit code of the whole: a worker killed by a signal counts as failed."""
    mapped = [exit_codes.FAILED if c < 0 else c for c in codes]
    return max(mapped, default=exit_codes.OK)


def die_with_supervisor() -> None:
    """In a worker: be killed when the supervisor dies; exit at once if it already has."""
    parent = os.environ.get(PARENT_ENV)
    if not parent or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != int(parent):
        os._exit(exit_codes.FAILED)


class _Lines:
    """The workers' stderr, a line at a time, to `out` (without blocking the supervisor)."""

    def __init__(self, pipes: Sequence[IO[bytes]], out: Callable[[str], None]) -> None:
        self.out = out
        self.sel = selectors.DefaultSelector()
        self.partial: dict[int, bytes] = {}
        for pipe in pipes:
            os.set_blocking(pipe.fileno(), False)
            self.sel.register(pipe, selectors.EVENT_READ)
            self.partial[pipe.fileno()] = b""

    def pump(self, timeout: float) -> None:
        for key, _ in self.sel.select(timeout):
            fd = key.fd
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                self.sel.unregister(key.fileobj)
                chunk = b"\n" if self.partial.get(fd) else b""
            *lines, self.partial[fd] = (self.partial.get(fd, b"") + chunk).split(b"\n")
            for line in lines:
                self.out(line.decode(errors="replace"))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.pump(0)
        self.sel.close()


def supervise(argv: Sequence[str], n: int, *, on_stderr: Callable[[str], None] | None = None,
              ) -> tuple[int, list[dict[str, Any]]]:
    """Run `vcdb <argv> --workers 1 --worker i/n --json` for i < n; their exit code and summaries."""
    env = {**os.environ, PARENT_ENV: str(os.getpid())}
    procs = [subprocess.Popen([sys.executable, "-m", "vcdb", *argv, "--workers", "1", "--worker", f"{i}/{n}",
                               "--json"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE if on_stderr is not None else None) for i in range(n)]
    lines = _Lines([p.stderr for p in procs if p.stderr is not None], on_stderr) if on_stderr else None
    stopping = False

    def stop_all(signum: int = signal.SIGTERM) -> None:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        stop_all(signum)

    previous = {s: signal.signal(s, on_signal) for s in signals.honoured()}
    try:
        while any(p.poll() is None for p in procs):
            if not stopping and any(p.returncode not in (None, exit_codes.OK) for p in procs):
                stopping = True  # one failed: stop the others, they finish their batch in flight
                stop_all()
            if lines is not None:
                lines.pump(0.1)
            else:
                time.sleep(0.1)
        if lines is not None:
            lines.close()
            lines = None
        summaries = []
        for p in procs:
            out = p.stdout.read() if p.stdout else b""
            try:
                summaries.append(json.loads(out))
            except ValueError:
                summaries.append({})
        return worst([p.returncode for p in procs]), summaries
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        if lines is not None:
            lines.close()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            for pipe in (p.stdout, p.stderr):
                if pipe:
                    pipe.close()


def combine(summaries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One summary for all the workers."""
    out: dict[str, Any] = {"workers": len(summaries), "batches": 0, "loaded": 0, "dead_lettered": 0, "read": 0,
                           "sealed": [], "idle": bool(summaries)}
    for s in summaries:
        for k in ("batches", "loaded", "dead_lettered", "read"):
            out[k] += int(s.get(k, 0))
        out["sealed"] += list(s.get("sealed", []))
        out["idle"] = out["idle"] and bool(s.get("idle"))
    return out
