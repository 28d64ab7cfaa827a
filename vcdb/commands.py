"""One function per subcommand, with typed keyword arguments (the CLI passes those its signature
names): build what it needs from settings, call the layer, report.  Nothing here maps an error
to an exit code: what a command cannot do, it raises, and vcdb/exit_codes.py says it once."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from schemas.settings import Settings, sqlalchemy_url
from vcdb import exit_codes, signals
from vcdb.console import RunFailed, UsageError, print_json
from vcdb.logs import Terminal

log = logging.getLogger("vcdb")


def migrate(settings: Settings, *, revision: str = "head", down: bool = False, roles: bool = False,
            print_only: bool = False) -> int:
    from vcdb import migrations

    if roles and not down:
        from vcdb import roles as least_privilege

        return least_privilege.command(settings, revision, print_only=print_only)
    if down:
        migrations.downgrade(settings.database_url_sqlalchemy, "base" if revision == "head" else revision)
    else:
        migrations.upgrade(settings.database_url_sqlalchemy, revision)
    print(f"migrated {'down' if down else 'up'} to {revision}")
    return exit_codes.OK


# ---- producers -----------------------------------------------------------------------------------

def baseline(settings: Settings, terminal: Terminal, *, db: str = "vcdb", as_of: dt.date | None = None,
             resume: bool = False, tables: Sequence[str] = (), skip: Sequence[str] = (), concurrency: int = 4,
             partitions: int = 3, replication: int = 1, metrics_port: int | None = None, as_json: bool = False,
             in_place: bool = False) -> int:
    from ledger.statuses import RunKind
    from producers.runner import ProduceOptions
    from vcdb import health

    options = ProduceOptions(db=db, kind=RunKind.BASELINE, as_of=as_of, tables=tuple(tables), skip=tuple(skip),
                             resume=resume, concurrency=concurrency, partitions=partitions, replication=replication,
                             in_place=in_place)
    with health.serving(metrics_port, health.PRODUCER_NEEDS):
        return signals.run(lambda stop: _produce(settings, terminal, options, stop, as_json))


def incremental(settings: Settings, terminal: Terminal, *, since: dt.date | str, db: str = "vcdb",
                lookback: int = 7, every: float | None = None, resume: bool = False, tables: Sequence[str] = (),
                skip: Sequence[str] = (), concurrency: int = 4, partitions: int = 3, replication: int = 1,
                metrics_port: int | None = None, as_json: bool = False) -> int:
    from ledger.statuses import RunKind
    from producers.runner import ProduceOptions
    from vcdb import health

    options = ProduceOptions(db=db, kind=RunKind.INCREMENTAL, since=since, lookback_days=lookback, tables=tuple(tables),
                             skip=tuple(skip), resume=resume, concurrency=concurrency, partitions=partitions,
                             replication=replication)
    with health.serving(metrics_port, health.PRODUCER_NEEDS):
        if every is None:
            return signals.run(lambda stop: _produce(settings, terminal, options, stop, as_json))
        return signals.run(lambda stop: _produce_every(settings, terminal, options, stop, every, as_json))


async def _produce(settings: Settings, terminal: Terminal, options: Any, stop: signals.Stop, as_json: bool) -> int:
    """One run: its summary printed, its status as the exit code; what doomed it raised."""
    from producers.runner import produce
    from producers.source import client_source
    from vcdb import live

    with live.view(terminal, f"{options.kind} {options.db}", database_url=settings.database_url,
                   db=options.db) as progress:
        async with client_source(settings) as source:
            result = await produce(settings, options, source, progress=progress, stop=stop.event,
                                   install_signals=False)
    if as_json:
        print_json(result.to_json())
    else:
        print(f"run {result.run_id} ({result.kind} {options.db}): {result.status}, {result.pages} pages, "
              f"{result.records} records in {result.seconds:.1f} s")
        if result.error and result.cause is None:
            print(f"  {result.error}")
    if result.cause is not None:
        raise RunFailed(f"run {result.run_id} failed: {result.error}") from result.cause
    return exit_codes.for_run(result.status)


async def _produce_every(settings: Settings, terminal: Terminal, options: Any, stop: signals.Stop, minutes: float,
                         as_json: bool) -> int:
    """A service: a run every `minutes` until a stop signal; a failed or refused run is logged and
    the next one tries again.  A signal during a run finishes its page first (exit 4), one between
    runs exits 0."""
    while True:
        try:
            code = await _produce(settings, terminal, options, stop, as_json)
        except Exception as e:  # our errors: said, and tried again at the next interval
            found = exit_codes.classify(e)
            if found is None:
                raise
            log.error("run not done: %s%s", found[1], exit_codes.message(e))
            code = exit_codes.FAILED
        if code == exit_codes.INTERRUPTED or stop.requested:
            return code if code == exit_codes.INTERRUPTED else exit_codes.OK
        log.info("next %s run in %.1f minutes", options.kind, minutes)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.event.wait(), minutes * 60)
        if stop.requested:
            return exit_codes.OK


def file_load(settings: Settings, terminal: Terminal, *, db: str, files: Sequence[str], resume: bool = False,
              page_size: int = 1000, partitions: int = 3, replication: int = 1, as_json: bool = False) -> int:
    from vcdb import fitment_files

    return fitment_files.load(settings, terminal, db=db, files=files, resume=resume, page_size=page_size,
                              partitions=partitions, replication=replication, as_json=as_json)


# ---- consumers -----------------------------------------------------------------------------------

def consume(settings: Settings, terminal: Terminal, argv: Sequence[str], *, db: str = "vcdb",
            tables: Sequence[str] = (), until_idle: bool = False, batch_size: int = 5000, linger: float = 0.3,
            max_dead_letters: int | None = None, stall: float = 120.0, group: str | None = None,
            assign: bool = False, workers: int = 1, worker: tuple[int, int] | None = None,
            metrics_port: int | None = None, as_json: bool = False, resync: bool = False) -> int:
    from consumers.retry import RetryPolicy
    from consumers.runner import consume as run_worker
    from consumers.worker import WorkerOptions
    from vcdb import health, live
    from vcdb import workers as supervisor

    supervisor.die_with_supervisor()  # a worker of a supervisor, or a supervisor of `vcdb demo`
    if workers > 1 and worker is None:
        with live.view(terminal, f"consume {db}", database_url=settings.database_url, db=db):
            code, summaries = supervisor.supervise(argv, workers, on_stderr=_relay(terminal))
        _print_consumed(supervisor.combine(summaries), as_json)
        return code
    options = WorkerOptions(batch_size=batch_size, linger_s=linger, until_idle=until_idle, stall_s=stall,
                            max_dead_letters=max_dead_letters, retry=RetryPolicy(outage_s=settings.database_outage_s),
                            resync=resync)

    async def main(stop: signals.Stop) -> int:
        with live.view(terminal, f"consume {db}", database_url=settings.database_url if worker is None else None,
                       db=db):
            result = await run_worker(settings, db, options, tables=tables, group_id=group, assign=assign,
                                      split=worker if assign else None, stop=stop.event, install_signals=False)
        _print_consumed(dict(result.__dict__), as_json)
        if stop.requested:
            raise stop.interrupted()  # stopped between batches: the offsets are PostgreSQL's
        return exit_codes.OK

    # Worker i of a supervisor (`--workers N`) serves on --metrics-port + i: one scrape target each.
    port = metrics_port + worker[0] if metrics_port and worker is not None else metrics_port
    with health.serving(port, health.CONSUMER_NEEDS):
        return signals.run(main)


def _relay(terminal: Terminal) -> Any:
    """Where the workers' log lines go: above the live view, or straight to stderr."""
    if not terminal.live:
        return None
    console = terminal.console
    return lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True)


