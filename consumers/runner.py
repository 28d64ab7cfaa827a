"""Composition root of a loading worker: store, reader, dead-letter publisher (which also relays
the change outbox), signals."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence

from consumers.publish import Publisher as ReleasePublisher
from consumers.relay import Relay
from consumers.replay import AutoReplayer
from consumers.store import LoadStore
from consumers.worker import Worker, WorkerOptions, WorkerResult
from schemas.catalog import Table, load_catalog
from schemas.settings import Settings
from streams import metrics, topics
from streams.broker import METADATA_WAIT_S, BrokerError, Publisher, Reader, ensure_topics
from streams.topics import group_id_for

log = logging.getLogger(__name__)


def consumed_tables(db: str, names: Sequence[str] = ()) -> list[Table]:
    catalog = load_catalog(db)
    return [catalog.table(n) for n in names] if names else catalog.loaded_tables()


def split_partitions(tps: Sequence[tuple[str, int]], index: int, count: int) -> list[tuple[str, int]]:
    """Worker `index` of `count`'s share of the partitions in a static split: every count-th
    partition in (topic, partition) order, so a table's partitions spread over the workers."""
    if not 0 <= index < count:
        raise ValueError(f"worker {index} of {count}: no such worker")
    return [tp for i, tp in enumerate(sorted(tps)) if i % count == index]


async def consume(settings: Settings, db: str, options: WorkerOptions, *, tables: Sequence[str] = (),
                  group_id: str | None = None, partitions: int = 3, install_signals: bool = True,
                  stop: asyncio.Event | None = None, assign: bool = False,
                  split: tuple[int, int] | None = None) -> WorkerResult:
    """Run a loading worker.  In a consumer group (the default) several workers share the
    partitions; with `assign` the worker takes every partition itself (or, with `split=(i, n)`,
    its share of a static split among n workers) and skips the group join (about 5 s on Tansu).
    Either way the offsets are PostgreSQL's, and the offset fence keeps two workers on one
    partition from applying a batch twice."""
    catalog = load_catalog(db)
    chosen = consumed_tables(db, tables)
    data_topics = [topics.data_topic(t) for t in chosen]
    await ensure_topics(settings.kafka, data_topics, partitions)
    await ensure_topics(settings.kafka, [topics.dlq_topic(t) for t in chosen], 1)
    group = group_id or group_id_for(db)
    store = await LoadStore.connect(settings.database_url, group)
    metrics.READY.set("postgres", True)
    reader = Reader(settings.kafka, None if assign else group, max_records=options.batch_size)
    loop = asyncio.get_running_loop()
    try:
        async with Publisher(settings.kafka) as dlq:
            await reader.start()
            metrics.READY.set("broker", True)
            counts = {t: len(await reader.partitions(t)) for t in data_topics}
            if missing := sorted(t for t, n in counts.items() if not n):
                # ensure_topics made them: a worker that read no partition of them would be idle at once.
                raise BrokerError(f"the broker lists no partitions of {', '.join(missing[:3])}"
                                  f"{' and others' if len(missing) > 3 else ''} {METADATA_WAIT_S:.0f} s after they "
                                  "were ensured: is it still starting, or were they deleted meanwhile?")
            replayer = AutoReplayer(catalog, store)
            releases = ReleasePublisher(store.pool, skip_fk_triggers=store.skip_fk_triggers,
                                        after=replayer.release_published,
                                        relay=Relay(store.pool, settings.kafka, dlq, partitions=partitions)
                                        if settings.change_relay else None)
            worker = Worker(catalog, chosen, store, reader, dlq, options, partitions=counts,
                            replayer=replayer, releases=releases)
            relay = asyncio.ensure_future(_relay(stop, worker.stop)) if stop is not None else None
            lag = asyncio.ensure_future(_watch_lag(reader, worker))
            lag.add_done_callback(_said)
            if install_signals:
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    loop.add_signal_handler(sig, worker.stop.set)
            tps = [(t, p) for t in data_topics for p in range(counts[t])]
            if assign and split is not None:
                tps = split_partitions(tps, *split)
            await worker.check_offsets(tps)  # a broker without the stored offsets stops us here
            if assign:
                reader.assign(tps)
                await worker.assigned(tps)
            else:
                reader.subscribe(data_topics, worker.assigned, worker.revoked)
            try:
                return await worker.run()
            finally:
                lag.cancel()
                if relay is not None:
                    relay.cancel()
    finally:
        for name in ("postgres", "broker", "assigned"):
            metrics.READY.set(name, False)
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
        await reader.stop()
        await store.close()


async def _watch_lag(reader: Reader, worker: Worker, every_s: float = 1.0) -> None:
    """Consumer lag per assigned partition, once a second: the fetch high watermark (Tansu's
    end_offsets can under-report) minus the position after the last record read."""
    while True:
        tps = reader.assignment()
        metrics.READY.set("assigned", bool(tps))
        for tp in tps:
            hw = reader.highwater(tp)
            if hw is not None:
                metrics.LAG.labels(tp[0], str(tp[1])).set(max(hw - worker.next_offset.get(tp, hw), 0))
        await asyncio.sleep(every_s)


def _said(task: asyncio.Future[None]) -> None:
    """The lag gauge is not the load's business, but a gauge that stops must say so, once."""
    if not task.cancelled() and (e := task.exception()) is not None:
        log.error("the consumer-lag metric stopped updating: %s: %s", type(e).__name__, e)


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()
