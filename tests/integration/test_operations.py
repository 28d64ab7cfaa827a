"""Operating commands against real services: raw export/import, status, reset, schema stage,
schema validate with the drift check, migrations down and up."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from ledger.locks import ProducerLock
from schemas.settings import sqlalchemy_url
from tests.integration.pipeline import base_vehicle, consume_until_idle, execute, fetch, lookups, publish, vehicle
from tests.support import settings_for
from vcdb import exit_codes, migrations


def _vcdb(database_url: str, kafka: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka}
    return subprocess.run([sys.executable, "-m", "vcdb", *args], env=env, capture_output=True, text=True,
                          timeout=180, check=False)


def test_raw_export_then_import_reloads_the_same_rows(database_url: str, kafka: str, tmp_path: Path) -> None:
    settings = settings_for(database_url, kafka)
    records = {**lookups(), "BaseVehicle": [base_vehicle(b) for b in range(1, 21)],
               "Vehicle": [vehicle(v, v % 20 + 1) for v in range(1, 301)]}
    asyncio.run(publish(settings, records, page_size=100))
    out = _vcdb(database_url, kafka, "raw", "export", "--run", "1", "--out", str(tmp_path / "raw"))
    assert out.returncode == 0, out.stderr
    manifest = json.loads((tmp_path / "raw" / "manifest.json").read_text())
    assert manifest["tables"]["Vehicle"] == 300 and manifest["tables"]["BaseVehicle"] == 20
    imp = _vcdb(database_url, kafka, "raw", "import", str(tmp_path / "raw"))
    assert imp.returncode == 0, imp.stderr
    asyncio.run(consume_until_idle(settings))
    rows = asyncio.run(fetch(database_url, "SELECT count(*) AS n, max(ingest_run_id) AS run FROM "
                                           "autocare_vcdb.vehicle"))
    assert dict(rows[0]) == {"n": 300, "run": 2}
    load = asyncio.run(fetch(database_url, "SELECT run_id, status FROM ingest.table_load WHERE table_name = "
                                           "'Vehicle' ORDER BY run_id"))
    assert [(r["run_id"], r["status"]) for r in load] == [(1, "sealed"), (2, "sealed")]


def test_status_reports_runs_loads_and_lag(database_url: str, kafka: str) -> None:
    settings = settings_for(database_url, kafka)
    asyncio.run(publish(settings, {"Make": [{"MakeID": i, "MakeName": f"M{i}"} for i in range(1, 11)]}))
    before = json.loads(_vcdb(database_url, kafka, "status", "--json").stdout)
    assert before["runs"][0]["status"] == "succeeded"
    assert before["endpoints"][0]["records_published"] == 10
    assert before["lag"] == []  # nothing consumed yet: no stored offsets
    asyncio.run(consume_until_idle(settings))
    after = json.loads(_vcdb(database_url, kafka, "status", "--json").stdout)
    assert after["tables"][0]["status"] == "sealed" and after["tables"][0]["loaded"] == 10
    assert sum(x["lag"] for x in after["lag"]) == 0
    assert before["releases"] == [] and before["waiting"] == []
    assert [(r["run_id"], r["status"], r["publication"]) for r in after["releases"]] == [(1, "published", "in_place")]
    assert after["offsets_out_of_range"] == []
    text = _vcdb(database_url, kafka, "status").stdout
    assert "release    1: run 1 published (in_place)" in text


def test_reset_needs_yes_is_refused_under_the_lock_and_clears_everything(database_url: str, kafka: str) -> None:
    settings = settings_for(database_url, kafka)
    asyncio.run(publish(settings, {"Make": [{"MakeID": 1, "MakeName": "A"}]}))
    asyncio.run(consume_until_idle(settings))
    assert asyncio.run(fetch(database_url, "SELECT count(*) AS n FROM ingest.changes"))[0]["n"] == 1  # as read
    # A run's rows left staged (a failed run nobody discarded): the reset drops them too.
    asyncio.run(execute(database_url, "INSERT INTO autocare_vcdb_staged.make (make_id, make_name, ingest_run_id) "
                                      "VALUES (2, 'B', 99)"))
    assert _vcdb(database_url, kafka, "reset").returncode == exit_codes.USAGE

    async def held() -> subprocess.CompletedProcess[str]:
        lock = ProducerLock(database_url, "vcdb")
        await lock.acquire()
        try:
            return await asyncio.to_thread(_vcdb, database_url, kafka, "reset", "--yes")
        finally:
            await lock.release()

    refused = asyncio.run(held())
    assert refused.returncode == exit_codes.LOCKED and "refused" in refused.stderr
    done = _vcdb(database_url, kafka, "reset", "--yes")
    assert done.returncode == 0, done.stderr
    left = asyncio.run(fetch(database_url, "SELECT (SELECT count(*) FROM autocare_vcdb.make) AS makes, "
                                           "(SELECT count(*) FROM autocare_vcdb_staged.make) AS staged, "
                                           "(SELECT count(*) FROM ingest.runs) AS runs, "
                                           "(SELECT count(*) FROM ingest.releases) AS releases, "
                                           "(SELECT count(*) FROM ingest.changes) AS changes, "
                                           "(SELECT count(*) FROM ingest.consumer_offsets) AS offsets"))
    assert dict(left[0]) == {"makes": 0, "staged": 0, "runs": 0, "releases": 0, "changes": 0, "offsets": 0}


def test_schema_stage_keeps_autocare_names(database_url: str, kafka: str) -> None:
    out = _vcdb(database_url, kafka, "schema", "stage", "--db", "vcdb")
    assert out.returncode == 0, out.stderr
    assert "staged 83 tables" in out.stdout
    cols = asyncio.run(fetch(database_url, "SELECT column_name FROM information_schema.columns WHERE "
                                           "table_schema = 'staging_vcdb' AND table_name = 'Vehicle' ORDER BY 1"))
    assert "SubmodelID" in [c["column_name"] for c in cols]


def test_migrations_go_down_and_up_again_without_drift(database_url: str) -> None:
    url = sqlalchemy_url(database_url)
    migrations.downgrade(url)
    gone = asyncio.run(fetch(database_url, "SELECT count(*) AS n FROM information_schema.schemata WHERE "
                                           "schema_name LIKE 'autocare_%' OR schema_name = 'ingest'"))
    assert gone[0]["n"] == 0
    migrations.upgrade(url)
    migrations.check(url)  # raises when models and migrations drift


def test_migration_0011_moves_a_file_runs_packed_checkpoint_into_its_columns_and_back(database_url: str) -> None:
    url = sqlalchemy_url(database_url)
    migrations.downgrade(url, "0010")
    asyncio.run(execute(database_url,
                        "INSERT INTO ingest.runs (run_id, db, kind, status, tables) VALUES "
                        "(1, 'aces', 'file', 'failed', '[\"App\", \"AcesFile\"]'), "
                        "(2, 'vcdb', 'baseline', 'failed', '[\"Make\"]');"
                        "INSERT INTO ingest.endpoint_progress (run_id, table_name, status, next_link, next_page, "
                        "pages_published) VALUES (1, 'App', 'failed', 'entities=2000;file=/in/a b.xml', 3, 2), "
                        "(1, 'AcesFile', 'pending', NULL, 1, 0), "
                        "(2, 'Make', 'failed', 'https://api.example/Make?PageNumber=2', 2, 1)"))
    select = ("SELECT run_id, table_name, next_link, next_page, entities_before, file_name "
              "FROM ingest.endpoint_progress ORDER BY run_id, table_name")
    migrations.upgrade(url)
    rows = [tuple(r) for r in asyncio.run(fetch(database_url, select))]
    assert rows == [(1, "AcesFile", None, 1, None, None), (1, "App", None, 3, 2000, "/in/a b.xml"),
                    (2, "Make", "https://api.example/Make?PageNumber=2", 2, None, None)]
    migrations.downgrade(url, "0010")
    packed = asyncio.run(fetch(database_url, "SELECT next_link FROM ingest.endpoint_progress WHERE table_name = 'App'"))
    assert packed[0]["next_link"] == "entities=2000;file=/in/a b.xml"
    migrations.upgrade(url)


def test_schema_validate_runs_the_drift_check(database_url: str, kafka: str) -> None:
    out = _vcdb(database_url, kafka, "schema", "validate")
    assert out.returncode == 0, out.stderr
    assert "migration drift" in out.stdout
