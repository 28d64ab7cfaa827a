"""Releases as units, against the simulator over HTTP, Apache Kafka and PostgreSQL: a reader on
another connection never sees a mixed state (a baseline over an existing release, an
incremental, an ACES FULL file replacing a brand); a malformed file publishes nothing and its
resume equals one clean load; `consume --until-idle` names the run it cannot finish; the
operator's `vcdb releases` and `vcdb release publish|discard`."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from consumers.runner import consume
from consumers.worker import WorkerOptions
from producers.files.run import LoadOptions, load_files
from producers.runner import ProduceOptions, RunResult, produce
from producers.source import client_source
from schemas.settings import Settings
from simulator.timeline import Timeline
from tests.integration.pipeline import cli_env, execute, fetch, run_vcdb, running_worker
from tests.support import settings_for
from vcdb import exit_codes
from vcdb.services import Service

SEED, SCALE = 21, 0.01
BRAND = "RLSB"

# One statement is one snapshot: counts and content hashes of the tables a storefront joins, the
# explorer's materialised view, and the rows whose parent is missing.
VCDB_STATE = """
SELECT (SELECT count(*) FROM autocare_vcdb.base_vehicle) AS base_vehicles,
       (SELECT coalesce(sum(hashtext(t::text)), 0) FROM autocare_vcdb.base_vehicle t) AS base_vehicle_hash,
       (SELECT count(*) FROM autocare_vcdb.vehicle) AS vehicles,
       (SELECT coalesce(sum(hashtext(t::text)), 0) FROM autocare_vcdb.vehicle t) AS vehicle_hash,
       (SELECT coalesce(sum(hashtext(t::text)), 0) FROM autocare_vcdb.vehicle_to_engine_config t) AS link_hash,
       (SELECT coalesce(sum(hashtext(t::text)), 0) FROM autocare_vcdb.model t) AS model_hash,
       (SELECT coalesce(sum(base_vehicles), 0) FROM autocare_fitment.explorer_year_make) AS explorer,
       (SELECT count(*) FROM autocare_vcdb.vehicle v WHERE NOT EXISTS (
            SELECT 1 FROM autocare_vcdb.base_vehicle b WHERE b.base_vehicle_id = v.base_vehicle_id))
       + (SELECT count(*) FROM autocare_vcdb.vehicle_to_engine_config x WHERE NOT EXISTS (
            SELECT 1 FROM autocare_vcdb.vehicle v WHERE v.vehicle_id = x.vehicle_id))
       + (SELECT count(*) FROM autocare_vcdb.base_vehicle b WHERE NOT EXISTS (
            SELECT 1 FROM autocare_vcdb.model m WHERE m.model_id = b.model_id)) AS orphans
"""
BRAND_STATE = f"""
SELECT coalesce(array_agg(part_number ORDER BY part_number) FILTER (WHERE end_date_time IS NULL), '{{}}') AS live,
       (SELECT count(*) FROM autocare_fitment.app_part p WHERE p.brand = '{BRAND}') AS view_rows
