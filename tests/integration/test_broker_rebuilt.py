"""A broker that does not have the stored offsets, against Apache Kafka and PostgreSQL: topics
recreated empty under a loaded database (a rebuilt broker) stop the loader with one message, which
`vcdb status` repeats; each documented recovery is driven: `consume --resync` with the last run
re-published from `vcdb raw export`, and `vcdb reset`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from schemas.catalog import load_catalog
from streams import topics
from streams.broker import delete_topics, ensure_topics, list_topics
from tests.integration.pipeline import (
    base_vehicle,
    cli_env,
    consume_until_idle,
    fetch,
    lookups,
    publish,
    run_vcdb,
    vehicle,
)
from tests.support import settings_for
from vcdb import exit_codes

RECORDS: dict[str, list[dict[str, Any]]] = {**lookups(), "BaseVehicle": [base_vehicle(b) for b in range(1, 31)],
                                            "Vehicle": [vehicle(v, v % 30 + 1) for v in range(1, 201)]}
STATE = ("SELECT (SELECT count(*) FROM autocare_vcdb.vehicle) AS vehicles, "
         "(SELECT coalesce(sum(hashtext((v.vehicle_id, v.base_vehicle_id, v.submodel_id)::text)), 0) "
         "FROM autocare_vcdb.vehicle v) AS content")



async def _rebuild(kafka: str) -> None:
    """What a rebuilt broker looks like to the loader: every table topic there again, empty."""
    mine = [t for t in await list_topics(kafka) if t.startswith(f"{topics.PREFIX}.vcdb.")]
    await delete_topics(kafka, mine)
    await ensure_topics(kafka, [topics.data_topic(t) for t in load_catalog("vcdb").loaded_tables()], 3)


def test_a_rebuilt_broker_stops_the_loader_with_one_message_and_each_recovery_works(
        database_url: str, kafka: str, tmp_path: Path) -> None:
    settings = settings_for(database_url, kafka)
    env = cli_env(database_url, kafka)
    asyncio.run(publish(settings, RECORDS))
    asyncio.run(consume_until_idle(settings))
    loaded = asyncio.run(fetch(database_url, STATE))[0]
    assert loaded["vehicles"] == 200
    exported = run_vcdb(env, "raw", "export", "--run", "1", "--out", str(tmp_path / "raw"))
    assert exported.returncode == exit_codes.OK, exported.stderr

    asyncio.run(_rebuild(kafka))
    stopped = run_vcdb(env, "consume", "--until-idle", "--assign", "--workers", "1", "--stall", "30")
    assert stopped.returncode == exit_codes.FAILED, stopped.stderr[-2000:]
    first = topics.data_topic(load_catalog("vcdb").tables["BaseVehicle"])  # the first named, by topic
    lines = [line for line in stopped.stderr.splitlines() if "the broker does not have the stored offsets" in line]
    assert len(lines) == 1, stopped.stderr[-3000:]  # one message (per worker), at once, not after the stall
    assert f"{first}[0]: the stored offset " in lines[0]
    assert "is past its end: a rebuilt broker or a recreated topic" in lines[0]
    assert "(the broker holds offsets 0..0)" in lines[0] and "vcdb consume --resync" in lines[0]

    status = run_vcdb(env, "status", "--json")
    assert status.returncode == exit_codes.OK, status.stderr
    said = json.loads(status.stdout)
    vehicle = topics.data_topic(load_catalog("vcdb").tables["Vehicle"])
    assert any(m.startswith(f"{vehicle}[") for m in said["offsets_out_of_range"])  # every one, in status
    assert "THE LOADER CANNOT GO ON: the broker does not have the stored offsets" in run_vcdb(env, "status").stdout

    # Recovery: the last run re-published from its raw export, then every topic re-read from its start.
    imported = run_vcdb(env, "raw", "import", str(tmp_path / "raw"))
    assert imported.returncode == exit_codes.OK, imported.stderr
    resynced = run_vcdb(env, "consume", "--until-idle", "--assign", "--resync", "--stall", "60")
    assert resynced.returncode == exit_codes.OK, resynced.stderr[-3000:]
    assert asyncio.run(fetch(database_url, STATE))[0] == loaded
    releases = json.loads(run_vcdb(env, "releases", "--db", "vcdb", "--json").stdout)["releases"]
    assert [(r["kind"], r["status"]) for r in releases] == [("baseline", "published"), ("import", "published")]
    assert json.loads(run_vcdb(env, "status", "--json").stdout)["offsets_out_of_range"] == []  # they fit again

    # Recovery: a reset, after which a first baseline loads as into a new database.
    asyncio.run(_rebuild(kafka))
    assert run_vcdb(env, "consume", "--until-idle", "--assign", "--stall", "30").returncode == exit_codes.FAILED
    reset = run_vcdb(env, "reset", "--db", "vcdb", "--yes")
    assert reset.returncode == exit_codes.OK, reset.stderr
    asyncio.run(_rebuild(kafka))  # the reset deleted the topics: a producer or `ensure_topics` makes them
    asyncio.run(publish(settings, RECORDS))
    fresh = run_vcdb(env, "consume", "--until-idle", "--assign", "--stall", "60")
    assert fresh.returncode == exit_codes.OK, fresh.stderr[-3000:]
    assert asyncio.run(fetch(database_url, STATE))[0] == loaded
