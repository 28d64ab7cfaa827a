"""ACES and PIES files through the whole pipeline against the simulator's reference data and the
generator's oracle: VCdb, PCdb and Qdb baselines from the simulator over HTTP, then each file
(`vcdb aces load` / `vcdb pies load` as a run) consumed into PostgreSQL and compared with the
oracle after each one: live and ended applications, open dead letters by reason, the live
applications that fit no vehicle, the PIES rows; every live application that fits a vehicle found
by both fitment look-ups; and the applications whose base vehicle
only a later VCdb release brings loading by themselves after `vcdb incremental`."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from consumers.runner import consume
from consumers.worker import WorkerOptions, WorkerResult
from producers.files.run import LoadOptions, load_files
from producers.runner import ProduceOptions, produce
from producers.source import client_source
from schemas.settings import Settings
from simulator import fitment_files
from simulator.config import DEFAULT_ANOMALIES, DatasetConfig
from simulator.dataset import Dataset
from simulator.timeline import Timeline
from tests.integration.pipeline import fetch
from tests.support import settings_for
from vcdb import fitment_report
from vcdb.services import Service

SCALE, SEED = 0.01, 42


def _sim_args(oracle: dict[str, Any]) -> list[str]:
    d = oracle["dataset"]
    return ["--scale", str(oracle["scale"]), "--seed", str(oracle["seed"]), "--anomalies", str(d["anomalies"]),
            "--growth", str(d["growth"]), "--modify-rate", str(d["modify_rate"]), "--end-rate", str(d["end_rate"]),
            "--release-dates", ",".join(d["release_dates"]), "--release", str(oracle["baseline_release"])]


async def _drain(settings: Settings, db: str) -> WorkerResult:
    opts = WorkerOptions(until_idle=True, stall_s=60)
    return await asyncio.wait_for(consume(settings, db, opts, install_signals=False, assign=True), timeout=240)


async def _produce(settings: Settings, db: str, kind: str, since: dt.date | None = None) -> None:
    async with client_source(settings) as source:
        run = await produce(settings, ProduceOptions(db=db, kind=kind, since=since), source, install_signals=False)
    assert run.status == "succeeded", run


async def _state(url: str) -> dict[str, Any]:
    """What the oracle's `after` describes, read from the database."""
    apps = await fetch(url, "SELECT ref, end_date_time IS NOT NULL AS ended FROM autocare_aces.app")
    dead = await fetch(url, "SELECT reason, missing_table, record->>'Ref' AS ref FROM ingest.dead_letters "
                            "WHERE db = 'aces' AND status = 'open'")
    reasons = collections.Counter(d["reason"] if d["reason"] != "missing_parent" else
                                  f"missing_parent:{d['missing_table']}" for d in dead)
    unfit = await fetch(url, "SELECT a.ref FROM autocare_aces.app a WHERE a.end_date_time IS NULL AND NOT EXISTS "
                             "(SELECT 1 FROM autocare_fitment.app_vehicle f WHERE f.app_key = a.app_key)")
    return {"live_refs": sorted(a["ref"] for a in apps if not a["ended"]),
            "ended_refs": sorted(a["ref"] for a in apps if a["ended"]),
            "dead_letters": dict(reasons), "dead_refs": sorted(d["ref"] for d in dead),
            "live_fitting_nothing_refs": sorted(r["ref"] for r in unfit)}


def _expected(after: dict[str, Any]) -> dict[str, Any]:
    return {"live_refs": sorted(after["live_refs"]), "ended_refs": sorted(after["ended_refs"]),
            "dead_letters": {k: v for k, v in after["dead_letters"].items() if v},
            "live_fitting_nothing_refs": sorted(after["live_fitting_nothing_refs"])}


