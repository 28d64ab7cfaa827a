"""Helpers for integration tests: publish hand-made API records as a real producer run (the
producer service over a page source of given records), consume until idle, and the environment
of a `python -m vcdb` subprocess."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from bench.workload import RecordsSource, base_vehicle, lookups, vehicle

__all__ = ["RecordsSource", "base_vehicle", "cli_env", "consume_until_idle", "execute", "fetch", "lookups",
           "publish", "run_vcdb", "running_worker", "service_env", "vehicle"]
from consumers.runner import consume
from consumers.worker import WorkerOptions, WorkerResult
from producers.runner import ProduceOptions, RunResult, produce
from schemas.settings import Settings


def service_env(database_url: str, kafka: str, api: str = "http://127.0.0.1:9") -> dict[str, str]:
    """The settings of a test's services: PostgreSQL, the broker, and the API (the simulator's URL,
    or by default a port where nothing listens) for the token and every database."""
    return {"DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "AUTOCARE_TOKEN_URL": f"{api}/connect/token", "AUTOCARE_VCDB_URL": api, "AUTOCARE_PCDB_URL": api,
            "AUTOCARE_PADB_URL": api, "AUTOCARE_QDB_URL": api}


def cli_env(database_url: str, kafka: str, api: str = "http://127.0.0.1:9", **extra: str) -> dict[str, str]:
    """The environment of a `python -m vcdb` subprocess: ours, the test's services, and `extra`."""
    return {**os.environ, **service_env(database_url, kafka, api), **extra}


async def publish(settings: Settings, records: Mapping[str, Sequence[dict[str, Any]]], *, kind: str = "baseline",
                  page_size: int = 1000, partitions: int = 3) -> RunResult:
    opts = ProduceOptions(db="vcdb", kind=kind, tables=tuple(records), partitions=partitions,
                          since=dt.date(2026, 1, 1) if kind == "incremental" else None)
    return await produce(settings, opts, RecordsSource(records, page_size), install_signals=False)


def run_vcdb(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python -m vcdb ARGS` as a process in `env` (`cli_env`), its output captured, bounded in time."""
    return subprocess.run([sys.executable, "-m", "vcdb", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


@asynccontextmanager
async def running_worker(settings: Settings, db: str = "vcdb", stop_s: float = 60.0) -> AsyncIterator[None]:
    """A continuous worker in a consumer group for the block, stopped as SIGTERM stops one (its
    stop event: the batch in flight commits) and awaited, bounded, on the way out."""
    stop = asyncio.Event()
    worker = asyncio.create_task(consume(settings, db, WorkerOptions(), install_signals=False, stop=stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(worker, stop_s)


async def consume_until_idle(settings: Settings, stall_s: float = 60.0, *, group: bool = False,
                             **kw: Any) -> WorkerResult:
    """One worker draining everything; without `group` it assigns itself every partition (no
    group join), as `vcdb consume --assign` does."""
    opts = WorkerOptions(until_idle=True, stall_s=stall_s, **kw)
    return await asyncio.wait_for(consume(settings, "vcdb", opts, install_signals=False, assign=not group),
                                  timeout=stall_s + 60)


async def fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def execute(url: str, sql: str) -> None:
    """Run a script (several statements) outside the ingester: tests that tamper with the data."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
