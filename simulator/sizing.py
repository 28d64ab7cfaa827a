"""How many rows each simulated table has: at scale 1.0, a full light-duty release.

VCdb figures for Make, Model, BaseVehicle, Vehicle, EngineBase, EngineConfig and
VehicleToEngineConfig are the NA LDPS release counts of reference [3]; the other VehicleTo*
tables follow its "10^5-10^6 each" guidance, lookups its "10^1-10^4".  PCdb, PAdb and Qdb sizes
follow the autocare.org figures of [3] (32,000+ part terminologies, 118,000+ attribute
associations, 20,500+ qualifiers).  Everything else is an estimate of the same magnitude.
"""

from __future__ import annotations

import math

FLOOR = 3  # every table keeps a few rows at tiny scales, so every FK has something to point at
MAX_ID = 2**31 - 1  # INTEGER columns

BASE_COUNTS: dict[str, dict[str, int]] = {
    "vcdb": {
        "Abbreviation": 230, "Aspiration": 12, "BaseVehicle": 81_193, "BedConfig": 220, "BedLength": 150,
        "BedType": 12, "BodyNumDoors": 10, "BodyStyleConfig": 250, "BodyType": 90, "BrakeABS": 10,
        "BrakeConfig": 500, "BrakeSystem": 6, "BrakeType": 12, "Class": 40, "CylinderHeadType": 8,
        "DriveType": 10, "ElecControlled": 3, "EngineBase": 2_100, "EngineBase2": 2_100, "EngineBlock": 1_500,
        "EngineBoreStroke": 2_500, "EngineConfig": 17_000, "EngineConfig2": 17_000, "EngineDesignation": 3_000,
        "EngineVIN": 60, "EngineVersion": 500, "FuelDeliveryConfig": 60, "FuelDeliverySubType": 20,
        "FuelDeliveryType": 6, "FuelSystemControlType": 6, "FuelSystemDesign": 20, "FuelType": 15,
        "IgnitionSystemType": 5, "Make": 431, "Mfr": 700, "MfrBodyCode": 3_000, "Model": 17_880,
        "PowerOutput": 5_000, "PublicationStage": 4, "Region": 90, "SpringType": 15, "SpringTypeConfig": 120,
        "SteeringConfig": 30, "SteeringSystem": 6, "SteeringType": 6, "SubModel": 2_100, "Transmission": 11_000,
        "TransmissionBase": 1_200, "TransmissionControlType": 5, "TransmissionMfrCode": 4_500,
        "TransmissionNumSpeeds": 12, "TransmissionType": 10, "VCdbChanges": 2_000, "Valves": 20,
        "Vehicle": 181_496, "VehicleToBedConfig": 105_000, "VehicleToBodyConfig": 160_000,
        "VehicleToBodyStyleConfig": 190_000, "VehicleToBrakeConfig": 215_000, "VehicleToClass": 110_000,
        "VehicleToDriveType": 200_000, "VehicleToEngineConfig": 284_537, "VehicleToMfrBodyCode": 120_000,
        "VehicleToSpringTypeConfig": 140_000, "VehicleToSteeringConfig": 195_000,
        "VehicleToTransmission": 235_000, "VehicleToWheelBase": 185_000, "VehicleType": 15,
        "VehicleTypeGroup": 5, "WheelBase": 2_300, "Year": 131,
    },
    "pcdb": {
        "ACESCodedValues": 2_500, "Alias": 6_000, "Categories": 30, "PIESCode": 3_000, "PIESExpiCode": 1_500,
        "PIESExpiGroup": 40, "PIESField": 400, "PIESReferenceFieldCode": 4_000, "PIESSegment": 20,
        "PartCategory": 36_000, "PartPosition": 40_000, "Parts": 32_000, "PartsDescription": 25_000,
        "PartsRelationship": 10_000, "PartsSupersession": 3_000, "PartsToAlias": 12_000, "PartsToUse": 5_000,
        "Positions": 1_000, "Subcategories": 300, "Use": 150,
    },
    "padb": {
        "MeasurementGroup": 20, "MetaData": 8_000, "MetaUOMCodes": 400, "MetaUomCodeAssignment": 20_000,
        "PartAttributeAssignment": 118_000, "PartAttributeStyle": 5_000, "PartAttributes": 8_000,
        "PartTypeStyle": 3_000, "Style": 500, "ValidValueAssignment": 60_000, "ValidValues": 30_000,
    },
    "qdb": {"GroupNumber": 3_000, "Qualifier": 20_500, "QualifierGroup": 25_000, "QualifierType": 10},
}

# Tables whose size does not grow past a natural domain: Year runs 1896..2026 in a full release.
MAX_INITIAL: dict[tuple[str, str], int] = {("vcdb", "Year"): 131}
DEFAULT_COUNT = 100  # a table of the catalog missing above (a DDL update) still gets rows


def base_count(db: str, table: str) -> int:
    return BASE_COUNTS.get(db, {}).get(table, DEFAULT_COUNT)


def initial_count(db: str, table: str, scale: float) -> int:
    """Rows in release 1 at `scale`: proportional, never below FLOOR."""
    if scale <= 0 or not math.isfinite(scale):
        raise ValueError(f"scale must be a positive number, got {scale}")
    n = max(FLOOR, round(base_count(db, table) * scale))
    return min(n, MAX_INITIAL.get((db, table), n))


def release_counts(initial: int, releases: int, growth: float, capacity: int | None = None) -> tuple[int, ...]:
    """Cumulative row counts after each release: release 1 has `initial`, each later release adds
    `growth` of it (at least one row), up to `capacity` rows in all."""
    cap = capacity if capacity is not None else MAX_ID
    first = min(initial, cap)
    step = max(1, round(initial * growth)) if growth > 0 else 0
    out = [first]
    for _ in range(releases - 1):
        out.append(min(cap, out[-1] + step))
    return tuple(out)
