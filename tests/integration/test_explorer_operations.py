"""The explorer's operations pages: runs, a run's load, dead letters and replay (preview, confirm,
recorded), their JSON against the OpenAPI document, the refusals, and one walk in headless Chromium."""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp
from pydantic import SecretStr

from tests.integration.browser import chromium, explorer, screenshot, validator
from tests.integration.pipeline import execute, fetch

TOKEN = "s3cret-admin"
ADMIN = {"admin_token": SecretStr(TOKEN)}
BEARER = {"Authorization": f"Bearer {TOKEN}"}
SCRIPT = "<script>alert(1)</script>"

SEED = f"""
INSERT INTO ingest.runs (run_id, db, kind, status, tables, started_at, finished_at) VALUES
  (1, 'vcdb', 'baseline', 'succeeded', '["Make", "Model", "BaseVehicle"]', now() - interval '60 s', now()),
  (2, 'vcdb', 'incremental', 'failed', '["Make"]', now() - interval '20 s', now() - interval '10 s'),
  (3, 'pcdb', 'baseline', 'running', '[]', now() - interval '5 s', NULL);
INSERT INTO ingest.table_load (run_id, table_name, partitions, announced, loaded, dead_lettered, status, sealed_at)
VALUES
  (1, 'Make', 3, 5, 3, 2, 'sealed', now() - interval '50 s'),
  (1, 'Model', 3, 4, 3, 1, 'sealed', now() - interval '30 s'),
  (1, 'BaseVehicle', 3, NULL, 7, 0, 'loading', NULL);
INSERT INTO ingest.endpoint_progress (run_id, table_name, status, records_published) VALUES
  (1, 'Make', 'done', 5), (1, 'Model', 'done', 4), (1, 'BaseVehicle', 'running', 9);
INSERT INTO ingest.dead_letters (db, table_name, run_id, topic, partition, "offset", record_key, record, headers,
                                 reason, constraint_name, missing_table, missing_key, message) VALUES
  ('vcdb', 'Make', 1, 'vcdb.Make', 0, 7, '[2]', '{{"MakeID": 2, "MakeName": "Acme"}}',
   '{{"vcdb.error.reason": "constraint", "vcdb.run": "1"}}', 'constraint', 'no_acme', NULL, NULL,
   'new row violates check constraint "no_acme"'),
  ('vcdb', 'Make', 1, 'vcdb.Make', 1, 3, '[3]', '{{"MakeID": 3, "MakeName": "{SCRIPT}"}}',
   '{{"vcdb.error.reason": "validation", "x-note": "{SCRIPT}"}}', 'validation', NULL, NULL, NULL,
   'MakeName: {SCRIPT}'),
  ('vcdb', 'Model', 1, 'vcdb.Model', 2, 9, '[10]', '{{"ModelID": 10, "ModelName": "Roadster", "VehicleTypeID": 5}}',
   '{{}}', 'missing_parent', NULL, 'VehicleType', '[5]', 'VehicleType [5] is missing');
INSERT INTO ingest.dead_letters (db, table_name, run_id, topic, partition, "offset", record_key, record, headers,
                                 reason, message)
SELECT 'pcdb', 'Parts', 3, 'pcdb.Parts', 0, g, '[' || g || ']', '{{}}', '{{}}', 'validation', 'bad part ' || g
FROM generate_series(1, 5) g;
"""


async def _json(client: aiohttp.ClientSession, url: str, **kw: Any) -> tuple[int, Any]:
    async with client.get(url, **kw) as r:
        return r.status, await r.json()


