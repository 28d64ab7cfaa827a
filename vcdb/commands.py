"""One function per subcommand: build what it needs from settings, call the layer, report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from schemas.settings import Settings, sqlalchemy_url
from vcdb import exit_codes
from vcdb.console import UsageError, print_json

log = logging.getLogger("vcdb")


def migrate(settings: Settings, args: argparse.Namespace) -> int:
    from vcdb import migrations

    if args.roles and not args.down:
        from vcdb import roles as least_privilege

        return least_privilege.command(settings, args.revision, print_only=args.print_only)
    if args.down:
        migrations.downgrade(settings.database_url_sqlalchemy, "base" if args.revision == "head" else args.revision)
    else:
        migrations.upgrade(settings.database_url_sqlalchemy, args.revision)
    print(f"migrated {'down' if args.down else 'up'} to {args.revision}")
    return exit_codes.OK


def produce(settings: Settings, args: argparse.Namespace) -> int:
    from producers.errors import ApiError
    from producers.progress import TerminalProgress
    from producers.runner import ProduceOptions, produce
    from producers.runs import LockHeld, RunStateError
    from producers.service import ProducerError
    from producers.source import client_source
    from streams.broker import BrokerError

    options = ProduceOptions(
        db=args.db, kind=args.command, as_of=getattr(args, "as_of", None), since=getattr(args, "since", None),
        lookback_days=getattr(args, "lookback", 7), tables=tuple(args.tables), skip=tuple(args.skip),
        resume=args.resume, concurrency=args.concurrency, partitions=args.partitions, replication=args.replication)
    every = getattr(args, "every", None)

    async def once(stop: asyncio.Event | None = None) -> int:
        progress = TerminalProgress(sys.stderr)
        async with client_source(settings) as source:
            result = await produce(settings, options, source, progress=progress, stop=stop,
                                   install_signals=stop is None)
        progress.close()
        if args.json:
            print_json(result.to_json())
        else:
            print(f"run {result.run_id} ({result.kind} {args.db}): {result.status}, {result.pages} pages, "
                  f"{result.records} records in {result.seconds:.1f} s")
            if result.error:
                print(f"  {result.error}")
        return {"succeeded": exit_codes.OK, "interrupted": exit_codes.INTERRUPTED}.get(result.status,
                                                                                       exit_codes.FAILED)

    async def service(minutes: float) -> int:
        """Run every `minutes` until SIGTERM/SIGINT; a failed or refused run is logged and the
        next one tries again.  A signal during a run finishes its page first (exit 4), one
        between runs exits 0."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        while True:
            try:
                code = await once(stop)
            except (LockHeld, BrokerError, ApiError) as e:
                log.error("run not done: %s", e)
                code = exit_codes.FAILED
            if code == exit_codes.INTERRUPTED or stop.is_set():
                return code if code == exit_codes.INTERRUPTED else exit_codes.OK
            log.info("next %s run in %.1f minutes", args.command, minutes)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), minutes * 60)
            if stop.is_set():
                return exit_codes.OK

    try:
        return asyncio.run(once() if every is None else service(every))
    except LockHeld as e:
        print(f"vcdb: {e}", file=sys.stderr)
        return exit_codes.LOCKED
    except (ProducerError, RunStateError) as e:
        raise UsageError(str(e)) from e
    except BrokerError as e:
        print(f"vcdb: {e}", file=sys.stderr)
        return exit_codes.UNAVAILABLE
    except ApiError as e:
        print(f"vcdb: {e}", file=sys.stderr)
        return exit_codes.FAILED


def consume(settings: Settings, args: argparse.Namespace) -> int:
    from consumers.runner import consume
    from consumers.store import InfrastructureError
    from consumers.worker import WorkerOptions, WorkerStopped
    from streams.broker import BrokerError
    from vcdb import workers

    if args.workers > 1 and args.worker is None:
        code, summaries = workers.supervise(sys.argv[1:], args.workers)
        _print_consumed(workers.combine(summaries), args.json)
        return code
    workers.die_with_supervisor()
    options = WorkerOptions(batch_size=args.batch_size, linger_s=args.linger, until_idle=args.until_idle,
                            stall_s=args.stall, max_dead_letters=args.max_dead_letters)
    try:
        result = asyncio.run(consume(settings, args.db, options, tables=args.tables, group_id=args.group,
                                     assign=args.assign, split=args.worker if args.assign else None))
    except WorkerStopped as e:
        print(f"vcdb consume: stopped: {e}", file=sys.stderr)
        return exit_codes.FAILED
    except (InfrastructureError, BrokerError) as e:
        print(f"vcdb consume: {e}", file=sys.stderr)
        return exit_codes.UNAVAILABLE
    _print_consumed(dict(result.__dict__), args.json)
    return exit_codes.OK


