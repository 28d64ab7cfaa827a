"""The loader's pure parts: classifying records and the batch SQL (the worker itself is tested
against the real broker and PostgreSQL in tests/integration)."""

from __future__ import annotations

import json

from consumers.records import ControlEvent, Incoming, classify, key_text
from consumers.sql import table_sql
from schemas.catalog import load_catalog
from schemas.generated.vcdb_models import MODELS
from streams import envelope
from streams.broker import InRecord

VCDB = load_catalog("vcdb")


def _rec(value: object, headers: list[tuple[str, bytes]] | None = None, offset: int = 0) -> InRecord:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    hs = headers or [(envelope.H_KIND, b"data"), (envelope.H_RUN, b"5"), (envelope.H_PAGE, b"2"),
                     (envelope.H_INDEX, b"7")]
    return InRecord("autocare.vcdb.base_vehicle", 0, offset, b"[1]", raw, tuple(hs))


def test_classify_valid_record_gives_a_row_in_column_order() -> None:
    item = classify(_rec({"BaseVehicleID": 1, "YearID": 2001, "MakeID": "3", "ModelID": 4}), MODELS["BaseVehicle"])
    assert isinstance(item, Incoming) and item.failure is None
    assert item.run_id == 5 and item.page == 2 and item.position == 7
    assert item.row == (1, 2001, 3, 4, None, None, None)
    assert key_text(VCDB.table("BaseVehicle"), item.row) == "[1]"


def test_classify_invalid_record_is_a_validation_failure_naming_the_field() -> None:
    item = classify(_rec({"BaseVehicleID": 1, "YearID": "two thousand", "MakeID": 3, "ModelID": 4}),
                    MODELS["BaseVehicle"])
    assert isinstance(item, Incoming) and item.row is None
    assert item.failure is not None and item.failure.reason == "validation"
    assert "year_id" in item.failure.message


def test_classify_not_json_is_a_validation_failure() -> None:
    item = classify(_rec(b"{not json"), MODELS["BaseVehicle"])
    assert isinstance(item, Incoming) and item.failure is not None and "not JSON" in item.failure.message


def test_classify_too_long_value_is_a_validation_failure() -> None:
    item = classify(_rec({"MakeID": 1, "MakeName": "x" * 51}), MODELS["Make"])
    assert isinstance(item, Incoming) and item.failure is not None and "make_name" in item.failure.message


def test_classify_end_of_table() -> None:
    eot = envelope.EndOfTable(5, "BaseVehicle", 10, 1, 10, 3)
    item = classify(_rec(eot.encode(), [(envelope.H_KIND, b"eot")]), MODELS["BaseVehicle"])
    assert isinstance(item, ControlEvent) and item.eot == eot


def test_batch_sql_checks_declared_and_logical_parents() -> None:
    ts = table_sql(VCDB, VCDB.table("EngineConfig2"))
    parents = {c.parent.name for c in ts.checks}
    assert {"EngineBase2", "Mfr", "PowerOutput"} <= parents  # PowerOutput is a logical reference
    assert ts.find_orphans is not None and "NOT EXISTS" in ts.find_orphans
    assert "ON CONFLICT (\"engine_config_id\") DO UPDATE" in ts.upsert


def test_self_reference_accepts_parents_in_the_same_batch() -> None:
    ts = table_sql(VCDB, VCDB.table("Region"))
    assert ts.find_orphans is not None and '"stage_vcdb_region" p' in ts.find_orphans


def test_upsert_guard_keeps_newer_versions_and_ended_rows() -> None:
    up = table_sql(VCDB, VCDB.table("Vehicle")).upsert
    assert 'EXCLUDED."effective_date_time" >= t."effective_date_time"' in up
    assert 't."end_date_time" IS NOT NULL AND EXCLUDED."end_date_time" IS NULL' in up
    assert "DISTINCT ON (\"vehicle_id\")" in up
