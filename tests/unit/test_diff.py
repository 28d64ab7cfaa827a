"""`vcdb diff`'s shaping of the net change (consumers/diff.py) and the netting statement's rules
(ledger/diffs.py), without a server: tests/integration/test_diff.py runs them on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from consumers.diff import TableDiff, changed_columns, diff
from ledger import diffs
from ledger.errors import InfrastructureError


class FakePool:
    """Answers the counts, then the samples per kind (the 5th argument); records what was asked."""

    def __init__(self, counts: list[dict[str, Any]], samples: dict[str, list[dict[str, Any]]],
                 error: BaseException | None = None) -> None:
        self.counts, self.samples, self.error = counts, samples, error
        self.asked: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, query: str, *args: Any) -> list[dict[str, Any]]:
        self.asked.append((query, args))
        if self.error is not None:
            raise self.error
        return self.counts if "count(*)" in query else self.samples.get(args[4], [])


def _row(**kw: Any) -> str:
    return json.dumps(kw)


def test_changed_columns_are_named_in_the_order_given_and_a_missing_one_counts_as_null() -> None:
    cols = ["vehicle_id", "base_vehicle_id", "submodel_id", "effective_date_time"]
    before = {"vehicle_id": 2, "base_vehicle_id": 1, "submodel_id": 1, "effective_date_time": "2026-01-31T00:00:00"}
    after = {"effective_date_time": "2026-02-28T00:00:00", "vehicle_id": 2, "base_vehicle_id": 2}
    assert changed_columns(cols, before, after) == ["base_vehicle_id", "submodel_id", "effective_date_time"]
    assert changed_columns(cols, before, dict(before)) == []


def test_the_diff_shapes_counts_and_samples_per_table_in_catalogue_order() -> None:
    pool = FakePool(
        counts=[{"table_name": "Vehicle", "kind": kind, "n": n} for kind, n in (("added", 1), ("changed", 1),
                                                                                 ("removed", 2))],
        samples={"added": [{"key": "[4]", "before": None, "after": _row(vehicle_id=4)}],
                 "removed": [{"key": "[3]", "before": _row(vehicle_id=3), "after": None},
                             {"key": "[5]", "before": _row(vehicle_id=5), "after": None}],
                 "changed": [{"key": "[2]", "before": _row(vehicle_id=2, base_vehicle_id=1, region_id=1),
                              "after": _row(region_id=2, vehicle_id=2, base_vehicle_id=2)}]})
    got = asyncio.run(diff(pool, "vcdb", 1, 3, ["Vehicle", "Make"], sample=2))
    assert got == [TableDiff("Vehicle", 1, 2, 1, ["[4]"], ["[3]", "[5]"],
                             [{"key": "[2]", "columns": ["base_vehicle_id", "region_id"]}]),
                   TableDiff("Make")]
    counts, *samples = pool.asked
    assert counts[1] == ("vcdb", ["Vehicle", "Make"], 1, 3)  # one statement for every table
    assert [a for _, a in samples] == [("vcdb", ["Vehicle"], 1, 3, kind, 2) for kind in diffs.KINDS]


def test_no_samples_are_asked_for_when_nothing_changed_and_errors_get_their_verdict() -> None:
    pool = FakePool(counts=[], samples={})
    assert asyncio.run(diff(pool, "vcdb", 1, 2, ["BaseVehicle"])) == [TableDiff("BaseVehicle")]
    assert len(pool.asked) == 1
    with pytest.raises(InfrastructureError, match="connection lost"):
        asyncio.run(diff(FakePool([], {}, error=ConnectionResetError("reset")), "vcdb", 1, 2))


def test_the_netting_reads_published_releases_first_before_and_last_after() -> None:
    sql = " ".join(diffs._NET.split())
    assert "JOIN ingest.releases r ON r.run_id = c.run_id AND r.db = c.db AND r.status = 'published'" in sql
    assert "c.run_id > $3 AND c.run_id <= $4" in sql  # (FROM, TO]
    # In force before: the key's first change is an update or an end (`c` and `r` were not in force).
    assert "(array_agg(op ORDER BY change_id))[1] IN ('u', 'd') AS was" in sql
    assert "(array_agg(before ORDER BY change_id))[1] AS before" in sql
    assert "(array_agg(after ORDER BY change_id DESC))[1] AS after" in sql
    for kind, rule in (("added", "NOT was AND after IS NOT NULL"), ("removed", "was AND after IS NULL"),
                       ("changed", "was AND before IS DISTINCT FROM after")):
        assert f"WHEN {rule} THEN '{kind}'" in sql
