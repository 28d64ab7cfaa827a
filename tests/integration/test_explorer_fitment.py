"""The explorer's search and fitment pages over the fitment views' small hand-made set
(tests/integration/test_fitment_views.py SMALL), plus a few names for the search's word rules."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.integration.browser import chromium, explorer, get_json, screenshot, validator
from tests.integration.pipeline import execute
from tests.support import SMALL

NAMES = """
SET session_replication_role = replica;
INSERT INTO autocare_vcdb.make (make_id, make_name, ingest_run_id) VALUES (3, 'Ford', 1), (4, 'Honda', 1);
INSERT INTO autocare_vcdb.model (model_id, model_name, vehicle_type_id, ingest_run_id)
VALUES (4, 'F-150', 5, 1), (5, '<script>alert(1)</script>', 5, 1), (6, 'Civic', 5, 1);
INSERT INTO autocare_vcdb.base_vehicle (base_vehicle_id, year_id, make_id, model_id, ingest_run_id, end_date_time)
VALUES (201, 2015, 3, 4, 1, NULL), (202, 2016, 3, 4, 1, NULL), (203, 2015, 3, 5, 1, NULL),
       (204, 2014, 3, 4, 1, '2026-01-01'), (205, 2015, 4, 6, 1, NULL),
       (207, 2015, 3, 99, 1, NULL);
