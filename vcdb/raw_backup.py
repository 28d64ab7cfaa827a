"""`vcdb raw export|import`."""

from __future__ import annotations

from pathlib import Path

from producers.raw import export_run, import_run
from producers.runs import RunStore
from schemas.settings import Settings
from vcdb import exit_codes


async def export(settings: Settings, db: str, run_id: int, out: Path) -> int:
    store = await RunStore.connect(settings.database_url)
    try:
        summary = await export_run(settings.kafka, store, db, run_id, out)
    finally:
        await store.close()
    print(f"exported run {summary.run_id}: {sum(summary.tables.values())} records of "
          f"{len(summary.tables)} tables to {summary.path}")
    return exit_codes.OK


async def import_(settings: Settings, folder: Path) -> int:
    store = await RunStore.connect(settings.database_url)
    try:
        summary = await import_run(settings.kafka, store, folder)
    finally:
        await store.close()
    print(f"imported {summary.path} as run {summary.run_id}: {sum(summary.tables.values())} records")
    return exit_codes.OK
