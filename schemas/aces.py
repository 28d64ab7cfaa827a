"""The ACES vocabulary: the App's VCdb attributes, what each one references, and how a vehicle
satisfies it (pure data, no I/O).

One table answers, for every VCdb attribute element an ACES 4.2 App may carry (reference
aces-pies.md §1.4): the App column that holds its id, the VCdb table the id must exist in (the
loader's FK check, `vcdb verify`) and the VehicleTo* system through which a vehicle has it (the
invalid-combination check, §1.8 step 4).  The parser, the DDL's references, the combination SQL
and the simulator's generator all read this table; nothing else lists the attributes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ACES_VERSIONS = ("3.0", "3.1", "3.2", "4.0", "4.1", "4.2")  # read; 5.0 renames elements (§1.6)
PIES_VERSIONS = ("6.5", "6.6", "6.7", "7.0", "7.1", "7.2")


@dataclass(frozen=True)
class System:
    """How a Vehicle (alias `v`) reaches the config row that holds attribute values: a VehicleTo*
    link table and the config tables joined from it.  `vehicle` is the Vehicle row itself."""

    name: str
    link: str | None  # VCdb VehicleTo* table (its VehicleID column joins v), None for Vehicle
    joins: tuple[tuple[str, str, str], ...] = ()  # (table, its key column, column of the previous row)


VEHICLE = System("vehicle", None)
SYSTEMS: dict[str, System] = {s.name: s for s in (
    VEHICLE,
    System("drive", "VehicleToDriveType"),
    System("mfr_body_code", "VehicleToMfrBodyCode"),
    System("wheel_base", "VehicleToWheelBase"),
    System("body_style", "VehicleToBodyStyleConfig", (("BodyStyleConfig", "BodyStyleConfigID", "BodyStyleConfigID"),)),
    System("brake", "VehicleToBrakeConfig", (("BrakeConfig", "BrakeConfigID", "BrakeConfigID"),)),
    System("bed", "VehicleToBedConfig", (("BedConfig", "BedConfigID", "BedConfigID"),)),
    System("spring", "VehicleToSpringTypeConfig", (("SpringTypeConfig", "SpringTypeConfigID", "SpringTypeConfigID"),)),
    System("steering", "VehicleToSteeringConfig", (("SteeringConfig", "SteeringConfigID", "SteeringConfigID"),)),
    # VehicleToEngineConfig.EngineConfigID points at EngineConfig2 (VCdb 2.0), which holds
    # the block and bore/stroke beside everything EngineConfig has.
    System("engine", "VehicleToEngineConfig", (("EngineConfig2", "EngineConfigID", "EngineConfigID"),)),
    System("fuel_delivery", "VehicleToEngineConfig", (("EngineConfig2", "EngineConfigID", "EngineConfigID"),
                                                      ("FuelDeliveryConfig", "FuelDeliveryConfigID",
                                                       "FuelDeliveryConfigID"))),
    System("transmission", "VehicleToTransmission", (("Transmission", "TransmissionID", "TransmissionID"),)),
    System("transmission_base", "VehicleToTransmission", (("Transmission", "TransmissionID", "TransmissionID"),
                                                          ("TransmissionBase", "TransmissionBaseID",
                                                           "TransmissionBaseID"))),
)}


@dataclass(frozen=True)
class VehicleAttribute:
    element: str  # the ACES element, `<EngineBase id="n"/>`
    column: str  # the App column holding the id (AutoCare-style name, as in schemas/ddl/aces.sql)
    vcdb_table: str  # the VCdb table the id must exist in
    vcdb_column: str  # its id column
    system: str  # SYSTEMS key: how a vehicle has this attribute
    config_column: str  # the column, in the system's last joined row (or the link/Vehicle), holding it


def _a(element: str, vcdb_table: str, system: str, config_column: str | None = None,
       vcdb_column: str | None = None) -> VehicleAttribute:
    id_column = vcdb_column or f"{vcdb_table}ID"
    return VehicleAttribute(element, f"{element}ID", vcdb_table, id_column, system, config_column or id_column)


# In the order of the ACES 4.2 sequence (§1.4 item 2).
ATTRIBUTES: tuple[VehicleAttribute, ...] = (
    _a("MfrBodyCode", "MfrBodyCode", "mfr_body_code"),
    _a("BodyNumDoors", "BodyNumDoors", "body_style"),
    _a("BodyType", "BodyType", "body_style"),
    _a("DriveType", "DriveType", "drive"),
    _a("EngineBase", "EngineBase", "engine"),
    _a("EngineBlock", "EngineBlock", "engine"),
    _a("EngineBoreStroke", "EngineBoreStroke", "engine"),
    _a("EngineDesignation", "EngineDesignation", "engine"),
    _a("EngineVIN", "EngineVIN", "engine"),
    _a("EngineVersion", "EngineVersion", "engine"),
    _a("EngineMfr", "Mfr", "engine", "EngineMfrID"),
    _a("PowerOutput", "PowerOutput", "engine"),
    _a("ValvesPerEngine", "Valves", "engine"),
    _a("FuelDeliveryType", "FuelDeliveryType", "fuel_delivery"),
    _a("FuelDeliverySubType", "FuelDeliverySubType", "fuel_delivery"),
    _a("FuelSystemControlType", "FuelSystemControlType", "fuel_delivery"),
    _a("FuelSystemDesign", "FuelSystemDesign", "fuel_delivery"),
    _a("Aspiration", "Aspiration", "engine"),
    _a("CylinderHeadType", "CylinderHeadType", "engine"),
    _a("FuelType", "FuelType", "engine"),
    _a("IgnitionSystemType", "IgnitionSystemType", "engine"),
    _a("TransmissionMfrCode", "TransmissionMfrCode", "transmission"),
    _a("TransmissionBase", "TransmissionBase", "transmission"),
    _a("TransmissionType", "TransmissionType", "transmission_base"),
    _a("TransmissionControlType", "TransmissionControlType", "transmission_base"),
    _a("TransmissionNumSpeeds", "TransmissionNumSpeeds", "transmission_base"),
    _a("TransElecControlled", "ElecControlled", "transmission", "TransmissionElecControlledID"),
    _a("TransmissionMfr", "Mfr", "transmission", "TransmissionMfrID"),
    _a("BedLength", "BedLength", "bed"),
    _a("BedType", "BedType", "bed"),
    _a("WheelBase", "WheelBase", "wheel_base"),
    _a("BrakeSystem", "BrakeSystem", "brake"),
    _a("FrontBrakeType", "BrakeType", "brake", "FrontBrakeTypeID"),
    _a("RearBrakeType", "BrakeType", "brake", "RearBrakeTypeID"),
    _a("BrakeABS", "BrakeABS", "brake"),
    _a("FrontSpringType", "SpringType", "spring", "FrontSpringTypeID"),
    _a("RearSpringType", "SpringType", "spring", "RearSpringTypeID"),
    _a("SteeringSystem", "SteeringSystem", "steering"),
    _a("SteeringType", "SteeringType", "steering"),
    _a("Region", "Region", "vehicle"),
)
ATTRIBUTE_BY_ELEMENT: dict[str, VehicleAttribute] = {a.element: a for a in ATTRIBUTES}


@dataclass(frozen=True)
class IdentReference:
    """A vehicle-identification id of the App and the VCdb table it must exist in."""

    column: str
    vcdb_table: str
    vcdb_column: str


VEHICLE_IDENTS: tuple[IdentReference, ...] = (
    IdentReference("BaseVehicleID", "BaseVehicle", "BaseVehicleID"),
    IdentReference("SubModelID", "SubModel", "SubmodelID"),
    IdentReference("MakeID", "Make", "MakeID"),
    IdentReference("ModelID", "Model", "ModelID"),
    IdentReference("VehicleTypeID", "VehicleType", "VehicleTypeID"),
)

# The VCdb tables the combination check reads: when one of them gains rows, applications
# dead-lettered as invalid combinations are tried again.
COMBINATION_TABLES: frozenset[str] = frozenset(
    {"Vehicle", "BaseVehicle"}
    | {s.link for s in SYSTEMS.values() if s.link}
    | {t for s in SYSTEMS.values() for t, _, _ in s.joins})

# The parts of an App that make its identity (§1.7: a D record matches the application as
# delivered, by content).  Notes, Qty, MfrLabel, DisplayOrder and assets are what changes about
# an application; they do not make another one.
VEHICLE_CONTENT = ("BaseVehicleID", "SubModelID", "YearFrom", "YearTo", "MakeID", "ModelID", "VehicleTypeID",
                   "EquipmentBaseID", "MfrID", "EquipmentModelID")


def _digest(parts: Iterable[object]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(repr(p).encode())
        h.update(b"\x1f")
    return h.hexdigest()


def fitment_key(app: Mapping[str, object]) -> str:
    """The overlap key: vehicle, attributes, qualifiers, part type and position (not the part).
    Two applications with the same fitment key and different parts overlap."""
    quals = app.get("Qualifiers") or ()
    assert isinstance(quals, (list, tuple)), "Qualifiers: the parsed list, not its JSON text"
    return _digest([
        *(app.get(c) for c in VEHICLE_CONTENT),
        *(app.get(a.column) for a in ATTRIBUTES),
        tuple(sorted((_qualifier_content(q) for q in quals), key=repr)),
        app.get("PartTypeID"), app.get("PositionID"),
    ])


def app_key(app: Mapping[str, object]) -> str:
    """The application's identity: brand and part on top of its fitment key."""
    return _digest([app.get("BrandAAIAID") or "", app.get("PartNumber"), fitment_key(app)])


def _qualifier_content(q: object) -> tuple[object, ...]:
    assert isinstance(q, Mapping)
    params = tuple(tuple(sorted(p.items())) for p in q.get("params") or ())  # in order: p1, p2, ...
    return (q.get("id"), params)
