"""What issues #11 and #21 ask of the explorer: at simulator scale 1.0, with a catalogue of 200,000
applications and a dead-letter index thousands deep, the p95 of the drill-down, the grid, search
and the typeahead <= 10 ms, the vehicle page with its parts <= 25 ms (the vehicle page of any
vehicle <= 50 ms, issue #11's), the dead-letter page at its last page <= 50 ms.

1. reference data: the simulator's VCdb at scale S (~80k base vehicles, ~180k vehicles and their
   links at 1.0) copied straight into a fresh database at migration head, as bench/fitment.py does,
   then ANALYZE and `autocare_fitment.refresh_explorer()` (what sealing a VCdb run calls); PCdb,
   Qdb and PAdb copied the same way (what ACES and PIES refer to);
2. the parts side through the real pipeline (bench/fitment.py's files and processes, one broker):
   a generated ACES FULL file of N valid applications fitting the loaded vehicles, with D of the
   generator's faulty applications spread among them (each dead-lettered by the loader, so the
   dead-letter page has D rows of the loader's own reasons), then a PIES file with an item for
   every PIES_EVERY-th part;
3. the explorer (`web.app.build_app`) served on a loopback port by aiohttp's TestServer, in this
   process, with the reader pool it builds;
4. per kind, N sequential requests (one at a time: latency per request, not throughput) with
   random ids drawn from the loaded data, after a few warm-up requests: the JSON twins of the
   drill-down (years, makes of a year, models of a year and make, the base-vehicle grid), the grid
   as HTML, search (year + model, make + model, a model alone, a vehicle id), the typeahead (the
   htmx fragment of what a person has typed so far, part-number prefixes too), the vehicle page as
   HTML (any vehicle; then a vehicle with parts: the page and the parts fragment it loads, timed
   together, and the fragment alone), and the dead-letter page at its last page.
   p50/p95/max in ms, as the client sees them, of the answers that are 200; any other answer is
   counted and reported (a target of its own: none), not timed.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp.test_utils import TestServer

from bench import fitment
from bench.fitment import _percentiles, dataset
from bench.stack import Bench, env_for, fresh_db, settings_for
from ledger import dead_letters, pools
from schemas.catalog import load_catalog
from simulator import fitment_files
from simulator.dataset import Dataset
from simulator.oracle import expected_rows
from vcdb import services
from web.app import build_app
from web.config import WebConfig

REQUESTS = 200  # per kind
WARMUP = 10  # per kind, not measured (plans, pool connections, templates)
API = "/api/v1"
APPS = 200_000  # valid applications of the ACES file
DEAD_LETTERS = 13_000  # faulty applications among them: the dead-letter page's depth
PIES_EVERY = 10  # a PIES item for every 10th part
WITH_PARTS_FROM = 2000  # applications whose vehicles are the vehicles with parts asked for
PARTS_DBS = ("pcdb", "qdb", "padb")  # what the ACES and PIES files refer to, besides VCdb
# kind -> the target p95 (ms); kinds not here are reported without a target
TARGETS_MS = {"years": 10.0, "makes": 10.0, "models": 10.0, "base_vehicle": 10.0, "grid": 10.0, "search": 10.0,
              "typeahead": 10.0, "vehicle_page": 50.0, "vehicle_with_parts": 25.0, "vehicle_parts": 25.0,
              "dead_letters_last": 50.0}


class ExplorerFailed(RuntimeError):
    """A request was not answered 200, or there was nothing to ask for: the phase measured nothing."""


@dataclass(frozen=True)
class Get:
    path: str
    query: dict[str, str] = field(default_factory=dict)
    htmx: bool = False  # sent as htmx sends it (HX-Request): the page's fragment, not the page

    def __str__(self) -> str:
        return f"GET {self.path}{'?' + urlencode(self.query) if self.query else ''}"


async def load_vcdb(url: str, ds: Dataset, release: int = 1) -> dict[str, Any]:
    """COPY every VCdb API table as a baseline at `release` leaves them, then ANALYZE and refresh
    the explorer's materialised view."""
    t0 = time.perf_counter()
    rows = 0
    conn = await pools.connect_session(url)
    try:
        await conn.execute("SET session_replication_role = replica")  # the simulator's rows are the oracle's
        for table in load_catalog("vcdb").api_tables():
            cols = [c.canonical for c in table.columns]
            records = [(*(r[c] for c in cols), 0) for r in expected_rows(ds, "vcdb", table.name, release)]
            if records:
                await conn.copy_records_to_table(table.canonical, schema_name="autocare_vcdb", records=records,
                                                 columns=[*cols, "ingest_run_id"])
            rows += len(records)
        await conn.execute("ANALYZE")
        await conn.execute("SELECT autocare_fitment.refresh_explorer()")
        counts = dict(await conn.fetchrow(
            "SELECT (SELECT count(*) FROM autocare_vcdb.base_vehicle) AS base_vehicles, "
            "(SELECT count(*) FROM autocare_vcdb.vehicle) AS vehicles, "
            "(SELECT count(*) FROM autocare_fitment.explorer_year_make) AS year_makes"))
    finally:
        await conn.close()
    return {"rows": rows, "seconds": time.perf_counter() - t0, **counts}


