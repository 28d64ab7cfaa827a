"""Fitment look-ups and reports without a database: the SQL builders, the value types from rows,
the error verdicts, the text renderings and the command line."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from consumers import fitment
from consumers.fitment import AcesReport, FitPart, FitVehicle, PartPresence, Vehicle
from ledger.errors import InfrastructureError
from schemas import fitment_sql
from vcdb import cli, exit_codes
from vcdb.fitment_report import (
    PartsResult,
    VehiclesResult,
    configuration,
    parts_json,
    render_aces_report,
    render_parts,
    render_vehicles,
)


def _part(**kw: Any) -> FitPart:
    base: dict[str, Any] = dict(
        app_key="k1", brand="BBBB", part_number="W-100", part_type_id=7001, part_type="Widget", position_id=81,
        position="Front", qty=2, mfr_label=None, qualifiers=[], notes=[], attributes={}, validate="yes",
        in_pies=True, description=None, image_file_name=None, image_uri=None)
    return FitPart(**{**base, **kw})


def _vehicle(**kw: Any) -> FitVehicle:
    base: dict[str, Any] = dict(
        brand="BBBB", part_number="W-100", part_type_id=7001, part_type="Widget", position_id=81, year=2010,
        make="Acme", model="Roadster", submodel="Base", base_vehicle_id=101, vehicle_id=1001, region=None,
        engines=[], drive_types=[], transmissions=[], body_styles=[])
    return FitVehicle(**{**base, **kw})


# ---- SQL builders ---------------------------------------------------------------------------------

def test_parts_query_reads_the_view_of_its_target_with_the_optional_part_type() -> None:
    by_vehicle = fitment.parts_query(base_vehicle=False, part_type=False)
    assert "FROM autocare_fitment.vehicle_part p WHERE p.vehicle_id = $1 ORDER BY" in by_vehicle
    assert "$2" not in by_vehicle
    typed = fitment.parts_query(base_vehicle=False, part_type=True)
    assert "p.vehicle_id = $1 AND p.part_type_id = $2 ORDER BY" in typed
    by_base = fitment.parts_query(base_vehicle=True, part_type=True)
    assert "(SELECT DISTINCT abv.app_key AS wanted FROM autocare_fitment.app_base_vehicle abv " \
           "WHERE abv.base_vehicle_id = $1) k CROSS JOIN LATERAL (SELECT * FROM autocare_fitment.app_part a " \
           "WHERE a.app_key = k.wanted OFFSET 0) p WHERE p.part_type_id = $2 ORDER BY" in by_base
    assert "vehicle_part" not in by_base


def test_vehicles_query_filters_brand_only_when_given_and_lists_each_vehicle_once() -> None:
    plain = fitment.vehicles_query(brand=False)
    assert plain.startswith("SELECT DISTINCT ") and "WHERE part_number = $1 ORDER BY" in plain
    assert "brand = $2" not in plain
    assert "WHERE part_number = $1 AND brand = $2 ORDER BY" in fitment.vehicles_query(brand=True)
    assert "brand_aaia_id = $2" in fitment.presence_query(brand=True)
    assert "$2" not in fitment.presence_query(brand=False)


def test_table_counts_cover_every_pies_table() -> None:
    sql = fitment.table_counts_query("pies")
    for table, canonical in (("Item", "item"), ("ItemDescription", "item_description"), ("PiesFile", "pies_file"),
                             ("ItemDigitalAsset", "item_digital_asset"), ("ItemPrice", "item_price")):
        assert f"SELECT '{table}' AS table_name" in sql and f'"autocare_pies"."{canonical}"' in sql
    assert sql.count(" UNION ALL ") == 8


# ---- reads through a fake pool ----------------------------------------------------------------------

class FakePool:
    """Answers by the first registered fragment found in the query; records what was asked."""

    def __init__(self, answers: dict[str, list[dict[str, Any]]] | None = None, error: BaseException | None = None):
        self.answers = answers or {}
        self.error = error
        self.asked: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, query: str, *args: Any) -> list[dict[str, Any]]:
        self.asked.append((query, args))
        if self.error is not None:
            raise self.error
        for fragment, rows in self.answers.items():
            if fragment in query:
                return rows
        return []


class UndefinedTable(Exception):
    sqlstate = "42P01"


def test_errors_get_their_verdict() -> None:
    with pytest.raises(InfrastructureError, match="connection lost"):
        asyncio.run(fitment.vehicle(FakePool(error=ConnectionResetError("reset")), 1))
    with pytest.raises(fitment.NotMigrated, match="vcdb migrate"):
        asyncio.run(fitment.parts_for_vehicle(FakePool(error=UndefinedTable("no view")), 1))
    with pytest.raises(ZeroDivisionError):  # anything else is not ours to name
        asyncio.run(fitment.vehicle(FakePool(error=ZeroDivisionError()), 1))


def test_parts_come_back_with_their_json_decoded_and_the_arguments_bound() -> None:
    row = {"app_key": "k1", "brand": "BBBB", "part_number": "W-100", "part_type_id": 7001, "part_type": "Widget",
           "position_id": None, "position": None, "qty": 1, "mfr_label": None,
           "qualifiers": '[{"id": 901, "text": "with sport package"}]', "notes": None,
           "attributes": '{"EngineBase": 31}', "validate": "yes", "in_pies": False, "description": None,
           "image_file_name": None, "image_uri": None}
    pool = FakePool({"vehicle_part": [row]})
    parts = asyncio.run(fitment.parts_for_vehicle(pool, 1001, 7001))
    assert parts[0].qualifiers == [{"id": 901, "text": "with sport package"}]
    assert parts[0].notes == [] and parts[0].attributes == {"EngineBase": 31}
    assert pool.asked[0][1] == (1001, 7001)


def test_aces_report_duplicates_and_overlap_totals() -> None:
    pool = FakePool({
        "WITH received AS": [{"run_id": 3, "file_name": "f.xml", "submission_type": "FULL", "received": 14,
                              "distinct_apps": 11, "traced": True}],
        "HAVING count(DISTINCT part_number) > 1": [
            {"brand": "BBBB", "fitment_key": "F1", "apps": 3, "parts": ("A", "B"), "base_vehicle_id": 101,
             "year_from": None, "year_to": None, "make_id": None, "model_id": None, "part_type_id": 7001,
             "position_id": None, "groups": 4, "grouped_apps": 9}],
        "AS naming_nothing": [
            {"applications": 6, "naming_nothing": 3, "validate_no": 2, "equipment": 1, "other": 0}]})
    report = asyncio.run(fitment.aces_report(pool, sample=1))
    assert report.duplicates == [{"run_id": 3, "file_name": "f.xml", "submission_type": "FULL", "received": 14,
                                  "distinct_apps": 11, "duplicates": 3, "exact": True, "note": None}]
    assert (report.overlap_groups, report.overlap_apps) == (4, 9)
    assert report.overlaps[0]["parts"] == ["A", "B"] and "groups" not in report.overlaps[0]
    assert any(args == (1,) for q, args in pool.asked if "LIMIT $1" in q)
    assert any(args == ("aces",) for q, args in pool.asked if "ingest.dead_letters" in q)
    assert report.fits_no_vehicle_yet == {"applications": 6, "naming_nothing": 3, "validate_no": 2, "equipment": 1,
                                          "other": 0}


def test_fits_no_vehicle_yet_counts_live_applications_the_views_fit_to_nothing() -> None:
    sql = " ".join(fitment._FITS_NO_VEHICLE.split())
    live_vehicle = " ".join(fitment_sql.any_vehicle_matches("a", live=True).split())
    assert "JOIN \"autocare_vcdb\".\"vehicle\" v ON v.base_vehicle_id = bvs.base_vehicle_id " \
           "AND v.end_date_time IS NULL WHERE" in live_vehicle
    assert f"FROM autocare_aces.app a WHERE a.end_date_time IS NULL AND NOT {live_vehicle}) u" in sql
    assert f"{fitment_sql.names_any('a')} AS names" in sql  # "naming nothing" is the loader's rule's
    kinds = {"naming_nothing": "NOT equipment AND NOT names", "validate_no": "NOT equipment AND names AND waived",
             "equipment": "equipment", "other": "NOT equipment AND names AND NOT waived"}
    for kind, condition in kinds.items():
        assert f"count(*) FILTER (WHERE NOT ended_by_release AND {condition}) AS {kind}" in sql
    # One kind each: an application a VCdb release left fitting nothing is counted there first.
    assert "count(*) FILTER (WHERE ended_by_release) AS vcdb_release_ended" in sql
    assert "a.app_key = ANY($1::text[]) AS ended_by_release" in sql


def test_fits_no_vehicle_yet_asks_with_the_applications_a_vcdb_release_left_fitting_nothing() -> None:
    pool = FakePool({"DISTINCT ON (i.app_key)": [{"app_key": "k1"}, {"app_key": "k2"}],
                     "AS vcdb_release_ended": [{"applications": 2, "vcdb_release_ended": 2}]})
    report = asyncio.run(fitment.aces_report(pool))
    (args,) = [a for q, a in pool.asked if "AS vcdb_release_ended" in q]
    assert args == (["k1", "k2"],)
    assert report.fits_no_vehicle_yet == {"applications": 2, "vcdb_release_ended": 2}
    (newest,) = [q for q, _ in pool.asked if "DISTINCT ON (i.app_key)" in q]
    assert "ingest.fitment_impact" in newest and "ORDER BY i.app_key, x.release_id DESC" in newest


@pytest.mark.parametrize(("submission", "traced", "note"), [
    ("FULL", True, None), ("full", True, None),
    ("FULL", False, "a later run changed App without before-images"),
    ("UPDATE", True, "a D and an A of one application"), (None, True, "header row was replaced"),
])
def test_duplicates_are_exact_for_a_full_file_whose_rows_are_traced(
        submission: str | None, traced: bool, note: str | None) -> None:
    d = fitment.duplicates({"run_id": 1, "file_name": "f", "submission_type": submission, "received": 10,
                            "distinct_apps": 7, "traced": traced})
    assert d["duplicates"] == 3 and d["exact"] is (note is None)
    assert (d["note"] is None) if note is None else (note in d["note"] and d["note"].startswith("at most"))


# ---- results and renderings ---------------------------------------------------------------------------

def test_messages_say_why_nothing_was_found() -> None:
    v = Vehicle(1009, 106, 2013, "Acme", "Roadster", "Base")
    assert PartsResult("vehicle", 5, None).message == "no vehicle 5 in autocare_vcdb.vehicle"
    assert PartsResult("base vehicle", 5, None).message == "no base vehicle 5 in autocare_vcdb.base_vehicle"
    assert PartsResult("vehicle", 1009, v).message == \
        "vehicle 1009 (2013 Acme Roadster Base): no live application fits it"
    assert str(PartsResult("vehicle", 1009, v, 7001).message).endswith("no live application of part type 7001 fits it")
    assert PartsResult("vehicle", 1009, v, None, [_part()]).message is None
    assert VehiclesResult("X", None, PartPresence(0, 0)).message == "no application for part X in autocare_aces.app"
    assert VehiclesResult("X", "BBBB", PartPresence(0, 2)).message == \
        "part X of brand BBBB: every application (2) has ended"
    assert "1 live and 2 ended application(s), none fits" in str(VehiclesResult("X", None, PartPresence(1, 2)).message)
    assert VehiclesResult("X", None, None, [_vehicle()]).message is None


def test_render_parts_lists_what_a_counter_person_needs() -> None:
    result = PartsResult("vehicle", 1001, Vehicle(1001, 101, 2010, "Acme", "Roadster", "Base"), None, [
        _part(mfr_label="Widget Pro", description="Widget Pro, front", attributes={"EngineBase": 31},
              qualifiers=[{"id": 901, "text": "with sport package"}], notes=[{"text": "pair"}],
              image_file_name="z.jpg", image_uri="https://img/z.jpg"),
        _part(app_key="k2", brand=None, part_number="N-1", position_id=None, position=None, qty=None, in_pies=False)])
    lines = render_parts(result).splitlines()
    assert lines[:3] == ["vehicle 1001: 2010 Acme Roadster Base (base vehicle 101)", "  2 part(s)",
                         "  BBBB W-100: Widget [7001], Front [81], qty 2, Widget Pro"]
    assert lines[3:8] == ["      Widget Pro, front", "      fits with: EngineBase 31",
                          "      qualifiers: with sport package [Qdb 901]", "      notes: pair",
                          "      image: z.jpg https://img/z.jpg"]
    assert lines[8:] == ["  - N-1: Widget [7001], no position, qty -", "      (no PIES item)"]
    doc = parts_json(result)
    assert doc["vehicle"]["make"] == "Acme" and doc["parts"][0]["qualifiers"][0]["id"] == 901 and doc["message"] is None


def test_render_vehicles_aligns_year_make_model_submodel_and_configuration() -> None:
    result = VehiclesResult("W-100", "BBBB", None, [
        _vehicle(engines=["2.0L L4 GAS", "3.0L V6 GAS"], drive_types=["FWD"]),
        _vehicle(year=2011, make="Zenith", model="Hauler", submodel=None, vehicle_id=1010)])
    lines = render_vehicles(result).splitlines()
    assert lines[0] == "part W-100 of brand BBBB: 2 vehicle(s)"
    assert lines[1] == "  Year  Make    Model     SubModel  Configuration"
    assert lines[2] == "  2010  Acme    Roadster  Base      engine 2.0L L4 GAS, 3.0L V6 GAS; drive FWD  " \
                       "(vehicle 1001, Widget [7001])"
    assert lines[3] == "  2011  Zenith  Hauler    -         -  (vehicle 1010, Widget [7001])"
    assert configuration(_vehicle(transmissions=["Automatic 6-speed"], body_styles=["4-door Sedan"])) == \
        "transmission Automatic 6-speed; body 4-door Sedan"


def test_render_aces_report() -> None:
    report = AcesReport(
        dead_letters=[{"table_name": "App", "reason": "invalid_combination", "status": "open", "n": 4},
                      {"table_name": "App", "reason": "missing_parent", "status": "open", "n": 1}],
        waiting_on=[{"table_name": "App", "reason": "missing_parent", "missing_table": "vcdb.BaseVehicle", "n": 1}],
        brands=[{"brand": "BBBB", "live": 7, "ended": 2, "parts": 7, "not_in_pies": 5}],
        duplicates=[{"run_id": 1, "file_name": "a.xml", "submission_type": "UPDATE", "received": 14,
                     "distinct_apps": 11, "duplicates": 3, "exact": False, "note": "at most: why"}],
        overlap_groups=1, overlap_apps=2,
        overlaps=[{"brand": "BBBB", "fitment_key": "F1", "apps": 2, "parts": ["W-100", "W-700"],
                   "base_vehicle_id": None, "year_from": 2011, "year_to": 2012, "make_id": 1, "model_id": None,
                   "part_type_id": 7001, "position_id": 81}],
        fits_no_vehicle_yet={"applications": 7, "vcdb_release_ended": 1, "naming_nothing": 3, "validate_no": 2,
                             "equipment": 1, "other": 0})
    text = render_aces_report(report)
    assert "\n  fits no vehicle yet (live applications no VCdb vehicle fits): 7 (3 naming no attribute or submodel, " \
           '2 validate="no", 1 equipment, 0 other, 1 its vehicles ended in a VCdb release (`vcdb aces impact`))\n' \
           in text
    assert "\n  fits no vehicle yet (live applications no VCdb vehicle fits): 0\n" in \
        render_aces_report(AcesReport(fits_no_vehicle_yet={"applications": 0}))
    assert "  dead letters (open): 5\n" in text
    assert "App missing_parent waiting on vcdb.BaseVehicle: 1" in text
    assert "    BBBB          7        2       7            5" in text
    assert "run 1 a.xml UPDATE: 14 App records, 11 distinct, 3 duplicate(s) (at most: why)" in text
    assert "BBBB years 2011-2012 make 1, part type 7001, position 81: W-100, W-700 (2 apps, fitment key F1)" in text


# ---- command line ---------------------------------------------------------------------------------------

def test_the_parser_takes_the_fitment_and_report_commands() -> None:
    p = cli.build_parser()
    a = p.parse_args(["fitment", "parts", "--base-vehicle", "101", "--part-type", "7001", "--json"])
    assert (a.command, a.fitment_command, a.vehicle, a.base_vehicle, a.part_type, a.as_json) == (
        "fitment", "parts", None, 101, 7001, True)
    a = p.parse_args(["fitment", "vehicles", "--part", "W-100", "--brand", "bbbb"])
    assert (a.part, a.brand) == ("W-100", "BBBB")
    a = p.parse_args(["aces", "report", "--sample", "3"])
    assert (a.command, a.aces_command, a.sample, a.as_json) == ("aces", "report", 3, False)
    assert p.parse_args(["pies", "report", "--json"]).pies_command == "report"


@pytest.mark.parametrize("argv", [
    ["fitment", "parts"], ["fitment", "parts", "--vehicle", "1", "--base-vehicle", "1"],
    ["fitment", "parts", "--vehicle", "-3"], ["fitment", "parts", "--vehicle", "1", "--part-type", "x"],
    ["fitment", "vehicles"], ["fitment", "vehicles", "--part", " "], ["fitment", "vehicles", "--part", "x" * 49],
    ["fitment", "vehicles", "--part", "W", "--brand", "BBBBB"], ["aces", "report", "--sample", "0"],
])
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        cli.build_parser().parse_args(argv)
    assert e.value.code == exit_codes.USAGE
    assert "error:" in capsys.readouterr().err
