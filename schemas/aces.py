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
class Join:
    """`JOIN table ON table.column = previous.previous_column` (previous: the link or an earlier join)."""

    table: str
    column: str
    previous: str
    previous_column: str


@dataclass(frozen=True)
class System:
    """How a Vehicle reaches the config rows that hold attribute values: a VehicleTo* link table
    and the config tables joined from it.  Attributes of one system must all be on ONE chain of
    rows (one engine config has both the engine base and the fuel type the App names).  The
    `vehicle` system is the Vehicle row itself."""

    name: str
    link: str | None  # VCdb VehicleTo* table (its VehicleID column joins the Vehicle), None for Vehicle
    joins: tuple[Join, ...] = ()

    @property
    def tables(self) -> tuple[str, ...]:
        return (*((self.link,) if self.link else ("Vehicle",)), *(j.table for j in self.joins))


VEHICLE = System("vehicle", None)
SYSTEMS: dict[str, System] = {s.name: s for s in (
    VEHICLE,
    System("drive", "VehicleToDriveType"),
    System("mfr_body_code", "VehicleToMfrBodyCode"),
    System("wheel_base", "VehicleToWheelBase"),
    System("body_style", "VehicleToBodyStyleConfig",
           (Join("BodyStyleConfig", "BodyStyleConfigID", "VehicleToBodyStyleConfig", "BodyStyleConfigID"),)),
    System("brake", "VehicleToBrakeConfig",
           (Join("BrakeConfig", "BrakeConfigID", "VehicleToBrakeConfig", "BrakeConfigID"),)),
    System("bed", "VehicleToBedConfig", (Join("BedConfig", "BedConfigID", "VehicleToBedConfig", "BedConfigID"),)),
    System("spring", "VehicleToSpringTypeConfig",
           (Join("SpringTypeConfig", "SpringTypeConfigID", "VehicleToSpringTypeConfig", "SpringTypeConfigID"),)),
    System("steering", "VehicleToSteeringConfig",
           (Join("SteeringConfig", "SteeringConfigID", "VehicleToSteeringConfig", "SteeringConfigID"),)),
    # VehicleToEngineConfig.EngineConfigID points at EngineConfig2 (VCdb 2.0), which holds the
    # block and bore/stroke beside everything EngineConfig has.
    System("engine", "VehicleToEngineConfig",
           (Join("EngineConfig2", "EngineConfigID", "VehicleToEngineConfig", "EngineConfigID"),
            Join("FuelDeliveryConfig", "FuelDeliveryConfigID", "EngineConfig2", "FuelDeliveryConfigID"))),
    System("transmission", "VehicleToTransmission",
           (Join("Transmission", "TransmissionID", "VehicleToTransmission", "TransmissionID"),
            Join("TransmissionBase", "TransmissionBaseID", "Transmission", "TransmissionBaseID"))),
)}


@dataclass(frozen=True)
class VehicleAttribute:
    element: str  # the ACES element, `<EngineBase id="n"/>`
    column: str  # the App column holding the id (AutoCare-style name, as in schemas/ddl/aces.sql)
    vcdb_table: str  # the VCdb table the id must exist in
    vcdb_column: str  # its id column
    system: str  # SYSTEMS key: how a vehicle has this attribute
    holder: str  # the VCdb table of the system (Vehicle, its link or a joined table) holding the value
    holder_column: str  # the column of `holder` holding it


def _a(element: str, vcdb_table: str, system: str, holder: str, holder_column: str | None = None) -> VehicleAttribute:
    id_column = f"{vcdb_table}ID"
    return VehicleAttribute(element, f"{element}ID", vcdb_table, id_column, system, holder, holder_column or id_column)