def _print_consumed(result: dict[str, object], as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    sealed = result.get("sealed") or []
    print(f"consumed: {result['batches']} batches, {result['loaded']} rows loaded, {result['dead_lettered']} "
          f"dead-lettered, {len(sealed) if isinstance(sealed, list) else 0} tables sealed, {result['read']} records "
          f"read{' (idle)' if result.get('idle') else ''}")


def dlq_list(settings: Settings, *, db: str = "vcdb", table: str | None = None, reason: str | None = None,
             run: int | None = None, since: dt.date | None = None, limit: int | None = None, all: bool = False,
             as_json: bool = False) -> int:
    from vcdb import dlq_report

    query = dlq_report.Query(db, table, reason, run, since, limit, include_resolved=all)
    return signals.run(lambda _: dlq_report.list_letters(settings, query, as_json=as_json), grace_s=0)


def dlq_show(settings: Settings, *, id: int, db: str = "vcdb", as_json: bool = False) -> int:
    from vcdb import dlq_report

    return signals.run(lambda _: dlq_report.show(settings, db, id, as_json=as_json), grace_s=0)


def dlq_replay(settings: Settings, *, db: str = "vcdb", table: str | None = None, reason: str | None = None,
               run: int | None = None, since: dt.date | None = None, limit: int | None = None, all: bool = False,
               dry_run: bool = False, as_json: bool = False) -> int:
    from vcdb import dlq_report

    query = dlq_report.Query(db, table, reason, run, since, limit, include_resolved=all)
    return signals.run(lambda _: dlq_report.replay_letters(settings, query, dry_run=dry_run, as_json=as_json))


def verify(settings: Settings, *, db: str = "vcdb", sample: int = 5, as_json: bool = False) -> int:
    from vcdb import reports

    return signals.run(lambda _: reports.verify(settings, db, sample=sample, as_json=as_json), grace_s=0)


def diff(settings: Settings, *, from_run: int, to_run: int, db: str = "vcdb", tables: Sequence[str] = (),
         as_json: bool = False) -> int:
    from vcdb import reports

    return signals.run(lambda _: reports.diff(settings, db, from_run, to_run, tables, as_json=as_json), grace_s=0)


def releases(settings: Settings, *, db: str | None = None, as_json: bool = False) -> int:
    from vcdb import release_commands

    return signals.run(lambda _: release_commands.list_releases(settings, db, as_json=as_json), grace_s=0)


def release_publish(settings: Settings, *, run: int, force: bool = False, as_json: bool = False) -> int:
    from vcdb import release_commands

    return signals.run(lambda _: release_commands.publish(settings, run, force=force, as_json=as_json))


def release_discard(settings: Settings, *, run: int, as_json: bool = False) -> int:
    from vcdb import release_commands

    return signals.run(lambda _: release_commands.discard(settings, run, as_json=as_json))


def changes(settings: Settings, *, release: int, table: str | None = None, reemit: bool = False,
            as_json: bool = False) -> int:
    from vcdb import change_commands

    if reemit:
        return signals.run(lambda _: change_commands.reemit(settings, release, as_json=as_json))
    return signals.run(lambda _: change_commands.summary(settings, release, table, as_json=as_json), grace_s=0)


def status(settings: Settings, *, db: str = "vcdb", as_json: bool = False) -> int:
    from vcdb import reports

    return signals.run(lambda _: reports.status(settings, db, as_json=as_json), grace_s=0)


# ---- schemas -------------------------------------------------------------------------------------

def schema_generate() -> int:
    from schemas import generate

    changed = generate.generate()
    print("\n".join(f"wrote {p}" for p in changed) or "generated code is up to date")
    return exit_codes.OK


def schema_validate(settings: Settings, *, ddl_dir: str | None = None, no_db: bool = False) -> int:
    from schemas import validate

    problems = validate.validate(Path(ddl_dir) if ddl_dir else None)
    if not no_db and not ddl_dir:
        problems += _drift(settings)
    for p in problems:
        print(f"schema validate: {p}", file=sys.stderr)
    if problems:
        print(f"schema validate: {len(problems)} problem(s)", file=sys.stderr)
        return exit_codes.FAILED
    print("schema validate: ok (naming, keys, FKs, cycles, generated code"
          + (", migration drift)" if not no_db else ")"))
    return exit_codes.OK


def _drift(settings: Settings) -> list[str]:
    """`alembic check` against a scratch database migrated from nothing."""
    import os

    from alembic.util.exc import AutogenerateDiffsDetected

    from vcdb import migrations, services

    name = f"vcdb_validate_{os.getpid()}"
    try:
        url = asyncio.run(services.create_database(settings.database_url, name, drop_first=True))
    except Exception as e:
        return [f"drift check: cannot create a scratch database on DATABASE_URL: {e} (use --no-db to skip)"]
    try:
        migrations.upgrade(sqlalchemy_url(url))
        migrations.check(sqlalchemy_url(url))
        return []
    except AutogenerateDiffsDetected as e:
        return [f"models and migrations drift: {e}"]
    finally:
        asyncio.run(services.drop_database(settings.database_url, name))


def schema_stage(settings: Settings, *, db: str = "vcdb") -> int:
    from vcdb import staging

    return signals.run(lambda _: staging.stage(settings, db), grace_s=0)


def schema_plan(*, db: str = "vcdb", as_json: bool = False) -> int:
    from schemas.catalog import load_catalog
    from schemas.graph import load_plan

    plan = load_plan(load_catalog(db))
    if as_json:
        print_json({"levels": plan.levels, "self_referencing": plan.self_referencing})
    else:
        for i, level in enumerate(plan.levels):
            print(f"level {i}: {', '.join(level)}")
        print(f"self-referencing: {', '.join(plan.self_referencing) or '-'}")
    return exit_codes.OK


# ---- the simulator: its own command line, passed through ----------------------------------------

def simulator_serve(namespace: Any) -> int:
    from simulator import runner

    return runner.run(namespace)


def simulator_aces(namespace: Any) -> int:
    from simulator import fitment_files

    return fitment_files.run(namespace)


# ---- operations ----------------------------------------------------------------------------------

def raw_export(settings: Settings, *, run: int, out: str, db: str = "vcdb") -> int:
    from vcdb import raw_backup

    return signals.run(lambda _: raw_backup.export(settings, db, run, Path(out)), grace_s=0)


def raw_import(settings: Settings, *, dir: str) -> int:
    from vcdb import raw_backup

    return signals.run(lambda _: raw_backup.import_(settings, Path(dir)), grace_s=0)


def demo(settings: Settings, terminal: Terminal, *, scale: float = 0.01, seed: int = 42,
         anomalies: float | None = None, workdir: str = ".vcdb/demo", keep: bool = False,
         database: str = "vcdb_demo", broker: str = "tansu") -> int:
    from vcdb import demo as demo_mod

    options = demo_mod.DemoOptions(scale, seed, anomalies, Path(workdir), keep, database, broker)
    return demo_mod.run(settings, terminal, options)


def reset(settings: Settings, *, db: str = "vcdb", yes: bool = False) -> int:
    from vcdb import reset as reset_mod

    if not yes:
        raise UsageError(f"reset drops every row, the run state and the topics of {db}: add --yes to confirm")
    return signals.run(lambda _: reset_mod.reset(settings, db), grace_s=0)


# ---- explorer ------------------------------------------------------------------------------------

def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8080, read_only: bool = False,
          allowed_hosts: Sequence[str] = ()) -> int:
    from web import app
    from web.config import WebConfig

    config = WebConfig.from_settings(settings, host=host, port=port, read_only=read_only,
                                     allowed_hosts=tuple(allowed_hosts))

    async def main(stop: signals.Stop) -> int:
        await app.serve(config, stop.event)
        raise stop.interrupted()

    return signals.run(main, grace_s=0)


