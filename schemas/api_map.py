"""What the AutoCare REST API calls things, where it differs from the DDL.

Every fact here is traced to ../shared/reference/autocare-api.md (section in brackets) and was
copied into the project so that nothing needs the reference at run time.  Field names not listed
are the DDL column's name; readers also accept any letter case of either spelling, as the API's
casing has drifted between versions [1.2], [1.4].
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatabaseApi:
    db: str
    host: str  # default base URL, overridable by AUTOCARE_<DB>_URL
    version: str  # path segment after /api/
    path: str  # database segment of the record path
    scope: str  # OAuth scope the token must carry [1.5]


DATABASES: dict[str, DatabaseApi] = {
    # [1.1]: VCdb v2.0 since 2026-01-28; PAdb lives on the PCdb host.
    "vcdb": DatabaseApi("vcdb", "https://vcdb.autocarevip.com", "v2.0", "vcdb", "VcdbApis"),
    "pcdb": DatabaseApi("pcdb", "https://pcdb.autocarevip.com", "v1.0", "pcdb", "PcadbApis"),
    "padb": DatabaseApi("padb", "https://pcdb.autocarevip.com", "v4.0", "padb", "PcadbApis"),
    "qdb": DatabaseApi("qdb", "https://qdb.autocarevip.com", "v1.0", "qdb", "QDBApis"),
}

DEFAULT_SCOPE = "CommonApis QDBApis PcadbApis BrandApis VcdbApis offline_access"  # [1.5]
TOKEN_URL = "https://autocare-identity.autocare.org/connect/token"  # [1.5]
COMMON_URL = "https://common.autocarevip.com"  # [1.2] catalog endpoints

# Tables served by the API, by DDL name [1.2].  Tables of the DDL not listed here (change
# tracking, language, Version, CodeMaster) are in no client's table list: they get canonical
# tables but no producer endpoint.
API_TABLES: dict[str, frozenset[str]] = {
    "vcdb": frozenset(
        """Abbreviation Aspiration BaseVehicle BedConfig BedLength BedType BodyNumDoors
        BodyStyleConfig BodyType BrakeABS BrakeConfig BrakeSystem BrakeType Class CylinderHeadType
        DriveType ElecControlled EngineBase EngineBase2 EngineBlock EngineBoreStroke EngineConfig
        EngineConfig2 EngineDesignation EngineVIN EngineVersion FuelDeliveryConfig
        FuelDeliverySubType FuelDeliveryType FuelSystemControlType FuelSystemDesign FuelType
        IgnitionSystemType Make Mfr MfrBodyCode Model PowerOutput PublicationStage Region
        SpringType SpringTypeConfig SteeringConfig SteeringSystem SteeringType SubModel
        Transmission TransmissionBase TransmissionControlType TransmissionMfrCode
        TransmissionNumSpeeds TransmissionType Valves Vehicle VehicleToBedConfig
        VehicleToBodyConfig VehicleToBodyStyleConfig VehicleToBrakeConfig VehicleToClass
        VehicleToDriveType VehicleToEngineConfig VehicleToMfrBodyCode VehicleToSpringTypeConfig
        VehicleToSteeringConfig VehicleToTransmission VehicleToWheelBase VehicleType
        VehicleTypeGroup WheelBase Year VCdbChanges""".split()
    ),
    "pcdb": frozenset(
        """ACESCodedValues Alias Categories PartCategory PartPosition Parts PartsDescription
        PartsRelationship PartsSupersession PartsToAlias PartsToUse PIESCode PIESExpiCode
        PIESExpiGroup PIESField PIESReferenceFieldCode PIESSegment Positions Subcategories
        Use""".split()
    ),
    "padb": frozenset(
        """MeasurementGroup MetaData MetaUomCodeAssignment MetaUOMCodes PartAttributeAssignment
        PartAttributes PartAttributeStyle PartTypeStyle Style ValidValueAssignment
        ValidValues""".split()
    ),
    "qdb": frozenset("GroupNumber Qualifier QualifierGroup QualifierType".split()),
}

# Endpoints a baseline skips unless asked for [DESIGN "The run" 1; 1.2: clients skip VCdbChanges].
DEFAULT_SKIP: dict[str, frozenset[str]] = {"vcdb": frozenset({"VCdbChanges"})}

# API path segment where it differs from the DDL table name [2.2 PIES table].
TABLE_RENAMES: dict[tuple[str, str], str] = {
    ("pcdb", "PIESExpiCode"): "PIESEXPICode",
    ("pcdb", "PIESExpiGroup"): "PIESEXPIGroup",
    ("padb", "MetaUomCodeAssignment"): "MetaUOMCodeAssignment",  # [2.3]
}

# API record key where it differs from the DDL column [2.2 PIES table, 1.4, 2.3].
FIELD_RENAMES: dict[tuple[str, str, str], str] = {
    # Casing the API uses; a reader matches either spelling [1.4], [2.3].
    ("vcdb", "SubModel", "SubmodelID"): "SubModelID",
    ("vcdb", "Vehicle", "SubmodelID"): "SubModelID",
    ("padb", "MetaUomCodeAssignment", "MetaUomCodeAssignmentID"): "MetaUOMCodeAssignmentID",
    ("padb", "MetaUomCodeAssignment", "MetaUomID"): "MetaUOMID",
    ("padb", "MetaUOMCodes", "MetaUomID"): "MetaUOMID",
    ("padb", "MetaUOMCodes", "MeasurementGroupId"): "MeasurementGroupID",
    ("pcdb", "PIESCode", "PIESCodeId"): "CodeValueID",
    ("pcdb", "PIESExpiCode", "PIESExpiCodeId"): "EXPICodeID",
    ("pcdb", "PIESExpiCode", "PIESExpiGroupId"): "EXPIGroupID",
    # PIESEXPIGroup's keys were never observed [2.2]; these follow PIESEXPICode's pattern [U].
    ("pcdb", "PIESExpiGroup", "PIESExpiGroupId"): "EXPIGroupID",
    ("pcdb", "PIESExpiGroup", "ExpiGroupCode"): "EXPIGroupCode",
    ("pcdb", "PIESExpiGroup", "ExpiGroupDescription"): "EXPIGroupDescription",
    ("pcdb", "PIESField", "PIESFieldId"): "FieldID",
    ("pcdb", "PIESField", "PIESSegmentId"): "SegmentID",
    ("pcdb", "PIESReferenceFieldCode", "PIESReferenceFieldCodeId"): "ReferenceFieldCodeID",
    ("pcdb", "PIESReferenceFieldCode", "PIESFieldId"): "FieldID",
    ("pcdb", "PIESReferenceFieldCode", "PIESCodeId"): "CodeValueID",
    ("pcdb", "PIESReferenceFieldCode", "PIESExpiCodeId"): "EXPICodeID",
    ("pcdb", "PIESSegment", "PIESSegmentId"): "SegmentID",
}

# DDL columns the API's records do not carry [1.8 v1 -> v2; 2.2; 2.3]: nullable in canonical
# tables, because no record can fill them.
ABSENT_FIELDS: dict[tuple[str, str], frozenset[str]] = {
    ("vcdb", "Vehicle"): frozenset({"Source", "PublicationStageSource", "PublicationStageDate"}),
    ("vcdb", "Region"): frozenset({"ParentID"}),
    ("pcdb", "PartsSupersession"): frozenset({"PartsSupersessionId", "Note"}),
    ("padb", "PartAttributeAssignment"): frozenset({"ID"}),
    **{
        ("vcdb", t): frozenset({"Source"})
        for t in """VehicleToBedConfig VehicleToBodyConfig VehicleToBodyStyleConfig
        VehicleToBrakeConfig VehicleToClass VehicleToDriveType VehicleToEngineConfig
        VehicleToMfrBodyCode VehicleToSpringTypeConfig VehicleToSteeringConfig
        VehicleToTransmission VehicleToWheelBase""".split()
    },
}

# Record keys the API adds that the DDL lacks [1.8]: (name, SQL type) kept as extra columns so
# nothing the API sends is lost.
EXTRA_FIELDS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("vcdb", "VehicleTypeGroup"): (("VehicleTypeGroupDescription", "VARCHAR(255)"),),
}

# Record metadata on every table [1.4, 4]: not DDL columns; canonical columns of every table.
EFFECTIVE_FIELD = "EffectiveDateTime"
END_FIELD = "EndDateTime"
CULTURE_FIELD = "CultureID"

# Tables whose v2 records carry CultureID [1.8] (others may too [U]; the column exists on all).
CULTURE_TABLES: dict[str, frozenset[str]] = {
    "vcdb": frozenset(
        """FuelSystemControlType FuelSystemDesign FuelType IgnitionSystemType Make Mfr MfrBodyCode
        Model PowerOutput PublicationStage Region TransmissionType Valves VehicleType
        VehicleTypeGroup WheelBase""".split()
    ),
}
