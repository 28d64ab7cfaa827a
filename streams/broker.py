"""The Kafka adapter: the one module that imports aiokafka.

It converts aiokafka's objects into our small value types (`OutRecord`, `InRecord`) and its
errors into `BrokerError`, so producers and consumers never see aiokafka.  Producers are
`acks=all`; idempotence is used where the broker supports it.  Two workarounds exist for Tansu,
the demo's broker on machines without Java, and both are tested on both brokers
(tests/integration/test_broker_contract.py): Tansu fails InitProducerId, so `Publisher.start`
falls back to a plain producer and says so in the log; Tansu's ListOffsets can under-report, so
`high_watermarks` reads the watermark a fetch returns.  Apache Kafka needs neither.

`Publisher` fills aiokafka's record batches itself (`create_batch`/`send_batch`), one per
partition per call, keyed records placed by `streams.partitioner` (Kafka's own murmur2): per
record that is the partitioner and one append, where `send()` paid for a future, a metadata
lookup and aiokafka's pure-Python murmur2 (measured in `bench/producer_send.py`).

Where the broker is and how to authenticate to it (`Settings.kafka`: TLS, SASL PLAIN or SCRAM)
reaches the producer, the consumer and the admin client through one function, `client_options`;
a bare bootstrap string is PLAINTEXT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from itertools import compress
from operator import attrgetter
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, UnknownTopicOrPartitionError
from aiokafka.helpers import create_ssl_context

from schemas.settings import KafkaConnection
from streams.partitioner import partitions_of
from streams.records import TP, InRecord, OutRecord

log = logging.getLogger(__name__)


METADATA_WAIT_S = 10.0  # how long a topic just created may take to reach the metadata (Reader.partitions)


class BrokerError(RuntimeError):
    """The broker failed us (unreachable, refused a write, timed out): always transient."""


# Where the broker is: a bootstrap string (PLAINTEXT) or a connection with its security settings.
Kafka = str | KafkaConnection


def connection(kafka: Kafka) -> KafkaConnection:
    return kafka if isinstance(kafka, KafkaConnection) else KafkaConnection(kafka)


def client_options(kafka: Kafka) -> dict[str, Any]:
    """aiokafka's connection options, the same for the producer, the consumer and the admin
    client.  The password leaves its SecretStr here, into aiokafka, and nowhere else."""
    conn = connection(kafka)
    options: dict[str, Any] = {"bootstrap_servers": conn.bootstrap}
    if conn.security_protocol == "PLAINTEXT":
        return options
    options["security_protocol"] = conn.security_protocol
    if conn.security_protocol in ("SSL", "SASL_SSL"):
        # aiokafka requires a context for TLS; without a CA file, the system's trust store.
        try:
            options["ssl_context"] = create_ssl_context(cafile=conn.ssl_cafile)
        except (OSError, ValueError) as e:  # ssl.SSLError is an OSError
            raise BrokerError(f"cannot use KAFKA_SSL_CAFILE={conn.ssl_cafile}: {type(e).__name__}") from None
    if conn.security_protocol.startswith("SASL_"):
        options["sasl_mechanism"] = conn.sasl_mechanism or "PLAIN"
        options["sasl_plain_username"] = conn.sasl_username
        options["sasl_plain_password"] = conn.sasl_password.get_secret_value() if conn.sasl_password else None
    return options

_TOPIC, _KEY, _PARTITION = attrgetter("topic"), attrgetter("key"), attrgetter("partition")


async def ensure_topics(kafka: Kafka, topics: Iterable[str], partitions: int, replication: int = 1) -> None:
    """Create the topics that are missing; existing topics keep their partition count."""
    bootstrap = connection(kafka).bootstrap
    admin = AIOKafkaAdminClient(**client_options(kafka))
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, partitions, replication) for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another producer created it between our list and create
    except KafkaError as e:
        raise BrokerError(f"cannot create topics on {bootstrap}: {e}") from e
    finally:
        await admin.close()


async def delete_topics(kafka: Kafka, topics: Iterable[str], wait_s: float = 30.0) -> None:
    """Delete the topics and return once the broker no longer lists them (a topic of the same
    name created before then could land in the deleted one's metadata)."""
    names = sorted(set(topics))
    if not names:
        return
    bootstrap = connection(kafka).bootstrap
    admin = AIOKafkaAdminClient(**client_options(kafka))
    try:
        await admin.start()
        with contextlib.suppress(UnknownTopicOrPartitionError):  # already gone: what we wanted
            await admin.delete_topics(names, timeout_ms=int(wait_s * 1000))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while set(names) & set(await admin.list_topics()):
            if loop.time() > deadline:
                raise BrokerError(f"topics still listed on {bootstrap} {wait_s:.0f} s after their deletion")
            await asyncio.sleep(0.05)
    except KafkaError as e:
        raise BrokerError(f"cannot delete topics on {bootstrap}: {e}") from e
    finally:
        await admin.close()


async def list_topics(kafka: Kafka) -> list[str]:
    bootstrap = connection(kafka).bootstrap
    admin = AIOKafkaAdminClient(**client_options(kafka))
    try:
        await admin.start()
        return sorted(await admin.list_topics())
    except KafkaError as e:
        raise BrokerError(f"cannot list topics on {bootstrap}: {e}") from e
    finally:
        await admin.close()


class Publisher:
    """Publishes batches and returns only once the broker acknowledged every record."""

    def __init__(self, kafka: Kafka, *, idempotent: bool | None = None, linger_ms: int = 10) -> None:
        self._options = client_options(kafka)
        self._bootstrap = connection(kafka).bootstrap
        self._idempotent = idempotent
        self._linger_ms = linger_ms
        self._producer: AIOKafkaProducer | None = None
        self.idempotent_in_use = False

    def _make(self, idempotent: bool) -> AIOKafkaProducer:
        return AIOKafkaProducer(**self._options, acks="all", enable_idempotence=idempotent,
                                linger_ms=self._linger_ms, max_batch_size=1 << 20, request_timeout_ms=30000)

    async def start(self) -> None:
        # Tansu workaround: asked for (not demanded) and refused, idempotence falls back to acks=all alone.
        if self._idempotent is not False:
            producer = self._make(True)
            try:
                await producer.start()
                self._producer, self.idempotent_in_use = producer, True
                return
            except KafkaError as e:
                await producer.stop()
                if self._idempotent:
                    raise BrokerError(f"idempotent producer refused by {self._bootstrap}: {e}") from e
                log.warning("broker %s does not support the idempotent producer (%s); using acks=all without it",
                            self._bootstrap, e)
        producer = self._make(False)
        try:
            await producer.start()
        except KafkaError as e:
            await producer.stop()
            raise BrokerError(f"cannot connect to Kafka at {self._bootstrap}: {e}") from e
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def __aenter__(self) -> Publisher:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def publish(self, records: Sequence[OutRecord]) -> None:
        """Publish ``records`` and return once the broker acknowledged every one of them.

        Each partition's records keep their order: they go in batches appended in sequence, and
        aiokafka queues a partition's batches behind each other.
        """
        producer = self._producer
        assert producer is not None, "Publisher not started"
        acks: list[asyncio.Future[object]] = []
        failed: BaseException | None = None
        try:
            for (topic, partition), group in (await self._by_partition(producer, records)).items():
                batch = producer.create_batch()
                append = batch.append
                for r in group:
                    if append(timestamp=None, key=r.key, value=r.value, headers=r.headers) is None:  # full
                        acks.append(await _submit(producer, batch, topic, partition))
                        batch = producer.create_batch()
                        append = batch.append
                        # An empty batch takes any first record, whatever its size (the broker may refuse it).
                        append(timestamp=None, key=r.key, value=r.value, headers=r.headers)
                acks.append(await _submit(producer, batch, topic, partition))
        except KafkaError as e:
            failed = e
        # Every batch submitted is waited for, even after a failure: no acknowledgement goes unread.
        results = await asyncio.gather(*acks, return_exceptions=True)
        for error in (failed, *results):
            if isinstance(error, KafkaError):
                raise BrokerError(f"publish to Kafka failed: {error}") from error
            if isinstance(error, BaseException):
                raise error

    async def _by_partition(self, producer: AIOKafkaProducer,
                            records: Sequence[OutRecord]) -> dict[TP, list[OutRecord]]:
        """Records grouped by (topic, partition) in their order; keyed records placed by their key."""
        by_topic: dict[str, Sequence[OutRecord]]
        if len(set(map(_TOPIC, records))) == 1:
            by_topic = {records[0].topic: records}
        else:
            lists: dict[str, list[OutRecord]] = {}
            for r in records:
                lists.setdefault(r.topic, []).append(r)
            by_topic = dict(lists)
        groups: dict[TP, list[OutRecord]] = {}
        for topic, recs in by_topic.items():
            parts = sorted(await producer.partitions_for(topic))  # waits for the topic's metadata
            if set(map(_PARTITION, recs)) == {None}:  # the producer's pages: whole-list C loops
                slots = partitions_of(list(map(_KEY, recs)), len(parts))
                for i, p in enumerate(parts):
                    group = list(compress(recs, map(i.__eq__, slots)))
                    if group:
                        groups[(topic, p)] = group
                continue
            keyed = partitions_of([r.key for r in recs if r.partition is None], len(parts))
            placed = iter(keyed)
            for r in recs:
                p = parts[next(placed)] if r.partition is None else r.partition
                if p not in parts:
                    raise BrokerError(f"{topic} has no partition {p} (partitions {parts})")
                groups.setdefault((topic, p), []).append(r)
        return groups

    async def partitions(self, topic: str) -> list[int]:
        assert self._producer is not None, "Publisher not started"
        parts = await self._producer.partitions_for(topic)
        return sorted(parts)


async def _submit(producer: AIOKafkaProducer, batch: Any, topic: str, partition: int) -> asyncio.Future[object]:
    batch.close()  # a closed batch is sent at once: nothing more can join it, so no linger
    ack: asyncio.Future[object] = await producer.send_batch(batch, topic, partition=partition)
    return ack


AssignedCallback = Callable[[list[TP]], Awaitable[None]]


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, on_assigned: AssignedCallback, on_revoked: AssignedCallback) -> None:
        self._on_assigned = on_assigned
        self._on_revoked = on_revoked

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._on_revoked([(tp.topic, tp.partition) for tp in revoked])

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        await self._on_assigned([(tp.topic, tp.partition) for tp in assigned])


