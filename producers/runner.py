"""Composition root of a producer run: lock, run state, topics, publisher, API client, signals.

`vcdb baseline` and `vcdb incremental` call `produce()`; tests call it too, with the real
services.  A stop request (`stop`, or SIGTERM/SIGINT/SIGHUP when it installs the handlers)
finishes the page in flight, checkpoints, and ends the run `interrupted`.  An error that dooms
the run ends it `failed` with that one error, recorded and returned as `RunResult.cause`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import signal
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ledger.locks import ProducerLock
from ledger.statuses import RunKind, RunStatus
from producers.roots import plan_for, run_status
from producers.runs import RunStore
from producers.service import (
    EndpointResult,
    PageSource,
    ProducerError,
    Progress,
    RunDoomed,
    run_endpoints,
    select_tables,
)
from schemas.catalog import load_catalog
from schemas.settings import Settings
from streams import metrics, topics
from streams.broker import Publisher, ensure_topics

log = logging.getLogger(__name__)

DEFAULT_LOOKBACK_DAYS = 7
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


@dataclass(frozen=True)
class ProduceOptions:
    db: str = "vcdb"
    kind: str = RunKind.BASELINE  # baseline | incremental
    as_of: dt.date | None = None
    since: dt.date | str | None = None  # a date, or "auto"
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    tables: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    resume: bool = False
    concurrency: int = 4
    partitions: int = 3
    replication: int = 1
    in_place: bool = False  # load straight into the canonical tables (readers see the run as it loads)


@dataclass
class RunResult:
    run_id: int
    db: str
    kind: str
    status: str  # succeeded | failed | interrupted
    as_of: str | None
    since: str | None
    seconds: float
    endpoints: list[EndpointResult] = field(default_factory=list)
    error: str | None = None
    cause: BaseException | None = field(default=None, repr=False, compare=False)  # what doomed the run

    @property
    def pages(self) -> int:
        return sum(e.pages for e in self.endpoints)

    @property
    def records(self) -> int:
        return sum(e.records for e in self.endpoints)

    def to_json(self) -> dict[str, Any]:
        cause, self.cause = self.cause, None  # asdict would deep-copy the exception
        try:
            out = asdict(self)
        finally:
            self.cause = cause
        del out["cause"]
        out["pages"], out["records"] = self.pages, self.records
        return out


async def resolve_since(store: RunStore, db: str, since: dt.date | str | None, lookback_days: int) -> dt.date:
    if isinstance(since, dt.date):
        return since
    if since != "auto":
        raise ProducerError("incremental runs need --since DATE or --since auto")
    last = await store.last_successful(db)
    if last is None:
        raise ProducerError(f"--since auto: no successful run of {db} yet; run a baseline first")
    return (last.started_at - dt.timedelta(days=lookback_days)).date()


async def produce(settings: Settings, options: ProduceOptions, source: PageSource, *,
                  progress: Progress | None = None, stop: asyncio.Event | None = None,
                  install_signals: bool = True) -> RunResult:
    catalog = load_catalog(options.db)
    chosen = select_tables(catalog, options.tables, options.skip)
    # What is imported and built by now lives as long as the process: out of the collector's
    # sight, its full passes (every page makes thousands of objects) no longer walk all of it.
    gc.freeze()
    lock = ProducerLock(settings.database_url, options.db)
    await lock.acquire()  # raises LockHeld at once
    metrics.PRODUCER_LOCK.labels(options.db).set(1)
    try:
        store = await RunStore.connect(settings.database_url)
    except BaseException:
        metrics.PRODUCER_LOCK.labels(options.db).set(0)
        await lock.release()
        raise
    metrics.READY.set("postgres", True)
    stop = stop or asyncio.Event()
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    if install_signals:
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, stop.set)
    try:
        if options.resume:
            run = await store.resumable_run(options.db, options.kind)
            states = await store.endpoints(run.run_id)
            as_of, since = run.as_of, run.since
            chosen = [catalog.table(t) for t in run.tables]
        else:
            as_of = options.as_of if options.kind == RunKind.BASELINE else None
            since = await resolve_since(store, options.db, options.since, options.lookback_days) \
                if options.kind == RunKind.INCREMENTAL else None
            run = await store.create_run(options.db, options.kind, as_of, since, [t.name for t in chosen],
                                         in_place=options.in_place)
            states = {}
        plan = plan_for(run, chosen, states)
        await ensure_topics(settings.kafka, [topics.data_topic(t) for t in chosen],
                            options.partitions, options.replication)
        log.info("run %s: %s of %s, %d endpoints%s", run.run_id, options.kind, options.db, len(chosen),
                 " (resumed)" if options.resume else "")
        try:
            async with Publisher(settings.kafka) as publisher:
                metrics.READY.set("broker", True)
                results = await run_endpoints(plan, source, publisher, store, concurrency=options.concurrency,
                                              stop=stop, progress=progress)
        except RunDoomed as doomed:  # said once, by whoever reads the result
            with contextlib.suppress(Exception):  # PostgreSQL may be what is gone
                await store.finish_run(run.run_id, RunStatus.FAILED, str(doomed))
            return RunResult(run.run_id, options.db, options.kind, RunStatus.FAILED,
                             as_of.isoformat() if as_of else None, since.isoformat() if since else None,
                             time.monotonic() - started, doomed.results, str(doomed), doomed.cause)
        status, error = run_status(results)
        await store.finish_run(run.run_id, status, error)
        return RunResult(run.run_id, options.db, options.kind, status, as_of.isoformat() if as_of else None,
                         since.isoformat() if since else None, time.monotonic() - started, results, error)
    except BaseException as e:
        metrics.READY.set("postgres", False)  # until the next run connects again (`--every`)
        metrics.READY.set("broker", False)
        with contextlib.suppress(Exception):
            if "run" in locals():
                await store.finish_run(run.run_id, RunStatus.FAILED, f"{type(e).__name__}: {e}")
        raise
    finally:
        if install_signals:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)
        await store.close()
        await lock.release()
        metrics.PRODUCER_LOCK.labels(options.db).set(0)
