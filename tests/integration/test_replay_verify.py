"""Replay after fixes, verify and diff, against the real broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from tests.integration.pipeline import (
    base_vehicle,
    consume_until_idle,
    execute,
    fetch,
    lookups,
    publish,
    vehicle,
)
from tests.support import settings_for
from vcdb import exit_codes


def _vcdb(database_url: str, kafka: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka}
    return subprocess.run([sys.executable, "-m", "vcdb", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_replay_after_the_cause_is_fixed_and_twice_changes_nothing(database_url: str, kafka: str) -> None:
    settings = settings_for(database_url, kafka)

    async def load() -> None:
        await fetch(database_url, "ALTER TABLE autocare_vcdb.make ADD CONSTRAINT no_bad CHECK (make_name <> 'BAD')")
        await fetch(database_url, "ALTER TABLE autocare_vcdb.make ADD CONSTRAINT no_worse "
                                  "CHECK (make_name <> 'WORSE')")
        await publish(settings, {"Make": [{"MakeID": 1, "MakeName": "Good"}, {"MakeID": 2, "MakeName": "BAD"},
                                          {"MakeID": 3, "MakeName": "WORSE"}]})
        await consume_until_idle(settings)

    asyncio.run(load())
    listed = _vcdb(database_url, kafka, "dlq", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    counts = json.loads(listed.stdout)["counts"]
    assert counts == [{"table_name": "Make", "reason": "constraint", "status": "open", "n": 2, "max_attempts": 1}]

    dry = _vcdb(database_url, kafka, "dlq", "replay", "--dry-run")
    assert "2 dead letters would be replayed" in dry.stdout
    assert asyncio.run(fetch(database_url, "SELECT count(*) AS n FROM autocare_vcdb.make"))[0]["n"] == 1

    asyncio.run(fetch(database_url, "ALTER TABLE autocare_vcdb.make DROP CONSTRAINT no_bad"))  # the fix
    first = _vcdb(database_url, kafka, "dlq", "replay", "--json")
    report = json.loads(first.stdout)
    assert len(report["loaded"]) == 1 and len(report["failed"]) == 1
    makes = asyncio.run(fetch(database_url, "SELECT make_id, make_name FROM autocare_vcdb.make ORDER BY 1"))
    assert [(m["make_id"], m["make_name"]) for m in makes] == [(1, "Good"), (2, "BAD")]

    second = _vcdb(database_url, kafka, "dlq", "replay", "--json")
    assert json.loads(second.stdout)["loaded"] == []
    dead = asyncio.run(fetch(database_url, "SELECT record_key, status, attempts, constraint_name FROM "
                                           "ingest.dead_letters ORDER BY record_key"))
    assert [dict(d) for d in dead] == [
        {"record_key": "[2]", "status": "resolved", "attempts": 2, "constraint_name": "no_bad"},
        {"record_key": "[3]", "status": "open", "attempts": 3, "constraint_name": "no_worse"},
    ]
    shown = _vcdb(database_url, kafka, "dlq", "show", "2", "--json")
    assert json.loads(shown.stdout)["headers"]["vcdb.error.reason"] == "constraint"


def test_dead_letter_waiting_on_a_parent_is_replayed_when_it_arrives(database_url: str, kafka: str) -> None:
    settings = settings_for(database_url, kafka)

    async def go() -> None:
        await publish(settings, {**lookups(), "BaseVehicle": [base_vehicle(1)],
                                 "Vehicle": [vehicle(1, 1), vehicle(2, 2)]})
        await consume_until_idle(settings)
        dead = await fetch(database_url, "SELECT missing_table, missing_key, status FROM ingest.dead_letters")
        assert [dict(d) for d in dead] == [{"missing_table": "BaseVehicle", "missing_key": "[2]", "status": "open"}]
        await publish(settings, {"BaseVehicle": [base_vehicle(2)]}, kind="incremental")
        await consume_until_idle(settings)
        rows = await fetch(database_url, "SELECT vehicle_id FROM autocare_vcdb.vehicle ORDER BY 1")
        assert [r["vehicle_id"] for r in rows] == [1, 2]
        dead = await fetch(database_url, "SELECT status, attempts FROM ingest.dead_letters")
        assert [dict(d) for d in dead] == [{"status": "resolved", "attempts": 2}]

    asyncio.run(go())


def test_an_orphan_delivered_again_by_a_later_run_is_one_open_dead_letter(database_url: str, kafka: str) -> None:
    settings = settings_for(database_url, kafka)

    async def go() -> None:
        first = await publish(settings, {**lookups(), "BaseVehicle": [base_vehicle(1)],
                                         "Vehicle": [vehicle(1, 1), vehicle(2, 2)]})
        await consume_until_idle(settings)
        second = await publish(settings, {"Vehicle": [vehicle(2, 2)]}, kind="incremental")
        await consume_until_idle(settings)
        dead = await fetch(database_url, "SELECT record_key, run_id, status FROM ingest.dead_letters "
                                         "ORDER BY dead_letter_id")
        # The newest copy is the open one (the one to replay); the earlier one stays readable.
        assert [dict(d) for d in dead] == [
            {"record_key": "[2]", "run_id": first.run_id, "status": "superseded"},
            {"record_key": "[2]", "run_id": second.run_id, "status": "open"}]
        listed = _vcdb(database_url, kafka, "dlq", "list", "--json")
        assert listed.returncode == exit_codes.OK, listed.stderr
        counts = json.loads(listed.stdout)
        assert sum(c["n"] for c in counts["counts"] if c["status"] == "open") == 1, counts

    asyncio.run(go())


def test_verify_passes_clean_and_names_the_fk_after_a_parent_is_deleted(database_url: str, kafka: str) -> None:
    settings = settings_for(database_url, kafka)

    async def go() -> None:
        await publish(settings, {**lookups(), "BaseVehicle": [base_vehicle(b) for b in (1, 2)],
                                 "Vehicle": [vehicle(v, v % 2 + 1) for v in range(1, 9)]})
        await consume_until_idle(settings)

    asyncio.run(go())
    clean = _vcdb(database_url, kafka, "verify")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "verify vcdb: OK" in clean.stdout
    asyncio.run(execute(database_url, "SET session_replication_role = replica; "
                                      "DELETE FROM autocare_vcdb.base_vehicle WHERE base_vehicle_id = 2"))
    broken = _vcdb(database_url, kafka, "verify", "--json")
    assert broken.returncode == exit_codes.FAILED
    report = json.loads(broken.stdout)
    bad = [o for o in report["orphans"] if o["orphans"]]
    assert [(o["table"], o["columns"], o["ref"], o["orphans"]) for o in bad] == [
        ("Vehicle", ["BaseVehicleID"], "vcdb.BaseVehicle", 4)]
    assert bad[0]["sample"][0] in {"[1]", "[3]", "[5]", "[7]"}
    counts = {c["table"]: c for c in report["counts"]}
    assert counts["BaseVehicle"]["ok"] is False and counts["BaseVehicle"]["rows"] == 1


def test_diff_between_runs_reports_added_ended_changed(database_url: str, kafka: str) -> None:
    settings = settings_for(database_url, kafka)

    async def go() -> None:
        await publish(settings, {**lookups(), "BaseVehicle": [base_vehicle(b) for b in (1, 2)],
                                 "Vehicle": [vehicle(1, 1), vehicle(2, 1), vehicle(3, 1)]})
        await consume_until_idle(settings)
        await publish(settings, {"Vehicle": [vehicle(2, 2, "2026-02-28T00:00:00"),
                                             vehicle(3, 1, "2026-01-31T00:00:00", end="2026-02-28T00:00:00"),
                                             vehicle(4, 2, "2026-02-28T00:00:00")]}, kind="incremental")
        await consume_until_idle(settings)

    asyncio.run(go())
    out = _vcdb(database_url, kafka, "diff", "--from", "1", "--to", "2", "--table", "Vehicle", "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)[0]
    assert (d["added"], d["removed"], d["changed"]) == (1, 1, 1)
    assert d["sample_removed"] == ["[3]"]  # ended: no longer in force
    assert d["sample_added"] == ["[4]"]
    assert d["sample_changed"] == [{"key": "[2]", "columns": ["base_vehicle_id", "effective_date_time"]}]
