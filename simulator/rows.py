"""One simulated table: row i's key, references and values at any release, computed on demand.

Nothing per row is stored.  Row i's id is `base + i * stride + hash(i) % stride`: sparse like
AutoCare's ids (reference [3]: a 2025 BaseVehicleID is 177696 with ~81k rows) and increasing
with i, so index order is key order.  A reference picks, by hash, a parent row published no
later than the child and never ended (only unreferenced tables end rows), so it holds on every
date the child is visible -- except the deliberate anomalies:

* missing parent: a Vehicle's BaseVehicleID or a VehicleToEngineConfig's EngineConfigID
  (-> EngineConfig2, reference [2.1]) is an id inside a gap of the parent's id sequence, which no
  release ever publishes (nexus needed `--skip-missing-engineconfig2` for this, reference [5]);
* late parent: a Vehicle of release 1 whose BaseVehicle is first published in release 2.

Children never pick an anomalous parent, so anomalies never cascade.
"""

from __future__ import annotations

import datetime as dt
import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemas import api_map
from schemas.catalog import Column, Table
from simulator import sizing, values
from simulator.config import DatasetConfig
from simulator.hashing import mix, seed_of, unit
from simulator.history import TableHistory
from simulator.views import IndexView

MISSING_PARENT: dict[tuple[str, str], str] = {("vcdb", "Vehicle"): "BaseVehicleID",
                                              ("vcdb", "VehicleToEngineConfig"): "EngineConfigID"}
LATE_PARENT: dict[tuple[str, str], str] = {("vcdb", "Vehicle"): "BaseVehicleID"}
# A release that adds base vehicles adds vehicles of them: this share of the Vehicles a later
# release adds picks its BaseVehicle among the ones that release adds (ACES apps on a base vehicle
# of a later release need a Vehicle there to be valid).
FRESH_PARENT: dict[tuple[str, str], str] = {("vcdb", "Vehicle"): "BaseVehicleID"}
FRESH_PARENT_SHARE = 0.5
# Columns that hold another table's key without any FK (declared or logical) saying so.
IMPLIED_REFERENCES: dict[tuple[str, str, str], tuple[str, str]] = {
    ("pcdb", "PartsSupersession", "OldPartTerminologyID"): ("pcdb", "Parts"),
    ("pcdb", "PartsSupersession", "NewPartTerminologyID"): ("pcdb", "Parts"),
}
# Composite keys that are not a link between two tables: this column makes the row unique.
UNIQUE_COLUMN: dict[tuple[str, str], str] = {("pcdb", "ACESCodedValues"): "CodedValue",
                                             ("vcdb", "VCdbChanges"): "ID"}
RELEASE_STAMPED = frozenset({("vcdb", "VCdbChanges", "VersionDate")})
LAST_YEAR = 2026
CULTURE = "en-US"
NULL_RATE = 0.05
FK_NULL_RATE = 0.15
SELF_FK_NULL_RATE = 0.9
_NULL_SALT = 0x4E554C4C
_ANOMALY_SALT = 0x414E4F4D
_MODCOL_SALT = 0x4D434F4C
_FRESH_SALT = 0x46524553
_CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Column roles
_SPARSE, _YEAR, _CODE, _PAIR_A, _PAIR_B, _UNIQUE_INT, _UNIQUE_STR, _STAMP, _FK, _VALUE, _KEY_VALUE = range(11)

Resolver = Callable[[str, str], "TableRows"]


@dataclass(frozen=True)
class BrokenReference:
    kind: str  # "missing_parent" | "late_parent"
    column: str  # AutoCare column name of the child
    ref_db: str
    ref_table: str
    missing_key: tuple[Any, ...]
    parent_release: int | None  # the release that publishes the parent; None: never


@dataclass(frozen=True)
class _Plan:
    role: int
    column: Column
    salt: int
    parent: TableRows | None = None
    nullable: bool = False
    gen: values.Generator | None = None
    correlated: bool = False


