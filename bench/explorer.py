"""What issue #11 asks of the explorer: at simulator scale 1.0, the p95 of each drill-down query and
of search <= 10 ms, the vehicle page served in <= 50 ms, over many requests.

1. reference data: the simulator's VCdb at scale S (~80k base vehicles, ~180k vehicles and their
   links at 1.0) copied straight into a fresh database at migration head, as bench/fitment.py does,
   then ANALYZE and `autocare_fitment.refresh_explorer()` (what sealing a VCdb run calls);
2. the explorer (`web.app.build_app`) served on a loopback port by aiohttp's TestServer, in this
   process, with the reader pool it builds;
3. per kind, N sequential requests (one at a time: latency per request, not throughput) with
   random ids drawn from the loaded data, after a few warm-up requests: the JSON twins of the
   drill-down (years, makes of a year, models of a year and make, the base-vehicle grid), search
   (year + model, make + model, a model alone, a vehicle id) and the vehicle page as HTML.
   p50/p95/max in ms, as the client sees them, of the answers that are 200; any other answer is
   counted and reported (a target of its own: none), not timed.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp.test_utils import TestServer

from bench.fitment import _percentiles, dataset
from bench.stack import Bench, fresh_db
from ledger import pools
from schemas.catalog import load_catalog
from simulator.dataset import Dataset
from simulator.oracle import expected_rows
from web.app import build_app
from web.config import WebConfig

REQUESTS = 200  # per kind
WARMUP = 10  # per kind, not measured (plans, pool connections, templates)
API = "/api/v1"
# kind -> the target p95 (ms)
TARGETS_MS = {"years": 10.0, "makes": 10.0, "models": 10.0, "base_vehicle": 10.0, "search": 10.0,
              "vehicle_page": 50.0}


class ExplorerFailed(RuntimeError):
    """A request was not answered 200, or there was nothing to ask for: the phase measured nothing."""


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
    finally:
        await conn.close()
    if not (year_makes and models and vehicles and names):
        raise ExplorerFailed("nothing loaded to explore")
    return {"years": sorted({y for y, _ in year_makes}), "year_makes": year_makes, "models": models,
            "vehicles": vehicles, "names": names}


def search_query(rng: random.Random, s: dict[str, list[Any]]) -> str:
    """A query as a person types it: "2015 civic", "honda civic", "civic", or a vehicle id."""
    year, make, model = rng.choice(s["names"])
    word = model.split()[0]
    return [f"{year} {word}", f"{make} {word}", word, str(rng.choice(s["vehicles"]))][rng.randrange(4)]


def paths(rng: random.Random, s: dict[str, list[Any]]) -> dict[str, Callable[[], tuple[str, dict[str, str]]]]:
    """kind -> a maker of (path, query) with a fresh random id each call."""
    def models() -> tuple[str, dict[str, str]]:
        y, mk = rng.choice(s["year_makes"])
        return f"{API}/years/{y}/makes/{mk}/models", {}

    def grid() -> tuple[str, dict[str, str]]:
        y, mk, md = rng.choice(s["models"])
        return f"{API}/years/{y}/makes/{mk}/models/{md}/vehicles", {}

    return {
        "years": lambda: (f"{API}/years", {}),
        "makes": lambda: (f"{API}/years/{rng.choice(s['years'])}/makes", {}),
        "models": models,
        "base_vehicle": grid,
        "search": lambda: (f"{API}/search", {"q": search_query(rng, s)}),
        "vehicle_page": lambda: (f"/vehicle/{rng.choice(s['vehicles'])}", {}),
    }


async def measure(base: str, makers: dict[str, Callable[[], tuple[str, dict[str, str]]]], n: int
                  ) -> dict[str, Any]:
    """n requests per kind; an answer other than 200 is counted (and its first few kept), not timed."""
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession(base) as http:
        for kind, make in makers.items():
            ms: list[float] = []
            sizes: list[int] = []
            errors: list[str] = []
            for i in range(WARMUP + n):
                path, query = make()
                t0 = time.perf_counter()
                async with http.get(path, params=query) as response:
                    body = await response.read()
                elapsed = (time.perf_counter() - t0) * 1000
                if response.status != 200:
                    errors.append(f"GET {path}{'?' + urlencode(query) if query else ''}: {response.status}")
                elif i >= WARMUP:
                    ms.append(elapsed)
                    sizes.append(len(body))
            if len(ms) < 2:
                raise ExplorerFailed(f"{kind}: {len(errors)} requests of {WARMUP + n} failed, e.g. {errors[:3]}")
            out[kind] = {**_percentiles(ms), "requests": len(ms), "mean_kb": sum(sizes) / len(sizes) / 1000,
                         "errors": len(errors), "error_examples": errors[:3]}
    return out


async def explorer_phase(bench: Bench, scale: float, n: int = REQUESTS, seed: int = 1) -> dict[str, Any]:
    url = await fresh_db(bench.admin_url, "vcdb_bench_explorer")
    t0 = time.perf_counter()
    ds = dataset(scale)
    reference = await load_vcdb(url, ds)
    reference["seconds"] = time.perf_counter() - t0
    s = await samples(url)
    server = TestServer(build_app(WebConfig(read_url=url, write_url=url)), host="127.0.0.1")
    await server.start_server()
    try:
        latency = await measure(str(server.make_url("")).rstrip("/"), paths(random.Random(seed), s), n)
    finally:
        await server.close()
    return {"scale": scale, "reference": reference, "latency_ms": latency, "targets_ms": TARGETS_MS,
            "date": dt.date.today().isoformat()}
