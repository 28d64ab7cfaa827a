"""The change feed, against the simulator over HTTP, Apache Kafka and PostgreSQL: a plain aiokafka
reader of the `.changes` topics alone rebuilds Make, Model, BaseVehicle, Vehicle and
VehicleToEngineConfig (whose rows the incrementals end) after a
baseline and two incrementals, with a loader SIGKILLed between a publishing commit and its relay;
a relay that stops part-way (after a loader with VCDB_CHANGE_RELAY=false left a release unrelayed)
leaves no duplicate and no gap; `vcdb changes` summarises a release
from the same outbox and `--reemit` sends it once more."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from consumers.relay import Relay
from ledger import releases
from ledger.pools import connect_pool
from producers.runner import ProduceOptions, RunResult, produce
from producers.source import client_source
from schemas.catalog import load_catalog
from schemas.settings import Settings
from simulator.timeline import Timeline
from streams import topics
from streams.broker import Publisher
from streams.records import OutRecord
from tests.integration.pipeline import cli_env, fetch, run_vcdb
from tests.support import settings_for
from vcdb import exit_codes
from vcdb.services import Service

SEED, SCALE = 23, 0.01
# The simulator ends rows of tables nothing references only: VehicleToEngineConfig carries the ends.
TABLES = ("Make", "Model", "BaseVehicle", "Vehicle", "VehicleToEngineConfig")
TIMELINE = Timeline.monthly(3)
RELAY_LOCK = "SELECT pg_advisory_lock(hashtext('vcdb-stream relay'), 0)"  # the relay's, held by the test


async def _produce(settings: Settings, **kw: Any) -> RunResult:
    async with client_source(settings) as source:
        run = await produce(settings, ProduceOptions(db="vcdb", **kw), source, install_signals=False)
    assert run.status == "succeeded", run.error
    return run


async def _release(url: str, run_id: int, *, relayed: bool, timeout_s: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = await fetch(url, "SELECT * FROM ingest.releases WHERE run_id = $1", run_id)
        if rows and rows[0]["status"] == "published" and (rows[0]["relayed_at"] is not None or not relayed):
            return dict(rows[0])
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} was not published{' and relayed' if relayed else ''} in {timeout_s} s")


def _worker(env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    """A loader process; one that runs until idle has its stderr kept (read by communicate)."""
    until_idle = "--until-idle" in extra
    return subprocess.Popen([sys.executable, "-m", "vcdb", "consume", "--assign", *extra], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE if until_idle else subprocess.DEVNULL,
                            start_new_session=True)


async def _read_changes(kafka: str, names: Sequence[str], limit_s: float = 60) -> list[Any]:
    """Every message of the topics, in each partition's order: a plain consumer, nothing of ours."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False, auto_offset_reset="earliest",
                                fetch_max_wait_ms=50)
    await consumer.start()
    try:
        metadata = await consumer._client.fetch_all_metadata()
        tps = [TopicPartition(t, p) for t in names for p in sorted(metadata.partitions_for_topic(t) or ())]
        assert len(tps) >= len(names), f"missing change topics among {names}"
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[Any] = []
        deadline = time.monotonic() + limit_s
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            assert time.monotonic() < deadline, "the change topics were not read to their end in time"
            for _, messages in (await consumer.getmany(timeout_ms=200)).items():
                out.extend(messages)
        return out
    finally:
        await consumer.stop()


def _rebuild(messages: list[Any]) -> dict[str, dict[str, Any]]:
    """Apply the feed as a downstream copy does: c, r and u put `after`, d deletes."""
    copies: dict[str, dict[str, Any]] = {t: {} for t in TABLES}
    by_canonical = {load_catalog("vcdb").tables[t].canonical: t for t in TABLES}
    for m in messages:
        value = json.loads(m.value)
        table = by_canonical[value["source"]["table"]]
        key = m.key.decode()
        if value["op"] == "d":
            assert value["after"] is None and value["before"] is not None
            copies[table].pop(key, None)
        else:
            assert value["op"] in ("c", "u", "r") and value["after"] is not None
            copies[table][key] = value["after"]
    return copies


