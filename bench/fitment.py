"""What issues #10 and #22 ask of ACES, as ratios within one run, at two file sizes: the target's
(200k applications: end to end >= 25k apps/s, the file producer >= 0.3 x a bare lxml iterparse of the
same file) and a larger one (1 M: apps/s and the peak RSS of every process, <= 300 MB each).

1. reference data: the simulator's VCdb, PCdb and Qdb at scale S copied straight into a database
   once (a bench shortcut: the pipeline's own baseline is measured by bench/baseline.py), which
   each file size's fresh database is then created from (`CREATE DATABASE ... TEMPLATE`);
2. per size, a generated FULL ACES file of N applications, all valid: a third are the generator's
   valid applications of scale S (attributes, qualifiers, year ranges) under ever new part numbers,
   two thirds name only a base vehicle, spread over every base vehicle that has vehicles, so a
   vehicle has tens of parts as in a real catalogue, not thousands;
3. two floors: a bare lxml iterparse of the file (every App, cleared as it ends, nothing else), and
   our parser reading the same file into records, nothing published;
4. end to end: `vcdb consume --db aces --until-idle --workers W` and `vcdb aces load FILE` as
   processes, together, from the start of both until every application is loaded; apps/s, the
   file producer's apps/s (its own wall) against the bare iterparse, and the peak RSS of the file
   producer, of the consumer's parent and of its largest worker;
5. the fitment look-ups (`parts --vehicle`, `vehicles --part`) with the larger file loaded: p50 and
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

from lxml import etree

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
TARGET_APPS = 200_000  # the file issue 22's end-to-end and producer targets are set at
LARGE_APPS = 1_000_000  # the file whose apps/s and peak RSS are reported beside it
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


def bare_iterparse(path: Path) -> dict[str, Any]:
    """The floor of any XML reader: lxml's iterparse over every App, each cleared (and its earlier
    siblings dropped) as it ends, nothing read out of it."""
    t0 = time.perf_counter()
    apps = 0
    for _, elem in etree.iterparse(str(path), events=("end",), tag="{*}App", huge_tree=True):
        apps += 1
        elem.clear(keep_tail=True)
        parent = elem.getparent()
        while parent is not None and elem.getprevious() is not None:
            del parent[0]
    secs = time.perf_counter() - t0
    return {"apps": apps, "seconds": secs, "apps_per_s": apps / secs}


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


async def fitment_phase(bench: Bench, scale: float, apps: int = TARGET_APPS,
                        large_apps: int = LARGE_APPS) -> dict[str, Any]:
    """The file of `apps` applications (the targets'), then the one of `large_apps` (0: either
    skipped), each into its own copy of the reference data; the look-ups on the last loaded."""
    ds = dataset(scale)
    template = "vcdb_bench_fitment_ref"
    url = await fresh_db(bench.admin_url, template)
    try:
        reference = await load_reference(url, ds)
        templates, header = valid_apps(ds)
        base_vehicles = [r["base_vehicle_id"] for r in await _fetch(
            url, "SELECT DISTINCT base_vehicle_id FROM autocare_vcdb.vehicle ORDER BY 1")]
        out: dict[str, Any] = {"scale": scale, "reference": reference, "date": dt.date.today().isoformat()}
        last = None
        for size, n in (("target", apps), ("large", large_apps)):
            if n <= 0:
                continue
            loaded_url = await _copy_db(bench.admin_url, template, f"vcdb_bench_fitment_{size}")
            path = bench.workdir / f"aces_{n}.xml"
            t0 = time.perf_counter()
            file_size = write_file(path, templates, base_vehicles, header, n)
            written = time.perf_counter() - t0
            try:
                out[size] = {"file_mb": file_size / 1e6, "write_s": written,
                             **await _file_run(bench, loaded_url, path, n)}
            finally:
                path.unlink(missing_ok=True)
            last = loaded_url
        if last is not None:
            out["lookups"] = await lookups(last)  # with the larger file loaded, when there is one
        return out
    finally:
        await services.drop_database(bench.admin_url, template)


async def _copy_db(admin: str, template: str, name: str) -> str:
    """A fresh database made from `template` (a file copy: faster than loading it again).  The
    template's last session may still be closing: PostgreSQL refuses to copy it until it has."""
    await services.drop_database(admin, name)
    conn = await pools.connect_session(admin)
    try:
        for attempt in range(50):
            try:
                await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                break
            except pools.PostgresError:
                if attempt == 49:
                    raise
                await asyncio.sleep(0.2)
    finally:
        await conn.close()
    return services.database_url(admin, name)


async def _file_run(bench: Bench, url: str, path: Path, apps: int) -> dict[str, Any]:
    """The floors, then the file end to end on a Tansu broker of its own."""
    iterparse = bare_iterparse(path)
    floor = parse_only(path)
    kafka = services.start_tansu(bench.workdir)
    try:
        env = env_for(settings_for(url, kafka))
        started = time.monotonic()
        produced, consumed = await load_file(bench, env, "aces", path)
        wall = time.monotonic() - started
    finally:
        kafka.stop()
    loaded = await _fetchval(url, "SELECT count(*) FROM autocare_aces.app")
    dead = await _dead_letters(url, "aces")
    producer_rate = apps / produced.wall_s
    rss = {"producer": produced.root_rss / 1e6, "consumer": consumed.root_rss / 1e6,
           "largest_worker": consumed.worker_rss / 1e6}
    return {
        "apps": apps, "iterparse": iterparse, "parse": floor,
        "end_to_end": {"seconds": wall, "apps_per_s": apps / wall, "loaded": loaded, "dead_lettered": dead,
                       "producer_s": produced.wall_s, "producer_apps_per_s": producer_rate,
                       "producer_cpu_s": produced.cpu_s, "consumer_cpu_s": consumed.cpu_s,
                       "producer_peak_rss_mb": rss["producer"], "worker_peak_rss_mb": rss["largest_worker"],
                       "peak_rss_mb": rss,
                       "consumer": consumed.json(), "producer": produced.json()},
        "ratio_to_parse": (apps / wall) / floor["apps_per_s"],
        "producer_to_iterparse": producer_rate / iterparse["apps_per_s"],
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
