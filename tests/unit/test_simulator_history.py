"""Releases, AsOfDate and SinceDate: what each query returns, and index views over them."""

from __future__ import annotations

import datetime as dt
import random
from array import array

import pytest

from simulator.config import DatasetConfig
from simulator.dataset import Dataset
from simulator.timeline import Timeline, TimelineError
from simulator.views import IndexView

R1, R2, R3 = dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31)


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return Dataset(DatasetConfig(seed=3, scale=0.01, growth=0.05, modify_rate=0.05, end_rate=0.05))


def test_monthly_timeline_and_the_release_in_force_on_a_day() -> None:
    t = Timeline.monthly(3)
    assert t.dates == (R1, R2, R3)
    assert Timeline.monthly(2, dt.date(2025, 12, 1)).dates == (dt.date(2025, 12, 31), dt.date(2026, 1, 31))
    assert t.release_on(dt.date(2026, 1, 30)) == 0
    assert t.release_on(R1) == 1
    assert t.release_on(dt.date(2026, 3, 30)) == 2
    assert t.release_on(dt.date(2030, 1, 1)) == 3
    assert t.release_on(dt.date(2030, 1, 1), now=2) == 2
    assert Timeline.parse("2026-01-31, 2026-02-28").count == 2
    with pytest.raises(TimelineError):
        Timeline.parse("2026-02-28,2026-01-31")
    with pytest.raises(TimelineError):
        Timeline.parse("not a date")


def test_each_release_adds_modifies_and_ends_rows(ds: Dataset) -> None:
    rows = ds.rows("vcdb", "VehicleToEngineConfig")
    assert rows.count(1) < rows.count(2) < rows.count(3)
    assert len(rows.history.ended[1]) > 0 and len(rows.history.ended[2]) > 0
    make = ds.rows("vcdb", "Make")
    assert not make.endable, "Make is referenced: ending one would orphan its models"
    model = ds.rows("vcdb", "Model")
    assert sum(len(m) for m in model.history.modified) > 0


def test_only_unreferenced_tables_end_rows(ds: Dataset) -> None:
    referenced = {(fk.ref_db, fk.ref_table) for db in ("vcdb", "pcdb", "padb", "qdb")
                  for t in ds.api_tables(db) for fk in t.foreign_keys}
    for db in ("vcdb", "pcdb", "padb", "qdb"):
        for t in ds.api_tables(db):
            if (db, t.name) in referenced:
                assert all(len(e) == 0 for e in ds.rows(db, t.name).history.ended), t.name


def test_as_of_returns_the_state_in_force_on_the_day(ds: Dataset) -> None:
    rows = ds.rows("vcdb", "VehicleToEngineConfig")
    view, release = ds.view("vcdb", "VehicleToEngineConfig", now=3, as_of=dt.date(2026, 3, 1))
    assert release == 2
    ended = set(rows.history.ended[1])
    assert set(view) == set(range(rows.count(2))) - ended
    for i in list(view)[:50]:
        record = ds.record("vcdb", "VehicleToEngineConfig", i, release)
        assert record["EndDateTime"] is None
        assert dt.date.fromisoformat(record["EffectiveDateTime"][:10]) <= dt.date(2026, 3, 1)
    empty, _ = ds.view("vcdb", "Make", now=3, as_of=dt.date(2025, 12, 31))
    assert len(empty) == 0


def test_without_parameters_the_current_release_is_served(ds: Dataset) -> None:
    rows = ds.rows("vcdb", "VehicleToEngineConfig")
    view, release = ds.view("vcdb", "VehicleToEngineConfig", now=3)
    assert release == 3 and len(view) == rows.count(3) - len(rows.history.ended_by(3))
    earlier, release = ds.view("vcdb", "VehicleToEngineConfig", now=1, as_of=R3)
    assert release == 1 and len(earlier) == rows.count(1), "AsOfDate never reaches past the current release"
    full, _ = ds.view("vcdb", "VehicleToEngineConfig", now=3, include_ended=True)
    assert len(full) == rows.count(3)


def test_since_returns_every_row_changed_after_the_day_ended_ones_included(ds: Dataset) -> None:
    name = "VehicleToEngineConfig"
    rows = ds.rows("vcdb", name)
    view, release = ds.view("vcdb", name, now=3, since=R1)
    expected = set(range(rows.count(1), rows.count(3)))
    expected |= {i for i in range(rows.count(1)) if rows.history.ended_in(i) is not None}
    assert set(view) == expected and release == 3
    ended = [i for i in view if rows.history.ended_in(i) is not None]
    assert ended
    for i in ended[:20]:
        record = ds.record("vcdb", name, i, release)
        assert record["EndDateTime"] is not None and record["EndDateTime"][:10] in (R2.isoformat(), R3.isoformat())
    later, _ = ds.view("vcdb", name, now=3, since=R2)
    assert set(later) < set(view)
    assert len(ds.view("vcdb", name, now=3, since=R3)[0]) == 0
    assert len(ds.view("vcdb", name, now=2, since=R2)[0]) == 0, "nothing after the current release"
    everything, _ = ds.view("vcdb", name, now=3, since=dt.date(2020, 1, 1))
    assert len(everything) == rows.count(3)


def test_since_includes_modified_rows_with_their_new_version(ds: Dataset) -> None:
    rows = ds.rows("vcdb", "Model")
    modified = list(rows.history.modified[1])  # release 2
    assert modified
    view, _ = ds.view("vcdb", "Model", now=2, since=R1)
    assert set(modified) <= set(view)
    changed = 0
    for i in modified:
        before = ds.record("vcdb", "Model", i, 1)
        after = ds.record("vcdb", "Model", i, 2)
        assert after["EffectiveDateTime"][:10] == R2.isoformat()
        assert before["ModelID"] == after["ModelID"] and before["VehicleTypeID"] == after["VehicleTypeID"]
        changed += before["ModelName"] != after["ModelName"]
    assert changed == len(modified), "a modification changes a non-key, non-FK field"


def test_an_ended_row_stays_ended_and_is_not_modified_again(ds: Dataset) -> None:
    rows = ds.rows("pcdb", "ACESCodedValues")
    for i in rows.history.ended[1]:
        assert rows.history.ended_in(i) == 2
        assert all(m < 3 for m in rows.history.modified_in(i, 3))
        assert ds.record("pcdb", "ACESCodedValues", i, 3)["EndDateTime"][:10] == R2.isoformat()
        assert ds.record("pcdb", "ACESCodedValues", i, 1)["EndDateTime"] is None


def test_index_views_page_like_the_list_they_stand_for() -> None:
    rng = random.Random(5)
    for _ in range(200):
        lo = rng.randint(0, 50)
        hi = lo + rng.randint(0, 80)
        holes = sorted(rng.sample(range(lo, hi), rng.randint(0, hi - lo)) if hi > lo else [])
        explicit = sorted(rng.sample(range(lo), rng.randint(0, lo)) if lo else [])
        view = IndexView(lo, hi, array("q", holes), array("q", explicit))
        full = explicit + [i for i in range(lo, hi) if i not in set(holes)]
        assert len(view) == len(full) and list(view) == full
        offset, limit = rng.randint(0, len(full) + 3), rng.randint(1, 20)
        assert view.slice(offset, limit) == full[offset : offset + limit]
        probe = rng.randint(0, hi + 2)
        assert (probe in view) == (probe in full)