async def _canonical(url: str) -> dict[str, dict[str, Any]]:
    """The canonical tables' rows in force, keyed as the table topics key them."""
    catalog = load_catalog("vcdb")
    out: dict[str, dict[str, Any]] = {}
    for name in TABLES:
        t = catalog.tables[name]
        cols = ", ".join(f'"{c.canonical}"' for c in t.columns)
        keys = ", ".join(f'"{k}"' for k in t.key_canonical)
        rows = await fetch(url, f"SELECT jsonb_build_array({keys})::text AS k, row_to_json(x)::text AS r FROM "
                                f"(SELECT {cols} FROM autocare_vcdb.{t.canonical} WHERE end_date_time IS NULL) x")
        out[name] = {json.dumps(json.loads(r["k"]), separators=(",", ":")): json.loads(r["r"]) for r in rows}
    return out


async def _sim_release(sim_url: str, release: int) -> None:
    import httpx

    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(f"{sim_url}/_sim/release", json={"release": release})
    assert r.status_code == 200, r.text


def test_a_reader_of_the_change_topics_alone_rebuilds_the_tables_across_a_kill_before_the_relay(
        database_url: str, kafka: str, start_simulator: Callable[..., Service]) -> None:
    sim = start_simulator("--scale", str(SCALE), "--seed", str(SEED), "--releases", "3", "--release", "1",
                          "--end-rate", "0.05")
    settings = settings_for(database_url, kafka, sim.url)
    env = cli_env(database_url, kafka, sim.url)
    names = [topics.changes_topic("vcdb", load_catalog("vcdb").tables[t].canonical) for t in TABLES]

    async def go() -> None:
        worker = _worker(env)
        try:
            baseline = await _produce(settings)
            first = await _release(database_url, baseline.run_id, relayed=True)
            assert first["publication"] == "in_place"
            await _sim_release(sim.url, 2)
            inc = await _produce(settings, kind="incremental", since=TIMELINE.date_of(1))
            await _release(database_url, inc.run_id, relayed=True)
            # The third release: the test holds the relay's lock, so the loader publishes and
            # cannot relay; it is killed there, between the publishing commit and the relay.
            lock = await asyncpg.connect(database_url)
            try:
                await lock.execute(RELAY_LOCK)
                await _sim_release(sim.url, 3)
                last = await _produce(settings, kind="incremental", since=TIMELINE.date_of(2))
                third = await _release(database_url, last.run_id, relayed=False)
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait(10)
                assert (await _release(database_url, last.run_id, relayed=False))["relayed_at"] is None
                said = run_vcdb(env, "status")
                assert said.returncode == exit_codes.OK, said.stderr
                assert f"release {third['release_id']:>4}: run {last.run_id} published" in said.stdout
                assert "changes not relayed yet" in said.stdout.split(f"run {last.run_id} published")[1].split("\n")[0]
            finally:
                await lock.close()
        finally:
            if worker.poll() is None:
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait(10)
        final = _worker(env, "--until-idle", "--stall", "60")
        _, err = final.communicate(timeout=240)
        assert final.returncode == 0, err.decode()[-2000:]
        assert (await _release(database_url, last.run_id, relayed=True))["relayed_at"] is not None

        messages = await _read_changes(kafka, names)
        outbox = await fetch(database_url, "SELECT change_id, op FROM ingest.changes WHERE db = 'vcdb' AND "
                                           "table_name = ANY($1::text[])", list(TABLES))
        sent = [(json.loads(m.value)["source"]["release"], json.loads(m.value)["source"]["change_id"])
                for m in messages]
        assert len(sent) == len(set(sent)), "a change was relayed twice"
        assert {c for _, c in sent} == {r["change_id"] for r in outbox}, "a change was not relayed"
        ops = {r["op"] for r in outbox}
        assert {"r", "d"} <= ops and ({"c", "u"} & ops), f"the releases did not exercise the feed: {ops}"
        assert {release for release, _ in sent} >= {first["release_id"], third["release_id"]}
        assert _rebuild(messages) == await _canonical(database_url)

        # The summary answers from the same outbox.
        summary = run_vcdb(env, "changes", "--release", str(third["release_id"]), "--json")
        assert summary.returncode == exit_codes.OK, summary.stderr
        said = {t["table"]: t for t in json.loads(summary.stdout)["tables"]}
        counted = await fetch(database_url, "SELECT table_name, op, count(*) AS n FROM ingest.changes WHERE "
                                            "run_id = $1 GROUP BY 1, 2", last.run_id)
        assert said and {(r["table_name"], {"c": "added", "u": "changed", "d": "ended"}[r["op"]], r["n"])
                         for r in counted} == {(t, k, said[t][k]) for t in said for k in ("added", "changed", "ended")
                                               if said[t][k]}

        # A rebuilt consumer asks for a release again: every change of it once more.
        again = run_vcdb(env, "changes", "--release", str(third["release_id"]), "--reemit", "--json")
        assert again.returncode == exit_codes.OK, again.stderr
        n_third = int((await fetch(database_url, "SELECT count(*) AS n FROM ingest.changes WHERE run_id = $1",
                                   last.run_id))[0]["n"])
        assert json.loads(again.stdout)["sent"] == n_third
        everything = await _read_changes(kafka, sorted(t for t in await _existing(kafka)
                                                        if t.startswith("autocare.vcdb.")
                                                        and t.endswith(topics.CHANGES_SUFFIX)))
        of_third = [json.loads(m.value)["source"]["change_id"] for m in everything
                    if json.loads(m.value)["source"]["release"] == third["release_id"]]
        assert len(of_third) == 2 * n_third and len(set(of_third)) == n_third

        # No such release: 2.  Another process relaying (the test holds the relay's lock): 3.
        unknown = run_vcdb(env, "changes", "--release", "999999")
        assert unknown.returncode == exit_codes.USAGE and "no release 999999" in unknown.stderr
        lock = await asyncpg.connect(database_url)
        try:
            await lock.execute(RELAY_LOCK)
            busy = run_vcdb(env, "changes", "--release", str(third["release_id"]), "--reemit")
        finally:
            await lock.close()
        assert busy.returncode == exit_codes.LOCKED and "relaying" in busy.stderr, busy.stderr

    asyncio.run(go())


