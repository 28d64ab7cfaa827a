"""`make bench`: the load stage against a plain COPY, and a whole baseline, side by side.

Same rows into the same FK'd tables:
1. reference: COPY of N Vehicle rows straight into `autocare_vcdb.vehicle` (FK constraints on);
2. load stage: the same N rows as API records, pre-filled on the topic, loaded by the worker
   (validation, staging COPY, anti-join FK check, guarded upsert, offsets, receipts);
3. whole baseline: simulator -> producer -> broker -> worker -> PostgreSQL for every VCdb
   endpoint at the given scale.
Prints rows/s, the ratio to COPY and the peak RSS of each phase; `--json` for machines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import psutil

from bench.workload import RecordsSource, base_vehicle, lookups, vehicle
from consumers.runner import consume
from consumers.worker import WorkerOptions
from producers.runner import ProduceOptions, produce
from producers.source import client_source
from schemas.settings import Settings, sqlalchemy_url
from vcdb import migrations, services

T = TypeVar("T")
WORKDIR = Path(".vcdb/bench")


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


async def timed(fn: Callable[[], Awaitable[T]]) -> tuple[T, float, float]:
    with PeakRss() as rss:
        t0 = time.perf_counter()
        out = await fn()
        return out, time.perf_counter() - t0, rss.mib


async def fresh_db(admin: str, name: str) -> str:
    url = await services.create_database(admin, name, drop_first=True)
    migrations.upgrade(sqlalchemy_url(url))
    return url


async def load_parents(settings: Settings, n_base: int) -> None:
    parents = {**lookups(), "BaseVehicle": [base_vehicle(b) for b in range(1, n_base + 1)]}
    opts = ProduceOptions(db="vcdb", tables=tuple(parents))
    await produce(settings, opts, RecordsSource(parents), install_signals=False)
    await consume(settings, "vcdb", WorkerOptions(until_idle=True), install_signals=False, assign=True)


async def plain_copy(url: str, rows: list[tuple[Any, ...]]) -> int:
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "vehicle", schema_name="autocare_vcdb", records=rows,
            columns=["vehicle_id", "base_vehicle_id", "submodel_id", "region_id", "publication_stage_id",
                     "effective_date_time", "ingest_run_id"])
        return len(rows)
    finally:
        await conn.close()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    import datetime as dt

    admin = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    if not await services.postgres_answers(admin):
        admin = services.start_embedded_postgres(WORKDIR).url
    n, n_base = args.rows, max(1, args.rows // 2)
    eff = dt.datetime(2026, 1, 31)
    results: dict[str, Any] = {"rows": n}

    # 1. The reference: COPY into the FK'd table, parents in place.
    kafka = services.start_tansu(WORKDIR)
    try:
        url = await fresh_db(admin, "vcdb_bench_copy")
        settings = Settings(DATABASE_URL=url, KAFKA_BOOTSTRAP_SERVERS=kafka.url)  # type: ignore[call-arg]
        await load_parents(settings, n_base)
        rows = [(v, v % n_base + 1, 1, 1, 4, eff, 0) for v in range(1, n + 1)]
        _, secs, mib = await timed(lambda: plain_copy(url, rows))
        results["copy"] = {"rows_per_s": n / secs, "seconds": secs, "peak_rss_mib": mib}
    finally:
        kafka.stop()

    # 2. The load stage from a pre-filled topic, same rows, same parents.
    kafka = services.start_tansu(WORKDIR)
    try:
        url = await fresh_db(admin, "vcdb_bench_load")
        settings = Settings(DATABASE_URL=url, KAFKA_BOOTSTRAP_SERVERS=kafka.url)  # type: ignore[call-arg]
        await load_parents(settings, n_base)
        records = {"Vehicle": [vehicle(v, v % n_base + 1) for v in range(1, n + 1)]}
        await produce(settings, ProduceOptions(db="vcdb", tables=("Vehicle",)), RecordsSource(records),
                      install_signals=False)
        opts = WorkerOptions(until_idle=True, batch_size=args.batch_size)
        res, secs, mib = await timed(lambda: consume(settings, "vcdb", opts, install_signals=False, assign=True))
        load_secs = max(await _load_seconds(url), 1e-6)
        results["load_stage"] = {"rows_per_s": n / load_secs, "seconds": load_secs, "group_join_s": secs - load_secs,
                                 "peak_rss_mib": mib, "loaded": res.loaded}
    finally:
        kafka.stop()
    results["ratio_to_copy"] = results["load_stage"]["rows_per_s"] / results["copy"]["rows_per_s"]

    # 3. A whole baseline through the simulator.
    if args.scale > 0:
        kafka = services.start_tansu(WORKDIR)
        sim = services.start_simulator(WORKDIR, "--scale", str(args.scale), "--seed", "1")
        try:
            url = await fresh_db(admin, "vcdb_bench_baseline")
            settings = Settings(DATABASE_URL=url, KAFKA_BOOTSTRAP_SERVERS=kafka.url,  # type: ignore[call-arg]
                                AUTOCARE_TOKEN_URL=f"{sim.url}/connect/token", AUTOCARE_VCDB_URL=sim.url)

            async def whole() -> tuple[int, int]:
                worker = asyncio.create_task(consume(settings, "vcdb", WorkerOptions(until_idle=True, stall_s=600),
                                                     install_signals=False, assign=True))
                async with client_source(settings) as source:
                    run = await produce(settings, ProduceOptions(db="vcdb"), source, install_signals=False)
                res = await worker
                return run.records, res.loaded

            cpu0 = sum(psutil.Process().cpu_times()[:2])
            (published, loaded), secs, mib = await timed(whole)
            sim_cpu = psutil.Process(sim.process.pid).cpu_times() if sim.process else None
            results["baseline"] = {"scale": args.scale, "records": published, "loaded": loaded, "seconds": secs,
                                   "records_per_s": published / secs, "peak_rss_mib": mib,
                                   "simulator_cpu_s": (sim_cpu.user + sim_cpu.system) if sim_cpu else None,
                                   "ingester_cpu_s": sum(psutil.Process().cpu_times()[:2]) - cpu0}
        finally:
            sim.stop()
            kafka.stop()
    return results


async def _load_seconds(url: str) -> float:
    """The worker's time on the data: from its first batch to its last, scaled by n/(n-1) to count
    the first batch too.  What comes before (the consumer group join, about 5 s on Tansu, and the
    first fetch) is reported apart."""
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow("SELECT min(applied_at) AS first, max(applied_at) AS last, count(*) AS n "
                                  "FROM ingest.applied_batches WHERE topic = 'autocare.vcdb.vehicle'")
        n = row["n"]
        return (row["last"] - row["first"]).total_seconds() * n / (n - 1) if n > 1 else 0.0
    finally:
        await conn.close()


def run() -> int:
    p = argparse.ArgumentParser(prog="python -m bench")
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--batch-size", type=int, default=5000)
    p.add_argument("--scale", type=float, default=0.05, help="simulator scale of the whole baseline (0: skip)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    results = asyncio.run(main(args))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        c, ls = results["copy"], results["load_stage"]
        print(f"rows: {results['rows']}")
        print(f"plain COPY into FK'd table : {c['rows_per_s']:>10,.0f} rows/s  peak RSS +{c['peak_rss_mib']:.0f} MiB")
        print(f"load stage (from topics)  : {ls['rows_per_s']:>10,.0f} rows/s  peak RSS +{ls['peak_rss_mib']:.0f} MiB"
              f"  (x{results['ratio_to_copy']:.2f} of COPY; start-up and group join {ls['group_join_s']:.1f} s apart)")
        if "baseline" in results:
            b = results["baseline"]
            print(f"whole baseline (scale {b['scale']}): {b['records']:,} records in {b['seconds']:.1f} s = "
                  f"{b['records_per_s']:,.0f} records/s, peak RSS +{b['peak_rss_mib']:.0f} MiB, "
                  f"CPU simulator {b['simulator_cpu_s']:.1f} s / ingester {b['ingester_cpu_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(run())
