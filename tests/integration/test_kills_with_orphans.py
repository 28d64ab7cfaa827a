"""Issue 9: the producer SIGKILLed 5 times and resumed, the loading worker SIGKILLed 10 times and
restarted, both at once, on a data set with orphans.  Afterwards every VCdb table equals the
simulator's oracle, the dead-letter index holds each orphan exactly once, no batch was applied
twice and `vcdb verify` passes.

Kills are placed by progress, not by the clock alone, so that they land mid-run on a slow machine
as on a fast one: a start is killed a random moment after it checkpointed a random number of pages
(the producer) or applied a drawn number of batches (the worker).  Three of the producer's kills
are aimed at the window where a crash makes a resumed run publish orphans a second time: a page of a table with
orphans acknowledged by the broker, its checkpoint not yet written.  The test holds that window
open by locking the table's `ingest.endpoint_progress` row until the producer waits on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import asyncpg
import httpx

from simulator.config import DatasetConfig
from simulator.dataset import Dataset
from simulator.oracle import anomalies, expected_rows
from simulator.timeline import Timeline
from streams import topics
from tests.integration.pipeline import fetch
from tests.support import TABLES, VCDB, assert_no_batch_applied_twice, compare_with_oracle, key_json
from vcdb.services import Service

SEED, SCALE, ANOMALIES = 29, 0.02, 0.006  # 50.7k records on 111 pages; 62 orphans in Vehicle and VTEC
PAGE_DELAY_S = 0.15  # 111 pages, 4 endpoints at once: a run takes at least about 4 s
PRODUCER_KILLS, WORKER_KILLS = 5, 10
IN_WINDOW = (1, 2, 3)  # the producer starts killed between an orphan page's acknowledgement and its checkpoint
BUDGET_S = 150.0  # kills, resumes and the final drain together
POLL_S = 0.05
WORKER_MAX_LIFE_S = 15.0  # a start not loading by then is killed anyway (start-up takes seconds on a busy machine)

Process = asyncio.subprocess.Process


@dataclass(frozen=True)
class Progress:
    pages: int  # pages the producer checkpointed, all starts together
    batches: int  # batches the workers applied
    succeeded: bool  # the producer's run
    finished: bool  # the run succeeded and every table is sealed: nothing left to load
    orphan_tables_left: frozenset[str]  # tables with orphans that still have pages to checkpoint


class Watch:
    """What the schedules look at: run state in PostgreSQL and the simulator's page counters."""

    def __init__(self, pool: asyncpg.Pool, sim_url: str, orphan_tables: set[str]) -> None:
        self.pool, self.sim_url = pool, sim_url
        self.orphan_tables = sorted(orphan_tables)
        self.http = httpx.AsyncClient(timeout=10)

    async def progress(self) -> Progress:
        row = await self.pool.fetchrow(
            "SELECT (SELECT coalesce(sum(pages_published), 0) FROM ingest.endpoint_progress) AS pages, "
            "(SELECT count(*) FROM ingest.applied_batches) AS batches, "
            "(SELECT count(*) FROM ingest.runs WHERE status = 'succeeded') AS ok, "
            "(SELECT count(*) FROM ingest.runs) AS runs, "
            "(SELECT count(*) FROM ingest.table_load WHERE status = 'sealed') AS sealed, "
            "(SELECT array_agg(table_name) FROM ingest.endpoint_progress WHERE table_name = ANY($1::text[]) "
            " AND status NOT IN ('paged', 'done')) AS left", self.orphan_tables)
        assert row is not None
        left = frozenset(row["left"] or ()) if row["runs"] else frozenset(self.orphan_tables)
        succeeded = row["runs"] == row["ok"] == 1
        return Progress(int(row["pages"]), int(row["batches"]), succeeded,
                        succeeded and row["sealed"] == len(TABLES), left)

    async def pages_served(self) -> Counter[str]:
        """Pages of the orphan tables the simulator answered so far, fetched again ones included."""
        served = (await self.http.get(f"{self.sim_url}/_sim/stats")).json()["pages_served"]
        return Counter({t: int(served.get(t, 0)) for t in self.orphan_tables})

    async def blocked_by(self, pid: int) -> list[tuple[int, str]]:
        """Sessions waiting for a lock that session `pid` holds, with their statements."""
        rows = await self.pool.fetch(
            "SELECT pid, query FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", pid)
        return [(int(r["pid"]), str(r["query"])) for r in rows]

    async def close(self) -> None:
        await self.http.aclose()


