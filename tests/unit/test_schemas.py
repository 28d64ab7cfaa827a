"""The schemas as code: naming rules on every table, counts, keys, FK graph, generated code, gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas import naming
from schemas.catalog import DATABASES, load_catalog
from schemas.ddl_parse import DdlError, parse_ddl
from schemas.generate import stale
from schemas.graph import CycleError, load_plan
from schemas.validate import check_catalog, validate

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("autocare", "canonical"),
    [
        ("BaseVehicle", "base_vehicle"),
        ("BaseVehicleID", "base_vehicle_id"),
        ("SubModelID", "submodel_id"),
        ("SubmodelID", "submodel_id"),
        ("VehicleTypeID", "vehicle_type_id"),
        ("EngineVINID", "engine_vin_id"),
        ("BrakeABS", "brake_abs"),
        ("VCdbChanges", "vcdb_changes"),
        ("EngineBase2", "engine_base2"),
        ("MetaUOMID", "meta_uom_id"),
        ("MetaUomID", "meta_uom_id"),
        ("PIESCodeId", "pies_code_id"),
        ("ACESCodedValues", "aces_coded_values"),
        ("PAdbVersion", "padb_version"),
    ],
)
def test_snake_case_rules(autocare: str, canonical: str) -> None:
    assert naming.snake(autocare) == canonical


def test_column_named_id_becomes_table_id() -> None:
    assert naming.column_name("VCdbChanges", "ID") == "vcdb_changes_id"
    assert load_catalog("vcdb").table("VCdbChanges").column("ID").canonical == "vcdb_changes_id"
    assert load_catalog("padb").table("PartAttributeAssignment").column("ID").canonical == \
        "part_attribute_assignment_id"


def test_python_names_avoid_keywords() -> None:
    assert naming.python_name("class") == "vehicle_class"
    assert naming.python_name("base_vehicle") == "base_vehicle"
    from schemas.generated import vcdb_tables

    assert vcdb_tables.TABLES["Class"] is vcdb_tables.vehicle_class


def test_reserved_and_long_identifiers_are_refused() -> None:
    with pytest.raises(naming.NamingError, match="reserved"):
        naming.table_name("Order")
    with pytest.raises(naming.NamingError, match="63 bytes"):
        naming.table_name("A" + "VeryLong" * 10)


def test_collisions_are_named() -> None:
    problems = naming.find_collisions({"SubModelID": "submodel_id", "SubmodelID": "submodel_id"})
    assert problems == ["'SubModelID' and 'SubmodelID' both become 'submodel_id'"]


def test_table_counts() -> None:
    counts = {db: len(load_catalog(db).tables) for db in DATABASES}
    assert counts == {"vcdb": 83, "pcdb": 27, "padb": 12, "qdb": 13, "aces": 2, "pies": 9}


@pytest.mark.parametrize("db", DATABASES)
def test_every_name_of_every_table_is_canonical(db: str) -> None:
    catalog = load_catalog(db)
    for table in catalog.tables.values():
        assert table.canonical == naming.snake(table.name)
        assert len(table.canonical.encode()) <= 63
        for col in table.columns:
            assert col.canonical.islower() and col.canonical not in naming.PG_RESERVED
            assert len(col.canonical.encode()) <= 63
        assert table.key, f"{table.name} has no key"
        assert all(not table.column(k).nullable for k in table.key)
    assert check_catalog(catalog) == []


def test_keyless_tables_get_recorded_keys() -> None:
    vcdb = load_catalog("vcdb")
    assert vcdb.table("PowerOutput").key == ("PowerOutputID",)
    assert vcdb.table("PowerOutput").key_reason
    assert vcdb.table("VCdbChanges").key == ("VersionDate", "TableName", "ID", "Action")
    assert load_catalog("pcdb").table("PartsToUse").key == ("PartTerminologyID", "UseID")
    assert vcdb.table("BaseVehicle").key_reason is None


def test_api_field_names_differ_where_the_api_does() -> None:
    assert load_catalog("vcdb").table("Vehicle").column("SubmodelID").api_field == "SubModelID"
    pies = load_catalog("pcdb").table("PIESReferenceFieldCode")
    assert pies.column("PIESCodeId").api_field == "CodeValueID"
    assert load_catalog("pcdb").table("PIESExpiCode").api_table == "PIESEXPICode"
    assert load_catalog("padb").table("MetaUomCodeAssignment").api_table == "MetaUOMCodeAssignment"


def test_load_order_follows_the_fk_graph() -> None:
    plan = load_plan(load_catalog("vcdb"))
    level = plan.level_of
    for lookup in ("Year", "Make", "Model"):
        assert level(lookup) < level("BaseVehicle")
    assert level("BaseVehicle") < level("Vehicle")
    for name in load_catalog("vcdb").tables:
        if name.startswith("VehicleTo"):
            assert level("Vehicle") < level(name)
    assert plan.self_referencing == ("Region",)


def test_vehicle_to_engine_config_references_engine_config2() -> None:
    fk = next(f for f in load_catalog("vcdb").table("VehicleToEngineConfig").foreign_keys
              if f.columns == ("EngineConfigID",))
    assert fk.ref_table == "EngineConfig2" and fk.declared


def test_logical_references_are_listed_apart() -> None:
    fks = load_catalog("vcdb").table("EngineConfig2").foreign_keys
    logical = [f for f in fks if not f.declared]
    assert [(f.columns, f.ref_table) for f in logical] == [(("PowerOutputID",), "PowerOutput")]


def test_cycle_between_tables_is_refused() -> None:
    from schemas.catalog import build_catalog

    ddl = parse_ddl('''CREATE TABLE "A" ("AID" INT NOT NULL, "BID" INT, CONSTRAINT "PK_A" PRIMARY KEY ("AID"),
        CONSTRAINT "FK_A_B" FOREIGN KEY ("BID") REFERENCES "B" ("BID"));
        CREATE TABLE "B" ("BID" INT NOT NULL, "AID" INT, CONSTRAINT "PK_B" PRIMARY KEY ("BID"),
        CONSTRAINT "FK_B_A" FOREIGN KEY ("AID") REFERENCES "A" ("AID"));''')
    with pytest.raises(CycleError, match="A -> B -> A"):
        load_plan(build_catalog("qdb", ddl))


def test_alter_table_constraints_are_read() -> None:
    ddl = parse_ddl('CREATE TABLE "A" ("X" INT NOT NULL); CREATE TABLE "B" ("Y" INT);'
                    'ALTER TABLE "A" ADD CONSTRAINT "PK_A" PRIMARY KEY ("X");'
                    'ALTER TABLE "B" ADD CONSTRAINT "FK" FOREIGN KEY ("Y") REFERENCES "A" ("X");')
    assert ddl["A"].primary_key == ("X",)
    assert ddl["B"].foreign_keys[0].ref_table == "A"


def test_ddl_errors_name_the_table_and_column() -> None:
    with pytest.raises(DdlError, match="table T: primary key column Nope does not exist"):
        parse_ddl('CREATE TABLE "T" ("A" INT, CONSTRAINT "PK" PRIMARY KEY ("Nope"));')


def test_validate_fails_on_a_broken_ddl_naming_table_and_column(tmp_path: Path) -> None:
    (tmp_path / "vcdb.sql").write_text((FIXTURES / "broken_vcdb.sql").read_text())
    problems = validate(tmp_path)
    assert any("BaseVehicle" in p and "Make.MakeCode" in p for p in problems), problems


def test_validate_passes_on_the_shipped_schemas() -> None:
    assert validate() == []


def test_generated_code_is_fresh() -> None:
    assert stale() == [], "run `vcdb schema generate`"


def test_record_model_accepts_api_names_and_quirks() -> None:
    from schemas.generated.vcdb_models import VehicleRecord

    rec = VehicleRecord.from_api({"VehicleID": 1, "BaseVehicleID": "2", "SUBMODELID": 3, "RegionID": 4,
                                        "PublicationStageID": 4, "EffectiveDateTime": "2026-01-13T01:53:17.383Z",
                                        "EndDateTime": "11/15/2024 00:50:19", "Unknown": 1})
    assert rec.submodel_id == 3 and rec.base_vehicle_id == 2
    assert rec.effective_date_time is not None and rec.effective_date_time.tzinfo is None
    assert rec.end_date_time is not None and rec.end_date_time.year == 2024
