"""References the DDL does not declare but the data relies on ("logical" foreign keys).

They order the load like declared FKs, are checked by the loader and by `vcdb verify`, but get
no constraint in PostgreSQL (the DDL had none; a cross-database one cannot have one).
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas import aces


@dataclass(frozen=True)
class LogicalReference:
    db: str
    table: str
    columns: tuple[str, ...]
    ref_db: str
    ref_table: str
    ref_columns: tuple[str, ...]
    reason: str


def _fitment_references() -> tuple[LogicalReference, ...]:
    """ACES and PIES rows refer to the reference databases by id: every App vehicle ident and
    attribute (schemas/aces.py), its part type and position, and a PIES item's part type."""
    refs = [LogicalReference("aces", "App", (i.column,), "vcdb", i.vcdb_table, (i.vcdb_column,),
                             "ACES vehicle identification into VCdb") for i in aces.VEHICLE_IDENTS]
    refs += [LogicalReference("aces", "App", (a.column,), "vcdb", a.vcdb_table, (a.vcdb_column,),
                              f"ACES <{a.element}> attribute into VCdb") for a in aces.ATTRIBUTES]
    refs += [
        LogicalReference("aces", "App", ("PartTypeID",), "pcdb", "Parts", ("PartTerminologyID",),
                         "ACES <PartType> into PCdb"),
        LogicalReference("aces", "App", ("PositionID",), "pcdb", "Positions", ("PositionID",),
                         "ACES <Position> into PCdb"),
        LogicalReference("pies", "Item", ("PartTerminologyID",), "pcdb", "Parts", ("PartTerminologyID",),
                         "PIES PartTerminologyID into PCdb"),
    ]
    return tuple(refs)


LOGICAL_REFERENCES: tuple[LogicalReference, ...] = (
    *_fitment_references(),
    LogicalReference("vcdb", "EngineConfig", ("PowerOutputID",), "vcdb", "PowerOutput", ("PowerOutputID",),
                     "no FK in the DDL only because PowerOutput had no primary key"),
    LogicalReference("vcdb", "EngineConfig2", ("PowerOutputID",), "vcdb", "PowerOutput", ("PowerOutputID",),
                     "no FK in the DDL only because PowerOutput had no primary key"),
    LogicalReference("vcdb", "VehicleType", ("VehicleTypeGroupID",), "vcdb", "VehicleTypeGroup",
                     ("VehicleTypeGroupID",), "no FK in the DDL only because VehicleTypeGroup had no key"),
    LogicalReference("vcdb", "VehicleToWheelBase", ("WheelBaseID",), "vcdb", "WheelBase", ("WheelBaseID",),
                     "the PostgreSQL DDL omits this FK; every other VehicleTo* table declares its own"),
    LogicalReference("vcdb", "LanguageTranslation", ("EnglishPhraseID",), "vcdb", "EnglishPhrase",
                     ("EnglishPhraseID",), "translation tables declare no FKs in the PostgreSQL DDL"),
    LogicalReference("vcdb", "LanguageTranslation", ("LanguageID",), "vcdb", "Language", ("LanguageID",),
                     "translation tables declare no FKs in the PostgreSQL DDL"),
    LogicalReference("vcdb", "LanguageTranslationAttachment", ("LanguageTranslationID",), "vcdb",
                     "LanguageTranslation", ("LanguageTranslationID",),
                     "translation tables declare no FKs in the PostgreSQL DDL"),
    LogicalReference("vcdb", "LanguageTranslationAttachment", ("AttachmentID",), "vcdb", "Attachment",
                     ("AttachmentID",), "translation tables declare no FKs in the PostgreSQL DDL"),
    LogicalReference("qdb", "Qualifier", ("NewQualifierID",), "qdb", "Qualifier", ("QualifierID",),
                     "replacement qualifier: a self-reference with no FK in the DDL"),
    LogicalReference("padb", "PartAttributeAssignment", ("PartTerminologyID",), "pcdb", "Parts",
                     ("PartTerminologyID",), "cross-database reference into PCdb (PCAdb DDL only)"),
    LogicalReference("padb", "PartTypeStyle", ("PartTerminologyID",), "pcdb", "Parts",
                     ("PartTerminologyID",), "cross-database reference into PCdb"),
    LogicalReference("padb", "PartAttributeStyle", ("PAPTID",), "padb", "PartAttributeAssignment",
                     ("PAPTID",), "link table with no FKs in the DDL"),
    LogicalReference("padb", "PartAttributeStyle", ("StyleID",), "padb", "Style", ("StyleID",),
                     "link table with no FKs in the DDL"),
    LogicalReference("padb", "PartTypeStyle", ("StyleID",), "padb", "Style", ("StyleID",),
                     "link table with no FKs in the DDL"),
)