class Reader:
    """Batch reads.  Offsets live in PostgreSQL; the broker's commits are never relied upon."""

    def __init__(self, kafka: Kafka, group_id: str | None, *, max_records: int = 5000,
                 fetch_max_wait_ms: int = 500) -> None:
        """`fetch_max_wait_ms`: how long the broker holds a fetch that finds nothing new.  Apache
        Kafka holds it that long (Tansu answered at once), so a reader that reads to the end of a
        topic and stops asks for less than the loader's long poll."""
        bootstrap = connection(kafka).bootstrap
        self._consumer = AIOKafkaConsumer(
            **client_options(kafka), group_id=group_id, enable_auto_commit=False,
            auto_offset_reset="earliest", max_partition_fetch_bytes=8 << 20, fetch_max_bytes=64 << 20,
            isolation_level="read_uncommitted", metadata_max_age_ms=5000, fetch_max_wait_ms=fetch_max_wait_ms,
        )
        self._max_records = max_records
        self._bootstrap = bootstrap
        self._kafka = kafka

    async def start(self) -> None:
        try:
            await self._consumer.start()
        except KafkaError as e:
            await self._consumer.stop()
            raise BrokerError(f"cannot connect to Kafka at {self._bootstrap}: {e}") from e

    async def stop(self) -> None:
        await self._consumer.stop()

    def subscribe(self, topics: list[str], on_assigned: AssignedCallback, on_revoked: AssignedCallback) -> None:
        self._consumer.subscribe(topics=topics, listener=_Listener(on_assigned, on_revoked))

    def assign(self, tps: list[TP]) -> None:
        self._consumer.assign([TopicPartition(t, p) for t, p in tps])

    def assignment(self) -> list[TP]:
        return sorted((tp.topic, tp.partition) for tp in self._consumer.assignment())

    def seek(self, tp: TP, offset: int) -> None:
        self._consumer.seek(TopicPartition(*tp), offset)

    def pause(self, tps: Iterable[TP]) -> None:
        self._consumer.pause(*[TopicPartition(*tp) for tp in tps])

    def resume(self, tps: Iterable[TP]) -> None:
        self._consumer.resume(*[TopicPartition(*tp) for tp in tps])

    def paused(self) -> set[TP]:
        return {(tp.topic, tp.partition) for tp in self._consumer.paused()}

    async def partitions(self, topic: str, wait_s: float = METADATA_WAIT_S) -> list[int]:
        """The topic's partitions; none when the broker has not listed the topic within `wait_s`.  A
        topic created a moment ago (by `ensure_topics`, or a broker rebuilt under us) reaches the
        brokers' metadata caches after its creation returns, so it is asked for again until then:
        one metadata refresh was not always enough, and a worker that saw no partitions went idle
        without reading what it should have."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        parts = self._consumer.partitions_for_topic(topic)
        while not parts:
            await self._consumer._client.force_metadata_update()
            parts = self._consumer.partitions_for_topic(topic)
            if parts or loop.time() >= deadline:
                break
            await asyncio.sleep(0.1)
        return sorted(parts or [])

    async def ranges(self, stored: dict[TP, int]) -> dict[TP, tuple[int, int]]:
        """The broker's log start and end of each partition (ListOffsets, on this consumer's
        connections).  Tansu workaround: where ListOffsets says an end below the `stored` offset,
        the fetch watermark is asked too (it can under-report there); Apache Kafka's answer stands."""
        wanted = [TopicPartition(*tp) for tp in stored]
        if not wanted:
            return {}
        try:
            starts = await self._consumer.beginning_offsets(wanted)
            ends = await self._consumer.end_offsets(wanted)
        except KafkaError as e:
            raise BrokerError(f"reading the partitions' offsets: {e}") from e
        out = {(tp.topic, tp.partition): (int(starts[tp]), int(ends[tp])) for tp in wanted}
        doubtful = {tp: start for tp, (start, end) in out.items() if stored[tp] > end}
        marks = await high_watermarks(self._kafka, doubtful) if doubtful else {}
        return {tp: (start, max(end, marks.get(tp) or end)) for tp, (start, end) in out.items()}

    def highwater(self, tp: TP) -> int | None:
        hw: int | None = self._consumer.highwater(TopicPartition(*tp))
        return hw

    async def position(self, tp: TP) -> int:
        pos: int = await self._consumer.position(TopicPartition(*tp))
        return pos

    async def read(self, timeout_ms: int = 500) -> list[InRecord]:
        try:
            batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=self._max_records)
        except KafkaError as e:
            raise BrokerError(f"read from Kafka failed: {e}") from e
        out: list[InRecord] = []
        for tp, msgs in batches.items():
            out.extend(InRecord(tp.topic, tp.partition, m.offset, m.key, m.value, tuple(m.headers or ()))
                       for m in msgs)
        return out


