"""The four ACES deliveries, in load order, and how many applications of each category they hold.

1. FULL of brand 1: mostly valid applications (base vehicle, submodel, attributes of one or
   several systems, qualifiers with params, year ranges, `validate="no"`, year ranges naming
   nothing else over years without a base vehicle, which load and fit no vehicle), bad ones of
   every reason, late ones, duplicates, overlaps and `D` records (which a FULL file ignores);
2. FULL of brand 2 (a later FULL of brand 1 must not end these);
3. UPDATE of brand 1: deletes matching loaded applications as delivered, new ones, D+A pairs
   that change an application, a re-delivery that replaces one, a delete of something never
   loaded, a few bad ones;
4. FULL of brand 1 again: most live applications (some re-dressed), some left out (they end),
   the open dead letters of the brand delivered again, ended ones revived, new ones.

Counts scale with `n` (the size of file 1) and are never below two, so every category exists
at any scale.  Randomness is the `rng` passed in.
"""

from __future__ import annotations

import dataclasses
import random
import string
from collections.abc import Callable

from schemas.aces import ATTRIBUTES
from simulator.fitment_app import App
from simulator.fitment_factory import ATTRIBUTE_TABLES, AppFactory
from simulator.fitment_oracle import FULL, UPDATE, Delivery, LoadModel

VALID_SHARES: dict[str, float] = {"bv": 0.12, "submodel": 0.10, "one_attribute": 0.16, "one_system": 0.14,
                                  "several_systems": 0.14, "quals": 0.06, "years": 0.07}
MISSING_IDENTS = ("BaseVehicle", "SubModel", "Make", "Model", "Parts", "Positions", "Qualifier")
INVALID_KINDS = {"foreign": 0.015, "cross": 0.01, "years": 0.005}
BRAND_LETTERS = ("BCDFGHJKLMNPQRSTVWXYZ", "BCDFGHJKLMNPQRSTUVWXYZ", "BCDEFGHIJKLMNPQRSTVWXYZ", string.ascii_uppercase)


def brand_codes(rng: random.Random, count: int = 2) -> list[str]:
    """Brand codes of the ACES 4.2 pattern `[B-Z-[EIOU]][B-Z-[EIO]][B-Z-[OU]][A-Z]`, first two letters distinct."""
    out: list[str] = []
    while len(out) < count:
        code = "".join(rng.choice(letters) for letters in BRAND_LETTERS)
        if all(code[:2] != c[:2] for c in out):
            out.append(code)
    return out


