"""The oracle agrees with what the API serves, replayed by a minimal in-memory loader."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pytest

from schemas.catalog import load_catalog
from simulator import oracle
from simulator.config import DatasetConfig
from simulator.dataset import Dataset

R1, R2, R3 = dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31)
TABLES = [("vcdb", "Vehicle"), ("vcdb", "VehicleToEngineConfig"), ("vcdb", "Model"), ("vcdb", "Year"),
          ("pcdb", "PartsToAlias"), ("pcdb", "PIESCode"), ("padb", "PartAttributeStyle"), ("qdb", "Qualifier")]


@functools.cache
def dataset() -> Dataset:
    return Dataset(DatasetConfig(seed=11, scale=0.01, anomalies=0.03, growth=0.05, modify_rate=0.05, end_rate=0.05))


def _typed(db: str, table: str, record: dict[str, Any]) -> dict[str, Any]:
    """What a loader stores for an API record: canonical names, typed values."""
    t = load_catalog(db).table(table)
    out: dict[str, Any] = {}
    for c in t.columns:
        value = record.get(c.api_field) if c.in_api else None
        if isinstance(value, str) and c.python_type == "datetime.datetime":
            value = dt.datetime.fromisoformat(value)
        elif isinstance(value, str) and c.python_type == "datetime.date":
            value = dt.datetime.fromisoformat(value).date()
        out[c.canonical] = value
    return out


def _pull(ds: Dataset, db: str, table: str, *, now: int, as_of: dt.date | None = None,
          since: dt.date | None = None) -> list[dict[str, Any]]:
    view, release = ds.view(db, table, now=now, as_of=as_of, since=since)
    return [ds.record(db, table, i, release) for i in view]


def _key(db: str, table: str, row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c] for c in load_catalog(db).table(table).key_canonical)


def _dead(ds: Dataset, db: str, table: str, release: int) -> set[tuple[Any, ...]]:
    return {a.key for a in oracle.anomalies(ds, db, release) if a.table == table}


def _parentless(ds: Dataset, db: str, table: str, release: int) -> set[tuple[Any, ...]]:
    """Keys of every published row (ended ones too) whose parent is missing after `release`."""
    rows = ds.rows(db, table)
    out = set()
    for i in range(rows.count(release)):
        kind = rows.anomaly_kind(i)
        if kind == "missing_parent" or (kind == "late_parent" and release < 2):
            out.add(rows.key(i, release))
    return out


@pytest.mark.parametrize(("db", "table"), TABLES)
@pytest.mark.parametrize("as_of", [R1, R2, R3])
def test_expected_rows_are_the_baseline_minus_dead_letters(db: str, table: str, as_of: dt.date) -> None:
    ds = dataset()
    release = ds.timeline.release_on(as_of)
    pulled = {_key(db, table, r): r for r in map(lambda rec: _typed(db, table, rec),
                                                   _pull(ds, db, table, now=3, as_of=as_of))}
    dead = _dead(ds, db, table, release)
    expected = {_key(db, table, r): r for r in oracle.expected_rows(ds, db, table, as_of)}
    assert set(expected) == set(pulled) - dead
    for key, row in expected.items():
        assert row == pulled[key]
    assert oracle.expected_keys(ds, db, table, as_of) == list(expected)


def test_expected_rows_are_canonical_and_typed() -> None:
    ds = dataset()
    row = next(oracle.expected_rows(ds, "vcdb", "Make", R1))
    assert set(row) == {c.canonical for c in load_catalog("vcdb").table("Make").columns}
    assert isinstance(row["make_id"], int) and isinstance(row["make_name"], str)
    assert row["culture_id"] == "en-US" and isinstance(row["effective_date_time"], dt.datetime)
    vehicle = next(oracle.expected_rows(ds, "vcdb", "Vehicle", R1))
    assert vehicle["culture_id"] is None and vehicle["source"] is None  # not sent by the v2 API
    assert "submodel_id" in vehicle


def test_anomalies_name_the_missing_parent() -> None:
    ds = dataset()
    found = oracle.anomalies(ds, "vcdb", R1)
    assert {a.table for a in found} == {"Vehicle", "VehicleToEngineConfig"}
    parents = {t: {r[k] for r in oracle.expected_rows(ds, "vcdb", t, R1) for k in [load_catalog("vcdb").table(t)
                                                                                   .key_canonical[0]]}
               for t in ("BaseVehicle", "EngineConfig2")}
    for a in found:
        assert a.missing_key[0] not in parents[a.missing_table]
        assert len(a.key) == 1 and isinstance(a.key[0], int)
    release2 = {r["base_vehicle_id"] for r in oracle.expected_rows(ds, "vcdb", "BaseVehicle", R2)}
    late = [a for a in found if a.kind == "late_parent"]
    assert late and all(a.missing_key[0] in release2 for a in late)


@pytest.mark.parametrize(("db", "table"), TABLES)
def test_baseline_then_increments_gives_the_expected_content(db: str, table: str) -> None:
    """A minimal loader: upsert by key, keep ended rows, park rows whose parent is missing and
    retry them after each pull (the automatic replay of dead letters waiting on a parent)."""
    ds = dataset()
    loaded: dict[tuple[Any, ...], dict[str, Any]] = {}
    parked: dict[tuple[Any, ...], dict[str, Any]] = {}

    def apply(rows: list[dict[str, Any]], release: int) -> None:
        dead = _parentless(ds, db, table, release)
        for row in rows:
            key = _key(db, table, row)
            (parked if key in dead else loaded)[key] = row
            if key not in dead:
                parked.pop(key, None)
        for key in [k for k in parked if k not in dead]:
            loaded[key] = parked.pop(key)

    apply([_typed(db, table, r) for r in _pull(ds, db, table, now=1, as_of=R1)], 1)
    for release, since in ((2, R1), (3, R2)):
        apply([_typed(db, table, r) for r in _pull(ds, db, table, now=release, since=since)], release)
        expected = {_key(db, table, r): r for r in oracle.expected_after_increments(ds, db, table, release)}
        assert expected == loaded, f"after release {release}"
    if table in ("VehicleToEngineConfig",):
        assert any(r["end_date_time"] is not None for r in loaded.values()), "deletes are soft"


@pytest.mark.parametrize(("db", "table"), TABLES)
def test_changes_between_releases_agree_with_the_expected_rows(db: str, table: str) -> None:
    ds = dataset()
    for a, b in ((1, 2), (2, 3), (1, 3)):
        before = {_key(db, table, r): r for r in oracle.expected_rows(ds, db, table, a)}
        after = {_key(db, table, r): r for r in oracle.expected_rows(ds, db, table, b)}
        changes = oracle.changes_between(ds, db, table, a, b)
        assert set(changes.added) == set(after) - set(before)
        assert set(changes.removed) == set(before) - set(after)
        assert set(changes.changed) == {k for k in set(before) & set(after) if before[k] != after[k]}
    total = oracle.changes_between(ds, "vcdb", "Model", 1, 3)
    assert total.added and total.changed


def test_late_parent_rows_become_loadable_in_release_two() -> None:
    ds = dataset()
    late = {a.key for a in oracle.anomalies(ds, "vcdb", 1) if a.kind == "late_parent"}
    at1 = set(oracle.expected_keys(ds, "vcdb", "Vehicle", 1))
    at2 = set(oracle.expected_keys(ds, "vcdb", "Vehicle", 2))
    assert late and not late & at1 and late <= at2
    assert late <= set(oracle.changes_between(ds, "vcdb", "Vehicle", 1, 2).added)


def test_full_pulls_with_end_dated_rows_when_the_server_sends_them() -> None:
    ds = dataset()
    plain = list(oracle.expected_rows(ds, "vcdb", "VehicleToClass", R3))
    with_ended = list(oracle.expected_rows(ds, "vcdb", "VehicleToClass", R3, include_ended=True))
    assert len(with_ended) > len(plain)
    assert all(r["end_date_time"] is not None for r in with_ended if r not in plain)