def test_aces_and_pies_files_load_against_the_reference_data_as_the_oracle_says(
        database_url: str, kafka: str, start_simulator: Callable[..., Service], tmp_path: Path) -> None:
    dataset = Dataset(DatasetConfig(seed=SEED, scale=SCALE, anomalies=DEFAULT_ANOMALIES, timeline=Timeline.monthly(3)))
    fitment = fitment_files.build(dataset)
    fitment_files.write(fitment, tmp_path)
    oracle = json.loads((tmp_path / "oracle.json").read_text())
    sim = start_simulator(*_sim_args(oracle))
    settings = settings_for(database_url, kafka, sim.url)
    files = {f["file"]: f for f in [*oracle["files"], oracle["pies"]]}

    async def go() -> None:
        for db in ("vcdb", "pcdb", "qdb"):
            await _produce(settings, db, "baseline")
            await _drain(settings, db)
        for name in oracle["load_order"]:
            f = files[name]
            result = await load_files(settings, LoadOptions(db=f["kind"], files=(str(tmp_path / name),)),
                                      install_signals=False)
            assert result.status == "succeeded", result.to_json()
            await _drain(settings, f["kind"])
            if f["kind"] == "aces":
                state = await _state(database_url)
                want = _expected(f["after"])
                assert {k: state[k] for k in want} == want, name
        await _check_pies(database_url, oracle["pies"])
        await _check_lookups(settings, database_url)
        assert oracle["files"][-1]["after"]["live_fitting_nothing_refs"]  # so the look-ups leave some out

        # The next VCdb releases bring the base vehicles (and vehicles) the late applications name.
        last = (await fetch(database_url, "SELECT max(started_at) AS t FROM ingest.runs WHERE db = 'vcdb'"))[0]["t"]
        async with httpx.AsyncClient() as http:
            r = await http.post(f"{sim.url}/_sim/release", json={"release": oracle["incremental_release"]})
            assert r.status_code == 200, r.text
        await _produce(settings, "vcdb", "incremental", since=last.date() - dt.timedelta(days=400))
        await _drain(settings, "vcdb")
        state = await _state(database_url)
        want = _expected(oracle["late"]["after_incremental"])
        assert set(oracle["late"]["refs"]) <= set(state["live_refs"])
        assert {k: state[k] for k in want} == want

    asyncio.run(go())


async def _check_pies(url: str, pies: dict[str, Any]) -> None:
    for table, n in pies["rows"].items():
        canonical = {"PiesFile": "pies_file", "Item": "item", "ItemDescription": "item_description",
                     "ItemPrice": "item_price", "ItemExtendedInfo": "item_extended_info",
                     "ItemAttribute": "item_attribute", "ItemPackage": "item_package",
                     "ItemInterchange": "item_interchange", "ItemDigitalAsset": "item_digital_asset"}[table]
        got = (await fetch(url, f"SELECT count(*) AS n FROM autocare_pies.{canonical}"))[0]["n"]
        assert got == n, (table, got, n)
    dead = await fetch(url, "SELECT reason, missing_table FROM ingest.dead_letters WHERE db = 'pies' "
                            "AND status = 'open'")
    reasons = collections.Counter(d["reason"] if d["reason"] != "missing_parent" else
                                  f"missing_parent:{d['missing_table']}" for d in dead)
    assert dict(reasons) == {k: v for k, v in pies["dead_letters"].items() if v}


async def _check_lookups(settings: Settings, url: str) -> None:
    """Every live application that fits a vehicle (the oracle's `live_fitting_nothing_refs` fit none,
    compared in `_state`) is found from its part and from a vehicle it fits."""
    apps = await fetch(url, "SELECT DISTINCT a.brand_aaia_id, a.part_number FROM autocare_aces.app a "
                            "WHERE a.end_date_time IS NULL AND EXISTS "
                            "(SELECT 1 FROM autocare_fitment.app_vehicle f WHERE f.app_key = a.app_key)")
    assert apps
    for a in apps:
        found = await fitment_report.find_vehicles(settings, a["part_number"], a["brand_aaia_id"])
        assert found.vehicles, (a["brand_aaia_id"], a["part_number"], found.message)
        vehicle = found.vehicles[0]
        parts = await fitment_report.find_parts(settings, vehicle_id=vehicle.vehicle_id)
        assert (a["brand_aaia_id"], a["part_number"]) in {(p.brand, p.part_number) for p in parts.parts}
