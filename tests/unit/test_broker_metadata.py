"""A topic just created reaches the consumer's metadata a moment later: `Reader.partitions` asks
again until it is listed, within its wait.  aiokafka's consumer is faked (its metadata answers are
scripted), never ours."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.settings import Settings
from streams import broker


class _Client:
    def __init__(self, consumer: ScriptedConsumer) -> None:
        self.consumer = consumer

    async def force_metadata_update(self) -> bool:
        self.consumer.refreshes += 1
        return True


class ScriptedConsumer:
    """AIOKafkaConsumer whose metadata lists the topic's partitions only after `unknown_for` refreshes."""

    unknown_for = 0

    def __init__(self, **kwargs: Any) -> None:
        self.refreshes = 0
        self._client = _Client(self)

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return {0, 1, 2} if self.refreshes >= self.unknown_for else None


def _reader(monkeypatch: pytest.MonkeyPatch, unknown_for: int) -> broker.Reader:
    monkeypatch.setattr(ScriptedConsumer, "unknown_for", unknown_for)
    monkeypatch.setattr(broker, "AIOKafkaConsumer", ScriptedConsumer)
    settings = Settings(DATABASE_URL="postgresql://x@127.0.0.1/x", KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9")  # type: ignore[arg-type]
    return broker.Reader(settings.kafka, None)


async def test_a_topic_listed_only_after_a_few_refreshes_is_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    reader = _reader(monkeypatch, unknown_for=3)
    assert await reader.partitions("autocare.vcdb.make", wait_s=5.0) == [0, 1, 2]


async def test_a_topic_never_listed_gives_no_partitions_once_the_wait_is_over(monkeypatch: pytest.MonkeyPatch) -> None:
    reader = _reader(monkeypatch, unknown_for=10**9)
    assert await reader.partitions("autocare.vcdb.make", wait_s=0.3) == []