async def _text(client: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with client.get(url) as r:
        return r.status, await r.text()


async def _doc(client: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    return (await _json(client, f"{base}/api/v1/openapi.json"))[1]  # type: ignore[no-any-return]


async def test_runs_and_a_run_page_validate_against_the_openapi_document(database_url: str) -> None:
    await execute(database_url, SEED)
    async with explorer(database_url) as base, aiohttp.ClientSession() as client:
        doc = await _doc(client, base)
        status, body = await _json(client, f"{base}/api/v1/runs?limit=2")
        assert status == 200
        validator(doc, "RunsPage").validate(body)
        assert [r["run_id"] for r in body["runs"]] == [3, 2] and body["next_before"] == 2
        assert body["runs"][1]["duration_s"] == 10.0 and body["runs"][0]["duration_s"] is None
        status, body = await _json(client, f"{base}/api/v1/runs?limit=2&before=2")
        assert [r["run_id"] for r in body["runs"]] == [1] and body["next_before"] is None
        status, body = await _json(client, f"{base}/api/v1/runs?db=pcdb")
        assert [r["run_id"] for r in body["runs"]] == [3]

        status, run = await _json(client, f"{base}/api/v1/runs/1")
        assert status == 200
        validator(doc, "RunPage").validate(run)
        tables = {t["table_name"]: t for t in run["tables"]}
        assert tables["Make"]["announced"] == 5 and tables["Make"]["dead_lettered"] == 2
        assert tables["Make"]["backlog"] == 0 and tables["Make"]["open_dead_letters"] == 2
        assert tables["BaseVehicle"]["backlog"] is None
        assert {lag["table_name"]: lag["backlog"] for lag in run["lag"]} == {"BaseVehicle": 2, "Make": 0, "Model": 0}
        assert run["totals"]["sealed"] == 2 and run["svg"].startswith("<svg")

        status, html = await _text(client, f"{base}/runs/1")
        assert status == 200 and '<svg xmlns="http://www.w3.org/2000/svg" id="load-svg"' in html
        assert "<polyline" in html and "/dead-letters?run=1" in html and "not the broker" in html
        status, html = await _text(client, f"{base}/runs")
        assert status == 200 and 'href="/runs/3"' in html

        status, problem = await _json(client, f"{base}/api/v1/runs/999")
        assert status == 404 and problem["detail"] == "there is no run 999"
        status, html = await _text(client, f"{base}/runs/999")
        assert status == 404 and "there is no run 999" in html
        status, problem = await _json(client, f"{base}/api/v1/runs?before=abc")
        assert status == 400 and problem["parameters"] == ["before"]
        status, html = await _text(client, f"{base}/dead-letters?db=nosuch")
        assert status == 400 and "<code>db</code>" in html


async def test_dead_letters_filter_page_and_show_records_escaped(database_url: str) -> None:
    await execute(database_url, SEED)
    async with explorer(database_url) as base, aiohttp.ClientSession() as client:
        doc = await _doc(client, base)
        status, body = await _json(client, f"{base}/api/v1/dead-letters?db=vcdb&table=Make")
        assert status == 200
        validator(doc, "DeadLettersPage").validate(body)
        assert [d["record_key"] for d in body["dead_letters"]] == ["[2]", "[3]"]
        _, body = await _json(client, f"{base}/api/v1/dead-letters?reason=missing_parent&run=1")
        assert [d["table_name"] for d in body["dead_letters"]] == ["Model"]
        seen: list[str] = []
        after: int | None = 0
        for _ in range(10):  # bounded: 5 letters, 2 a page
            _, body = await _json(client, f"{base}/api/v1/dead-letters?db=pcdb&limit=2&after={after}")
            seen += [d["record_key"] for d in body["dead_letters"]]
            after = body["next_after"]
            if after is None:
                break
        assert seen == [f"[{g}]" for g in range(1, 6)]

        script_id = (await fetch(database_url, "SELECT dead_letter_id FROM ingest.dead_letters "
                                               "WHERE record_key = '[3]'"))[0][0]
        status, detail = await _json(client, f"{base}/api/v1/dead-letters/{script_id}")
        validator(doc, "DeadLetterDetail").validate(detail)
        assert detail["record"]["MakeName"] == SCRIPT and detail["headers"]["x-note"] == SCRIPT
        status, html = await _text(client, f"{base}/dead-letters/{script_id}")
        assert status == 200 and SCRIPT not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        status, html = await _text(client, f"{base}/dead-letters?db=vcdb")
        assert SCRIPT not in html and f'href="/dead-letters/{script_id}"' in html
        status, _ = await _json(client, f"{base}/api/v1/dead-letters/424242")
        assert status == 404


async def _ids(database_url: str, key: str) -> int:
    return int((await fetch(database_url, "SELECT dead_letter_id FROM ingest.dead_letters WHERE record_key = $1",
                            key))[0][0])


async def test_replay_is_refused_without_token_read_only_or_cross_site(database_url: str) -> None:
    await execute(database_url, SEED)
    acme = await _ids(database_url, "[2]")
    url = "/api/v1/dead-letters/replay"
    async with explorer(database_url, **ADMIN) as base, aiohttp.ClientSession() as client:
        async with client.post(base + url, json={"ids": [acme]}) as r:
            assert r.status == 403 and "admin token" in (await r.json())["detail"]
        cross = {**BEARER, "Sec-Fetch-Site": "cross-site"}
        async with client.post(base + url, json={"ids": [acme]}, headers=cross) as r:
            assert r.status == 403 and "cross-site" in (await r.json())["detail"]
        evil = {**BEARER, "Origin": "http://evil.example"}
        async with client.post(base + url, json={"ids": [acme]}, headers=evil) as r:
            assert r.status == 403
        async with client.post(f"{base}/dead-letters/replay", data={"ids": str(acme), "admin_token": TOKEN}) as r:
            assert r.status == 403 and "CSRF" in await r.text()  # a form without the cookie's token
    async with explorer(database_url, read_only=True, **ADMIN) as base, aiohttp.ClientSession() as client:
        async with client.post(base + url, json={"ids": [acme], "confirm": True}, headers=BEARER) as r:
            assert r.status == 403 and "read-only" in (await r.json())["detail"]
        _, html = await _text(client, f"{base}/dead-letters")
        assert "Replay is off here (read-only)" in html
    rows = await fetch(database_url, "SELECT status, attempts FROM ingest.dead_letters WHERE dead_letter_id = $1", acme)
    assert dict(rows[0]) == {"status": "open", "attempts": 1}
    assert (await fetch(database_url, "SELECT count(*) FROM ingest.replays"))[0][0] == 0


async def test_preview_changes_nothing_and_a_confirmed_replay_resolves_and_is_recorded(database_url: str) -> None:
    await execute(database_url, SEED)
    acme, model = await _ids(database_url, "[2]"), await _ids(database_url, "[10]")
    url = "/api/v1/dead-letters/replay"
    async with explorer(database_url, **ADMIN) as base, aiohttp.ClientSession() as client:
        doc = await _doc(client, base)
        async with client.post(base + url, json={"ids": [acme, model]}, headers=BEARER) as r:
            assert r.status == 200
            preview = await r.json()
        validator(doc, "ReplayPage").validate(preview)
        assert not preview["confirmed"] and [p["id"] for p in preview["plan"]] == [acme, model]
        assert (await fetch(database_url, "SELECT count(*) FROM ingest.replays"))[0][0] == 0
        assert (await fetch(database_url, "SELECT count(*) FROM autocare_vcdb.make"))[0][0] == 0
        assert (await fetch(database_url, "SELECT count(*) FROM ingest.dead_letters WHERE status <> 'open'"))[0][0] == 0

        by_filter = {"db": "vcdb", "table": "Make", "reason": "validation"}
        async with client.post(base + url, json=by_filter, headers=BEARER) as r:
            assert r.status == 200
            assert [p["key"] for p in (await r.json())["plan"]] == ["[3]"]  # no ids: the filter's open ones
        async with client.post(base + url, json={"db": "vcdb", "table": "Nope"}, headers=BEARER) as r:
            assert r.status == 400 and (await r.json())["parameters"] == ["table"]

        body = {"ids": [acme, model], "confirm": True, "actor": "ops-alice"}
        async with client.post(base + url, json=body, headers=BEARER) as r:
            assert r.status == 200, await r.text()
            done = await r.json()
        validator(doc, "ReplayPage").validate(done)
        outcome = {o["id"]: o for o in done["outcomes"]}
        assert outcome[acme]["resolved"] and not outcome[model]["resolved"]
        assert outcome[model]["reason"] == "missing_parent"
        makes = await fetch(database_url, "SELECT make_id, make_name FROM autocare_vcdb.make")
        assert [tuple(m) for m in makes] == [(2, "Acme")]
        letters = await fetch(database_url, "SELECT dead_letter_id, status, attempts FROM ingest.dead_letters "
                                            "WHERE dead_letter_id = ANY($1::bigint[]) ORDER BY 1", [acme, model])
        assert [tuple(x) for x in letters] == [(acme, "resolved", 2), (model, "open", 2)]
        rec = await fetch(database_url, "SELECT * FROM ingest.replays")
        assert len(rec) == 1 and rec[0]["actor"] == "ops-alice" and rec[0]["replay_id"] == done["replay_id"]
        assert json.loads(rec[0]["filter"]) == {"ids": [acme, model]} and rec[0]["selected"] == 2
        assert json.loads(rec[0]["loaded"]) == [acme] and rec[0]["finished_at"] is not None
        assert json.loads(rec[0]["failed"])[0][0] == model

        async with client.post(base + url, json={"ids": [acme], "confirm": True}, headers=BEARER) as r:
            again = await r.json()  # already resolved: selected nothing, changed nothing
        assert again["selected"] == 0 and again["outcomes"] == []
        assert (await fetch(database_url, "SELECT count(*) FROM autocare_vcdb.make"))[0][0] == 1
        actors = await fetch(database_url, "SELECT actor FROM ingest.replays ORDER BY replay_id")
        assert [a[0] for a in actors] == ["ops-alice", "admin"]


async def test_in_chromium_a_run_its_dead_letters_filtered_previewed_replayed(database_url: str) -> None:
    await execute(database_url, SEED)
    acme = await _ids(database_url, "[2]")
    async with explorer(database_url, **ADMIN) as base, chromium() as page:
        await page.goto(f"{base}/runs")
        await page.click("a[href='/runs/1']")
        await page.wait_for_selector("#load-svg")
        assert "2 of 3 tables sealed" in await page.inner_text("main")
        await screenshot(page, "ops-run")
        await page.click("#run-dead-letters")
        await page.wait_for_url(re.compile(r"/dead-letters\?run=1"))
        await screenshot(page, "ops-dead-letters")
        await page.select_option("#dl-filter select[name=table]", "Make")
        await page.select_option("#dl-filter select[name=reason]", "constraint")
        await page.click("#dl-filter button[type=submit]")
        await page.wait_for_url(re.compile(r"reason=constraint"))
        assert await page.locator("#dead-letters tbody tr").count() == 1
        await screenshot(page, "ops-dead-letters-filtered")
        await page.check(f"input[name=ids][value='{acme}']")
        await page.fill("#replay-form input[name=admin_token]", TOKEN)
        await page.fill("#replay-form input[name=actor]", "browser")
        await page.click("#preview")
        await page.wait_for_selector("#confirm-form")
        assert "1 open dead letter would be replayed" in await page.inner_text("#summary")
        await screenshot(page, "ops-replay-preview")
        assert (await fetch(database_url, "SELECT status FROM ingest.dead_letters WHERE dead_letter_id = $1",
                            acme))[0][0] == "open"
        await page.fill("#confirm-form input[name=admin_token]", TOKEN)
        await page.click("#confirm")
        await page.wait_for_selector("td.outcome")
        assert "resolved" in await page.inner_text("td.outcome")
        assert "1 resolved" in await page.inner_text("#summary")
        await screenshot(page, "ops-replay-done")
        await page.click(f"a[href='/dead-letters/{acme}']")
        assert await page.inner_text("#status") == "resolved"
        await screenshot(page, "ops-dead-letter-resolved")
    rec = await fetch(database_url, "SELECT actor, loaded FROM ingest.replays")
    assert [(r["actor"], json.loads(r["loaded"])) for r in rec] == [("browser", [acme])]