# In the order of the ACES 4.2 sequence (§1.4 item 2).
ATTRIBUTES: tuple[VehicleAttribute, ...] = (
    _a("MfrBodyCode", "MfrBodyCode", "mfr_body_code", "VehicleToMfrBodyCode"),
    _a("BodyNumDoors", "BodyNumDoors", "body_style", "BodyStyleConfig"),
    _a("BodyType", "BodyType", "body_style", "BodyStyleConfig"),
    _a("DriveType", "DriveType", "drive", "VehicleToDriveType"),
    _a("EngineBase", "EngineBase", "engine", "EngineConfig2"),
    _a("EngineBlock", "EngineBlock", "engine", "EngineConfig2"),
    _a("EngineBoreStroke", "EngineBoreStroke", "engine", "EngineConfig2"),
    _a("EngineDesignation", "EngineDesignation", "engine", "EngineConfig2"),
    _a("EngineVIN", "EngineVIN", "engine", "EngineConfig2"),
    _a("EngineVersion", "EngineVersion", "engine", "EngineConfig2"),
    _a("EngineMfr", "Mfr", "engine", "EngineConfig2", "EngineMfrID"),
    _a("PowerOutput", "PowerOutput", "engine", "EngineConfig2"),
    _a("ValvesPerEngine", "Valves", "engine", "EngineConfig2"),
    _a("FuelDeliveryType", "FuelDeliveryType", "engine", "FuelDeliveryConfig"),
    _a("FuelDeliverySubType", "FuelDeliverySubType", "engine", "FuelDeliveryConfig"),
    _a("FuelSystemControlType", "FuelSystemControlType", "engine", "FuelDeliveryConfig"),
    _a("FuelSystemDesign", "FuelSystemDesign", "engine", "FuelDeliveryConfig"),
    _a("Aspiration", "Aspiration", "engine", "EngineConfig2"),
    _a("CylinderHeadType", "CylinderHeadType", "engine", "EngineConfig2"),
    _a("FuelType", "FuelType", "engine", "EngineConfig2"),
    _a("IgnitionSystemType", "IgnitionSystemType", "engine", "EngineConfig2"),
    _a("TransmissionMfrCode", "TransmissionMfrCode", "transmission", "Transmission"),
    _a("TransmissionBase", "TransmissionBase", "transmission", "Transmission"),
    _a("TransmissionType", "TransmissionType", "transmission", "TransmissionBase"),
    _a("TransmissionControlType", "TransmissionControlType", "transmission", "TransmissionBase"),
    _a("TransmissionNumSpeeds", "TransmissionNumSpeeds", "transmission", "TransmissionBase"),
    _a("TransElecControlled", "ElecControlled", "transmission", "Transmission", "TransmissionElecControlledID"),
    _a("TransmissionMfr", "Mfr", "transmission", "Transmission", "TransmissionMfrID"),
    _a("BedLength", "BedLength", "bed", "BedConfig"),
    _a("BedType", "BedType", "bed", "BedConfig"),
    _a("WheelBase", "WheelBase", "wheel_base", "VehicleToWheelBase"),
    _a("BrakeSystem", "BrakeSystem", "brake", "BrakeConfig"),
    _a("FrontBrakeType", "BrakeType", "brake", "BrakeConfig", "FrontBrakeTypeID"),
    _a("RearBrakeType", "BrakeType", "brake", "BrakeConfig", "RearBrakeTypeID"),
    _a("BrakeABS", "BrakeABS", "brake", "BrakeConfig"),
    _a("FrontSpringType", "SpringType", "spring", "SpringTypeConfig", "FrontSpringTypeID"),
    _a("RearSpringType", "SpringType", "spring", "SpringTypeConfig", "RearSpringTypeID"),
    _a("SteeringSystem", "SteeringSystem", "steering", "SteeringConfig"),
    _a("SteeringType", "SteeringType", "steering", "SteeringConfig"),
    _a("Region", "Region", "vehicle", "Vehicle"),
)
ATTRIBUTE_BY_ELEMENT: dict[str, VehicleAttribute] = {a.element: a for a in ATTRIBUTES}

# The App columns that narrow which vehicles of its base vehicles an application fits (its
# SubModel and every attribute: schemas/fitment_sql.vehicle_matches).  An application with all of
# them empty names nothing: it fits every vehicle of its base vehicles, and none while they have
# none, which is no invalid combination.
NARROWING_COLUMNS: tuple[str, ...] = ("SubModelID", *(a.column for a in ATTRIBUTES))


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
COMBINATION_TABLES: frozenset[str] = frozenset({"Vehicle", "BaseVehicle", "Model"}
                                               | {t for s in SYSTEMS.values() for t in s.tables})

# The parts of an App that make its identity (§1.7: a D record matches the application as
# delivered, by content).  Notes, Qty, MfrLabel, DisplayOrder and assets are what changes about
# an application; they do not make another one.
VEHICLE_CONTENT = ("BaseVehicleID", "SubModelID", "YearFrom", "YearTo", "MakeID", "ModelID", "VehicleTypeID",
                   "EquipmentBaseID", "MfrID", "EquipmentModelID")


def _digest(parts: Iterable[object]) -> str:
    # One joined text, hashed once: the keys are computed for every application of a file.
    return hashlib.blake2b("\x1f".join(map(repr, parts)).encode(), digest_size=16).hexdigest()


_CONTENT_COLUMNS = (*VEHICLE_CONTENT, *(a.column for a in ATTRIBUTES))


def fitment_key(app: Mapping[str, object]) -> str:
    """The overlap key: vehicle, attributes, qualifiers, part type and position (not the part).
    Two applications with the same fitment key and different parts overlap."""
    quals = app.get("Qualifiers") or ()
    assert isinstance(quals, (list, tuple)), "Qualifiers: the parsed list, not its JSON text"
    get = app.get
    return _digest([
        *(get(c) for c in _CONTENT_COLUMNS),
        tuple(sorted((_qualifier_content(q) for q in quals), key=repr)) if quals else (),
        get("PartTypeID"), get("PositionID"),
    ])


def app_key(app: Mapping[str, object], fitment: str | None = None) -> str:
    """The application's identity: brand and part on top of its fitment key (pass it when it is
    already computed)."""
    return _digest([app.get("BrandAAIAID") or "", app.get("PartNumber"), fitment or fitment_key(app)])


def _qualifier_content(q: object) -> tuple[object, ...]:
    assert isinstance(q, Mapping)
    params = tuple(tuple(sorted(p.items())) for p in q.get("params") or ())  # in order: p1, p2, ...
    return (q.get("id"), params)
