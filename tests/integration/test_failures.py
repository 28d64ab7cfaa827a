"""The error paths the issues name: a producer stopped by SIGTERM, records lost between producer
and consumer (count mismatch), PostgreSQL failing for reasons that are not the record's, and the
dead-letter guard."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from producers.runs import RunStore
from producers.service import EndpointPlan, RunPlan, run_endpoints
from schemas.catalog import load_catalog
from streams.broker import Publisher, ensure_topics
from streams.records import OutRecord
from tests.integration.pipeline import RecordsSource, cli_env, execute, fetch, publish
from tests.support import settings_for
from vcdb import exit_codes
from vcdb.services import Service


def _consume(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vcdb", "consume", "--assign", *args], env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_sigterm_finishes_the_page_checkpoints_and_resume_completes(
        database_url: str, kafka: str, start_simulator: Callable[..., Service], tmp_path: Path) -> None:
    # The first 40 pages take 0.2 s each, so the baseline is still running at the signal however fast
    # the machine is (at scale 0.05 it once finished inside the 3 s).
    faults = tmp_path / "slow.json"
    faults.write_text(json.dumps({"seed": 1, "rules": [{"kind": "slow", "delay_s": 0.2, "max_count": 40}]}))
    sim = start_simulator("--scale", "0.05", "--seed", "12", "--faults", str(faults))
    env = cli_env(database_url, kafka, sim.url)
    proc = subprocess.Popen([sys.executable, "-m", "vcdb", "baseline", "--concurrency", "1", "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(3.0)
    assert proc.poll() is None, "the baseline finished before SIGTERM"
    os.kill(proc.pid, signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == exit_codes.INTERRUPTED
    summary = json.loads(out)
    assert summary["status"] == "interrupted"
    run = asyncio.run(fetch(database_url, "SELECT status FROM ingest.runs WHERE run_id = 1"))
    assert run[0]["status"] == "interrupted"
    resumed = subprocess.run([sys.executable, "-m", "vcdb", "baseline", "--resume", "--json"], env=env,
                             capture_output=True, text=True, timeout=300, check=False)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    progress = asyncio.run(fetch(database_url, "SELECT count(*) FILTER (WHERE status = 'done') AS done, count(*) AS n,"
                                               " sum(records_published) = sum(total_count) AS complete "
                                               "FROM ingest.endpoint_progress"))
    assert progress[0]["done"] == progress[0]["n"] and progress[0]["complete"]


class _LosingSink:
    """The real broker, losing the first record it is given: what the seal's count check is for."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher
        self.lost = False

    async def publish(self, records: Sequence[OutRecord]) -> None:
        if not self.lost and records:
            self.lost = True
            records = records[1:]
        await self.publisher.publish(records)

    async def partitions(self, topic: str) -> list[int]:
        return await self.publisher.partitions(topic)


def test_a_lost_record_makes_a_mismatch_not_a_seal(database_url: str, kafka: str) -> None:
    async def go() -> None:
        store = await RunStore.connect(database_url)
        run = await store.create_run("vcdb", "baseline", None, None, ["Make"])
        make = load_catalog("vcdb").table("Make")
        await ensure_topics(kafka, ["autocare.vcdb.make"], 3)
        async with Publisher(kafka) as pub:
            plan = RunPlan(run.run_id, "vcdb", None, None, [EndpointPlan(make)])
            records = {"Make": [{"MakeID": i, "MakeName": f"M{i}"} for i in range(1, 21)]}
            await run_endpoints(plan, RecordsSource(records), _LosingSink(pub), store, concurrency=1,
                                stop=asyncio.Event())
        await store.finish_run(run.run_id, "succeeded")
        await store.close()

    asyncio.run(go())
    done = _consume(cli_env(database_url, kafka), "--until-idle", "--stall", "30")
    assert done.returncode == exit_codes.FAILED
    assert "announced 20 records, the consumer received 19" in done.stderr
    load = asyncio.run(fetch(database_url, "SELECT status, error FROM ingest.table_load"))
    assert load[0]["status"] == "mismatch"


