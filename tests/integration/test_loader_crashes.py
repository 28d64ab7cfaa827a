"""SIGKILL the loading worker at random points, restart it each time: nothing lost, nothing
duplicated, no batch applied twice (checked through the applied-batch log and the offsets).

Each worker is killed a drawn number of batches into its life (progress, read from PostgreSQL),
never after a fixed sleep; the workers take their partitions statically (`--assign`), so a restart
does not wait for the broker to expire the killed member of a consumer group (its session
timeout, 10 s, each time)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time

from tests.integration.pipeline import base_vehicle, fetch, lookups, publish, vehicle
from tests.support import assert_no_batch_applied_twice, settings_for

KILLS = 20


def _worker(env: dict[str, str], *extra: str, capture: bool = False) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "vcdb", "consume", "--batch-size", "500", *extra],
                            env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE if capture else subprocess.DEVNULL, start_new_session=True)


async def _batches_applied(url: str) -> int:
    return int((await fetch(url, "SELECT count(*) AS n FROM ingest.applied_batches"))[0]["n"])


def test_killed_worker_loses_and_duplicates_nothing(database_url: str, kafka: str) -> None:
    settings = settings_for(database_url, kafka)
    n_base, n_vehicles = 2000, 30000
    records = {**lookups(), "BaseVehicle": [base_vehicle(b) for b in range(1, n_base + 1)],
               "Vehicle": [vehicle(v, v % n_base + 1) for v in range(1, n_vehicles + 1)]
               + [vehicle(n_vehicles + 1, 10**6)]}  # one real orphan
    run = asyncio.run(publish(settings, records))
    assert run.status == "succeeded"
    env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka}
    rng = random.Random(7)
    kills = 0
    deadline = time.monotonic() + 400
    while kills < KILLS and time.monotonic() < deadline:
        want = asyncio.run(_batches_applied(database_url)) + rng.randint(1, 3)
        proc = _worker(env, "--assign")
        started = time.monotonic()
        while (proc.poll() is None and time.monotonic() - started < 60
               and asyncio.run(_batches_applied(database_url)) < want):
            time.sleep(0.02)
        if proc.poll() is not None:
            break  # finished everything before we could kill it
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        kills += 1
    final = _worker(env, "--assign", "--until-idle", "--stall", "60", capture=True)
    try:
        _, err = final.communicate(timeout=240)
    finally:
        if final.poll() is None:
            os.kill(final.pid, signal.SIGKILL)
    assert final.returncode == 0, err.decode()[-2000:]
    assert kills >= 5, "the worker finished too fast to be killed mid-load; raise the volume"

    async def check() -> None:
        rows = await fetch(database_url, "SELECT count(*) AS n, count(DISTINCT vehicle_id) AS d, min(vehicle_id) AS lo,"
                                         " max(vehicle_id) AS hi FROM autocare_vcdb.vehicle")
        assert dict(rows[0]) == {"n": n_vehicles, "d": n_vehicles, "lo": 1, "hi": n_vehicles}
        await assert_no_batch_applied_twice(database_url)
        dead = await fetch(database_url, "SELECT record_key FROM ingest.dead_letters")
        assert [d["record_key"] for d in dead] == [f"[{n_vehicles + 1}]"]
        load = await fetch(database_url, "SELECT status, announced FROM ingest.table_load WHERE table_name = "
                                         "'Vehicle'")
        assert dict(load[0]) == {"status": "sealed", "announced": n_vehicles + 1}

    asyncio.run(check())
