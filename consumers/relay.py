"""Relaying the change outbox to the `.changes` topics: each release exactly once.

The publishing transaction wrote the release's changes into `ingest.changes` (ledger/changes.py);
after its commit the loader sends them, in change order, to `autocare.<db>.<table>.changes`
(streams/changes.py: Debezium's envelope, keyed and partitioned as the table topic), then sets the
release's relayed mark (`ingest.releases.relayed_at`) in the transaction that read them.  Releases
relay oldest first, one relay at a time (an advisory lock: the loader's processes take turns).

Exactly once, whatever stops the loader:
  * between the commit and the relay: the mark is not set, so the next relay (a worker starting,
    any seal, any idle check, `vcdb release publish`) sends the release;
  * during the relay: the mark is not set either, and part of the release is on the broker.  The
    relay reads the last message of every partition it writes: a partition whose last message
    belongs to this release has everything up to that message's change id, because a partition's
    messages go in change order and each chunk is acknowledged before the next is sent.  Those
    changes are skipped, the rest sent;
  * a producer retry inside one relay: the idempotent producer (Apache Kafka) writes it once.
    Tansu has no idempotent producer; there a retried batch can be written twice.

`again` re-emits a release that was relayed (a consumer that was rebuilt): every change once
more, after every release waiting for its first relay has gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ledger import changes, releases
from ledger.pools import SESSION_ERRORS, infrastructure
from ledger.releases import Release
from ledger.statuses import ReleaseStatus
from schemas import naming
from schemas.catalog import load_catalog
from streams import changes as feed
from streams import topics
from streams.broker import Kafka, ensure_topics, last_values
from streams.partitioner import partitions_each
from streams.records import TP, OutRecord

log = logging.getLogger(__name__)

FITMENT = "fitment"  # the db of the fitment impact's changes (ledger/impact.py)


class Producer(Protocol):
    async def publish(self, records: Sequence[OutRecord]) -> None: ...
    async def partitions(self, topic: str) -> list[int]: ...


class RelayBusy(RuntimeError):
    """Another relay holds the lock, or releases wait for their first relay (re-emit refused)."""


@dataclass(frozen=True)
class Relayed:
    release_id: int
    db: str
    sent: int
    skipped: int  # already on the broker: a relay that stopped part-way had sent them
    seconds: float


def _canonical(db: str, table: str) -> str:
    return table if db == FITMENT else load_catalog(db).tables[table].canonical


class Relay:
    def __init__(self, pool: Any, kafka: Kafka, producer: Producer, *, partitions: int = 3,
                 chunk: int = 5000) -> None:
        self.pool = pool
        self.kafka = kafka
        self.producer = producer
        self.partitions = partitions
        self.chunk = chunk

    async def pending(self, db: str | None = None) -> list[Relayed]:
        """Relay every published release (of db) that has no relayed mark, oldest first.  Returns
        at once, relaying nothing, while another process relays."""
        out: list[Relayed] = []
        try:
            waiting = await releases.unrelayed(self.pool, db)
            for release in waiting:
                done = await self._relay(release, again=False)
                if done is None:
                    break
                out.append(done)
        except SESSION_ERRORS as e:
            raise infrastructure("relaying the change outbox", e) from e
        return out

    async def again(self, release_id: int) -> Relayed:
        """Re-emit a release that was relayed: all its changes, once more."""
        try:
            await self.pending()
            release = await releases.release(self.pool, release_id)
            if release is None or release.status != ReleaseStatus.PUBLISHED:
                raise LookupError(f"no published release {release_id}")
            if await releases.unrelayed(self.pool):
                raise RelayBusy("releases still wait for their first relay (another process is relaying them); "
                                "try again once `vcdb releases` shows them relayed")
            done = await self._relay(release, again=True)
        except SESSION_ERRORS as e:
            raise infrastructure(f"re-emitting release {release_id}", e) from e
        if done is None:
            raise RelayBusy("another process is relaying: try again")
        return done

    async def _relay(self, release: Release, *, again: bool) -> Relayed | None:
        started = time.monotonic()
        async with self.pool.acquire() as conn, conn.transaction():
            if not await changes.lock_relay(conn):
                return None
            if not again and await releases.is_relayed(conn, release.release_id):
                return Relayed(release.release_id, release.db, 0, 0, 0.0)
            tables = await changes.tables(conn, release.run_id)
            names = {(db, t): topics.changes_topic(db, _canonical(db, t)) for db, t in tables}
            await ensure_topics(self.kafka, sorted(set(names.values())), self.partitions)
            counts = {topic: len(await self.producer.partitions(topic)) for topic in set(names.values())}
            sent_before = {} if again else await self._sent_before(release.release_id, counts)
            commit_ms = int(release.published_at.timestamp() * 1000)
            prefixes = {}
            for (db, t), topic in names.items():
                source = feed.Source(db, naming.schema_name(db), _canonical(db, t), release.release_id,
                                     release.run_id, commit_ms)
                prefixes[(db, t)] = (topic, counts[topic], source.prefix(False), source.prefix(True))
            sent = skipped = 0
            chunks = changes.rows(conn, release.run_id, self.chunk).__aiter__()
            ahead = asyncio.ensure_future(anext(chunks, None))
            try:
                while (rows := await ahead) is not None:
                    # The next chunk is read while this one is sent (the connection is free meanwhile);
                    # it is sent only once this one is acknowledged, as the resume above needs.
                    ahead = asyncio.ensure_future(anext(chunks, None))
                    out = self._messages(rows, prefixes, sent_before)
                    skipped += len(rows) - len(out)
                    if out:
                        await self.producer.publish(out)
                        sent += len(out)
            finally:
                if not ahead.done():
                    ahead.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await ahead
            if not again:
                await releases.mark_relayed(conn, release.release_id)
        seconds = time.monotonic() - started
        log.info("release %s of %s: %d changes relayed%s in %.2f s", release.release_id, release.db, sent,
                 f" ({skipped} were on the broker already)" if skipped else "", seconds)
        return Relayed(release.release_id, release.db, sent, skipped, seconds)

    @staticmethod
    def _messages(rows: Sequence[Any], prefixes: dict[tuple[str, str], tuple[str, int, bytes, bytes]],
                  sent_before: dict[TP, int]) -> list[OutRecord]:
        """One chunk's messages, those already on the broker left out; the partitions of a chunk's
        keys are hashed in one pass."""
        now_ms = int(time.time() * 1000)
        heads = [prefixes[(r["db"], r["table_name"])] for r in rows]
        keys = [feed.key(r["row_key"]) for r in rows]
        spread = partitions_each(keys, [h[1] for h in heads])
        out: list[OutRecord] = []
        for r, (topic, _, prefix, snapshot), key, partition in zip(rows, heads, keys, spread, strict=True):
            change_id = r["change_id"]
            if sent_before and change_id <= sent_before.get((topic, partition), 0):
                continue
            op = r["op"]
            out.append(OutRecord(topic, key, feed.value(snapshot if op == "r" else prefix, op, r["before"],
                                                        r["after"], change_id, now_ms), [], partition))
        return out

    async def _sent_before(self, release_id: int, counts: dict[str, int]) -> dict[TP, int]:
        """Per partition, the last change of this release already on it (a relay that stopped part-way)."""
        last = await last_values(self.kafka, [(t, p) for t, n in counts.items() for p in range(n)])
        out: dict[TP, int] = {}
        for tp, value in last.items():
            found = feed.change_id(value) if value is not None else None
            if found is not None and found[0] == release_id:
                out[tp] = found[1]
        return out
