"""The applications of the fitment files, one category at a time, each valid or wrong on purpose.

Every builder knows why its application is what it is: a valid one is built from one vehicle's
real link rows and checked to hold at the baseline and after (Reference.holds_throughout); a
bad one gets exactly one fault, which it records (`App.fault`, the dead-letter reason).  Ids
that must not exist are gaps in the simulator's id sequences, never published by any release.
Contents and fitment keys are registered, so nothing collides by chance: a duplicate or an
overlap only exists where a builder makes one.  Randomness is the `rng` passed in.
"""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from schemas.aces import ATTRIBUTE_BY_ELEMENT, ATTRIBUTES, SYSTEMS
from simulator.fitment_app import TRANSMISSION_PARTS, App, Content, Param, Qual, VehicleIdent, attributes
from simulator.fitment_reference import Qualifier, Reference, Vehicle

ATTRIBUTE_TABLES: tuple[str, ...] = tuple(dict.fromkeys(a.vcdb_table for a in ATTRIBUTES))
MISSING_BV = "missing_parent:vcdb.BaseVehicle"
INVALID = "invalid_combination"
PARAM_COUNT = "qualifier_param_count"
_NOTES = ("Left side", "Right side", "With sport package", "Without towing package", "Except heavy duty",
          "Includes hardware", "Front or rear", "Exc. HD cooling", "With factory skid plate", "Stainless")
_NAMES = ("Aisin", "Getrag", "Tremec", "Dana", "Bosch")


def missing(db: str, table: str) -> str:
    return f"missing_parent:{db}.{table}"


@dataclass(frozen=True)
class Part:
    number: str
    part_type: int
    position: int | None