async def load_parts(bench: Bench, url: str, ds: Dataset, apps: int, dead: int) -> dict[str, Any]:
    """PCdb, Qdb and PAdb copied; then the ACES file (apps valid applications, dead faulty ones
    among them) and the PIES file, each loaded by `vcdb DB load` and `vcdb consume` (see the
    module's docstring)."""
    t0 = time.perf_counter()
    reference = await fitment.load_reference(url, ds, dbs=PARTS_DBS)
    built = fitment_files.build(ds)
    templates, header = fitment.valid_apps(ds, built)
    base_vehicles = [r["base_vehicle_id"] for r in await fitment._fetch(
        url, "SELECT DISTINCT base_vehicle_id FROM autocare_vcdb.vehicle ORDER BY 1")]
    aces = bench.workdir / f"explorer_aces_{apps}_{dead}.xml"
    fitment.write_file(aces, templates, base_vehicles, header, apps, fitment.faulty_apps(built), dead)
    pies = bench.workdir / f"explorer_pies_{apps}.xml"
    items = list(fitment.pies_items(built, fitment.many(templates, base_vehicles, apps), header.brand, PIES_EVERY))
    fitment.write_pies(pies, built, items)
    written = time.perf_counter() - t0
    kafka = services.start_tansu(bench.workdir)
    try:
        env = env_for(settings_for(url, kafka))
        t1 = time.perf_counter()
        await fitment.load_file(bench, env, "aces", aces)
        t2 = time.perf_counter()
        await fitment.load_file(bench, env, "pies", pies)
        t3 = time.perf_counter()
    finally:
        kafka.stop()
    conn = await pools.connect_session(url)
    try:
        await conn.execute("ANALYZE")
        counts = dict(await conn.fetchrow(
            "SELECT (SELECT count(*) FROM autocare_aces.app WHERE end_date_time IS NULL) AS apps, "
            "(SELECT count(DISTINCT vehicle_id) FROM autocare_fitment.app_vehicle) AS vehicles_with_parts, "
            "(SELECT count(*) FROM autocare_pies.item WHERE end_date_time IS NULL) AS items"))
        counts["dead_letters"] = sum([await dead_letters.count(conn, db) for db in ("aces", "pies")])
    finally:
        await conn.close()
    return {"apps_in_file": apps, "faulty_in_file": dead, "items_in_file": len(items),
            "reference_rows": reference["rows"], "files_s": written, "aces_load_s": t2 - t1, "pies_load_s": t3 - t2,
            "seconds": time.perf_counter() - t0, **counts}


