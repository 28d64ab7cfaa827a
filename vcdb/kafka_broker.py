"""Apache Kafka as a process: the tests' broker, `make kafka` and `make bench`.

The broker's jars come from Maven Central at the version pinned in `kafka/pom.xml` (Maven copies
them once into `.vcdb/kafka/jars-<hash of the pom>/`).  It runs in KRaft mode as one node that is
both broker and controller, with the settings of `kafka/broker.env` (the file docker-compose.yml
gives the production broker) plus what differs on a laptop: loopback listeners on free ports, a
data directory of its own, and no initial rebalance delay (`TEST_SETTINGS`).  Its storage is
formatted before the first start (`StorageTool format`), it is ready once a metadata
request answers, and it is stopped by the PID we started.

`python -m vcdb.kafka_broker start|stop` (`make kafka`, `make kafka-stop`) runs one by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from vcdb import services
from vcdb.services import Service, ServiceError

PROJECT = Path(__file__).resolve().parent.parent
POM = PROJECT / "kafka" / "pom.xml"
SHARED_SETTINGS = PROJECT / "kafka" / "broker.env"
LOG4J = PROJECT / "kafka" / "log4j2.properties"
CACHE = PROJECT / ".vcdb" / "kafka"

# What only a test or laptop broker sets: every first group join otherwise waits 3 s for more members.
TEST_SETTINGS = {"group.initial.rebalance.delay.ms": "0", "num.partitions": "1",
                 "auto.create.topics.enable": "true"}
# A broker of a test or a bench lives for seconds to minutes: the C1 compiler alone (no C2 warm-up)
# measured 4.8-5.5 -> 3.1-3.2 CPU-s to be ready and 1.7-2.7 -> 1.1-1.4 CPU-s for 200k records
# produced and read back, on 2 shared cores.  Production brokers (docker-compose.yml) keep the JVM's defaults.
JVM_OPTIONS = ["-Xms256m", "-Xmx768m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"]
START_TIMEOUT_S = 90.0


def env_to_property(name: str) -> str:
    """The apache/kafka image's rule: `KAFKA_` dropped, `___` is `_`, `__` is `-`, `_` is `.`,
    lower case (KAFKA_LOG_RETENTION_HOURS -> log.retention.hours)."""
    if not name.startswith("KAFKA_"):
        raise ValueError(f"{name}: not a KAFKA_ setting")
    body = name.removeprefix("KAFKA_").lower()
    return body.replace("___", "\0").replace("__", "-").replace("_", ".").replace("\0", "_")


def read_env_file(text: str) -> dict[str, str]:
    """`KEY=VALUE` lines, `#` comments and blank lines skipped (Compose's env_file format)."""
    out: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"line {n}: expected KEY=VALUE, got {raw!r}")
        out[key.strip()] = value.strip()
    return out


def shared_settings(text: str) -> dict[str, str]:
    return {env_to_property(k): v for k, v in read_env_file(text).items()}


def broker_properties(shared: Mapping[str, str], *, port: int, controller_port: int, log_dir: Path,
                      host: str = "127.0.0.1") -> dict[str, str]:
    """server.properties for one combined node on loopback: the shared settings, then this
    host's listeners and data directory, then the test settings."""
    return {**shared,
            "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
            "advertised.listeners": f"PLAINTEXT://{host}:{port}",
            # a static quorum of this one node, as docker-compose.yml's KAFKA_CONTROLLER_QUORUM_VOTERS
            "controller.quorum.voters": f"{shared.get('node.id', '1')}@{host}:{controller_port}",
            "log.dirs": str(log_dir),
            **TEST_SETTINGS}


def render_properties(props: Mapping[str, str]) -> str:
    return "".join(f"{k}={v}\n" for k, v in props.items())


