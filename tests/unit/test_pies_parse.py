"""PIES files into records (producers.files.xml_stream + producers.files.pies): no socket."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from producers.files import run as file_run
from producers.files.pies import TABLES, PiesReader
from producers.files.xml_stream import FormatRefused, ParseError, XmlStream, file_digest
from schemas.catalog import load_catalog

FIX = Path(__file__).parent / "fixtures" / "pies"
EFFECTIVE = "2026-03-01T10:00:00"


def read(path: Path) -> tuple[dict[str, list[dict[str, Any]]], PiesReader, XmlStream]:
    version = file_run.check_file("pies", path, path.name)
    reader = PiesReader(path.name, version, EFFECTIVE, file_digest(path))
    stream = XmlStream(path, path.name)
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
    for elem in stream.elements(reader.wanted, reader.dropped):
        entity = reader.element(elem)
        for table, records in (entity or {}).items():
            out[table].extend(records)
    return out, reader, stream


def reader_file_id(path: Path) -> str:
    import hashlib

    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()


def one(records: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    found = [r for r in records if all(r.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


def test_records_carry_exactly_the_ddl_columns_and_the_record_metadata() -> None:
    out, _, _ = read(FIX / "items_7_2.xml")
    catalog = load_catalog("pies")
    for table, records in out.items():
        allowed = {c.name for c in catalog.table(table).columns}
        for rec in records:
            assert set(rec) <= allowed, (table, set(rec) - allowed)
            assert {"EffectiveDateTime", "EndDateTime", "CultureID", *catalog.table(table).key} <= set(rec)


def test_an_item_reaches_its_columns_in_the_autocare_namespace() -> None:
    out, _, _ = read(FIX / "items_7_2.xml")
    item = one(out["Item"], PartNumber="P-100")
    assert item["BrandAAIAID"] == "ZZXD"  # the Item's own brand
    assert (item["ItemLevelGTIN"], item["GTINQualifier"], item["PartTerminologyID"]) == ("00012345678905", "UP", 900501)
    assert (item["QuantityPerApplication"], item["QuantityPerApplicationUOM"]) == ("2", "EA")
    assert (item["MinimumOrderQuantity"], item["MinimumOrderQuantityUOM"]) == ("4", "EA")
    assert (item["ManufacturerProductCodeGroup"], item["ManufacturerProductCodeSubGroup"]) == ("BRK", "ROT")
    assert (item["MaintenanceType"], item["EffectiveDateTime"], item["EndDateTime"]) == ("A", EFFECTIVE, None)
    assert item["FileID"] == reader_file_id(FIX / "items_7_2.xml")
    # The header's brand is the default.
    assert one(out["Item"], PartNumber="P-200")["BrandAAIAID"] == "ZZXB"


def test_segments_are_child_records_keyed_with_their_defaults() -> None:
    out, _, _ = read(FIX / "items_7_2.xml")
    key = {"BrandAAIAID": "ZZXD", "PartNumber": "P-100"}
    assert one(out["ItemDescription"], **key, DescriptionCode="DES")["LanguageCode"] == "EN"
    fab = one(out["ItemDescription"], **key, DescriptionCode="FAB")
    assert (fab["Sequence"], fab["LanguageCode"], fab["Description"]) == (2, "EN", "Cast iron")
    ret = one(out["ItemPrice"], **key, PriceType="RET")
    assert (ret["PriceSheetNumber"], ret["Price"], ret["PriceUOM"], ret["PriceBreak"], ret["PriceBreakUOM"]) == \
        ("PS-1", "49.9900", "EA", "10", "EA")
    lst = one(out["ItemPrice"], **key, PriceType="LST")
    assert (lst["PriceSheetNumber"], lst["PriceBreak"]) == ("", "")
    assert one(out["ItemExtendedInfo"], **key, EXPICode="CTO")["Value"] == "US"
    assert one(out["ItemAttribute"], **key, AttributeID="Diameter")["RecordNumber"] == 1
    vented = one(out["ItemAttribute"], **key, AttributeID="900901")
    assert (vented["RecordNumber"], vented["PADBAttribute"], vented["Value"]) == (2, "Y", "Vented")
    pack = one(out["ItemPackage"], **key, PackageUOM="EA")
    assert (pack["Height"], pack["Width"], pack["Length"], pack["DimensionsUOM"]) == ("12", "13", "3", "IN")
    assert (pack["Weight"], pack["WeightsUOM"], pack["QuantityofEaches"]) == ("18.5", "PG", 1)
    swaps = [r for r in out["ItemInterchange"] if r["PartNumber"] == "P-100"]
    assert [(r["InterchangeBrandAAIAID"], r["InterchangePartNumber"]) for r in swaps] == [("ZZXQ", "Q-1"),
                                                                                          ("ZZXQ", "Q-2")]
    assert (swaps[0]["ItemEquivalentUOM"], swaps[0]["InterchangeNotes"], swaps[0]["QualityGradeLevel"]) == \
        ("EA", "direct fit", "OE")
    asset = one(out["ItemDigitalAsset"], **key, FileName="p-100.jpg")
    assert (asset["AssetType"], asset["AssetID"], asset["AssetDescription"]) == ("P04", "A-1", "Front\nStudio")


def test_maintenance_type_d_is_a_soft_delete_and_entries_carry_their_own() -> None:
    out, reader, _ = read(FIX / "items_7_2.xml")
    gone = one(out["Item"], PartNumber="P-300")
    assert (gone["MaintenanceType"], gone["EndDateTime"]) == ("D", EFFECTIVE)
    child = one(out["ItemDescription"], PartNumber="P-300")
    assert (child["MaintenanceType"], child["EndDateTime"]) == ("D", EFFECTIVE)  # none of its own: the item's
    sho = one(out["ItemDescription"], PartNumber="P-100", DescriptionCode="SHO")
    assert (sho["MaintenanceType"], sho["EndDateTime"]) == ("D", EFFECTIVE)
    assert one(out["ItemDescription"], PartNumber="P-200")["MaintenanceType"] == "A"
    assert reader.stats.deletes == 1


def test_unknown_and_unmodelled_item_children_are_kept_as_xml_only_unknown_ones_counted() -> None:
    out, reader, stream = read(FIX / "items_7_2.xml")
    xml = one(out["Item"], PartNumber="P-100")["UnknownXml"]
    assert "<WarrantyCard" in xml and ">lifetime</WarrantyCard>" in xml
    assert "<Kits" in xml and "<VMRSBrandID" in xml
    assert reader.stats.unknown == {"WarrantyCard": 1}
    assert json.loads(reader.file_record(stream.digest)["UnknownElements"]) == {"WarrantyCard": 1}


def test_the_file_record_holds_the_header_and_the_trailer_as_delivered() -> None:
    _, reader, stream = read(FIX / "items_7_2.xml")
    rec = reader.file_record(stream.digest)
    assert (rec["Version"], rec["SubmissionType"], rec["ParentAAIAID"], rec["CurrencyCode"]) == \
        ("7.2", "FULL", "ZZXP", "USD")
    assert (rec["PCdbVersionDate"], rec["PAdbVersionDate"], rec["BlanketEffectiveDate"]) == \
        ("2026-01-01", "2026-01-02", "2026-01-15")
    assert (rec["ItemCount"], rec["TrailerItemCount"], rec["TransactionDate"]) == (3, "3", "2026-01-15")
    assert not reader.stats.trailer_mismatch


def test_the_older_aftermarket_namespace_reads_the_same_and_a_trailer_mismatch_is_reported() -> None:
    out, reader, stream = read(FIX / "items_6_5_aftermarket.xml")
    (item,) = out["Item"]
    assert (item["BrandAAIAID"], item["PartNumber"], item["MaintenanceType"]) == ("ZZXD", "OLD-1", "C")
    (pack,) = out["ItemPackage"]
    assert (pack["PackageUOM"], pack["Height"], pack["Width"], pack["Length"]) == ("CS", "5", "6", "7")
    assert reader.stats.trailer_mismatch and reader.stats.to_json()["trailer_item_count"] == "5"
    assert reader.file_record(stream.digest)["BrandOwnerAAIAID"] == "ZZXO"


def test_no_namespace_a_testfile_first_and_an_unknown_element_between_items() -> None:
    out, reader, _ = read(FIX / "plain_7_1.xml")
    assert [i["PartNumber"] for i in out["Item"]] == ["N-1", "N-2"]
    assert reader.stats.version == "7.1"
    assert reader.stats.unknown == {"Advert": 1}


def test_gzip_by_magic_bytes(tmp_path: Path) -> None:
    packed = tmp_path / "items.bin"
    packed.write_bytes(gzip.compress((FIX / "items_7_2.xml").read_bytes()))
    assert read(packed)[0] == read(FIX / "items_7_2.xml")[0]


def test_pies_8_is_refused_naming_its_version_and_those_read() -> None:
    with pytest.raises(FormatRefused) as e:
        file_run.check_file("pies", FIX / "version_8_0.xml", "version_8_0.xml")
    assert "PIES version '8.0' is not read; versions read: 6.5, 6.6, 6.7, 7.0, 7.1, 7.2" in str(e.value)
    aces = FIX.parent / "aces" / "full_4_2.xml"
    with pytest.raises(FormatRefused, match=r"is a ACES file, not PIES: load it with vcdb aces load"):
        file_run.check_file("pies", aces, "full_4_2.xml")


def test_malformed_pies_names_its_position_after_the_complete_items(tmp_path: Path) -> None:
    text = (FIX / "items_7_2.xml").read_text().replace("<PartNumber>P-300</PartNumber>", "<PartNumber>P-300</Part>")
    path = tmp_path / "broken.xml"
    path.write_text(text)
    reader = PiesReader("broken.xml", "7.2", EFFECTIVE)
    parts: list[str] = []
    with pytest.raises(ParseError) as e:
        for elem in XmlStream(path, "broken.xml").elements(reader.wanted, reader.dropped):
            entity = reader.element(elem)
            parts += [i["PartNumber"] for i in (entity or {}).get("Item", [])]
    assert parts == ["P-100", "P-200"]
    assert (e.value.line, e.value.column) == (101, 31)
    assert "Opening and ending tag mismatch: PartNumber" in e.value.message


def test_items_straight_under_the_root_are_read_too(tmp_path: Path) -> None:
    path = tmp_path / "flat.xml"
    path.write_text("<PIES><Header><PIESVersion>7.2</PIESVersion></Header>"
                    "<Item MaintenanceType='A'><PartNumber>F-1</PartNumber><BrandAAIAID>ZZXD</BrandAAIAID></Item>"
                    "<Item MaintenanceType='A'><PartNumber>F-2</PartNumber><BrandAAIAID>ZZXD</BrandAAIAID></Item>"
                    "<Trailer><TransactionDate>2026-01-01</TransactionDate></Trailer></PIES>")
    out, reader, _ = read(path)
    assert [i["PartNumber"] for i in out["Item"]] == ["F-1", "F-2"]
    assert reader.stats.unknown == {}
