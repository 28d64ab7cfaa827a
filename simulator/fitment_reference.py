"""What the fitment files are drawn from: the simulator's VCdb, PCdb, Qdb and PAdb as a loader
holds them after a baseline at release `baseline`, and after incrementals up to the last release.

Ids "exist" when the baseline publishes them and no later release ends them, so an application
built from them is valid at the baseline and stays valid through the last release.  A vehicle
has an attribute through its VehicleTo* link rows and the config rows they lead to
(schemas/aces.py SYSTEMS); each link row is read once into a *view* (attribute element -> id).

Two readings of the combination rule (reference aces-pies.md §1.8 step 4) are kept apart:
*strict* -- attributes reached through the same link table must come from the same link row;
*loose* -- only attributes of the same system must (the same thing while schemas/aces.py has one
system per link table).  Valid applications hold strictly; invalid ones fail loosely, against
every vehicle and link row any release publishes, so either reading of a loader agrees.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from schemas.aces import ATTRIBUTE_BY_ELEMENT, ATTRIBUTES, SYSTEMS, VehicleAttribute
from simulator.dataset import Dataset
from simulator.fitment_app import VehicleIdent
from simulator.rows import TableRows

LINK_TABLES: tuple[str, ...] = tuple(sorted({s.link for s in SYSTEMS.values() if s.link}))
PLACEHOLDER = re.compile(r'<p(\d+)\s+type="([a-z]+)"\s*/>')


def placeholders(text: str | None) -> tuple[str, ...]:
    """The types of a Qdb qualifier text's placeholders, by number (`<p1 type="num"/>` ...)."""
    found = {int(n): kind for n, kind in PLACEHOLDER.findall(text or "")}
    return tuple(found[n] for n in sorted(found))


def row_of(rows: TableRows, i: int, release: int) -> dict[str, Any]:
    """Row i by AutoCare column name."""
    vals, _, _ = rows.values(i, release)
    return {c.name: v for c, v in zip(rows.api_columns, vals, strict=True)}


def index_of(rows: TableRows, value: object) -> int | None:
    """The row index holding id `value` in any release, or None (ids increase with the index)."""
    if not isinstance(value, int) or rows.total == 0:
        return None
    i = value - rows.id_of(0) if rows.stride == 1 else (value - rows.base) // rows.stride
    return i if 0 <= i < rows.total and rows.id_of(i) == value else None


@dataclass(frozen=True)
class BaseVehicle:
    id: int
    year: int
    make: int
    model: int
    added: int  # the release that publishes it


@dataclass(frozen=True)
class Vehicle:
    id: int
    base_vehicle: int
    submodel: int
    region: int
    loadable_from: int | None  # first release at which a loader holds it (its BaseVehicle too); None: never

    def column(self, name: str) -> int | None:
        return {"RegionID": self.region, "SubmodelID": self.submodel}.get(name)


@dataclass(frozen=True)
class Link:
    table: str
    loadable_from: int
    ended: int | None
    view: Mapping[str, int | None]  # attribute element -> id, for every attribute this link table reaches


@dataclass(frozen=True)
class Qualifier:
    id: int
    text: str
    placeholders: tuple[str, ...]


LinkFilter = Callable[[Link], bool]


