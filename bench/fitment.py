"""What issue #10 asks of ACES, as ratios within one run.

1. reference data: the simulator's VCdb, PCdb and Qdb at scale S copied straight into a fresh
   database (a bench shortcut: the pipeline's own baseline is measured by bench/baseline.py);
2. a generated FULL ACES file of N applications, all valid: a third are the generator's valid
   applications of scale S (attributes, qualifiers, year ranges) under ever new part numbers, two
   thirds name only a base vehicle, spread over every base vehicle that has vehicles, so a
   vehicle has tens of parts as in a real catalogue, not thousands;
3. the floor: the same parser reading the same file into records, nothing published;
4. end to end: `vcdb consume --db aces --until-idle --workers W` and `vcdb aces load FILE` as
   processes, together, from the start of both until every application is loaded; apps/s
   against the floor, and the peak RSS of the file producer and of the largest worker;
5. the fitment look-ups (`parts --vehicle`, `vehicles --part`) with that file loaded: p50 and
   p95 over many calls of the query functions the commands call.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import random
import statistics
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bench.procs import Exited, Tracked, check
from bench.stack import Bench, env_for, fresh_db, settings_for, vcdb
from consumers import fitment
from ledger import dead_letters, pools
from producers.files.run import FORMATS, check_file
from producers.files.xml_stream import XmlStream
from schemas.catalog import load_catalog
from simulator import fitment_files
from simulator.config import DEFAULT_ANOMALIES, DatasetConfig
from simulator.dataset import Dataset
from simulator.fitment_app import App, VehicleIdent
from simulator.fitment_pies import Item
from simulator.fitment_xml import AcesHeader, aces_document, pies_document
from simulator.oracle import expected_rows
from simulator.timeline import Timeline
from vcdb import services

REFERENCE_DBS = ("vcdb", "pcdb", "qdb")
LOOKUPS = 300
FAULTY_SPACING = 10  # `mixed`: a faulty application after every 10 valid ones


def dataset(scale: float) -> Dataset:
    return Dataset(DatasetConfig(seed=42, scale=scale, anomalies=DEFAULT_ANOMALIES, timeline=Timeline.monthly(3)))


async def load_reference(url: str, ds: Dataset, release: int = 1, dbs: tuple[str, ...] = REFERENCE_DBS
                         ) -> dict[str, Any]:
    """COPY every API table of the reference databases `dbs` as a baseline at `release` leaves them."""
    t0 = time.perf_counter()
    rows = 0
    conn = await pools.connect_session(url)
    try:
        await conn.execute("SET session_replication_role = replica")  # the simulator's rows are the oracle's
        for db in dbs:
            for table in load_catalog(db).api_tables():
                cols = [c.canonical for c in table.columns]
                records = [(*(r[c] for c in cols), 0) for r in expected_rows(ds, db, table.name, release)]
                if records:
                    await conn.copy_records_to_table(table.canonical, schema_name=f"autocare_{db}",
                                                     records=records, columns=[*cols, "ingest_run_id"])
                rows += len(records)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return {"rows": rows, "seconds": time.perf_counter() - t0}


def valid_apps(ds: Dataset, built: fitment_files.Fitment | None = None) -> tuple[list[App], AcesHeader]:
    """The generator's applications that load at the baseline, and its first file's header."""
    built = built or fitment_files.build(ds)
    first = built.deliveries[0]
    apps = [a for a in first.apps if a.fault is None and not a.late and a.action == "A"]
    return apps, dataclasses.replace(built.aces_headers[0], brand=first.brand)


def many(apps: list[App], base_vehicles: list[int], n: int) -> Iterator[App]:
    """n applications, each under its own part number: every third a valid application of the
    generator again, the others a base vehicle's (with a part type the generator used)."""
    part_types = sorted({a.content.part_type for a in apps})
    for i in range(n):
        app = apps[(i // 3) % len(apps)]
        content = dataclasses.replace(app.content, part=f"BN{i:07d}")
        if i % 3:
            vehicle = VehicleIdent(base_vehicle=base_vehicles[i % len(base_vehicles)])
            content = dataclasses.replace(content, vehicle=vehicle, attributes=(), quals=(), position=None,
                                          part_type=part_types[i % len(part_types)])
            app = dataclasses.replace(app, validate=True, notes=())
        yield dataclasses.replace(app, content=content)


def faulty_apps(built: fitment_files.Fitment) -> list[App]:
    """The generator's applications of its first file that the loader dead-letters (the late ones
    aside: they wait on a later VCdb release)."""
    return [a for a in built.deliveries[0].apps if a.fault is not None and not a.late and a.action == "A"]


def mixed(valid: Iterable[App], faulty: list[App], n_faulty: int) -> Iterator[App]:
    """The valid applications with n_faulty of the faulty ones spread among them, one after every
    `spacing` valid ones (the rest at the end), each under its own part number."""
    def flawed(k: int) -> App:
        app = faulty[k % len(faulty)]
        return dataclasses.replace(app, content=dataclasses.replace(app.content, part=f"BX{k:07d}"))

    k = 0
    for i, app in enumerate(valid, 1):
        yield app
        if k < n_faulty and i % FAULTY_SPACING == 0:
            yield flawed(k)
            k += 1
    for rest in range(k, n_faulty):
        yield flawed(rest)


def write_file(path: Path, apps: list[App], base_vehicles: list[int], header: AcesHeader, n: int,
               faulty: list[App] | None = None, n_faulty: int = 0) -> int:
    """A FULL file of n valid applications (`many`) and n_faulty faulty ones among them (`mixed`)."""
    n_faulty = n_faulty if faulty else 0

    class Sized(list[App]):  # aces_document counts the apps for the Footer and iterates them
        def __len__(self) -> int:
            return n + n_faulty

        def __iter__(self) -> Iterator[App]:
            return mixed(many(apps, base_vehicles, n), faulty or [], n_faulty)

    with path.open("w", encoding="utf-8") as out:
        for piece in aces_document(header, Sized(), lambda a: a.content.part):
            out.write(piece)
    return path.stat().st_size


def pies_items(built: fitment_files.Fitment, apps: Iterable[App], brand: str, every: int) -> Iterator[Item]:
    """A PIES item for every `every`-th application of `apps` (as `many` yields them), each the
    generator's valid item again under that application's brand, part number and part type."""
    templates = [i for i in built.items if i.fault is None]
    for k, app in enumerate(apps):
        if k % every == 0:
            item = templates[(k // every) % len(templates)]
            yield dataclasses.replace(item, brand=brand, part=app.content.part, part_type=app.content.part_type)


def write_pies(path: Path, built: fitment_files.Fitment, items: list[Item]) -> int:
    with path.open("w", encoding="utf-8") as out:
        out.writelines(pies_document(built.pies_header, items))
    return path.stat().st_size


async def load_file(bench: Bench, env: dict[str, str], db: str, path: Path) -> tuple[Exited, Exited]:
    """`vcdb consume --db DB --until-idle --workers W` and `vcdb DB load FILE` as processes,
    together, until the file is loaded (the broker and the database are env's): (producer, consumer)."""
    started = time.monotonic()
    worker = Tracked(f"{db}-consume", vcdb("consume", "--db", db, "--until-idle", "--assign", "--json",
                                           "--workers", str(bench.workers), "--stall", "300"),
                     env=env, workdir=bench.workdir)
    producer = Tracked(f"{db}-load", vcdb(db, "load", str(path), "--json"), env=env, workdir=bench.workdir)
    try:
        deadline = started + bench.timeout_s
        produced = check(await asyncio.to_thread(producer.wait, deadline))
        consumed = check(await asyncio.to_thread(worker.wait, deadline))
    finally:
        producer.stop()
        worker.stop()
    return produced, consumed


def parse_only(path: Path) -> dict[str, Any]:
    """The floor: the file read into records by the same reader, nothing published."""
    name = str(path)
    version = check_file("aces", path, name)
    reader = FORMATS["aces"].reader(name, version, "2026-01-01T00:00:00")
    stream = XmlStream(path, name)
    t0 = time.perf_counter()
    apps = 0
    with contextlib.closing(stream.elements(reader.wanted, reader.dropped)) as elements:
        for elem in elements:
            out = reader.element(elem)
            if out:
                apps += len(out.get("App", ()))
    secs = time.perf_counter() - t0
    return {"apps": apps, "seconds": secs, "apps_per_s": apps / secs}


async def lookups(url: str, n: int = LOOKUPS, seed: int = 1) -> dict[str, Any]:
    """p50/p95 (ms) of the two look-ups over random vehicles that have parts and random parts."""
    rng = random.Random(seed)
    pool = await pools.connect_pool(url, size=2)  # the pool the commands use
    try:
        vehicles = [r["vehicle_id"] for r in await pool.fetch(
            "SELECT DISTINCT vehicle_id FROM autocare_fitment.app_vehicle LIMIT 20000")]
        parts = [(r["brand_aaia_id"], r["part_number"]) for r in await pool.fetch(
            "SELECT brand_aaia_id, part_number FROM autocare_aces.app WHERE end_date_time IS NULL "
            "ORDER BY app_key LIMIT 20000")]
        if not vehicles or not parts:
            raise RuntimeError("nothing loaded to look up")
        await fitment.parts_for_vehicle(pool, vehicles[0])  # warm the plans
        await fitment.vehicles_for_part(pool, parts[0][1], parts[0][0])
        by_vehicle, by_part = [], []
        for _ in range(n):
            t0 = time.perf_counter()
            found = await fitment.parts_for_vehicle(pool, rng.choice(vehicles))
            by_vehicle.append((time.perf_counter() - t0) * 1000)
            assert found, "a vehicle of app_vehicle has parts"
            brand, part = rng.choice(parts)
            t0 = time.perf_counter()
            await fitment.vehicles_for_part(pool, part, brand)
            by_part.append((time.perf_counter() - t0) * 1000)
    finally:
        await pool.close()
    return {"calls": n, "parts_for_vehicle_ms": _percentiles(by_vehicle), "vehicles_for_part_ms": _percentiles(by_part)}


def _percentiles(ms: list[float]) -> dict[str, float]:
    q = statistics.quantiles(ms, n=20)
    return {"p50": statistics.median(ms), "p95": q[18], "max": max(ms)}


async def fitment_phase(bench: Bench, scale: float, apps: int) -> dict[str, Any]:
    ds = dataset(scale)
    url = await fresh_db(bench.admin_url, "vcdb_bench_fitment")
    reference = await load_reference(url, ds)
    templates, header = valid_apps(ds)
    base_vehicles = [r["base_vehicle_id"] for r in await _fetch(
        url, "SELECT DISTINCT base_vehicle_id FROM autocare_vcdb.vehicle ORDER BY 1")]
    path = bench.workdir / f"aces_{apps}.xml"
    t0 = time.perf_counter()
    size = write_file(path, templates, base_vehicles, header, apps)
    written = time.perf_counter() - t0
    floor = parse_only(path)
    kafka = services.start_tansu(bench.workdir)
    try:
        env = env_for(settings_for(url, kafka))
        started = time.monotonic()
        produced, consumed = await load_file(bench, env, "aces", path)
        wall = time.monotonic() - started
    finally:
        kafka.stop()
    loaded = (await _fetchval(url, "SELECT count(*) FROM autocare_aces.app"))
    dead = await _dead_letters(url, "aces")
    looked = await lookups(url)
    return {
        "scale": scale, "apps": apps, "file_mb": size / 1e6, "write_s": written, "reference": reference,
        "parse": floor,
        "end_to_end": {"seconds": wall, "apps_per_s": apps / wall, "loaded": loaded, "dead_lettered": dead,
                       "producer_s": produced.wall_s, "producer_cpu_s": produced.cpu_s,
                       "consumer_cpu_s": consumed.cpu_s, "producer_peak_rss_mb": produced.root_rss / 1e6,
                       "worker_peak_rss_mb": consumed.worker_rss / 1e6,
                       "consumer": consumed.json(), "producer": produced.json()},
        "ratio_to_parse": (apps / wall) / floor["apps_per_s"],
        "lookups": looked,
        "date": dt.date.today().isoformat(),
    }


async def _fetch(url: str, sql: str) -> list[pools.Record]:
    conn = await pools.connect_session(url)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def _dead_letters(url: str, db: str) -> int:
    conn = await pools.connect_session(url)
    try:
        return await dead_letters.count(conn, db)
    finally:
        await conn.close()


async def _fetchval(url: str, sql: str) -> Any:
    conn = await pools.connect_session(url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()
