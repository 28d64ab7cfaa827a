"""The loading worker against the real broker and PostgreSQL: FK gating, dead letters, guards."""

from __future__ import annotations

import asyncio
import json

from consumers.runner import consume
from consumers.worker import WorkerOptions
from producers.runner import ProduceOptions, produce
from producers.runs import RunStore
from producers.service import EndpointPlan, RunPlan, run_endpoints
from schemas.catalog import load_catalog
from streams.broker import Publisher, ensure_topics, read_topic
from tests.integration.pipeline import (
    RecordsSource,
    base_vehicle,
    consume_until_idle,
    fetch,
    lookups,
    publish,
    running_worker,
    vehicle,
)
from tests.support import settings_for


def test_batch_with_one_bad_row_loads_the_others(database_url: str, kafka: str) -> None:
    settings = settings_for(database_url, kafka)
    records = {**lookups(), "BaseVehicle": [base_vehicle(b) for b in range(1, 11)],
               "Vehicle": [vehicle(v, v % 10 + 1) for v in range(1, 200)]
               + [{**vehicle(500, 1), "RegionID": "not a number"}, vehicle(501, 999)]}

    async def go() -> None:
        run = await publish(settings, records)
        assert run.status == "succeeded"
        result = await consume_until_idle(settings, group=True)  # the consumer-group path
        assert result.dead_lettered == 2
        rows = await fetch(database_url, "SELECT vehicle_id FROM autocare_vcdb.vehicle ORDER BY 1")
        assert [r["vehicle_id"] for r in rows] == list(range(1, 200))
        dead = await fetch(database_url, "SELECT record_key, reason, missing_table, missing_key, sqlstate, attempts "
                                         "FROM ingest.dead_letters ORDER BY record_key")
        assert [(d["record_key"], d["reason"]) for d in dead] == [("[500]", "validation"), ("[501]", "missing_parent")]
        assert dead[1]["missing_table"] == "BaseVehicle" and dead[1]["missing_key"] == "[999]"
        assert dead[1]["sqlstate"] == "23503" and dead[1]["attempts"] == 1
        dlq = await read_topic(kafka, "autocare.vcdb.vehicle.dlq")
        assert sorted(r.key for r in dlq) == [b"[500]", b"[501]"]
        headers = dict(next(r for r in dlq if r.key == b"[501]").headers)
        assert headers["vcdb.error.reason"] == b"missing_parent"
        assert headers["vcdb.error.missing_table"] == b"BaseVehicle"
        assert headers["__connect.errors.topic"] == b"autocare.vcdb.vehicle"
        assert json.loads(next(r for r in dlq if r.key == b"[501]").value or b"")["BaseVehicleID"] == 999
        load = await fetch(database_url, "SELECT status, loaded, dead_lettered, announced FROM ingest.table_load "
                                         "WHERE table_name = 'Vehicle'")
        assert dict(load[0]) == {"status": "sealed", "loaded": 199, "dead_lettered": 2, "announced": 201}

    asyncio.run(go())


def test_child_consumed_before_its_parent_waits_and_is_not_dead_lettered(database_url: str, kafka: str) -> None:
    settings = settings_for(database_url, kafka)

    async def go() -> None:
        # The worker starts first and sees Vehicle records long before BaseVehicle is published.
        async with running_worker(settings):
            st = await RunStore.connect(database_url)
            run = await st.create_run("vcdb", "baseline", None, None, [*lookups(), "BaseVehicle", "Vehicle"])
            catalog = load_catalog("vcdb")
            records = {"Vehicle": [vehicle(v, v) for v in range(1, 51)]}
            await ensure_topics(kafka, [f"autocare.vcdb.{catalog.table(t).canonical}" for t in
                                        [*lookups(), "BaseVehicle", "Vehicle"]], 3)
            async with Publisher(kafka) as pub:
                plan = RunPlan(run.run_id, "vcdb", None, None, [EndpointPlan(catalog.table("Vehicle"))])
                await run_endpoints(plan, RecordsSource(records), pub, st, concurrency=1, stop=asyncio.Event())
                await asyncio.sleep(3)  # the worker has read Vehicle by now and must be waiting
                waiting = await fetch(database_url, "SELECT count(*) AS n FROM autocare_vcdb.vehicle")
                assert waiting[0]["n"] == 0
                parents = {**lookups(), "BaseVehicle": [base_vehicle(b) for b in range(1, 51)]}
                plan = RunPlan(run.run_id, "vcdb", None, None, [EndpointPlan(catalog.table(t)) for t in parents])
                await run_endpoints(plan, RecordsSource(parents), pub, st, concurrency=4, stop=asyncio.Event())
            await st.finish_run(run.run_id, "succeeded")
            await st.close()
            for _ in range(100):
                n = (await fetch(database_url, "SELECT count(*) AS n FROM autocare_vcdb.vehicle"))[0]["n"]
                if n == 50:
                    break
                await asyncio.sleep(0.2)
        assert n == 50
        dead = await fetch(database_url, "SELECT count(*) AS n FROM ingest.dead_letters")
        assert dead[0]["n"] == 0

    asyncio.run(go())


