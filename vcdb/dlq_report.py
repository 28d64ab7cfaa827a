"""`vcdb dlq list|show|replay`."""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import asdict

from consumers.replay import replay
from consumers.runner import group_id_for
from consumers.store import DeadLetterFilter, DeadLetterStore, LoadStore
from schemas.catalog import load_catalog
from schemas.settings import Settings
from vcdb import exit_codes
from vcdb.console import UsageError, print_json


def _filter(args: argparse.Namespace) -> DeadLetterFilter:
    table = None
    if args.table:
        try:
            table = load_catalog(args.db).table(args.table).name
        except KeyError as e:
            raise UsageError(str(e.args[0])) from e
    since = dt.datetime.combine(args.since, dt.time(), tzinfo=dt.UTC) if args.since else None
    status = None if getattr(args, "all", False) else "open"
    return DeadLetterFilter(args.db, table, args.reason, args.run, since, status, limit=args.limit)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    loader = await LoadStore.connect(settings.database_url, group_id_for(args.db), size=2)
    try:
        store = DeadLetterStore(loader.pool)
        if args.dlq_command == "show":
            rows = await store.select(DeadLetterFilter(args.db, status=None, ids=(args.id,)))
            if not rows:
                print(f"no dead letter {args.id} in {args.db}")
                return exit_codes.FAILED
            row = asdict(rows[0])
            if args.json:
                print_json(row)
            else:
                for k, v in row.items():
                    if k not in ("headers", "record"):
                        print(f"{k:>16}: {v}")
                print(f"{'record':>16}: {row['record']}")
                print(f"{'headers':>16}:")
                for k, v in row["headers"].items():
                    print(f"{'':>18}{k} = {v}")
            return exit_codes.OK
        f = _filter(args)
        if args.dlq_command == "list":
            counts = await store.counts(f)
            rows = await store.select(f)
            if args.json:
                print_json({"counts": counts, "dead_letters": [
                    {k: v for k, v in asdict(r).items() if k != "headers"} for r in rows]})
                return exit_codes.OK
            print(f"dead letters of {args.db}: {sum(c['n'] for c in counts)}")
            for c in counts:
                print(f"  {c['table_name']:<28} {c['reason']:<15} {c['status']:<9} {c['n']:>6} "
                      f"(max attempts {c['max_attempts']})")
            for r in rows[: args.limit or 20]:
                print(f"  #{r.dead_letter_id} {r.table_name} key {r.record_key} run {r.run_id}: {r.message}")
            return exit_codes.OK
        report = await replay(load_catalog(args.db), loader, f, dry_run=args.dry_run)
        if args.json:
            print_json(asdict(report))
        elif args.dry_run:
            print(f"dry run: {report.selected} dead letters would be replayed (nothing changed)")
            for p in report.plan:
                print(f"  #{p['id']} {p['table']} key {p['key']} ({p['reason']}, attempts {p['attempts']})")
        else:
            print(f"replayed {report.selected}: {len(report.loaded)} loaded and resolved, "
                  f"{len(report.failed)} still failing")
            for i, reason, message in report.failed[:20]:
                print(f"  #{i} {reason}: {message}")
        return exit_codes.OK
    finally:
        await loader.close()
