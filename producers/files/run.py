"""A file run: one ACES or PIES file published as a producer run, table by table, resumable.

The file's entity tables (App; Item and its segment tables) and its file table (AcesFile,
PiesFile) are the run's endpoints, paged by the producer service itself
(producers.service.EndpointRunner: publish, wait for the broker, checkpoint, end-of-table).
`FileSource` is their page source: one pass over the file (producers.files.xml_stream) feeds one bounded
channel per table, and a page of a table is what N consecutive entities (Apps or Items) give it.
Its cursor (`FileCursor`, producers.files.paging) says how many entities precede the next page, so
a resumed run (after a malformed file was corrected, a signal or a SIGKILL) parses the file again
and publishes, per table, only the entities after its checkpoint.  When the XML breaks, every
table publishes the entities that were complete (a last, short page, checkpointed) and the run
fails; nothing after them goes out.
The file record goes last, once every entity table has published its end-of-table records.

Every record of a run carries the run's start (UTC, to the microsecond) as EffectiveDateTime, so a
later file wins the loader's version guard; a delete (App action D in an UPDATE file, PIES
MaintenanceType D) carries it as EndDateTime too: a soft delete.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.errors import RunStateError
from ledger.locks import ProducerLock
from ledger.statuses import EndpointStatus, RunKind, RunStatus
from producers.files import aces, pies
from producers.files.paging import FileCursor
from producers.files.source import PAGE_ENTITIES, FileSource
from producers.files.xml_stream import FileError, FormatRefused, XmlStream, file_digest, peek
from producers.roots import plan_for, run_status
from producers.runs import RunStore
from producers.service import EndpointResult, Progress, run_endpoints
from schemas.catalog import Table, load_catalog
from schemas.settings import Settings
from streams import topics
from streams.broker import Publisher, ensure_topics

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class FileFormat:
    db: str
    root: str
    entity: str
    tables: tuple[str, ...]  # entity tables
    file_table: str

    def check_version(self, file: str, head: Any) -> str:
        check = aces.check_version if self.db == "aces" else pies.check_version
        return check(head, file)

    def reader(self, file: str, version: str, effective: str,
               file_id: str | None = None) -> aces.AcesReader | pies.PiesReader:
        if self.db == "aces":
            return aces.AcesReader(file, version, effective, file_id)
        return pies.PiesReader(file, version, effective, file_id)

    @property
    def all_tables(self) -> tuple[str, ...]:
        return (*self.tables, self.file_table)


FORMATS: dict[str, FileFormat] = {
    "aces": FileFormat("aces", aces.ROOT, aces.ENTITY, (aces.APP_TABLE,), aces.FILE_TABLE),
    "pies": FileFormat("pies", pies.ROOT, pies.ITEM, pies.TABLES, pies.FILE_TABLE),
}


def check_file(db: str, path: Path, name: str) -> str:
    """The version of a file `vcdb <db> load` reads, or FormatRefused (another root, another
    format, another version); ParseError if even its start is not XML."""
    fmt = FORMATS[db]
    head = peek(path, name)
    if head.root != fmt.root:
        other = next((f for f in FORMATS.values() if f.root == head.root), None)
        if other is not None:
            raise FormatRefused(f"{name} is a {other.root} file, not {fmt.root}: load it with vcdb {other.db} load")
        raise FormatRefused(f"{name}: the root element <{head.root}> is neither ACES nor PIES")
    return fmt.check_version(name, head)


@dataclass(frozen=True)
class LoadOptions:
    db: str  # aces | pies
    files: tuple[str, ...]  # paths as given, loaded in this order (a FULL, then UPDATEs)
    resume: bool = False  # the first file continues the last unfinished file run of the db
    page_entities: int = PAGE_ENTITIES
    partitions: int = 3
    replication: int = 1


@dataclass
class FileRunResult:
    file: str
    run_id: int
    status: str  # succeeded | failed | interrupted
    seconds: float
    error: str | None = None
    resumed: bool = False
    entities: int = 0  # Apps or Items read (all of them, the skipped ones of a resume included)
    skipped: dict[str, int] = field(default_factory=dict)  # per table: entities published by an earlier attempt
    parse_seconds: float = 0.0
    file_id: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    endpoints: list[EndpointResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        rate = self.entities / self.seconds if self.seconds > 0 else None
        return {"file": self.file, "run_id": self.run_id, "status": self.status, "error": self.error,
                "resumed": self.resumed, "seconds": round(self.seconds, 3), "entities": self.entities,
                "entities_per_s": round(rate, 1) if rate else None, "file_id": self.file_id,
                "skipped_on_resume": self.skipped, **self.stats,
                "tables": {e.table: {"status": e.status, "pages": e.pages, "records": e.records, "error": e.error}
                           for e in self.endpoints}}


@dataclass
class LoadResult:
    db: str
    files: list[FileRunResult] = field(default_factory=list)
    not_loaded: list[str] = field(default_factory=list)  # after a file that did not succeed

    @property
    def status(self) -> str:
        for f in self.files:
            if f.status != RunStatus.SUCCEEDED:
                return f.status
        return RunStatus.INTERRUPTED if self.not_loaded else RunStatus.SUCCEEDED  # a signal between two files

    def to_json(self) -> dict[str, Any]:
        return {"db": self.db, "status": self.status, "files": [f.to_json() for f in self.files],
                "not_loaded": self.not_loaded}


def effective_time(started_at: dt.datetime) -> str:
    """A run's EffectiveDateTime: its start in UTC, ISO, to the microsecond.  File runs of a
    database start one after the other (the producer lock), so each file's records are newer
    than the last file's, however quickly the files follow each other: the loader's version
    guard then lets an UPDATE's delete and the next FULL's re-add apply in that order."""
    if started_at.tzinfo is not None:
        started_at = started_at.astimezone(dt.UTC)
    return started_at.replace(tzinfo=None).isoformat(timespec="microseconds")


def endpoint_tables(db: str) -> list[Table]:
    """The run's endpoints: the entity tables, then the file table.  The service pages tables by
    their API name; these are not served by the API, so each is paged under its own name."""
    catalog = load_catalog(db)
    return [dataclasses.replace(catalog.table(t), api_table=catalog.table(t).name) for t in FORMATS[db].all_tables]


async def load_files(settings: Settings, options: LoadOptions, *, progress: Progress | None = None,
                     stop: asyncio.Event | None = None, install_signals: bool = True) -> LoadResult:
    """`vcdb aces load` / `vcdb pies load`: every file checked first (a refused one stops all of
    them before anything is published), then one run per file under the db's producer lock, in
    the order given; a file that does not succeed stops the ones after it."""
    fmt = FORMATS[options.db]
    if not options.files:
        raise FormatRefused("no file given")
    versions = [check_file(options.db, Path(name), name) for name in options.files]
    tables = endpoint_tables(options.db)
    lock = ProducerLock(settings.database_url, options.db)
    await lock.acquire()  # raises LockHeld at once
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)
    store: RunStore | None = None
    result = LoadResult(options.db)
    try:
        store = await RunStore.connect(settings.database_url)
        await ensure_topics(settings.kafka, [topics.data_topic(t) for t in tables],
                            options.partitions, options.replication)
        async with Publisher(settings.kafka) as publisher:
            for i, (name, version) in enumerate(zip(options.files, versions, strict=True)):
                if stop.is_set():
                    result.not_loaded = list(options.files[i:])
                    break
                one = await _load_one(store, publisher, fmt, tables, name, version, options,
                                      resume=options.resume and i == 0, stop=stop, progress=progress)
                result.files.append(one)
                if one.status != RunStatus.SUCCEEDED:
                    result.not_loaded = list(options.files[i + 1:])
                    break
        return result
    finally:
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
        if store is not None:
            await store.close()
        await lock.release()


async def _load_one(store: RunStore, publisher: Publisher, fmt: FileFormat, tables: list[Table], name: str,
                    version: str, options: LoadOptions, *, resume: bool, stop: asyncio.Event,
                    progress: Progress | None) -> FileRunResult:
    started = time.monotonic()
    if resume:
        run = await store.resumable_run(fmt.db, RunKind.FILE)
        states = await store.endpoints(run.run_id)
        if set(run.tables) != {t.name for t in tables}:
            raise RunStateError(f"run {run.run_id} of {fmt.db} pulls {', '.join(run.tables)}, not a file's tables")
        before = {c.file for st in states.values() if st.pages_published
                  and isinstance(c := st.cursor, FileCursor)} - {None}
        if before and name not in before:
            log.warning("run %s was a run of %s; resuming it with %s", run.run_id, ", ".join(map(str, before)), name)
    else:
        run = await store.create_run(fmt.db, RunKind.FILE, None, None, [t.name for t in tables])
        states = {}
    effective = effective_time(run.started_at)
    plan = plan_for(run, tables, states)
    try:
        # Item.FileID is the file's digest, wanted on every Item before the end of the parse: a pass
        # over the bytes (no parse; a fraction of the parse's time) says it first.
        file_id = await asyncio.to_thread(file_digest, Path(name), name)
    except FileError as e:
        await store.finish_run(run.run_id, RunStatus.FAILED, str(e))
        raise
    reader = fmt.reader(name, version, effective, file_id)
    source = FileSource(XmlStream(Path(name), name), reader, plan, page_entities=options.page_entities,
                        file_id=file_id)
    log.info("run %s: %s file %s (%s %s)%s", run.run_id, fmt.db, name, fmt.root, version,
             " (resumed)" if resume else "")
    entity_plan = dataclasses.replace(plan, endpoints=[e for e in plan.endpoints if e.table.name != fmt.file_table])
    file_plan = dataclasses.replace(plan, endpoints=[e for e in plan.endpoints if e.table.name == fmt.file_table])
    try:
        results = await run_endpoints(entity_plan, source, publisher, store, concurrency=len(entity_plan.endpoints),
                                      stop=stop, progress=progress)
        entities_ok = all(r.status in (EndpointStatus.DONE, "skipped") for r in results)
        if entities_ok and not stop.is_set():
            # The file record goes last: after the whole file was read and every entity table's
            # end-of-table records are out.
            await source.read_all()
        if entities_ok and not stop.is_set() and source.error is None:
            results += await run_endpoints(file_plan, source, publisher, store, concurrency=1, stop=stop,
                                           progress=progress)
        else:
            results += [EndpointResult(e.table.name, status=EndpointStatus.PENDING) for e in file_plan.endpoints]
    except BaseException as e:
        with contextlib.suppress(Exception):
            await store.finish_run(run.run_id, RunStatus.FAILED, f"{type(e).__name__}: {e}")
        raise
    finally:
        await source.aclose()
    # A stop request outranks the file's own failure: what was read is checkpointed, resumable.
    status, error = run_status(results, failure=None if stop.is_set() else source.error)
    await store.finish_run(run.run_id, status, error)
    stats = {"effective_date_time": effective, **reader.stats.to_json()}
    if status == RunStatus.FAILED:
        log.error("%s: run %s failed: %s", name, run.run_id, error)
    return FileRunResult(name, run.run_id, status, time.monotonic() - started, error, resume, source.entities,
                         source.skipped, source.parse_seconds, source.file_id, stats,
                         sorted(results, key=lambda r: fmt.all_tables.index(r.table)))
