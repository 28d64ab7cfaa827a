"""The fitment views (migration 0004) and the commands over them, on a database built by the
migrations, with small VCdb/PCdb/Qdb/ACES/PIES rows inserted by hand (made-up ids; FK triggers
off while inserting, so the fixture need not carry every lookup table of an engine config).

The small set (applications A1..A9, vehicles 1001..1009):

  A1  BV 101                          -> 1001, 1002   (PIES item: DES description, P04 image)
  A2  BV 101 + SubModel 11            -> 1001
  A3  BV 102 + EngineBase 31 + DriveType 41  (two systems) -> 1003 (1004 has drive 42)
  A4  BV 103 + EngineBase 31 + FuelType 52: 1005 has base 31 on one engine config and fuel 52 on
      another, so it does NOT fit; 1006 has both on one config -> 1006
  A5  Years 2011-2012, Make 1, Model 2 -> BV 104, 105 -> 1007, 1008 (not BV 106: 2013; not 103: model 3)
  A6  BV 101, ended                   -> nothing
  A7  BV 101, same fitment key as A1, another part of the same brand: an overlap -> 1001, 1002
  A8  BV 103 + EngineBase 32, validate="no" -> 1005 (its engine 72 only)
  A9  BV 102 + EngineBase 32, validate="no": no vehicle has it -> base vehicle 102, no vehicle
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from consumers import fitment
from tests.integration.pipeline import execute
from tests.support import SMALL
from vcdb import cli, exit_codes

# Some thousands of applications over 3,000 base vehicles and 9,000 vehicles, for the plans.
BULK = """
SET session_replication_role = replica;
INSERT INTO autocare_vcdb.make (make_id, make_name, ingest_run_id)
SELECT i, 'Make' || i, 1 FROM generate_series(1, 20) i;
INSERT INTO autocare_vcdb.model (model_id, model_name, vehicle_type_id, ingest_run_id)
SELECT i, 'Model' || i, 1 + i % 3, 1 FROM generate_series(1, 200) i;
INSERT INTO autocare_vcdb.submodel (submodel_id, submodel_name, ingest_run_id)
SELECT i, 'Sub' || i, 1 FROM generate_series(1, 30) i;
INSERT INTO autocare_vcdb.base_vehicle (base_vehicle_id, year_id, make_id, model_id, ingest_run_id)
SELECT (m - 1) * 15 + (y - 2000) + 1, y, 1 + (m - 1) / 10, m, 1
FROM generate_series(1, 200) m, generate_series(2000, 2014) y;
INSERT INTO autocare_vcdb.vehicle (vehicle_id, base_vehicle_id, submodel_id, region_id, ingest_run_id)
SELECT (b - 1) * 3 + k, b, 1 + (b * 3 + k) % 30, 1, 1 FROM generate_series(1, 3000) b, generate_series(1, 3) k;
INSERT INTO autocare_vcdb.engine_base (engine_base_id, liter, cc, c_id, cylinders, block_type, eng_bore_in,
  eng_bore_metric, eng_stroke_in, eng_stroke_metric, ingest_run_id)
SELECT i, (1 + i * 0.1)::text, '1', '1', (4 + 2 * (i % 3))::text, 'L', '1', '1', '1', '1', 1
FROM generate_series(1, 50) i;
INSERT INTO autocare_vcdb.fuel_type (fuel_type_id, fuel_type_name, ingest_run_id)
VALUES (1, 'GAS', 1), (2, 'DIESEL', 1), (3, 'FLEX', 1);
INSERT INTO autocare_vcdb.fuel_delivery_config (fuel_delivery_config_id, fuel_delivery_type_id,
  fuel_delivery_sub_type_id, fuel_system_control_type_id, fuel_system_design_id, ingest_run_id)
VALUES (1, 1, 1, 1, 1, 1);
INSERT INTO autocare_vcdb.engine_config2 (engine_config_id, engine_designation_id, engine_vin_id, valves_id,
  engine_base_id, engine_block_id, engine_bore_stroke_id, fuel_delivery_config_id, aspiration_id, cylinder_head_type_id,
  fuel_type_id, ignition_system_type_id, engine_mfr_id, engine_version_id, power_output_id, ingest_run_id)
