"""The broker contract on Apache Kafka, the broker production deploys, and where Tansu (the demo's
broker on machines without Java) differs: the idempotent producer, and the end offsets that
streams.broker reads from a fetch because Tansu's ListOffsets under-reports."""

from __future__ import annotations

import asyncio

import pytest

from streams.broker import BrokerError, Publisher, ensure_topics, high_watermarks, read_topic
from streams.records import OutRecord

TOPIC = "autocare.vcdb.make"


def _records(n: int) -> list[OutRecord]:
    return [OutRecord(TOPIC, f"{i}".encode(), f'{{"MakeID": {i}}}'.encode(), [("vcdb.run", b"1")]) for i in range(n)]


async def _publish(kafka: str, idempotent: bool | None, n: int) -> bool:
    await ensure_topics(kafka, [TOPIC], 3)
    async with Publisher(kafka, idempotent=idempotent) as publisher:
        await publisher.publish(_records(n))
        return publisher.idempotent_in_use


def test_apache_kafka_runs_the_idempotent_producer_and_keeps_every_record_once(kafka: str) -> None:
    async def go() -> None:
        assert await _publish(kafka, None, 500) is True  # the default asks for it, and gets it
        assert await _publish(kafka, True, 500) is True  # demanded: no fallback needed
        got = await read_topic(kafka, TOPIC)
        keys = sorted(int(r.key or b"-1") for r in got)
        assert keys == sorted(list(range(500)) * 2)  # two runs, each record once per run
        assert all(dict(r.headers)["vcdb.run"] == b"1" for r in got)

    asyncio.run(go())


def test_tansu_refuses_the_idempotent_producer_and_the_publisher_falls_back(tansu: str) -> None:
    # The Tansu workaround in streams.broker.Publisher.start: asked for, not demanded, it falls back.
    async def go() -> None:
        assert await _publish(tansu, None, 50) is False
        with pytest.raises(BrokerError, match="idempotent producer refused"):
            await _publish(tansu, True, 1)
        assert len(await read_topic(tansu, TOPIC)) == 50

    asyncio.run(go())


@pytest.mark.parametrize("broker", ["kafka", "tansu"])
def test_high_watermarks_are_the_end_of_every_partition(broker: str, request: pytest.FixtureRequest) -> None:
    # The Tansu workaround in streams.broker.high_watermarks: the watermark a fetch returns, not ListOffsets.
    url: str = request.getfixturevalue(broker)

    async def go() -> None:
        await _publish(url, False, 300)
        got = await read_topic(url, TOPIC)
        per_partition = {p: sum(1 for r in got if r.partition == p) for p in range(3)}
        ends = await high_watermarks(url, {(TOPIC, p): 0 for p in range(3)})
        assert ends == {(TOPIC, p): per_partition[p] for p in range(3)}
        assert sum(per_partition.values()) == 300

    asyncio.run(go())
