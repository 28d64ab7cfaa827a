"""Micro-benchmark of the loader's first step: CPU per record of ways to read a table topic (issue 22).

`python -m bench.consumer_read [N]` starts a broker (Apache Kafka as the tests start it, or Tansu),
fills two 3-partition topics with N records each shaped like the producer's (a VCdb key, a Vehicle
record's bytes) and published with our `Publisher`, then an end-of-table record on every partition:
one topic with the ten data headers of today's contract, one with only the three the loader reads
(`vcdb.run_id`, `vcdb.page`, `vcdb.index`; `vcdb.kind` only on end-of-table records).  Each way reads
a whole topic from offset 0 and hands over, per record, what the loader needs: topic, partition,
offset, key, value, run id, page, index in the page, end-of-table or not.  Ways, each run `--rounds`
times interleaved over both topics, the median printed:

- `aiokafka`: today's path: `Reader.read()` (getmany, an `InRecord` per record), then per record what
  `Worker._fetch` does: `consumed()` (headers through `dict()`), grouped by partition;
- `aiokafka-lean`: aiokafka's getmany, then column lists per partition (`Columns`) built by C-level
  passes over the batch (`header_columns`: headers read by position);
- `confluent`: confluent-kafka's `Consumer.consume()` (librdkafka) in a thread (`asyncio.to_thread`),
  manual assignment, no commits, the same `Columns`; skipped when confluent-kafka is not installed
  (`pip install -e '.[bench]'`: never a runtime dependency);
- `*-floor`: the read alone (getmany, consume), nothing done per record: what no handling can beat.

CPU is the process's, every thread (librdkafka reads in its own), from the client's start to the
last record handed over, per record.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import json
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, NamedTuple, cast

from consumers.records import Consumed, consumed, header_int
from streams import envelope
from streams.broker import Publisher, Reader, ensure_topics
from streams.records import TP, InRecord, OutRecord
from vcdb import kafka_broker, services

PAGE = 1000
PARTITIONS = 3
MAX_RECORDS = 5000  # per read, as the loader's Reader
RUN_ID = 1
LAYOUTS = {"10": "ten headers (today)", "3": "three headers (proposed)"}

_RUN, _PAGE, _INDEX, _KIND = envelope.H_RUN, envelope.H_PAGE, envelope.H_INDEX, envelope.H_KIND
Headers = Sequence[tuple[str, bytes]] | None  # None: confluent-kafka's headers() of a record without any


# --- the hand-over: pure --------------------------------------------------------------------------------------


class Columns(NamedTuple):
    """One partition's records of one read, column by column: no object per record."""

    topic: str
    partition: int
    offsets: list[int]
    keys: list[bytes | None]
    values: list[bytes | None]
    run_ids: list[int]
    pages: list[int]
    indexes: list[int]
    eot: list[bool]


class HeaderColumns(NamedTuple):
    run_ids: list[int]
    pages: list[int]
    indexes: list[int]
    eot: list[bool]


def _one(key: bytes | None, headers: Sequence[tuple[str, bytes]] | None) -> tuple[int, int, int, bool]:
    """One record the way the loader reads it (`consumers.records.consumed`: the reference, and the slow path)."""
    c = consumed(InRecord("", 0, 0, key, None, tuple(headers or ())))
    return c.run_id, c.page, c.position, c.eot


def _ints(raws: Sequence[bytes]) -> list[int]:
    """Header values as ints, each distinct value parsed once (a run id or a page repeats on every record)."""
    parsed = {raw: header_int(raw) for raw in set(raws)}
    return list(map(parsed.__getitem__, raws))


def _slots(headers: Sequence[tuple[str, bytes]]) -> tuple[int, int, int] | None:
    """Where run, page and index sit in a record's headers (the last of a repeated name, as `dict()`)."""
    where = {name: i for i, (name, _) in enumerate(headers)}
    try:
        return where[_RUN], where[_PAGE], where[_INDEX]
    except KeyError:
        return None


def _positional(headers: Sequence[Headers]) -> tuple[list[int], list[int], list[int]] | None:
    """Run, page and index of data records whose headers all share the first one's layout, by C-level
    passes over the batch; None when a record differs (then each is read by name)."""
    if None in headers:
        return None
    present = cast(Sequence[Sequence[tuple[str, bytes]]], headers)
    slots = _slots(present[0])
    if slots is None or len(set(map(len, present))) != 1:
        return None
    out: list[list[int]] = []
    for slot, name in zip(slots, (_RUN, _PAGE, _INDEX), strict=True):
        names, raws = zip(*map(itemgetter(slot), present), strict=True)
        if names.count(name) != len(names):
            return None
        out.append(_ints(raws))
    return out[0], out[1], out[2]