def cluster_id() -> str:
    """What `kafka-storage.sh random-uuid` prints: 16 random bytes, URL-safe base64 without padding,
    drawn again when it starts with "-" (as Kafka's own Uuid.randomUuid does: a command line would
    take it for an option, and did, one format in 64)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise ServiceError("Apache Kafka needs Java 17 or newer on the PATH (java not found); "
                           "without Java, use the Tansu broker (vcdb demo does)")
    return java


def jars(cache: Path = CACHE) -> Path:
    """The directory of the pinned broker's jars, fetched with Maven on first use.  A lock file
    keeps two test processes from fetching at once; the directory appears whole or not at all."""
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
    target = cache / f"jars-{digest}"
    if (target / ".complete").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / "fetch.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / ".complete").exists():
            return target
        mvn = shutil.which("mvn")
        if mvn is None:
            raise ServiceError("Apache Kafka's jars come from Maven Central through Maven: mvn not found "
                               "(apt-get install maven)")
        partial = cache / f"partial-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        done = subprocess.run([mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
                               f"-DoutputDirectory={partial}"], capture_output=True, text=True, check=False)
        if done.returncode != 0 or not any(partial.glob("kafka_2.13-*.jar")):
            shutil.rmtree(partial, ignore_errors=True)
            tail = (done.stdout + done.stderr).strip()[-2000:]
            raise ServiceError(f"Maven could not fetch Apache Kafka ({POM}), exit {done.returncode}:\n{tail}")
        (partial / ".complete").touch()
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
    return target


def _format(java: str, classpath: str, props_path: Path, workdir: Path) -> None:
    done = subprocess.run(
        [java, *JVM_OPTIONS, f"-Dlog4j2.configurationFile={LOG4J}", f"-Dkafka.logs.dir={workdir}", "-cp", classpath,
         "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id()}", "-c", str(props_path)],
        capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise ServiceError(f"formatting Kafka's storage failed (exit {done.returncode}): "
                           f"{(done.stdout + done.stderr).strip()[-2000:]}")


def start_apache_kafka(workdir: Path, port: int | None = None, *, timeout: float = START_TIMEOUT_S) -> Service:
    """A fresh single-node broker with its data under `workdir` (wiped first)."""
    java = _java()
    classpath = str(jars() / "*")
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    port = port or services.free_port()
    controller_port = services.free_port()
    props = broker_properties(shared_settings(SHARED_SETTINGS.read_text()), port=port,
                              controller_port=controller_port, log_dir=workdir / "data")
    props_path = workdir / "server.properties"
    props_path.write_text(render_properties(props))
    _format(java, classpath, props_path, workdir)
    log = workdir / "server.log"
    with (workdir / "stdout.log").open("wb") as out:
        proc = subprocess.Popen(
            [java, *JVM_OPTIONS, f"-Dlog4j2.configurationFile={LOG4J}", f"-Dkafka.logs.dir={workdir}",
             "-cp", classpath, "kafka.Kafka", str(props_path)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    svc = Service("kafka", f"127.0.0.1:{port}", proc, log)
    try:
        deadline = time.monotonic() + timeout
        services.wait_tcp("127.0.0.1", port, timeout, proc, "Apache Kafka", log)
        asyncio.run(_wait_metadata(svc.url, deadline, proc, log))
    except BaseException:
        svc.stop()
        raise
    return svc


async def _wait_metadata(url: str, deadline: float, proc: subprocess.Popen[bytes], log: Path) -> None:
    from streams.broker import BrokerError, list_topics

    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(f"Apache Kafka exited with code {proc.returncode} while starting; log: {log}")
        try:
            await asyncio.wait_for(list_topics(url), max(0.5, deadline - time.monotonic()))
            return
        except (BrokerError, TimeoutError) as e:
            last = e
            await asyncio.sleep(0.2)
    raise ServiceError(f"Apache Kafka at {url} did not answer a metadata request in time ({last}); log: {log}")


# `make kafka` / `make kafka-stop`: one broker by hand, its data, PID and address in .vcdb/kafka/manual/.
MANUAL = CACHE / "manual"


def _manual_pid(state: Path) -> int | None:
    try:
        pid = int((state / "broker.pid").read_text())
    except (FileNotFoundError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return None
    # Only the broker we started: a recycled PID running something else is never signalled.
    return pid if b"kafka.Kafka" in cmdline and str(state / "server.properties").encode() in cmdline else None


def main(argv: list[str] | None = None) -> int:
    """Exit 0: started, already running, stopped, or nothing to stop; 1: the broker could not start
    (no Java, no Maven, Maven or the broker failed: the message says which); 2: the port is taken."""
    parser = argparse.ArgumentParser(prog="python -m vcdb.kafka_broker",
                                     description="Start or stop a single-node Apache Kafka (KRaft) by hand.")
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--port", type=int, default=9092, help="the PLAINTEXT port (default 9092)")
    parser.add_argument("--state", type=Path, default=MANUAL,
                        help=f"its data, PID file and address (default {MANUAL.relative_to(PROJECT)})")
    args = parser.parse_args(argv)
    state = args.state.resolve()
    pid = _manual_pid(state)
    if args.action == "stop":
        if pid is None:
            print("no broker started by `make kafka` is running")
            return 0
        os.kill(pid, signal.SIGTERM)
        for _ in range(300):
            if not Path(f"/proc/{pid}").exists() or _manual_pid(state) is None:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
        print(f"stopped Apache Kafka (pid {pid})")
        return 0
    if pid is not None:
        print(f"Apache Kafka is already running (pid {pid}): {(state / 'bootstrap').read_text().strip()}")
        return 0
    if not services.port_free(args.port):
        print(f"port {args.port} is in use; choose another with --port", file=sys.stderr)
        return 2
    try:
        svc = start_apache_kafka(state, args.port)
    except ServiceError as e:
        print(e, file=sys.stderr)
        return 1
    assert svc.process is not None
    (state / "broker.pid").write_text(str(svc.process.pid))
    (state / "bootstrap").write_text(svc.url + "\n")
    print(f"Apache Kafka {kafka_version()} running (pid {svc.process.pid}); log: {svc.log_path}\n"
          f"KAFKA_BOOTSTRAP_SERVERS={svc.url}")
    svc.process = None  # left running on purpose: `make kafka-stop` stops it by this PID
    return 0


def kafka_version() -> str:
    found = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", POM.read_text())
    if found is None:
        raise ServiceError(f"{POM} names no <kafka.version>")
    return found.group(1)


if __name__ == "__main__":
    sys.exit(main())
