"""`vcdb raw export|import`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from producers.raw import RawError, export_run, import_run
from producers.runs import RunStore
from schemas.settings import Settings
from vcdb import exit_codes


async def run(settings: Settings, args: argparse.Namespace) -> int:
    store = await RunStore.connect(settings.database_url)
    try:
        if args.raw_command == "export":
            summary = await export_run(settings.kafka, store, args.db, args.run, Path(args.out))
            print(f"exported run {summary.run_id}: {sum(summary.tables.values())} records of "
                  f"{len(summary.tables)} tables to {summary.path}")
        else:
            summary = await import_run(settings.kafka, store, Path(args.dir))
            print(f"imported {summary.path} as run {summary.run_id}: {sum(summary.tables.values())} records")
        return exit_codes.OK
    except RawError as e:
        print(f"vcdb raw: {e}", file=sys.stderr)
        return exit_codes.FAILED
    finally:
        await store.close()
