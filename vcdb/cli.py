"""`vcdb`: the one console command.  A thin shell (alembic's `CommandLine`): parse, set up the
log and the signals, build settings, call the one function the subcommand names with the typed
arguments its signature asks for, and let vcdb/exit_codes.py map what it raises to a message and
an exit code.  Each leaf parser names its function (`_leaf`); the function is imported only when
it runs, so `vcdb --help` and a usage error import none of the layers."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import inspect
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from schemas.catalog import DATABASES, FILE_DATABASES, REFERENCE_DATABASES
from streams.dead_letters import REASONS
from vcdb import exit_codes, logs, signals


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


def _host(text: str) -> str:
    from web.security import split_host  # the explorer's own reading of a Host header

    if split_host(text) is None:
        raise argparse.ArgumentTypeError(f"not a host name, address or name:port: {text!r}")
    return text


def _leaf(sub: Any, name: str, target: str, **kw: Any) -> argparse.ArgumentParser:
    """A subcommand that runs `target` ("module:function", in vcdb/)."""
    sp: argparse.ArgumentParser = sub.add_parser(name, **kw)
    sp.set_defaults(target=target)
    return sp


def _metrics_port(sp: argparse.ArgumentParser, more: str = "") -> None:
    sp.add_argument("--metrics-port", type=int, metavar="PORT",
                    help=f"serve Prometheus /metrics, /healthz and /readyz on this port{more}")


def _json(sp: argparse.ArgumentParser, help: str | None = None) -> None:
    sp.add_argument("--json", dest="as_json", action="store_true", help=help)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vcdb", description="Stream the AutoCare reference databases into PostgreSQL.")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="more log output: -v libraries at INFO, -vv everything at DEBUG")
    p.add_argument("--log-format", choices=logs.FORMATS, default="auto",
                   help="auto: a live view on a terminal, plain lines otherwise; text: plain lines; "
                        "json: one JSON object a line (default auto)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def db_arg(sp: argparse.ArgumentParser, choices: Sequence[str] = DATABASES) -> None:
        sp.add_argument("--db", choices=choices, default="vcdb", help="database (default vcdb)")

    sp = _leaf(sub, "migrate", "vcdb.commands:migrate",
               help="apply the Alembic migrations (canonical schemas and ingest state)")
    sp.add_argument("--revision", default="head")
    sp.add_argument("--down", action="store_true", help="downgrade to --revision (default base) instead")
    sp.add_argument("--roles", action="store_true", help="create the owner, ingest and reader roles, migrate as the "
                    "owner, grant (VCDB_*_ROLE, VCDB_*_PASSWORD[_FILE]); --print: only print the SQL")
    sp.add_argument("--print", dest="print_only", action="store_true", help="with --roles: print the SQL, run nothing")

    for kind in ("baseline", "incremental"):
        sp = _leaf(sub, kind, f"vcdb.commands:{kind}",
                   help=f"run the {kind} producer: page every endpoint into its topic")
        db_arg(sp, REFERENCE_DATABASES)  # ACES and PIES come from files: `vcdb aces load`
        if kind == "baseline":
            sp.add_argument("--as-of", type=_date, help="AsOfDate of the pull (YYYY-MM-DD)")
            sp.add_argument("--in-place", action="store_true", help="load straight into the live tables instead of "
                            "staging the release (readers see it change as it loads)")
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
        _metrics_port(sp)
        _json(sp, "print a JSON summary at the end")

    sp = _leaf(sub, "consume", "vcdb.commands:consume",
               help="run the loading worker (FK-ordered, exactly-once into PostgreSQL)")
    db_arg(sp)
    sp.add_argument("--tables", type=_csv, default=[])
    sp.add_argument("--until-idle", action="store_true", help="exit 0 once every open run is sealed")
    sp.add_argument("--batch-size", type=int, default=5000)
    sp.add_argument("--linger", type=float, default=0.3, help="seconds a partial batch may wait (0.3)")
    sp.add_argument("--max-dead-letters", type=int, help="stop when more records than this are dead-lettered")
    sp.add_argument("--stall", type=float, default=120.0, help="--until-idle: fail after N s without progress")
    sp.add_argument("--resync", action="store_true", help="re-read every topic from its log start (after a rebuilt "
                    "broker or recreated topics; the version guard keeps what is loaded)")
    sp.add_argument("--group", help="consumer group (default vcdb-stream.<db>.loader)")
    sp.add_argument("--assign", action="store_true",
                    help="take every partition without joining the group (one-shot drains; no group join wait)")
    sp.add_argument("--workers", type=_positive, default=os.cpu_count() or 1,
                    help="worker processes (default: the number of cores); with --assign they split the "
                         "partitions statically, else they share them in the consumer group")
    sp.add_argument("--worker", type=_share, help=argparse.SUPPRESS)  # i/N: one worker of --workers N
    _metrics_port(sp, " (with --workers N, worker i serves on PORT + i)")
    _json(sp)

    sp = sub.add_parser("dlq", help="list, show and replay dead letters")
    dsub = sp.add_subparsers(dest="dlq_command", required=True)
    for name in ("list", "show", "replay"):
        d = _leaf(dsub, name, f"vcdb.commands:dlq_{name}")
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
        _json(d)

    sp = _leaf(sub, "releases", "vcdb.commands:releases", help="the releases: published, refused, discarded, waiting")
    sp.add_argument("--db", choices=DATABASES, help="only this database (default all)")
    _json(sp)

    sp = sub.add_parser("release", help="publish or discard a run the automatic rule did not publish")
    rsub = sp.add_subparsers(dest="release_command", required=True)
    for name, what in (("publish", "publish a complete run's staged rows (refused: say why, --force publishes)"),
                       ("discard", "drop a run's staged rows; nothing of it is published")):
        d = _leaf(rsub, name, f"vcdb.commands:release_{name}", help=what)
        d.add_argument("run", type=int, help="the run id (`vcdb releases`, `vcdb status`)")
        if name == "publish":
            d.add_argument("--force", action="store_true",
                           help="publish even when counts are off, orphans were found or tables are not sealed")
        _json(d)

    sp = _leaf(sub, "changes", "vcdb.commands:changes",
               help="what a release changed: rows added, changed (by column) and ended, per table")
    sp.add_argument("--release", type=int, required=True, help="the release id (`vcdb releases`)")
    sp.add_argument("--table", help="only this AutoCare table (e.g. BaseVehicle)")
    sp.add_argument("--reemit", action="store_true",
                    help="send the release's changes to the .changes topics once more (a rebuilt consumer)")
    _json(sp)

    sp = _leaf(sub, "verify", "vcdb.commands:verify",
               help="orphans per FK and loaded counts against the API's totalCount")
    db_arg(sp)
    _json(sp)
    sp.add_argument("--sample", type=int, default=5)

    sp = _leaf(sub, "diff", "vcdb.commands:diff", help="rows added, removed and changed between two runs")
    db_arg(sp)
    sp.add_argument("--from", dest="from_run", type=int, required=True)
    sp.add_argument("--to", dest="to_run", type=int, required=True)
    sp.add_argument("--table", dest="tables", action="append", default=[])
    _json(sp)

    sp = _leaf(sub, "status", "vcdb.commands:status", help="runs, endpoint progress, table load state, consumer lag")
    db_arg(sp)
    _json(sp)

    sp = sub.add_parser("schema", help="generate, validate and stage the schemas")
    ssub = sp.add_subparsers(dest="schema_command", required=True)
    _leaf(ssub, "generate", "vcdb.commands:schema_generate", help="write schemas/generated/ from the DDL")
    v = _leaf(ssub, "validate", "vcdb.commands:schema_validate",
              help="the gate: naming, FKs, cycles, stale generated code, migration drift")
    v.add_argument("--ddl-dir", help="validate DDL files from this folder instead of schemas/ddl")
    v.add_argument("--no-db", action="store_true", help="skip the drift check (alembic check)")
    st = _leaf(ssub, "stage", "vcdb.commands:schema_stage",
               help="load the DDL with AutoCare's exact names into staging_<db>")
    db_arg(st)
    pl = _leaf(ssub, "plan", "vcdb.commands:schema_plan", help="print the FK load order")
    db_arg(pl)
    _json(pl)

    sp = sub.add_parser("simulator", help="the local AutoCare API simulator")
    simsub = sp.add_subparsers(dest="simulator_command", required=True)
    serve = _leaf(simsub, "serve", "vcdb.commands:simulator_serve", help="serve the simulated API over HTTP")
    from simulator.arguments import files_arguments, serve_arguments

    serve_arguments(serve)
    aces = _leaf(simsub, "aces", "vcdb.commands:simulator_aces",
                 help="write ACES 4.2 / PIES 7.2 files of the simulated data and their oracle.json")
    files_arguments(aces)

    sp = sub.add_parser("raw", help="back up and restore the published records of a run")
    rsub = sp.add_subparsers(dest="raw_command", required=True)
    ex = _leaf(rsub, "export", "vcdb.commands:raw_export",
               help="write a run's records as compressed JSON Lines per table")
    db_arg(ex)
    ex.add_argument("--run", type=int, required=True)
    ex.add_argument("--out", required=True)
    im = _leaf(rsub, "import", "vcdb.commands:raw_import", help="re-publish an export as a new run")
    im.add_argument("dir")

    sp = _leaf(sub, "demo", "vcdb.commands:demo",
               help="the whole pipeline on a fresh machine: services, baseline, load, checks")
    sp.add_argument("--scale", type=float, default=0.01)
    sp.add_argument("--seed", type=int, default=42)
    sp.add_argument("--anomalies", type=float, default=None, help="share of anomalous rows (simulator default)")
    sp.add_argument("--workdir", default=".vcdb/demo")
    sp.add_argument("--database", default="vcdb_demo",
                    help="the database (re)created on the PostgreSQL server (default vcdb_demo)")
    sp.add_argument("--keep", action="store_true", help="leave the services running and print how to reach them")
    sp.add_argument("--broker", choices=["tansu", "kafka"], default="tansu",
                    help="tansu: the light broker (memory, starts at once, no Java; default); kafka: Apache Kafka "
                         "(KRaft), the broker production runs, from Maven Central (Java 17+ and Maven)")

    sp = _leaf(sub, "reset", "vcdb.commands:reset", help="drop canonical data, run state and topics of a database")
    db_arg(sp)
    sp.add_argument("--yes", action="store_true", help="required: confirms the reset")

    sp = _leaf(sub, "serve", "vcdb.commands:serve",
               help="the explorer: vehicles, fitment, runs and dead letters in a browser, and a JSON API")
    sp.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    sp.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")
    sp.add_argument("--read-only", action="store_true", help="no replay, whatever VCDB_ADMIN_TOKEN says")
    sp.add_argument("--allowed-host", dest="allowed_hosts", action="append", type=_host, default=[], metavar="H",
                    help="a Host the explorer answers (NAME, any port, or NAME:PORT; repeatable); others get 421. "
                         "Default: the bound address, localhost, 127.0.0.1 and [::1], with the port")

    sp = sub.add_parser("fitment", help="parts for a vehicle, vehicles for a part (autocare_fitment views)")
    fsub = sp.add_subparsers(dest="fitment_command", required=True)
    fp = _leaf(fsub, "parts", "vcdb.commands:fitment_parts", help="parts of live ACES applications that fit a vehicle")
    which = fp.add_mutually_exclusive_group(required=True)
    which.add_argument("--vehicle", type=_positive, help="VCdb VehicleID")
    which.add_argument("--base-vehicle", type=_positive, help="VCdb BaseVehicleID (applications naming it)")
    fp.add_argument("--part-type", type=_positive, help="only this PCdb PartTerminologyID")
    _json(fp)
    fv = _leaf(fsub, "vehicles", "vcdb.commands:fitment_vehicles",
               help="vehicles a part fits, with their configuration")
    fv.add_argument("--part", type=_part_number, required=True, help="part number, as in the ACES file")
    fv.add_argument("--brand", type=_brand, help="brand AAIA id (4 letters)")
    _json(fv)

    # ACES and PIES files: one subparser each; `report` here, `load` beside it.
    for name in FILE_DATABASES:
        sp = sub.add_parser(name, help=f"{name.upper()} files: load them, report on what loaded")
        fsub = sp.add_subparsers(dest=f"{name}_command", required=True)
        rp = _leaf(fsub, "report", f"vcdb.commands:{name}_report",
                   help="dead letters by reason, counts per brand" + (", duplicates, overlaps" if name == "aces"
                                                                      else ", per table"))
        if name == "aces":
            rp.add_argument("--sample", type=_positive, default=10, help="overlap groups shown (10)")
        _json(rp)
        if name == "aces":
            ip = _leaf(fsub, "impact", "vcdb.commands:aces_impact",
                       help="the live applications whose fitted vehicles a VCdb release changed")
            ip.add_argument("--release", type=_positive, required=True, help="release id (`vcdb releases`)")
            ip.add_argument("--brand", type=_brand, help="brand AAIA id (4 letters)")
            _json(ip)
        ld = _leaf(fsub, "load", "vcdb.commands:file_load",
                   help=f"publish {name.upper()} files (gzip too) to their topics, one run per file, "
                        "in the order given")
        ld.set_defaults(db=name)
        ld.add_argument("files", nargs="+", metavar="FILE")
        ld.add_argument("--resume", action="store_true",
                        help="the first FILE continues the last unfinished file run (after its last checkpoint)")
        ld.add_argument("--page-size", type=_positive, default=1000, help="entities per page (1000)")
        ld.add_argument("--partitions", type=int, default=3, help="partitions of topics created (3)")
        ld.add_argument("--replication", type=int, default=1, help="replication of topics created (1)")
        _json(ld, "print a JSON summary at the end")
    return p


# What a command function may ask for besides its options, by parameter name.
_CONTEXT = ("settings", "terminal", "argv", "namespace")


def command_name(args: argparse.Namespace) -> str:
    """`dlq list`, `aces load`, `baseline`: how messages name the command."""
    name = str(args.command)
    sub = getattr(args, f"{name}_command", None)
    return f"{name} {sub}" if sub else name


def call(args: argparse.Namespace, context: dict[str, Any]) -> int:
    """Call the function `args.target` names with the options its signature asks for (by name,
    from the parsed arguments; a parameter with a default may be absent) and the context."""
    module, _, function = str(args.target).partition(":")
    fn = getattr(importlib.import_module(module), function)
    kwargs: dict[str, Any] = {}
    for name, param in inspect.signature(fn).parameters.items():
        if name in _CONTEXT:
            kwargs[name] = context[name]
        elif hasattr(args, name):
            kwargs[name] = getattr(args, name)
        elif param.default is inspect.Parameter.empty:
            raise TypeError(f"{args.target} asks for {name!r}, which `vcdb {command_name(args)}` does not parse")
    code: int = fn(**kwargs)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # bad arguments: argparse says so and exits 2
    terminal = logs.configure(args.verbose, args.log_format)
    previous = signals.install()

    def run() -> int:
        from schemas.settings import Settings

        context = {"settings": Settings(), "terminal": terminal, "namespace": args,
                   "argv": list(sys.argv[1:] if argv is None else argv)}
        return call(args, context)

    try:
        return exit_codes.run_cmd(command_name(args), run)
    finally:  # as it was: main() is also called in-process (tests)
        signals.restore(previous)
        logs.unconfigure(terminal)
