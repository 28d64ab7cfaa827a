"""An ACES application as the fitment-file generator makes it: what it is (its content, the
identity a delete matches, schemas/aces.py `app_key`) and how one delivery of it reads.

Pure values.  The generator also records why each application is what it is (`fault`,
`category`, `late`, `fits_nothing`), which the oracle's load model reads instead of validating
anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.aces import ATTRIBUTE_BY_ELEMENT, ATTRIBUTES

ATTRIBUTE_ORDER: dict[str, int] = {a.element: n for n, a in enumerate(ATTRIBUTES)}
# The 4.2 transGroup is a choice: TransmissionBase, or any of these three (reference §1.4).
TRANSMISSION_PARTS = frozenset({"TransmissionType", "TransmissionControlType", "TransmissionNumSpeeds"})


@dataclass(frozen=True, order=True)
class Param:
    value: str
    uom: str | None = None


@dataclass(frozen=True, order=True)
class Qual:
    id: int
    params: tuple[Param, ...] = ()
    text: str = field(default="", compare=False)  # the qualifier's text with its params filled in


@dataclass(frozen=True)
class VehicleIdent:
    """ACES vehicle identification: a BaseVehicle (+ SubModel), or Years + Make + Model."""

    base_vehicle: int | None = None
    submodel: int | None = None
    years: tuple[int, int] | None = None
    make: int | None = None
    model: int | None = None

    def __post_init__(self) -> None:
        if (self.base_vehicle is None) == (self.years is None):
            raise ValueError("a vehicle is a BaseVehicle or a year range, not both or neither")
        if self.years is not None and (self.make is None or self.model is None):
            raise ValueError("a year range needs a Make and a Model")

    def to_json(self) -> dict[str, Any]:
        if self.years is not None:
            return {"years": list(self.years), "make": self.make, "model": self.model}
        out: dict[str, Any] = {"base_vehicle": self.base_vehicle}
        if self.submodel is not None:
            out["submodel"] = self.submodel
        return out


def attributes(values: dict[str, int]) -> tuple[tuple[str, int], ...]:
    """Attribute ids in the 4.2 element order; raises for an unknown element or a broken transGroup."""
    for element in values:
        if element not in ATTRIBUTE_BY_ELEMENT:
            raise ValueError(f"unknown ACES attribute {element}")
    if "TransmissionBase" in values and TRANSMISSION_PARTS & set(values):
        raise ValueError("TransmissionBase excludes TransmissionType/ControlType/NumSpeeds")
    return tuple(sorted(values.items(), key=lambda kv: ATTRIBUTE_ORDER[kv[0]]))


@dataclass(frozen=True)
class Content:
    """What makes an application: two deliveries with equal content are the same application."""

    brand: str
    part: str
    vehicle: VehicleIdent
    attributes: tuple[tuple[str, int], ...]  # in ATTRIBUTES order (see `attributes`)
    quals: tuple[Qual, ...]  # sorted by (id, params)
    part_type: int
    position: int | None

    @property
    def fitment(self) -> tuple[object, ...]:
        """The overlap key: everything but the part."""
        return (self.vehicle, self.attributes, self.quals, self.part_type, self.position)

    def to_json(self) -> dict[str, Any]:
        return {"brand": self.brand, "part": self.part, "vehicle": self.vehicle.to_json(),
                "attributes": dict(self.attributes),
                "quals": [{"id": q.id, "params": [_param_json(p) for p in q.params]} for q in self.quals],
                "part_type": self.part_type, "position": self.position}


def _param_json(p: Param) -> dict[str, str]:
    return {"value": p.value} if p.uom is None else {"value": p.value, "uom": p.uom}


@dataclass(frozen=True)
class App:
    """One delivery of an application (an `<App>` element but its id, given by the file)."""

    action: str  # "A" | "D"
    content: Content
    notes: tuple[str, ...] = ()
    qty: int = 1
    mfr_label: str | None = None
    display_order: int | None = None
    validate: bool = True
    branded_part: bool = False  # Part@BrandAAIAID written (same brand as the Header)
    fault: str | None = None  # the reason it is dead-lettered with at the baseline; None: it loads
    category: str = ""
    late: bool = False  # its BaseVehicle is published by a later release: loads after the incremental
    fits_nothing: bool = False  # its vehicle and attributes hold for no vehicle of any release
