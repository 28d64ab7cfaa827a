"""The Kafka contract: topic names, keys, headers, end-of-table records, dead-letter headers."""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

import pytest

from schemas.catalog import load_catalog
from streams import envelope, topics
from streams.dead_letters import REASON_MISSING_PARENT, Failure, dead_letter_headers
from streams.envelope import KeyEncoder


def test_topic_names_use_canonical_table_names() -> None:
    vcdb = load_catalog("vcdb")
    assert topics.data_topic(vcdb.table("BaseVehicle")) == "autocare.vcdb.base_vehicle"
    assert topics.dlq_topic(vcdb.table("VehicleToEngineConfig")) == "autocare.vcdb.vehicle_to_engine_config.dlq"
    assert topics.parse_topic("autocare.pcdb.parts_to_use.dlq") == ("pcdb", "parts_to_use", True)
    with pytest.raises(ValueError, match="not an AutoCare topic"):
        topics.parse_topic("other.vcdb.make")


def test_record_key_is_stable_and_in_key_order() -> None:
    table = load_catalog("vcdb").table("VCdbChanges")
    rec = {"Action": "A", "ID": 7, "TableName": "Make", "VersionDate": "2026-01-01T00:00:00"}
    assert envelope.record_key(table, rec) == b'["2026-01-01T00:00:00","Make",7,"A"]'
    sub = load_catalog("vcdb").table("SubModel")
    assert envelope.record_key(sub, {"SubModelID": 3}) == envelope.record_key(sub, {"submodelid": 3}) == b"[3]"


def test_record_key_missing_field_is_a_clear_error() -> None:
    with pytest.raises(envelope.EnvelopeError, match="BaseVehicle record has no key field BaseVehicleID"):
        envelope.record_key(load_catalog("vcdb").table("BaseVehicle"), {"MakeID": 1})


def _reference_key(values: list[Any]) -> bytes:
    return json.dumps(values, separators=(",", ":"), default=str).encode()


_ODD_STRINGS = ["", "plain", "Citroën", "日本", "\U0001F697", 'q"uote', "back\\slash", "tab\tnl\n", "\x00\x1f\x7f",
                "</script>", "\u2028"]


def test_key_encoder_gives_the_reference_bytes() -> None:
    vcdb = load_catalog("vcdb")
    changes, sub = KeyEncoder(vcdb.table("VCdbChanges")), KeyEncoder(vcdb.table("SubModel"))
    rng = random.Random(3)
    values: list[Any] = [0, -1, 7, 2**40, 2**70, True, False, None, 1.5, 1e16, *_ODD_STRINGS]
    for _ in range(500):
        rec = {"VersionDate": rng.choice(values), "TableName": rng.choice(values), "ID": rng.choice(values),
               "Action": rng.choice(values), "Other": 1}
        assert changes(rec) == _reference_key([rec["VersionDate"], rec["TableName"], rec["ID"], rec["Action"]])
        one = {"SubModelID": rng.choice(values)}
        assert sub(one) == _reference_key([one["SubModelID"]]) == envelope.record_key(vcdb.table("SubModel"), one)


def test_key_encoder_many_is_the_same_as_one_at_a_time() -> None:
    vcdb = load_catalog("vcdb")
    for table, pages in [
        ("SubModel", [[{"SubModelID": i} for i in range(5)],
                      [{"SubModelID": 1}, {"SubModelID": "x"}, {"SubModelID": None}, {"submodelid": 4},
                       {"SubModelID": True}]]),
        ("VCdbChanges", [[{"VersionDate": "d", "TableName": "Make", "ID": i, "Action": "A"} for i in range(3)]]),
    ]:
        enc = KeyEncoder(vcdb.table(table))
        for recs in pages:
            raws = [json.dumps(r).encode() for r in recs]
            assert enc.many(recs, raws) == [enc(r, b) for r, b in zip(recs, raws, strict=True)] \
                == [envelope.record_key(vcdb.table(table), r) for r in recs]


def test_key_encoder_falls_back_to_the_case_insensitive_lookup() -> None:
    sub = KeyEncoder(load_catalog("vcdb").table("SubModel"))
    assert sub({"submodelid": 3}) == sub({"SubModelID": 3}) == b"[3]"
    with pytest.raises(envelope.EnvelopeError, match="SubModel record has no key field SubModelID"):
        sub({"MakeID": 1})
    changes = KeyEncoder(load_catalog("vcdb").table("VCdbChanges"))
    with pytest.raises(envelope.EnvelopeError, match="no key field Action"):
        changes({"VersionDate": "d", "TableName": "Make", "ID": 1})


