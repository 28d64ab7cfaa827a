"""What several test modules use: the settings of a test's services, a generated ACES file, the
oracle comparison of every VCdb table, the applied-batch check, and a small fitment data set.  Test
modules import helpers from here (or tests/integration/pipeline.py), never from each other."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from schemas.catalog import load_catalog
from schemas.settings import Settings
from tests.integration.pipeline import fetch, service_env

# Where the services the tests start keep their data and logs.
WORKDIR = Path(__file__).resolve().parent.parent / ".vcdb" / "test-services"

VCDB = load_catalog("vcdb")
TABLES = [t for t in VCDB.api_tables() if t.name != "VCdbChanges"]


def key_json(key: Any) -> str:
    """A key as on the topic: its values as a compact JSON array."""
    return json.dumps(list(key), separators=(",", ":"), default=str)


def settings_for(database_url: str, kafka: str, api_url: str = "http://127.0.0.1:9") -> Settings:
    """The settings `cli_env` gives a subprocess, built in this process."""
    return Settings(**service_env(database_url, kafka, api_url))  # type: ignore[arg-type]


def write_aces_file(path: Path, apps: int, *, submission: str = "FULL", broken_after: int | None = None,
                    compress: bool = False, seed: int = 0) -> Path:
    """A generated ACES 4.2 file of `apps` distinct applications (made-up ids), streamed to disk;
    with `broken_after`, the XML breaks inside the App after that many complete ones."""
    opener = gzip.open if compress else open
    with opener(path, "wt", encoding="utf-8") as f:  # type: ignore[operator]
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<ACES version="4.2">\n<Header><Company>Gen</Company>'
                f"<BrandAAIAID>ZZXB</BrandAAIAID><SubmissionType>{submission}</SubmissionType>"
                "<VcdbVersionDate>2026-01-01</VcdbVersionDate><QdbVersionDate>2026-01-01</QdbVersionDate>"
                "<PcdbVersionDate>2026-01-01</PcdbVersionDate></Header>\n")
        for i in range(1, apps + 1):
            if broken_after is not None and i == broken_after + 1:
                f.write(f'<App action="A" id="{i}"><BaseVehicle id="{800000 + i}"\n</ACES>\n')
                return path
            f.write(f'<App action="A" id="{i}"><BaseVehicle id="{800000 + i}"/><EngineBase id="{seed + i % 97}"/>'
                    f'<Qual id="{900000 + i % 13}"><param value="{i % 7}" uom="in"/><text>with widget</text></Qual>'
                    f"<Note>note {i}</Note><Qty>1</Qty><PartType id=\"900501\"/><Position id=\"900601\"/>"
                    f"<Part>G-{i}</Part></App>\n")
        f.write(f"<Footer><RecordCount>{apps}</RecordCount></Footer>\n</ACES>\n")
    return path


async def table_rows(url: str, name: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    table = VCDB.tables[name]
    cols = [c.canonical for c in table.columns]
    rows = await fetch(url, f"SELECT {', '.join(cols)} FROM autocare_vcdb.{table.canonical}")
    return {tuple(r[k] for k in table.key_canonical): dict(r) for r in rows}


async def compare_with_oracle(url: str, expected: Callable[[str], list[dict[str, Any]]]) -> None:
    for table in TABLES:
        want = {tuple(r[k] for k in table.key_canonical): r for r in expected(table.name)}
        got = await table_rows(url, table.name)
        assert got.keys() == want.keys(), (f"{table.name}: missing {sorted(want.keys() - got.keys())[:5]}, "
                                           f"unexpected {sorted(got.keys() - want.keys())[:5]}")
        for key, row in want.items():
            assert got[key] == row, f"{table.name} {key}: loaded {got[key]}, oracle {row}"


async def assert_no_batch_applied_twice(url: str) -> None:
    batches = await fetch(url, "SELECT topic, partition, first_offset, last_offset FROM ingest.applied_batches "
                               "ORDER BY topic, partition, first_offset")
    last: dict[tuple[str, int], int] = {}
    for b in batches:
        tp = (b["topic"], b["partition"])
        assert b["first_offset"] > last.get(tp, -1), f"batch applied twice or overlapping: {dict(b)}"
        last[tp] = b["last_offset"]


# The fitment views' small data set: two makes, a few vehicles, applications and items.
SMALL = """
SET session_replication_role = replica;
INSERT INTO autocare_vcdb.make (make_id, make_name, ingest_run_id) VALUES (1, 'Acme', 1), (2, 'Zenith', 1);
INSERT INTO autocare_vcdb.model (model_id, model_name, vehicle_type_id, ingest_run_id)
VALUES (2, 'Roadster', 5, 1), (3, 'Hauler', 5, 1);
INSERT INTO autocare_vcdb.submodel (submodel_id, submodel_name, ingest_run_id) VALUES (11, 'Base', 1), (12, 'Sport', 1);
INSERT INTO autocare_vcdb.base_vehicle (base_vehicle_id, year_id, make_id, model_id, ingest_run_id) VALUES
  (101, 2010, 1, 2, 1), (102, 2010, 1, 3, 1), (103, 2011, 1, 3, 1), (104, 2011, 1, 2, 1), (105, 2012, 1, 2, 1),
  (106, 2013, 1, 2, 1);
