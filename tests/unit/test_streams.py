"""The Kafka contract: topic names, keys, headers, end-of-table records, dead-letter headers."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.catalog import load_catalog
from streams import envelope, topics
from streams.dead_letters import REASON_MISSING_PARENT, Failure, dead_letter_headers


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
