"""The vehicle drill-down (web/vehicles.py): each level's JSON against the OpenAPI document, the
counts, filters only for attributes that vary, end-dated rows hidden unless deleted=1, 404s and
400s, escaping, and one click-through in headless Chromium with a screenshot of each page."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.integration.browser import chromium, explorer, get_json, screenshot, validator
from tests.integration.pipeline import execute, fetch

# A hand-made VCdb: 2015 Acme Roadster (base vehicle 201) has vehicles 2001 (Base, 2.0 L4) and 2002
# (Sport, 3.0 V6), both Electronic 6-speed, 4-door Sedan, FWD; 2003 (Sport) is end-dated, and so are
# 2002's RWD link and base vehicle 205 (2015 Acme Ghost).  2015 Acme Hauler (202), 2015 make 2 (its
# name holds <script>) Roadster (203), 2014 Acme Roadster (204).  Vehicle 2001 has every configuration.
VCDB = """
SET session_replication_role = replica;
INSERT INTO autocare_vcdb.make (make_id, make_name, ingest_run_id)
  VALUES (1, 'Acme', 1), (2, '<script>alert(1)</script>', 1);
INSERT INTO autocare_vcdb.model (model_id, model_name, vehicle_type_id, ingest_run_id)
VALUES (10, 'Roadster', 5, 1), (11, 'Hauler', 5, 1), (12, 'Ghost', 5, 1);
INSERT INTO autocare_vcdb.submodel (submodel_id, submodel_name, ingest_run_id)
  VALUES (21, 'Base', 1), (22, 'Sport', 1);
INSERT INTO autocare_vcdb.region (region_id, region_abbr, region_name, ingest_run_id)
  VALUES (1, 'US', 'United States', 1);
INSERT INTO autocare_vcdb.base_vehicle (base_vehicle_id, year_id, make_id, model_id, ingest_run_id,
  end_date_time) VALUES
  (201, 2015, 1, 10, 1, NULL), (202, 2015, 1, 11, 1, NULL), (203, 2015, 2, 10, 1, NULL), (204, 2014, 1, 10, 1, NULL),
  (205, 2015, 1, 12, 1, '2020-01-01');
INSERT INTO autocare_vcdb.vehicle (vehicle_id, base_vehicle_id, submodel_id, region_id, ingest_run_id,
  end_date_time) VALUES
  (2001, 201, 21, 1, 1, NULL), (2002, 201, 22, 1, 1, NULL), (2003, 201, 22, 1, 1, '2020-01-01'),
  (2004, 202, 21, 1, 1, NULL), (2005, 203, 21, 1, 1, NULL), (2006, 204, 21, 1, 1, NULL), (2007, 205, 21, 1, 1, NULL);
INSERT INTO autocare_vcdb.engine_base (engine_base_id, liter, cc, c_id, cylinders, block_type, eng_bore_in,
  eng_bore_metric, eng_stroke_in, eng_stroke_metric, ingest_run_id)
VALUES (31, '2.0', '1998', '122', '4', 'L', '1', '1', '1', '1', 1), (32, '3.0', '2997', '183', '6', 'V', '1',
  '1', '1', '1', 1);
INSERT INTO autocare_vcdb.fuel_type (fuel_type_id, fuel_type_name, ingest_run_id) VALUES (51, 'GAS', 1);
INSERT INTO autocare_vcdb.aspiration (aspiration_id, aspiration_name, ingest_run_id) VALUES (1, 'Turbocharged', 1);
INSERT INTO autocare_vcdb.engine_config2 (engine_config_id, engine_designation_id, engine_vin_id, valves_id,
  engine_base_id, engine_block_id, engine_bore_stroke_id, fuel_delivery_config_id, aspiration_id,
  cylinder_head_type_id,
  fuel_type_id, ignition_system_type_id, engine_mfr_id, engine_version_id, power_output_id, ingest_run_id)
