"""`vcdb aces load FILE...` and `vcdb pies load FILE...`: one producer run per file (producers.files.run)
and a summary; what stops them is raised, for the CLI's exit-code table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas.settings import Settings
from vcdb import exit_codes, live, signals
from vcdb.console import print_json
from vcdb.logs import Terminal


def load(settings: Settings, terminal: Terminal, *, db: str, files: Sequence[str], resume: bool = False,
         page_size: int = 1000, partitions: int = 3, replication: int = 1, as_json: bool = False) -> int:
    from producers.files.run import LoadOptions, LoadResult, load_files

    options = LoadOptions(db=db, files=tuple(files), resume=resume, page_entities=page_size, partitions=partitions,
                          replication=replication)

    async def run(stop: signals.Stop) -> LoadResult:
        with live.view(terminal, f"{db} load", database_url=settings.database_url, db=db) as progress:
            return await load_files(settings, options, progress=progress, stop=stop.event, install_signals=False)

    result = signals.run(run)
    if as_json:
        print_json(result.to_json())
    else:
        for f in result.files:
            print(_line(db, f.to_json()))
        for name in result.not_loaded:
            print(f"{name}: not loaded (an earlier file did not succeed)")
    return exit_codes.for_run(result.status)


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
