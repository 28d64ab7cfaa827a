"""`--metrics-port` on `vcdb baseline` and `vcdb consume`, as processes: Prometheus metrics that
count what the run did, /healthz, /readyz (503 until connected and assigned, then 200), and a port
that cannot be bound exiting 2.  Every wait is bounded."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.pipeline import cli_env, fetch
from vcdb import exit_codes, services
from vcdb.services import Service

DEADLINE_S = 60.0


def _samples(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items()
               if n == name and all(dict(ls).get(k) == x for k, x in labels.items()))


def _wait(predicate: Callable[[], bool], what: str, proc: subprocess.Popen[str], limit_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the process ended ({proc.returncode}) before {what}: see {proc.args}")
        try:
            if predicate():
                return
        except httpx.HTTPError:
            pass  # not listening yet
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {limit_s:.0f} s")


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    with log.open("w") as out:  # the child has its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "vcdb", *args], env=env, stdout=subprocess.DEVNULL,
                                stderr=out, text=True)


def _ready(port: int) -> bool:
    return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200


def test_baseline_then_consume_report_what_they_did(database_url: str, kafka: str,
                                                    start_simulator: Callable[..., Service], tmp_path: Path) -> None:
    # The first pages are slowed so the baseline is still running when it is scraped.
    faults = tmp_path / "slow.json"
    faults.write_text(json.dumps({"seed": 1, "rules": [{"kind": "slow", "delay_s": 0.3, "max_count": 15}]}))
    sim = start_simulator("--scale", "0.002", "--faults", str(faults))
    env = cli_env(database_url, kafka, sim.url)
    port = services.free_port()
    producer = _start(["baseline", "--concurrency", "1", "--metrics-port", str(port)], env, tmp_path / "baseline.log")
    try:
        _wait(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200, "/healthz",
              producer)
        _wait(lambda: _ready(port) and _total(_samples(port), "vcdb_producer_pages_total") > 0, "a page", producer)
        during = _samples(port)
        assert _total(during, "vcdb_producer_lock_held", db="vcdb") == 1
        assert _total(during, "vcdb_api_responses_total", status="200") >= 1
        assert _total(during, "vcdb_api_request_seconds_count") >= 1
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).json()
        assert ready == {"ready": True, "conditions": {"postgres": True, "broker": True}, "reasons": {}}
        assert producer.wait(timeout=DEADLINE_S) == exit_codes.OK
    finally:
        if producer.poll() is None:
            producer.kill()
            producer.wait()
    published = asyncio.run(fetch(database_url, "SELECT sum(records_published)::int AS n, "
                                                "count(*)::int AS tables FROM ingest.endpoint_progress"))[0]

    port = services.free_port()
    consumer = _start(["consume", "--assign", "--workers", "1", "--metrics-port", str(port)], env,
                      tmp_path / "consume.log")
    try:
        def applied() -> float:
            now = _samples(port)
            return _total(now, "vcdb_records_loaded_total") + _total(now, "vcdb_records_dead_lettered_total")

        _wait(lambda: applied() == published["n"], "every record loaded or dead-lettered", consumer)
        _wait(lambda: _total(_samples(port), "vcdb_tables_sealed_total") == published["tables"], "every seal",
              consumer)
        after = _samples(port)
        assert _total(after, "vcdb_records_read_total") >= published["n"]
        dead = asyncio.run(fetch(database_url, "SELECT count(*)::int AS n FROM ingest.dead_letters"))[0]["n"]
        assert _total(after, "vcdb_records_dead_lettered_total") == dead > 0  # the simulator's anomalies
        assert _total(after, "vcdb_batch_apply_seconds_count") >= published["tables"]
        _wait(lambda: _total(_samples(port), "vcdb_consumer_lag") == 0 and any(
            n == "vcdb_consumer_lag" for n, _ in _samples(port)), "lag 0", consumer)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).json()
        assert ready == {"ready": True, "conditions": {"postgres": True, "broker": True, "assigned": True},
                         "reasons": {}}
        assert httpx.get(f"http://127.0.0.1:{port}/nothing", timeout=5).status_code == 404
        consumer.send_signal(signal.SIGTERM)
        assert consumer.wait(timeout=DEADLINE_S) == exit_codes.INTERRUPTED
    finally:
        if consumer.poll() is None:
            consumer.kill()
            consumer.wait()


def test_a_metrics_port_in_use_is_a_usage_error(database_url: str, kafka: str) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))  # all interfaces: what the metrics server binds
        taken.listen()
        port = taken.getsockname()[1]
        env = cli_env(database_url, kafka, "http://127.0.0.1:9")
        done = subprocess.run([sys.executable, "-m", "vcdb", "consume", "--assign", "--workers", "1",
                               "--metrics-port", str(port)], env=env, capture_output=True, text=True,
                              timeout=DEADLINE_S, check=False)
    assert done.returncode == exit_codes.USAGE, done.stderr[-2000:]
    assert f"--metrics-port {port}: cannot listen" in done.stderr and "Traceback" not in done.stderr
