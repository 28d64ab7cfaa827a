"""The processes a benchmark starts and watches: exit code, CPU of the whole process tree, and the
peak RSS of every process in it, sampled.

CPU comes from the kernel, not from sampling: `wait4` answers the resource usage of the child
together with every descendant it waited for, so a worker pool's CPU is counted once it is reaped.
RSS is sampled (psutil) per PID, because what matters is the largest single worker, not the sum;
`wait4`'s `ru_maxrss` (the largest process of the tree, never missed by sampling) is kept beside
it as a cross-check.  Everything is stopped by its PID: first SIGTERM to the process we started,
then SIGKILL to it and to any descendant we saw that is still there.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil


class ProcessFailed(RuntimeError):
    """A benchmarked process exited non-zero or did not exit in time; the message names its log."""


@dataclass
class Exited:
    name: str
    code: int
    wall_s: float
    cpu_s: float  # user + system of the process and every descendant it reaped
    peak_rss: dict[int, int]  # PID -> largest sampled RSS (bytes); the started process first
    ru_maxrss: int  # bytes: the largest process of the tree according to the kernel
    stdout: str
    log: Path
    pids: list[int] = field(default_factory=list)

    @property
    def root_rss(self) -> int:
        return self.peak_rss.get(self.pids[0], 0) if self.pids else 0

    @property
    def worker_rss(self) -> int:
        """The largest worker: the children when the process has any (a pool), else the process."""
        children = [rss for pid, rss in self.peak_rss.items() if pid != self.pids[0]]
        return max(children) if children else self.root_rss

    def json(self) -> Any:
        """stdout as JSON (the last JSON object printed, when several lines came before it)."""
        text = self.stdout.strip()
        with contextlib.suppress(ValueError):
            return json.loads(text)
        start = text.rfind("\n{")
        if start >= 0:
            with contextlib.suppress(ValueError):
                return json.loads(text[start + 1:])
        raise ProcessFailed(f"{self.name} printed no JSON on stdout (exit {self.code}); log: {self.log}")


class Tracked:
    """One started process: `poll()` reaps it, `stop()` ends it (and what it left) by PID."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str] | None = None, workdir: Path,
                 stdin: bytes | None = None, cwd: Path | None = None, sample_s: float = 0.1) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%H%M%S")
        self.name = name
        self.log = workdir / f"{name}-{stamp}.log"
        self._out_path = workdir / f"{name}-{stamp}.out"
        self._sample_s = sample_s
        self.peak_rss: dict[int, int] = {}
        self._seen: dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.code: int | None = None
        self._rusage: Any = None
        self.t0 = time.perf_counter()
        with self.log.open("wb") as err, self._out_path.open("wb") as out:
            self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err, start_new_session=True,
                                         stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
        if stdin is not None:
            assert self.proc.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.write(stdin)
            self.proc.stdin.close()
        self.t_exit: float | None = None
        self._root = psutil.Process(self.proc.pid)
        self._seen[self.proc.pid] = self._root
        self._thread = threading.Thread(target=self._sample, name=f"rss-{name}", daemon=True)
        self._thread.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _sample(self) -> None:
        next_tree = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_tree:  # walking /proc for descendants costs more than reading RSS: less often
                next_tree = now + 0.5
                with contextlib.suppress(psutil.Error):
                    for child in self._root.children(recursive=True):
                        with self._lock:
                            self._seen.setdefault(child.pid, child)
            with self._lock:
                procs = list(self._seen.items())
            for pid, p in procs:
                try:
                    rss = p.memory_info().rss
                except psutil.Error:
                    continue
                if rss > self.peak_rss.get(pid, 0):
                    self.peak_rss[pid] = rss
            self._stop.wait(self._sample_s)

    def poll(self) -> int | None:
        if self.code is None:
            pid, status, rusage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                self.t_exit = time.perf_counter()
                self.code = os.waitstatus_to_exitcode(status)
                self._rusage = rusage
                self.proc.returncode = self.code  # reaped here: Popen must not wait for it again
                self._stop.set()
        return self.code

    def wait(self, deadline: float) -> Exited:
        """Until it exits or `deadline` (time.monotonic()); stopped and ProcessFailed at the deadline."""
        while self.poll() is None:
            if time.monotonic() > deadline:
                self.stop()
                raise ProcessFailed(f"{self.name} did not finish in time and was stopped; log: {self.log}")
            time.sleep(0.05)
        return self.result()

    def result(self) -> Exited:
        if self.code is None or self.t_exit is None:
            raise ProcessFailed(f"{self.name} has not exited")
        self._thread.join(2)
        ru = self._rusage
        return Exited(self.name, self.code, self.t_exit - self.t0, ru.ru_utime + ru.ru_stime, dict(self.peak_rss),
                      ru.ru_maxrss * 1024, self._out_path.read_text(errors="replace"), self.log, list(self._seen))

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL to it and to every descendant still alive; only the PIDs we saw."""
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)
            end = time.monotonic() + timeout
            while self.poll() is None and time.monotonic() < end:
                time.sleep(0.05)
            if self.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.proc.pid, signal.SIGKILL)
                end = time.monotonic() + 5
                while self.poll() is None and time.monotonic() < end:
                    time.sleep(0.05)
        self._stop.set()
        with self._lock:
            left = [p for pid, p in self._seen.items() if pid != self.proc.pid]
        for p in left:
            with contextlib.suppress(psutil.Error):
                if p.is_running():  # is_running compares the start time: never a recycled PID
                    p.kill()


def check(done: Exited) -> Exited:
    if done.code != 0:
        tail = done.log.read_text(errors="replace").strip().splitlines()[-5:]
        raise ProcessFailed(f"{done.name} exited {done.code}; log: {done.log}\n  " + "\n  ".join(tail))
    return done


def cpu_s(pid: int | None) -> float:
    """User + system CPU so far of a running process we did not reap (a service)."""
    if pid is None:
        return 0.0
    with contextlib.suppress(psutil.Error):
        t = psutil.Process(pid).cpu_times()
        return float(t.user + t.system)
    return 0.0


def server_cpu_s(pid: int | None) -> float | None:
    """User + system CPU so far of a server we did not start as a Tracked process, with every
    process it forked, those already gone included: PostgreSQL's postmaster and its backends.

    Backends come and go (one per connection), so sampling the live ones would miss every backend
    that exited within the span.  The kernel adds a child's CPU to its parent's `children_user` and
    `children_system` (psutil's `cpu_times()`) when the parent reaps it, and the postmaster reaps
    its backends as they exit; the ones still alive are read one by one.  So the postmaster's own
    CPU + its reaped children's + its live children's is the whole server's CPU so far, and two
    readings bracket a span.  A backend that exits between the two reads of one reading is missed
    by it (one connection's CPU at most).  PostgreSQL's processes are all the postmaster's direct
    children (parallel workers too).  None when the server is not ours to read (another user's, or
    on another host)."""
    if pid is None:
        return None
    try:
        server = psutil.Process(pid)
        t = server.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system
        for child in server.children():
            with contextlib.suppress(psutil.Error):  # exited since: its CPU is in children_* next time
                c = child.cpu_times()
                total += c.user + c.system
        return float(total)
    except psutil.Error:
        return None