# Readers that stop at the end of a topic: an empty partition's fetch answers after this, not 500 ms,
# and a read that finds nothing returns after END_READ_MS (then the watermarks say whether it is the end).
END_FETCH_WAIT_MS = 20
END_READ_MS = 50


async def read_topic(kafka: Kafka, topic: str, *, limit_s: float = 120.0) -> list[InRecord]:
    """Everything on a topic, read with a private assignment until the position of every
    partition reaches the high watermark its last fetch returned (tests, `vcdb raw export`)."""
    reader = Reader(kafka, None, fetch_max_wait_ms=END_FETCH_WAIT_MS)
    await reader.start()
    try:
        parts = await reader.partitions(topic)
        reader.assign([(topic, p) for p in parts])
        for p in parts:
            reader.seek((topic, p), 0)
        out: list[InRecord] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_s
        while loop.time() < deadline:
            # Short reads: a read that finds nothing waits its whole timeout, even past the end.
            out.extend(await reader.read(timeout_ms=END_READ_MS))
            done = True
            for p in parts:  # at the end once every partition's watermark is known and reached
                hw = reader.highwater((topic, p))
                if hw is None or await reader.position((topic, p)) < hw:
                    done = False
            if done:
                break
        return out
    finally:
        await reader.stop()


async def last_values(kafka: Kafka, tps: Sequence[TP], *, limit_s: float = 30.0) -> dict[TP, bytes | None]:
    """The value of the last record of each partition (None: the partition is empty), read by a
    private consumer: the change relay's check of what a crashed relay already sent."""
    if not tps:
        return {}
    reader = Reader(kafka, None, max_records=500, fetch_max_wait_ms=END_FETCH_WAIT_MS)
    await reader.start()
    try:
        try:
            ends = await reader._consumer.end_offsets([TopicPartition(*tp) for tp in tps])
        except KafkaError as e:
            raise BrokerError(f"cannot read the end offsets of {sorted(tps)}: {e}") from e
        out: dict[TP, bytes | None] = {}
        wanted: dict[TP, int] = {}
        for tp in tps:
            end = ends[TopicPartition(*tp)]
            if end == 0:
                out[tp] = None
            else:
                wanted[tp] = end - 1
        if wanted:
            reader.assign(list(wanted))
            for tp, offset in wanted.items():
                reader.seek(tp, offset)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + limit_s
            while len(out) < len(tps):
                if loop.time() > deadline:
                    raise BrokerError(f"cannot read the last records of {sorted(set(wanted) - set(out))} "
                                      f"within {limit_s:.0f} s")
                for r in await reader.read(timeout_ms=200):
                    if r.offset == wanted[(r.topic, r.partition)]:
                        out[(r.topic, r.partition)] = r.value
        return out
    finally:
        await reader.stop()