async def samples(url: str) -> dict[str, list[Any]]:
    """What the requests draw from: live rows only (the explorer hides end-dated ones by default)."""
    conn = await pools.connect_session(url)
    try:
        year_makes = [(r["year_id"], r["make_id"]) for r in await conn.fetch(
            "SELECT year_id, make_id FROM autocare_fitment.explorer_year_make WHERE base_vehicles_live > 0")]
        models = [(r["year_id"], r["make_id"], r["model_id"]) for r in await conn.fetch(
            "SELECT DISTINCT year_id, make_id, model_id FROM autocare_vcdb.base_vehicle WHERE end_date_time IS NULL")]
        vehicles = [r["vehicle_id"] for r in await conn.fetch(
            "SELECT v.vehicle_id FROM autocare_vcdb.vehicle v JOIN autocare_vcdb.base_vehicle b "
            "USING (base_vehicle_id) WHERE v.end_date_time IS NULL AND b.end_date_time IS NULL")]
        names = [(r["year_id"], r["make_name"], r["model_name"]) for r in await conn.fetch(
            "SELECT b.year_id, mk.make_name, md.model_name FROM autocare_vcdb.base_vehicle b "
            "JOIN autocare_vcdb.make mk USING (make_id) JOIN autocare_vcdb.model md USING (model_id) "
            "WHERE b.end_date_time IS NULL AND mk.make_name <> '' AND md.model_name <> '' "
            "ORDER BY b.base_vehicle_id LIMIT 20000")]
        apps = await conn.fetch("SELECT app_key, part_number FROM autocare_aces.app WHERE end_date_time IS NULL "
                                "ORDER BY app_key LIMIT 20000")  # the key is a digest: a spread of the file
        parts = [r["part_number"] for r in apps]
        # app_vehicle is a view (every attribute matched): asked for some applications, not whole
        with_parts = [r["vehicle_id"] for r in await conn.fetch(
            "SELECT DISTINCT vehicle_id FROM autocare_fitment.app_vehicle WHERE app_key = ANY($1::text[]) "
            "ORDER BY 1", [r["app_key"] for r in apps[:WITH_PARTS_FROM]])]
    finally:
        await conn.close()
    pool = await pools.connect_pool(url, size=1)
    try:  # what the dead-letter page pages through, unfiltered
        everything = dead_letters.DeadLetterFilter(None, status=None, limit=1)
        dead_letter_total = (await dead_letters.window(pool, everything)).total
    finally:
        await pool.close()
    if not (year_makes and models and vehicles and names):
        raise ExplorerFailed("nothing loaded to explore")
    return {"years": sorted({y for y, _ in year_makes}), "year_makes": year_makes, "models": models,
            "vehicles": vehicles, "names": names, "with_parts": with_parts, "parts": parts,
            "dead_letters": dead_letter_total}


def search_query(rng: random.Random, s: dict[str, list[Any]]) -> str:
    """A query as a person types it: "2015 civic", "honda civic", "civic", or a vehicle id."""
    year, make, model = rng.choice(s["names"])
    word: str = model.split()[0]
    return [f"{year} {word}", f"{make} {word}", word, str(rng.choice(s["vehicles"]))][rng.randrange(4)]


def typed_so_far(rng: random.Random, s: dict[str, list[Any]]) -> str:
    """What the typeahead asks while a person types: a search query cut after 2 characters or more,
    or the start of a part number (5 characters or more), when parts are loaded."""
    if s["parts"] and rng.randrange(3) == 0:
        part: str = rng.choice(s["parts"])
        return part[: rng.randint(min(5, len(part)), len(part))]
    q = search_query(rng, s)
    return q[: rng.randint(min(2, len(q)), len(q))]


def dead_letters_last_page() -> Get:
    """The dead-letter page's last page, as its "last »" link asks for it."""
    return Get("/dead-letters", {"last": "1"})


# kind -> a maker of the requests of one sample (timed together), with fresh random ids each call
Makers = dict[str, Callable[[], tuple[Get, ...]]]