def header_columns(keys: Sequence[bytes | None], headers: Sequence[Headers]) -> HeaderColumns:
    """What `consumed()` reads from each record (run id, page, index, end-of-table), for a batch at once.

    Data records are read by position: the slots of the first record's headers, checked on every
    record by C-level passes; a batch whose layouts differ is read record by record, by name.  The
    records keyed `__eot__` (one per partition per table and run) are always read by name.  Same
    answers as `consumed()`, but where a record repeats a header name at another slot than the batch's
    first record (the producer never does): the slot wins there, `dict()` takes the last.
    """
    n = len(keys)
    special: list[int] = []
    if envelope.EOT_KEY in keys:
        special = [i for i, k in enumerate(keys) if k == envelope.EOT_KEY]
    data = headers
    if special:
        skip = set(special)
        data = [h for i, h in enumerate(headers) if i not in skip]
    cols = _positional(data) if data else ([], [], [])
    if cols is None:
        slow = list(map(_one, keys, headers))
        return HeaderColumns([r[0] for r in slow], [r[1] for r in slow], [r[2] for r in slow], [r[3] for r in slow])
    runs, pages, indexes = cols
    eot = [False] * n
    for i in special:  # ascending: each lands at its own position
        run, page, index, eot[i] = _one(keys[i], headers[i])
        runs.insert(i, run)
        pages.insert(i, page)
        indexes.insert(i, index)
    return HeaderColumns(runs, pages, indexes, eot)


def columns(topic: str, partition: int, offsets: list[int], keys: list[bytes | None], values: list[bytes | None],
            headers: Sequence[Headers]) -> Columns:
    return Columns(topic, partition, offsets, keys, values, *header_columns(keys, headers))


# --- the records ----------------------------------------------------------------------------------------------


def pages_of(topic: str, n: int, layout: str) -> list[list[OutRecord]]:
    """N records as the producer makes them, in pages, then an end-of-table record on every partition;
    `layout` "10": today's headers, "3": run, page and index only (kind only on end-of-table records)."""
    ctx = envelope.RunContext(RUN_ID, "vcdb", None, None)
    full = envelope.DataHeaders(ctx, "Vehicle")
    run = (_RUN, str(RUN_ID).encode())
    out: list[list[OutRecord]] = []
    for start in range(0, n, PAGE):
        count = min(PAGE, n - start)
        number = start // PAGE + 1
        if layout == "10":
            headers = full.page(number, dt.datetime.now(dt.UTC)).records(count)
        else:
            page = (_PAGE, str(number).encode())
            headers = [[run, page, ix] for ix in envelope.index_headers(count)]
        out.append([
            OutRecord(topic, b"[%d]" % i, json.dumps(
                {"VehicleID": i, "BaseVehicleID": 204 + i, "SubModelID": 56, "RegionID": 51,
                 "PublicationStageID": 20, "EffectiveDateTime": "2026-01-31T08:46:16", "EndDateTime": None},
                separators=(",", ":")).encode(), h)
            for i, h in zip(range(start, start + count), headers, strict=True)
        ])
    eot_value = envelope.EndOfTable(RUN_ID, "Vehicle", n, len(out), n, PARTITIONS).encode()
    eot_headers = (envelope.eot_headers(ctx, "Vehicle") if layout == "10"
                   else [(_KIND, envelope.KIND_EOT), run])
    out.append([OutRecord(topic, envelope.EOT_KEY, eot_value, eot_headers, p) for p in range(PARTITIONS)])
    return out


async def fill(bootstrap: str, topic: str, n: int, layout: str) -> int:
    """Publish the topic's records; how many (the end-of-table records included)."""
    pages = pages_of(topic, n, layout)
    async with Publisher(bootstrap, idempotent=False) as publisher:
        for page in pages:
            await publisher.publish(page)
    return sum(map(len, pages))


# --- the ways -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    way: str
    layout: str
    records: int
    cpu_us: float  # per record
    wall_s: float


class Meter:
    """CPU (process, every thread) and wall time since it was made."""

    def __init__(self) -> None:
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def figure(self, way: str, layout: str, records: int) -> Figure:
        return Figure(way, layout, records, (time.process_time() - self.cpu) / records * 1e6,
                      time.perf_counter() - self.wall)


_OFFSET, _KEY, _VAL, _HEADERS = attrgetter("offset"), attrgetter("key"), attrgetter("value"), attrgetter("headers")