FROM autocare_aces.app WHERE brand_aaia_id = '{BRAND}'
"""


TIMELINE = Timeline.monthly(3)


def _sim_args(release: int) -> list[str]:
    return ["--scale", str(SCALE), "--seed", str(SEED), "--releases", "3", "--release", str(release)]


async def _produce(settings: Settings, db: str = "vcdb", **kw: Any) -> RunResult:
    async with client_source(settings) as source:
        run = await produce(settings, ProduceOptions(db=db, **kw), source, install_signals=False)
    assert run.status == "succeeded", run.error
    return run


async def _published(url: str, run_id: int, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = await fetch(url, "SELECT * FROM ingest.releases WHERE run_id = $1", run_id)
        if rows and rows[0]["status"] == "published":
            release = dict(rows[0])
            release["counts"] = json.loads(release["counts"])
            return release
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id} was not published within {timeout_s} s")


class Reader:
    """Polls one statement on its own connection until stopped; keeps every distinct answer."""

    def __init__(self, url: str, sql: str) -> None:
        self.url, self.sql = url, sql
        self.seen: list[tuple[Any, ...]] = []
        self.polls = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            deadline = time.monotonic() + 600
            while not self._stop.is_set() and time.monotonic() < deadline:
                row = tuple((await conn.fetchrow(self.sql)).values())
                self.polls += 1
                if not self.seen or self.seen[-1] != row:
                    self.seen.append(row)
                await asyncio.sleep(0.005)
        finally:
            await conn.close()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task


async def _move(sim_url: str, release: int) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(f"{sim_url}/_sim/release", json={"release": release})
    assert r.status_code == 200, r.text


def test_readers_see_whole_vcdb_releases_only(
        database_url: str, kafka: str, start_simulator: Callable[..., Service]) -> None:
    sim = start_simulator(*_sim_args(1))
    settings = settings_for(database_url, kafka, sim.url)

    async def state() -> tuple[Any, ...]:
        return tuple((await fetch(database_url, VCDB_STATE))[0].values())

    async def go() -> None:
        async with running_worker(settings):
            first = await _produce(settings)
            release = await _published(database_url, first.run_id)
            assert release["publication"] == "in_place"  # a first baseline: nothing to protect
            for kind, to in (("baseline", 2), ("incremental", 3)):
                before = await state()
                await _move(sim.url, to)
                reader = Reader(database_url, VCDB_STATE)
                reader.start()
                since = {"since": TIMELINE.date_of(to - 1)} if kind == "incremental" else {}
                run = await _produce(settings, kind=kind, **since)
                release = await _published(database_url, run.run_id)
                await asyncio.sleep(0.2)
                await reader.stop()
                after = await state()
                assert release["publication"] == "staged" and sum(release["counts"].values()) > 0
                assert before != after, f"release {to} changed nothing: the test cannot tell"
                assert reader.polls > 20, reader.polls
                assert all(row[-1] == 0 for row in reader.seen), "a reader saw a row whose parent is missing"
                assert reader.seen[0] == before and reader.seen[-1] == after
                assert reader.seen == [before, after], f"{kind}: {len(reader.seen) - 2} mixed states seen"

    asyncio.run(go())


def _aces(path: Path, apps: list[tuple[str, int]], part_type: int, *, submission: str = "FULL",
          broken_after: int | None = None) -> Path:
    """An ACES 4.2 file of brand BRAND: one application per (part number, base vehicle), naming
    nothing else; with `broken_after`, the XML breaks inside the App after that many."""
    with path.open("w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<ACES version="4.2">\n<Header><Company>Rel</Company>'
                f"<BrandAAIAID>{BRAND}</BrandAAIAID><SubmissionType>{submission}</SubmissionType>"
                "<VcdbVersionDate>2026-01-01</VcdbVersionDate></Header>\n")
        for i, (part, base_vehicle) in enumerate(apps, 1):
            if broken_after is not None and i == broken_after + 1:
                f.write(f'<App action="A" id="{i}"><BaseVehicle id="{base_vehicle}"\n</ACES>\n')
                return path
            f.write(f'<App action="A" id="{i}"><BaseVehicle id="{base_vehicle}"/><Qty>1</Qty>'
                    f'<PartType id="{part_type}"/><Part>{part}</Part></App>\n')
        f.write(f"<Footer><RecordCount>{len(apps)}</RecordCount></Footer>\n</ACES>\n")
    return path


async def _references(settings: Settings, url: str) -> tuple[list[int], int]:
    """Load VCdb and PCdb; base vehicles that have a vehicle, and a part type."""
    for db in ("vcdb", "pcdb"):
        run = await _produce(settings, db)
        await asyncio.wait_for(consume(settings, db, WorkerOptions(until_idle=True, stall_s=60),
                                       install_signals=False, assign=True), 180)
        await _published(url, run.run_id)
    bvs = [r["base_vehicle_id"] for r in await fetch(
        url, "SELECT DISTINCT base_vehicle_id FROM autocare_vcdb.vehicle ORDER BY 1 LIMIT 60")]
    part_type = (await fetch(url, "SELECT min(part_terminology_id) AS p FROM autocare_pcdb.parts"))[0]["p"]
    assert len(bvs) == 60 and part_type is not None
    return bvs, part_type



def test_an_aces_full_file_replaces_its_brand_in_one_step_and_a_malformed_one_publishes_nothing(
        database_url: str, kafka: str, start_simulator: Callable[..., Service], tmp_path: Path) -> None:
    sim = start_simulator(*_sim_args(1))
    settings = settings_for(database_url, kafka, sim.url)
    env = cli_env(database_url, kafka, sim.url)

    async def load(path: Path, resume: bool = False) -> Any:
        return await load_files(settings, LoadOptions(db="aces", files=(str(path),), page_entities=10, resume=resume),
                                install_signals=False)

    async def drain() -> None:
        await asyncio.wait_for(consume(settings, "aces", WorkerOptions(until_idle=True, stall_s=60),
                                       install_signals=False, assign=True), 180)

    async def brand() -> tuple[Any, ...]:
        return tuple((await fetch(database_url, BRAND_STATE))[0].values())

    async def go() -> None:
        bvs, part_type = await _references(settings, database_url)
        v1 = [(f"P-{i:03}", bvs[i]) for i in range(0, 40)]
        v2 = [(f"P-{i:03}", bvs[i]) for i in range(20, 60)]
        first = await load(_aces(tmp_path / "v1.xml", v1, part_type))
        await drain()
        await _published(database_url, first.files[0].run_id)
        state1 = await brand()
        assert list(state1[0]) == sorted(p for p, _ in v1) and state1[1] == 40

        # A FULL file replacing the brand, while a reader polls: old or new, never both.
        reader = Reader(database_url, BRAND_STATE)
        reader.start()
        second = await load(_aces(tmp_path / "v2.xml", v2, part_type))
        await drain()
        release = await _published(database_url, second.files[0].run_id)
        await reader.stop()
        state2 = await brand()
        assert list(state2[0]) == sorted(p for p, _ in v2) and state2[1] == 40
        assert release["counts"]["App (ended by a FULL file)"] == 20
        assert reader.polls > 20 and reader.seen == [state1, state2], reader.seen

        # A malformed FULL file (v1 again, cut inside its 30th App): nothing is published.
        path = _aces(tmp_path / "v3.xml", v1, part_type, broken_after=29)
        broken = await load(path)
        (result,) = broken.files
        assert result.status == "failed" and "line" in (result.error or "")
        idle = await asyncio.to_thread(run_vcdb, env, "consume", "--db", "aces", "--until-idle", "--assign",
                                       "--stall", "60")
        assert idle.returncode == exit_codes.FAILED, idle.stderr[-2000:]
        assert f"run {result.run_id} (file) ended failed" in idle.stderr and "--resume" in idle.stderr
        assert await brand() == state2  # live fitment unchanged
        staged = await fetch(database_url, "SELECT count(*) AS n FROM autocare_aces_staged.app WHERE "
                                           "ingest_run_id = $1", result.run_id)
        assert staged[0]["n"] == 29  # its complete Apps wait staged for --resume
        listed = json.loads((await asyncio.to_thread(run_vcdb, env, "releases", "--db", "aces", "--json")).stdout)
        assert [w["run_id"] for w in listed["waiting"]] == [result.run_id]

        # Corrected and resumed: the same as loading the correct file once.
        resumed = await load(_aces(path, v1, part_type), resume=True)
        assert resumed.files[0].run_id == result.run_id and resumed.status == "succeeded"
        await drain()
        await _published(database_url, result.run_id)
        state3 = await brand()
        assert list(state3[0]) == sorted(p for p, _ in v1) and state3[1] == 40
        once = await fetch(database_url, f"SELECT part_number, count(*) AS n FROM autocare_aces.app WHERE "
                                         f"brand_aaia_id = '{BRAND}' AND end_date_time IS NULL GROUP BY 1")
        assert {r["n"] for r in once} == {1}
        left = await fetch(database_url, "SELECT count(*) AS n FROM autocare_aces_staged.app")
        assert left[0]["n"] == 0

    asyncio.run(go())


def test_the_operator_publishes_a_refused_release_with_force_or_discards_one(
        database_url: str, kafka: str, start_simulator: Callable[..., Service]) -> None:
    sim = start_simulator(*_sim_args(1))
    settings = settings_for(database_url, kafka, sim.url)
    env = cli_env(database_url, kafka, sim.url)

    async def go() -> tuple[int, int]:
        first = await _produce(settings, tables=("Make",))
        await asyncio.wait_for(consume(settings, "vcdb", WorkerOptions(until_idle=True, stall_s=60),
                                       install_signals=False, assign=True), 120)
        await _published(database_url, first.run_id)
        await _move(sim.url, 2)
        second = await _produce(settings, tables=("Make",))
        # The API's totalCount says one more Make than the producer published: the rule refuses.
        await execute(database_url, "UPDATE ingest.endpoint_progress SET total_count = total_count + 1 "
                                    f"WHERE run_id = {second.run_id}")
        return first.run_id, second.run_id

    first, second = asyncio.run(go())
    makes = asyncio.run(fetch(database_url, "SELECT count(*) AS n FROM autocare_vcdb.make"))[0]["n"]
    idle = run_vcdb(env, "consume", "--until-idle", "--assign", "--tables", "Make", "--stall", "60")
    assert idle.returncode == exit_codes.FAILED, idle.stderr[-2000:]
    assert f"run {second} (baseline) is complete but its publication was refused: Make: the API's totalCount" \
           in idle.stderr
    assert asyncio.run(fetch(database_url, "SELECT count(*) AS n FROM autocare_vcdb.make"))[0]["n"] == makes

    refused = run_vcdb(env, "release", "publish", str(second))
    assert refused.returncode == exit_codes.FAILED
    assert "Make: the API's totalCount" in refused.stderr and "--force" in refused.stderr
    forced = run_vcdb(env, "release", "publish", str(second), "--force", "--json")
    assert forced.returncode == exit_codes.OK, forced.stderr
    assert json.loads(forced.stdout)["outcome"] == "published"
    again = run_vcdb(env, "release", "discard", str(second))
    assert again.returncode == exit_codes.FAILED and "it is published" in again.stderr
    assert run_vcdb(env, "release", "publish", "999999").returncode == exit_codes.USAGE

    listed = run_vcdb(env, "releases", "--db", "vcdb", "--json")
    assert listed.returncode == exit_codes.OK
    rows = {r["run_id"]: r for r in json.loads(listed.stdout)["releases"]}
    assert (rows[first]["status"], rows[first]["publication"]) == ("published", "in_place")
    assert (rows[second]["status"], rows[second]["forced"]) == ("published", True)
    assert "totalCount" in rows[second]["reason"]

    # A third run, discarded: its staged rows go, nothing of it is published.
    async def third() -> int:
        await _move(sim.url, 3)
        run = await _produce(settings, tables=("Make",))
        await execute(database_url, f"UPDATE ingest.endpoint_progress SET total_count = 0 WHERE run_id = {run.run_id}")
        return run.run_id

    run3 = asyncio.run(third())
    unsealed = run_vcdb(env, "release", "publish", str(run3))  # nothing consumed yet: not complete
    assert unsealed.returncode == exit_codes.FAILED
    assert f"run {run3} is not complete: Make (waiting) not sealed" in unsealed.stderr
    in_place = run_vcdb(env, "release", "discard", str(first))
    assert in_place.returncode == exit_codes.FAILED and "loaded in place" in in_place.stderr
    before = asyncio.run(fetch(database_url, "SELECT sum(hashtext(t::text)) AS h FROM autocare_vcdb.make t"))
    assert run_vcdb(env, "consume", "--until-idle", "--assign", "--tables", "Make").returncode == exit_codes.FAILED
    dropped = run_vcdb(env, "release", "discard", str(run3), "--json")
    assert dropped.returncode == exit_codes.OK, dropped.stderr
    assert json.loads(dropped.stdout)["rows"]["Make"] > 0
    assert asyncio.run(fetch(database_url, "SELECT count(*) AS n FROM autocare_vcdb_staged.make"))[0]["n"] == 0
    after = asyncio.run(fetch(database_url, "SELECT sum(hashtext(t::text)) AS h FROM autocare_vcdb.make t"))
    assert before == after
    assert run_vcdb(env, "consume", "--until-idle", "--assign", "--tables", "Make").returncode == exit_codes.OK
    assert run_vcdb(env, "release", "publish", str(run3)).returncode == exit_codes.FAILED  # discarded: gone