async def _existing(kafka: str) -> set[str]:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka)
    await consumer.start()
    try:
        return set(await consumer.topics())
    finally:
        await consumer.stop()


class _Died(Exception):
    """The relay's process died here."""


class _Dies(Publisher):
    """The real producer, stopped after `chunks` acknowledged chunks: a relay that dies part-way."""

    def __init__(self, kafka: str, chunks: int) -> None:
        super().__init__(kafka)
        self.left = chunks

    async def publish(self, records: Sequence[OutRecord]) -> None:
        if self.left == 0:
            raise _Died()
        self.left -= 1
        await super().publish(records)


def test_a_relay_that_stops_part_way_is_finished_with_no_duplicate_and_no_gap(
        database_url: str, kafka: str, start_simulator: Callable[..., Service]) -> None:
    sim = start_simulator("--scale", str(SCALE), "--seed", str(SEED), "--releases", "3", "--release", "1")
    settings = settings_for(database_url, kafka, sim.url)
    env = cli_env(database_url, kafka, sim.url)

    async def go() -> None:
        run = await _produce(settings)
        # VCDB_CHANGE_RELAY=false: the loader publishes the baseline and leaves its changes in the outbox.
        done = _worker({**env, "VCDB_CHANGE_RELAY": "false"}, "--until-idle", "--stall", "60")
        _, err = done.communicate(timeout=240)
        assert done.returncode == 0, err.decode()[-2000:]
        release = await _release(database_url, run.run_id, relayed=False)
        assert release["relayed_at"] is None
        assert not [t for t in await _existing(kafka) if t.endswith(topics.CHANGES_SUFFIX)]
        total = int((await fetch(database_url, "SELECT count(*) AS n FROM ingest.changes WHERE run_id = $1",
                                 run.run_id))[0]["n"])
        pool = await connect_pool(database_url, size=2)
        try:
            dying = _Dies(kafka, chunks=2)
            async with dying:
                try:
                    await Relay(pool, kafka, dying, chunk=500).pending("vcdb")
                    raise AssertionError("the relay did not die")
                except _Died:
                    pass
            assert total > 1000, f"{total} changes: the relay cannot stop part-way"
            async with Publisher(kafka) as producer:
                finished = await Relay(pool, kafka, producer, chunk=500).pending("vcdb")
            assert [r.release_id for r in finished] == [release["release_id"]]
            assert finished[0].skipped > 0 and finished[0].sent + finished[0].skipped == total
            assert (await releases.unrelayed(pool, "vcdb")) == []
        finally:
            await pool.close()
        names = sorted(t for t in await _existing(kafka) if t.endswith(topics.CHANGES_SUFFIX))
        ids = [json.loads(m.value)["source"]["change_id"] for m in await _read_changes(kafka, names)]
        assert len(ids) == len(set(ids)) == total

    asyncio.run(go())