# ---- fitment -------------------------------------------------------------------------------------

def fitment_parts(settings: Settings, *, vehicle: int | None = None, base_vehicle: int | None = None,
                  part_type: int | None = None, as_json: bool = False) -> int:
    from vcdb import fitment_report

    return signals.run(lambda _: fitment_report.parts(settings, vehicle=vehicle, base_vehicle=base_vehicle,
                                                      part_type=part_type, as_json=as_json), grace_s=0)


def fitment_vehicles(settings: Settings, *, part: str, brand: str | None = None, as_json: bool = False) -> int:
    from vcdb import fitment_report

    return signals.run(lambda _: fitment_report.vehicles(settings, part, brand, as_json=as_json), grace_s=0)


def aces_report(settings: Settings, *, sample: int = 10, as_json: bool = False) -> int:
    from vcdb import fitment_report  # the loader's read side: not imported by `load`

    return signals.run(lambda _: fitment_report.aces(settings, sample=sample, as_json=as_json), grace_s=0)


def aces_impact(settings: Settings, *, release: int, brand: str | None = None, as_json: bool = False) -> int:
    from vcdb import aces_impact as impact

    return signals.run(lambda _: impact.command(settings, release, brand=brand, json_out=as_json), grace_s=0)


def pies_report(settings: Settings, *, as_json: bool = False) -> int:
    from vcdb import fitment_report

    return signals.run(lambda _: fitment_report.pies(settings, as_json=as_json), grace_s=0)
