"""`vcdb diff` from the change outbox: across real releases (broker and PostgreSQL) it is the
comparison of the canonical table before and after; by hand-written outbox rows, how changes net."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg

from consumers.diff import TableDiff, changed_columns, diff, releases
from schemas.catalog import load_catalog
from tests.integration.pipeline import base_vehicle, consume_until_idle, execute, lookups, publish, vehicle
from tests.support import settings_for

_VEHICLE = [c.canonical for c in load_catalog("vcdb").tables["Vehicle"].columns]


async def _in_force(url: str) -> dict[str, dict[str, Any]]:
    """The Vehicle rows in force, by key as the diff writes it, as JSON (the outbox's own images)."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT jsonb_build_array(vehicle_id)::text AS key, "
                                "(to_jsonb(v) - 'ingest_run_id')::text AS row "
                                "FROM autocare_vcdb.vehicle v WHERE end_date_time IS NULL")
    finally:
        await conn.close()
    return {r["key"]: json.loads(r["row"]) for r in rows}


def _expected(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> TableDiff:
    def key(k: str) -> list[Any]:
        return json.loads(k)  # type: ignore[no-any-return]

    added = sorted(set(after) - set(before), key=key)
    removed = sorted(set(before) - set(after), key=key)
    changed = sorted((k for k in set(before) & set(after) if before[k] != after[k]), key=key)
    return TableDiff("Vehicle", len(added), len(removed), len(changed), added, removed,
                     [{"key": k, "columns": changed_columns(_VEHICLE, before[k], after[k])} for k in changed])


async def _diff(url: str, from_run: int, to_run: int) -> tuple[TableDiff, list[tuple[int, int]]]:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        return (await diff(pool, "vcdb", from_run, to_run, ["Vehicle"], sample=100))[0], \
            await releases(pool, "vcdb", from_run, to_run)
    finally:
        await pool.close()


def test_a_diff_across_two_incrementals_is_the_canonical_table_before_and_after(database_url: str,
                                                                                 kafka: str) -> None:
    settings = settings_for(database_url, kafka)
    states: list[dict[str, dict[str, Any]]] = []

    async def go() -> None:
        # Run 1, a first baseline loaded in place: its rows reach the outbox as read (`r`).
        await publish(settings, {**lookups(), "BaseVehicle": [base_vehicle(b) for b in (1, 2, 3)],
                                 "Vehicle": [vehicle(v, 1) for v in range(1, 7)]})
        await consume_until_idle(settings)
        states.append(await _in_force(database_url))
        # Run 2: one vehicle moves, one ends, one is new and one more will end in run 3.
        await publish(settings, {"Vehicle": [vehicle(2, 2, "2026-02-28T00:00:00"),
                                             vehicle(3, 1, "2026-01-31T00:00:00", end="2026-02-28T00:00:00"),
                                             vehicle(7, 2, "2026-02-28T00:00:00"),
                                             vehicle(8, 3, "2026-02-28T00:00:00")]}, kind="incremental")
        await consume_until_idle(settings)
        states.append(await _in_force(database_url))
        # Run 3: vehicle 2 moves again, 4 and run 2's 8 end, 9 is new.
        await publish(settings, {"Vehicle": [vehicle(2, 3, "2026-03-31T00:00:00"),
                                             vehicle(4, 1, "2026-01-31T00:00:00", end="2026-03-31T00:00:00"),
                                             vehicle(8, 3, "2026-02-28T00:00:00", end="2026-03-31T00:00:00"),
                                             vehicle(9, 3, "2026-03-31T00:00:00")]}, kind="incremental")
        await consume_until_idle(settings)
        states.append(await _in_force(database_url))

    asyncio.run(go())
    first, second, third = states
    for (from_run, to_run), (before, after) in {(1, 3): (first, third), (1, 2): (first, second),
                                                (2, 3): (second, third), (0, 3): ({}, third)}.items():
        got, covered = asyncio.run(_diff(database_url, from_run, to_run))
        assert got == _expected(before, after), (from_run, to_run)
        assert [run for _, run in covered] == list(range(from_run + 1, to_run + 1))
    got, _ = asyncio.run(_diff(database_url, 1, 3))
    assert (got.added, got.removed, got.changed) == (2, 2, 1)  # 7, 9; 3, 4 (8 came and went); 2
    assert got.sample_changed == [{"key": "[2]", "columns": ["base_vehicle_id", "effective_date_time"]}]


# Runs 1-4 of vcdb, hand-made: 1 a first baseline in place, 2 and 4 staged releases, 3 refused.
_RELEASES = """
INSERT INTO ingest.runs (run_id, db, kind, status, publication) VALUES
  (1, 'vcdb', 'baseline', 'succeeded', 'in_place'), (2, 'vcdb', 'incremental', 'succeeded', 'staged'),
  (3, 'vcdb', 'incremental', 'succeeded', 'staged'), (4, 'vcdb', 'incremental', 'succeeded', 'staged'),
  (5, 'pcdb', 'baseline', 'succeeded', 'in_place');
INSERT INTO ingest.releases (db, run_id, status, publication, published_at) VALUES
  ('vcdb', 1, 'published', 'in_place', now()), ('vcdb', 2, 'published', 'staged', now()),
  ('vcdb', 3, 'refused', 'staged', NULL), ('vcdb', 4, 'published', 'staged', now()),
  ('pcdb', 5, 'published', 'in_place', now());
"""


def _make(i: int, name: str, end: str | None = None) -> str:
    return json.dumps({"make_id": i, "make_name": name, "effective_date_time": None, "end_date_time": end})


def _change(run: int, op: str, i: int, before: str | None, after: str | None, db: str = "vcdb",
            table: str = "Make") -> str:
    def lit(v: str | None) -> str:
        return "NULL" if v is None else "'" + v.replace("'", "''") + "'"

    return f"({run}, {lit(db)}, {lit(table)}, {lit(op)}, '[{i}]', {lit(before)}, {lit(after)})"


def test_changes_net_per_key_over_published_releases_only(database_url: str) -> None:
    a, b = _make(1, "A"), _make(1, "B")
    changes = [
        _change(1, "r", 1, None, a),  # loaded in place, then changed: added (as B)
        _change(2, "u", 1, a, b),
        _change(1, "r", 2, None, _make(2, "A")),  # loaded in place and ended by run 2: nothing
        _change(2, "d", 2, _make(2, "A"), None),
        _change(2, "u", 3, _make(3, "A"), _make(3, "B")),  # changed and changed back: nothing
        _change(4, "u", 3, _make(3, "B"), _make(3, "A")),
        _change(2, "d", 4, _make(4, "A"), None),  # ended, in force again as it was: nothing
        _change(4, "c", 4, None, _make(4, "A")),
        _change(2, "d", 5, _make(5, "A"), None),  # ended, in force again otherwise: changed
        _change(4, "c", 5, None, _make(5, "B")),
        _change(2, "c", 6, None, _make(6, "A")),  # new, then ended: nothing
        _change(4, "d", 6, _make(6, "A"), None),
        _change(2, "d", 7, _make(7, "A"), None),  # ended: removed
        _change(3, "c", 8, None, _make(8, "A")),  # a refused release's: nothing
        _change(5, "c", 9, None, _make(9, "A"), db="pcdb", table="Parts"),  # another database's
        _change(4, "u", 10, _make(10, "A"), _make(10, "C")),  # changed
    ]
    asyncio.run(execute(database_url, _RELEASES + "INSERT INTO ingest.changes (run_id, db, table_name, op, "
                                                  "row_key, before, after) VALUES " + ",\n".join(changes)))

    async def go(from_run: int, to_run: int) -> TableDiff:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        try:
            return (await diff(pool, "vcdb", from_run, to_run, ["Make"], sample=100))[0]
        finally:
            await pool.close()

    whole = asyncio.run(go(0, 4))
    assert (whole.sample_added, whole.sample_removed) == (["[1]"], ["[7]"])
    assert whole.sample_changed == [{"key": "[5]", "columns": ["make_name"]}, {"key": "[10]", "columns": ["make_name"]}]
    assert (whole.added, whole.removed, whole.changed) == (1, 1, 2)
    # FROM is left out, TO taken in: (1, 2] has run 2's changes only (key 1 was in force after run 1).
    two = asyncio.run(go(1, 2))
    assert (two.sample_added, two.sample_removed) == (["[6]"], ["[2]", "[4]", "[5]", "[7]"])
    assert [c["key"] for c in two.sample_changed] == ["[1]", "[3]"]
    assert asyncio.run(go(2, 3)) == TableDiff("Make")  # run 3 is no published release