def test_infrastructure_errors_are_retried_never_dead_lettered_and_offsets_stay(
        database_url: str, kafka: str) -> None:
    settings = settings_for(database_url, kafka)
    asyncio.run(publish(settings, {"Make": [{"MakeID": i, "MakeName": f"M{i}"} for i in range(1, 11)]}))
    # A disk that is full: every write to make fails with SQLSTATE 53100 (an ALWAYS trigger fires
    # even where the loader turns FK triggers off).
    asyncio.run(execute(database_url, """
        CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS
          $$BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
          END$$;
        CREATE TRIGGER disk_full BEFORE INSERT OR UPDATE ON autocare_vcdb.make
          FOR EACH ROW EXECUTE FUNCTION disk_full();
        ALTER TABLE autocare_vcdb.make ENABLE ALWAYS TRIGGER disk_full;"""))
    env = cli_env(database_url, kafka)
    failed = _consume(env, "--until-idle", timeout=180)
    assert failed.returncode == exit_codes.FAILED, failed.stderr[-2000:]
    assert "DiskFullError" in failed.stderr and "offsets not advanced" in failed.stderr
    state = asyncio.run(fetch(database_url, "SELECT (SELECT count(*) FROM ingest.dead_letters) AS dead, "
                                            "(SELECT coalesce(sum(next_offset), 0) FROM ingest.consumer_offsets "
                                            "WHERE topic = 'autocare.vcdb.make') AS consumed, "
                                            "(SELECT count(*) FROM autocare_vcdb.make) AS makes"))
    assert dict(state[0]) == {"dead": 0, "consumed": 0, "makes": 0}
    asyncio.run(execute(database_url, "DROP TRIGGER disk_full ON autocare_vcdb.make"))
    healed = _consume(env, "--until-idle")
    assert healed.returncode == 0, healed.stderr[-2000:]
    assert asyncio.run(fetch(database_url, "SELECT count(*) AS n FROM autocare_vcdb.make"))[0]["n"] == 10


def test_max_dead_letters_stops_a_run_whose_data_is_bad(database_url: str, kafka: str) -> None:
    settings = settings_for(database_url, kafka)
    makes = [{"MakeID": i, "MakeName": "x" * 60 if i % 2 else f"M{i}"} for i in range(1, 41)]  # 20 too long
    asyncio.run(publish(settings, {"Make": makes}))
    stopped = _consume(cli_env(database_url, kafka), "--until-idle", "--max-dead-letters", "5")
    assert stopped.returncode == exit_codes.FAILED
    assert "more than --max-dead-letters 5" in stopped.stderr


def test_until_idle_says_at_once_what_a_failed_run_left_unloadable(database_url: str, kafka: str) -> None:
    async def go() -> None:
        store = await RunStore.connect(database_url)
        tables = ["Year", "Make", "VehicleTypeGroup", "VehicleType", "Model", "BaseVehicle"]
        run = await store.create_run("vcdb", "baseline", None, None, tables)
        catalog = load_catalog("vcdb")
        await ensure_topics(kafka, [f"autocare.vcdb.{catalog.table(t).canonical}" for t in tables], 3)
        records = {"Year": [{"YearID": 2020}], "Make": [{"MakeID": 1, "MakeName": "A"}],
                   "VehicleTypeGroup": [{"VehicleTypeGroupID": 1, "VehicleTypeGroupName": "LD"}],
                   "VehicleType": [{"VehicleTypeID": 5, "VehicleTypeName": "Car", "VehicleTypeGroupID": 1}],
                   "BaseVehicle": [{"BaseVehicleID": 1, "YearID": 2020, "MakeID": 1, "ModelID": 10}]}
        async with Publisher(kafka) as pub:  # every endpoint but Model finishes; Model's failed
            plan = RunPlan(run.run_id, "vcdb", None, None, [EndpointPlan(catalog.table(t)) for t in records])
            await run_endpoints(plan, RecordsSource(records), pub, store, concurrency=2, stop=asyncio.Event())
        await store.finish_endpoint(run.run_id, "Model", "failed", "RetriesExhausted: GET .../Model")
        await store.finish_run(run.run_id, "failed", "Model: RetriesExhausted")
        await store.close()

    asyncio.run(go())
    started = time.monotonic()
    done = _consume(cli_env(database_url, kafka), "--until-idle", "--stall", "100")
    assert done.returncode == exit_codes.FAILED
    assert time.monotonic() - started < 60, "it waited for the stall timeout instead of saying why at once"
    assert "BaseVehicle waits for Model, whose endpoint did not finish (failed)" in done.stderr