INSERT INTO autocare_vcdb.vehicle (vehicle_id, base_vehicle_id, submodel_id, region_id, ingest_run_id) VALUES
  (1001, 101, 11, 1, 1), (1002, 101, 12, 1, 1), (1003, 102, 11, 1, 1), (1004, 102, 12, 1, 1), (1005, 103, 11, 1, 1),
  (1006, 103, 12, 1, 1), (1007, 104, 11, 1, 1), (1008, 105, 11, 1, 1), (1009, 106, 11, 1, 1);
INSERT INTO autocare_vcdb.engine_base (engine_base_id, liter, cc, c_id, cylinders, block_type, eng_bore_in,
  eng_bore_metric, eng_stroke_in, eng_stroke_metric, ingest_run_id)
VALUES (31, '2.0', '1998', '122', '4', 'L', '1', '1', '1', '1', 1),
       (32, '3.0', '2997', '183', '6', 'V', '1', '1', '1', '1', 1);
INSERT INTO autocare_vcdb.fuel_type (fuel_type_id, fuel_type_name, ingest_run_id)
VALUES (51, 'GAS', 1), (52, 'DIESEL', 1);
INSERT INTO autocare_vcdb.fuel_delivery_config (fuel_delivery_config_id, fuel_delivery_type_id,
  fuel_delivery_sub_type_id, fuel_system_control_type_id, fuel_system_design_id, ingest_run_id)
VALUES (61, 1, 1, 1, 1, 1);
INSERT INTO autocare_vcdb.engine_config2 (engine_config_id, engine_designation_id, engine_vin_id, valves_id,
  engine_base_id, engine_block_id, engine_bore_stroke_id, fuel_delivery_config_id, aspiration_id, cylinder_head_type_id,
  fuel_type_id, ignition_system_type_id, engine_mfr_id, engine_version_id, power_output_id, ingest_run_id)
VALUES (71, 1, 1, 1, 31, 1, 1, 61, 1, 1, 51, 1, 1, 1, 1, 1), (72, 1, 1, 1, 32, 1, 1, 61, 1, 1, 52, 1, 1, 1, 1, 1),
       (73, 1, 1, 1, 31, 1, 1, 61, 1, 1, 52, 1, 1, 1, 1, 1);
INSERT INTO autocare_vcdb.vehicle_to_engine_config (vehicle_to_engine_config_id, vehicle_id, engine_config_id,
  ingest_run_id) VALUES (1, 1001, 71, 1), (2, 1002, 72, 1), (3, 1003, 71, 1), (4, 1004, 71, 1), (5, 1005, 71, 1),
  (6, 1005, 72, 1), (7, 1006, 73, 1);
INSERT INTO autocare_vcdb.drive_type (drive_type_id, drive_type_name, ingest_run_id)
VALUES (41, 'FWD', 1), (42, 'RWD', 1);
INSERT INTO autocare_vcdb.vehicle_to_drive_type (vehicle_to_drive_type_id, vehicle_id, drive_type_id, ingest_run_id)
VALUES (1, 1003, 41, 1), (2, 1004, 42, 1);
INSERT INTO autocare_pcdb.parts (part_terminology_id, part_terminology_name, ingest_run_id)
VALUES (7001, 'Widget', 1), (7002, 'Gadget', 1);
INSERT INTO autocare_pcdb.positions (position_id, position, ingest_run_id) VALUES (81, 'Front', 1), (82, 'Rear', 1);
INSERT INTO autocare_qdb.qualifier (qualifier_id, qualifier_text, qualifier_type_id, when_modified, ingest_run_id)
VALUES (901, 'With Sport Package', 1, now(), 1), (902, 'Without Tow Hitch', 1, now(), 1);
INSERT INTO autocare_aces.app (app_key, fitment_key, app_id, action, validate, brand_aaia_id, part_number,
  base_vehicle_id, submodel_id, year_from, year_to, make_id, model_id, engine_base_id, fuel_type_id, drive_type_id,
  qualifiers, notes, qty, part_type_id, position_id, mfr_label, effective_date_time, end_date_time, ingest_run_id)
