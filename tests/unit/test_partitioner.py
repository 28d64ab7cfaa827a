"""Our key partitioner is Kafka's: the Java client's murmur2 vectors, and aiokafka's for any key."""

from __future__ import annotations

import random

import pytest
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2

from streams.partitioner import murmur2, partition_of, partitions_each, partitions_of


def _signed(v: int) -> int:
    return v - (1 << 32) if v >= 1 << 31 else v


# org.apache.kafka.common.utils.UtilsTest.testMurmur2 (Java ints).
@pytest.mark.parametrize(("key", "java"), [
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
])
def test_murmur2_matches_the_java_client(key: bytes, java: int) -> None:
    assert _signed(murmur2(key)) == java


# The partitions Kafka's DefaultPartitioner gives among 1000 (every tail length, an empty key).
@pytest.mark.parametrize(("key", "partition"), [
    (b"", 681), (b"a", 524), (b"ab", 434), (b"abc", 107), (b"123456789", 566), (b"\x00 ", 742),
])
def test_partition_matches_the_java_default_partitioner(key: bytes, partition: int) -> None:
    assert partition_of(key, 1000) == partition


def test_same_as_aiokafka_for_random_keys() -> None:
    rng = random.Random(7)
    keys = [rng.randbytes(rng.randrange(0, 300)) for _ in range(3000)]
    keys += [b"[%d]" % rng.randrange(1, 10**9) for _ in range(3000)]  # what our topics are keyed by
    keys += [b"x" * 4 * 70]  # past the pre-built word unpackers
    for key in keys:
        assert murmur2(key) == aiokafka_murmur2(key) & 0xFFFFFFFF, key
    for n in (1, 3, 7, 12):
        parts = list(range(n))
        expected = [DefaultPartitioner()(k, parts, parts) for k in keys]
        assert [partition_of(k, n) for k in keys] == expected
        assert partitions_of(keys, n) == expected
    counts = [(1, 3, 7, 12)[i % 4] for i in range(len(keys))]
    assert partitions_each(keys, counts) == [partition_of(k, n) for k, n in zip(keys, counts, strict=True)]
