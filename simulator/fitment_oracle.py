"""The expected result of loading the fitment files: a tiny model of the loader's rules.

It validates nothing: each application says why it fails (`App.fault`, chosen by the generator).
The model applies the delivery rules only:

* a FULL file loads its `A` applications, ignores its `D` ones (`skipped_d_in_full`), and ends
  (soft delete) every live application of its brand it does not deliver;
* an UPDATE file applies `D` (the matching live application ends; a `D` that matches nothing
  still leaves an ended row, counted apart) and `A` in file order;
* the same content twice in one file is one row (`duplicate`), the later delivery replacing the
  earlier; an `A` of a faulty content is one open dead letter per content, however often it
  comes;
* after the incremental to the last release, the late applications load by themselves.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from simulator.fitment_app import App, Content

LOADED, DUPLICATE, DELETED, SKIPPED_D = "loaded", "duplicate", "deleted", "skipped_d_in_full"
FULL, UPDATE = "FULL", "UPDATE"


@dataclass(frozen=True)
class Delivery:
    name: str
    brand: str
    submission: str  # FULL | UPDATE
    apps: tuple[App, ...]


@dataclass
class FileResult:
    outcomes: list[str]  # per application, in file order
    deleted_never_loaded: list[Content] = field(default_factory=list)
    duplicate_contents: int = 0
    overlap_groups: int = 0


class Refs:
    """`c<N>` per content, N in order of first delivery: equal content, equal ref."""

    def __init__(self) -> None:
        self._refs: dict[Content, str] = {}

    def __call__(self, content: Content) -> str:
        ref = self._refs.get(content)
        if ref is None:
            ref = self._refs[content] = f"c{len(self._refs) + 1}"
        return ref

    def items(self) -> Iterable[tuple[Content, str]]:
        return self._refs.items()


def ref_order(ref: str) -> int:
    return int(ref[1:])


class LoadModel:
    def __init__(self) -> None:
        self.live: dict[Content, App] = {}  # the latest delivery of each live application
        self.ended: dict[Content, App] = {}
        self.dead: dict[Content, App] = {}  # open dead letters, by content

    def load(self, delivery: Delivery) -> FileResult:
        full = delivery.submission == FULL
        result = FileResult([])
        here: set[Content] = set()
        for app in delivery.apps:
            c = app.content
            if app.action == "D":
                if full:
                    result.outcomes.append(SKIPPED_D)
                    continue
                if c not in self.live:
                    result.deleted_never_loaded.append(c)
                self.live.pop(c, None)
                self.ended[c] = app
                result.outcomes.append(DELETED)
            elif app.fault is not None:
                self.dead[c] = app
                result.outcomes.append(app.fault)
            else:
                result.outcomes.append(DUPLICATE if c in here else LOADED)
                here.add(c)
                self.live[c] = app
                self.ended.pop(c, None)
        if full:
            for c in [c for c in self.live if c.brand == delivery.brand and c not in here]:
                self.ended[c] = self.live.pop(c)
        added = Counter(a.content for a in delivery.apps if a.action == "A")
        result.duplicate_contents = sum(1 for n in added.values() if n > 1)
        result.overlap_groups = overlap_groups(
            a.content for a, o in zip(delivery.apps, result.outcomes, strict=True) if o in (LOADED, DUPLICATE))
        return result

    def incremental(self) -> list[Content]:
        """The late applications, which load once their base vehicles are loaded."""
        loaded = [c for c, a in self.dead.items() if a.late]
        for c in loaded:
            self.live[c] = self.dead.pop(c)
            self.ended.pop(c, None)
        return loaded

    def state(self, refs: Refs) -> dict[str, Any]:
        by_reason: dict[str, list[str]] = defaultdict(list)
        for c, app in self.dead.items():
            assert app.fault is not None
            by_reason[app.fault].append(refs(c))
        return {
            "live_refs": sorted((refs(c) for c in self.live), key=ref_order),
            "ended_refs": sorted((refs(c) for c in self.ended), key=ref_order),
            "dead_letters": {r: len(v) for r, v in sorted(by_reason.items())},
            "dead_letter_refs": {r: sorted(v, key=ref_order) for r, v in sorted(by_reason.items())},
            "live_by_brand": dict(sorted(Counter(c.brand for c in self.live).items())),
            # Live, yet in no fitment view: `vcdb aces report`'s "fits no vehicle yet".
            "live_fitting_nothing_refs": sorted((refs(c) for c, a in self.live.items() if a.fits_nothing),
                                                key=ref_order),
        }


def overlap_groups(contents: Iterable[Content]) -> int:
    """Fitment keys that more than one part has."""
    parts: dict[tuple[object, ...], set[tuple[str, str]]] = defaultdict(set)
    for c in contents:
        parts[c.fitment].add((c.brand, c.part))
    return sum(1 for p in parts.values() if len(p) > 1)


def aces_oracle(deliveries: list[Delivery], refs: Refs) -> dict[str, Any]:
    """Per file: counts, each App's outcome and the state after it; then the late incremental."""
    model = LoadModel()
    files: list[dict[str, Any]] = []
    for d in deliveries:
        result = model.load(d)
        apps = {str(n): {"ref": refs(a.content), "action": a.action, "outcome": o, "category": a.category}
                for n, (a, o) in enumerate(zip(d.apps, result.outcomes, strict=True), 1)}
        files.append({
            "file": d.name, "kind": "aces", "brand": d.brand, "submission_type": d.submission,
            "app_count": len(d.apps), "footer_count": str(len(d.apps)),
            "outcome_counts": dict(sorted(Counter(result.outcomes).items())),
            "deleted_never_loaded_refs": [refs(c) for c in result.deleted_never_loaded],
            "duplicate_contents": result.duplicate_contents,
            "overlap_groups": result.overlap_groups,
            "apps": apps,
            "after": model.state(refs),
        })
    late = model.incremental()
    return {"files": files,
            "late": {"refs": sorted((refs(c) for c in late), key=ref_order),
                     "after_incremental": model.state(refs)}}