class Planner:
    def __init__(self, factory: AppFactory, rng: random.Random, n: int) -> None:
        self.f = factory
        self.rng = rng
        self.n = n

    def count(self, share: float, n: int | None = None) -> int:
        return max(2, round(share * (self.n if n is None else n)))

    def _fill(self, out: list[App], times: int, make: Callable[[], App | None]) -> None:
        for _ in range(times):
            app = self.f.build(make)
            if app is not None:
                out.append(app)

    def _valid(self, out: list[App], brand: str, n: int) -> None:
        for kind, share in VALID_SHARES.items():
            self._fill(out, self.count(share, n), lambda k=kind: self.f.valid(brand, k))  # type: ignore[misc]

    def _after(self, apps: list[App], original: App, extra: App) -> None:
        """Insert `extra` somewhere after `original` (a duplicate, or a D that must not apply)."""
        at = next(i for i, a in enumerate(apps) if a is original)
        apps.insert(self.rng.randint(at + 1, len(apps)), extra)

    def _copies(self, apps: list[App], times: int, category: str, action: str = "A") -> None:
        loaded = [a for a in apps if a.fault is None and a.action == "A" and a.category != "duplicate"]
        for original in self.rng.sample(loaded, min(times, len(loaded))):
            copy = self.f.dress(original) if action == "A" else original
            self._after(apps, original, dataclasses.replace(copy, action=action, category=category))

    def _overlaps(self, apps: list[App], times: int) -> None:
        loaded = [a for a in apps if a.fault is None and a.action == "A"]
        for original in self.rng.sample(loaded, min(4 * times, len(loaded))):
            if times == 0:
                break
            extra = self.f.overlap_of(original)
            if extra is not None:
                apps.append(extra)
                times -= 1

    def first_full(self, brand: str) -> Delivery:
        f, apps = self.f, list[App]()
        self._valid(apps, brand, self.n)
        self._fill(apps, self.count(0.02), lambda: f.invalid(brand, "foreign", validate=False))
        for what in MISSING_IDENTS:
            self._fill(apps, self.count(0.008), lambda w=what: f.missing_parent(brand, w))  # type: ignore[misc]
        for table in ATTRIBUTE_TABLES:
            elements = [a.element for a in ATTRIBUTES if a.vcdb_table == table]
            for k in range(self.count(0.001)):
                self._fill(apps, 1, lambda e=elements[k % len(elements)]: f.missing_parent(brand, e))  # type: ignore[misc]
        self._fill(apps, self.count(0.01), lambda: f.param_count(brand))
        for kind, share in INVALID_KINDS.items():
            self._fill(apps, self.count(share), lambda k=kind: f.invalid(brand, k))  # type: ignore[misc]
        self._fill(apps, self.count(0.005), lambda: f.fits_nothing(brand))
        for k in range(self.count(0.002)):
            element = ("EngineBase", "FrontBrakeType", "SubModel")[k % 3]
            self._fill(apps, 1, lambda e=element: f.missing_parent(brand, e, validate=False))  # type: ignore[misc]
        self._fill(apps, self.count(0.004), lambda: f.late(brand))
        self._overlaps(apps, self.count(0.02))
        self.rng.shuffle(apps)
        self._copies(apps, self.count(0.02), "duplicate")
        self._copies(apps, self.count(0.005), "d_in_full", action="D")
        return Delivery(f"01_aces_full_{brand}.xml", brand, FULL, tuple(apps))

    def other_full(self, brand: str) -> Delivery:
        f, apps, n = self.f, list[App](), self.n // 2
        self._valid(apps, brand, n)
        for what in ("BaseVehicle", "Parts"):
            self._fill(apps, self.count(0.005, n), lambda w=what: f.missing_parent(brand, w))  # type: ignore[misc]
        self._fill(apps, self.count(0.005, n), lambda: f.invalid(brand, "foreign"))
        self._fill(apps, self.count(0.005, n), lambda: f.param_count(brand))
        self._overlaps(apps, self.count(0.02, n))
        self.rng.shuffle(apps)
        self._copies(apps, self.count(0.02, n), "duplicate")
        return Delivery(f"02_aces_full_{brand}.xml", brand, FULL, tuple(apps))

    def update(self, brand: str, model: LoadModel) -> Delivery:
        """Units (a D+A pair stays in order) in random order."""
        f = self.f
        live = [a for c, a in model.live.items() if c.brand == brand]
        sizes = (self.count(0.05), self.count(0.02), self.count(0.01), self.count(0.01))
        picked = self.rng.sample(live, min(len(live), sum(sizes)))
        deletes, reparts, renotes, replaces = (picked[sum(sizes[:k]):sum(sizes[:k + 1])] for k in range(4))
        units: list[list[App]] = [[dataclasses.replace(a, action="D", category="delete")] for a in deletes]
        for app in reparts:
            changed = f.repart(app)
            if changed is not None:
                units.append([dataclasses.replace(app, action="D", category="change:part"), changed])
        units += [[dataclasses.replace(a, action="D", category="change:notes"),
                   dataclasses.replace(f.dress(a), category="change:notes")] for a in renotes]
        units += [[dataclasses.replace(f.dress(a), category="replace")] for a in replaces]
        new: list[App] = []
        self._valid(new, brand, round(self.n * 0.05 / 0.79))
        for _ in range(2):
            unknown = f.build(lambda: f.valid(brand, "bv"))
            if unknown is not None:
                new.append(dataclasses.replace(unknown, action="D", category="delete_never_loaded"))
        self._fill(new, self.count(0.003), lambda: f.missing_parent(brand, "Parts"))
        self._fill(new, self.count(0.003), lambda: f.invalid(brand, "foreign"))
        units += [[a] for a in new]
        self.rng.shuffle(units)
        return Delivery(f"03_aces_update_{brand}.xml", brand, UPDATE, tuple(a for u in units for a in u))

    def full_again(self, brand: str, model: LoadModel) -> Delivery:
        f = self.f
        live = [a for c, a in model.live.items() if c.brand == brand]
        left_out = {id(a) for a in self.rng.sample(live, min(len(live) // 2, self.count(0.05)))}
        apps = [dataclasses.replace(f.dress(a), category="carried:redressed") if self.rng.random() < 0.1
                else dataclasses.replace(a, category="carried") for a in live if id(a) not in left_out]
        apps += [dataclasses.replace(a, category=f"redelivered:{a.category}")
                 for c, a in model.dead.items() if c.brand == brand]
        revivable = [a for c, a in model.ended.items() if c.brand == brand and a.category == "delete"]
        apps += [dataclasses.replace(a, action="A", category="revived")
                 for a in self.rng.sample(revivable, min(len(revivable), self.count(0.01)))]
        self._valid(apps, brand, round(self.n * 0.05 / 0.79))
        self.rng.shuffle(apps)
        self._copies(apps, self.count(0.01), "duplicate")
        return Delivery(f"04_aces_full_{brand}.xml", brand, FULL, tuple(apps))


def plan(factory: AppFactory, rng: random.Random, brands: list[str], n: int) -> list[Delivery]:
    """The four deliveries in load order; `n` sets the size of the first."""
    planner = Planner(factory, rng, n)
    first = planner.first_full(brands[0])
    other = planner.other_full(brands[1])
    model = LoadModel()
    for d in (first, other):
        model.load(d)
    update = planner.update(brands[0], model)
    model.load(update)
    return [first, other, update, planner.full_again(brands[0], model)]
