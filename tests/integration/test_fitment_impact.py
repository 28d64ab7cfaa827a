"""The fitment impact of VCdb releases, against the simulator over HTTP, Apache Kafka and PostgreSQL:
a VCdb baseline and PCdb, an ACES file whose applications fit some vehicles, then a VCdb incremental
that ends vehicles, moves one vehicle to another SubModel and adds one, and the simulator's next
release.  After each, `vcdb aces impact --release N --json` lists exactly the applications whose
fitted vehicles changed, with what they lost and gained, as the fitment view says before and after
(computed here, not by the impact's SQL); the outbox holds one row each (db fitment); `aces report`'s
"fits no vehicle yet" counts the application left fitting nothing under its own reason."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from consumers import fitment
from consumers.runner import consume
from consumers.worker import WorkerOptions
from ledger import impact
from ledger.pools import connect_pool
from producers.files.run import LoadOptions, load_files
from producers.runner import ProduceOptions, RunResult, produce
from producers.source import client_source
from schemas.catalog import load_catalog
from schemas.settings import Settings
from simulator.timeline import Timeline
from tests.integration.pipeline import cli_env, fetch, publish, run_vcdb
from tests.support import settings_for
from vcdb import exit_codes
from vcdb.services import Service

SEED, SCALE = 21, 0.01
BRAND = "IMPB"
TIMELINE = Timeline.monthly(3)
LATER = "2031-01-01T00:00:00"  # newer than anything the simulator dates: the loader's guard lets it in


async def _produce(settings: Settings, db: str, **kw: Any) -> RunResult:
    async with client_source(settings) as source:
        run = await produce(settings, ProduceOptions(db=db, **kw), source, install_signals=False)
    assert run.status == "succeeded", run.error
    return run


async def _drain(settings: Settings, db: str) -> None:
    await asyncio.wait_for(consume(settings, db, WorkerOptions(until_idle=True, stall_s=60), install_signals=False,
                                   assign=True), 240)


async def _release(url: str, run_id: int, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = await fetch(url, "SELECT * FROM ingest.releases WHERE run_id = $1", run_id)
        if rows and rows[0]["status"] == "published":
            return dict(rows[0])
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id} was not published within {timeout_s} s")


async def _fits(url: str) -> dict[str, set[int]]:
    """Every live application of the brand and the vehicles the fitment view says it fits."""
    rows = await fetch(url, "SELECT a.app_key, coalesce(array_agg(f.vehicle_id) FILTER (WHERE f.vehicle_id IS NOT "
                            "NULL), '{}') AS ids FROM autocare_aces.app a LEFT JOIN autocare_fitment.app_vehicle f "
                            "ON f.app_key = a.app_key WHERE a.end_date_time IS NULL AND a.brand_aaia_id = $1 "
                            "GROUP BY a.app_key", BRAND)
    return {r["app_key"]: {int(i) for i in r["ids"]} for r in rows}


def _expected(before: dict[str, set[int]], after: dict[str, set[int]]) -> dict[str, dict[str, Any]]:
    """What the impact must say, from the two states alone."""
    out = {}
    for key, was in before.items():
        now = after.get(key, set())
        if was == now:
            continue
        lost, gained = sorted(was - now), sorted(now - was)
        status = ("lost_all" if not now else "lost_some" if not gained else "gained" if not lost else "changed")
        out[key] = {"status": status, "lost": lost, "gained": gained, "fits": len(now)}
    return out


def _aces(path: Path, apps: list[tuple[str, int, int | None]], part_type: int) -> Path:
    """An ACES 4.2 FULL file of BRAND: one application per (part, base vehicle, SubModel or None)."""
    with path.open("w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<ACES version="4.2">\n<Header><Company>Imp</Company>'
                f"<BrandAAIAID>{BRAND}</BrandAAIAID><SubmissionType>FULL</SubmissionType>"
                "<VcdbVersionDate>2026-01-01</VcdbVersionDate></Header>\n")
        for i, (part, bv, submodel) in enumerate(apps, 1):
            sm = f'<SubModel id="{submodel}"/>' if submodel is not None else ""
            f.write(f'<App action="A" id="{i}"><BaseVehicle id="{bv}"/>{sm}<Qty>1</Qty>'
                    f'<PartType id="{part_type}"/><Part>{part}</Part></App>\n')
        f.write(f"<Footer><RecordCount>{len(apps)}</RecordCount></Footer>\n</ACES>\n")
    return path


def _api(row: Any, **changes: Any) -> dict[str, Any]:
    """A live Vehicle row as the API's record, with `changes` (API field names)."""
    out = {}
    for c in load_catalog("vcdb").tables["Vehicle"].columns:
        if c.api_field is None or c.canonical not in row.keys():
            continue
        v = row[c.canonical]
        out[c.api_field] = v.isoformat() if isinstance(v, dt.datetime | dt.date) else v
    return {**out, **changes}


