"""The explorer as a catalogue person uses it (issue 21): one label per configuration on every page,
one grid row per vehicle, filters that narrow each other in URLs without empty parameters, a search
that hides ended rows, says when nothing matches, pages, and finds part numbers as people type them;
in headless Chromium, Back/Forward on the filters, the keyboard-only typeahead and a 390 px phone.

The data: the fitment views' small set (tests/support.py SMALL) plus an EngineBlock that disagrees
with every engine's EngineBase (the block wins everywhere), a transmission, a part QA-BRK-100, an
end-dated vehicle 1010, and thirty more Roadster years so that a search pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import asyncpg
import pytest

from tests.integration.browser import chromium, explorer, get_json, screenshot
from tests.integration.pipeline import execute, fetch
from tests.support import SMALL
from web import search

MORE = """
SET session_replication_role = replica;
INSERT INTO autocare_vcdb.engine_block (engine_block_id, liter, cc, c_id, cylinders, block_type, ingest_run_id)
VALUES (1, '3.1', '3100', '189', '10', 'V', 1);
INSERT INTO autocare_vcdb.aspiration (aspiration_id, aspiration_name, ingest_run_id) VALUES (1, 'N/A', 1);
INSERT INTO autocare_vcdb.transmission_type (transmission_type_id, transmission_type_name, ingest_run_id)
  VALUES (1, 'Automatic', 1);
INSERT INTO autocare_vcdb.transmission_num_speeds (transmission_num_speeds_id, transmission_num_speeds, ingest_run_id)
  VALUES (1, '6', 1);
INSERT INTO autocare_vcdb.transmission_control_type (transmission_control_type_id, transmission_control_type_name,
  ingest_run_id) VALUES (1, 'Electronic', 1);
INSERT INTO autocare_vcdb.transmission_base (transmission_base_id, transmission_type_id, transmission_num_speeds_id,
  transmission_control_type_id, ingest_run_id) VALUES (1, 1, 1, 1, 1);
INSERT INTO autocare_vcdb.transmission (transmission_id, transmission_base_id, transmission_mfr_code_id,
  transmission_elec_controlled_id, transmission_mfr_id, ingest_run_id) VALUES (81, 1, 1, 1, 1, 1);
INSERT INTO autocare_vcdb.vehicle_to_transmission (vehicle_to_transmission_id, vehicle_id, transmission_id,
  ingest_run_id) VALUES (1, 1001, 81, 1), (2, 1002, 81, 1);
-- the same drive delivered twice for 1004: one value in its grid row
INSERT INTO autocare_vcdb.vehicle_to_drive_type (vehicle_to_drive_type_id, vehicle_id, drive_type_id, ingest_run_id)
VALUES (3, 1004, 42, 1);
INSERT INTO autocare_vcdb.vehicle (vehicle_id, base_vehicle_id, submodel_id, region_id, ingest_run_id, end_date_time)
VALUES (1010, 101, 11, 1, 1, '2026-01-01');
INSERT INTO autocare_vcdb.base_vehicle (base_vehicle_id, year_id, make_id, model_id, ingest_run_id)
SELECT 300 + y - 1980, y, 1, 2, 1 FROM generate_series(1980, 2009) y;
INSERT INTO autocare_aces.app (app_key, fitment_key, app_id, action, validate, brand_aaia_id, part_number,
  base_vehicle_id, qty, part_type_id, position_id, effective_date_time, ingest_run_id)