VALUES (71, 1, 1, 1, 31, 1, 1, 1, 1, 1, 51, 1, 1, 1, 1, 1), (72, 1, 1, 1, 32, 1, 1, 1, 1, 1, 51, 1, 1, 1, 1, 1);
INSERT INTO autocare_vcdb.vehicle_to_engine_config (vehicle_to_engine_config_id, vehicle_id, engine_config_id,
  ingest_run_id)
VALUES (1, 2001, 71, 1), (2, 2002, 72, 1), (3, 2003, 72, 1), (4, 2004, 71, 1);
INSERT INTO autocare_vcdb.transmission_type (transmission_type_id, transmission_type_name, ingest_run_id)
  VALUES (1, 'Automatic', 1);
INSERT INTO autocare_vcdb.transmission_num_speeds (transmission_num_speeds_id, transmission_num_speeds,
  ingest_run_id)
  VALUES (1, '6', 1);
INSERT INTO autocare_vcdb.transmission_control_type (transmission_control_type_id,
  transmission_control_type_name, ingest_run_id)
  VALUES (1, 'Electronic', 1);
INSERT INTO autocare_vcdb.transmission_base (transmission_base_id, transmission_type_id,
  transmission_num_speeds_id, transmission_control_type_id, ingest_run_id)
  VALUES (1, 1, 1, 1, 1);
INSERT INTO autocare_vcdb.transmission (transmission_id, transmission_base_id, transmission_mfr_code_id,
  transmission_elec_controlled_id, transmission_mfr_id, ingest_run_id)
  VALUES (81, 1, 1, 1, 1, 1);
INSERT INTO autocare_vcdb.vehicle_to_transmission (vehicle_to_transmission_id, vehicle_id, transmission_id,
  ingest_run_id)
VALUES (1, 2001, 81, 1), (2, 2002, 81, 1);
INSERT INTO autocare_vcdb.body_type (body_type_id, body_type_name, ingest_run_id) VALUES (1, 'Sedan', 1);
INSERT INTO autocare_vcdb.body_num_doors (body_num_doors_id, body_num_doors, ingest_run_id) VALUES (1, '4', 1);
INSERT INTO autocare_vcdb.body_style_config (body_style_config_id, body_num_doors_id, body_type_id, ingest_run_id)
  VALUES (91, 1, 1, 1);
INSERT INTO autocare_vcdb.vehicle_to_body_style_config (vehicle_to_body_style_config_id, vehicle_id,
  body_style_config_id, ingest_run_id)
VALUES (1, 2001, 91, 1), (2, 2002, 91, 1);
INSERT INTO autocare_vcdb.drive_type (drive_type_id, drive_type_name, ingest_run_id)
  VALUES (41, 'FWD', 1), (42, 'RWD', 1);
INSERT INTO autocare_vcdb.vehicle_to_drive_type (vehicle_to_drive_type_id, vehicle_id, drive_type_id,
  ingest_run_id, end_date_time)
VALUES (1, 2001, 41, 1, NULL), (2, 2002, 41, 1, NULL), (3, 2002, 42, 1, '2020-01-01');
INSERT INTO autocare_vcdb.brake_type (brake_type_id, brake_type_name, ingest_run_id)
  VALUES (1, 'Disc', 1), (2, 'Drum', 1);
INSERT INTO autocare_vcdb.brake_system (brake_system_id, brake_system_name, ingest_run_id) VALUES (1, 'Power', 1);
INSERT INTO autocare_vcdb.brake_abs (brake_abs_id, brake_abs_name, ingest_run_id) VALUES (1, '4-Wheel ABS', 1);
INSERT INTO autocare_vcdb.brake_config (brake_config_id, front_brake_type_id, rear_brake_type_id,
  brake_system_id, brake_abs_id, ingest_run_id)
  VALUES (61, 1, 2, 1, 1, 1);
