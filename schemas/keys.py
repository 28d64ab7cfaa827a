"""Keys for the tables AutoCare's DDL leaves keyless, each decision with its reason.

Loads are idempotent upserts on a key, so every canonical table needs one.  Where the data
implies a key (an `...ID` the API keys records by, or a link table's pair), that is the key;
otherwise the full row is the key.  Key columns are NOT NULL in the canonical table: a record
with a null key column fails validation and is dead-lettered with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyDecision:
    columns: tuple[str, ...]
    reason: str


KEY_DECISIONS: dict[tuple[str, str], KeyDecision] = {
    ("vcdb", "PowerOutput"): KeyDecision(
        ("PowerOutputID",),
        "the API's key field; EngineConfig(2).PowerOutputID refers to it (logical reference)",
    ),
    ("vcdb", "VehicleTypeGroup"): KeyDecision(
        ("VehicleTypeGroupID",),
        "one row per group id in every release; VehicleType.VehicleTypeGroupID refers to it",
    ),
    ("vcdb", "Version"): KeyDecision(("VersionDate",), "full row: a release is its date"),
    ("vcdb", "VCdbChanges"): KeyDecision(
        ("VersionDate", "TableName", "ID", "Action"),
        "full row: a change entry has no id of its own",
    ),
    ("pcdb", "ACESCodedValues"): KeyDecision(
        ("Element", "Attribute", "CodedValue"),
        "a coded value is unique within its element and attribute; the description is payload",
    ),
    ("pcdb", "PartsRelationship"): KeyDecision(
        ("PartTerminologyID", "RelatedPartTerminologyID"), "link table: the pair is the row"
    ),
    ("pcdb", "PartsSupersession"): KeyDecision(
        ("OldPartTerminologyID", "NewPartTerminologyID"),
        "the API omits PartsSupersessionId; the old/new pair is the key (the nexus DDL's PK)",
    ),
    ("pcdb", "PartsToAlias"): KeyDecision(("PartTerminologyID", "AliasID"), "link table: the pair is the row"),
    ("pcdb", "PartsToUse"): KeyDecision(("PartTerminologyID", "UseID"), "link table: the pair is the row"),
    ("pcdb", "Version"): KeyDecision(("VersionDate",), "full row: a release is its date"),
    ("padb", "Style"): KeyDecision(
        ("StyleID",),
        "styles are referenced by StyleID; a style without one cannot be referenced",
    ),
    ("padb", "PartAttributeStyle"): KeyDecision(("StyleID", "PAPTID"), "link table: the pair is the row"),
    ("padb", "PartTypeStyle"): KeyDecision(("StyleID", "PartTerminologyID"), "link table: the pair is the row"),
    ("padb", "Version"): KeyDecision(
        ("PAdbVersion", "PAdbPublication", "PCdbPublication"), "full row: a release is its versions"
    ),
    ("qdb", "QdbChanges"): KeyDecision(
        ("VersionDate", "QualifierID", "QualifierText", "Action"), "full row: a change entry has no id"
    ),
    ("qdb", "Version"): KeyDecision(("VersionDate",), "full row: a release is its date"),
}
