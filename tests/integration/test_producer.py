"""Producer runs against the simulator over HTTP and the real broker: counts, kills and resume,
the lock, faults."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

from schemas.catalog import load_catalog
from streams import envelope, topics
from streams.broker import read_topic
from streams.partitioner import partition_of
from tests.integration.pipeline import cli_env, fetch, run_vcdb
from vcdb import exit_codes
from vcdb.services import Service

SCALE = "0.005"



def _topic_contents(kafka: str, run_ids: set[int] | None = None) -> dict[str, Counter[tuple[bytes, int]]]:
    """Per table: how often each (key, page) pair is on its topic, data records only."""
    async def read() -> dict[str, Counter[tuple[bytes, int]]]:
        out: dict[str, Counter[tuple[bytes, int]]] = {}
        for table in load_catalog("vcdb").api_tables():
            if table.name == "VCdbChanges":
                continue
            c: Counter[tuple[bytes, int]] = Counter()
            for rec in await read_topic(kafka, topics.data_topic(table)):
                h = envelope.header_map(rec.headers)
                if h.get(envelope.H_KIND) != envelope.KIND_DATA:
                    continue
                if run_ids is not None and int(h[envelope.H_RUN]) not in run_ids:
                    continue
                c[(rec.key or b"", int(h[envelope.H_PAGE]))] += 1
            out[table.name] = c
        return out

    return asyncio.run(read())


def _api_totals(sim: Service) -> dict[str, int]:
    from producers.api.paging import parse_pagination

    with httpx.Client(timeout=30) as http:
        token = http.post(f"{sim.url}/connect/token", data={
            "grant_type": "password", "client_id": "vcdb-stream-demo", "client_secret": "demo-client-secret",
            "username": "demo@example.com", "password": "demo-password",
            "scope": "VcdbApis CommonApis"}).json()["access_token"]
        out = {}
        for table in load_catalog("vcdb").api_tables():
            if table.name == "VCdbChanges":
                continue
            r = http.get(f"{sim.url}/api/v2.0/vcdb/{table.api_table}", params={"PageSize": 1},
                         headers={"Authorization": f"Bearer {token}"})
            r.raise_for_status()
            out[table.name] = parse_pagination(r.headers["X-Pagination"]).total_count or 0
        return out


def test_baseline_puts_exactly_total_count_records_on_each_topic(
        database_url: str, kafka: str, start_simulator: Callable[..., Service]) -> None:
    sim = start_simulator("--scale", SCALE, "--seed", "3")
    env = cli_env(database_url, kafka, sim.url)
    done = run_vcdb(env, "baseline", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["status"] == "succeeded"
    totals = _api_totals(sim)
    contents = _topic_contents(kafka)
    for table, total in totals.items():
        assert sum(contents[table].values()) == total, table
        assert all(n == 1 for n in contents[table].values()), f"{table}: a key twice on one page"
    rows = asyncio.run(fetch(database_url, "SELECT table_name, status, total_count, records_published FROM "
                                           "ingest.endpoint_progress"))
    assert {r["table_name"]: r["records_published"] for r in rows} == totals
    assert all(r["status"] == "done" for r in rows)
    # Each key on the partition Kafka's own partitioner gives it, whichever client asks.
    placed = asyncio.run(read_topic(kafka, topics.data_topic(load_catalog("vcdb").table("BaseVehicle"))))
    data = [r for r in placed if envelope.header_map(r.headers)[envelope.H_KIND] == envelope.KIND_DATA]
    assert data and all(r.partition == partition_of(r.key or b"", 3) for r in data)


def _pages_published(database_url: str) -> int:
    rows = asyncio.run(fetch(database_url, "SELECT coalesce(sum(pages_published), 0) AS n "
                                           "FROM ingest.endpoint_progress"))
    return int(rows[0]["n"])


def test_killed_baseline_resumes_and_loses_nothing(
        database_url: str, kafka: str, start_simulator: Callable[..., Service], tmp_path: Path) -> None:
    sim = start_simulator("--scale", "0.05", "--seed", "4")
    env = cli_env(database_url, kafka, sim.url)
    rng = random.Random(11)
    kills = 0
    first = True
    deadline = time.monotonic() + 300
    while kills < 10 and time.monotonic() < deadline:
        # One endpoint at a time: then "at most one page published again per kill" is exact.
        args = ["baseline", "--concurrency", "1"] + ([] if first else ["--resume"])
        before = _pages_published(database_url)
        proc = subprocess.Popen([sys.executable, "-m", "vcdb", *args], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        first = False
        # Kill while paging, not while starting (slow on a loaded machine): after a first checkpoint.
        while proc.poll() is None and _pages_published(database_url) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.0))
        if proc.poll() is not None:
            break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        kills += 1
    status = asyncio.run(fetch(database_url, "SELECT status FROM ingest.runs WHERE run_id = 1"))[0]["status"]
    if status != "succeeded":
        final = run_vcdb(env, "baseline", "--resume", "--json")
        assert final.returncode == 0, final.stderr[-3000:]
    assert kills >= 3, "the baseline finished before it could be killed; raise the scale"
    stats = httpx.get(f"{sim.url}/_sim/stats", timeout=10).json()
    totals = _api_totals(sim)
    contents = _topic_contents(kafka)
    progress = asyncio.run(fetch(database_url, "SELECT table_name, pages_published, total_pages FROM "
                                               "ingest.endpoint_progress"))
    republished: set[tuple[str, int]] = set()
    for table, total in totals.items():
        keys = {k for k, _ in contents[table]}
        assert len(keys) == total, f"{table}: {total - len(keys)} records missing"
        republished |= {(table, page) for (_, page), n in contents[table].items() if n > 1}
    checkpointed = sum(r["pages_published"] for r in progress)
    expected_pages = sum(r["total_pages"] or 1 for r in progress)
    assert checkpointed == expected_pages
    assert len(republished) <= kills, f"{len(republished)} pages published twice for {kills} kills"
    # The next page is fetched while one is published: a kill can waste that one too.
    served = sum(stats["pages_served"].get(t, 0) for t in totals)
    assert served - expected_pages <= 2 * kills, f"{served - expected_pages} pages fetched twice for {kills} kills"


def test_second_baseline_is_refused_with_the_lock_exit_code(
        database_url: str, kafka: str, start_simulator: Callable[..., Service]) -> None:
    sim = start_simulator("--scale", "0.002", "--seed", "5")
    # Every page takes 1.5 s: whichever baseline gets the lock holds it while the other starts.
    slow = {"seed": 1, "rules": [{"kind": "slow", "delay_s": 1.5}]}
    assert httpx.post(f"{sim.url}/_sim/faults", json=slow, timeout=10).status_code == 200
    env = cli_env(database_url, kafka, sim.url)
    for trial in range(5):
        a = subprocess.Popen([sys.executable, "-m", "vcdb", "baseline", "--tables", "Make,Year"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        b = subprocess.Popen([sys.executable, "-m", "vcdb", "baseline", "--tables", "Make,Year"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        (_, err_a), (_, err_b) = a.communicate(timeout=120), b.communicate(timeout=120)
        codes = sorted([a.returncode, b.returncode])
        assert codes == [exit_codes.OK, exit_codes.LOCKED], f"trial {trial}: {codes}"
        assert "holds the vcdb lock" in (err_a if a.returncode else err_b)


def test_baseline_survives_faults_and_a_page_failing_for_good_is_resumable(
        database_url: str, kafka: str, start_simulator: Callable[..., Service], tmp_path: Path) -> None:
    sim = start_simulator("--scale", "0.02", "--seed", "6")
    env = {**cli_env(database_url, kafka, sim.url)}
    faults = {"seed": 9, "rules": [
        {"kind": "status", "status": 429, "retry_after": "1", "probability": 0.03},
        {"kind": "status", "status": 503, "probability": 0.03},
        {"kind": "reset", "probability": 0.02},
        {"kind": "truncate", "probability": 0.02},
        {"kind": "fail_for_good", "table": "BaseVehicle", "pages": [2]},
    ], "token": {"expires_in": 4, "revoke_after_s": 3}}
    r = httpx.post(f"{sim.url}/_sim/faults", json=faults, timeout=10)
    assert r.status_code == 200, r.text
    failed = run_vcdb(env, "baseline", "--json")
    assert failed.returncode == exit_codes.FAILED, failed.stderr[-2000:]
    summary = json.loads(failed.stdout)
    assert summary["status"] == "failed" and "BaseVehicle" in summary["error"]
    r = httpx.post(f"{sim.url}/_sim/faults", json={**faults, "rules": faults["rules"][:-1]}, timeout=10)
    assert r.status_code == 200
    resumed = run_vcdb(env, "baseline", "--resume", "--json")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert httpx.post(f"{sim.url}/_sim/faults", json={}, timeout=10).status_code == 200
    stats = httpx.get(f"{sim.url}/_sim/stats", timeout=10).json()
    assert stats["faults"], "the profile injected no faults"
    totals = _api_totals(sim)
    contents = _topic_contents(kafka)
    for table, total in totals.items():
        assert len({k for k, _ in contents[table]}) == total, table


def test_incremental_service_runs_every_interval_and_stops_on_sigterm(
        database_url: str, kafka: str, start_simulator: Callable[..., Service]) -> None:
    sim = start_simulator("--scale", "0.002", "--seed", "13")
    env = cli_env(database_url, kafka, sim.url)
    proc = subprocess.Popen([sys.executable, "-m", "vcdb", "incremental", "--since", "2026-01-31", "--tables",
                             "Make,Model", "--every", "0.02"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        runs: list[object] = []
        while time.monotonic() < deadline:
            runs = asyncio.run(fetch(database_url, "SELECT status FROM ingest.runs WHERE kind = 'incremental' "
                                                   "AND status = 'succeeded'"))
            if len(runs) >= 2:
                break
            time.sleep(0.5)
        assert len(runs) >= 2, "the service did not repeat its run"
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(60) in (exit_codes.OK, exit_codes.INTERRUPTED)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
