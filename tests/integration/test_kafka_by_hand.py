"""`make kafka` / `make kafka-stop` (`python -m vcdb.kafka_broker start|stop`): one Apache Kafka by
hand, stopped by the PID it wrote, and every exit code it documents."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from streams.broker import list_topics
from vcdb import kafka_broker, services


def _broker(state: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vcdb.kafka_broker", *args, "--state", str(state)],
                          capture_output=True, text=True, timeout=120, check=False, env=env)


def test_a_broker_by_hand_starts_answers_and_stops_by_its_pid(tmp_path: Path) -> None:
    state, port = tmp_path / "manual", services.free_port()
    started = _broker(state, "start", "--port", str(port))
    try:
        assert started.returncode == 0, started.stderr
        assert f"KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{port}" in started.stdout
        pid = int((state / "broker.pid").read_text())
        assert Path(f"/proc/{pid}").exists()
        assert asyncio.run(list_topics(f"127.0.0.1:{port}")) == []  # it answers metadata, and is a fresh broker
        again = _broker(state, "start", "--port", str(port))
        assert again.returncode == 0 and f"already running (pid {pid})" in again.stdout
        taken = _broker(tmp_path / "other", "start", "--port", str(port))
        assert taken.returncode == 2 and f"port {port} is in use" in taken.stderr
    finally:
        stopped = _broker(state, "stop")
    assert stopped.returncode == 0 and f"stopped Apache Kafka (pid {pid})" in stopped.stdout
    assert not Path(f"/proc/{pid}").exists() or b"kafka.Kafka" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    nothing = _broker(state, "stop")
    assert nothing.returncode == 0 and "no broker started by `make kafka` is running" in nothing.stdout


def test_without_java_the_broker_cannot_start_and_says_why(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # no java, no mvn
    refused = _broker(tmp_path / "manual", "start", "--port", str(services.free_port()), env=env)
    assert refused.returncode == 1
    assert "Apache Kafka needs Java 17 or newer on the PATH" in refused.stderr


def test_a_broker_that_exits_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    with socket.socket() as taken:  # listening already: the broker cannot bind its port and exits
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(services.ServiceError, match=r"Apache Kafka exited with code \d+ while starting; log: "):
            kafka_broker.start_apache_kafka(tmp_path / "broker", port, timeout=60)