async def _aiokafka(bootstrap: str, topic: str, expected: int, handle: Callable[[Reader], Awaitable[int]]) -> int:
    reader = Reader(bootstrap, None, max_records=MAX_RECORDS)
    await reader.start()
    try:
        reader.assign([(topic, p) for p in range(PARTITIONS)])
        for p in range(PARTITIONS):
            reader.seek((topic, p), 0)
        got = 0
        while got < expected:
            got += await handle(reader)
        return got
    finally:
        await reader.stop()


async def aiokafka_today(bootstrap: str, topic: str, expected: int) -> int:
    next_offset: dict[TP, int] = {}

    async def handle(reader: Reader) -> int:
        by_tp: dict[TP, list[Consumed]] = {}
        got = await reader.read()
        for rec in got:  # Worker._fetch, without its gate and metrics
            tp = (rec.topic, rec.partition)
            c = consumed(rec)
            by_tp.setdefault(tp, []).append(c)
            next_offset[tp] = rec.offset + 1
        return len(got)

    return await _aiokafka(bootstrap, topic, expected, handle)


async def aiokafka_lean(bootstrap: str, topic: str, expected: int) -> int:
    async def handle(reader: Reader) -> int:
        batches = await reader._consumer.getmany(timeout_ms=500, max_records=MAX_RECORDS)
        got = 0
        for tp, msgs in batches.items():
            keys = list(map(_KEY, msgs))
            columns(tp.topic, tp.partition, list(map(_OFFSET, msgs)), keys, list(map(_VAL, msgs)),
                    list(map(_HEADERS, msgs)))
            got += len(msgs)
        return got

    return await _aiokafka(bootstrap, topic, expected, handle)


async def aiokafka_floor(bootstrap: str, topic: str, expected: int) -> int:
    async def handle(reader: Reader) -> int:
        batches = await reader._consumer.getmany(timeout_ms=500, max_records=MAX_RECORDS)
        return sum(map(len, batches.values()))

    return await _aiokafka(bootstrap, topic, expected, handle)


def confluent_installed() -> bool:
    return importlib.util.find_spec("confluent_kafka") is not None


def confluent_config(bootstrap: str) -> dict[str, Any]:
    """librdkafka for a loader that keeps its offsets in PostgreSQL: a group id (librdkafka wants one)
    that never joins or commits, and fetches as large as the aiokafka Reader's."""
    return {"bootstrap.servers": bootstrap, "group.id": "bench.consumer_read", "enable.auto.commit": False,
            "enable.auto.offset.store": False, "auto.offset.reset": "earliest", "enable.partition.eof": False,
            "fetch.max.bytes": 64 << 20, "max.partition.fetch.bytes": 8 << 20, "fetch.wait.max.ms": 500,
            "queued.max.messages.kbytes": 64 << 10, "queued.min.messages": 100_000}


async def _confluent(bootstrap: str, topic: str, expected: int, lean: bool) -> int:
    import confluent_kafka  # type: ignore[import-not-found, unused-ignore]

    Consumer, KafkaException, TopicPartition = (confluent_kafka.Consumer, confluent_kafka.KafkaException,
                                                confluent_kafka.TopicPartition)
    Message: Any = confluent_kafka.Message  # its methods, unbound, mapped over a batch in C

    consumer = Consumer(confluent_config(bootstrap))
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        got = 0
        while got < expected:
            msgs = await asyncio.to_thread(consumer.consume, MAX_RECORDS, 0.5)
            got += len(msgs)
            if not lean or not msgs:
                continue
            errors = list(filter(None, map(Message.error, msgs)))
            if errors:
                raise KafkaException(errors[0])
            topics = list(map(Message.topic, msgs))
            parts = list(map(Message.partition, msgs))
            groups: list[tuple[str, int, list[Any]]]
            if len(set(topics)) == 1:
                groups = [(topics[0], p, list(compress(msgs, map(p.__eq__, parts)))) for p in set(parts)]
            else:
                tps = list(zip(topics, parts, strict=True))
                groups = [(t, p, list(compress(msgs, map((t, p).__eq__, tps)))) for t, p in set(tps)]
            for t, p, group in groups:
                keys = list(map(Message.key, group))
                columns(t, p, list(map(Message.offset, group)), keys, list(map(Message.value, group)),
                        list(map(Message.headers, group)))
        return got
    finally:
        await asyncio.to_thread(consumer.close)


async def confluent(bootstrap: str, topic: str, expected: int) -> int:
    return await _confluent(bootstrap, topic, expected, lean=True)


