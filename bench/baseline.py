"""The phases against the simulator: the producer alone and its API-bound ceiling (a bare download
of the same pages), a whole baseline on each broker (Apache Kafka, Tansu), and dlt doing the same job.

Each measurement gets a simulator of its own, started with the same arguments (same seed, same
scale, same data), so none of them inherits another's warmed-up views, and a broker of its own,
stopped by its PID when the phase ends, failed or not.  Our processes are `vcdb` commands started as
processes; CPU is each process tree's own (wait4), the simulator's and the broker's (Apache Kafka:
the JVM) are read from psutil over the span measured, and PostgreSQL's is its whole server's
(the postmaster and every backend, exited ones included: `procs.server_cpu_s`) over the same span,
so it counts whatever else that server did meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bench import ceiling, dlt_env
from bench.procs import Exited, ProcessFailed, Tracked, check, cpu_s, server_cpu_s
from bench.stack import Bench, consume_argv, consume_has_workers, env_for, fresh_db, settings_for, start_broker, vcdb
from ledger import pools, releases, runs
from producers.api.client import ClientConfig
from producers.service import select_tables
from schemas.catalog import load_catalog
from schemas.settings import Settings
from vcdb import services

CONCURRENCY = 4  # the producer's default: endpoints paged at once


def _pid(svc: services.Service | None) -> int | None:
    return svc.process.pid if svc is not None and svc.process is not None else None


def _since(now: float | None, then: float | None) -> float | None:
    return None if now is None or then is None else now - then


def _total(cpu: dict[str, float | None]) -> float:
    return sum(v for v in cpu.values() if v is not None)


def first_urls(settings: Settings) -> list[str]:
    """The first page of every endpoint of our baseline, as the producer asks for it."""
    config = ClientConfig.from_settings(settings)
    return [config.page_request("vcdb", t.api_table).url_for_page(1)
            for t in select_tables(load_catalog("vcdb"), None, ()) if t.api_table]


async def _run(bench: Bench, proc: Tracked) -> Exited:
    try:
        return check(await asyncio.to_thread(proc.wait, time.monotonic() + bench.timeout_s))
    finally:
        proc.stop()


async def producer_phase(bench: Bench, scale: float, broker: str = "tansu") -> dict[str, Any]:
    """`vcdb baseline` alone: simulator -> producer -> broker, nobody consuming."""
    sim = services.start_simulator(bench.workdir, *bench.simulator_args(scale))
    kafka = None
    try:
        kafka = await start_broker(broker, bench.workdir)
        settings = settings_for(await fresh_db(bench.admin_url, "vcdb_bench_producer"), kafka, sim)
        sim0, broker0, pg0 = cpu_s(_pid(sim)), cpu_s(_pid(kafka)), server_cpu_s(bench.postgres_pid)
        done = await _run(bench, Tracked("producer", vcdb("baseline", "--json"), env=env_for(settings),
                                         workdir=bench.workdir))
        run = done.json()
        return {"broker": broker, "records": run["records"], "pages": run["pages"], "seconds": run["seconds"],
                "records_per_s": run["records"] / run["seconds"], "process_wall_s": done.wall_s,
                "cpu_s": {"producer": done.cpu_s, "simulator": cpu_s(_pid(sim)) - sim0,
                          "broker": cpu_s(_pid(kafka)) - broker0,
                          "postgres": _since(server_cpu_s(bench.postgres_pid), pg0)}}
    finally:
        if kafka is not None:
            kafka.stop()
        sim.stop()


async def ceiling_phase(bench: Bench, scale: float) -> dict[str, Any]:
    """A bare httpx client on the same pages: what the API and HTTP allow at this concurrency."""
    sim = services.start_simulator(bench.workdir, *bench.simulator_args(scale))
    try:
        settings = settings_for(bench.admin_url, sim=sim)
        sim0 = cpu_s(_pid(sim))
        got = await ceiling.download(settings.autocare_token_url, ceiling.password_grant(settings),
                                     first_urls(settings), concurrency=CONCURRENCY, timeout_s=bench.timeout_s)
        return {"records": got.records, "pages": got.pages, "bytes": got.bytes, "seconds": got.seconds,
                "records_per_s": got.records_per_s,
                "cpu_s": {"client": got.cpu_s, "simulator": cpu_s(_pid(sim)) - sim0}}
    finally:
        sim.stop()


async def _runs(url: str) -> int:
    conn = await pools.connect_session(url)
    try:
        return await runs.count(conn)
    finally:
        await conn.close()


async def _wait_for_run(url: str, producer: Tracked, deadline: float, before: int = 0) -> None:
    """Until the producer's run is in ingest.runs (with its endpoints: one transaction).  A worker
    started before it would find nothing open and be idle at once."""
    conn = await pools.connect_session(url)
    try:
        while await runs.count(conn) <= before:
            if producer.poll() is not None or time.monotonic() > deadline:
                raise ProcessFailed(f"the producer made no run (exit {producer.code}); log: {producer.log}")
            await asyncio.sleep(0.02)
    finally:
        await conn.close()


async def baseline_phase(bench: Bench, scale: float, broker: str = "tansu") -> dict[str, Any]:
    """simulator -> `vcdb baseline` -> broker -> `vcdb consume` -> PostgreSQL, two processes at once,
    on `broker` ("apache-kafka" or "tansu"); wall time from the producer's start until both have
    exited."""
    sim = services.start_simulator(bench.workdir, *bench.simulator_args(scale))
    kafka = None
    try:
        kafka = await start_broker(broker, bench.workdir)
        url = await fresh_db(bench.admin_url, "vcdb_bench_baseline")
        return {"scale": scale, "broker": broker,
                **await _baseline_run(bench, url, settings_for(url, kafka, sim), sim, kafka)}
    finally:
        if kafka is not None:
            kafka.stop()
        sim.stop()


async def releases_phase(bench: Bench, scale: float) -> dict[str, Any]:
    """What staged publication costs (issue 19): a first baseline into an empty database (loaded in
    place), then the same baseline over that release twice, staged and published, and `--in-place`,
    from one simulator and broker, one after the other."""
    sim = services.start_simulator(bench.workdir, *bench.simulator_args(scale))
    kafka = None
    try:
        kafka = services.start_tansu(bench.workdir)
        url = await fresh_db(bench.admin_url, "vcdb_bench_releases")
        settings = settings_for(url, kafka, sim)
        first = await _baseline_run(bench, url, settings, sim, kafka)
        staged = await _baseline_run(bench, url, settings, sim, kafka)
        in_place = await _baseline_run(bench, url, settings, sim, kafka, "--in-place")
        conn = await pools.connect_session(url)
        try:
            rows = await releases.releases(conn, "vcdb")
        finally:
            await conn.close()
        assert [r.publication for r in rows] == ["in_place", "staged", "in_place"], rows
        return {"scale": scale, "records": first["records"], "first_wall_s": first["wall_s"],
                "staged_wall_s": staged["wall_s"], "in_place_wall_s": in_place["wall_s"],
                "publish_s": rows[1].seconds, "staged_per_in_place": staged["wall_s"] / in_place["wall_s"],
                "cpu_s": {"first": first["cpu_s"], "staged": staged["cpu_s"], "in_place": in_place["cpu_s"]}}
    finally:
        if kafka is not None:
            kafka.stop()
        sim.stop()


async def _baseline_run(bench: Bench, url: str, settings: Settings, sim: services.Service,
                        kafka: services.Service, *args: str) -> dict[str, Any]:
    producer = consumer = None
    try:
        consume_argv(bench.workers)  # asks `consume --help` now, outside the timed span
        before = await _runs(url)
        sim0, broker0, pg0 = cpu_s(_pid(sim)), cpu_s(_pid(kafka)), server_cpu_s(bench.postgres_pid)
        deadline = time.monotonic() + bench.timeout_s
        producer = Tracked("baseline-producer", vcdb("baseline", "--json", *args), env=env_for(settings),
                           workdir=bench.workdir)
        await _wait_for_run(url, producer, deadline, before)
        consumer = Tracked("baseline-consumer", consume_argv(bench.workers, "--stall", "600"),
                           env=env_for(settings), workdir=bench.workdir)
        p, c = await asyncio.gather(asyncio.to_thread(producer.wait, deadline),
                                    asyncio.to_thread(consumer.wait, deadline))
        wall = max(producer.t_exit or 0.0, consumer.t_exit or 0.0) - producer.t0
        sim_cpu, broker_cpu = cpu_s(_pid(sim)) - sim0, cpu_s(_pid(kafka)) - broker0
        pg_cpu = _since(server_cpu_s(bench.postgres_pid), pg0)
        check(p)
        check(c)
        run, out = p.json(), c.json()
        loaded, read = out.get("loaded") or 0, out.get("read")
        cpu = {"producer": p.cpu_s, "consumer": c.cpu_s, "simulator": sim_cpu, "broker": broker_cpu,
               "postgres": pg_cpu}
        return {"records": run["records"], "pages": run["pages"], "loaded": loaded,
                "dead_lettered": out.get("dead_lettered"), "read": read,
                "read_per_loaded": read / loaded if read is not None and loaded else None,
                "wall_s": wall, "records_per_s": run["records"] / wall, "producer_s": run["seconds"],
                "consumer_started_after_s": consumer.t0 - producer.t0,
                "producer_exited_after_s": (producer.t_exit or 0.0) - producer.t0,
                "consumer_exited_after_s": (consumer.t_exit or 0.0) - producer.t0,
                "workers": bench.workers if consume_has_workers() else None, "processes": len(c.peak_rss),
                "worker_peak_rss_mb": c.worker_rss / 1e6, "ru_maxrss_mb": c.ru_maxrss / 1e6,
                # the consumer's whole process tree (parent and workers) per record it loaded
                "consumer_cpu_us_per_record": c.cpu_s / loaded * 1e6 if loaded else None,
                "cpu_s": {**cpu, "total": _total(cpu)}}
    finally:
        for proc in (producer, consumer):
            if proc is not None:
                proc.stop()


async def dlt_phase(bench: Bench, scale: float) -> dict[str, Any]:
    """dlt from the same simulator into a fresh database of the same server (venv made first,
    outside the time)."""
    python = await asyncio.to_thread(dlt_env.ensure_venv, bench.workdir)
    sim = services.start_simulator(bench.workdir, *bench.simulator_args(scale))
    try:
        url = await fresh_db(bench.admin_url, "vcdb_bench_dlt", migrate=False)
        job = dlt_env.job(settings_for(url, sim=sim), url, bench.workdir)
        sim0, pg0 = cpu_s(_pid(sim)), server_cpu_s(bench.postgres_pid)
        done = await _run(bench, Tracked("dlt", [str(python), str(dlt_env.SCRIPT)], env=dlt_env.env(CONCURRENCY),
                                         workdir=bench.workdir, cwd=bench.workdir,
                                         stdin=json.dumps(job).encode()))
        out = done.json()
        cpu = {"dlt": done.cpu_s, "simulator": cpu_s(_pid(sim)) - sim0,
               "postgres": _since(server_cpu_s(bench.postgres_pid), pg0)}
        return {"scale": scale, "rows": out["rows"], "tables": out["tables"], "wall_s": done.wall_s,
                "records_per_s": out["rows"] / done.wall_s, "steps_s": {k: out[k] for k in
                                                                        ("extract_s", "normalize_s", "load_s")},
                "dlt_version": out.get("dlt_version"), "peak_rss_mb": max(done.peak_rss.values(), default=0) / 1e6,
                "cpu_s": {**cpu, "total": _total(cpu)}}
    finally:
        sim.stop()
