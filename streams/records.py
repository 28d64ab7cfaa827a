"""The records the broker adapter hands out and takes in: our own small value types, so that
what builds or reads records (dead letters, decoding, the producers) never imports aiokafka."""

from __future__ import annotations

from typing import NamedTuple


class OutRecord(NamedTuple):
    """A record to publish (a NamedTuple: one is built per record on the hot path).  Without a
    partition it goes where Kafka's default partitioner puts its key."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    partition: int | None = None


class InRecord(NamedTuple):
    """A consumed record (a NamedTuple: one is built per record on the hot path)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


TP = tuple[str, int]