VALUES
 ('A1', 'F1', 1, 'A', 'yes', 'BBBB', 'W-100', 101, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  '[{"id": 901, "params": [], "text": "with sport package"}, {"id": 902, "params": []}]', '[{"text": "pair"}]',
  2, 7001, 81, 'Widget Pro', '2026-01-01', NULL, 1),
 ('A2', 'F2', 2, 'A', 'yes', 'BBBB', 'W-200', 101, 11, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, 1, 7001, 82, NULL, '2026-01-01', NULL, 1),
 ('A3', 'F3', 3, 'A', 'yes', 'BBBB', 'G-300', 102, NULL, NULL, NULL, NULL, NULL, 31, NULL, 41,
  NULL, NULL, 1, 7002, NULL, NULL, '2026-01-01', NULL, 1),
 ('A4', 'F4', 4, 'A', 'yes', 'BBBB', 'G-400', 103, NULL, NULL, NULL, NULL, NULL, 31, 52, NULL,
  NULL, NULL, 1, 7002, NULL, NULL, '2026-01-01', NULL, 1),
 ('A5', 'F5', 5, 'A', 'yes', 'CCCC', 'Y-500', NULL, NULL, 2011, 2012, 1, 2, NULL, NULL, NULL,
  NULL, NULL, 4, 7001, 81, NULL, '2026-01-01', NULL, 1),
 ('A6', 'F1', 6, 'D', 'yes', 'BBBB', 'W-600', 101, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, 1, 7001, 81, NULL, '2026-01-01', '2026-01-01', 1),
 ('A7', 'F1', 7, 'A', 'yes', 'BBBB', 'W-700', 101, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, 2, 7001, 81, NULL, '2026-01-01', NULL, 1),
 ('A8', 'F8', 8, 'A', 'no', 'BBBB', 'G-800', 103, NULL, NULL, NULL, NULL, NULL, 32, NULL, NULL,
  NULL, NULL, 1, 7002, NULL, NULL, '2026-01-01', NULL, 1),
 ('A9', 'F9', 9, 'A', 'no', 'BBBB', 'G-900', 102, NULL, NULL, NULL, NULL, NULL, 32, NULL, NULL,
  NULL, NULL, 1, 7002, NULL, NULL, '2026-01-01', NULL, 1),
 -- delivered by an earlier file, ended by run 1's FULL replacement (end = run start, not its effective)
 ('A10', 'F10', 10, 'A', 'yes', 'BBBB', 'W-999', 101, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, 1, 7001, 81, NULL, '2025-06-01', '2026-01-02', 1);
INSERT INTO autocare_pies.item (brand_aaia_id, part_number, file_id, maintenance_type, ingest_run_id)
VALUES ('BBBB', 'W-100', 'p1', 'A', 2), ('BBBB', 'W-200', 'p1', 'A', 2), ('CCCC', 'W-100', 'p1', 'A', 2);
INSERT INTO autocare_pies.item_description (brand_aaia_id, part_number, description_code, language_code, sequence,
  maintenance_type, description, ingest_run_id) VALUES
  ('BBBB', 'W-100', 'ABR', 'EN', 1, 'A', 'WDG PRO', 2), ('BBBB', 'W-100', 'DES', 'EN', 1, 'A', 'Widget Pro, front', 2),
  ('BBBB', 'W-200', 'MKT', 'EN', 1, 'A', 'The best rear widget', 2),
  ('CCCC', 'W-100', 'DES', 'EN', 1, 'A', 'Another brand''s W-100', 2);
INSERT INTO autocare_pies.item_digital_asset (brand_aaia_id, part_number, file_name, maintenance_type, asset_type, uri,
  ingest_run_id) VALUES
  ('BBBB', 'W-100', 'a-side.jpg', 'A', 'P01', 'https://img.example/a-side.jpg', 2),
  ('BBBB', 'W-100', 'z-main.jpg', 'A', 'P04', 'https://img.example/z-main.jpg', 2),
  ('BBBB', 'W-200', 'rear.png', 'A', 'P02', NULL, 2);
-- Run 1 delivered 14 App records: 9 applications that loaded (A1-A9, effective = the run's start), 2
-- dead-lettered, 3 duplicates.
INSERT INTO ingest.runs (run_id, db, kind, status, started_at)
VALUES (1, 'aces', 'file', 'succeeded', '2026-01-01 00:00:00+00');
INSERT INTO ingest.page_receipts (run_id, table_name, page, partition, last_index, records)
VALUES (1, 'App', 1, 0, 9, 10), (1, 'App', 1, 1, 3, 4);
INSERT INTO autocare_aces.aces_file (file_id, file_name, version, submission_type, app_count, asset_count,
  ingest_run_id) VALUES ('f1', 'bbbb_full.xml', '4.2', 'FULL', 14, 0, 1);
INSERT INTO ingest.dead_letters (db, table_name, run_id, topic, partition, "offset", record_key, record, headers,
  reason, missing_table, missing_key, message) VALUES
  ('aces', 'App', 1, 'autocare.aces.app', 0, 5, '["DL1"]', '{}', '{}', 'invalid_combination', 'vcdb.Vehicle', NULL,
   'App: no vehicle'),
  ('aces', 'App', 1, 'autocare.aces.app', 1, 2, '["DL2"]', '{}', '{}', 'missing_parent', 'vcdb.BaseVehicle',
   '[777]', 'App.BaseVehicleID = 777 has no row');
SET session_replication_role = origin;
"""