class TableRows:
    def __init__(self, table: Table, config: DatasetConfig, resolve: Resolver, *, endable: bool) -> None:
        self.table = table
        self.db = table.db
        self.config = config
        self.timeline = config.timeline
        self.seed = seed_of(config.seed, table.db, table.name)
        self.stride = 1 if self._is_year() else 2 + self.seed % 3
        self.base = 1 + (self.seed >> 8) % 50
        self.culture = table.name in api_map.CULTURE_TABLES.get(table.db, frozenset())
        self.api_columns = tuple(c for c in table.columns if c.in_api and not c.meta)
        self.api_fields = tuple(c.api_field for c in self.api_columns)
        self.temporal = tuple(c.python_type in ("datetime.datetime", "datetime.date") for c in self.api_columns)
        self.has_temporal = any(self.temporal)
        self._release_days = tuple(d.isoformat() for d in config.timeline.dates)
        self._pair_k = 1
        self._pair_step = 1
        self._unique = self._unique_column()
        self.plans = tuple(self._plan(c, resolve) for c in self.api_columns)
        self.modifiable = tuple(i for i, p in enumerate(self.plans) if p.role == _VALUE)
        self._anomaly_column = MISSING_PARENT.get((self.db, table.name))
        self._late_column = LATE_PARENT.get((self.db, table.name))
        self._fresh_column = FRESH_PARENT.get((self.db, table.name))
        self._key_positions = tuple(next(i for i, c in enumerate(self.api_columns) if c.name == k)
                                    for k in table.key)
        self._key_plan = self.plans[self._key_positions[0]]
        initial = sizing.initial_count(self.db, table.name, config.scale)
        counts = sizing.release_counts(initial, self.timeline.count, config.growth, self._capacity())
        self.endable = endable
        self.history = TableHistory.build(self.seed, counts, end_rate=config.end_rate,
                                          modify_rate=config.modify_rate, endable=endable,
                                          modifiable=bool(self.modifiable))
        self._late_ok = self._late_possible()
        pair = self._pair_parents()
        if pair is not None:
            a, b = pair
            self._pair_k = max(1, math.ceil(counts[-1] / a.count(1)))
            self._pair_step = max(1, b.count(1) // self._pair_k)
        self._views: dict[tuple[int, int, bool], IndexView] = {}

    # -- construction ---------------------------------------------------------------------------

    def _is_year(self) -> bool:
        return (self.db, self.table.name) == ("vcdb", "Year")

    def _ref(self, column: str) -> tuple[str, str] | None:
        fk = next((f for f in self.table.foreign_keys if f.columns == (column,)), None)
        return (fk.ref_db, fk.ref_table) if fk else IMPLIED_REFERENCES.get((self.db, self.table.name, column))

    def _unique_column(self) -> str | None:
        """The key column that alone makes a composite key unique; None for a single key or a
        link between two tables (whose pair of references is unique by construction)."""
        key = self.table.key
        if len(key) == 1:
            return None
        named = UNIQUE_COLUMN.get((self.db, self.table.name))
        if named is not None:
            return named
        if len(key) == 2 and all(self._ref(k) is not None for k in key):
            return None
        return next((k for k in reversed(key) if (self.db, self.table.name, k) not in RELEASE_STAMPED), key[-1])

    def _plan(self, column: Column, resolve: Resolver) -> _Plan:
        salt = seed_of(column.name)
        key = self.table.key
        name = (self.db, self.table.name)
        ref = self._ref(column.name)
        parent = None if ref is None else self if ref == name else resolve(*ref)
        if column.name in key:
            if (*name, column.name) in RELEASE_STAMPED:
                return _Plan(_STAMP, column, salt)
            if len(key) == 1:
                role = _YEAR if self._is_year() else _CODE if column.python_type == "str" else _SPARSE
                return _Plan(role, column, salt)
            if self._unique == column.name:
                return _Plan(_UNIQUE_STR if column.python_type == "str" else _UNIQUE_INT, column, salt)
            if self._unique is None and parent is not None:
                return _Plan(_PAIR_A if column.name == key[0] else _PAIR_B, column, salt, parent)
            if parent is not None:
                return _Plan(_FK, column, salt, parent)
            return _Plan(_KEY_VALUE, column, salt, gen=values.generator_for(column))
        if parent is not None:
            return _Plan(_FK, column, salt, parent, nullable=column.nullable)
        return _Plan(_VALUE, column, salt, nullable=column.nullable, gen=values.generator_for(column),
                     correlated=column.name in values.ROW_CORRELATED)

    def _pair_parents(self) -> tuple[TableRows, TableRows] | None:
        a = next((p.parent for p in self.plans if p.role == _PAIR_A), None)
        b = next((p.parent for p in self.plans if p.role == _PAIR_B), None)
        return (a, b) if a is not None and b is not None else None

    def _capacity(self) -> int:
        pair = self._pair_parents()
        if pair is not None:
            return pair[0].count(1) * pair[1].count(1)
        if any(p.role == _CODE for p in self.plans):
            width: int = min(6, next(p.column.max_length or 3 for p in self.plans if p.role == _CODE))
            return int(len(_CODE_ALPHABET) ** width) // self.stride
        return (sizing.MAX_ID - self.base) // self.stride

    # -- identity -------------------------------------------------------------------------------

    def count(self, release: int) -> int:
        return self.history.count(release)

    @property
    def total(self) -> int:
        return self.history.counts[-1]

    def id_of(self, i: int) -> int:
        if self.stride == 1:
            return LAST_YEAR - self.count(1) + 1 + i if self._is_year() else self.base + i
        return self.base + i * self.stride + mix(self.seed, i) % self.stride

    def gap_id(self, i: int) -> int:
        """An id between row i's and row i+1's: no release ever publishes it."""
        return self.base + i * self.stride + (mix(self.seed, i) % self.stride + 1) % self.stride

    def key_value(self, i: int) -> Any:
        """The value other tables store to reference row i (its single key column)."""
        if self._key_plan.role == _CODE:
            return self._code(self.id_of(i), self._key_plan.column)
        return self.id_of(i)

    def _code(self, n: int, column: Column) -> str:
        width = min(6, column.max_length or 3)
        out = []
        for _ in range(width):
            n, r = divmod(n, len(_CODE_ALPHABET))
            out.append(_CODE_ALPHABET[r])
        return "".join(reversed(out))

    # -- anomalies ------------------------------------------------------------------------------

    @property
    def has_anomalies(self) -> bool:
        return self._anomaly_column is not None

    def anomaly_kind(self, i: int) -> str | None:
        rate = self.config.anomalies
        if self._anomaly_column is None or rate <= 0:
            return None
        u = unit(mix(self.seed ^ _ANOMALY_SALT, i))
        if u < rate:
            return "missing_parent"
        if (self._late_ok and u < rate * (1 + self.config.late_parent_share)
                and self.history.added_in(i) == 1):
            return "late_parent"
        return None

    def _late_possible(self) -> bool:
        if self._late_column is None or self.timeline.count < 2:
            return False
        plan = next(p for p in self.plans if p.column.name == self._late_column)
        assert plan.parent is not None
        return plan.parent.count(2) > plan.parent.count(1)

    def anomaly(self, i: int) -> BrokenReference | None:
        kind = self.anomaly_kind(i)
        if kind is None:
            return None
        column = self._late_column if kind == "late_parent" else self._anomaly_column
        plan = next(p for p in self.plans if p.column.name == column)
        assert plan.parent is not None and column is not None
        value = self._reference(plan, i, mix(self.seed, i), self.history.added_in(i), kind)
        release = 2 if kind == "late_parent" else None
        return BrokenReference(kind, column, plan.parent.db, plan.parent.table.name, (value,), release)

    # -- values ---------------------------------------------------------------------------------

    def _reference(self, plan: _Plan, i: int, rh: int, added: int, anomaly: str | None) -> Any:
        parent = plan.parent
        assert parent is not None
        h = mix(rh, plan.salt)
        if parent is self:  # a replacement row published before this one (Qdb NewQualifierID)
            if i == 0 or (plan.nullable and unit(mix(h, _NULL_SALT)) < SELF_FK_NULL_RATE):
                return None
            return self.key_value(h % i)
        if plan.nullable and unit(mix(h, _NULL_SALT)) < FK_NULL_RATE:
            return None
        if anomaly is not None and plan.column.name == (
                self._late_column if anomaly == "late_parent" else self._anomaly_column):
            if anomaly == "missing_parent":
                return parent.gap_id(h % parent.count(added))
            first, second = parent.count(1), parent.count(2)
            return parent.key_value(first + h % (second - first))
        n = parent.count(added)
        if added >= 2 and plan.column.name == self._fresh_column:
            first = parent.count(added - 1)
            if n > first and unit(mix(h, _FRESH_SALT)) < FRESH_PARENT_SHARE:
                return parent.key_value(first + h % (n - first))
        j = h % n
        if parent._anomaly_column is not None:
            for _ in range(64):
                if parent.anomaly_kind(j) is None:
                    break
                j = (j + 1) % n
        return parent.key_value(j)

    def _value(self, plan: _Plan, i: int, rh: int, versions: list[int]) -> Any:
        value = self._generate(plan, i, rh, 0)
        for m in versions:
            for attempt in range(8):
                new = self._generate(plan, i, rh, m * 16 + attempt + 1)
                if new != value:
                    value = new
                    break
        return value

    def _generate(self, plan: _Plan, i: int, rh: int, salt: int) -> Any:
        assert plan.gen is not None
        h = mix(rh, salt) if plan.correlated else mix(rh, plan.salt ^ (salt * 0x9E3779B1))
        if plan.nullable and unit(mix(h, _NULL_SALT)) < NULL_RATE:
            return None
        return values.fit(plan.gen(h, i, salt), plan.column)

    def values(self, i: int, release: int) -> tuple[list[Any], int, int | None]:
        """Row i as of `release`: typed values of `api_columns`, the release of its current
        version, and the release that ended it (None: live)."""
        if not 0 <= i < self.count(release):
            raise IndexError(f"{self.table.name} row {i} is not published by release {release}")
        rh = mix(self.seed, i)
        added = self.history.added_in(i)
        mods = self.history.modified_in(i, release) if self.modifiable else []
        chosen: dict[int, list[int]] = {}
        for m in mods:
            col = self.modifiable[mix(self.seed ^ _MODCOL_SALT, i * 64 + m) % len(self.modifiable)]
            chosen.setdefault(col, []).append(m)
        anomaly = self.anomaly_kind(i) if self._anomaly_column is not None else None
        out: list[Any] = []
        for pos, plan in enumerate(self.plans):
            role = plan.role
            if role == _FK:
                out.append(self._reference(plan, i, rh, added, anomaly))
            elif role == _SPARSE or role == _UNIQUE_INT or role == _YEAR:
                out.append(self.id_of(i))
            elif role == _VALUE:
                out.append(self._value(plan, i, rh, chosen.get(pos, [])))
            elif role == _KEY_VALUE:
                out.append(self._generate(plan, i, rh, 0))
            elif role == _CODE:
                out.append(self._code(self.id_of(i), plan.column))
            elif role == _UNIQUE_STR:
                out.append(f"{self.id_of(i):07d}")
            elif role == _STAMP:
                out.append(dt.datetime.combine(self.timeline.date_of(added), dt.time()))
            else:
                out.append(self._pair_value(plan, i))
        ended = self.history.ended_in(i) if self.endable else None
        return out, (mods[-1] if mods else added), (ended if ended is not None and ended <= release else None)

    def _pair_value(self, plan: _Plan, i: int) -> Any:
        assert plan.parent is not None
        p, t = divmod(i, self._pair_k)
        if plan.role == _PAIR_A:
            return plan.parent.key_value(p)
        q = mix(self.seed, p) % self._pair_step + t * self._pair_step
        return plan.parent.key_value(q)

    def stamp(self, i: int, release: int) -> dt.datetime:
        """When row i's change of `release` took effect: on the release date, at a time of day
        of its own (records show times like 2017-04-21T13:21:29, reference [1.4])."""
        seconds = mix(self.seed, i * 64 + release) % 86400
        return dt.datetime.combine(self.timeline.date_of(release), dt.time()) + dt.timedelta(seconds=seconds)

    def stamp_text(self, i: int, release: int) -> str:
        """`stamp` as the API writes it, without building a datetime (the hot path)."""
        seconds = mix(self.seed, i * 64 + release) % 86400
        hours, rest = divmod(seconds, 3600)
        return f"{self._release_days[release - 1]}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"

    def key(self, i: int, release: int | None = None) -> tuple[Any, ...]:
        vals, _, _ = self.values(i, release or self.timeline.count)
        return tuple(vals[p] for p in self._key_positions)

    # -- views ----------------------------------------------------------------------------------

    def as_of_view(self, release: int, *, include_ended: bool = False) -> IndexView:
        """Rows in force at `release`: published by then, not ended by then."""
        cache_key = (release, -1, include_ended)
        view = self._views.get(cache_key)
        if view is None:
            holes = array("q") if include_ended else self.history.ended_by(release)
            view = self._views[cache_key] = IndexView(0, self.count(release), holes)
        return view

    def since_view(self, after: int, now: int) -> IndexView:
        """Rows whose latest change (added, modified or ended) is in releases (after, now]."""
        cache_key = (after, now, True)
        view = self._views.get(cache_key)
        if view is None:
            if after >= now:
                view = IndexView(0, 0)
            else:
                view = IndexView(self.count(after), self.count(now), explicit=self.history.touched(after, now))
            self._views[cache_key] = view
        return view