class Reference:
    def __init__(self, dataset: Dataset, baseline: int) -> None:
        if not 1 <= baseline <= dataset.releases:
            raise ValueError(f"baseline release {baseline} is outside 1..{dataset.releases}")
        self.dataset = dataset
        self.baseline = baseline
        self.last = dataset.releases
        self.base_vehicles: dict[int, BaseVehicle] = {}
        self._by_make_model: dict[tuple[int, int], list[int]] = defaultdict(list)
        rows = dataset.rows("vcdb", "BaseVehicle")
        for i in range(rows.count(self.last)):
            r = row_of(rows, i, self.last)
            bv = BaseVehicle(r["BaseVehicleID"], r["YearID"], r["MakeID"], r["ModelID"], rows.history.added_in(i))
            self.base_vehicles[bv.id] = bv
            self._by_make_model[(bv.make, bv.model)].append(bv.id)
        self.vehicles_by_bv: dict[int, list[Vehicle]] = defaultdict(list)
        rows = dataset.rows("vcdb", "Vehicle")
        for i in range(rows.count(self.last)):
            r = row_of(rows, i, self.last)
            parent = self.base_vehicles.get(r["BaseVehicleID"])
            loadable = None if parent is None else max(parent.added, rows.history.added_in(i))
            self.vehicles_by_bv[r["BaseVehicleID"]].append(
                Vehicle(r["VehicleID"], r["BaseVehicleID"], r["SubmodelID"], r["RegionID"], loadable))
        self._links: dict[int, list[Link]] = defaultdict(list)
        self._loaded: set[int] = set()
        self._configs: dict[tuple[str, int], dict[str, Any] | None] = {}

    # -- ids ------------------------------------------------------------------------------------

    def exists(self, db: str, table: str, value: object) -> bool:
        """Published by the baseline and never ended through the last release."""
        rows = self.dataset.rows(db, table)
        i = index_of(rows, value)
        return i is not None and i < rows.count(self.baseline) and not (
            rows.endable and rows.history.ended_in(i) is not None)

    def absent(self, db: str, table: str, n: int) -> int:
        """An id no release of `table` publishes (a gap in its id sequence)."""
        rows = self.dataset.rows(db, table)
        return rows.gap_id(n % rows.count(self.last))

    def stable_ids(self, db: str, table: str) -> list[Any]:
        rows = self.dataset.rows(db, table)
        ended = set(rows.history.ended_by(self.last)) if rows.endable else set()
        return [rows.key_value(i) for i in range(rows.count(self.baseline)) if i not in ended]

    def stable_rows(self, db: str, table: str) -> list[dict[str, Any]]:
        rows = self.dataset.rows(db, table)
        ended = set(rows.history.ended_by(self.last)) if rows.endable else set()
        return [row_of(rows, i, self.baseline) for i in range(rows.count(self.baseline)) if i not in ended]

    def unchanged_values(self, db: str, table: str, column: str) -> tuple[list[Any], set[Any]]:
        """Values of `column` that exist at every release from the baseline to the last, and every
        value any release has (a modification may change one)."""
        rows = self.dataset.rows(db, table)
        per_release = [{row_of(rows, i, r)[column] for i in rows.as_of_view(r)} for r in range(1, self.last + 1)]
        kept = set.intersection(*per_release[self.baseline - 1:])
        ever = set.union(*per_release)
        order = [v for v in (row_of(rows, i, self.baseline)[column] for i in rows.as_of_view(self.baseline))
                 if v in kept]
        return list(dict.fromkeys(v for v in order if v is not None)), ever

    def qualifiers(self) -> list[Qualifier]:
        """Qualifiers whose text is there, with the same placeholders, from the baseline to the last release."""
        rows = self.dataset.rows("qdb", "Qualifier")
        out = []
        for i in range(rows.count(self.baseline)):
            texts = [row_of(rows, i, r)["QualifierText"] for r in range(self.baseline, self.last + 1)]
            kinds = {placeholders(t) for t in texts}
            if texts[0] and all(texts) and len(kinds) == 1:
                out.append(Qualifier(rows.key_value(i), texts[0], placeholders(texts[0])))
        return out

    # -- vehicles and their configs ------------------------------------------------------------

    def make_model_siblings(self, bv: int) -> list[int]:
        b = self.base_vehicles[bv]
        return self._by_make_model[(b.make, b.model)]

    def load_links(self, base_vehicles: Iterable[int]) -> None:
        """Read every link row of the vehicles of these base vehicles (and of every base vehicle of
        the same make and model, for year ranges): one pass over each VehicleTo* table."""
        wanted_bvs = {s for b in base_vehicles for s in self.make_model_siblings(b)} - self._loaded
        vehicles = {v.id: v for b in wanted_bvs for v in self.vehicles_by_bv.get(b, ())}
        self._loaded |= wanted_bvs
        if not vehicles:
            return
        for table in LINK_TABLES:
            rows = self.dataset.rows("vcdb", table)
            reached = [a for a in ATTRIBUTES if SYSTEMS[a.system].link == table]
            for i in range(rows.count(self.last)):
                r = row_of(rows, i, self.last)
                v = vehicles.get(r["VehicleID"])
                if v is None or v.loadable_from is None:
                    continue
                view = self._view(r, reached)
                if view is None:  # its config is missing (an anomaly): a loader dead-letters it
                    continue
                ended = rows.history.ended_in(i) if rows.endable else None
                self._links[v.id].append(Link(table, max(v.loadable_from, rows.history.added_in(i)), ended, view))

    def _config(self, table: str, column: str, value: object) -> dict[str, Any] | None:
        if not isinstance(value, int):
            return None
        key = (table, value)
        if key not in self._configs:
            rows = self.dataset.rows("vcdb", table)
            if rows.table.key != (column,):
                raise ValueError(f"{table} is joined on {column}, not on its key {rows.table.key}")
            i = index_of(rows, value)
            self._configs[key] = None if i is None else row_of(rows, i, self.last)
        return self._configs[key]

    def _view(self, link_row: dict[str, Any], reached: list[VehicleAttribute]) -> dict[str, int | None] | None:
        """Each attribute's value along the link row's chain of joined rows; None when the link's
        own target row is missing.  A deeper row missing (a NULL reference) leaves its attributes None."""
        out: dict[str, int | None] = {}
        for a in reached:
            system = SYSTEMS[a.system]
            assert system.link is not None
            chain: dict[str, dict[str, Any] | None] = {system.link: link_row}
            for n, join in enumerate(system.joins):
                previous = chain.get(join.previous)
                value = None if previous is None else previous.get(join.previous_column)
                chain[join.table] = self._config(join.table, join.column, value)
                if chain[join.table] is None and n == 0 and value is not None:
                    return None
            holder = chain.get(a.holder)
            out[a.element] = None if holder is None else holder.get(a.holder_column)
        return out

    def vehicles_of(self, ident: VehicleIdent) -> list[Vehicle]:
        if ident.base_vehicle is not None:
            bvs = [ident.base_vehicle] if ident.base_vehicle in self.base_vehicles else []
        else:
            assert ident.years is not None and ident.make is not None and ident.model is not None
            lo, hi = ident.years
            bvs = [b for b in self._by_make_model.get((ident.make, ident.model), ())
                   if lo <= self.base_vehicles[b].year <= hi]
        if not set(bvs) <= self._loaded:
            raise KeyError(f"links of base vehicles {sorted(set(bvs) - self._loaded)} were not loaded")
        return [v for b in bvs for v in self.vehicles_by_bv.get(b, ())
                if ident.submodel is None or v.submodel == ident.submodel]

    def links(self, vehicle: Vehicle) -> list[Link]:
        return self._links.get(vehicle.id, [])

    def stable_links(self, vehicle: Vehicle) -> list[Link]:
        return [k for k in self.links(vehicle) if k.loadable_from <= self.baseline and k.ended is None]

    def is_stable(self, vehicle: Vehicle) -> bool:
        return vehicle.loadable_from is not None and vehicle.loadable_from <= self.baseline

    def fits(self, vehicle: Vehicle, attrs: Mapping[str, int], link_ok: LinkFilter, *, strict: bool) -> bool:
        groups: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for element, value in attrs.items():
            a = ATTRIBUTE_BY_ELEMENT[element]
            system = SYSTEMS[a.system]
            if system.link is None:
                if vehicle.column(a.holder_column) != value:
                    return False
            else:
                groups[system.link if strict else system.name].append((element, value))
        links = self.links(vehicle)
        for key, items in groups.items():
            table = key if strict else SYSTEMS[key].link
            if not any(k.table == table and link_ok(k) and all(k.view.get(e) == val for e, val in items)
                       for k in links):
                return False
        return True

    def holds_throughout(self, ident: VehicleIdent, attrs: Mapping[str, int]) -> bool:
        """Some vehicle has every attribute (strictly) at the baseline and at every later release."""
        def ok(k: Link) -> bool:
            return k.loadable_from <= self.baseline and k.ended is None
        return any(self.is_stable(v) and self.fits(v, attrs, ok, strict=True) for v in self.vehicles_of(ident))

    def holds_at(self, ident: VehicleIdent, attrs: Mapping[str, int], release: int) -> bool:
        def ok(k: Link) -> bool:
            return k.loadable_from <= release and (k.ended is None or k.ended > release)
        return any(v.loadable_from is not None and v.loadable_from <= release and self.fits(v, attrs, ok, strict=True)
                   for v in self.vehicles_of(ident))

    def never_holds(self, ident: VehicleIdent, attrs: Mapping[str, int]) -> bool:
        """No vehicle of any release has the attributes, even loosely and through ended link rows."""
        return not any(v.loadable_from is not None and self.fits(v, attrs, lambda k: True, strict=False)
                       for v in self.vehicles_of(ident))
