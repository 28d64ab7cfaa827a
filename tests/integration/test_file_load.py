"""`vcdb aces load` / `vcdb pies load` as processes, against a real broker (Tansu) and PostgreSQL:
what reaches the topics, the run rows and endpoint progress, a malformed file then --resume, the
lock, a refused version, SIGKILL mid-run then --resume."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from ledger.locks import ProducerLock
from schemas.catalog import load_catalog
from streams import envelope, topics
from streams.broker import read_topic
from streams.records import InRecord
from tests.integration.pipeline import cli_env, fetch, run_vcdb
from tests.support import write_aces_file
from vcdb import exit_codes

FIXTURES = Path(__file__).resolve().parent.parent / "unit" / "fixtures"
PARTITIONS = 3



def _topic(kafka: str, db: str, table: str) -> list[InRecord]:
    return asyncio.run(read_topic(kafka, topics.data_topic(load_catalog(db).table(table))))


def _split(records: list[InRecord]) -> tuple[list[InRecord], list[InRecord]]:
    """(data records, end-of-table records)."""
    data = [r for r in records if envelope.header_map(r.headers)[envelope.H_KIND] == envelope.KIND_DATA]
    eot = [r for r in records if envelope.header_map(r.headers)[envelope.H_KIND] == envelope.KIND_EOT]
    return data, eot


def _run_of(rec: InRecord) -> int:
    return int(envelope.header_map(rec.headers)[envelope.H_RUN])


def _values(records: list[InRecord]) -> list[dict[str, Any]]:
    return [json.loads(r.value or b"null") for r in records]


def _runs(database_url: str) -> list[dict[str, Any]]:
    rows = asyncio.run(fetch(database_url, "SELECT run_id, db, kind, status, error, started_at FROM ingest.runs "
                                           "ORDER BY run_id"))
    return [dict(r) for r in rows]


def _progress(database_url: str, run_id: int) -> dict[str, dict[str, Any]]:
    rows = asyncio.run(fetch(database_url, "SELECT * FROM ingest.endpoint_progress WHERE run_id = $1", run_id))
    return {r["table_name"]: dict(r) for r in rows}


def test_a_full_then_an_update_are_two_file_runs_with_their_end_of_table_records(
        database_url: str, kafka: str) -> None:
    env = cli_env(database_url, kafka)
    full, update = FIXTURES / "aces" / "full_4_2.xml", FIXTURES / "aces" / "update_4_2.xml"
    done = run_vcdb(env, "aces", "load", str(full), str(update), "--json")
    assert done.returncode == exit_codes.OK, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    first, second = summary["files"]
    assert (first["status"], first["submission_type"], first["entities"]) == ("succeeded", "FULL", 7)
    assert (first["skipped_deletes"], first["skipped_delete_ids"], first["footer_mismatch"]) == (1, [7], True)
    assert first["unknown_elements"] == {"FrobnicatorType": 1, "Promotion": 1, "VendorExtra": 1}
    assert first["unvalidated_equipment_apps"] == 2
    assert (second["status"], second["submission_type"], second["soft_deletes"]) == ("succeeded", "UPDATE", 1)
    assert "Footer RecordCount says 8, the file has 7 apps" in done.stderr

    runs = _runs(database_url)
    assert [(r["db"], r["kind"], r["status"]) for r in runs] == [("aces", "file", "succeeded")] * 2
    run1, run2 = (r["run_id"] for r in runs)
    for run_id, apps in ((run1, 6), (run2, 2)):
        progress = _progress(database_url, run_id)
        assert {t: (p["status"], p["records_published"]) for t, p in progress.items()} == \
            {"App": ("done", apps), "AcesFile": ("done", 1)}

    app_data, app_eot = _split(_topic(kafka, "aces", "App"))
    per_run = Counter(_run_of(r) for r in app_data)
    assert per_run == {run1: 6, run2: 2}
    eots = defaultdict(set)
    for r in app_eot:
        eot = envelope.EndOfTable.decode(r.value or b"")
        eots[eot.run_id].add((r.partition, eot.records))
    assert eots == {run1: {(p, 6) for p in range(PARTITIONS)}, run2: {(p, 2) for p in range(PARTITIONS)}}
    # Keys: the content key, so the update's D meets the full file's application on the same key.
    by_run = defaultdict(dict)
    for r, v in zip(app_data, _values(app_data), strict=True):
        assert r.key == json.dumps([v["AppKey"]]).encode()
        by_run[_run_of(r)][v["AppID"]] = v
    assert by_run[run2][1]["AppKey"] == by_run[run1][2]["AppKey"]
    assert by_run[run2][1]["EndDateTime"] == by_run[run2][1]["EffectiveDateTime"]
    assert by_run[run2][1]["EffectiveDateTime"] > by_run[run1][2]["EffectiveDateTime"]  # the later file wins
    assert 7 not in by_run[run1]  # the FULL file's D

    file_data, file_eot = _split(_topic(kafka, "aces", "AcesFile"))
    files_by_run = {_run_of(r): v for r, v in zip(file_data, _values(file_data), strict=True)}
    assert files_by_run[run1]["AppCount"] == 7 and files_by_run[run1]["FooterRecordCount"] == "8"
    assert files_by_run[run2]["SubmissionType"] == "UPDATE"
    assert len(file_eot) == 2 * PARTITIONS


def test_an_iso_8859_1_file_arrives_with_its_characters(database_url: str, kafka: str) -> None:
    done = run_vcdb(cli_env(database_url, kafka), "aces", "load", str(FIXTURES / "aces" / "latin1_3_1.xml"))
    assert done.returncode == exit_codes.OK, done.stderr[-3000:]
    (app,) = _values(_split(_topic(kafka, "aces", "App"))[0])
    assert json.loads(app["Notes"])[0]["text"] == "für Fahrzeuge mit Anhängerkupplung ± 5°"
    (file_record,) = _values(_split(_topic(kafka, "aces", "AcesFile"))[0])
    assert (file_record["Company"], file_record["ApprovedFor"]) == ("Pièces Étendues S.A.", "US, CA")


def test_a_pies_file_fills_every_segment_topic(database_url: str, kafka: str) -> None:
    done = run_vcdb(cli_env(database_url, kafka), "pies", "load", str(FIXTURES / "pies" / "items_7_2.xml"), "--json")
    assert done.returncode == exit_codes.OK, done.stderr[-3000:]
    expected = {"Item": 3, "ItemDescription": 5, "ItemPrice": 2, "ItemExtendedInfo": 1, "ItemAttribute": 2,
                "ItemPackage": 1, "ItemInterchange": 2, "ItemDigitalAsset": 1, "PiesFile": 1}
    for table, n in expected.items():
        data, eot = _split(_topic(kafka, "pies", table))
        assert len(data) == n, table
        assert sorted(r.partition for r in eot) == list(range(PARTITIONS)), table
    (file_record,) = _values(_split(_topic(kafka, "pies", "PiesFile"))[0])
    assert {i["FileID"] for i in _values(_split(_topic(kafka, "pies", "Item"))[0])} == {file_record["FileID"]}
    (run,) = _runs(database_url)
    progress = _progress(database_url, run["run_id"])
    assert {t: p["records_published"] for t, p in progress.items()} == expected
    assert {p["status"] for p in progress.values()} == {"done"}


def test_a_malformed_file_fails_at_its_position_and_resumes_once_corrected(
        database_url: str, kafka: str, tmp_path: Path) -> None:
    env = cli_env(database_url, kafka)
    path = tmp_path / "catalog.xml"
    write_aces_file(path, 4000, broken_after=2500)
    failed = run_vcdb(env, "aces", "load", str(path), "--page-size", "1000")
    assert failed.returncode == exit_codes.FAILED, failed.stderr[-3000:]
    assert f"{path}: line 2505, column 1: " in failed.stdout + failed.stderr
    (run,) = _runs(database_url)
    assert run["status"] == "failed" and f"{path}: line 2505" in run["error"]
    progress = _progress(database_url, run["run_id"])
    assert (progress["App"]["records_published"], progress["App"]["pages_published"]) == (2500, 3)
    app = progress["App"]  # the FileCursor, in its own columns
    assert (app["entities_before"], app["next_page"], app["file_name"], app["next_link"]) == (2500, 4, str(path), None)
    assert progress["AcesFile"]["status"] == "pending"
    data, eot = _split(_topic(kafka, "aces", "App"))
    assert sorted(v["AppID"] for v in _values(data)) == list(range(1, 2501))  # nothing after the last complete App
    assert eot == [] and _split(_topic(kafka, "aces", "AcesFile"))[0] == []

    write_aces_file(path, 4000)  # corrected
    resumed = run_vcdb(env, "aces", "load", "--resume", str(path), "--page-size", "1000", "--json")
    assert resumed.returncode == exit_codes.OK, resumed.stderr[-3000:]
    (summary,) = json.loads(resumed.stdout)["files"]
    assert (summary["run_id"], summary["resumed"], summary["skipped_on_resume"]) == (run["run_id"], True,
                                                                                     {"App": 2500})
    data, eot = _split(_topic(kafka, "aces", "App"))
    assert Counter(v["AppID"] for v in _values(data)) == Counter(range(1, 4001))  # each exactly once
    assert {envelope.EndOfTable.decode(r.value or b"").records for r in eot} == {4000}
    (file_record,) = _values(_split(_topic(kafka, "aces", "AcesFile"))[0])
    assert (file_record["AppCount"], file_record["FooterRecordCount"]) == (4000, "4000")
    assert [r["status"] for r in _runs(database_url)] == ["succeeded"]


def test_a_second_load_is_refused_while_the_lock_is_held(database_url: str, kafka: str) -> None:
    async def held() -> subprocess.CompletedProcess[str]:
        lock = ProducerLock(database_url, "aces")
        await lock.acquire()
        try:
            return await asyncio.to_thread(run_vcdb, cli_env(database_url, kafka), "aces", "load",
                                           str(FIXTURES / "aces" / "full_4_2.xml"))
        finally:
            await lock.release()

    refused = asyncio.run(held())
    assert refused.returncode == exit_codes.LOCKED, refused.stderr[-3000:]
    assert "another producer run holds the aces lock" in refused.stderr
    assert _runs(database_url) == []
    # PIES has its own lock: not held.
    done = run_vcdb(cli_env(database_url, kafka), "pies", "load", str(FIXTURES / "pies" / "plain_7_1.xml"))
    assert done.returncode == exit_codes.OK, done.stderr[-3000:]


def test_another_version_is_refused_before_anything_is_published(database_url: str, kafka: str) -> None:
    env = cli_env(database_url, kafka)
    full = FIXTURES / "aces" / "full_4_2.xml"
    refused = run_vcdb(env, "aces", "load", str(full), str(FIXTURES / "aces" / "version_5_0.xml"))
    assert refused.returncode == exit_codes.USAGE
    assert "ACES version '5.0' is not read; versions read: 3.0, 3.1, 3.2, 4.0, 4.1, 4.2" in refused.stderr
    refused = run_vcdb(env, "pies", "load", str(FIXTURES / "pies" / "version_8_0.xml"))
    assert refused.returncode == exit_codes.USAGE
    assert "PIES version '8.0' is not read" in refused.stderr
    assert _runs(database_url) == []  # the FULL before it did not start either


def test_sigkill_mid_run_then_resume_gives_every_app_once_per_content_key(
        database_url: str, kafka: str, tmp_path: Path) -> None:
    env = cli_env(database_url, kafka)
    apps = 60_000
    path = write_aces_file(tmp_path / "big.xml.gz", apps, compress=True)
    kills, first = 0, True
    deadline = time.monotonic() + 300
    while kills < 3 and time.monotonic() < deadline:
        args = ["aces", "load", str(path), "--page-size", "500", *([] if first else ["--resume"])]
        before = _published(database_url)
        proc = subprocess.Popen([sys.executable, "-m", "vcdb", *args], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        first = False
        # Kill while publishing, not while starting: after this attempt's first checkpoint.
        while proc.poll() is None and _published(database_url) <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        if proc.poll() is not None:
            break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        kills += 1
    assert kills >= 2, "the load finished before it could be killed; make the file bigger"
    final = run_vcdb(env, "aces", "load", "--resume", str(path), "--page-size", "500", "--json")
    assert final.returncode == exit_codes.OK, final.stderr[-3000:]
    (run,) = _runs(database_url)
    assert run["status"] == "succeeded"

    data, eot = _split(_topic(kafka, "aces", "App"))
    pages_of: dict[bytes, set[bytes]] = defaultdict(set)
    copies: Counter[bytes] = Counter()
    for r in data:
        pages_of[r.key or b""].add(envelope.header_map(r.headers)[envelope.H_PAGE])
        copies[r.key or b""] += 1
    assert len(pages_of) == apps  # every application, by its content key
    assert all(len(p) == 1 for p in pages_of.values())  # a copy only ever of the same page
    republished = {next(iter(pages_of[k])) for k, n in copies.items() if n > 1}
    assert len(republished) <= kills, f"{len(republished)} pages published twice for {kills} kills"
    assert {envelope.EndOfTable.decode(r.value or b"").records for r in eot} == {apps}
    (file_record,) = _values(_split(_topic(kafka, "aces", "AcesFile"))[0])
    assert file_record["AppCount"] == apps


def _published(database_url: str) -> int:
    rows = asyncio.run(fetch(database_url, "SELECT coalesce(sum(pages_published), 0) AS n "
                                           "FROM ingest.endpoint_progress"))
    return int(rows[0]["n"])


def test_sigterm_checkpoints_exits_4_and_resume_finishes_without_a_duplicate(
        database_url: str, kafka: str, tmp_path: Path) -> None:
    env = cli_env(database_url, kafka)
    apps = 40_000
    path = write_aces_file(tmp_path / "big.xml", apps)
    proc = subprocess.Popen([sys.executable, "-m", "vcdb", "aces", "load", str(path), "--page-size", "500"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while proc.poll() is None and _published(database_url) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the load finished before it could be stopped; make the file bigger"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == exit_codes.INTERRUPTED, err[-3000:]
    (run,) = _runs(database_url)
    assert run["status"] == "interrupted"
    assert _progress(database_url, run["run_id"])["AcesFile"]["status"] == "pending"
    done = run_vcdb(env, "aces", "load", "--resume", str(path), "--page-size", "500")
    assert done.returncode == exit_codes.OK, done.stderr[-3000:]
    data, _ = _split(_topic(kafka, "aces", "App"))
    assert Counter(Counter(r.key for r in data).values()) == {1: apps}  # the stop checkpointed what went out
    assert len(_split(_topic(kafka, "aces", "AcesFile"))[0]) == 1