VALUES ('A11', 'F11', 11, 'A', 'yes', 'BBBB', 'QA-BRK-100', 101, 1, 7001, 81, '2026-01-01', 1);
SET session_replication_role = origin;
SELECT autocare_fitment.refresh_explorer();
"""
ENGINE_71 = "3.1L V10 GAS"  # EngineBlock 1 over EngineBase 31 (2.0L L4); aspiration N/A left out
TRANSMISSION_81 = "6-speed Automatic Electronic"


@pytest.fixture
async def base(database_url: str) -> Any:
    await execute(database_url, SMALL)
    await execute(database_url, MORE)
    async with explorer(database_url) as url:
        yield url


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


async def test_one_configuration_has_one_label_on_every_page(base: str, database_url: str) -> None:
    async with aiohttp.ClientSession() as client:
        api = f"{base}/api/v1"
        grid = await get_json(client, f"{api}/years/2010/makes/1/models/2/vehicles")
        row = next(r for r in grid["rows"] if r["vehicle_id"] == 1001)
        assert [c["label"] for c in row["engine"]] == [ENGINE_71]
        assert [c["label"] for c in row["transmission"]] == [TRANSMISSION_81]
        engines = next(f for f in grid["facets"] if f["attribute"] == "engine")
        assert {v["id"]: v["label"] for v in engines["values"]}[71] == ENGINE_71
        vehicle = await get_json(client, f"{api}/vehicles/1001")
        assert {c["system"]: c["label"] for c in vehicle["configurations"]} == {
            "engine": ENGINE_71, "transmission": TRANSMISSION_81}
        part = await get_json(client, f"{api}/part?part_number=W-100&brand=BBBB")
        fit = next(r for r in part["fits"] if 1001 in r["vehicle_ids"])
        assert (fit["engines"], fit["transmissions"]) == ([ENGINE_71], [TRANSMISSION_81])
        async with client.get(f"{base}/vehicle/1001") as r:
            assert ENGINE_71 in await r.text()
        async with client.get(f"{base}/part", params={"part_number": "W-100", "brand": "BBBB"}) as r:
            assert ENGINE_71 in await r.text()
    # `vcdb fitment vehicles` reads the same view (consumers/fitment.vehicles_for_part)
    rows = await fetch(database_url, "SELECT DISTINCT engines, transmissions FROM autocare_fitment.part_vehicle "
                                     "WHERE part_number = 'W-100' AND vehicle_id = 1001")
    assert [(list(r["engines"]), list(r["transmissions"])) for r in rows] == [([ENGINE_71], [TRANSMISSION_81])]


async def test_the_grid_has_one_row_per_vehicle_and_filters_narrow_each_other(base: str) -> None:
    async with aiohttp.ClientSession() as client:
        api = f"{base}/api/v1/years/2010/makes/1/models/3/vehicles"  # Hauler: 1003 (Base, FWD), 1004 (Sport, RWD)
        grid = await get_json(client, api)
        assert [r["vehicle_id"] for r in grid["rows"]] == [1003, 1004]
        assert [[c["label"] for c in r["drive"]] for r in grid["rows"]] == [["FWD"], ["RWD"]]  # RWD delivered twice
        page = await get_json(client, f"{base}/api/v1/vehicles/1004")  # and once on the vehicle's page
        assert [c["id"] for c in page["configurations"] if c["system"] == "drive"] == [42]
        facets = {f["attribute"]: [v["id"] for v in f["values"]] for f in grid["facets"]}
        assert facets == {"submodel": [11, 12], "drive": [41, 42]}
        sport = await get_json(client, f"{api}?submodel=12")
        narrowed = {f["attribute"]: [(v["id"], v["vehicles"]) for v in f["values"]] for f in sport["facets"]}
        assert narrowed == {"submodel": [(11, 1), (12, 1)], "drive": [(42, 1)]}  # FWD is not possible with Sport
        both = await get_json(client, f"{api}?submodel=12&drive=42")
        assert [r["vehicle_id"] for r in both["rows"]] == [1004]
        # 2011 Hauler: 1005 has two engines; one row, both listed
        two = await get_json(client, f"{base}/api/v1/years/2011/makes/1/models/3/vehicles")
        assert [(r["vehicle_id"], len(r["engine"])) for r in two["rows"]] == [(1005, 2), (1006, 1)]

        async with client.get(f"{base}/vehicles/2010/1/3", params={"submodel": "12"}) as r:
            page = await r.text()
        assert 'name="drive"' in page and '<option value="41"' not in page
        # The links carry only the filters that are set; "show deleted" keeps them.
        assert 'href="/vehicles/2010/1/3?submodel=12&amp;deleted=1"' in page
        assert "&amp;drive=&amp;" not in page and "drive=&" not in page
        async with client.get(f"{base}/vehicles/2010/1/3", params={"submodel": "12", "deleted": "1"}) as r:
            page = await r.text()
        assert 'href="/vehicles/2010/1/3?submodel=12"' in page  # hide them, filters kept


async def test_search_hides_ended_rows_says_no_results_and_pages(base: str) -> None:
    async with aiohttp.ClientSession() as client:
        api = f"{base}/api/v1/search"
        ended = await get_json(client, f"{api}?q=1010")
        assert (ended["ids"], ended["ids_hidden"]) == ([], 1)
        shown = await get_json(client, f"{api}?q=1010&deleted=1")
        assert [(i["id"], i["deleted"]) for i in shown["ids"]] == [(1010, True)]
        async with client.get(f"{base}/search", params={"q": "1010"}) as r:
            page = await r.text()
        assert 'id="ids-hidden"' in page and 'href="/search?q=1010&amp;deleted=1"' in page
        async with client.get(f"{base}/vehicle/1010") as r:  # the 404 links to the deleted version
            assert r.status == 404
            assert 'id="problem-link" href="/vehicle/1010?deleted=1"' in await r.text()
        assert (await get_json(client, f"{base}/api/v1/vehicles/1010", 404))["link"] == "/vehicle/1010?deleted=1"

        async with client.get(f"{base}/search", params={"q": "zzzz qqqq"}) as r:
            page = await r.text()
        assert 'id="no-results"' in page and "No results for" in page

        first = await get_json(client, f"{api}?q=roadster")
        assert first["base_vehicles_total"] == 34 and len(first["base_vehicles"]) == 20
        second = await get_json(client, f"{api}?q=roadster&page=2")
        assert len(second["base_vehicles"]) == 14
        assert not {b["base_vehicle_id"] for b in first["base_vehicles"]} & {
            b["base_vehicle_id"] for b in second["base_vehicles"]}
        async with client.get(f"{base}/search", params={"q": "roadster"}) as r:
            page = await r.text()
        assert "Base vehicles (34)" in page and "page 1 of 2" in page
        assert 'id="page-next" href="/search?q=roadster&amp;page=2"' in page


@pytest.mark.parametrize("typed", ["qabrk100", "qa-b", "QA-BRK", "qa brk 1", "Qa.Brk-100"])
async def test_part_numbers_match_ignoring_case_and_punctuation(base: str, typed: str) -> None:
    async with aiohttp.ClientSession() as client:
        found = await get_json(client, f"{base}/api/v1/search?q={typed}")
        assert [(p["brand"], p["part_number"]) for p in found["parts"]] == [("BBBB", "QA-BRK-100")], typed
        assert found["parts_total"] == 1


async def test_a_part_page_resolves_a_part_number_typed_loosely(base: str) -> None:
    async with aiohttp.ClientSession() as client:
        part = await get_json(client, f"{base}/api/v1/part?part_number=qa-brk-100")
        assert part["part_number"] == "QA-BRK-100" and part["live_applications"] == 1
        assert (await get_json(client, f"{base}/api/v1/part?part_number=w100&brand=BBBB"))["part_number"] == "W-100"
        await get_json(client, f"{base}/api/v1/part?part_number=qa-brk-1", status=404)


async def test_makes_with_one_name_show_their_ids_and_tiles_say_what_they_count(base: str,
                                                                              database_url: str) -> None:
    await execute(database_url, "SET session_replication_role = replica; INSERT INTO autocare_vcdb.make "
                                "(make_id, make_name, ingest_run_id) VALUES (9, 'ACME', 1);"
                                "INSERT INTO autocare_vcdb.base_vehicle (base_vehicle_id, year_id, make_id, model_id, "
                                "ingest_run_id) VALUES (900, 2010, 9, 2, 1); "
                                "SELECT autocare_fitment.refresh_explorer()")
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{base}/vehicles/2010") as r:
            makes = await r.text()
        assert 'id="makes-filter"' in makes
        assert '<span class="id">#1</span>' in makes and '<span class="id">#9</span>' in makes
        assert "2 models</span>" in makes and "1 model</span>" in makes
        async with client.get(f"{base}/vehicles") as r:
            assert "base vehicles</span>" in await r.text()
        async with client.get(f"{base}/vehicles/2010/1") as r:
            assert "vehicles</span>" in await r.text()


# ---- in Chromium ---------------------------------------------------------------------------------

async def test_in_chromium_filters_narrow_follow_back_and_forward_and_make_one_entry_per_choice(base: str) -> None:
    async with chromium() as page:
        await page.goto(f"{base}/vehicles/2010/1/3")
        assert "2 vehicles" in await page.inner_text("#grid-count")
        await screenshot(page, "catalogue-1-selector")
        start = await page.evaluate("history.length")
        await page.select_option("#filter-submodel", "12")
        await page.wait_for_selector("#grid-count:has-text('1 vehicle')")
        assert _query(page.url) == [("submodel", "12")]  # no empty parameters
        assert await page.eval_on_selector_all("#filter-drive option", "os => os.map(o => o.value)") == ["", "42"]
        await screenshot(page, "catalogue-2-narrowed")
        await page.select_option("#filter-drive", "42")
        await page.wait_for_url(lambda u: ("drive", "42") in _query(u))
        assert _query(page.url) == [("submodel", "12"), ("drive", "42")]
        assert await page.evaluate("history.length") == start + 2  # one entry per choice
        await page.go_back()
        await page.wait_for_url(lambda u: _query(u) == [("submodel", "12")])
        assert await page.input_value("#filter-submodel") == "12" and await page.input_value("#filter-drive") == ""
        await page.go_back()
        await page.wait_for_url(f"{base}/vehicles/2010/1/3")
        assert await page.input_value("#filter-submodel") == ""
        assert "2 vehicles" in await page.inner_text("#grid-count")
        await page.go_forward()
        await page.wait_for_url(lambda u: _query(u) == [("submodel", "12")])
        assert await page.input_value("#filter-submodel") == "12"
        assert "1 vehicle" in await page.inner_text("#grid-count")
        await screenshot(page, "catalogue-3-after-back-and-forward")
        # Arrow keys on a filter box browse; Enter chooses: one more entry, not one per key.
        await page.goto(f"{base}/vehicles/2010/1/3?drive=42")  # a new entry: nothing forward of it
        before = await page.evaluate("history.length")
        await page.focus("#filter-submodel")
        await page.keyboard.press("ArrowUp")
        await page.keyboard.press("ArrowUp")
        await page.keyboard.press("ArrowDown")
        assert await page.evaluate("history.length") == before
        await page.keyboard.press("Enter")
        await page.wait_for_url(lambda u: _query(u) != [("drive", "42")])
        assert await page.evaluate("history.length") == before + 1
        # "Show deleted" keeps the filters.
        await page.goto(f"{base}/vehicles/2010/1/3?submodel=12")
        await page.click("#deleted-toggle a")
        await page.wait_for_url(lambda u: ("deleted", "1") in _query(u))
        assert ("submodel", "12") in _query(page.url)
        assert await page.input_value("#filter-submodel") == "12"


async def test_in_chromium_a_part_number_typed_as_people_type_it(base: str) -> None:
    async with chromium() as page:
        await page.goto(f"{base}/")
        await page.click("#search-box")
        await page.keyboard.type("qa brk", delay=40)
        await page.wait_for_selector("#suggestions a:has-text('QA-BRK-100')")
        await screenshot(page, "catalogue-4-part-typeahead")
        await page.keyboard.press("Enter")  # no option active: the form's search
        await page.wait_for_url(lambda u: "/search?" in u)
        assert "QA-BRK-100" in await page.inner_text("#parts")
        await page.click("#parts a:has-text('QA-BRK-100')")
        await page.wait_for_url(lambda u: "/part?" in u)
        await screenshot(page, "catalogue-5-part")
        await page.goto(f"{base}/part?part_number=qa-brk-100")
        assert "QA-BRK-100" in await page.inner_text("h1")


async def test_in_chromium_the_typeahead_works_from_the_keyboard_alone(base: str) -> None:
    async with chromium() as page:
        await page.goto(f"{base}/vehicles")
        box = page.locator("#search-box")
        assert await box.get_attribute("role") == "combobox"
        assert await page.locator("#suggestions").is_hidden()  # no empty box before typing
        await page.keyboard.press("Tab")
        await box.focus()
        await page.keyboard.type("roadster", delay=30)
        await page.wait_for_selector("#suggestions [role=option]")
        assert await box.get_attribute("aria-expanded") == "true"
        await page.keyboard.press("ArrowDown")
        await page.keyboard.press("ArrowDown")
        active = await box.get_attribute("aria-activedescendant")
        assert active and await page.get_attribute(f"#{active}", "aria-selected") == "true"
        assert active == await page.eval_on_selector_all("#suggestions [role=option]", "os => os[1].id")
        await screenshot(page, "catalogue-6-typeahead-keyboard")
        await page.keyboard.press("Escape")
        assert await page.locator("#suggestions").is_hidden()
        assert await box.get_attribute("aria-expanded") == "false"
        await page.keyboard.press("ArrowDown")  # opens again on the first option
        assert await page.locator("#suggestions").is_visible()
        await page.mouse.click(10, 700)  # a click elsewhere closes it
        assert await page.locator("#suggestions").is_hidden()
        await box.focus()
        await page.keyboard.press("ArrowDown")
        target = await page.eval_on_selector("#suggestions [aria-selected=true] a", "a => a.getAttribute('href')")
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"{base}{target}")
        await box.fill("")  # emptied: no box left behind
        await box.type("zzzzqqq", delay=20)
        await page.wait_for_selector("#suggestion-none")
        await box.fill("")
        await page.keyboard.press("Backspace")
        assert await page.locator("#suggestions").is_hidden()


async def test_in_chromium_on_a_phone_the_body_never_scrolls_sideways(base: str) -> None:
    async with chromium() as page:
        await page.set_viewport_size({"width": 390, "height": 844})
        for name, path in (("grid", "/vehicles/2011/1/3?deleted=1"), ("makes", "/vehicles/2010"),
                           ("vehicle", "/vehicle/1001"), ("parts", "/vehicle/1001/parts"),
                           ("search", "/search?q=roadster"), ("part", "/part?part_number=W-100&brand=BBBB")):
            await page.goto(base + path)
            await page.wait_for_load_state("networkidle")
            width = await page.evaluate("document.documentElement.scrollWidth")
            await screenshot(page, f"catalogue-phone-{name}")
            assert width <= 390, (path, width)
        await page.goto(f"{base}/vehicles/2010")  # the makes filter box
        await page.fill("#makes-filter", "zen")
        assert await page.inner_text("#makes-shown") == "0 makes" and await page.locator("#makes li").is_hidden()
        await page.fill("#makes-filter", "ac")
        assert await page.inner_text("#makes-shown") == "1 make" and await page.locator("#makes li").is_visible()


async def test_the_vehicles_parts_name_the_vehicle_filter_and_say_what_each_requires(base: str,
                                                                                    database_url: str) -> None:
    async with aiohttp.ClientSession() as client:
        api = f"{base}/api/v1/vehicles"
        body = await get_json(client, f"{api}/1003/parts")  # 2010 Acme Hauler Base: engine 71, FWD
        assert (body["vehicle"]["model_name"], body["vehicle"]["submodel"]) == ("Hauler", "Base")
        g300 = next(x for x in body["parts"] if x["part_number"] == "G-300")  # names EngineBase 31 and FWD
        assert sorted(g300["requires"]) == ["drive: FWD", f"engine: {ENGINE_71}"]
        assert g300["part_type"] == "Gadget" and body["pcdb_loaded"]
        every = await get_json(client, f"{api}/1001/parts")
        assert {o["label"] for o in every["part_types"]} == {"Widget"}
        assert {o["label"]: o["parts"] for o in every["positions"]} == {"Front": 3, "Rear": 1}
        front = await get_json(client, f"{api}/1001/parts?position_id=81")
        assert {x["position"] for x in front["parts"]} == {"Front"} and front["total"] == 4
        w200 = next(x for x in every["parts"] if x["part_number"] == "W-200")
        assert w200["requires"] == ["submodel: Base"]
        async with client.get(f"{base}/vehicle/1001/parts") as r:
            page = await r.text()
        assert 'id="parts-crumbs"' in page and "2010 Acme Roadster Base" in page
        assert 'id="filter-position"' in page and "any configuration" in page
    await execute(database_url, "DELETE FROM autocare_pcdb.parts")
    async with aiohttp.ClientSession() as client:
        body = await get_json(client, f"{base}/api/v1/vehicles/1001/parts")
        assert not body["pcdb_loaded"] and {x["part_type"] for x in body["parts"]} == {"PCdb not loaded"}
        async with client.get(f"{base}/vehicle/1001/parts") as r:
            page = await r.text()
        assert 'id="pcdb-missing"' in page and ">7001<" not in page


async def test_the_part_number_search_can_walk_its_indexes_even_in_a_generic_plan(base: str,
                                                                                 database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan")
        plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + search._PARTS, "QAB", "QAC", 20, 0))
    finally:
        await conn.close()
    assert "ix_app_part_number_normalized" in plan and "ix_item_part_number_normalized" in plan, plan