def _print_consumed(result: dict[str, object], as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    sealed = result.get("sealed") or []
    print(f"consumed: {result['batches']} batches, {result['loaded']} rows loaded, {result['dead_lettered']} "
          f"dead-lettered, {len(sealed) if isinstance(sealed, list) else 0} tables sealed, {result['read']} records "
          f"read{' (idle)' if result.get('idle') else ''}")


def dlq(settings: Settings, args: argparse.Namespace) -> int:
    from vcdb import dlq_report

    return asyncio.run(dlq_report.run(settings, args))


def verify(settings: Settings, args: argparse.Namespace) -> int:
    from vcdb import reports

    return asyncio.run(reports.verify(settings, args))


def diff(settings: Settings, args: argparse.Namespace) -> int:
    from vcdb import reports

    return asyncio.run(reports.diff(settings, args))


def status(settings: Settings, args: argparse.Namespace) -> int:
    from vcdb import reports

    return asyncio.run(reports.status(settings, args))


def schema(settings: Settings, args: argparse.Namespace) -> int:
    from schemas import generate, validate

    if args.schema_command == "generate":
        changed = generate.generate()
        print("\n".join(f"wrote {p}" for p in changed) or "generated code is up to date")
        return exit_codes.OK
    if args.schema_command == "validate":
        problems = validate.validate(Path(args.ddl_dir) if args.ddl_dir else None)
        if not args.no_db and not args.ddl_dir:
            problems += _drift(settings)
        for p in problems:
            print(f"schema validate: {p}", file=sys.stderr)
        if problems:
            print(f"schema validate: {len(problems)} problem(s)", file=sys.stderr)
            return exit_codes.FAILED
        print("schema validate: ok (naming, keys, FKs, cycles, generated code"
              + (", migration drift)" if not args.no_db else ")"))
        return exit_codes.OK
    if args.schema_command == "plan":
        from schemas.catalog import load_catalog
        from schemas.graph import load_plan

        plan = load_plan(load_catalog(args.db))
        if args.json:
            print_json({"levels": plan.levels, "self_referencing": plan.self_referencing})
        else:
            for i, level in enumerate(plan.levels):
                print(f"level {i}: {', '.join(level)}")
            print(f"self-referencing: {', '.join(plan.self_referencing) or '-'}")
        return exit_codes.OK
    from vcdb import staging

    return asyncio.run(staging.stage(settings, args.db))


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


def simulator(settings: Settings, args: argparse.Namespace) -> int:
    if args.simulator_command == "aces":
        from simulator import fitment_files

        return fitment_files.run(args)
    from simulator import runner

    return runner.run(args)


def raw(settings: Settings, args: argparse.Namespace) -> int:
    from vcdb import raw_backup

    return asyncio.run(raw_backup.run(settings, args))


def demo(settings: Settings, args: argparse.Namespace) -> int:
    from vcdb import demo as demo_mod

    return demo_mod.run(settings, args)


def reset(settings: Settings, args: argparse.Namespace) -> int:
    from vcdb import reset as reset_mod

    if not args.yes:
        raise UsageError(f"reset drops every row, the run state and the topics of {args.db}: add --yes to confirm")
    return asyncio.run(reset_mod.reset(settings, args.db))


def fitment(settings: Settings, args: argparse.Namespace) -> int:
    from vcdb import fitment_report

    return fitment_report.fitment_command(settings, args)


def aces(settings: Settings, args: argparse.Namespace) -> int:
    if args.aces_command == "load":
        from vcdb import fitment_files

        return fitment_files.load(settings, args)
    if args.aces_command == "report":
        from vcdb import fitment_report  # the loader's read side: not imported by `load`

        return fitment_report.report_command(settings, args, "aces")
    raise UsageError(f"aces {args.aces_command}: not a command")


def pies(settings: Settings, args: argparse.Namespace) -> int:
    if args.pies_command == "load":
        from vcdb import fitment_files

        return fitment_files.load(settings, args)
    if args.pies_command == "report":
        from vcdb import fitment_report

        return fitment_report.report_command(settings, args, "pies")
    raise UsageError(f"pies {args.pies_command}: not a command")


HANDLERS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "migrate": migrate, "baseline": produce, "incremental": produce, "consume": consume, "dlq": dlq,
    "verify": verify, "diff": diff, "status": status, "schema": schema, "simulator": simulator, "raw": raw,
    "demo": demo, "reset": reset, "fitment": fitment, "aces": aces, "pies": pies,
}