async def confluent_floor(bootstrap: str, topic: str, expected: int) -> int:
    return await _confluent(bootstrap, topic, expected, lean=False)


Way = Callable[[str, str, int], Awaitable[int]]
WAYS: dict[str, Way] = {"aiokafka-floor": aiokafka_floor, "aiokafka": aiokafka_today,
                        "aiokafka-lean": aiokafka_lean, "confluent-floor": confluent_floor, "confluent": confluent}


# --- the run --------------------------------------------------------------------------------------------------


def medians(figures: Sequence[Figure]) -> list[Figure]:
    """The median run (by CPU per record) of each way and layout, in first-seen order."""
    seen: dict[tuple[str, str], list[Figure]] = {}
    for f in figures:
        seen.setdefault((f.way, f.layout), []).append(f)
    return [sorted(runs, key=attrgetter("cpu_us"))[len(runs) // 2] for runs in seen.values()]


def table(figures: Sequence[Figure]) -> list[str]:
    """One line per way, a column per header layout: CPU-µs per record (median), and records/s wall."""
    by = {(f.way, f.layout): f for f in medians(figures)}
    ways = list(dict.fromkeys(f.way for f in figures))
    layouts = [lay for lay in LAYOUTS if any(f.layout == lay for f in figures)]
    head = f"{'way':<16}" + "".join(f"{lay + ' headers: CPU-µs/rec  rec/s':>36}" for lay in layouts)
    lines = [head]
    for way in ways:
        cells = []
        for lay in layouts:
            f = by.get((way, lay))
            cells.append(f"{f.cpu_us:>24.2f} {f.records / f.wall_s:>11,.0f}" if f else f"{'-':>36}")
        lines.append(f"{way:<16}" + "".join(cells))
    return lines


async def run(bootstrap: str, n: int, rounds: int, ways: Sequence[str]) -> list[Figure]:
    stamp = time.monotonic_ns()
    topics = {lay: f"bench.consumer_read.h{lay}.{stamp}" for lay in LAYOUTS}
    await ensure_topics(bootstrap, list(topics.values()), PARTITIONS)
    expected: dict[str, int] = {}
    for lay, topic in topics.items():
        meter = Meter()
        expected[lay] = await fill(bootstrap, topic, n, lay)
        print(f"filled {topic}: {expected[lay]:,} records in {time.perf_counter() - meter.wall:.1f} s",
              file=sys.stderr, flush=True)
    figures: list[Figure] = []
    for r in range(rounds):
        for lay, topic in topics.items():
            for way in ways:
                meter = Meter()
                got = await WAYS[way](bootstrap, topic, expected[lay])
                if got != expected[lay]:
                    raise RuntimeError(f"{way} read {got} records of {topic}, expected {expected[lay]}")
                f = meter.figure(way, lay, got)
                figures.append(f)
                print(f"round {r + 1} {way:<16} {lay:>2} headers {f.cpu_us:7.2f} CPU-µs/rec {f.wall_s:6.2f} s",
                      file=sys.stderr, flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.consumer_read", description=__doc__.split("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=200_000, help="records per topic (default 200000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each way, interleaved; the median (3)")
    parser.add_argument("--broker", choices=["apache-kafka", "tansu"], default="apache-kafka")
    parser.add_argument("--bootstrap", help="an existing broker instead of starting one")
    parser.add_argument("--ways", default=",".join(WAYS), help=f"comma-separated, of {', '.join(WAYS)}")
    args = parser.parse_args(argv)
    ways = [w for w in args.ways.split(",") if w]
    unknown = set(ways) - set(WAYS)
    if unknown:
        parser.error(f"unknown ways: {', '.join(sorted(unknown))}")
    if not confluent_installed() and any(w.startswith("confluent") for w in ways):
        print("confluent, confluent-floor: skipped (confluent-kafka is not installed: pip install -e '.[bench]')",
              file=sys.stderr)
        ways = [w for w in ways if not w.startswith("confluent")]
    broker: services.Service | None = None
    if not args.bootstrap:
        workdir = Path(".vcdb/bench")
        broker = (kafka_broker.start_apache_kafka(workdir / "consumer-read-kafka") if args.broker == "apache-kafka"
                  else services.start_tansu(workdir))
    try:
        figures = asyncio.run(run(args.bootstrap or (broker.url if broker else ""), args.n, args.rounds, ways))
    finally:
        if broker is not None:
            broker.stop()
    print(f"{args.broker if not args.bootstrap else args.bootstrap}: {args.n:,} records per topic, "
          f"{args.rounds} rounds, medians")
    for line in table(figures):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
