"""The seal gate: a run's records of a table load once the parents the run pulls are sealed for
it; the store is asked at most every `refresh_s` per run (time from the injected clock)."""

from __future__ import annotations

from consumers.gate import SealGate
from tests.unit.fakes import Clock, FakeStore, table

MAKE, MODEL, YEAR, BASE_VEHICLE, VEHICLE = (table(n) for n in ("Make", "Model", "Year", "BaseVehicle", "Vehicle"))


def gate(store: FakeStore, clock: Clock, refresh_s: float = 0.25) -> SealGate:
    return SealGate(store, clock, refresh_s)


async def test_a_table_waits_until_every_parent_the_run_pulls_is_sealed() -> None:
    assert set(BASE_VEHICLE.parents()) == {"Year", "Make", "Model"}
    store, clock = FakeStore(), Clock()
    store.add_run(7, ["Year", "Make", "Model", "BaseVehicle"])
    g = gate(store, clock)
    assert not await g.ready(BASE_VEHICLE, 7)
    store.seal(7, "Year")
    store.seal(7, "Make")
    clock.advance(1)
    assert not await g.ready(BASE_VEHICLE, 7)  # Model is still open
    store.seal(7, "Model")
    clock.advance(1)
    assert await g.ready(BASE_VEHICLE, 7)


async def test_a_seal_in_another_run_does_not_count() -> None:
    store, clock = FakeStore(), Clock()
    store.add_run(7, ["Make", "BaseVehicle"])
    store.add_run(8, ["Make", "BaseVehicle"])
    store.seal(8, "Make")
    assert not await gate(store, clock).ready(BASE_VEHICLE, 7)


async def test_parents_the_run_does_not_pull_count_as_ready() -> None:
    store, clock = FakeStore(), Clock()
    store.add_run(7, ["Make", "BaseVehicle"])  # an incremental run: no Year, no Model
    store.seal(7, "Make")
    assert await gate(store, clock).ready(BASE_VEHICLE, 7)
    store.add_run(8, ["BaseVehicle"])
    g = gate(store, clock)
    assert await g.ready(BASE_VEHICLE, 8)
    assert store.calls["sealed_tables"] == 1  # run 8 pulls no parent: nothing to ask


async def test_records_of_an_unknown_run_load_with_the_fk_checks_only() -> None:
    store, clock = FakeStore(), Clock()
    g = gate(store, clock)
    assert await g.ready(BASE_VEHICLE, 99)
    assert await g.ready(VEHICLE, 99)
    assert store.calls["run_tables"] == 1  # what the run pulls is asked once
    assert store.calls["sealed_tables"] == 0


async def test_the_store_is_asked_at_most_every_refresh_s_per_run() -> None:
    store, clock = FakeStore(), Clock()
    store.add_run(7, ["Make", "BaseVehicle"])
    store.add_run(8, ["Make", "BaseVehicle"])
    g = gate(store, clock, refresh_s=0.25)
    assert not await g.ready(BASE_VEHICLE, 7)
    assert store.calls["sealed_tables"] == 1
    store.seal(7, "Make")
    clock.advance(0.125)
    assert not await g.ready(BASE_VEHICLE, 7)  # sealed meanwhile, but the answer is not due yet
    assert store.calls["sealed_tables"] == 1
    assert not await g.ready(BASE_VEHICLE, 8)  # another run has its own refresh
    assert store.calls["sealed_tables"] == 2
    clock.advance(0.125)
    assert await g.ready(BASE_VEHICLE, 7)
    assert store.calls["sealed_tables"] == 3
    clock.advance(10)
    assert await g.ready(BASE_VEHICLE, 7)  # seals are final: no need to ask again
    assert store.calls["sealed_tables"] == 3
    assert store.calls["run_tables"] == 2  # once per run


async def test_a_seal_made_by_this_worker_opens_the_gate_without_asking() -> None:
    store, clock = FakeStore(), Clock()
    store.add_run(7, ["Make", "BaseVehicle"])
    g = gate(store, clock)
    assert not await g.ready(BASE_VEHICLE, 7)
    g.sealed(7, "Make")
    assert await g.ready(BASE_VEHICLE, 7)
    assert store.calls["sealed_tables"] == 1


async def test_waiting_names_the_tables_whose_pending_run_has_open_parents() -> None:
    store, clock = FakeStore(), Clock()
    store.add_run(7, ["Make", "Model", "BaseVehicle", "Vehicle"])
    store.seal(7, "Model")
    g = gate(store, clock)
    # Make has no parents, Model is sealed (no longer pending); Vehicle waits for BaseVehicle.
    assert await g.waiting([MAKE, MODEL, BASE_VEHICLE, VEHICLE]) == {"BaseVehicle": 7, "Vehicle": 7}
    store.seal(7, "Make")
    clock.advance(0.25)
    assert await g.waiting([MAKE, MODEL, BASE_VEHICLE, VEHICLE]) == {"Vehicle": 7}


async def test_a_table_no_open_run_published_does_not_wait() -> None:
    store, clock = FakeStore(), Clock()
    store.add_run(7, ["Make", "BaseVehicle"], pending=False)
    assert await gate(store, clock).waiting([BASE_VEHICLE]) == {}
    assert await gate(store, clock).waiting([]) == {}


async def test_pending_runs_are_asked_at_most_every_refresh_s() -> None:
    store, clock = FakeStore(), Clock()
    store.add_run(7, ["Make", "BaseVehicle"])
    g = gate(store, clock, refresh_s=0.25)
    assert await g.waiting([BASE_VEHICLE]) == {"BaseVehicle": 7}
    clock.advance(0.125)
    assert await g.waiting([BASE_VEHICLE]) == {"BaseVehicle": 7}
    assert store.calls["pending_runs"] == 1
    clock.advance(0.125)
    await g.waiting([BASE_VEHICLE])
    assert store.calls["pending_runs"] == 2


async def test_waiting_answers_for_the_tables_asked_even_right_after_asking_for_others() -> None:
    # Two assignments in quick succession (a rebalance) ask about different tables.
    store, clock = FakeStore(), Clock()
    store.add_run(7, ["Make", "BaseVehicle"])
    g = gate(store, clock, refresh_s=0.25)
    assert await g.waiting([MAKE]) == {}
    assert await g.waiting([BASE_VEHICLE]) == {"BaseVehicle": 7}
