"""The operator pages' pure parts: the dead letters' paging cursors, the run's one window for its
header and chart, and a replay that meets a dead letter of a table its catalog lacks."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from consumers.replay import UNKNOWN_TABLE, replay
from ledger.dead_letters import DeadLetterFilter, DeadLetterRow
from schemas.catalog import load_catalog
from web.operations import RunRow, TableLoadRow, _elapsed, _svg, cursors

T0 = dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)


def test_cursors_walk_a_list_forward_and_back() -> None:
    assert cursors([1, 2, 3], 0, 3) == (None, None)  # one page: neither
    assert cursors([1, 2], 0, 5) == (None, 2)  # first
    assert cursors([3, 4], 2, 5) == (3, 4)  # middle
    assert cursors([5], 4, 5) == (5, None)  # last
    assert cursors([], 7, 7) == (None, None)  # past the end


def _run(finished_s: float | None) -> RunRow:
    return RunRow(run_id=1, db="vcdb", kind="baseline", status="succeeded", as_of=None, since=None, started_at=T0,
                  finished_at=T0 + dt.timedelta(seconds=finished_s) if finished_s is not None else None,
                  duration_s=finished_s, error=None)


def _table(seal_s: float | None) -> TableLoadRow:
    return TableLoadRow(table_name="Make", status="sealed", partitions=1, announced=1, loaded=1, dead_lettered=0,
                        backlog=0, sealed_at=None, seconds_to_seal=seal_s, open_dead_letters=0, error=None)


def test_the_run_header_and_chart_end_at_the_later_of_finish_and_last_seal() -> None:
    head, tables = _run(67.1), [_table(10.0), _table(82.5)]
    assert _elapsed(head, tables) == 82.5
    assert ">82.5 s</text>" in _svg(head, tables, 82.5)
    assert _elapsed(_run(90.0), tables) == 90.0
    assert _elapsed(_run(None), [_table(None)]) is None


class OnlyRows:
    """A replay store that only lists: a replay that reaches the tables would fail here."""

    def __init__(self, rows: list[DeadLetterRow]) -> None:
        self.rows = rows

    async def dead_letters(self, f: DeadLetterFilter) -> list[DeadLetterRow]:
        return self.rows

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the replay called {name}")


def test_a_dead_letter_of_an_unknown_table_is_reported_and_not_touched() -> None:
    row = DeadLetterRow(7, "vcdb", "Nope", 1, "autocare.vcdb.Nope", 0, 1, "[1]", {"x": 1}, {}, "validation", None,
                        None, None, None, "bad", 1, "open", T0, T0)
    report = asyncio.run(replay(load_catalog("vcdb"), OnlyRows([row]), DeadLetterFilter("vcdb", ids=(7,))))  # type: ignore[arg-type]
    assert report.loaded == []
    assert report.failed == [(7, UNKNOWN_TABLE, "vcdb has no table 'Nope': not replayed, left open")]
