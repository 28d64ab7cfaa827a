"""`vcdb consume --workers N`: N processes that start, stop and fail as one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from consumers.runner import split_partitions
from vcdb import exit_codes, services


def _consume(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "vcdb", "consume", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)


def _workers_of(proc: subprocess.Popen[bytes], n: int, timeout: float = 30.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = psutil.Process(proc.pid).children()
        if len(children) >= n:
            return children
        time.sleep(0.1)
    raise AssertionError(f"{n} worker processes did not start")


def test_sigterm_stops_every_worker_and_exits_4(database_url: str, kafka: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka}
    proc = _consume(env, "--workers", "2", "--assign")
    try:
        workers = _workers_of(proc, 2)
        time.sleep(4)  # both are consuming (nothing to load yet)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == exit_codes.INTERRUPTED, err.decode()[-2000:]
        assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    finally:
        _end(proc)


def test_a_killed_supervisor_takes_its_workers_with_it(database_url: str, kafka: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka}
    proc = _consume(env, "--workers", "2", "--assign")
    try:
        workers = _workers_of(proc, 2)
        os.kill(proc.pid, signal.SIGKILL)  # only the supervisor
        proc.communicate(timeout=10)
        psutil.wait_procs(workers, timeout=10)
        assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    finally:
        _end(proc)


def test_workers_that_cannot_reach_postgresql_exit_5(kafka: str) -> None:
    port = services.free_port()
    env = {**os.environ, "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/nowhere",
           "KAFKA_BOOTSTRAP_SERVERS": kafka}
    proc = _consume(env, "--workers", "2", "--assign", "--until-idle")
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        _end(proc)
    assert proc.returncode == exit_codes.UNAVAILABLE, err.decode()[-2000:]
    # The first worker to fail says why; the supervisor then stops the other (which may say it too).
    assert "cannot connect to PostgreSQL" in err.decode()


def test_static_split_gives_every_partition_to_exactly_one_worker() -> None:
    tps = [(f"autocare.vcdb.t{t}", p) for t in range(7) for p in range(3)]
    shares = [split_partitions(tps, i, 2) for i in range(2)]
    assert sorted(shares[0] + shares[1]) == sorted(tps)
    assert abs(len(shares[0]) - len(shares[1])) <= 1
    # A table's partitions spread over the workers.
    assert {p for t, p in shares[0] if t == "autocare.vcdb.t0"} != {0, 1, 2}
