"""`vcdb raw export|import`: back up a run's published records as compressed JSON Lines per
table, and re-publish them as a new run (the old playbook's pg_dump of its raw table, for topics).

An export holds, per table, every data record the run put on the topic (key, verbatim value,
headers) and a manifest.  An import publishes them again under a new run of kind `import`,
followed by end-of-table records, so the loader treats it like any other run.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.statuses import EndpointStatus, RunKind, RunStatus
from producers.runs import RunStore
from schemas.catalog import load_catalog
from streams import envelope, topics
from streams.broker import Kafka, Publisher, ensure_topics, read_topic
from streams.records import OutRecord

MANIFEST = "manifest.json"


class RawError(RuntimeError):
    pass


@dataclass(frozen=True)
class RawSummary:
    run_id: int
    tables: dict[str, int]
    path: Path


async def export_run(bootstrap: Kafka, store: RunStore, db: str, run_id: int, out: Path) -> RawSummary:
    run = await store.run(run_id)
    if run is None or run.db != db:
        raise RawError(f"no run {run_id} of {db}")
    catalog = load_catalog(db)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    wanted = str(run_id).encode()
    for name in run.tables:
        table = catalog.tables[name]
        n = 0
        with gzip.open(out / f"{table.canonical}.jsonl.gz", "wt", encoding="utf-8") as f:
            for rec in await read_topic(bootstrap, topics.data_topic(table)):
                headers = envelope.header_map(rec.headers)
                if headers.get(envelope.H_RUN) != wanted or headers.get(envelope.H_KIND) != envelope.KIND_DATA:
                    continue
                f.write(json.dumps({"key": (rec.key or b"").decode(), "value": json.loads(rec.value or b"null"),
                                    "headers": {k: v.decode() for k, v in rec.headers}}) + "\n")
                n += 1
        counts[name] = n
    manifest = {"db": db, "run_id": run_id, "kind": run.kind, "as_of": run.as_of.isoformat() if run.as_of else None,
                "since": run.since.isoformat() if run.since else None, "tables": counts,
                "exported_at": dt.datetime.now(dt.UTC).isoformat()}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return RawSummary(run_id, counts, out)


async def import_run(bootstrap: Kafka, store: RunStore, src: Path, partitions: int = 3) -> RawSummary:
    try:
        manifest: dict[str, Any] = json.loads((src / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise RawError(f"{src} is not a raw export (no readable {MANIFEST}): {e}") from e
    db = manifest["db"]
    catalog = load_catalog(db)
    tables = list(manifest["tables"])
    as_of = dt.date.fromisoformat(manifest["as_of"]) if manifest.get("as_of") else None
    since = dt.date.fromisoformat(manifest["since"]) if manifest.get("since") else None
    run = await store.create_run(db, RunKind.IMPORT, as_of, since, tables)
    ctx = envelope.RunContext(run.run_id, db, as_of, since)
    await ensure_topics(bootstrap, [topics.data_topic(catalog.tables[t]) for t in tables], partitions)
    counts: dict[str, int] = {}
    async with Publisher(bootstrap) as pub:
        for name in tables:
            table = catalog.tables[name]
            topic = topics.data_topic(table)
            path = src / f"{table.canonical}.jsonl.gz"
            if not path.exists():
                raise RawError(f"{path} is missing from the export")
            batch: list[OutRecord] = []
            pages: set[int] = set()
            n = 0
            with gzip.open(path, "rt", encoding="utf-8") as f:
                for line in f:
                    item = json.loads(line)
                    headers = [(k, v.encode()) for k, v in item["headers"].items() if k != envelope.H_RUN]
                    headers.append((envelope.H_RUN, str(run.run_id).encode()))
                    pages.add(int(item["headers"].get(envelope.H_PAGE, "0")))
                    batch.append(OutRecord(topic, item["key"].encode(), envelope.encode_record(item["value"]), headers))
                    n += 1
                    if len(batch) >= 5000:
                        await pub.publish(batch)
                        batch = []
            await pub.publish(batch)
            await store.start_endpoint(run.run_id, name)
            parts = await pub.partitions(topic)
            eot = envelope.EndOfTable(run.run_id, name, n, len(pages), None, len(parts))
            await pub.publish([OutRecord(topic, envelope.EOT_KEY, eot.encode(), envelope.eot_headers(ctx, name), p)
                               for p in parts])
            await store.finish_endpoint(run.run_id, name, EndpointStatus.DONE)
            counts[name] = n
    await store.finish_run(run.run_id, RunStatus.SUCCEEDED)
    return RawSummary(run.run_id, counts, src)