SELECT i, 1, 1, 1, 1 + i % 50, 1, 1, 1, 1, 1, 1 + i % 3, 1, 1, 1, 1, 1 FROM generate_series(1, 150) i;
INSERT INTO autocare_vcdb.vehicle_to_engine_config (vehicle_to_engine_config_id, vehicle_id, engine_config_id,
  ingest_run_id)
SELECT v * 2 + k, v, 1 + (v * 7 + k * 13) % 150, 1 FROM generate_series(1, 9000) v, generate_series(0, 1) k;
INSERT INTO autocare_vcdb.drive_type (drive_type_id, drive_type_name, ingest_run_id)
VALUES (1, 'FWD', 1), (2, 'RWD', 1), (3, 'AWD', 1), (4, '4WD', 1);
INSERT INTO autocare_vcdb.vehicle_to_drive_type (vehicle_to_drive_type_id, vehicle_id, drive_type_id, ingest_run_id)
SELECT v, v, 1 + v % 4, 1 FROM generate_series(1, 9000) v;
INSERT INTO autocare_pcdb.parts (part_terminology_id, part_terminology_name, ingest_run_id)
SELECT i, 'PartType' || i, 1 FROM generate_series(1, 40) i;
INSERT INTO autocare_pcdb.positions (position_id, position, ingest_run_id)
SELECT i, 'Pos' || i, 1 FROM generate_series(1, 5) i;
INSERT INTO autocare_qdb.qualifier (qualifier_id, qualifier_text, qualifier_type_id, when_modified, ingest_run_id)
SELECT i, 'Qual text ' || i, 1, now(), 1 FROM generate_series(1, 20) i;
-- one in ten a Years range (half of them without a model), one in five with an engine base (half of those a fuel
-- type too), one in three of the others with a submodel, one in fifty ended
INSERT INTO autocare_aces.app (app_key, fitment_key, app_id, action, validate, brand_aaia_id, part_number,
  base_vehicle_id, submodel_id, year_from, year_to, make_id, model_id, engine_base_id, fuel_type_id, qualifiers, notes,
  qty, part_type_id, position_id, end_date_time, ingest_run_id)
SELECT md5('a' || i), md5('f' || i), i, 'A', 'yes', (ARRAY['BBBB', 'CCCC', 'DDDD'])[1 + i % 3], 'P' || (i % 4000),
  CASE WHEN i % 10 = 0 THEN NULL ELSE 1 + i % 3000 END,
  CASE WHEN i % 10 <> 0 AND i % 3 = 0 THEN 1 + ((1 + i % 3000) * 3 + 1) % 30 END,
  CASE WHEN i % 10 = 0 THEN 2000 + i % 10 END, CASE WHEN i % 10 = 0 THEN 2003 + i % 10 END,
  CASE WHEN i % 10 = 0 THEN 1 + (i / 10) % 20 END, CASE WHEN i % 20 = 0 THEN 1 + ((i / 10) % 20) * 10 END,
  CASE WHEN i % 5 = 1 THEN 1 + i % 50 END, CASE WHEN i % 5 = 1 AND i % 2 = 0 THEN 1 + i % 3 END,
  CASE WHEN i % 7 = 0 THEN '[{"id": ' || (1 + i % 20) || ', "params": [], "text": "Qual text"}]' END,
  CASE WHEN i % 4 = 0 THEN '[{"text": "note ' || i || '"}]' END,
  1 + i % 2, 1 + i % 40, 1 + i % 5, CASE WHEN i % 50 = 0 THEN now() END, 1
FROM generate_series(1, {apps}) i;
INSERT INTO autocare_pies.item (brand_aaia_id, part_number, file_id, maintenance_type, ingest_run_id)
SELECT b, 'P' || i, 'f1', 'A', 1 FROM generate_series(0, 3999, 2) i, unnest(ARRAY['BBBB', 'CCCC', 'DDDD']) b;
INSERT INTO autocare_pies.item_description (brand_aaia_id, part_number, description_code, language_code, sequence,
  maintenance_type, description, ingest_run_id)
SELECT brand_aaia_id, part_number, c, 'EN', 1, 'A', c || ' of ' || part_number, 1 FROM autocare_pies.item,
  unnest(ARRAY['DES', 'SHO']) c;
INSERT INTO autocare_pies.item_digital_asset (brand_aaia_id, part_number, file_name, maintenance_type, asset_type, uri,
  ingest_run_id)