async def offset_ranges(kafka: Kafka, stored: dict[TP, int]) -> dict[TP, tuple[int, int]]:
    """Per partition, the broker's log start and end offsets, read by a private consumer
    (`vcdb status`); a running worker asks its own (`Reader.ranges`)."""
    if not stored:
        return {}
    reader = Reader(kafka, None, max_records=1, fetch_max_wait_ms=END_FETCH_WAIT_MS)
    await reader.start()
    try:
        return await reader.ranges(stored)
    finally:
        await reader.stop()


async def high_watermarks(kafka: Kafka, positions: dict[TP, int], wait_ms: int = 1500) -> dict[TP, int | None]:
    """The fetch high watermark of each partition.  Tansu workaround: its ListOffsets can
    under-report, the watermark a fetch returns is right (exact on Apache Kafka too).  Reads from
    the given positions once, privately."""
    if not positions:
        return {}
    reader = Reader(kafka, None, max_records=1, fetch_max_wait_ms=END_FETCH_WAIT_MS)
    await reader.start()
    try:
        reader.assign(list(positions))
        for tp, pos in positions.items():
            reader.seek(tp, pos)
        await reader.read(timeout_ms=wait_ms)
        out: dict[TP, int | None] = {tp: reader.highwater(tp) for tp in positions}
        missing = [TopicPartition(*tp) for tp, hw in out.items() if hw is None]
        if missing:
            ends = await reader._consumer.end_offsets(missing)
            for tp, off in ends.items():
                out[(tp.topic, tp.partition)] = off
        return out
    finally:
        await reader.stop()