async def _impact_cli(env: dict[str, str], release_id: int, *more: str) -> dict[str, Any]:
    r = await asyncio.to_thread(run_vcdb, env, "aces", "impact", "--release", str(release_id), "--json", *more)
    assert r.returncode == exit_codes.OK, r.stderr[-2000:]
    doc: dict[str, Any] = json.loads(r.stdout)
    return doc


async def _check(url: str, env: dict[str, str], run_id: int, want: dict[str, dict[str, Any]],
                 before: dict[str, set[int]], after: dict[str, set[int]]) -> dict[str, Any]:
    release = await _release(url, run_id)
    doc = await _impact_cli(env, release["release_id"])
    got = {a["app_key"]: {k: a[k] for k in ("status", "lost", "gained", "fits")} for a in doc["applications"]}
    assert got == want
    assert all(a["brand"] == BRAND and a["lost_all"] == (a["status"] == "lost_all") for a in doc["applications"])
    assert doc["totals"] == {s: sum(w["status"] == s for w in want.values())
                             for s in ("lost_all", "lost_some", "gained", "changed")}
    told = await fetch(url, "SELECT table_name, op, row_key, before, after, changed FROM ingest.changes "
                            "WHERE run_id = $1 AND db = 'fitment' ORDER BY change_id", run_id)
    assert len(told) == len(want)
    for t in told:
        (key,) = json.loads(t["row_key"])
        b, a = json.loads(t["before"]), json.loads(t["after"])
        assert (t["table_name"], t["op"], t["changed"]) == ("application", "u", ["vehicle_ids"])
        assert key in want and b["app_key"] == a["app_key"] == key
        assert (b["vehicle_ids"], a["vehicle_ids"]) == (sorted(before[key]), sorted(after[key]))
        assert b["brand_aaia_id"] == BRAND and b["part_number"] == a["part_number"] and a["part_type_id"]
    return doc


