"""`make bench`: what issues #9 and #22 ask, as ratios within one run.

1. the load stage (`vcdb consume` from pre-filled topics) against a plain COPY of the same rows into
   the same FK'd tables (bench/loadstage.py): target >= 2.0 x COPY's rows/s;
2. the producer alone (`vcdb baseline`, on the first broker of `--broker`) against a bare httpx
   client downloading the same pages (bench/ceiling.py): target >= 0.5 x the bare records/s;
3. issue #22's baseline, at simulator scale `--scale` (1.0 is the target's): a whole baseline
   (simulator -> producer -> broker -> `vcdb consume --workers N` -> PostgreSQL) on Apache Kafka and
   on Tansu (`--broker`), then dlt loading the same API into the same PostgreSQL server
   (bench/dlt_load.py, in a venv of its own), one after the other.  Targets: our wall <= 1/3 of
   dlt's on Apache Kafka; <= 3 x the bare download's wall of (2) (moonshot 2 x); the consumer's
   CPU <= 8 us per record loaded.  The CPU of every process is printed, PostgreSQL's included;
4. records read per record loaded (<= 1.05) and the worker's peak RSS (<= 500 MB at scale 1.0),
   from each whole baseline;
5. issue #12: the load stage again as the ingest role (FK triggers on), against (1)'s load stage;
6. issues #10 and #22: a generated FULL ACES file of `--aces-apps` applications (200k) end to end,
   load and consume together until published (>= 25k apps/s), and the file producer's apps/s
   against a bare lxml iterparse of the same file (>= 0.3 x); then a file of `--aces-large-apps`
   (1 M): its apps/s and the peak RSS of every process (<= 300 MB); the fitment look-ups' p95
   (<= 10 ms) on the larger (bench/fitment.py);
7. issues #11 and #21: the explorer served at scale 1.0 with 200k ACES applications, a PIES file and
   13k dead letters, many sequential requests: the drill-down's, the grid's, search's and the
   typeahead's p95 (<= 10 ms), the vehicle page's (<= 50 ms), the vehicle page with its parts'
   (<= 25 ms), the dead-letter page's at its last page (<= 50 ms) (bench/explorer.py);
8. issue #18: the short commands' start-up (`vcdb --help`, `status`, `fitment parts`, `dlq list`):
   wall time (<= 0.3 s) and `python -X importtime` totals, each as a ratio to `python -c pass`
   (bench/startup.py).
Prints each figure, then one block of every target with its figure and whether it is met;
`--json` for machines (the same, with the targets as a list).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import baseline, explorer, fitment, loadstage, report, startup
from bench.dlt_env import DltUnavailable
from bench.procs import ProcessFailed
from bench.stack import BROKERS, Bench, consume_has_workers, postmaster_pid
from vcdb import services

WORKDIR = Path(".vcdb/bench")
# `--only NAME`: the size argument of each group of phases, set to 0 for every group but NAME's.
ONLY = {"rows": "load", "scale": "baseline", "aces_apps": "fitment", "aces_large_apps": "fitment",
        "explorer_scale": "explorer", "release_scale": "releases"}
ONLY_FLAGS = {"skip_startup": "startup"}  # --only NAME: these are set for every group but NAME


async def main(args: argparse.Namespace) -> dict[str, Any]:
    admin = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    pg = None
    if not await services.postgres_answers(admin):
        pg = services.start_embedded_postgres(WORKDIR)
        admin = pg.url
    try:
        bench = Bench(admin, WORKDIR, args.workers, args.timeout, await postmaster_pid(admin))
        brokers = list(BROKERS) if args.broker == "both" else [args.broker]
        results: dict[str, Any] = {"rows": args.rows, "scale": args.scale, "workers": args.workers,
                                   "brokers": brokers, "postgres_pid": bench.postgres_pid,
                                   "aces_apps": args.aces_apps, "aces_large_apps": args.aces_large_apps,
                                   "aces_scale": args.aces_scale,
                                   "explorer_scale": args.explorer_scale, "release_scale": args.release_scale,
                                   "workers_flag": consume_has_workers(), "skipped": {}, "failed": {}}
        # (name, where its result goes in `results`, the phase); a failed phase is named in "failed"
        phases: list[tuple[str, tuple[str, ...], Callable[[], Awaitable[dict[str, Any]]]]] = []

        def add(name: str, phase: Callable[[], Awaitable[dict[str, Any]]], *where: str) -> None:
            phases.append((name, where or (name,), phase))

        if not args.skip_startup:
            add("startup", lambda: startup.startup_phase(bench))
        if args.rows > 0:
            add("copy", lambda: loadstage.copy_phase(bench, args.rows))
            add("load_stage", lambda: loadstage.load_stage_phase(bench, args.rows, args.batch_size))
            add("load_stage_ingest", lambda: loadstage.load_stage_ingest_phase(bench, args.rows, args.batch_size))
        if args.scale > 0:
            add("ceiling", lambda: baseline.ceiling_phase(bench, args.scale))
            add("producer", lambda: baseline.producer_phase(bench, args.scale, brokers[0]))
            for broker in brokers:
                add(f"baseline ({broker})", functools.partial(baseline.baseline_phase, bench, args.scale, broker),
                    "baseline", broker)
            if args.skip_dlt:
                results["skipped"]["dlt"] = "--skip-dlt"
            else:
                add("dlt", lambda: baseline.dlt_phase(bench, args.scale))
        if args.release_scale > 0:
            add("releases", lambda: baseline.releases_phase(bench, args.release_scale))
        if args.aces_apps > 0 or args.aces_large_apps > 0:
            add("fitment", lambda: fitment.fitment_phase(bench, args.aces_scale, args.aces_apps, args.aces_large_apps))
        if args.explorer_scale > 0:
            add("explorer", lambda: explorer.explorer_phase(
                bench, args.explorer_scale, args.explorer_requests, apps=args.explorer_apps,
                dead=args.explorer_dead_letters))
        for name, where, phase in phases:
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            try:
                got = await phase()
            except (ProcessFailed, services.ServiceError, DltUnavailable, explorer.ExplorerFailed, OSError) as e:
                results["failed"][name] = str(e)  # the other phases still say something
                continue
            parent = results
            for key in where[:-1]:
                parent = parent.setdefault(key, {})
            parent[where[-1]] = got
        return results
    finally:
        if pg is not None:
            pg.stop()


def run() -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=200_000, help="rows of the load stage and its COPY (0: skip)")
    p.add_argument("--batch-size", type=int, default=5000)
    p.add_argument("--scale", type=float, default=1.0,
                   help="simulator scale of the bare download, producer, whole-baseline and dlt phases (0: skip "
                        "them; the targets are at 1.0)")
    p.add_argument("--broker", choices=[*BROKERS, "both"], default="both",
                   help="the broker(s) of the whole baseline (both: Apache Kafka, then Tansu); the producer phase "
                        "runs on the first")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="vcdb consume --workers (CPU count)")
    p.add_argument("--skip-dlt", action="store_true", help="no dlt comparison (nor its venv)")
    p.add_argument("--release-scale", type=float, default=1.0,
                   help="simulator scale of the releases phase: a first baseline, then the same over it staged and "
                        "--in-place (0: skip it)")
    p.add_argument("--aces-apps", type=int, default=fitment.TARGET_APPS,
                   help="applications of the ACES file the end-to-end and producer targets are set at (0: skip)")
    p.add_argument("--aces-large-apps", type=int, default=fitment.LARGE_APPS,
                   help="applications of the larger ACES file: apps/s and peak RSS per process (0: skip)")
    p.add_argument("--aces-scale", type=float, default=1.0, help="simulator scale of the ACES phase's reference data")
    p.add_argument("--explorer-scale", type=float, default=1.0,
                   help="simulator scale of the explorer phase's VCdb (0: skip it)")
    p.add_argument("--explorer-apps", type=int, default=explorer.APPS,
                   help="valid applications of the explorer phase's ACES file (0: VCdb only, no parts)")
    p.add_argument("--explorer-dead-letters", type=int, default=explorer.DEAD_LETTERS,
                   help="faulty applications among them, dead-lettered by the loader")
    p.add_argument("--explorer-requests", type=int, default=explorer.REQUESTS,
                   help="sequential requests per kind of the explorer phase")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds a phase may take before it is stopped")
    p.add_argument("--skip-startup", action="store_true", help="no start-up figures of the short commands")
    p.add_argument("--json", action="store_true")
    p.add_argument("--only", choices=sorted({*ONLY.values(), *ONLY_FLAGS.values()}),
                   help="run this group of phases alone (load: 1 and 5; baseline: 2-4; releases; fitment: 6; explorer; "
                        "startup)")
    args = p.parse_args()
    if args.only:
        for flag, phase in ONLY.items():
            if phase != args.only:
                setattr(args, flag, 0)
        for flag, phase in ONLY_FLAGS.items():
            setattr(args, flag, phase != args.only)
    # Tansu refuses InitProducerId; streams.broker says so once, in its own words (as the CLI does).
    logging.getLogger("aiokafka.producer.sender").setLevel(logging.CRITICAL)
    results = asyncio.run(main(args))
    if args.json:
        print(json.dumps(report.as_json(results), indent=2, default=str))
    else:
        print("\n".join(report.lines(results)))
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(run())