SELECT brand_aaia_id, part_number, part_number || '_' || t || '.jpg', 'A', t, 'https://img.example/' || part_number, 1
FROM autocare_pies.item, unnest(ARRAY['P01', 'P04']) t;
SET session_replication_role = origin;
ANALYZE;
"""


# Run 2, a staged UPDATE file published as a release, delivers A1 again: its publication writes A1
# as run 1 left it to the outbox (the before-image, without the run column), then moves its row.
RUN_2 = (
    "INSERT INTO ingest.runs (run_id, db, kind, status, started_at) "
    "VALUES (2, 'aces', 'file', 'succeeded', '2026-02-01 00:00:00.25+00');"
    "INSERT INTO ingest.page_receipts VALUES (2, 'App', 1, 0, 0, 1);"
    "INSERT INTO ingest.releases (db, run_id, status, publication, published_at) "
    "VALUES ('aces', 2, 'published', 'staged', now());"
    "INSERT INTO ingest.changes (run_id, db, table_name, op, row_key, before, after, changed) "
    "SELECT 2, 'aces', 'App', 'u', jsonb_build_array(a.app_key), (to_jsonb(a) - 'ingest_run_id')::json, "
    "(to_jsonb(a) - 'ingest_run_id' || '{\"effective_date_time\": \"2026-02-01T00:00:00.25\"}')::json, "
    "ARRAY['effective_date_time'] FROM autocare_aces.app a WHERE a.app_key = 'A1';"
    "INSERT INTO autocare_aces.aces_file (file_id, file_name, version, submission_type, app_count, asset_count, "
    "ingest_run_id) VALUES ('f2', 'bbbb_update.xml', '4.2', 'UPDATE', 1, 0, 2);"
    "UPDATE autocare_aces.app SET effective_date_time = '2026-02-01 00:00:00.25', ingest_run_id = 2 "
    "WHERE app_key = 'A1'")  # run 2's start to the microsecond, run 1's to the second: both read
# Run 3 loads A2 again in place: no before-image, so run 1's figure becomes an upper bound.
RUN_3_IN_PLACE = (
    "INSERT INTO ingest.runs (run_id, db, kind, status, started_at, publication) "
    "VALUES (3, 'aces', 'file', 'succeeded', '2026-03-01 00:00:00+00', 'in_place');"
    "INSERT INTO ingest.page_receipts VALUES (3, 'App', 1, 0, 0, 1);"
    "INSERT INTO autocare_aces.aces_file (file_id, file_name, version, submission_type, app_count, asset_count, "
    "ingest_run_id) VALUES ('f3', 'bbbb_update_2.xml', '4.2', 'UPDATE', 1, 0, 3);"
    "UPDATE autocare_aces.app SET effective_date_time = '2026-03-01 00:00:00', ingest_run_id = 3 "
    "WHERE app_key = 'A2'")


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _fetch(url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(url)
    try:
        return [dict(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


@pytest.fixture
def small_db(database_url: str) -> str:
    _run(execute(database_url, SMALL))
    return database_url


def _pairs(url: str, view: str, column: str) -> set[tuple[str, int]]:
    rows = _run(_fetch(url, f"SELECT app_key, {column} FROM autocare_fitment.{view}"))
    return {(r["app_key"], r[column]) for r in rows}


def test_app_base_vehicle_expands_years_and_leaves_ended_applications_out(small_db: str) -> None:
    assert _pairs(small_db, "app_base_vehicle", "base_vehicle_id") == {
        ("A1", 101), ("A2", 101), ("A3", 102), ("A4", 103), ("A5", 104), ("A5", 105), ("A7", 101), ("A8", 103),
        ("A9", 102)}


def test_app_vehicle_needs_every_attribute_on_one_config_of_its_system(small_db: str) -> None:
    assert _pairs(small_db, "app_vehicle", "vehicle_id") == {
        ("A1", 1001), ("A1", 1002), ("A2", 1001), ("A3", 1003), ("A4", 1006), ("A5", 1007), ("A5", 1008),
        ("A7", 1001), ("A7", 1002), ("A8", 1005)}


def test_vehicle_part_joins_pcdb_qdb_and_the_pies_item(small_db: str) -> None:
    rows = {r["app_key"]: r for r in _run(_fetch(small_db, "SELECT * FROM autocare_fitment.vehicle_part "
                                                            "WHERE vehicle_id = 1001"))}
    assert set(rows) == {"A1", "A2", "A7"}
    a1 = rows["A1"]
    assert (a1["year"], a1["make"], a1["model"], a1["submodel"], a1["base_vehicle_id"]) == (2010, "Acme", "Roadster",
                                                                                          "Base", 101)
    assert (a1["brand"], a1["part_number"], a1["part_type"], a1["position"], a1["qty"], a1["mfr_label"]) == (
        "BBBB", "W-100", "Widget", "Front", 2, "Widget Pro")
    assert json.loads(a1["qualifiers"]) == [{"id": 901, "text": "with sport package"},
                                            {"id": 902, "text": "Without Tow Hitch"}]  # the Qdb text when none given
    assert json.loads(a1["notes"]) == [{"text": "pair"}]
    assert (a1["description"], a1["image_file_name"], a1["image_uri"]) == (
        "Widget Pro, front", "z-main.jpg", "https://img.example/z-main.jpg")  # DES over ABR, P04 over P01
    a2 = rows["A2"]
    assert (a2["description"], a2["image_file_name"], a2["image_uri"]) == ("The best rear widget", "rear.png", None)
    assert json.loads(a2["attributes"]) == {"SubModel": 11}
    a7 = rows["A7"]
    assert (a7["in_pies"], a7["description"], a7["image_file_name"]) == (False, None, None)


def test_part_vehicle_shows_the_configurations_the_application_allows(small_db: str) -> None:
    rows = _run(_fetch(small_db, "SELECT part_number, vehicle_id, year, make, model, submodel, engines, drive_types "
                                 "FROM autocare_fitment.part_vehicle WHERE brand = 'BBBB' "
                                 "ORDER BY part_number, vehicle_id"))
    got = {(r["part_number"], r["vehicle_id"]): (r["engines"], r["drive_types"]) for r in rows}
    assert got == {
        ("G-300", 1003): (["2.0L L4 GAS"], ["FWD"]),
        ("G-400", 1006): (["2.0L L4 DIESEL"], []),
        ("G-800", 1005): (["3.0L V6 DIESEL"], []),  # engine 72 only: 71 has another base
        ("W-100", 1001): (["2.0L L4 GAS"], []), ("W-100", 1002): (["3.0L V6 DIESEL"], []),
        ("W-200", 1001): (["2.0L L4 GAS"], []),
        ("W-700", 1001): (["2.0L L4 GAS"], []), ("W-700", 1002): (["3.0L V6 DIESEL"], []),
    }
    assert {(r["year"], r["make"], r["model"], r["submodel"]) for r in rows if r["part_number"] == "W-100"} == {
        (2010, "Acme", "Roadster", "Base"), (2010, "Acme", "Roadster", "Sport")}


def _cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str,
         *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_fitment_parts_text_and_json(small_db: str, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = _cli(capsys, monkeypatch, small_db, "fitment", "parts", "--vehicle", "1001")
    assert code == exit_codes.OK
    assert out.splitlines()[0] == "vehicle 1001: 2010 Acme Roadster Base (base vehicle 101)"
    assert "BBBB W-100: Widget [7001], Front [81], qty 2, Widget Pro" in out
    assert "with sport package [Qdb 901]; Without Tow Hitch [Qdb 902]" in out
    assert "image: z-main.jpg https://img.example/z-main.jpg" in out
    assert "W-600" not in out  # ended
    code, out, _ = _cli(capsys, monkeypatch, small_db, "fitment", "parts", "--vehicle", "1001", "--part-type", "7001",
                        "--json")
    doc = json.loads(out)
    assert code == exit_codes.OK and doc["message"] is None
    assert [(p["part_number"], p["position"], p["qty"]) for p in doc["parts"]] == [
        ("W-100", "Front", 2), ("W-700", "Front", 2), ("W-200", "Rear", 1)]
    assert doc["vehicle"]["submodel"] == "Base"
    code, out, _ = _cli(capsys, monkeypatch, small_db, "fitment", "parts", "--base-vehicle", "102", "--json")
    assert code == exit_codes.OK
    parts = {p["part_number"]: p for p in json.loads(out)["parts"]}
    assert set(parts) == {"G-300", "G-900"}  # G-900 names base vehicle 102 though no vehicle of it has engine 32
    assert parts["G-300"]["attributes"] == {"EngineBase": 31, "DriveType": 41}
    assert parts["G-900"]["validate"] == "no"


def test_fitment_vehicles_text_and_json(small_db: str, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = _cli(capsys, monkeypatch, small_db, "fitment", "vehicles", "--part", "W-100", "--brand", "bbbb")
    assert code == exit_codes.OK
    lines = out.splitlines()
    assert lines[0] == "part W-100 of brand BBBB: 2 vehicle(s)"
    assert lines[1].split() == ["Year", "Make", "Model", "SubModel", "Configuration"]
    assert lines[2].split()[:4] == ["2010", "Acme", "Roadster", "Base"] and "engine 2.0L L4 GAS" in lines[2]
    assert lines[3].split()[:4] == ["2010", "Acme", "Roadster", "Sport"] and "engine 3.0L V6 DIESEL" in lines[3]
    code, out, _ = _cli(capsys, monkeypatch, small_db, "fitment", "vehicles", "--part", "Y-500", "--json")
    doc = json.loads(out)
    assert code == exit_codes.OK
    assert [(v["year"], v["make"], v["model"], v["vehicle_id"], v["brand"]) for v in doc["vehicles"]] == [
        (2011, "Acme", "Roadster", 1007, "CCCC"), (2012, "Acme", "Roadster", 1008, "CCCC")]


def test_nothing_found_exits_1_with_a_message_and_bad_arguments_exit_2(
        small_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = _cli(capsys, monkeypatch, small_db, "fitment", "parts", "--vehicle", "424242")
    assert (code, out) == (exit_codes.FAILED, "")
    assert "no vehicle 424242 in autocare_vcdb.vehicle" in err
    code, _, err = _cli(capsys, monkeypatch, small_db, "fitment", "parts", "--vehicle", "1009")
    assert code == exit_codes.FAILED and "vehicle 1009 (2013 Acme Roadster Base): no live application fits it" in err
    code, out, err = _cli(capsys, monkeypatch, small_db, "fitment", "vehicles", "--part", "NOPE", "--json")
    assert code == exit_codes.FAILED and json.loads(out)["vehicles"] == []
    assert "no application for part NOPE in autocare_aces.app" in err
    code, _, err = _cli(capsys, monkeypatch, small_db, "fitment", "vehicles", "--part", "W-600")
    assert code == exit_codes.FAILED and "every application (1) has ended" in err
    code, _, err = _cli(capsys, monkeypatch, small_db, "fitment", "vehicles", "--part", "G-900")
    assert code == exit_codes.FAILED and "1 live and 0 ended application(s), none fits a vehicle" in err
    for argv in (["fitment", "parts"], ["fitment", "parts", "--vehicle", "1", "--base-vehicle", "2"],
                 ["fitment", "parts", "--vehicle", "x"], ["fitment", "parts", "--vehicle", "0"],
                 ["fitment", "vehicles"], ["fitment", "vehicles", "--part", "W-100", "--brand", "B1"],
                 ["fitment", "vehicles", "--part", "x" * 49]):
        with pytest.raises(SystemExit) as e:
            _cli(capsys, monkeypatch, small_db, *argv)
        assert e.value.code == exit_codes.USAGE, argv


def test_postgres_down_exits_5_with_one_message() -> None:
    env = {**os.environ, "DATABASE_URL": "postgresql://postgres@127.0.0.1:9/postgres"}
    for argv in (["fitment", "parts", "--vehicle", "1"], ["fitment", "vehicles", "--part", "X"], ["aces", "report"],
                 ["pies", "report", "--json"]):
        p = subprocess.run([sys.executable, "-m", "vcdb", *argv], env=env, capture_output=True, text=True,
                           timeout=60, check=False)
        assert p.returncode == exit_codes.UNAVAILABLE, (argv, p.stderr)
        assert p.stdout == "" and "Traceback" not in p.stderr
        assert p.stderr.count("\n") == 1 and "cannot connect to PostgreSQL" in p.stderr, p.stderr


def test_aces_report_counts_dead_letters_brands_duplicates_and_overlaps(
        small_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = _cli(capsys, monkeypatch, small_db, "aces", "report", "--json")
    assert code == exit_codes.OK
    doc = json.loads(out)
    assert [(d["table_name"], d["reason"], d["status"], d["n"]) for d in doc["dead_letters"]] == [
        ("App", "invalid_combination", "open", 1), ("App", "missing_parent", "open", 1)]
    assert {(w["reason"], w["missing_table"], w["n"]) for w in doc["waiting_on"]} == {
        ("invalid_combination", "vcdb.Vehicle", 1), ("missing_parent", "vcdb.BaseVehicle", 1)}
    assert doc["brands"] == [
        {"brand": "BBBB", "live": 7, "ended": 2, "parts": 7, "not_in_pies": 5},
        {"brand": "CCCC", "live": 1, "ended": 0, "parts": 1, "not_in_pies": 1}]
    # 14 received - (9 delivered rows + 2 dead letters); A10, ended by the FULL replacement, is not one of them
    assert doc["duplicates"] == [{"run_id": 1, "file_name": "bbbb_full.xml", "submission_type": "FULL",
                                  "received": 14, "distinct_apps": 11, "duplicates": 3, "exact": True, "note": None}]
    assert (doc["overlap_groups"], doc["overlap_apps"]) == (1, 2)
    assert doc["overlaps"][0]["parts"] == ["W-100", "W-700"] and doc["overlaps"][0]["base_vehicle_id"] == 101
    # A9 (validate="no", engine 32 on base vehicle 102); A6 and A10 fit nothing either, but have ended.
    assert doc["fits_no_vehicle_yet"] == {"applications": 1, "naming_nothing": 0, "validate_no": 1, "equipment": 0,
                                          "other": 0, "vcdb_release_ended": 0}
    code, out, _ = _cli(capsys, monkeypatch, small_db, "aces", "report")
    assert code == exit_codes.OK
    assert "run 1 bbbb_full.xml FULL: 14 App records, 11 distinct, 3 duplicate(s)\n" in out
    assert "  fits no vehicle yet (live applications no VCdb vehicle fits): 1 (0 naming no attribute or submodel, " \
           '1 validate="no", 0 equipment, 0 other, 0 its vehicles ended in a VCdb release (`vcdb aces impact`))\n' \
           in out
    assert "BBBB base vehicle 101, part type 7001, position 81: W-100, W-700 (2 apps" in out
    # A later UPDATE file delivers A1 again.  Run 1 left A1 all the same: the outbox keeps its before-image,
    # so run 1 shows 3 still, not 4.  An UPDATE's figure is an upper bound (D+A pairs).
    _run(execute(small_db, RUN_2))
    code, out, _ = _cli(capsys, monkeypatch, small_db, "aces", "report", "--json")
    got = [(d["run_id"], d["received"], d["distinct_apps"], d["duplicates"], d["exact"])
           for d in json.loads(out)["duplicates"]]
    assert got == [(1, 14, 11, 3, True), (2, 1, 1, 0, False)]
    assert "UPDATE" in json.loads(out)["duplicates"][1]["note"]
    # A run loaded in place leaves no before-image: the older runs' figures are upper bounds, said so.
    _run(execute(small_db, RUN_3_IN_PLACE))
    code, out, _ = _cli(capsys, monkeypatch, small_db, "aces", "report", "--json")
    doc = json.loads(out)["duplicates"]
    assert [(d["run_id"], d["distinct_apps"], d["duplicates"], d["exact"]) for d in doc] == [
        (1, 10, 4, False), (2, 1, 0, False), (3, 1, 0, False)]
    assert "without before-images" in doc[0]["note"]


def test_pies_report(small_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = _cli(capsys, monkeypatch, small_db, "pies", "report", "--json")
    assert code == exit_codes.OK
    doc = json.loads(out)
    assert doc["brands"] == [{"brand": "BBBB", "live": 2, "ended": 0}, {"brand": "CCCC", "live": 1, "ended": 0}]
    tables = {t["table_name"]: t["live"] for t in doc["tables"]}
    assert (tables["Item"], tables["ItemDescription"], tables["ItemDigitalAsset"], tables["ItemPrice"]) == (3, 4, 3, 0)
    assert doc["dead_letters"] == []


# ---- plans and timings on some thousands of applications ------------------------------------------------

def _scans(plan: dict[str, Any]) -> list[tuple[str, str]]:
    out = [(plan["Node Type"], plan.get("Relation Name", ""))]
    for child in plan.get("Plans", []):
        out += _scans(child)
    return out


async def _explain(url: str, sql: str, *args: Any, generic: bool = False) -> list[tuple[str, str]]:
    """The plan for these values, or (generic) the one a prepared statement settles on after its
    first executions, which is what a pooled connection runs."""
    conn = await asyncpg.connect(url)
    try:
        if generic:
            await conn.execute("SET plan_cache_mode = force_generic_plan")
            await conn.execute(f"PREPARE q AS {sql}")
            literals = ", ".join(str(a) if isinstance(a, int) else "'" + str(a).replace("'", "''") + "'"
                                 for a in args)
            raw = await conn.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE q({literals})")
        else:
            raw = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
    finally:
        await conn.close()
    return _scans(json.loads(raw)[0]["Plan"])


@pytest.fixture
def bulk_db(database_url: str) -> str:
    _run(execute(database_url, BULK.replace("{apps}", "20000")))
    return database_url


def test_lookups_are_index_scans_and_the_views_agree_with_the_fitment_builder(
        bulk_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    big = ("app", "vehicle", "base_vehicle")
    for sql, args in ((fitment.parts_query(base_vehicle=False, part_type=False), (4500,)),
                      (fitment.parts_query(base_vehicle=False, part_type=True), (4500, 20)),
                      (fitment.parts_query(base_vehicle=True, part_type=False), (1500,)),
                      (fitment.vehicles_query(brand=False), ("P124",)),
                      (fitment.vehicles_query(brand=True), ("P124", "DDDD"))):
        for generic in (False, True):
            scans = _run(_explain(bulk_db, sql, *args, generic=generic))
            seq = [rel for node, rel in scans if node == "Seq Scan" and rel in big]
            assert not seq, (sql, generic, scans)
            assert any(rel == "app" and node in ("Index Scan", "Bitmap Heap Scan") for node, rel in scans), (
                sql, generic, scans)
    # The way in (join keys) loses nothing that base_vehicles + vehicle_matches give, and adds nothing.
    from schemas import fitment_sql

    reference = (f"SELECT a.app_key, v.vehicle_id FROM autocare_aces.app a CROSS JOIN LATERAL "
                 f"({fitment_sql.base_vehicles('a')}) bvs(base_vehicle_id) JOIN autocare_vcdb.vehicle v "
                 f"ON v.base_vehicle_id = bvs.base_vehicle_id WHERE a.end_date_time IS NULL "
                 f"AND v.end_date_time IS NULL AND {fitment_sql.vehicle_matches('a', 'v')}")
    counts = _run(_fetch(bulk_db, f"SELECT (SELECT count(*) FROM ({reference}) r) AS ref, "
                                  "(SELECT count(*) FROM autocare_fitment.app_vehicle) AS view, "
                                  f"(SELECT count(*) FROM (({reference}) EXCEPT "
                                  "(SELECT app_key, vehicle_id FROM autocare_fitment.app_vehicle)) x) AS missing"))[0]
    assert counts["ref"] == counts["view"] > 10000 and counts["missing"] == 0, counts
    # `aces report`'s "fits no vehicle yet" asks the builder per application: the view's answer.
    unfit = _run(_fetch(bulk_db, "SELECT count(*) AS n FROM autocare_aces.app a WHERE a.end_date_time IS NULL "
                                 "AND NOT EXISTS (SELECT 1 FROM autocare_fitment.app_vehicle f "
                                 "WHERE f.app_key = a.app_key)"))[0]["n"]
    code, out, _ = _cli(capsys, monkeypatch, bulk_db, "aces", "report", "--json")
    assert code == exit_codes.OK
    counted = json.loads(out)["fits_no_vehicle_yet"]
    assert counted["applications"] == counted["other"] == unfit > 1000, (counted, unfit)  # all validated by hand


async def _timings(url: str, sql: str, args: list[tuple[Any, ...]]) -> list[float]:
    conn = await asyncpg.connect(url)
    try:
        out = []
        for a in args:
            t = time.perf_counter()
            await conn.fetch(sql, *a)
            out.append((time.perf_counter() - t) * 1000)
        return out
    finally:
        await conn.close()


def test_lookup_times(bulk_db: str) -> None:
    """p50/p95 of the two look-ups over many vehicles and parts (printed with -s; the bound is loose)."""
    for name, sql, args in (
            ("parts for vehicle", fitment.parts_query(base_vehicle=False, part_type=False),
             [(1 + (i * 37) % 9000,) for i in range(300)]),
            ("vehicles for part", fitment.vehicles_query(brand=False), [(f"P{(i * 13) % 4000}",) for i in range(300)])):
        ms = sorted(_run(_timings(bulk_db, sql, args)))
        p50, p95 = statistics.median(ms), ms[int(len(ms) * 0.95)]
        print(f"{name}: p50 {p50:.2f} ms, p95 {p95:.2f} ms over {len(ms)} calls")
        assert p95 < 250, (name, p50, p95)


# ---- against the simulator's files and their oracle -------------------------------------------------------

def test_report_agrees_with_the_oracle_of_the_simulated_files(
        database_url: str, kafka: str, start_simulator: Callable[..., Any], tmp_path: Path) -> None:
    """VCdb/PCdb/Qdb at release 1 through the API, then the simulator's ACES files through `aces load`
    and the loader: duplicates of every FULL file, live applications per brand and overlap groups as
    the oracle says, and the live applications that fit no vehicle are those it says (built to fit
    none: validate="no" on a combination no vehicle has, Years ranges naming nothing without a
    base vehicle), the others fit one."""
    sim = start_simulator("--scale", "0.01", "--seed", "42", "--release", "1")
    env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka,
           "AUTOCARE_TOKEN_URL": f"{sim.url}/connect/token", **{f"AUTOCARE_{db.upper()}_URL": sim.url
                                                                for db in ("vcdb", "pcdb", "padb", "qdb")}}

    def vcdb(*argv: str) -> str:
        p = subprocess.run([sys.executable, "-m", "vcdb", *argv], env=env, capture_output=True, text=True,
                           timeout=300, check=False)
        assert p.returncode == exit_codes.OK, (argv, p.stderr[-3000:])
        return p.stdout

    vcdb("simulator", "aces", "--out", str(tmp_path), "--scale", "0.01", "--seed", "42")
    oracle = json.loads((tmp_path / "oracle.json").read_text())
    for db in ("vcdb", "pcdb", "qdb"):
        vcdb("baseline", "--db", db)
        vcdb("consume", "--db", db, "--until-idle", "--assign", "--workers", "1")
    aces_files = [f for f in oracle["load_order"] if f in {x["file"] for x in oracle["files"]}]
    for name in aces_files:
        vcdb("aces", "load", str(tmp_path / name))
        vcdb("consume", "--db", "aces", "--until-idle", "--assign", "--workers", "1")
    report = json.loads(vcdb("aces", "report", "--json"))
    expected = {f["file"]: f for f in oracle["files"]}
    runs = report["duplicates"]
    assert [Path(r["file_name"]).name for r in runs] == aces_files
    for r in runs:
        f = expected[Path(r["file_name"]).name]
        if f["submission_type"] == "FULL":
            assert (r["duplicates"], r["exact"]) == (f["outcome_counts"].get("duplicate", 0), True), (r, f)
        else:
            assert r["duplicates"] >= f["outcome_counts"].get("duplicate", 0) and not r["exact"]
    last = oracle["files"][-1]["after"]
    assert {b["brand"]: b["live"] for b in report["brands"] if b["live"]} == last["live_by_brand"]
    # What is live of a brand is its last file's (a FULL file replaces the brand's applications).
    last_of_brand = {f["brand"]: f for f in oracle["files"]}
    assert all(f["submission_type"] == "FULL" for f in last_of_brand.values())
    assert report["overlap_groups"] == sum(f["overlap_groups"] for f in last_of_brand.values()) > 0
    unfit = _run(_fetch(database_url, "SELECT a.ref FROM autocare_aces.app a WHERE a.end_date_time IS NULL "
                                      "AND NOT EXISTS (SELECT 1 FROM autocare_fitment.app_vehicle av "
                                      "WHERE av.app_key = a.app_key)"))
    assert sorted((r["ref"] for r in unfit), key=lambda r: int(r[1:])) == last["live_fitting_nothing_refs"]
    # ... and `aces report` counts them under "fits no vehicle yet": a Years range naming nothing else, or a
    # validate="no" application naming an attribute.
    nameless = [r for r in last["live_fitting_nothing_refs"]
                if not oracle["apps"][r]["attributes"] and "submodel" not in oracle["apps"][r]["vehicle"]]
    assert report["fits_no_vehicle_yet"] == {
        "applications": len(last["live_fitting_nothing_refs"]), "naming_nothing": len(nameless),
        "validate_no": len(last["live_fitting_nothing_refs"]) - len(nameless), "equipment": 0, "other": 0,
        "vcdb_release_ended": 0}
    assert nameless and len(nameless) < len(last["live_fitting_nothing_refs"])