INSERT INTO autocare_vcdb.vehicle (vehicle_id, base_vehicle_id, submodel_id, region_id, ingest_run_id)
VALUES (2051, 205, 11, 1, 1);
SET session_replication_role = origin;
"""


@pytest.fixture
async def base(database_url: str) -> Any:
    await execute(database_url, SMALL)
    await execute(database_url, NAMES)
    await execute(database_url, "SELECT autocare_fitment.refresh_explorer()")  # what a seal does
    async with explorer(database_url) as url:
        yield url



async def test_search_by_year_and_words_by_id_and_by_part_number(base: str) -> None:
    async with aiohttp.ClientSession() as client:
        doc = await get_json(client, f"{base}/api/v1/openapi.json")
        schema = validator(doc, "SearchResults")

        async def hits(q: str) -> Any:
            body = await get_json(client, f"{base}/api/v1/search?q={q}")
            schema.validate(body)
            return body

        found = await hits("2010 roadster")
        assert [b["base_vehicle_id"] for b in found["base_vehicles"]] == [101] and found["year"] == 2010
        found = await hits("acme road")
        assert [b["base_vehicle_id"] for b in found["base_vehicles"]] == [106, 105, 104, 101]  # newest year first
        # punctuation is ignored both ways; the ended base vehicle 204 (2014) is not offered
        for q in ("f150", "f-150", "ford%20F-150"):
            assert [b["base_vehicle_id"] for b in (await hits(q))["base_vehicles"]] == [202, 201], q
        assert (await hits("2015 zenith"))["base_vehicles"] == []
        by_id = await hits("1001")
        assert [(i["kind"], i["id"], i["label"]) for i in by_id["ids"]] == [("vehicle", 1001, "2010 Acme Roadster")]
        assert [(i["kind"], i["id"]) for i in (await hits("101"))["ids"]] == [("base vehicle", 101)]
        nameless = await hits("207")  # a base vehicle whose model has no row: labelled by its id
        assert [(i["kind"], i["label"]) for i in nameless["ids"]] == [("base vehicle", "2015 Ford #99")]
        parts = await hits("W-1")
        assert [(p["brand"], p["part_number"]) for p in parts["parts"]] == [("BBBB", "W-100"), ("CCCC", "W-100")]
        assert (await hits("W-6"))["parts"] == []  # A6 is ended
        nothing = await hits("")
        assert (nothing["base_vehicles"], nothing["ids"], nothing["parts"], nothing["base_vehicles_total"],
                nothing["parts_total"]) == ([], [], [], 0, 0)
        problem = await get_json(client, f"{base}/api/v1/search?q={'x' * 101}", status=400)
        assert problem["parameters"] == ["q"]


async def test_typeahead_gets_the_short_list_and_names_are_escaped(base: str) -> None:
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{base}/search", params={"q": "ford"}, headers={"HX-Request": "true"}) as r:
            fragment = await r.text()
        assert fragment.lstrip().startswith('<ul id="suggestions"') and "<html" not in fragment
        assert 'href="/vehicles/2016/3/4"' in fragment and "2015 Ford F-150" in fragment
        async with client.get(f"{base}/search", params={"q": "script"}) as r:
            page = await r.text()
        assert r.status == 200 and "<html" in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page


async def test_parts_that_fit_a_vehicle(base: str) -> None:
    async with aiohttp.ClientSession() as client:
        doc = await get_json(client, f"{base}/api/v1/openapi.json")
        body = await get_json(client, f"{base}/api/v1/vehicles/1001/parts")
        validator(doc, "VehicleParts").validate(body)
        by_part = {p["part_number"]: p for p in body["parts"]}
        assert sorted(by_part) == ["W-100", "W-200", "W-700"]  # A1, A2 (its submodel 11), A7; not the ended A6
        w100 = by_part["W-100"]
        assert (w100["brand"], w100["description"], w100["image_uri"], w100["position"], w100["qty"]) == (
            "BBBB", "Widget Pro, front", "https://img.example/z-main.jpg", "Front", 2)
        assert w100["in_pies"] and not by_part["W-700"]["in_pies"]
        async with client.get(f"{base}/vehicle/1001/parts") as r:
            page = await r.text()
        assert r.status == 200 and "Widget Pro, front" in page and 'href="https://img.example/z-main.jpg"' in page
        assert "/part?part_number=W-100&amp;brand=BBBB" in page
        missing = await get_json(client, f"{base}/api/v1/vehicles/999999/parts", status=404)
        assert missing["detail"] == "there is no vehicle 999999"
        bad = await get_json(client, f"{base}/api/v1/vehicles/abc/parts", status=400)
        assert bad["parameters"] == ["vehicle_id"]


async def test_a_part_page_collapses_its_vehicles_into_year_ranges(base: str) -> None:
    async with aiohttp.ClientSession() as client:
        doc = await get_json(client, f"{base}/api/v1/openapi.json")
        body = await get_json(client, f"{base}/api/v1/part?part_number=Y-500&brand=CCCC")
        validator(doc, "PartPage").validate(body)
        # A5 fits 1007 (2011) and 1008 (2012), both Acme Roadster Base: one range
        assert [(r["year_from"], r["year_to"], r["make"], r["model"], r["submodel"], r["vehicle_ids"])
                for r in body["fits"]] == [(2011, 2012, "Acme", "Roadster", "Base", [1007, 1008])]
        assert (body["vehicles"], body["live_applications"], body["ended_applications"]) == (2, 1, 0)
        w100 = await get_json(client, f"{base}/api/v1/part?part_number=W-100&brand=BBBB")
        assert w100["description"] == "Widget Pro, front"
        assert sorted(v for r in w100["fits"] for v in r["vehicle_ids"]) == [1001, 1002]
        async with client.get(f"{base}/part", params={"part_number": "Y-500"}) as r:
            page = await r.text()
        assert r.status == 200 and "2011\u20132012" in page and 'href="/vehicle/1008"' in page
        missing = await get_json(client, f"{base}/api/v1/part?part_number=NOPE", status=404)
        assert missing["detail"] == "there is no part 'NOPE'"
        assert (await get_json(client, f"{base}/api/v1/part", status=400))["parameters"] == ["part_number"]


async def test_in_chromium_a_vehicle_its_parts_a_part_its_vehicles_and_a_search(base: str) -> None:
    async with chromium() as page:
        await page.goto(f"{base}/vehicle/1001")
        await page.wait_for_selector("#parts-table")  # loaded by htmx into the vehicle page
        assert "Widget Pro, front" in await page.inner_text("#parts-table")
        await screenshot(page, "fitment-1-vehicle-parts")
        await page.click("#parts-table a:has-text('W-100')")
        await page.wait_for_url(f"{base}/part?part_number=W-100&brand=BBBB")
        assert "Widget Pro, front" in await page.inner_text("#description")
        fits = await page.inner_text("#fits")
        assert "2010" in fits and "Acme" in fits and "Roadster" in fits
        await screenshot(page, "fitment-2-part")
        await page.click("#fits a:has-text('1002')")
        await page.wait_for_url(f"{base}/vehicle/1002")
        await page.wait_for_selector("#parts-table")
        await screenshot(page, "fitment-3-vehicle-of-the-part")
        await page.fill("#search-box", "civic")  # the typeahead
        await page.wait_for_selector("#suggestions a:has-text('2015 Honda Civic')")
        await screenshot(page, "fitment-4-typeahead")
        await page.click("#suggestions a:has-text('2015 Honda Civic')")
        await page.wait_for_url(f"{base}/vehicles/2015/4/6")
        assert "2051" in await page.inner_text("#configurations")
        await screenshot(page, "fitment-5-civic")
        await page.goto(f"{base}/search?q=civic")
        assert "Civic" in await page.inner_text("#base-vehicles")
        await screenshot(page, "fitment-6-search-page")