def test_older_record_never_overwrites_newer_and_ended_rows_stay(database_url: str, kafka: str) -> None:
    settings = settings_for(database_url, kafka)

    async def go() -> None:
        first = {**lookups(), "BaseVehicle": [base_vehicle(1), base_vehicle(2)],
                 "Vehicle": [vehicle(1, 1, "2026-02-28T00:00:00"), vehicle(2, 1, "2026-01-31T00:00:00",
                                                                         end="2026-02-28T00:00:00")]}
        await publish(settings, first)
        await consume_until_idle(settings)
        # A stale copy of vehicle 1 (older version, other base vehicle) and a live copy of ended vehicle 2.
        stale = {"Vehicle": [vehicle(1, 2, "2026-01-31T00:00:00"), vehicle(2, 1, "2026-01-31T00:00:00")]}
        await publish(settings, stale, kind="incremental")
        await consume_until_idle(settings)
        rows = await fetch(database_url, "SELECT vehicle_id, base_vehicle_id, end_date_time FROM "
                                         "autocare_vcdb.vehicle ORDER BY 1")
        assert rows[0]["base_vehicle_id"] == 1
        assert rows[1]["end_date_time"] is not None

    asyncio.run(go())


def test_constraint_violation_is_dead_lettered_with_sqlstate(database_url: str, kafka: str) -> None:
    settings = settings_for(database_url, kafka)

    async def go() -> None:
        await fetch(database_url, "ALTER TABLE autocare_vcdb.make ADD CONSTRAINT make_name_not_bad "
                                  "CHECK (make_name <> 'BAD')")
        makes = [{"MakeID": i, "MakeName": "BAD" if i == 7 else f"Make {i}"} for i in range(1, 21)]
        await publish(settings, {"Make": makes})
        await consume_until_idle(settings)
        loaded = await fetch(database_url, "SELECT count(*) AS n FROM autocare_vcdb.make")
        assert loaded[0]["n"] == 19
        dead = await fetch(database_url, "SELECT record_key, reason, sqlstate, constraint_name FROM "
                                         "ingest.dead_letters")
        assert [dict(d) for d in dead] == [{"record_key": "[7]", "reason": "constraint", "sqlstate": "23514",
                                            "constraint_name": "make_name_not_bad"}]

    asyncio.run(go())


def test_self_reference_to_a_later_row_loads_before_the_seal(database_url: str, kafka: str) -> None:
    settings = settings_for(database_url, kafka)
    when = "2026-01-31T00:00:00"
    # A chain: qualifier i is replaced by qualifier i+1, which comes in a later page and batch.
    records = {"QualifierType": [{"QualifierTypeID": 1, "QualifierType": "Fitment"}],
               "Qualifier": [{"QualifierID": i, "QualifierText": f"Q{i}", "QualifierTypeID": 1,
                              "NewQualifierID": i + 1 if i < 30 else None, "WhenModified": when}
                             for i in range(1, 31)],
               "GroupNumber": [{"GroupNumberID": 1, "GroupDescription": "G"}],
               "QualifierGroup": [{"QualifierGroupID": i, "GroupNumberID": 1, "QualifierID": i} for i in range(1, 31)]}

    async def go() -> None:
        opts = ProduceOptions(db="qdb", tables=tuple(records))
        run = await produce(settings, opts, RecordsSource(records, page_size=4), install_signals=False)
        assert run.status == "succeeded"
        result = await consume(settings, "qdb", WorkerOptions(until_idle=True, batch_size=3), install_signals=False,
                               assign=True)
        assert result.idle
        rows = await fetch(database_url, "SELECT count(*) AS q, (SELECT count(*) FROM autocare_qdb.qualifier_group) "
                                         "AS g FROM autocare_qdb.qualifier")
        assert dict(rows[0]) == {"q": 30, "g": 30}
        dead = await fetch(database_url, "SELECT count(*) FILTER (WHERE status = 'open') AS open FROM "
                                         "ingest.dead_letters")
        assert dead[0]["open"] == 0

    asyncio.run(go())
