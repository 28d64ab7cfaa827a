"""The simulated content of the four databases: every API table, every release, by seed.

`Dataset` is the entry point.  It knows every table the API serves (`Catalog.api_tables()`,
reference [1.2]) and builds a table's generator (`TableRows`) the first time anything asks for
it, so start-up costs nothing and memory grows only with the tables actually used: per table, a
few hashes of history and the index views of the queries seen (compact arrays, never rows).

Dates map to releases: AsOfDate=D reads the latest release published on or before D, and
SinceDate=D returns rows changed in a release published after D (both compare whole days,
reference [1.3] sends YYYY-MM-DD).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas import api_map
from schemas.catalog import DATABASES, Catalog, Table, load_catalog
from simulator.config import DatasetConfig
from simulator.rows import CULTURE, IMPLIED_REFERENCES, BrokenReference, TableRows
from simulator.timeline import Timeline
from simulator.views import IndexView


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%dT00:00:00")  # a .NET DateTime, as the API sends dates [1.4]
    return value


class Dataset:
    def __init__(self, config: DatasetConfig | None = None) -> None:
        self.config = config or DatasetConfig()
        self.timeline: Timeline = self.config.timeline
        self.catalogs: dict[str, Catalog] = {db: load_catalog(db) for db in DATABASES}
        self._rows: dict[tuple[str, str], TableRows] = {}
        self._referenced = self._referenced_tables()

    @property
    def releases(self) -> int:
        return self.timeline.count

    def api_tables(self, db: str) -> list[Table]:
        return sorted(self.catalogs[db].api_tables(), key=lambda t: t.name)

    def table(self, db: str, name: str) -> Table:
        """By AutoCare, canonical or API name, any case; KeyError for an unknown db or table."""
        catalog = self.catalogs.get(db.lower())
        if catalog is None:
            raise KeyError(f"unknown database {db!r}")
        table = catalog.table(name)
        if table.api_table is None:
            raise KeyError(f"{db}/{name} is not served by the API")
        return table

    def rows(self, db: str, name: str) -> TableRows:
        table = self.table(db, name)
        key = (table.db, table.name)
        found = self._rows.get(key)
        if found is None:
            found = TableRows(table, self.config, self.rows, endable=key not in self._referenced)
            self._rows[key] = found
        return found

    def _referenced_tables(self) -> set[tuple[str, str]]:
        """Tables some served table points at: their rows are never ended (no orphans)."""
        out = {(db, t) for db, t in IMPLIED_REFERENCES.values()}
        for catalog in self.catalogs.values():
            for table in catalog.api_tables():
                for fk in table.foreign_keys:
                    out.add((fk.ref_db, fk.ref_table))
        return out

    def is_endable(self, db: str, name: str) -> bool:
        table = self.table(db, name)
        return (table.db, table.name) not in self._referenced

    # -- what a query returns -------------------------------------------------------------------

    def release_as_of(self, day: dt.date | None, now: int) -> int:
        return now if day is None else self.timeline.release_on(day, now)

    def release_since(self, day: dt.date) -> int:
        return self.timeline.release_on(day)

    def view(self, db: str, name: str, *, now: int, as_of: dt.date | None = None, since: dt.date | None = None,
             include_ended: bool = False) -> tuple[IndexView, int]:
        """The rows a request returns and the release to render them at.  Without SinceDate: the
        state in force on AsOfDate (default: now).  With SinceDate: every row changed after it,
        up to AsOfDate or now, ended rows included."""
        rows = self.rows(db, name)
        release = self.release_as_of(as_of, now)
        if since is not None:
            return rows.since_view(self.release_since(since), release), release
        if release == 0:
            return IndexView(0, 0), release
        return rows.as_of_view(release, include_ended=include_ended), release

    def record(self, db: str, name: str, i: int, release: int) -> dict[str, Any]:
        """Row i as the API sends it: API field names, JSON values, record metadata [1.4]."""
        return _record(self.rows(db, name), i, release)

    def records(self, db: str, name: str, indices: list[int], release: int) -> list[dict[str, Any]]:
        rows = self.rows(db, name)
        return [_record(rows, i, release) for i in indices]

    def canonical(self, db: str, name: str, i: int, release: int) -> dict[str, Any]:
        """Row i as a loader stores it: canonical column names, typed values, every column."""
        rows = self.rows(db, name)
        vals, version, ended = rows.values(i, release)
        by_name = {c.name: v for c, v in zip(rows.api_columns, vals, strict=True)}
        out: dict[str, Any] = {}
        for c in rows.table.columns:
            if c.meta:
                continue
            out[c.canonical] = by_name.get(c.name)
        out["culture_id"] = CULTURE if rows.culture else None
        out["effective_date_time"] = rows.stamp(i, version)
        out["end_date_time"] = None if ended is None else rows.stamp(i, ended)
        return out

    def key(self, db: str, name: str, i: int) -> tuple[Any, ...]:
        return self.rows(db, name).key(i)

    def anomaly(self, db: str, name: str, i: int) -> BrokenReference | None:
        return self.rows(db, name).anomaly(i)


def _record(rows: TableRows, i: int, release: int) -> dict[str, Any]:
    vals, version, ended = rows.values(i, release)
    if rows.has_temporal:
        vals = [_iso(v) if t else v for v, t in zip(vals, rows.temporal, strict=True)]
    out = dict(zip(rows.api_fields, vals, strict=True))
    if rows.culture:
        out[api_map.CULTURE_FIELD] = CULTURE
    out[api_map.EFFECTIVE_FIELD] = rows.stamp_text(i, version)
    out[api_map.END_FIELD] = None if ended is None else rows.stamp_text(i, ended)
    return out