def test_key_encoder_reads_integers_past_64_bits_from_the_record_bytes() -> None:
    sub = KeyEncoder(load_catalog("vcdb").table("SubModel"))
    raw = b'{"SubModelID":123456789012345678901234567890}'
    light = {"SubModelID": 1.2345678901234568e29}  # what orjson makes of it
    assert sub(light, raw) == b"[123456789012345678901234567890]"
    assert sub({"SubModelID": 1.5}, b'{"SubModelID":1.50}') == b"[1.5]"  # as json.dumps of json.loads


def test_end_of_table_round_trip() -> None:
    eot = envelope.EndOfTable(run_id=4, table="Make", records=431, pages=1, total_count=431, partitions=3)
    assert envelope.EndOfTable.decode(eot.encode()) == eot
    with pytest.raises(envelope.EnvelopeError):
        envelope.EndOfTable.decode(b'{"type": "data"}')


def test_data_headers_name_run_endpoint_page() -> None:
    ctx = envelope.RunContext(9, "vcdb", dt.date(2026, 1, 31), None)
    headers = envelope.header_map(envelope.data_headers(ctx, "Make", 2, 17, dt.datetime(2026, 2, 1, tzinfo=dt.UTC)))
    assert headers[envelope.H_RUN] == b"9"
    assert headers[envelope.H_PAGE] == b"2" and headers[envelope.H_INDEX] == b"17"
    assert headers[envelope.H_AS_OF] == b"2026-01-31" and headers[envelope.H_SINCE] == b""
    assert headers[envelope.H_KIND] == envelope.KIND_DATA


def test_data_headers_keep_their_order_and_share_their_values() -> None:
    ctx = envelope.RunContext(9, "vcdb", None, dt.date(2026, 1, 2))
    when = dt.datetime(2026, 2, 1, 12, 30, tzinfo=dt.UTC)
    page = envelope.DataHeaders(ctx, "Make").page(4, when)
    assert page.record(1) == [
        ("vcdb.kind", b"data"), ("vcdb.run_id", b"9"), ("vcdb.db", b"vcdb"), ("vcdb.endpoint", b"Make"),
        ("vcdb.page", b"4"), ("vcdb.index", b"1"), ("vcdb.as_of", b""), ("vcdb.since", b"2026-01-02"),
        ("vcdb.extracted_at", b"2026-02-01T12:30:00+00:00"), ("vcdb.schema_version", b"1"),
    ]
    rows = page.records(3)
    assert [r[5][1] for r in rows] == [b"0", b"1", b"2"] and rows[1] == page.record(1)
    assert all(a is b for a, b in zip(rows[0][:5] + rows[0][6:], rows[2][:5] + rows[2][6:], strict=True))
    assert rows[1][5] is envelope.DataHeaders(ctx, "Model").page(5, when).records(2)[1][5]
    assert envelope.data_headers(ctx, "Make", 4, 1, when) == page.record(1)


def test_dead_letter_headers_keep_the_original_and_add_connect_and_ours() -> None:
    original = [("vcdb.run_id", b"3"), ("vcdb.error.reason", b"stale"), ("__connect.errors.offset", b"1")]
    failure = Failure(REASON_MISSING_PARENT, "no BaseVehicle 99", "MissingParent", "TASK_PUT", sqlstate="23503",
                      constraint="fk_vehicle_base_vehicle_id", missing_table="BaseVehicle", missing_key="[99]")
    headers = dict(dead_letter_headers(original, failure, topic="autocare.vcdb.vehicle", partition=1, offset=42,
                                       attempt=2, run_id=3))
    assert headers["vcdb.run_id"] == b"3"
    assert headers["__connect.errors.topic"] == b"autocare.vcdb.vehicle"
    assert headers["__connect.errors.offset"] == b"42"
    assert headers["__connect.errors.exception.message"] == b"no BaseVehicle 99"
    assert headers["vcdb.error.reason"] == b"missing_parent"
    assert headers["vcdb.error.missing_key"] == b"[99]"
    assert headers["vcdb.error.attempt"] == b"2"


class _Metadata:
    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2} if topic == "t3" else {0, 1}


async def test_publisher_groups_by_kafka_partition_keeping_order() -> None:
    from streams.broker import Publisher
    from streams.partitioner import partition_of
    from streams.records import OutRecord

    keyed = [OutRecord("t3", b"[%d]" % i, b"v%d" % i, []) for i in range(40)]
    other = [OutRecord("t2", b"[%d]" % i, b"w%d" % i, []) for i in range(10)]
    eot = [OutRecord("t2", b"__eot__", b"e", [], p) for p in (1, 0)]
    records = [*keyed[:20], *other[:5], *eot, *keyed[20:], *other[5:]]
    groups = await Publisher("unused:9092")._by_partition(_Metadata(), records)
    for (topic, p), recs in groups.items():
        n = 3 if topic == "t3" else 2
        assert recs == [r for r in records if r.topic == topic
                        and (r.partition if r.partition is not None else partition_of(r.key, n)) == p]
    assert sum(len(g) for g in groups.values()) == len(records)
