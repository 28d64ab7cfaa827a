"""The load stage against a plain COPY: the same N Vehicle rows into the same FK'd tables.

1. reference: COPY straight into `autocare_vcdb.vehicle` (FK constraints on, parents in place);
2. load stage: the same rows as API records, pre-filled on the topic, loaded by `vcdb consume
   --until-idle --assign --workers N` as a process of its own (validation, staging COPY, anti-join
   FK checks, guarded upsert, offsets, receipts).  Its time is the workers' time on the data:
   from the first to the last batch that phase applied (ingest.applied_batches, every table),
   scaled by n/(n-1) to count the first batch too; process start-up is reported apart;
3. the load stage again with the workers connected as the ingest role of `vcdb migrate --roles`
   (issue 12: least privilege), which may not set `session_replication_role`, so PostgreSQL's
   FK triggers run for every row the upsert writes: its rows/s against (2)'s is their cost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psutil

from bench.procs import Tracked, check
from bench.stack import Bench, consume_argv, consume_has_workers, env_for, fresh_db, settings_for
from bench.workload import RecordsSource, base_vehicle, lookups, vehicle
from consumers.runner import consume
from consumers.worker import WorkerOptions
from ledger import loads, pools
from producers.runner import ProduceOptions, produce
from schemas.settings import Settings
from vcdb import roles, services

EFFECTIVE = dt.datetime(2026, 1, 31)


class PeakRss:
    """Samples this process's RSS in a thread; peak above the level at start."""

    def __init__(self, every_s: float = 0.05) -> None:
        self.proc = psutil.Process()
        self.every = every_s
        self.start = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def mib(self) -> float:
        return (self.peak - self.start) / 2**20


async def load_parents(settings: Settings, n_base: int) -> None:
    parents = {**lookups(), "BaseVehicle": [base_vehicle(b) for b in range(1, n_base + 1)]}
    opts = ProduceOptions(db="vcdb", tables=tuple(parents))
    await produce(settings, opts, RecordsSource(parents), install_signals=False)
    await consume(settings, "vcdb", WorkerOptions(until_idle=True), install_signals=False, assign=True)


async def plain_copy(url: str, rows: list[tuple[Any, ...]]) -> int:
    conn = await pools.connect_session(url)
    try:
        await conn.copy_records_to_table(
            "vehicle", schema_name="autocare_vcdb", records=rows,
            columns=["vehicle_id", "base_vehicle_id", "submodel_id", "region_id", "publication_stage_id",
                     "effective_date_time", "ingest_run_id"])
        return len(rows)
    finally:
        await conn.close()


