"""What every benchmark phase stands on: a fresh database, settings pointing at the services of the
phase, and the command lines of the `vcdb` processes it starts (with their environment)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil

from ledger import pools
from schemas.settings import Settings, sqlalchemy_url
from vcdb import kafka_broker, migrations, services

# The brokers a baseline runs on: the one production deploys, and the demo's broker without Java.
BROKERS = ("apache-kafka", "tansu")


@dataclass(frozen=True)
class Bench:
    admin_url: str  # a database on the server where the bench makes its own
    workdir: Path
    workers: int
    timeout_s: float  # per phase: a process still running then is stopped and the phase fails
    postgres_pid: int | None = None  # the postmaster, for PostgreSQL's CPU (None: not readable here)

    def simulator_args(self, scale: float) -> list[str]:
        """The same data for every phase that talks to the simulator: no faults (none unless asked
        for), default anomalies, a token that outlives the slowest client (dlt fetches one once)."""
        return ["--scale", str(scale), "--seed", "1", "--token-ttl", "86400"]


async def start_broker(name: str, workdir: Path) -> services.Service:
    """A fresh broker of the phase, stopped by the caller by its PID: Apache Kafka as the tests start
    it (KRaft, one node, loopback, free ports, data under the workdir wiped first), or Tansu.  In a
    thread: Apache Kafka's start waits for its metadata with an event loop of its own."""
    if name == "apache-kafka":
        return await asyncio.to_thread(kafka_broker.start_apache_kafka, workdir / "apache-kafka")
    if name == "tansu":
        return await asyncio.to_thread(services.start_tansu, workdir)
    raise ValueError(f"unknown broker {name!r}: one of {', '.join(BROKERS)}")


async def postmaster_pid(url: str) -> int | None:
    """The PID of the postmaster of the server at `url`: the parent of our backend.  None when that
    process is not visible from here (a server on another host or in another container: a local
    process with the backend's PID would be someone else's, hence the name check)."""
    conn = await pools.connect_session(url)
    try:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(backend)
            parent = proc.parent()
            if parent is not None and parent.pid > 1 and all("postgres" in p.name() for p in (proc, parent)):
                return parent.pid
        return None
    finally:
        await conn.close()


async def fresh_db(admin: str, name: str, *, migrate: bool = True) -> str:
    url = await services.create_database(admin, name, drop_first=True)
    if migrate:
        migrations.upgrade(sqlalchemy_url(url))
    return url


def settings_for(url: str, kafka: services.Service | None = None,
                 sim: services.Service | None = None) -> Settings:
    values = {"DATABASE_URL": url}
    if kafka is not None:
        values["KAFKA_BOOTSTRAP_SERVERS"] = kafka.url
    if sim is not None:
        values |= {"AUTOCARE_TOKEN_URL": f"{sim.url}/connect/token", "AUTOCARE_VCDB_URL": sim.url}
    return Settings(**values)  # type: ignore[arg-type]


def env_for(settings: Settings) -> dict[str, str]:
    """The environment of a `vcdb` process: ours, with the phase's services (secrets stay the demo's)."""
    return {**os.environ, "DATABASE_URL": settings.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "AUTOCARE_TOKEN_URL": settings.autocare_token_url, "AUTOCARE_VCDB_URL": settings.autocare_vcdb_url}


def vcdb(*args: str) -> list[str]:
    return [sys.executable, "-m", "vcdb", *args]


@functools.cache
def consume_has_workers() -> bool:
    """Whether `vcdb consume` takes `--workers` yet (it is being added)."""
    out = subprocess.run(vcdb("consume", "--help"), capture_output=True, text=True, timeout=60)
    return "--workers" in out.stdout


def consume_argv(workers: int, *extra: str) -> list[str]:
    argv = vcdb("consume", "--until-idle", "--assign", "--json", *extra)
    return [*argv, "--workers", str(workers)] if consume_has_workers() else argv
