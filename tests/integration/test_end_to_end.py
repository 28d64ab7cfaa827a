"""The whole pipeline against the simulator's oracle: simulator over HTTP -> producer -> broker ->
worker -> PostgreSQL, then every table compared row for row, every dead letter against the
simulator's anomalies, and the release history flowing in through incremental runs."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx

from consumers.diff import diff
from consumers.runner import consume
from consumers.store import LoadStore
from consumers.worker import WorkerOptions
from producers.runner import ProduceOptions, RunResult, produce
from producers.source import client_source
from schemas.settings import Settings
from simulator.dataset import Dataset, DatasetConfig
from simulator.oracle import anomalies, changes_between, expected_after_increments, expected_rows
from simulator.timeline import Timeline
from streams import envelope, topics
from streams.broker import read_topic
from tests.integration.pipeline import fetch, running_worker
from tests.support import TABLES, compare_with_oracle, key_json, settings_for
from vcdb.services import Service

SEED, SCALE, ANOMALIES = 21, 0.005, 0.01
def _dataset() -> Dataset:
    return Dataset(DatasetConfig(seed=SEED, scale=SCALE, anomalies=ANOMALIES, timeline=Timeline.monthly(3)))


def _sim_args(*extra: str) -> list[str]:
    return ["--scale", str(SCALE), "--seed", str(SEED), "--anomalies", str(ANOMALIES), *extra]


async def _baseline(settings: Settings, **kw: Any) -> RunResult:
    async with client_source(settings) as source:
        return await produce(settings, ProduceOptions(db="vcdb", **kw), source, install_signals=False)


def test_baseline_equals_the_oracle_and_dead_letters_are_the_anomalies(
        database_url: str, each_broker: str, start_simulator: Callable[..., Service]) -> None:
    kafka = each_broker
    sim = start_simulator(*_sim_args())
    settings = settings_for(database_url, kafka, sim.url)
    ds = _dataset()

    async def go() -> None:
        worker = asyncio.create_task(consume(settings, "vcdb", WorkerOptions(until_idle=True), install_signals=False))
        run = await _baseline(settings)
        assert run.status == "succeeded", run.error
        await asyncio.wait_for(worker, 180)
        await compare_with_oracle(database_url, lambda t: list(expected_rows(ds, "vcdb", t)))
        # The explorer's materialised view was refreshed when BaseVehicle sealed (migration 0007).
        counts = (await fetch(database_url, "SELECT (SELECT count(*) FROM autocare_vcdb.base_vehicle) AS loaded, "
                                            "(SELECT sum(base_vehicles) FROM autocare_fitment.explorer_year_make) "
                                            "AS explorer"))[0]
        assert counts["loaded"] > 0 and counts["explorer"] == counts["loaded"]
        expected = {(a.table, key_json(a.key), a.missing_table, key_json(a.missing_key)) for a in anomalies(ds, "vcdb")}
        assert expected, "the simulator made no anomalies: raise ANOMALIES"
        got = set()
        for table in TABLES:
            for rec in await read_topic(kafka, topics.dlq_topic(table)):
                h = dict(rec.headers)
                got.add((table.name, (rec.key or b"").decode(), h["vcdb.error.missing_table"].decode(),
                         h["vcdb.error.missing_key"].decode()))
        assert got == expected

    asyncio.run(go())


def test_releases_flow_in_through_incremental_runs(
        database_url: str, kafka: str, start_simulator: Callable[..., Service]) -> None:
    sim = start_simulator(*_sim_args("--release", "1"))
    settings = settings_for(database_url, kafka, sim.url)
    ds = _dataset()
    dates = [ds.timeline.date_of(r) for r in (1, 2, 3)]

    async def until_sealed(run_id: int) -> None:
        """Every table sealed, and the run published as a release (the worker publishes it)."""
        for _ in range(600):
            rows = await fetch(database_url, "SELECT count(*) FILTER (WHERE status = 'sealed') AS s, count(*) AS n, "
                                             "(SELECT status FROM ingest.releases WHERE run_id = $1) AS release "
                                             "FROM ingest.table_load WHERE run_id = $1", run_id)
            if rows[0]["s"] == len(TABLES) and rows[0]["release"] == "published":
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"run {run_id} not sealed and published: {dict(rows[0])}")

    async def go() -> None:
        async with running_worker(settings):
            first = await _baseline(settings)
            await until_sealed(first.run_id)
            late = [a for a in anomalies(ds, "vcdb", 1) if a.kind == "late_parent"]
            assert late, "no late-parent vehicle at this seed and scale"
            open_dead = await fetch(database_url, "SELECT record_key FROM ingest.dead_letters WHERE status = 'open'")
            late_keys = {key_json(a.key) for a in late}
            assert late_keys <= {r["record_key"] for r in open_dead}

            runs = [first]
            for release in (2, 3):
                async with httpx.AsyncClient(timeout=10) as http:
                    moved = await http.post(f"{sim.url}/_sim/release", json={"release": release})
                assert moved.status_code == 200
                since: dt.date = dates[release - 2]
                inc = await _baseline(settings, kind="incremental", since=since)
                assert inc.status == "succeeded", inc.error
                await until_sealed(inc.run_id)
                runs.append(inc)
                if release == 2:
                    # Exactly the records changed or ended by release 2 were published (the
                    # simulator's own view of SinceDate, anomalies included: they are records too).
                    for table in TABLES:
                        view, at = ds.view("vcdb", table.name, now=2, since=since)
                        rows = ds.rows("vcdb", table.name)
                        expected_keys = {key_json(rows.key(i, at)) for i in view}
                        published = [(r.key or b"").decode() for r in await read_topic(
                            kafka, topics.data_topic(table))
                            if dict(r.headers).get(envelope.H_RUN) == str(inc.run_id).encode()
                            and dict(r.headers).get(envelope.H_KIND) == envelope.KIND_DATA]
                        assert sorted(published) == sorted(expected_keys), table.name
                        changed = changes_between(ds, "vcdb", table.name, 1, 2)
                        oracle = {key_json(k) for k in changed.added + changed.removed + changed.changed}
                        assert oracle - late_keys <= expected_keys  # late-parent rows are not re-sent
            resolved = await fetch(database_url, "SELECT record_key FROM ingest.dead_letters WHERE status = 'resolved'")
            assert late_keys <= {r["record_key"] for r in resolved}
            await compare_with_oracle(database_url, lambda t: list(expected_after_increments(ds, "vcdb", t, 3)))

            store = await LoadStore.connect(database_url, "diff")
            try:
                result = {d.table: d for d in await diff(store.pool, "vcdb", runs[0].run_id, runs[2].run_id)}
            finally:
                await store.close()
            for table in TABLES:
                ch = changes_between(ds, "vcdb", table.name, 1, 3)
                d = result[table.name]
                assert (d.added, d.removed, d.changed) == (len(ch.added), len(ch.removed), len(ch.changed)), table.name

    asyncio.run(go())