async def copy_phase(bench: Bench, n: int) -> dict[str, Any]:
    n_base = max(1, n // 2)
    kafka = services.start_tansu(bench.workdir)
    try:
        url = await fresh_db(bench.admin_url, "vcdb_bench_copy")
        await load_parents(settings_for(url, kafka), n_base)
        rows = [(v, v % n_base + 1, 1, 1, 4, EFFECTIVE, 0) for v in range(1, n + 1)]
        with PeakRss() as rss:
            t0 = time.perf_counter()
            await plain_copy(url, rows)
            secs = time.perf_counter() - t0
        return {"rows": n, "rows_per_s": n / secs, "seconds": secs, "peak_rss_mib": rss.mib}
    finally:
        kafka.stop()


BENCH_ROLES = {"VCDB_OWNER_ROLE": "vcdb_bench_owner", "VCDB_INGEST_ROLE": "vcdb_bench_ingest",
               "VCDB_READER_ROLE": "vcdb_bench_reader"}


async def as_ingest_role(url: str) -> str:
    """The bench's roles on the database at `url` (`vcdb migrate --roles`); the ingest role's URL."""
    await roles.apply(Settings(DATABASE_URL=url, **BENCH_ROLES))  # type: ignore[arg-type]
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{BENCH_ROLES['VCDB_INGEST_ROLE']}@{host}"))


async def fk_triggers_run(url: str) -> bool:
    """Whether the loader, connected as `url`'s role, leaves PostgreSQL's FK triggers on."""
    writer = await pools.connect_writer(url, size=1)
    try:
        return not writer.skip_fk_triggers
    finally:
        await writer.pool.close()


async def drop_bench_roles(admin: str, name: str) -> None:
    """Roles are cluster-wide: the database that holds their grants goes first, then they do."""
    await services.drop_database(admin, name)
    await services.run_sql(admin, [f'DROP ROLE IF EXISTS "{r}"' for r in BENCH_ROLES.values()])


async def load_stage_ingest_phase(bench: Bench, n: int, batch_size: int) -> dict[str, Any]:
    name = "vcdb_bench_load_ingest"
    try:
        return await load_stage_phase(bench, n, batch_size, name=name, ingest_role=True)
    finally:
        await drop_bench_roles(bench.admin_url, name)


async def load_stage_phase(bench: Bench, n: int, batch_size: int, *, name: str = "vcdb_bench_load",
                           ingest_role: bool = False) -> dict[str, Any]:
    n_base = max(1, n // 2)
    kafka = services.start_tansu(bench.workdir)
    try:
        url = await fresh_db(bench.admin_url, name)
        settings = settings_for(url, kafka)
        await load_parents(settings, n_base)
        records = {"Vehicle": [vehicle(v, v % n_base + 1) for v in range(1, n + 1)]}
        # As many partitions as twice the workers, so the static split gives each worker the same
        # share (with 3 partitions and 2 workers one worker would load twice what the other does).
        await produce(settings, ProduceOptions(db="vcdb", tables=("Vehicle",), partitions=2 * bench.workers),
                      RecordsSource(records), install_signals=False)
        worker_settings = settings_for(await as_ingest_role(url), kafka) if ingest_role else settings
        fk_triggers = await fk_triggers_run(worker_settings.database_url)
        mark = await _db_now(url)
        worker = Tracked("load-stage", consume_argv(bench.workers, "--batch-size", str(batch_size)),
                         env=env_for(worker_settings), workdir=bench.workdir)
        try:
            done = check(await asyncio.to_thread(worker.wait, time.monotonic() + bench.timeout_s))
        finally:
            worker.stop()
        out = done.json()
        batches, rows, secs = await batch_span(url, mark)
        secs = max(secs, 1e-6)
        return {"rows": n, "rows_per_s": rows / secs, "seconds": secs, "batches": batches, "batch_rows": rows,
                "role": "ingest" if ingest_role else "admin", "fk_triggers": fk_triggers,
                "process_wall_s": done.wall_s, "outside_batches_s": done.wall_s - secs, "cpu_s": done.cpu_s,
                "workers": bench.workers if consume_has_workers() else None,
                "processes": len(done.peak_rss),
                "worker_peak_rss_mb": done.worker_rss / 1e6, "ru_maxrss_mb": done.ru_maxrss / 1e6,
                "loaded": out.get("loaded"), "dead_lettered": out.get("dead_lettered"), "read": out.get("read")}
    finally:
        kafka.stop()


async def _db_now(url: str) -> dt.datetime:
    conn = await pools.connect_session(url)
    try:
        now: dt.datetime = await conn.fetchval("SELECT clock_timestamp()")
        return now
    finally:
        await conn.close()


async def batch_span(url: str, since: dt.datetime) -> tuple[int, int, float]:
    """Batches and rows applied since `since`, every table, and the workers' time on them: first
    batch to last (each stamped when its transaction began), scaled by n/(n-1) for the first one."""
    conn = await pools.connect_session(url)
    try:
        n, rows, first, last = await loads.applied_since(conn, since)
        secs = (last - first).total_seconds() * n / (n - 1) if n > 1 and first and last else 0.0
        return n, rows, secs
    finally:
        await conn.close()