INSERT INTO autocare_vcdb.vehicle_to_brake_config (vehicle_to_brake_config_id, vehicle_id, brake_config_id,
  ingest_run_id)
  VALUES (1, 2001, 61, 1);
INSERT INTO autocare_vcdb.steering_type (steering_type_id, steering_type_name, ingest_run_id)
  VALUES (1, 'Rack and Pinion', 1);
INSERT INTO autocare_vcdb.steering_system (steering_system_id, steering_system_name, ingest_run_id)
  VALUES (1, 'Power', 1);
INSERT INTO autocare_vcdb.steering_config (steering_config_id, steering_type_id, steering_system_id, ingest_run_id)
  VALUES (62, 1, 1, 1);
INSERT INTO autocare_vcdb.vehicle_to_steering_config (vehicle_to_steering_config_id, vehicle_id,
  steering_config_id, ingest_run_id)
  VALUES (1, 2001, 62, 1);
INSERT INTO autocare_vcdb.spring_type (spring_type_id, spring_type_name, ingest_run_id)
  VALUES (1, 'Coil', 1), (2, 'Leaf', 1);
INSERT INTO autocare_vcdb.spring_type_config (spring_type_config_id, front_spring_type_id,
  rear_spring_type_id, ingest_run_id)
  VALUES (63, 1, 2, 1);
INSERT INTO autocare_vcdb.vehicle_to_spring_type_config (vehicle_to_spring_type_config_id, vehicle_id,
  spring_type_config_id, ingest_run_id)
  VALUES (1, 2001, 63, 1);
INSERT INTO autocare_vcdb.wheel_base (wheel_base_id, wheel_base, wheel_base_metric, ingest_run_id)
  VALUES (64, '105.1', '2670', 1);
INSERT INTO autocare_vcdb.vehicle_to_wheel_base (vehicle_to_wheel_base_id, vehicle_id, wheel_base_id, ingest_run_id)
  VALUES (1, 2001, 64, 1);
INSERT INTO autocare_vcdb.bed_type (bed_type_id, bed_type_name, ingest_run_id) VALUES (1, 'Fleetside', 1);
INSERT INTO autocare_vcdb.bed_length (bed_length_id, bed_length, bed_length_metric, ingest_run_id)
  VALUES (1, '78.8', '2001', 1);
INSERT INTO autocare_vcdb.bed_config (bed_config_id, bed_length_id, bed_type_id, ingest_run_id)
  VALUES (65, 1, 1, 1);
INSERT INTO autocare_vcdb.vehicle_to_bed_config (vehicle_to_bed_config_id, vehicle_id, bed_config_id, ingest_run_id)
  VALUES (1, 2001, 65, 1);
INSERT INTO autocare_vcdb.class (class_id, class_name, ingest_run_id) VALUES (66, 'Pickup', 1);
INSERT INTO autocare_vcdb.vehicle_to_class (vehicle_to_class_id, vehicle_id, class_id, ingest_run_id)
  VALUES (1, 2001, 66, 1);
INSERT INTO autocare_vcdb.mfr_body_code (mfr_body_code_id, mfr_body_code_name, ingest_run_id) VALUES (67, 'XK9', 1);
INSERT INTO autocare_vcdb.vehicle_to_mfr_body_code (vehicle_to_mfr_body_code_id, vehicle_id,
  mfr_body_code_id, ingest_run_id)
  VALUES (1, 2001, 67, 1);