class AppFactory:
    def __init__(self, reference: Reference, rng: random.Random, *, pool: int) -> None:
        self.ref = reference
        self.rng = rng
        base = reference.baseline
        usable = sorted(b for b, vs in reference.vehicles_by_bv.items()
                        if b in reference.base_vehicles and reference.base_vehicles[b].added <= base
                        and any(reference.is_stable(v) for v in vs))
        self.pool = sorted(rng.sample(usable, min(pool, len(usable))))
        self.late_pool = sorted(b for b, vs in reference.vehicles_by_bv.items()
                                if b in reference.base_vehicles and reference.base_vehicles[b].added > base
                                and any(v.loadable_from is not None for v in vs))
        reference.load_links(self.pool + self.late_pool)
        self.part_types = reference.stable_ids("pcdb", "Parts")
        positions = set(reference.stable_ids("pcdb", "Positions"))
        parts = set(self.part_types)
        self.part_positions = sorted({(r["PartTerminologyID"], r["PositionID"])
                                      for r in reference.stable_rows("pcdb", "PartPosition")
                                      if r["PartTerminologyID"] in parts and r["PositionID"] in positions})
        qualifiers = reference.qualifiers()
        self.plain_quals = [q for q in qualifiers if not q.placeholders]
        self.param_quals = [q for q in qualifiers if q.placeholders]
        self._ids: dict[str, list[int]] = {}
        self._contents: set[Content] = set()
        self._fitments: dict[tuple[object, ...], set[tuple[str, str]]] = defaultdict(set)
        self._parts: dict[str, list[Part]] = {}
        self._groups: dict[str, dict[tuple[int, int | None], list[Part]]] = {}

    # -- parts ----------------------------------------------------------------------------------

    def add_brand(self, brand: str, count: int) -> None:
        """`count` part numbers of `brand`, two to four per (part type, position) so overlaps exist."""
        kinds = self.part_positions + [(t, None) for t in self.part_types]
        parts: list[Part] = []
        while len(parts) < count:
            part_type, position = self.rng.choice(kinds)
            for _ in range(self.rng.randint(2, 4)):
                parts.append(Part(f"{brand[:2]}{10001 + len(parts):05d}", part_type, position))
        self._parts[brand] = parts
        groups: dict[tuple[int, int | None], list[Part]] = defaultdict(list)
        for p in parts:
            groups[(p.part_type, p.position)].append(p)
        self._groups[brand] = groups

    def parts(self, brand: str) -> list[Part]:
        return self._parts[brand]

    # -- what every builder shares -------------------------------------------------------------

    def _stable_vehicle(self, bv: int) -> Vehicle:
        return self.rng.choice([v for v in self.ref.vehicles_by_bv[bv] if self.ref.is_stable(v)])

    def _exists(self, element: str, value: int | None) -> bool:
        return value is not None and self.ref.exists("vcdb", ATTRIBUTE_BY_ELEMENT[element].vcdb_table, value)

    def ids(self, table: str) -> list[int]:
        if table not in self._ids:
            self._ids[table] = self.ref.stable_ids("vcdb", table)
        return self._ids[table]

    def _absent(self, db: str, table: str) -> int:
        return self.ref.absent(db, table, self.rng.randrange(1 << 30))

    def _qual(self, q: Qualifier, params: int | None = None) -> Qual:
        """Qualifier `q` with one param per placeholder (or `params` of them), text filled in."""
        kinds = q.placeholders if params is None else (q.placeholders + ("num",) * params)[:params]
        values = tuple(self._param(kind) for kind in kinds)
        text = q.text
        for n, p in enumerate(values, 1):
            text = text.replace(f'<p{n} type="{kinds[n - 1]}"/>', p.value + (f" {p.uom}" if p.uom else ""))
        return Qual(q.id, values, text)

    def _param(self, kind: str) -> Param:
        r = self.rng
        if kind == "size":
            return Param(str(r.choice((15, 16, 17, 18, 20))), "in")
        if kind == "weight":
            return Param(str(r.randrange(3000, 9000, 500)), "lb")
        if kind == "date":
            return Param(f"{r.randint(2005, 2024)}-{r.randint(1, 12):02d}-01")
        if kind == "name":
            return Param(r.choice(_NAMES))
        if kind == "idlist":
            return Param(",".join(str(n) for n in sorted(r.sample(range(1, 40), 3))))
        return Param(f"{r.randint(4, 40) / 4:g}")

    def _good_quals(self, with_params: bool) -> tuple[Qual, ...]:
        chosen: list[Qualifier] = []
        if with_params and self.param_quals:
            chosen.append(self.rng.choice(self.param_quals))
        if self.plain_quals and (not chosen or self.rng.random() < 0.3):
            chosen.append(self.rng.choice(self.plain_quals))
        return tuple(sorted(self._qual(q) for q in dict.fromkeys(chosen)))

    def _app(self, brand: str, ident: VehicleIdent, attrs: dict[str, int], *, category: str,
             quals: tuple[Qual, ...] = (), part: Part | None = None, part_type: int | None = None,
             position: int | None = None, no_position: bool = False, fault: str | None = None,
             validate: bool = True, late: bool = False, overlap: bool = False,
             fits_nothing: bool = False) -> App | None:
        """Register and dress an application; None when its content or fitment is taken."""
        part = part or self.rng.choice(self._parts[brand])
        content = Content(brand, part.number, ident, attributes(attrs), tuple(sorted(quals)),
                          part.part_type if part_type is None else part_type,
                          None if no_position else part.position if position is None else position)
        if content in self._contents or (self._fitments[content.fitment] and not overlap):
            return None
        self._contents.add(content)
        self._fitments[content.fitment].add((brand, part.number))
        return dataclasses.replace(self.dress(App("A", content)), validate=validate, fault=fault, category=category,
                                   late=late, fits_nothing=fits_nothing)

    def dress(self, app: App) -> App:
        """Notes, quantity, label and display order: what a later delivery may change."""
        r = self.rng
        notes = tuple(r.sample(_NOTES, r.choice((0, 0, 1, 1, 2))))
        return dataclasses.replace(app, notes=notes, qty=r.choice((1, 1, 1, 2, 2, 4)),
                                   mfr_label=r.choice((None, None, "Premium", "Heavy Duty", "OE Replacement")),
                                   display_order=r.choice((None, None, None, r.randint(1, 9))),
                                   branded_part=r.random() < 0.2)

    def build(self, make: Callable[[], App | None], tries: int = 200) -> App | None:
        for _ in range(tries):
            app = make()
            if app is not None:
                return app
        return None

    # -- valid applications --------------------------------------------------------------------

    def _pick_attributes(self, v: Vehicle, tables: int, per: int, one_system: bool) -> dict[str, int]:
        by_table: dict[str, list[dict[str, int | None]]] = defaultdict(list)
        for k in self.ref.stable_links(v):
            by_table[k.table].append(dict(k.view))
        chosen: dict[str, int] = {}
        for table in self.rng.sample(sorted(by_table), min(tables, len(by_table))):
            view = self.rng.choice(by_table[table])
            options = [(e, val) for e, val in view.items() if val is not None and self._exists(e, val)]
            if one_system and options:
                system = self.rng.choice(sorted({ATTRIBUTE_BY_ELEMENT[e].system for e, _ in options}))
                options = [(e, val) for e, val in options if ATTRIBUTE_BY_ELEMENT[e].system == system]
            for e, val in self.rng.sample(options, min(per, len(options))):
                chosen[e] = val
        if "TransmissionBase" in chosen and TRANSMISSION_PARTS & set(chosen):
            for e in TRANSMISSION_PARTS:
                chosen.pop(e, None)
        return chosen

    def valid(self, brand: str, kind: str) -> App | None:
        """kind: bv, submodel, one_attribute, one_system, several_systems, quals, years."""
        bv = self.rng.choice(self.pool)
        v = self._stable_vehicle(bv)
        attrs: dict[str, int] = {}
        submodel = None
        quals: tuple[Qual, ...] = ()
        if kind in ("submodel", "several_systems") and self.ref.exists("vcdb", "SubModel", v.submodel):
            submodel = v.submodel
        if kind == "one_attribute":
            attrs = self._pick_attributes(v, 1, 1, True)
        elif kind == "one_system":
            attrs = self._pick_attributes(v, 1, self.rng.randint(2, 4), True)
            if len(attrs) < 2:
                return None
        elif kind == "several_systems":
            attrs = self._pick_attributes(v, self.rng.randint(2, 4), self.rng.randint(1, 3), False)
            if self.rng.random() < 0.3 and self._exists("Region", v.region):
                attrs["Region"] = v.region
            if len({ATTRIBUTE_BY_ELEMENT[e].system for e in attrs}) < 2:
                return None
        elif kind == "quals":
            attrs = self._pick_attributes(v, 1, 1, True) if self.rng.random() < 0.5 else {}
            quals = self._good_quals(True)
        elif kind == "years":
            b = self.ref.base_vehicles[bv]
            ident = VehicleIdent(years=(max(1896, b.year - self.rng.randint(0, 2)), b.year + self.rng.randint(0, 2)),
                                 make=b.make, model=b.model)
            attrs = self._pick_attributes(v, 1, 2, True) if self.rng.random() < 0.5 else {}
        if kind in ("one_attribute", "one_system", "several_systems") and not attrs:
            return None
        if kind != "years":
            ident = VehicleIdent(base_vehicle=bv, submodel=submodel)
        if kind != "quals" and self.rng.random() < 0.15:
            quals = self._good_quals(self.rng.random() < 0.5)
        if not self.ref.holds_throughout(ident, attrs):
            raise AssertionError(f"a valid {kind} application does not hold: {ident} {attrs}")
        return self._app(brand, ident, attrs, category=kind, quals=quals)

    def overlap_of(self, app: App) -> App | None:
        """The same fitment with another part of the same part type and position."""
        c = app.content
        group = self._groups[c.brand].get((c.part_type, c.position), [])
        others = [p for p in group if p.number != c.part]
        if not others:
            return None
        return self._app(c.brand, c.vehicle, dict(c.attributes), category="overlap", quals=c.quals,
                         part=self.rng.choice(others), overlap=True, validate=app.validate, fault=app.fault,
                         late=app.late, fits_nothing=app.fits_nothing)

    def repart(self, app: App) -> App | None:
        """A changed application: the same fitment, another part (a supersession)."""
        found = self.overlap_of(app)
        return None if found is None else dataclasses.replace(found, category="changed")

    # -- bad applications: exactly one fault each -----------------------------------------------

    def _plain_vehicle(self) -> tuple[VehicleIdent, Vehicle]:
        bv = self.rng.choice(self.pool)
        return VehicleIdent(base_vehicle=bv), self._stable_vehicle(bv)

    def missing_parent(self, brand: str, what: str, *, validate: bool = True) -> App | None:
        """what: BaseVehicle, SubModel, Make, Model, Parts, Positions, Qualifier or an attribute element."""
        ident, _ = self._plain_vehicle()
        attrs: dict[str, int] = {}
        part_type = position = None
        quals: tuple[Qual, ...] = ()
        if what == "BaseVehicle":
            ident, reason = VehicleIdent(base_vehicle=self._absent("vcdb", "BaseVehicle")), MISSING_BV
        elif what == "SubModel":
            ident, reason = VehicleIdent(base_vehicle=ident.base_vehicle,
                                         submodel=self._absent("vcdb", "SubModel")), missing("vcdb", "SubModel")
        elif what in ("Make", "Model"):
            b = self.ref.base_vehicles[self.rng.choice(self.pool)]
            make = self._absent("vcdb", "Make") if what == "Make" else b.make
            model = self._absent("vcdb", "Model") if what == "Model" else b.model
            ident, reason = VehicleIdent(years=(b.year, b.year + 1), make=make, model=model), missing("vcdb", what)
        elif what == "Parts":
            part_type, reason = self._absent("pcdb", "Parts"), missing("pcdb", "Parts")
        elif what == "Positions":
            position, reason = self._absent("pcdb", "Positions"), missing("pcdb", "Positions")
        elif what == "Qualifier":
            quals = (Qual(self._absent("qdb", "Qualifier"), (), "with special order package"),)
            reason = missing("qdb", "Qualifier")
        else:
            table = ATTRIBUTE_BY_ELEMENT[what].vcdb_table
            attrs, reason = {what: self._absent("vcdb", table)}, missing("vcdb", table)
        category = f"missing:{what}" if validate else f"validate_no_missing:{what}"
        return self._app(brand, ident, attrs, category=category, fault=reason, validate=validate, quals=quals,
                         part_type=part_type, position=position, no_position=what == "Parts")

    def param_count(self, brand: str) -> App | None:
        ident, _ = self._plain_vehicle()
        q = self.rng.choice(self.param_quals + self.plain_quals)
        wrong = len(q.placeholders) + 1 if not q.placeholders or self.rng.random() < 0.5 else 0
        return self._app(brand, ident, {}, category="param_count", quals=(self._qual(q, wrong),), fault=PARAM_COUNT)

    def _foreign(self, ident: VehicleIdent, v: Vehicle) -> dict[str, int] | None:
        """One attribute of a system the vehicle has, with an existing id no vehicle of `ident` has."""
        tables = sorted({k.table for k in self.ref.stable_links(v)})
        if not tables:
            return None
        table = self.rng.choice(tables)
        element = self.rng.choice([a.element for a in ATTRIBUTES if SYSTEMS[a.system].link == table])
        held = {k.view.get(element) for u in self.ref.vehicles_of(ident) for k in self.ref.links(u) if k.table == table}
        options = [i for i in self.ids(ATTRIBUTE_BY_ELEMENT[element].vcdb_table) if i not in held]
        return {element: self.rng.choice(options)} if options else None

    def invalid(self, brand: str, kind: str, *, validate: bool = True) -> App | None:
        """kind: foreign (an id the base vehicle's vehicles never have), cross (two attributes of two
        vehicles of one base vehicle that no vehicle has together), years (a year range whose vehicles
        lack an attribute)."""
        bv = self.rng.choice(self.pool)
        b = self.ref.base_vehicles[bv]
        v = self._stable_vehicle(bv)
        ident = VehicleIdent(base_vehicle=bv)
        attrs: dict[str, int] | None
        if kind == "foreign":
            attrs = self._foreign(ident, v)
        elif kind == "cross":
            others = [u for u in self.ref.vehicles_by_bv[bv] if u.id != v.id and self.ref.is_stable(u)]
            if not others:
                return None
            a1 = self._pick_attributes(v, 1, 1, True)
            a2 = self._pick_attributes(self.rng.choice(others), 1, 1, True)
            attrs = {**a1, **a2} if len(a1) == len(a2) == 1 and set(a1) != set(a2) else None
            if attrs is not None and "TransmissionBase" in attrs and TRANSMISSION_PARTS & set(attrs):
                attrs = None
        else:
            ident = VehicleIdent(years=(b.year - 1, b.year + 1), make=b.make, model=b.model)
            attrs = self._foreign(ident, v)
        if attrs is None or not all(self._exists(e, val) for e, val in attrs.items()):
            return None
        if not self.ref.never_holds(ident, attrs):
            return None
        category = f"invalid:{kind}" if validate else f"validate_no:{kind}"
        return self._app(brand, ident, attrs, category=category, fault=INVALID if validate else None,
                         validate=validate, fits_nothing=True)

    def fits_nothing(self, brand: str) -> App | None:
        """A year range of a make and model that names nothing else, over years with no base vehicle
        of them in any release: valid (every id exists, and naming no attribute and no submodel it
        is no combination), it loads and fits no vehicle."""
        b = self.ref.base_vehicles[self.rng.choice(self.pool)]
        years = {self.ref.base_vehicles[s].year for s in self.ref.make_model_siblings(b.id)}
        start = self.rng.randint(1950, 2000)
        if years & {start, start + 1}:
            return None
        ident = VehicleIdent(years=(start, start + 1), make=b.make, model=b.model)
        if not self.ref.never_holds(ident, {}):
            return None
        return self._app(brand, ident, {}, category="fits_nothing", fits_nothing=True)

    def late(self, brand: str) -> App | None:
        """An application on a base vehicle a later release publishes: missing at the baseline,
        valid once the last release is loaded."""
        if not self.late_pool:
            return None
        bv = self.rng.choice(self.late_pool)
        v = self.rng.choice([u for u in self.ref.vehicles_by_bv[bv] if u.loadable_from is not None])
        submodel = v.submodel if self.rng.random() < 0.5 and self.ref.exists("vcdb", "SubModel", v.submodel) else None
        ident = VehicleIdent(base_vehicle=bv, submodel=submodel)
        attrs = {"Region": v.region} if self.rng.random() < 0.3 and self._exists("Region", v.region) else {}
        if self.ref.exists("vcdb", "BaseVehicle", bv) or not self.ref.holds_at(ident, attrs, self.ref.last):
            raise AssertionError(f"late base vehicle {bv} is not late or its application does not hold at the end")
        return self._app(brand, ident, attrs, category="late", fault=MISSING_BV, late=True)