def paths(rng: random.Random, s: dict[str, list[Any]]) -> Makers:
    def models() -> tuple[Get, ...]:
        y, mk = rng.choice(s["year_makes"])
        return (Get(f"{API}/years/{y}/makes/{mk}/models"),)

    def base_vehicle() -> tuple[Get, ...]:
        y, mk, md = rng.choice(s["models"])
        return (Get(f"{API}/years/{y}/makes/{mk}/models/{md}/vehicles"),)

    def grid() -> tuple[Get, ...]:
        y, mk, md = rng.choice(s["models"])
        return (Get(f"/vehicles/{y}/{mk}/{md}"),)

    def with_parts() -> tuple[Get, ...]:
        v = rng.choice(s["with_parts"])
        return Get(f"/vehicle/{v}"), Get(f"/vehicle/{v}/parts", htmx=True)

    makers: Makers = {
        "years": lambda: (Get(f"{API}/years"),),
        "makes": lambda: (Get(f"{API}/years/{rng.choice(s['years'])}/makes"),),
        "models": models,
        "base_vehicle": base_vehicle,
        "grid": grid,
        "search": lambda: (Get(f"{API}/search", {"q": search_query(rng, s)}),),
        "typeahead": lambda: (Get("/search", {"q": typed_so_far(rng, s)}, htmx=True),),
        "vehicle_page": lambda: (Get(f"/vehicle/{rng.choice(s['vehicles'])}"),),
    }
    if s["with_parts"]:
        makers["vehicle_with_parts"] = with_parts
        makers["vehicle_parts"] = lambda: (with_parts()[1],)
    if s["dead_letters"]:
        makers["dead_letters_last"] = lambda: (dead_letters_last_page(),)
    return makers


async def measure(base: str, makers: Makers, n: int) -> dict[str, Any]:
    """n samples per kind; a sample with an answer other than 200 is counted (and its first few
    kept), not timed."""
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession(base) as http:
        for kind, make in makers.items():
            ms: list[float] = []
            sizes: list[int] = []
            errors: list[str] = []
            for i in range(WARMUP + n):
                elapsed, size, failed = 0.0, 0, []
                for get in make():
                    t0 = time.perf_counter()
                    async with http.get(get.path, params=get.query,
                                        headers={"HX-Request": "true"} if get.htmx else None) as response:
                        body = await response.read()
                    elapsed += (time.perf_counter() - t0) * 1000
                    size += len(body)
                    if response.status != 200:
                        failed.append(f"{get}: {response.status}")
                if failed:
                    errors += failed
                elif i >= WARMUP:
                    ms.append(elapsed)
                    sizes.append(size)
            if len(ms) < 2:
                raise ExplorerFailed(f"{kind}: {len(errors)} requests of {WARMUP + n} failed, e.g. {errors[:3]}")
            out[kind] = {**_percentiles(ms), "requests": len(ms), "mean_kb": sum(sizes) / len(sizes) / 1000,
                         "errors": len(errors), "error_examples": errors[:3]}
    return out


async def explorer_phase(bench: Bench, scale: float, n: int = REQUESTS, seed: int = 1, apps: int = APPS,
                         dead: int = DEAD_LETTERS) -> dict[str, Any]:
    url = await fresh_db(bench.admin_url, "vcdb_bench_explorer")
    t0 = time.perf_counter()
    ds = dataset(scale)
    reference = await load_vcdb(url, ds)
    reference["seconds"] = time.perf_counter() - t0
    parts = await load_parts(bench, url, ds, apps, dead) if apps > 0 else None
    s = await samples(url)
    server = TestServer(build_app(WebConfig(read_url=url, write_url=url)), host="127.0.0.1")
    await server.start_server()
    try:
        latency = await measure(str(server.make_url("")).rstrip("/"), paths(random.Random(seed), s), n)
    finally:
        await server.close()
    return {"scale": scale, "reference": reference, "parts": parts, "latency_ms": latency,
            "targets_ms": {k: v for k, v in TARGETS_MS.items() if k in latency}, "date": dt.date.today().isoformat()}
