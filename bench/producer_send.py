"""Micro-benchmark of the producer's last step: CPU per message of three ways to publish.

`python -m bench.producer_send [N]` starts a Tansu broker and publishes N records shaped like the
producer's (a VCdb key, a Vehicle record's bytes, the ten data headers) to a fresh 3-partition
topic per way, a page (1000 records) at a time, each page acknowledged before the next, as the
producer does; each way runs `--rounds` times, interleaved, and its median is printed:

- `aiokafka-send`: aiokafka's per-record `send()` (what `Publisher` did before issue #9);
- `batch`: our `Publisher` (aiokafka's `create_batch`/`send_batch`, our murmur2 partitioner);
- `confluent`: confluent-kafka's `produce()` and `flush()`, for comparison only (not a dependency:
  skipped when it is not installed).

CPU is the process's (every thread: librdkafka works in its own), per message.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams import envelope
from streams.broker import Publisher, ensure_topics
from streams.records import OutRecord
from vcdb import services

PAGE = 1000
PARTITIONS = 3


@dataclass(frozen=True)
class Figure:
    way: str
    messages: int
    cpu_us: float  # per message
    wall_s: float

    def line(self) -> str:
        return f"{self.way:<14} {self.cpu_us:7.2f} CPU-µs/msg  {self.messages / self.wall_s:10,.0f} msg/s wall"


def pages_of(topic: str, n: int) -> list[list[OutRecord]]:
    """N records as the producer makes them, in pages."""
    ctx = envelope.RunContext(1, "vcdb", None, None)
    headers = envelope.DataHeaders(ctx, "Vehicle")
    out: list[list[OutRecord]] = []
    for start in range(0, n, PAGE):
        count = min(PAGE, n - start)
        page = headers.page(start // PAGE + 1, dt.datetime.now(dt.UTC))
        out.append([
            OutRecord(topic, b"[%d]" % i, json.dumps(
                {"VehicleID": i, "BaseVehicleID": 204 + i, "SubModelID": 56, "RegionID": 51,
                 "PublicationStageID": 20, "EffectiveDateTime": "2026-01-31T08:46:16", "EndDateTime": None},
                separators=(",", ":")).encode(), h)
            for i, h in zip(range(start, start + count), page.records(count), strict=True)
        ])
    return out


async def _timed(way: str, pages: list[list[OutRecord]], publish: Callable[[list[OutRecord]], Awaitable[None]]
                 ) -> Figure:
    cpu, wall = time.process_time(), time.perf_counter()
    for page in pages:
        await publish(page)
    n = sum(len(p) for p in pages)
    return Figure(way, n, (time.process_time() - cpu) / n * 1e6, time.perf_counter() - wall)


async def aiokafka_send(bootstrap: str, topic: str, n: int) -> Figure:
    from aiokafka import AIOKafkaProducer  # the baseline: what Publisher did before

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False,
                                linger_ms=10, max_batch_size=1 << 20, request_timeout_ms=30000)
    await producer.start()
    try:
        async def publish(page: list[OutRecord]) -> None:
            futures = [await producer.send(r.topic, value=r.value, key=r.key, headers=r.headers) for r in page]
            await asyncio.gather(*futures)

        await publish(pages_of(topic, 10)[0])  # metadata and connections, outside the timing
        return await _timed("aiokafka-send", pages_of(topic, n), publish)
    finally:
        await producer.stop()


async def batch(bootstrap: str, topic: str, n: int) -> Figure:
    async with Publisher(bootstrap, idempotent=False) as publisher:
        await publisher.publish(pages_of(topic, 10)[0])
        return await _timed("batch", pages_of(topic, n), publisher.publish)


def confluent_installed() -> bool:
    return importlib.util.find_spec("confluent_kafka") is not None


async def confluent(bootstrap: str, topic: str, n: int) -> Figure | None:
    if not confluent_installed():
        return None
    from confluent_kafka import Producer  # type: ignore[import-not-found, unused-ignore]

    errors: list[Any] = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            errors.append(err)

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all",
                         "enable.idempotence": False, "linger.ms": 10, "partitioner": "murmur2_random"})

    async def publish(page: list[OutRecord]) -> None:
        for r in page:
            producer.produce(r.topic, r.value, r.key, headers=r.headers,  # type: ignore[arg-type, unused-ignore]
                             on_delivery=delivered)
        producer.flush()  # every record of the page acknowledged, as the producer needs
        if errors:
            raise RuntimeError(f"confluent-kafka: {errors[0]}")

    await publish(pages_of(topic, 10)[0])
    return await _timed("confluent", pages_of(topic, n), publish)


async def run(bootstrap: str, n: int, rounds: int = 1) -> list[Figure]:
    """Each way ``rounds`` times, interleaved (a busy machine then slows them alike); the median."""
    stamp = time.monotonic_ns()
    ways = [("aiokafka-send", aiokafka_send), ("batch", batch), ("confluent", confluent)]
    if not confluent_installed():
        print("confluent: skipped (confluent-kafka is not installed)", file=sys.stderr)
        ways.pop()
    topics = {name: f"bench.producer_send.{name}.{stamp}" for name, _ in ways}
    await ensure_topics(bootstrap, list(topics.values()), PARTITIONS)
    seen: dict[str, list[Figure]] = {}
    for _ in range(rounds):
        for name, way in ways:
            figure = await way(bootstrap, topics[name], n)
            if figure is not None:
                seen.setdefault(name, []).append(figure)
    figures = [sorted(runs, key=lambda f: f.cpu_us)[len(runs) // 2] for runs in seen.values()]
    for figure in figures:
        print(figure.line(), flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.producer_send", description=__doc__.split("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000, help="records per way (default 100000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each way, interleaved; the median (3)")
    parser.add_argument("--bootstrap", help="an existing broker (default: start Tansu)")
    args = parser.parse_args(argv)
    broker = None if args.bootstrap else services.start_tansu(Path(".vcdb/bench"))
    try:
        asyncio.run(run(args.bootstrap or (broker.url if broker else ""), args.n, args.rounds))
    finally:
        if broker is not None:
            broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
