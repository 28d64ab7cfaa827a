"""The loader's checks of ACES applications against VCdb, PCdb and Qdb, in real PostgreSQL: the
cross-database FK checks, the invalid-combination rule (attributes of one system on one config
row; years ranges expanded; waived for validate="no"; no rule for an application that names no
attribute and no submodel), Qdb qualifier ids and parameter counts, and the FULL file that ends
its brand's applications when it seals."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from consumers.decode import decoder_for
from consumers.records import Incoming
from consumers.runner import consume
from consumers.sql import table_sql
from consumers.store import LoadStore
from consumers.submissions import replace_full
from consumers.worker import WorkerOptions
from producers.files.run import LoadOptions, load_files
from schemas import aces, naming
from schemas.catalog import Table, load_catalog
from streams.records import InRecord
from tests.integration.pipeline import fetch
from tests.support import settings_for
from vcdb import cli, exit_codes

VCDB = load_catalog("vcdb")
ACES = load_catalog("aces")
APP = ACES.tables["App"]
FILLER = {"INTEGER": 1, "BIGINT": 1, "TIMESTAMP": dt.datetime(2026, 1, 1), "DATE": dt.date(2026, 1, 1)}


async def _insert(conn: asyncpg.Connection, db: str, table: str, **values: Any) -> None:
    """A reference row with the given AutoCare-named values, NOT NULL columns filled."""
    t: Table = load_catalog(db).tables[table]
    row: dict[str, Any] = {"ingest_run_id": 0}
    for c in t.columns:
        if c.name in values:
            row[c.canonical] = values[c.name]
        elif not c.nullable:
            row[c.canonical] = FILLER.get(c.sql_type.split("(")[0], "x")
    cols = ", ".join(row)
    marks = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    await conn.execute(f"INSERT INTO {naming.schema_name(db)}.{t.canonical} ({cols}) VALUES ({marks})", *row.values())


async def _reference_data(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET session_replication_role = replica")  # parents of parents are not the point
        for y in (2014, 2015, 2016):
            await _insert(conn, "vcdb", "Year", YearID=y)
        await _insert(conn, "vcdb", "Make", MakeID=1)
        for m in (1, 2):
            await _insert(conn, "vcdb", "Model", ModelID=m, VehicleTypeID=1)
        await _insert(conn, "vcdb", "SubModel", SubmodelID=5)
        await _insert(conn, "vcdb", "Region", RegionID=1)
        await _insert(conn, "vcdb", "BaseVehicle", BaseVehicleID=1, YearID=2015, MakeID=1, ModelID=1)
        await _insert(conn, "vcdb", "BaseVehicle", BaseVehicleID=2, YearID=2016, MakeID=1, ModelID=1)
        await _insert(conn, "vcdb", "Vehicle", VehicleID=10, BaseVehicleID=1, SubmodelID=5, RegionID=1)
        for e in (7, 8):
            await _insert(conn, "vcdb", "EngineBase", EngineBaseID=e)
        for f in (3, 4):
            await _insert(conn, "vcdb", "FuelType", FuelTypeID=f)
        await _insert(conn, "vcdb", "EngineConfig2", EngineConfigID=100, EngineBaseID=7, FuelTypeID=3)
        await _insert(conn, "vcdb", "EngineConfig2", EngineConfigID=101, EngineBaseID=8, FuelTypeID=4)
        await _insert(conn, "vcdb", "VehicleToEngineConfig", VehicleToEngineConfigID=1, VehicleID=10,
                      EngineConfigID=100)
        await _insert(conn, "vcdb", "VehicleToEngineConfig", VehicleToEngineConfigID=2, VehicleID=10,
                      EngineConfigID=101)
        await _insert(conn, "pcdb", "Parts", PartTerminologyID=1896)
        await _insert(conn, "pcdb", "Positions", PositionID=30)
        await _insert(conn, "qdb", "Qualifier", QualifierID=1, QualifierText='with <p1 type="num"/> in Driveshaft')
        await _insert(conn, "qdb", "Qualifier", QualifierID=2, QualifierText="Greaseable")
    finally:
        await conn.close()


def _app(ref: str, part: str = "R1", **fields: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"AppID": 1, "Action": "A", "Ref": ref, "Validate": "yes", "BrandAAIAID": "BKZT",
                           "PartNumber": part, "PartTypeID": 1896, "PositionID": 30, "Qty": 1,
                           "EffectiveDateTime": "2026-02-01T00:00:00", "EndDateTime": None, **fields}
    quals = rec.get("Qualifiers") or []
    rec["AppKey"], rec["FitmentKey"] = aces.app_key(rec), aces.fitment_key(rec)
    rec["Qualifiers"] = json.dumps(quals) if quals else None
    return rec


def _incoming(recs: list[dict[str, Any]], run_id: int) -> list[Incoming]:
    out = []
    for i, rec in enumerate(recs):
        raw = json.dumps(rec).encode()
        row = decoder_for(APP).decode(raw)
        assert isinstance(row, tuple), row
        out.append(Incoming(InRecord("autocare.aces.app", 0, i, rec["AppKey"].encode(), raw, ()), run_id, 0, i,
                            row, None))
    return out


async def _load(url: str, recs: list[dict[str, Any]], run_id: int = 1) -> dict[str, tuple[str, str | None]]:
    """Load the records in one batch; per Ref: 'loaded' or (reason, missing table)."""
    store = await LoadStore.connect(url, "test")
    try:
        async with store.replay(table_sql(ACES, APP), run_id) as tx:
            result = await tx.load(_incoming(recs, run_id))
    finally:
        await store.close()
    by_key = {r["AppKey"]: r["Ref"] for r in recs}
    out: dict[str, tuple[str, str | None]] = {r["Ref"]: ("loaded", None) for r in recs}
    for inc, failure in result.dead:
        out[by_key[(inc.source.key or b"").decode()]] = (failure.reason, failure.missing_table)
    return out


def test_applications_are_checked_against_vcdb_pcdb_and_qdb(database_url: str) -> None:
    asyncio.run(_reference_data(database_url))
    recs = [
        _app("bv", BaseVehicleID=1),
        _app("submodel", BaseVehicleID=1, SubModelID=5, RegionID=1),
        _app("one-engine", BaseVehicleID=1, EngineBaseID=7, FuelTypeID=3),
        _app("two-engines", BaseVehicleID=1, EngineBaseID=7, FuelTypeID=4),
        _app("two-engines-no", "R2", BaseVehicleID=1, EngineBaseID=7, FuelTypeID=4, Validate="no"),
        _app("unknown-bv", BaseVehicleID=999),
        _app("unknown-engine", BaseVehicleID=1, EngineBaseID=999),
        _app("unknown-part-type", BaseVehicleID=1, PartTypeID=999),
        _app("unknown-position", BaseVehicleID=1, PositionID=999),
        _app("unknown-qual", BaseVehicleID=1, Qualifiers=[{"id": 999, "params": [], "text": "?"}]),
        _app("qual-params", BaseVehicleID=1, Qualifiers=[{"id": 1, "params": [], "text": "with in"}]),
        _app("qual-ok", "R3", BaseVehicleID=1, Qualifiers=[{"id": 1, "params": [{"value": "1.75", "uom": "in"}],
                                                             "text": "with 1.75 in"}, {"id": 2, "text": "G"}]),
        _app("years", "R4", YearFrom=2014, YearTo=2016, MakeID=1, ModelID=1, EngineBaseID=7),
        _app("years-no-vehicle", "R5", YearFrom=2014, YearTo=2016, MakeID=1, ModelID=2),
        _app("years-wrong-engine", "R6", YearFrom=2016, YearTo=2016, MakeID=1, ModelID=1, EngineBaseID=7),
        # BaseVehicle 2 has no Vehicle yet: what names nothing fits none yet and loads; a submodel or an
        # attribute is a combination no vehicle has.
        _app("bv-no-vehicle", BaseVehicleID=2),
        _app("years-bv-no-vehicle", "R7", YearFrom=2016, YearTo=2016, MakeID=1, ModelID=1),
        _app("bv-no-vehicle-submodel", BaseVehicleID=2, SubModelID=5),
        _app("bv-no-vehicle-region", BaseVehicleID=2, RegionID=1),
    ]
    verdicts = asyncio.run(_load(database_url, recs))
    assert verdicts == {
        "bv": ("loaded", None), "submodel": ("loaded", None), "one-engine": ("loaded", None),
        "two-engines": ("invalid_combination", "vcdb.Vehicle"), "two-engines-no": ("loaded", None),
        "unknown-bv": ("missing_parent", "vcdb.BaseVehicle"), "unknown-engine": ("missing_parent", "vcdb.EngineBase"),
        "unknown-part-type": ("missing_parent", "pcdb.Parts"), "unknown-position": ("missing_parent", "pcdb.Positions"),
        "unknown-qual": ("missing_parent", "qdb.Qualifier"), "qual-params": ("qualifier_param_count", "qdb.Qualifier"),
        "qual-ok": ("loaded", None), "years": ("loaded", None),
        # Model 2 has no BaseVehicle in 2014-2016: a range that names nothing else fits no vehicle yet.
        "years-no-vehicle": ("loaded", None),
        # BaseVehicle 2 (2016) has no Vehicle at all: nothing there has engine 7.
        "years-wrong-engine": ("invalid_combination", "vcdb.Vehicle"),
        "bv-no-vehicle": ("loaded", None), "years-bv-no-vehicle": ("loaded", None),
        "bv-no-vehicle-submodel": ("invalid_combination", "vcdb.Vehicle"),
        "bv-no-vehicle-region": ("invalid_combination", "vcdb.Vehicle"),
    }
    rows = asyncio.run(fetch(database_url, "SELECT ref FROM autocare_aces.app ORDER BY ref"))
    assert [r["ref"] for r in rows] == sorted(k for k, v in verdicts.items() if v[0] == "loaded")


def test_a_sealed_full_file_ends_its_brands_applications_it_did_not_deliver(database_url: str) -> None:
    asyncio.run(_reference_data(database_url))

    async def go() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            for run in (1, 2):
                await conn.execute("INSERT INTO ingest.runs (run_id, db, kind, status) VALUES ($1, 'aces', 'file', "
                                   "'succeeded')", run)
        finally:
            await conn.close()
        first = [_app("kept", BaseVehicleID=1), _app("dropped", "R9", BaseVehicleID=1),
                 _app("other-brand", BaseVehicleID=1, BrandAAIAID="CDFG")]
        assert set((await _load(database_url, first, run_id=1)).values()) == {("loaded", None)}
        second = [{**_app("kept", BaseVehicleID=1), "EffectiveDateTime": "2026-03-01T00:00:00"}]
        assert (await _load(database_url, second, run_id=2)) == {"kept": ("loaded", None)}
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(
                "INSERT INTO autocare_aces.aces_file (file_id, file_name, version, submission_type, brand_aaia_id, "
                "app_count, asset_count, ingest_run_id) VALUES ('f2', 'full.xml', '4.2', 'FULL', 'BKZT', 1, 0, 2)")
            await conn.execute("INSERT INTO ingest.table_load (run_id, table_name, partitions, status) VALUES "
                               "(2, 'App', 1, 'sealed')")
            async with conn.transaction():
                assert await replace_full(conn, 2) == 0  # the header is not sealed yet: nothing ends
            await conn.execute("INSERT INTO ingest.table_load (run_id, table_name, partitions, status) VALUES "
                               "(2, 'AcesFile', 1, 'sealed')")
            async with conn.transaction():
                assert await replace_full(conn, 2) == 1
            async with conn.transaction():
                assert await replace_full(conn, 2) == 0  # idempotent
            rows = await conn.fetch("SELECT ref, end_date_time IS NOT NULL AS ended FROM autocare_aces.app ORDER BY 1")
        finally:
            await conn.close()
        assert [(r["ref"], r["ended"]) for r in rows] == [("dropped", True), ("kept", False), ("other-brand", False)]

    asyncio.run(go())



# BaseVehicle 2 (2016 Make 1 Model 1) has no Vehicle; EngineBase 9 exists and no vehicle has it.
NAMING_FILE = """<?xml version="1.0" encoding="UTF-8"?>
<ACES version="4.2"><Header><Company>T</Company><BrandAAIAID>BKZT</BrandAAIAID><SubmissionType>FULL</SubmissionType>
<VcdbVersionDate>2026-01-01</VcdbVersionDate><QdbVersionDate>2026-01-01</QdbVersionDate>
<PcdbVersionDate>2026-01-01</PcdbVersionDate></Header>
<App action="A" id="1" ref="ymm-no-vehicle"><Years from="2016" to="2016"/><Make id="1"/><Model id="1"/>
<Qty>1</Qty><PartType id="1896"/><Position id="30"/><Part>N-1</Part></App>
<App action="A" id="2" ref="attribute-no-vehicle-has"><BaseVehicle id="1"/><EngineBase id="9"/>
<Qty>1</Qty><PartType id="1896"/><Position id="30"/><Part>N-2</Part></App>
<App action="A" id="3" ref="fits"><BaseVehicle id="1"/><EngineBase id="8"/>
<Qty>1</Qty><PartType id="1896"/><Position id="30"/><Part>N-3</Part></App>
<Footer><RecordCount>3</RecordCount></Footer></ACES>
"""


def test_an_application_naming_nothing_loads_and_the_report_counts_it_as_fitting_no_vehicle_yet(
        database_url: str, kafka: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`vcdb aces load` of a file against a VCdb where the Years/Make/Model application's base
    vehicle has no vehicle yet: it loads (naming nothing, it is no combination) and `vcdb aces
    report` counts it under "fits no vehicle yet"; the application naming an engine no vehicle has
    is still an invalid combination; the one that fits is neither."""
    asyncio.run(_reference_data(database_url))

    async def engine_9() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await _insert(conn, "vcdb", "EngineBase", EngineBaseID=9)
        finally:
            await conn.close()

    asyncio.run(engine_9())
    path = tmp_path / "full.xml"
    path.write_text(NAMING_FILE, encoding="utf-8")
    settings = settings_for(database_url, kafka)

    async def load() -> None:
        result = await load_files(settings, LoadOptions(db="aces", files=(str(path),)), install_signals=False)
        assert result.status == "succeeded", result.to_json()
        await asyncio.wait_for(consume(settings, "aces", WorkerOptions(until_idle=True, stall_s=60),
                                       install_signals=False, assign=True), timeout=240)

    asyncio.run(load())
    apps = asyncio.run(fetch(database_url, "SELECT ref FROM autocare_aces.app WHERE end_date_time IS NULL"))
    assert sorted(a["ref"] for a in apps) == ["fits", "ymm-no-vehicle"]
    dead = asyncio.run(fetch(database_url, "SELECT record->>'Ref' AS ref, reason, missing_table "
                                           "FROM ingest.dead_letters WHERE db = 'aces' AND status = 'open'"))
    assert [(d["ref"], d["reason"], d["missing_table"]) for d in dead] == [
        ("attribute-no-vehicle-has", "invalid_combination", "vcdb.Vehicle")]

    monkeypatch.setenv("DATABASE_URL", database_url)
    assert cli.main(["aces", "report", "--json"]) == exit_codes.OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["fits_no_vehicle_yet"] == {"applications": 1, "naming_nothing": 1, "validate_no": 0, "equipment": 0,
                                          "other": 0, "vcdb_release_ended": 0}
    assert cli.main(["aces", "report"]) == exit_codes.OK
    assert "\n  fits no vehicle yet (live applications no VCdb vehicle fits): 1 (1 naming no attribute or submodel, " \
           in capsys.readouterr().out
