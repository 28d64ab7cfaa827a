"""What a correct consumer holds after loading from the simulator: the answers tests compare to.

Rows are canonical (keys are `Column.canonical`, values typed per `Column.python_type`, the
meta columns culture_id / effective_date_time / end_date_time included).  A loader dead-letters
a row whose parent is missing when it loads (reference [5]: nexus' `--skip-missing-*` flags are
what that replaces), so rows with a missing parent are never expected; a late-parent Vehicle is
expected once the release that publishes its BaseVehicle has been loaded.  Deletes are soft: a
row ended by a later release stays, with its end date.

`as_of` is a date (the AsOfDate a baseline sends), a release number, or None (the last release).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from simulator.dataset import Dataset
from simulator.rows import TableRows

AsOf = dt.date | int | None


@dataclass(frozen=True)
class Anomaly:
    db: str
    table: str
    key: tuple[Any, ...]  # in Table.key order
    column: str  # the child's column holding the missing reference
    missing_table: str
    missing_key: tuple[Any, ...]
    kind: str  # "missing_parent" (never published) | "late_parent" (published by a later release)
    parent_release: int | None  # the release that publishes the parent; None: none does


@dataclass(frozen=True)
class Changes:
    added: list[tuple[Any, ...]] = field(default_factory=list)
    removed: list[tuple[Any, ...]] = field(default_factory=list)  # ended (or dead-lettered again)
    changed: list[tuple[Any, ...]] = field(default_factory=list)


def release_of(dataset: Dataset, as_of: AsOf) -> int:
    if as_of is None:
        return dataset.releases
    if isinstance(as_of, int):
        return as_of
    return dataset.timeline.release_on(as_of)


def _loadable(rows: TableRows, i: int, release: int) -> bool:
    """False when a loader must dead-letter row i after loading everything up to `release`."""
    kind = rows.anomaly_kind(i)
    if kind is None:
        return True
    if kind == "late_parent":
        return release >= 2
    return False


def _baseline_indices(dataset: Dataset, db: str, table: str, release: int, include_ended: bool) -> Iterable[int]:
    if release < 1:
        return ()
    rows = dataset.rows(db, table)
    return (i for i in rows.as_of_view(release, include_ended=include_ended) if _loadable(rows, i, release))


def expected_rows(dataset: Dataset, db: str, table: str, as_of: AsOf = None, *,
                  include_ended: bool = False) -> Iterator[dict[str, Any]]:
    """Every row of a baseline taken with AsOfDate=`as_of`, as loaded; `include_ended` for a
    server that also returns end-dated rows in a full pull."""
    release = release_of(dataset, as_of)
    name = dataset.table(db, table).name
    for i in _baseline_indices(dataset, db, name, release, include_ended):
        yield dataset.canonical(db, name, i, release)


def expected_keys(dataset: Dataset, db: str, table: str, as_of: AsOf = None) -> list[tuple[Any, ...]]:
    release = release_of(dataset, as_of)
    rows = dataset.rows(db, table)
    return [rows.key(i, release) for i in _baseline_indices(dataset, db, rows.table.name, release, False)]


def anomalies(dataset: Dataset, db: str, as_of: AsOf = None) -> list[Anomaly]:
    """The rows of a baseline as of `as_of` that a loader must dead-letter, with the parent each
    one is missing."""
    release = release_of(dataset, as_of)
    out: list[Anomaly] = []
    if release < 1:
        return out
    for table in dataset.api_tables(db):
        rows = dataset.rows(db, table.name)
        if rows.config.anomalies <= 0 or not rows.has_anomalies:
            continue
        for i in rows.as_of_view(release):
            if _loadable(rows, i, release):
                continue
            found = rows.anomaly(i)
            assert found is not None
            out.append(Anomaly(db, table.name, rows.key(i, release), found.column, found.ref_table,
                               found.missing_key, found.kind, found.parent_release))
    return out


def expected_after_increments(dataset: Dataset, db: str, table: str, through: int, *,
                              baseline: int = 1) -> Iterator[dict[str, Any]]:
    """The table after a baseline at release `baseline` and incremental pulls (SinceDate = the
    previous release's date) of every release up to `through`: every row published by then,
    latest version, ended ones kept with their end date, except rows ended before the baseline
    (never sent) and rows whose parent is still missing."""
    rows = dataset.rows(db, table)
    name = rows.table.name
    gone_before = set(rows.history.ended_by(baseline))
    for i in range(rows.count(through)):
        if i in gone_before or not _loadable(rows, i, through):
            continue
        yield dataset.canonical(db, name, i, through)


def changes_between(dataset: Dataset, db: str, table: str, release_a: int, release_b: int) -> Changes:
    """Keys added, removed (ended) and changed between baselines as of two releases."""
    rows = dataset.rows(db, table)
    view_a = rows.as_of_view(release_a) if release_a >= 1 else None
    view_b = rows.as_of_view(release_b) if release_b >= 1 else None
    changes = Changes()
    for i in range(rows.count(max(release_a, release_b))):
        in_a = view_a is not None and i in view_a and _loadable(rows, i, release_a)
        in_b = view_b is not None and i in view_b and _loadable(rows, i, release_b)
        if in_a and not in_b:
            changes.removed.append(rows.key(i, release_a))
        elif in_b and not in_a:
            changes.added.append(rows.key(i, release_b))
        elif in_a and in_b:
            lo, hi = sorted((release_a, release_b))
            if any(lo < m <= hi for m in rows.history.modified_in(i, hi)):
                changes.changed.append(rows.key(i, release_b))
    return changes
