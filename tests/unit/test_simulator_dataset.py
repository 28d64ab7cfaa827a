"""The simulated data: deterministic by seed, referentially sound, realistically sized and shaped."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

import pytest

from schemas import api_map
from schemas.catalog import REFERENCE_DATABASES as DATABASES
from schemas.catalog import Table
from simulator import oracle, sizing
from simulator.config import DatasetConfig
from simulator.dataset import Dataset
from simulator.timeline import Timeline

STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


@functools.cache
def churned(anomalies: float = 0.03, seed: int = 7) -> Dataset:
    """A small dataset with a lot happening: many anomalies, large releases."""
    return Dataset(DatasetConfig(seed=seed, scale=0.01, anomalies=anomalies, growth=0.05, modify_rate=0.05,
                                 end_rate=0.05, timeline=Timeline.monthly(3)))


def all_tables(ds: Dataset) -> list[tuple[str, Table]]:
    return [(db, t) for db in DATABASES for t in ds.api_tables(db)]


def keys_at(ds: Dataset, db: str, table: str, release: int) -> set[Any]:
    """The single-column key values of the rows in force at `release`."""
    rows = ds.rows(db, table)
    return {rows.key(i, release)[0] for i in rows.as_of_view(release)}


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = Dataset(DatasetConfig(seed=1, scale=0.01))
    b = Dataset(DatasetConfig(seed=1, scale=0.01))
    c = Dataset(DatasetConfig(seed=2, scale=0.01))
    for db, name in [("vcdb", "Vehicle"), ("vcdb", "Make"), ("pcdb", "PIESCode"), ("qdb", "Qualifier")]:
        n = a.rows(db, name).count(3)
        sample = [0, 1, n // 2, n - 1]
        assert [a.record(db, name, i, 3) for i in sample] == [b.record(db, name, i, 3) for i in sample]
        assert [a.record(db, name, i, 3) for i in sample] != [c.record(db, name, i, 3) for i in sample]


def test_every_api_table_of_every_database_is_served() -> None:
    ds = churned()
    for db in DATABASES:
        names = {t.name for t in ds.api_tables(db)}
        assert names == set(api_map.API_TABLES[db])
        for name in names:
            assert ds.rows(db, name).count(1) >= sizing.FLOOR


def test_records_use_api_field_names_and_metadata() -> None:
    ds = churned()
    for db, table in all_tables(ds):
        rows = ds.rows(db, table.name)
        expected = {c.api_field for c in table.columns if c.in_api and not c.meta}
        expected |= {api_map.EFFECTIVE_FIELD, api_map.END_FIELD}
        if table.name in api_map.CULTURE_TABLES.get(db, frozenset()):
            expected.add(api_map.CULTURE_FIELD)
        record = ds.record(db, table.name, rows.count(1) - 1, 1)
        assert set(record) == expected, table.name
        assert STAMP.match(record[api_map.EFFECTIVE_FIELD])
    assert "SubModelID" in ds.record("vcdb", "Vehicle", 0, 1)
    assert "CodeValueID" in ds.record("pcdb", "PIESCode", 0, 1)


def test_values_fit_their_columns() -> None:
    ds = churned()
    nulls: dict[str, int] = {}
    for db, table in all_tables(ds):
        rows = ds.rows(db, table.name)
        columns = [c for c in table.columns if c.in_api and not c.meta]
        for i in range(0, rows.count(3), max(1, rows.count(3) // 200)):
            record = ds.record(db, table.name, i, 3)
            for c in columns:
                value: Any = record[c.api_field]
                if value is None:
                    assert c.nullable, f"{table.name}.{c.name} is NOT NULL"
                    nulls[c.name] = nulls.get(c.name, 0) + 1
                    continue
                if c.python_type == "int":
                    assert isinstance(value, int) and -(2**31) <= value < 2**31, (table.name, c.name, value)
                    continue
                assert isinstance(value, str), (table.name, c.name, value)  # dates too, as ISO text
                if c.max_length is not None:
                    assert len(value) <= c.max_length, (table.name, c.name, value)
    assert nulls, "nullable columns are sometimes null"


def test_numbers_are_strings_where_the_ddl_says_varchar() -> None:
    ds = churned()
    engine = ds.record("vcdb", "EngineBase", 0, 1)
    assert re.fullmatch(r"\d+\.\d", engine["Liter"])
    assert engine["CC"].isdigit() and engine["Cylinders"].isdigit()
    assert abs(int(engine["CC"]) - float(engine["Liter"]) * 1000) < 100  # one engine, one displacement
    assert ds.record("vcdb", "PowerOutput", 0, 1)["HorsePower"].isdigit()
    years = [ds.record("vcdb", "Year", i, 1)["YearID"] for i in range(ds.rows("vcdb", "Year").count(1))]
    assert years == sorted(years) and years[-1] == 2026


def test_ids_are_sparse_and_increase_with_the_index() -> None:
    ds = churned()
    rows = ds.rows("vcdb", "BaseVehicle")
    ids = [rows.id_of(i) for i in range(rows.count(3))]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert ids[-1] - ids[0] > len(ids)  # gaps


def test_keys_are_unique_including_composite_keys() -> None:
    ds = churned()
    for db, table in all_tables(ds):
        rows = ds.rows(db, table.name)
        keys = [rows.key(i) for i in range(rows.count(3))]
        assert len(set(keys)) == len(keys), f"{db}.{table.name} repeats a key"


def test_pages_come_in_key_order() -> None:
    ds = churned()
    for name in ("Vehicle", "VehicleToEngineConfig", "Make"):
        rows = ds.rows("vcdb", name)
        keys = [rows.key(i) for i in rows.as_of_view(3)]
        assert keys == sorted(keys)


@pytest.mark.parametrize("release", [1, 2, 3])
def test_every_reference_points_at_a_row_in_force_unless_listed_as_an_anomaly(release: int) -> None:
    ds = churned()
    listed = {(a.db, a.table, a.key, a.column) for db in DATABASES for a in oracle.anomalies(ds, db, release)}
    parents: dict[tuple[str, str], set[Any]] = {}
    checked = 0
    for db, table in all_tables(ds):
        rows = ds.rows(db, table.name)
        for fk in table.foreign_keys:
            (column,) = fk.columns
            ref = (fk.ref_db, fk.ref_table)
            if ref not in parents:
                parents[ref] = keys_at(ds, *ref, release)
            names = [c.name for c in rows.api_columns]
            if column not in names:
                continue  # a column the API does not send (Region.ParentID, reference [1.8])
            position = names.index(column)
            for i in rows.as_of_view(release):
                values, _, _ = rows.values(i, release)
                value = values[position]
                if value is None or value in parents[ref]:
                    checked += 1
                    continue
                assert (db, table.name, rows.key(i, release), column) in listed, (db, table.name, column, value)
    assert checked > 10_000


def test_anomalies_are_the_documented_ones() -> None:
    ds = churned()
    found = oracle.anomalies(ds, "vcdb", 1)
    kinds = {(a.table, a.column, a.missing_table, a.kind) for a in found}
    assert kinds == {
        ("Vehicle", "BaseVehicleID", "BaseVehicle", "missing_parent"),
        ("Vehicle", "BaseVehicleID", "BaseVehicle", "late_parent"),
        ("VehicleToEngineConfig", "EngineConfigID", "EngineConfig2", "missing_parent"),
    }
    late = [a for a in found if a.kind == "late_parent"]
    assert all(a.parent_release == 2 for a in late)
    release2 = {a.key for a in oracle.anomalies(ds, "vcdb", 2)}
    assert not {a.key for a in late} & release2, "a late parent exists from release 2 on"
    for other in ("pcdb", "padb", "qdb"):
        assert oracle.anomalies(ds, other, 1) == []


def test_anomalies_do_not_cascade_to_children() -> None:
    ds = churned()
    broken = {a.key[0] for a in oracle.anomalies(ds, "vcdb", 1) if a.table == "Vehicle"}
    for name in ("VehicleToEngineConfig", "VehicleToDriveType", "VehicleToBrakeConfig"):
        rows = ds.rows("vcdb", name)
        vehicle = [c.name for c in rows.api_columns].index("VehicleID")
        assert not {rows.values(i, 3)[0][vehicle] for i in range(rows.count(3))} & broken


def test_the_anomaly_rate_is_roughly_the_configured_share() -> None:
    ds = churned(anomalies=0.01)
    rows = ds.rows("vcdb", "VehicleToEngineConfig")
    n = rows.count(1)
    missing = sum(1 for i in range(n) if rows.anomaly_kind(i) == "missing_parent")
    assert 0.3 * 0.01 * n <= missing <= 2.5 * 0.01 * n


def test_no_anomalies_when_switched_off() -> None:
    ds = churned(anomalies=0.0)
    for db in DATABASES:
        for release in (1, 2, 3):
            assert oracle.anomalies(ds, db, release) == []


def test_row_counts_at_full_scale_match_a_light_duty_release() -> None:
    ds = Dataset(DatasetConfig(scale=1.0))
    count = {t.name: ds.rows("vcdb", t.name).count(1) for t in ds.api_tables("vcdb")}
    assert 400 <= count["Make"] <= 460
    assert 17_000 <= count["Model"] <= 19_000
    assert 80_000 <= count["BaseVehicle"] <= 82_000
    assert 180_000 <= count["Vehicle"] <= 183_000
    assert 284_000 <= count["VehicleToEngineConfig"] <= 286_000
    assert 16_000 <= count["EngineConfig2"] <= 18_000 and 16_000 <= count["EngineConfig"] <= 18_000
    assert 2_000 <= count["EngineBase"] <= 2_200
    for name, n in count.items():
        if name.startswith("VehicleTo") and name != "VehicleToEngineConfig":
            assert 100_000 <= n < 1_000_000, name
    assert 2_000_000 <= sum(count.values()) <= 3_000_000
    assert count["Year"] == 131 and ds.record("vcdb", "Year", 0, 1)["YearID"] == 1896


def test_tiny_scales_keep_a_floor() -> None:
    ds = Dataset(DatasetConfig(scale=0.0001))
    for db, table in all_tables(ds):
        assert ds.rows(db, table.name).count(1) >= sizing.FLOOR


def test_a_table_is_built_only_when_asked_for() -> None:
    ds = Dataset(DatasetConfig(scale=1.0))
    ds.rows("vcdb", "Make")
    assert ("vcdb", "VehicleToEngineConfig") not in ds._rows


def test_tables_are_found_by_any_name_and_case() -> None:
    ds = churned()
    assert ds.table("VCDB".lower(), "vehicletoengineconfig").name == "VehicleToEngineConfig"
    assert ds.table("pcdb", "PIESEXPICode").name == "PIESExpiCode"
    assert ds.table("padb", "MetaUOMCodeAssignment").name == "MetaUomCodeAssignment"
    with pytest.raises(KeyError):
        ds.table("vcdb", "Language")  # in the DDL, not served
    with pytest.raises(KeyError):
        ds.table("brand", "Brand")


def test_dates_and_times_are_typed_in_canonical_rows() -> None:
    ds = churned()
    row = ds.canonical("qdb", "Qualifier", 0, 1)
    assert isinstance(row["when_modified"], dt.datetime)
    assert isinstance(row["effective_date_time"], dt.datetime) and row["end_date_time"] is None
    part = ds.canonical("pcdb", "PartPosition", 0, 1)
    assert part["rev_date"] is None or type(part["rev_date"]) is dt.date
