"""The loader's pure parts: reading a consumed record's headers once, decoding it into a row, the
batch SQL (the worker's decisions are tested with fakes in test_worker.py, and against the real
broker and PostgreSQL in tests/integration)."""

from __future__ import annotations

import json

from consumers.decode import decoder_for
from consumers.records import consumed
from consumers.sql import table_sql
from schemas.catalog import load_catalog
from streams import envelope
from streams.dead_letters import Failure
from streams.records import InRecord

VCDB = load_catalog("vcdb")


def _rec(value: object, headers: list[tuple[str, bytes]] | None = None, offset: int = 0,
         key: bytes = b"[1]") -> InRecord:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    hs = headers or [(envelope.H_KIND, b"data"), (envelope.H_RUN, b"5"), (envelope.H_PAGE, b"2"),
                     (envelope.H_INDEX, b"7")]
    return InRecord("autocare.vcdb.base_vehicle", 0, offset, key, raw, tuple(hs))


def test_consumed_reads_run_page_and_index_from_the_headers() -> None:
    c = consumed(_rec({"BaseVehicleID": 1}))
    assert (c.run_id, c.page, c.position, c.eot) == (5, 2, 7, False)


def test_valid_record_gives_a_row_in_column_order() -> None:
    row = decoder_for(VCDB.table("BaseVehicle")).decode(
        json.dumps({"BaseVehicleID": 1, "YearID": 2001, "MakeID": "3", "ModelID": 4}).encode())
    assert row == (1, 2001, 3, 4, None, None, None)


def test_invalid_record_is_a_validation_failure_naming_the_field() -> None:
    out = decoder_for(VCDB.table("BaseVehicle")).decode(
        json.dumps({"BaseVehicleID": 1, "YearID": "two thousand", "MakeID": 3, "ModelID": 4}).encode())
    assert isinstance(out, Failure) and out.reason == "validation" and "year_id" in out.message


def test_not_json_is_a_validation_failure() -> None:
    out = decoder_for(VCDB.table("BaseVehicle")).decode(b"{not json")
    assert isinstance(out, Failure) and "not JSON" in out.message


def test_too_long_value_is_a_validation_failure() -> None:
    out = decoder_for(VCDB.table("Make")).decode(json.dumps({"MakeID": 1, "MakeName": "x" * 51}).encode())
    assert isinstance(out, Failure) and "make_name" in out.message


def test_end_of_table_needs_its_key_and_kind() -> None:
    eot = envelope.EndOfTable(5, "BaseVehicle", 10, 1, 10, 3)
    c = consumed(_rec(eot.encode(), [(envelope.H_KIND, b"eot"), (envelope.H_RUN, b"5")], key=envelope.EOT_KEY))
    assert c.eot and envelope.EndOfTable.decode(c.source.value or b"") == eot
    # A data record that happens to carry the kind header but not the key is data.
    assert not consumed(_rec({"BaseVehicleID": 1}, [(envelope.H_KIND, b"eot")])).eot


def test_batch_sql_checks_declared_and_logical_parents() -> None:
    ts = table_sql(VCDB, VCDB.table("EngineConfig2"))
    parents = {c.parent.name for c in ts.checks}
    assert {"EngineBase2", "Mfr", "PowerOutput"} <= parents  # PowerOutput is a logical reference
    assert ts.live.find_orphans is not None and "NOT EXISTS" in ts.live.find_orphans
    assert "ON CONFLICT (\"engine_config_id\") DO UPDATE" in ts.live.upsert


def test_self_reference_accepts_parents_in_the_same_batch() -> None:
    ts = table_sql(VCDB, VCDB.table("Region"))
    for target in (ts.live, ts.staged):
        assert target.find_orphans is not None and '"stage_vcdb_region" p' in target.find_orphans


def test_a_staged_batch_finds_parents_live_or_staged_by_its_own_run() -> None:
    ts = table_sql(VCDB, VCDB.table("Vehicle"))
    assert ts.staged.find_orphans is not None and ts.live.find_orphans is not None
    staged_parent = ('"autocare_vcdb_staged"."base_vehicle" p WHERE p."base_vehicle_id" = s."base_vehicle_id" '
                     'AND p."ingest_run_id" = $1')
    assert staged_parent in ts.staged.find_orphans
    assert "autocare_vcdb_staged" not in ts.live.find_orphans  # live rows check against live parents only
    assert ts.staged.upsert.startswith('INSERT INTO "autocare_vcdb_staged"."vehicle"')
    assert 'ON CONFLICT ("ingest_run_id", "vehicle_id")' in ts.staged.upsert
    assert ts.live.upsert.startswith('INSERT INTO "autocare_vcdb"."vehicle"')


def test_publication_moves_one_runs_staged_rows_with_the_loaders_guard() -> None:
    ts = table_sql(VCDB, VCDB.table("Vehicle"))
    assert ts.publish.startswith('INSERT INTO "autocare_vcdb"."vehicle" AS t')
    assert 'FROM "autocare_vcdb_staged"."vehicle" WHERE "ingest_run_id" = $1' in ts.publish
    assert 'EXCLUDED."effective_date_time" >= t."effective_date_time"' in ts.publish
    assert ts.clear_staged == 'DELETE FROM "autocare_vcdb_staged"."vehicle" WHERE "ingest_run_id" = $1'
    assert ts.staged_orphans is not None and ts.staged_orphans.count("NOT EXISTS") == 2 * len(ts.checks)


def test_a_file_table_checks_reference_databases_against_their_published_rows_only() -> None:
    aces = load_catalog("aces")
    ts = table_sql(aces, aces.tables["App"])
    assert ts.staged.find_orphans is not None
    assert "autocare_vcdb_staged" not in ts.staged.find_orphans
    assert '"autocare_vcdb"."base_vehicle" p' in ts.staged.find_orphans


def test_upsert_guard_keeps_newer_versions_and_ended_rows() -> None:
    up = table_sql(VCDB, VCDB.table("Vehicle")).live.upsert
    assert 'EXCLUDED."effective_date_time" >= t."effective_date_time"' in up
    assert 't."end_date_time" IS NOT NULL AND EXCLUDED."end_date_time" IS NULL' in up
    assert "DISTINCT ON (\"vehicle_id\")" in up