def test_a_vcdb_release_records_exactly_the_applications_whose_fitted_vehicles_it_changed(
        database_url: str, kafka: str, start_simulator: Callable[..., Service], tmp_path: Path) -> None:
    sim = start_simulator("--scale", str(SCALE), "--seed", str(SEED), "--releases", "3", "--release", "1")
    settings = settings_for(database_url, kafka, sim.url)
    env = cli_env(database_url, kafka, sim.url)

    async def go() -> None:
        for db in ("vcdb", "pcdb"):
            run = await _produce(settings, db)
            await _drain(settings, db)
            baseline = await _release(database_url, run.run_id)
        assert baseline["publication"] == "in_place"
        vcdb_release = (await fetch(database_url, "SELECT release_id FROM ingest.releases WHERE db = 'vcdb'"))[0]
        in_place = await _impact_cli(env, vcdb_release["release_id"])
        assert in_place["applications"] == [] and "loaded in place" in in_place["message"]

        # Base vehicles with two live vehicles of different SubModels, and their vehicles.
        groups = await fetch(database_url,
                             "SELECT base_vehicle_id AS bv, array_agg(vehicle_id ORDER BY vehicle_id) AS ids "
                             "FROM autocare_vcdb.vehicle WHERE end_date_time IS NULL GROUP BY 1 "
                             "HAVING count(DISTINCT submodel_id) >= 2 ORDER BY 1 LIMIT 8")
        assert len(groups) == 8, "the simulator's data has too few base vehicles with two SubModels"
        vehicles = {r["vehicle_id"]: r for r in await fetch(
            database_url, "SELECT * FROM autocare_vcdb.vehicle WHERE base_vehicle_id = ANY($1::int[])",
            [g["bv"] for g in groups])}
        bv = {name: g for name, g in zip("ABCDEFGH", groups, strict=True)}
        part_type = (await fetch(database_url, "SELECT min(part_terminology_id) AS p FROM autocare_pcdb.parts"))[0]["p"]
        c1, c2 = (vehicles[i] for i in bv["C"]["ids"][:2])
        if c1["submodel_id"] == c2["submodel_id"]:  # two of C's vehicles with other SubModels
            c2 = next(vehicles[i] for i in bv["C"]["ids"] if vehicles[i]["submodel_id"] != c1["submodel_id"])
        apps = [(f"P-{n}", g["bv"], None) for n, g in bv.items()]
        apps.append(("P-C-SUB", bv["C"]["bv"], c1["submodel_id"]))  # fits C's vehicles of c1's SubModel
        # ... and one on every other base vehicle, for the simulator's next release to reach.
        others = await fetch(database_url, "SELECT base_vehicle_id AS bv FROM autocare_vcdb.base_vehicle "
                                           "WHERE base_vehicle_id <> ALL($1::int[]) ORDER BY 1",
                             [g["bv"] for g in groups])
        apps += [(f"X-{o['bv']}", o["bv"], None) for o in others]
        loaded = await load_files(settings, LoadOptions(db="aces", files=(str(_aces(tmp_path / "a.xml", apps,
                                                                                      part_type)),)),
                                  install_signals=False)
        assert loaded.status == "succeeded"
        await _drain(settings, "aces")
        await _release(database_url, loaded.files[0].run_id)
        before = await _fits(database_url)
        assert len(before) == len(apps)
        key = {part: k for k, part in await _keys(database_url)}
        assert all(before[key[f"P-{n}"]] for n in bv), "an application of A to H fits nothing: the test cannot tell"

        # A VCdb incremental: A loses every vehicle, B one; C's two vehicles swap SubModels (P-C-SUB
        # loses one, gains the other; P-C fits the same); D gains a vehicle; E's vehicle comes again
        # unchanged (a candidate whose fit does not change); F, G, H are not touched.
        newest = (await fetch(database_url, "SELECT max(vehicle_id) AS n FROM autocare_vcdb.vehicle"))[0]["n"]
        d = vehicles[bv["D"]["ids"][0]]
        records = [_api(vehicles[i], EndDateTime=LATER, EffectiveDateTime=LATER) for i in bv["A"]["ids"]]
        records.append(_api(vehicles[bv["B"]["ids"][0]], EndDateTime=LATER, EffectiveDateTime=LATER))
        records.append(_api(c1, SubModelID=c2["submodel_id"], EffectiveDateTime=LATER))
        records.append(_api(c2, SubModelID=c1["submodel_id"], EffectiveDateTime=LATER))
        records.append(_api(d, VehicleID=newest + 1000, EffectiveDateTime=LATER))
        records.append(_api(vehicles[bv["E"]["ids"][0]]))
        run = await publish(settings, {"Vehicle": records}, kind="incremental")
        assert run.status == "succeeded", run.error
        await _drain(settings, "vcdb")
        after = await _fits(database_url)
        want = _expected(before, after)
        assert {key[p] for p in ("P-A", "P-B", "P-C-SUB", "P-D")} == set(want)  # the test's own premise
        assert (want[key["P-A"]]["status"], want[key["P-B"]]["status"], want[key["P-C-SUB"]]["status"],
                want[key["P-D"]]["status"]) == ("lost_all", "lost_some", "changed", "gained")
        doc = await _check(database_url, env, run.run_id, want, before, after)
        assert doc["totals"] == {"lost_all": 1, "lost_some": 1, "gained": 1, "changed": 1}
        other = await _impact_cli(env, doc["release"], "--brand", "ZZZZ")
        assert other["applications"] == [] and "changed no fitment of brand ZZZZ" in other["message"]
        text = await asyncio.to_thread(run_vcdb, env, "aces", "impact", "--release", str(doc["release"]))
        assert text.returncode == exit_codes.OK and "LOST ALL" in text.stdout and "P-A" in text.stdout

        # "Fits no vehicle yet" names the reason: a VCdb release ended its vehicles.  (Asked as
        # `aces report` asks it: the report's duplicates still read the row snapshots 0009 dropped.)
        pool = await connect_pool(database_url, size=1)
        try:
            ended = await impact.ended_by_release(pool)
            counts = (await pool.fetch(fitment._FITS_NO_VEHICLE, ended))[0]
        finally:
            await pool.close()
        assert ended == [key["P-A"]] and counts["vcdb_release_ended"] == 1

        # The simulator's next release, as an incremental: whatever it changes, the impact is the views' diff.
        async with httpx.AsyncClient(timeout=10) as http:
            r = await http.post(f"{sim.url}/_sim/release", json={"release": 2})
            assert r.status_code == 200, r.text
        before = after
        run2 = await _produce(settings, "vcdb", kind="incremental", since=TIMELINE.date_of(1))
        await _drain(settings, "vcdb")
        after = await _fits(database_url)
        want = _expected(before, after)
        assert want, "the simulator's release 2 changed no fitment: the test cannot tell"  # 9 new vehicles
        await _check(database_url, env, run2.run_id, want, before, after)

    asyncio.run(go())


async def _keys(url: str) -> list[tuple[str, str]]:
    rows = await fetch(url, "SELECT app_key, part_number FROM autocare_aces.app WHERE brand_aaia_id = $1", BRAND)
    return [(r["app_key"], r["part_number"]) for r in rows]