SET session_replication_role = origin;
SELECT autocare_fitment.refresh_explorer();
"""
RESPONSES = ("YearsPage", "MakesPage", "ModelsPage", "BaseVehiclePage", "VehiclePage")



async def _text(client: aiohttp.ClientSession, url: str, status: int = 200, **kw: Any) -> str:
    async with client.get(url, **kw) as r:
        assert r.status == status, (url, r.status)
        assert "text/html" in r.headers["Content-Type"]
        return await r.text()


async def test_each_level_as_json_matches_the_openapi_document_with_the_right_counts(database_url: str) -> None:
    await execute(database_url, VCDB)
    async with explorer(database_url) as base, aiohttp.ClientSession() as client:
        doc = await get_json(client, f"{base}/api/v1/openapi.json")
        ids = {op["operationId"] for ops in doc["paths"].values() for op in ops.values()}
        assert {"years", "makes", "models", "base_vehicle", "vehicle"} <= ids
        api = f"{base}/api/v1"

        years = await get_json(client, f"{api}/years")
        validator(doc, "YearsPage").validate(years)
        assert years["years"] == [{"year": 2015, "base_vehicles": 3, "makes": 2},
                                  {"year": 2014, "base_vehicles": 1, "makes": 1}]
        assert (await get_json(client, f"{api}/years?deleted=1"))["years"][0]["base_vehicles"] == 4

        makes = await get_json(client, f"{api}/years/2015/makes")
        validator(doc, "MakesPage").validate(makes)
        assert {m["make_name"]: (m["models"], m["base_vehicles"]) for m in makes["makes"]} == {
            "Acme": (2, 2), "<script>alert(1)</script>": (1, 1)}
        acme = next(m for m in (await get_json(client, f"{api}/years/2015/makes?deleted=1"))["makes"]
                    if m["make_id"] == 1)
        assert (acme["models"], acme["base_vehicles"]) == (3, 3)

        models = await get_json(client, f"{api}/years/2015/makes/1/models")
        validator(doc, "ModelsPage").validate(models)
        assert models["make_name"] == "Acme"
        assert [(m["model_name"], m["base_vehicle_id"], m["vehicles"]) for m in models["models"]] == [
            ("Hauler", 202, 1), ("Roadster", 201, 2)]  # the end-dated 2003 is not counted, Ghost not listed
        with_deleted = await get_json(client, f"{api}/years/2015/makes/1/models?deleted=1")
        assert [(m["model_name"], m["vehicles"], m["deleted"]) for m in with_deleted["models"]] == [
            ("Ghost", 1, True), ("Hauler", 1, False), ("Roadster", 3, False)]

        grid = await get_json(client, f"{api}/years/2015/makes/1/models/10/vehicles")
        validator(doc, "BaseVehiclePage").validate(grid)
        assert grid["base_vehicle_ids"] == [201] and grid["vehicles"] == 2
        def labels(r: dict[str, Any]) -> tuple[Any, ...]:
            return (r["vehicle_id"], r["submodel"], *([c["label"] for c in r[a]] for a in (
                "engine", "transmission", "body", "drive")))

        assert [labels(r) for r in grid["rows"]] == [  # one row per vehicle
            (2001, "Base", ["2.0L L4 GAS Turbocharged"], ["6-speed Automatic Electronic"], ["4-door Sedan"], ["FWD"]),
            (2002, "Sport", ["3.0L V6 GAS Turbocharged"], ["6-speed Automatic Electronic"], ["4-door Sedan"], ["FWD"])]
        # Filters only for what varies: submodel and engine; not transmission, body, drive.
        assert {f["attribute"]: [v["id"] for v in f["values"]] for f in grid["facets"]} == {
            "submodel": [21, 22], "engine": [71, 72]}
        sport = await get_json(client, f"{api}/years/2015/makes/1/models/10/vehicles?submodel=22")
        assert [r["vehicle_id"] for r in sport["rows"]] == [2002] and sport["filters"] == {"submodel": 22}
        # The submodel's choices stay, so one can change one's mind; the engines narrow to the Sport's.
        assert {f["attribute"]: [v["id"] for v in f["values"]] for f in sport["facets"]} == {
            "submodel": [21, 22], "engine": [72]}
        # deleted=1: the end-dated vehicle and the end-dated RWD link appear, and drive now varies.
        everything = await get_json(client, f"{api}/years/2015/makes/1/models/10/vehicles?deleted=1")
        assert everything["vehicles"] == 3
        assert [(r["vehicle_id"], [c["label"] for c in r["drive"]], r["deleted"]) for r in everything["rows"]] == [
            (2001, ["FWD"], False), (2002, ["FWD", "RWD"], False), (2003, [], True)]
        assert [f["attribute"] for f in everything["facets"]] == ["submodel", "engine", "drive"]

        vehicle = await get_json(client, f"{api}/vehicles/2001")
        validator(doc, "VehiclePage").validate(vehicle)
        assert (vehicle["year"], vehicle["make_name"], vehicle["model_name"], vehicle["submodel"],
                vehicle["region"]) == (2015, "Acme", "Roadster", "Base", "United States")
        assert {c["system"]: c["label"] for c in vehicle["configurations"]} == {
            "engine": "2.0L L4 GAS Turbocharged", "transmission": "6-speed Automatic Electronic",
            "body": "4-door Sedan", "drive": "FWD", "brakes": "front Disc rear Drum Power 4-Wheel ABS",
            "steering": "Rack and Pinion Power", "springs": "front Coil rear Leaf",
            "wheel_base": "105.1 in (2670 mm)", "bed": "78.8 in Fleetside", "class": "Pickup",
            "mfr_body_code": "XK9"}
        assert [c["label"] for c in
                (await get_json(client, f"{api}/vehicles/2002"))["configurations"] if c["system"] == "drive"] == ["FWD"]
        rwd = await get_json(client, f"{api}/vehicles/2002?deleted=1")
        assert [(c["label"], c["deleted"]) for c in rwd["configurations"] if c["system"] == "drive"] == [
            ("FWD", False), ("RWD", True)]
        # The end-dated vehicle: hidden (404) unless deleted=1.
        assert "deleted=1" in (await get_json(client, f"{api}/vehicles/2003", 404))["detail"]
        assert (await get_json(client, f"{api}/vehicles/2003?deleted=1"))["deleted"] is True


async def test_the_years_follow_the_view_once_refreshed(database_url: str) -> None:
    await execute(database_url, VCDB)
    await execute(database_url, "SET session_replication_role = replica; "
                                "INSERT INTO autocare_vcdb.base_vehicle (base_vehicle_id, year_id, make_id, "
                                "model_id, "
                                "ingest_run_id) VALUES (206, 2016, 1, 10, 1)")
    async with explorer(database_url) as base, aiohttp.ClientSession() as client:
        before = await get_json(client, f"{base}/api/v1/years")
        await execute(database_url, "SELECT autocare_fitment.refresh_explorer()")
        after = await get_json(client, f"{base}/api/v1/years")
    assert [y["year"] for y in before["years"]] == [2015, 2014]
    assert [y["year"] for y in after["years"]] == [2016, 2015, 2014]
    rows = await fetch(database_url, "SELECT count(*) AS n FROM autocare_fitment.explorer_year_make")
    assert rows[0]["n"] == 4


async def test_unknown_ids_are_404_bad_parameters_400_and_names_are_escaped(database_url: str) -> None:
    await execute(database_url, VCDB)
    async with explorer(database_url) as base, aiohttp.ClientSession() as client:
        doc = await get_json(client, f"{base}/api/v1/openapi.json")
        for url in ("/api/v1/vehicles/999999", "/api/v1/vehicles/999999999999", "/api/v1/years/1999/makes",
                    "/api/v1/years/2015/makes/99/models", "/api/v1/years/2015/makes/1/models/99/vehicles"):
            validator(doc, "Problem").validate(await get_json(client, base + url, 404))
        assert "no vehicle 999999" in await _text(client, f"{base}/vehicle/999999", 404)
        assert "no vehicle of year 1999" in await _text(client, f"{base}/vehicles/1999", 404)
        bad = await get_json(client, f"{base}/api/v1/years/abc/makes", 400)
        validator(doc, "Problem").validate(bad)
        assert bad["parameters"] == ["year"] and "year" in bad["detail"]
        assert "bad parameter year" in await _text(client, f"{base}/vehicles/abc", 400)
        bad = await get_json(client, f"{base}/api/v1/years/2015/makes/1/models/10/vehicles?submodel=x", 400)
        assert bad["parameters"] == ["submodel"]

        html = await _text(client, f"{base}/vehicles/2015")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
        html = await _text(client, f"{base}/vehicles/2015/2")
        assert "&lt;script&gt;" in html and "<script>alert" not in html


async def test_filters_work_without_javascript_and_htmx_gets_the_grid_alone(database_url: str) -> None:
    await execute(database_url, VCDB)
    async with explorer(database_url) as base, aiohttp.ClientSession() as client:
        page = await _text(client, f"{base}/vehicles/2015/1/10")
        assert 'id="filter-submodel"' in page and 'id="filter-engine"' in page
        assert 'id="filter-drive"' not in page and 'id="filter-transmission"' not in page
        assert 'hx-push-url="true"' in page and 'method="get"' in page
        plain = await _text(client, f"{base}/vehicles/2015/1/10?submodel=22")
        assert 'href="/vehicle/2002"' in plain and 'href="/vehicle/2001"' not in plain
        assert '<option value="22" selected>' in plain and "<html" in plain
        fragment = await _text(client, f"{base}/vehicles/2015/1/10?submodel=22", headers={"HX-Request": "true"})
        assert '<div id="selector">' in fragment and "<html" not in fragment and 'id="filters"' in fragment
        assert 'href="/vehicle/2002"' in fragment and "1 vehicle<" in fragment
        one_only = await _text(client, f"{base}/vehicles/2015/1/11")  # one vehicle: nothing varies
        assert 'id="filters"' not in one_only


async def test_drill_down_in_headless_chromium(database_url: str) -> None:
    await execute(database_url, VCDB)
    async with explorer(database_url) as base, chromium() as page:
        await page.goto(f"{base}/")
        await page.click("#nav-vehicles")
        await page.wait_for_url(f"{base}/vehicles")
        assert await page.title() == "Vehicles · vcdb-stream explorer"
        await screenshot(page, "vehicles-1-years")
        await page.click("#years a:has-text('2015')")
        await page.wait_for_url(f"{base}/vehicles/2015")
        assert "<script>alert(1)</script>" in await page.inner_text("#makes")  # shown as text
        await screenshot(page, "vehicles-2-makes")
        await page.click("#makes a:has-text('Acme')")
        await page.wait_for_url(f"{base}/vehicles/2015/1")
        await screenshot(page, "vehicles-3-models")
        await page.click("#models a:has-text('Roadster')")
        await page.wait_for_url(f"{base}/vehicles/2015/1/10")
        assert "2 vehicles" in await page.inner_text("#grid-count")
        await screenshot(page, "vehicles-4-base-vehicle")
        await page.select_option("#filter-submodel", "22")  # htmx swaps the grid and pushes the URL
        await page.wait_for_url(lambda url: url.startswith(f"{base}/vehicles/2015/1/10?") and "submodel=22" in url)
        await page.wait_for_selector("#grid-count:has-text('1 vehicle')")
        assert "Sport" in await page.inner_text("#configurations") and "Base" not in await page.inner_text(
            "#configurations")
        await screenshot(page, "vehicles-5-filtered")
        await page.click("#configurations a:has-text('2002')")
        await page.wait_for_url(f"{base}/vehicle/2002")
        assert "2015 Acme Roadster Sport" in await page.inner_text("h1")
        assert "3.0L V6" in await page.inner_text("#vehicle-configurations")
        await screenshot(page, "vehicles-6-vehicle")
        await page.click(".crumbs a:has-text('Roadster')")  # back up the drill-down
        await page.wait_for_url(f"{base}/vehicles/2015/1/10")