@dataclass
class Restarted:
    """A `vcdb` command started again after each SIGKILL, each start in its own session so that a
    kill takes the worker processes it forked too."""

    name: str
    env: dict[str, str]
    log: Path
    proc: Process | None = None
    kills: int = 0
    started: list[Process] = field(default_factory=list)
    born: float = 0.0
    _out: IO[bytes] | None = None

    async def start(self, *args: str) -> Process:
        self._note(f"start {len(self.started) + 1}: {' '.join(args)}")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "vcdb", *args, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self._out, start_new_session=True)
        self.started.append(self.proc)
        self.born = asyncio.get_running_loop().time()
        return self.proc

    def check_running(self) -> None:
        assert self.proc is not None
        code = self.proc.returncode
        assert code is None, (f"{self.name} start {len(self.started)} exited with {code} before its kill: "
                              f"raise the scale\n{self.tail()}")

    async def kill(self, progress: Progress | None = None) -> None:
        self.check_running()
        assert progress is None or not progress.succeeded, (
            f"{self.name} start {len(self.started)} finished the run before its kill: raise the scale")
        assert self.proc is not None
        await _kill_group(self.proc)
        self.kills += 1
        self._note(f"start {len(self.started)} killed after {asyncio.get_running_loop().time() - self.born:.1f} s")

    def _note(self, what: str) -> None:
        if self._out is None:
            self._out = self.log.open("ab")
        self._out.write(f"=== {dt.datetime.now():%H:%M:%S.%f} {self.name} {what}\n".encode())
        self._out.flush()

    async def finish(self, deadline: float) -> None:
        """Wait for the last start, which must exit 0."""
        assert self.proc is not None
        try:
            code = await asyncio.wait_for(self.proc.wait(), max(1.0, deadline - asyncio.get_running_loop().time()))
        except TimeoutError:
            raise AssertionError(f"{self.name}: the last start did not finish in time\n{self.tail()}") from None
        assert code == 0, f"{self.name}: the last start exited {code}\n{self.tail()}"

    async def stop_all(self) -> None:
        for proc in self.started:
            await _kill_group(proc)
        if self._out is not None:
            self._out.close()

    def tail(self, n: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""


async def _kill_group(proc: Process) -> None:
    """SIGKILL the process group; its id is the leader's pid, ours until the leader is reaped."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), 10)


@dataclass
class Tally:
    producer_kills: int = 0
    in_window: int = 0  # producer kills between an orphan page's broker ack and its checkpoint
    worker_kills: int = 0
    worker_kills_mid_load: int = 0  # before the load finished
    worker_kills_after_a_batch: int = 0  # of those, after the start applied a batch of its own
    seconds: float = 0.0


async def _poll_until(cmd: Restarted, deadline: float, ready: Callable[[], Awaitable[bool]]) -> None:
    """Poll `ready` (a coroutine function) while the start runs, until it is true or `deadline`."""
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        cmd.check_running()
        if await ready():
            return
        await asyncio.sleep(POLL_S)


async def _kill_after_pages(producer: Restarted, watch: Watch, rng: random.Random, total_pages: int) -> None:
    """A random moment after this start checkpointed a drawn number of pages (at most a quarter
    of what is left, so that the run is not over before the kill)."""
    start = await watch.progress()
    need = rng.randint(1, max(1, min(10, (total_pages - start.pages) // 4)))

    async def ready() -> bool:
        return (await watch.progress()).pages - start.pages >= need

    await _poll_until(producer, producer.born + 20.0, ready)
    await asyncio.sleep(rng.uniform(0.0, 0.3))
    await producer.kill(await watch.progress())


async def _kill_in_window(producer: Restarted, watch: Watch, rng: random.Random, url: str,
                          total_pages: int) -> bool:
    """Once the simulator answered a (drawn) number of orphan-table pages to this start, lock
    that table's progress row: the producer publishes the page, gets the broker's ack and then
    waits to checkpoint it; kill it there, and end its session before the lock is released (a
    statement already sent would otherwise commit the checkpoint after the kill).  True when it
    was a page checkpoint that waited (a table's last statement, after its end-of-table
    records, can wait instead)."""
    served_at_start, need = await watch.pages_served(), rng.randint(1, 3)
    grown: list[str] = []

    async def served_enough() -> bool:
        progress, served = await watch.progress(), await watch.pages_served()
        grown[:] = [t for t in watch.orphan_tables if served[t] > served_at_start[t]]
        if not progress.orphan_tables_left:
            return True
        return sum(served[t] - served_at_start[t] for t in grown) >= need

    await _poll_until(producer, producer.born + 20.0, served_enough)
    left = (await watch.progress()).orphan_tables_left
    table = next((t for t in reversed(grown) if t in left), None)
    if table is None:  # the orphan tables finished first
        await _kill_after_pages(producer, watch, rng, total_pages)
        return False
    conn = await asyncpg.connect(url)
    waiting: list[tuple[int, str]] = []
    try:
        async with conn.transaction():
            await conn.execute("SELECT 1 FROM ingest.endpoint_progress WHERE table_name = $1 FOR UPDATE", table)

            async def blocked() -> bool:
                waiting[:] = await watch.blocked_by(conn.get_server_pid())
                return bool(waiting)

            await _poll_until(producer, asyncio.get_running_loop().time() + 20.0, blocked)
            await asyncio.sleep(rng.uniform(0.0, 0.2))
            await producer.kill()
            for pid, _ in waiting:
                await conn.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()
    return any("pages_published" in q for _, q in waiting)


async def _producer_schedule(producer: Restarted, watch: Watch, rng: random.Random, url: str,
                             tally: Tally, deadline: float, total_pages: int) -> None:
    await producer.start("baseline")
    for nth in range(1, PRODUCER_KILLS + 1):
        if nth > 1:
            await producer.start("baseline", "--resume")
        if nth in IN_WINDOW:
            tally.in_window += await _kill_in_window(producer, watch, rng, url, total_pages)
        else:
            await _kill_after_pages(producer, watch, rng, total_pages)
    tally.producer_kills = producer.kills
    await producer.start("baseline", "--resume")
    await producer.finish(deadline)


async def _worker_schedule(worker: Restarted, watch: Watch, rng: random.Random, tally: Tally,
                           deadline: float) -> None:
    consume = ("consume", "--batch-size", "500", "--assign")
    for _ in range(WORKER_KILLS):
        await worker.start(*consume)
        start, need = await watch.progress(), rng.randint(1, 3)

        async def applied_enough(start: Progress = start, need: int = need) -> bool:
            return (await watch.progress()).batches - start.batches >= need

        # Killed a few batches into its life, not a few seconds: a worker loads 50k records in a
        # few seconds, and ten lives measured in time could finish the load before the last kill.
        await _poll_until(worker, worker.born + WORKER_MAX_LIFE_S, applied_enough)
        await asyncio.sleep(rng.uniform(0.0, 0.15))
        progress = await watch.progress()
        await worker.kill()
        tally.worker_kills_mid_load += not progress.finished
        tally.worker_kills_after_a_batch += not progress.finished and progress.batches > start.batches
    tally.worker_kills = worker.kills
    await worker.start("consume", "--until-idle", "--stall", "60", "--assign")
    await worker.finish(deadline)


async def _kill_and_restart(env: dict[str, str], sim_url: str, orphan_tables: set[str], total_pages: int,
                            logs: Path) -> Tally:
    """Both schedules at once; every process started is SIGKILLed (by group) on the way out."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    deadline = began + BUDGET_S
    rng_producer, rng_worker = random.Random(9), random.Random(10)
    producer = Restarted("producer", env, logs / "producer.log")
    worker = Restarted("worker", env, logs / "worker.log")
    tally = Tally()
    pool = await asyncpg.create_pool(env["DATABASE_URL"], min_size=1, max_size=3)
    watch = Watch(pool, sim_url, orphan_tables)
    tasks = [asyncio.create_task(_producer_schedule(producer, watch, rng_producer, env["DATABASE_URL"], tally,
                                                    deadline, total_pages)),
             asyncio.create_task(_worker_schedule(worker, watch, rng_worker, tally, deadline))]
    try:
        # The first failure stops the other schedule too, before its processes are killed.
        done, pending = await asyncio.wait(tasks, timeout=BUDGET_S + 15, return_when=asyncio.FIRST_EXCEPTION)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()
        assert not pending, f"not done within {BUDGET_S:.0f} s\n{producer.tail(1500)}\n{worker.tail(1500)}"
    finally:
        await producer.stop_all()
        await worker.stop_all()
        await watch.close()
        await pool.close()
    tally.seconds = loop.time() - began
    return tally


async def _republished(url: str) -> dict[str, int]:
    """Per table, records applied beyond the API's count: pages published again after a kill."""
    applied = {r["topic"]: int(r["n"]) for r in await fetch(
        url, "SELECT topic, sum(records) AS n FROM ingest.applied_batches GROUP BY topic")}
    out = {}
    for r in await fetch(url, "SELECT table_name, total_count FROM ingest.endpoint_progress"):
        extra = applied.get(topics.data_topic(VCDB.tables[r["table_name"]]), 0) - int(r["total_count"] or 0)
        if extra:
            out[r["table_name"]] = extra
    return out


async def _open_dead_letters(url: str) -> Counter[tuple[str, str]]:
    rows = await fetch(url, "SELECT table_name, record_key FROM ingest.dead_letters WHERE status = 'open'")
    return Counter((r["table_name"], r["record_key"]) for r in rows)


def test_killed_producer_and_worker_on_orphans_load_exactly_once(
        database_url: str, kafka: str, start_simulator: Callable[..., Service], tmp_path: Path) -> None:
    # Every page a little slow: the producer is fast enough now to finish a resumed run between two
    # progress polls, and the kills must land mid-run on a fast machine as on a slow one.
    faults = tmp_path / "slow-pages.json"
    faults.write_text(json.dumps({"seed": SEED, "rules": [{"kind": "slow", "delay_s": PAGE_DELAY_S}]}))
    sim = start_simulator("--scale", str(SCALE), "--seed", str(SEED), "--anomalies", str(ANOMALIES),
                          "--faults", str(faults))
    ds = Dataset(DatasetConfig(seed=SEED, scale=SCALE, anomalies=ANOMALIES, timeline=Timeline.monthly(3)))
    orphans = anomalies(ds, "vcdb")
    assert len(orphans) >= 20, f"only {len(orphans)} orphans at this seed and scale: raise ANOMALIES"
    env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka,
           "AUTOCARE_TOKEN_URL": f"{sim.url}/connect/token", "AUTOCARE_VCDB_URL": sim.url,
           "AUTOCARE_PCDB_URL": sim.url, "AUTOCARE_PADB_URL": sim.url, "AUTOCARE_QDB_URL": sim.url}
    total_pages = sum(max(1, math.ceil(len(ds.view("vcdb", t.name, now=ds.releases)[0]) / 1000)) for t in TABLES)
    tally = asyncio.run(_kill_and_restart(env, sim.url, {a.table for a in orphans}, total_pages, tmp_path))
    again = asyncio.run(_republished(database_url))
    print(f"\n{tally}; {len(orphans)} orphans; records published again: {again}")
    assert tally.producer_kills == PRODUCER_KILLS
    assert tally.in_window >= 1, "no producer kill landed between an orphan page's broker ack and its checkpoint"
    assert tally.worker_kills_mid_load == WORKER_KILLS, (
        f"{tally.worker_kills_mid_load} of {WORKER_KILLS} worker kills came before the load finished: "
        "raise the scale")
    assert tally.worker_kills_after_a_batch >= WORKER_KILLS // 2, (
        f"only {tally.worker_kills_after_a_batch} worker kills came after the start applied a batch: "
        "the workers spent their lives starting up")

    asyncio.run(assert_no_batch_applied_twice(database_url))
    asyncio.run(compare_with_oracle(database_url, lambda t: list(expected_rows(ds, "vcdb", t))))
    got = asyncio.run(_open_dead_letters(database_url))
    want = Counter((a.table, key_json(a.key)) for a in orphans)
    duplicated = sorted((key, n) for key, n in got.items() if n > 1)
    missing = sorted(want - got)
    extra = sorted(set(got) - set(want))
    assert not (duplicated or missing or extra), (
        f"the open dead letters are not the {len(want)} orphans once each: {len(duplicated)} indexed more than "
        f"once (key, times) {duplicated}; missing {missing}; not orphans {extra} "
        f"(records published again after producer kills: {again})")
    verify = subprocess.run([sys.executable, "-m", "vcdb", "verify"], env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert verify.returncode == 0, (
        f"vcdb verify exited {verify.returncode}:\n{verify.stdout[-3000:]}\n{verify.stderr[-2000:]}")
