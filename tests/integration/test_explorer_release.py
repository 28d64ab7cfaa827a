"""The explorer's release page, without a browser: a VCdb release's impacted applications linked to
their part and vehicles (escaped), the releases that have none and why, the banner's link to it,
its JSON against the OpenAPI document, and ids that name no release (404, never a 500)."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.integration.browser import explorer, get_json, validator
from tests.integration.pipeline import execute

SCRIPT = "<script>alert(1)</script>"

# Release 1: the VCdb baseline, in place; 2: a VCdb incremental from staged rows, with its impact;
# 3: a PCdb baseline; 4: a VCdb incremental that changed no fitment.
SEED = f"""
INSERT INTO ingest.runs (run_id, db, kind, status, finished_at, publication) VALUES
  (1, 'vcdb', 'baseline', 'succeeded', now(), 'in_place'), (2, 'vcdb', 'incremental', 'succeeded', now(), 'staged'),
  (3, 'pcdb', 'baseline', 'succeeded', now(), 'in_place'), (4, 'vcdb', 'incremental', 'succeeded', now(), 'staged');
INSERT INTO ingest.releases (db, run_id, status, publication, published_at) VALUES
  ('vcdb', 1, 'published', 'in_place', now() - interval '3 h'),
  ('vcdb', 2, 'published', 'staged', now() - interval '2 h'),
  ('pcdb', 3, 'published', 'in_place', now() - interval '1 h'), ('vcdb', 4, 'published', 'staged', now());
INSERT INTO ingest.fitment_impact (run_id, app_key, brand_aaia_id, part_number, status, lost, gained, fits) VALUES
  (2, 'k-all', 'IMPB', '{SCRIPT}', 'lost_all', '{{101,102}}', '{{}}', 0),
  (2, 'k-chg', 'IMPB', 'P 7&8', 'changed', '{{103}}', '{{205}}', 4),
  (2, 'k-new', 'ZZXB', 'W-1', 'gained', '{{}}', '{{206}}', 2);
"""


async def _get(client: aiohttp.ClientSession, url: str) -> tuple[int, str, Any]:
    async with client.get(url) as r:
        return r.status, await r.text(), r.headers


async def test_a_release_page_lists_its_impacted_applications_escaped_and_linked(database_url: str) -> None:
    await execute(database_url, SEED)
    async with explorer(database_url) as base, aiohttp.ClientSession() as client:
        status, html, headers = await _get(client, f"{base}/release/2")
        assert status == 200 and "Content-Security-Policy" in headers and headers["X-Frame-Options"] == "DENY"
        assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert 'href="/part?part_number=%3Cscript%3Ealert(1)%3C/script%3E&amp;brand=IMPB"' in html
        assert 'href="/part?part_number=P+7%268&amp;brand=IMPB"' in html
        assert 'href="/vehicle/101?deleted=1">101</a>' in html and 'href="/vehicle/205">205</a>' in html
        assert 'class="badge bad">lost all</span>' in html  # flagged
        assert "1 lost all, 0 lost some, 1 gained, 1 changed" in html
        assert 'href="/runs/2">#2</a>' in html

        doc = await get_json(client, f"{base}/api/v1/openapi.json")
        page = await get_json(client, f"{base}/api/v1/releases/2")
        validator(doc, "ReleasePage").validate(page)
        assert [(a["app_key"], a["status"], a["lost"], a["gained"], a["fits"]) for a in page["applications"]] == [
            ("k-chg", "changed", [103], [205], 4), ("k-new", "gained", [], [206], 2),
            ("k-all", "lost_all", [101, 102], [], 0)]
        assert page["recorded"] and page["totals"] == {"lost_all": 1, "lost_some": 0, "gained": 1, "changed": 1}

        for release, said in ((1, "Loaded in place"), (3, "Only a VCdb release"), (4, "changed no fitment")):
            status, html, _ = await _get(client, f"{base}/release/{release}")
            assert status == 200 and said in html and 'id="impact"' not in html, release

        status, html, _ = await _get(client, f"{base}/")  # the banner names the newest release: 4
        assert status == 200 and '<a id="banner-release" href="/release/4">release 4</a>' in html
        assert '<a href="/release/3">3</a>' in html  # the start page's newest release of PCdb

        for bad in ("999", "0", "-1", str(2**63 - 1), str(2**63), str(2**64)):
            status, _, _ = await _get(client, f"{base}/release/{bad}")
            assert status == 404, bad
            problem = await get_json(client, f"{base}/api/v1/releases/{bad}", status=404)
            assert problem["detail"] == f"there is no release {bad}"
        status, _, _ = await _get(client, f"{base}/release/abc")
        assert status == 400
