"""`vcdb aces load FILE...` and `vcdb pies load FILE...`: one producer run per file (producers.files),
a summary, and our errors mapped to exit codes."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from schemas.settings import Settings
from vcdb import exit_codes
from vcdb.console import UsageError, print_json


def load(settings: Settings, args: argparse.Namespace) -> int:
    from producers.files import LoadOptions, LoadResult, load_files
    from producers.progress import TerminalProgress
    from producers.runs import LockHeld, RunStateError
    from producers.xml_stream import FileUnreadable, FormatRefused, ParseError
    from streams.broker import BrokerError

    options = LoadOptions(db=args.command, files=tuple(args.files), resume=args.resume,
                          page_entities=args.page_size, partitions=args.partitions, replication=args.replication)

    async def run() -> LoadResult:
        progress = TerminalProgress(sys.stderr)
        try:
            return await load_files(settings, options, progress=progress)
        finally:
            progress.close()

    try:
        result = asyncio.run(run())
    except (FormatRefused, FileUnreadable, RunStateError) as e:
        raise UsageError(str(e)) from e
    except ParseError as e:  # the start of a file is not XML: nothing was published
        print(f"vcdb {args.command} load: {e}", file=sys.stderr)
        return exit_codes.FAILED
    except LockHeld as e:
        print(f"vcdb: {e}", file=sys.stderr)
        return exit_codes.LOCKED
    except (BrokerError, OSError) as e:  # OSError: PostgreSQL cannot be reached
        print(f"vcdb {args.command} load: {e}", file=sys.stderr)
        return exit_codes.UNAVAILABLE
    if args.json:
        print_json(result.to_json())
    else:
        for f in result.files:
            print(_line(args.command, f.to_json()))
        for name in result.not_loaded:
            print(f"{name}: not loaded (an earlier file did not succeed)")
    return {"succeeded": exit_codes.OK, "interrupted": exit_codes.INTERRUPTED}.get(result.status, exit_codes.FAILED)


def _line(db: str, f: dict[str, Any]) -> str:
    entity = "apps" if db == "aces" else "items"
    out = [f"run {f['run_id']} ({db} file {f['file']}, {db.upper()} {f.get('version')} {f.get('submission_type')}): "
           f"{f['status']}, {f['entities']} {entity} in {f['seconds']:.1f} s"]
    out.append("  " + ", ".join(f"{t} {v['records']} records ({v['status']})" for t, v in f["tables"].items()))
    if f["error"]:
        out.append(f"  {f['error']}")
    if any(f["skipped_on_resume"].values()):
        out.append("  resumed: " + ", ".join(f"{t} after {n}" for t, n in f["skipped_on_resume"].items()))
    if f.get("skipped_deletes"):
        out.append(f"  {f['skipped_deletes']} delete(s) in a FULL file not applied (App ids "
                   f"{', '.join(map(str, f['skipped_delete_ids'][:20]))})")
    if f.get("footer_mismatch") or f.get("trailer_mismatch"):
        said = f.get("footer_record_count") or f.get("trailer_item_count")
        out.append(f"  the file's own count says {said}, it has {f['entities']} {entity}")
    if f.get("unvalidated_equipment_apps"):
        out.append(f"  {f['unvalidated_equipment_apps']} equipment apps (EquipmentBase, Mfr + EquipmentModel): "
                   "unvalidated")
    if f.get("unknown_elements"):
        out.append("  unknown elements: " + ", ".join(f"{k} ({n})" for k, n in f["unknown_elements"].items()))
    return "\n".join(out)
