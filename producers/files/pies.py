"""PIES files (6.5 to 7.2) as records: per `<Item>`, one Item record and one record per entry of
its segments (descriptions, prices, extended information, attributes, packages, interchange,
digital assets); one PiesFile record per file.

Pure: elements in, records out.  Elements are matched by local name, whatever their namespace
(autocare.org, the older aftermarket.org, or none: reference aces-pies.md §2.1).  Records use
the column names of schemas/ddl/pies.sql; child records carry the item's key (BrandAAIAID,
PartNumber) and the defaults that complete their own keys.  An Item child that is neither a
column nor a segment is kept as XML in Item.UnknownXml; those outside the 7.2 model are also
counted by name.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from producers.files.aces import as_int, json_text
from producers.files.xml_stream import Element, FormatRefused, Peek, local_name, text_of, to_xml
from schemas.aces import PIES_VERSIONS

log = logging.getLogger(__name__)

ROOT = "PIES"
ITEM = "Item"
FILE_TABLE = "PiesFile"
DESCRIPTION, PRICE, EXPI, ATTRIBUTE = "ItemDescription", "ItemPrice", "ItemExtendedInfo", "ItemAttribute"
PACKAGE, INTERCHANGE, ASSET = "ItemPackage", "ItemInterchange", "ItemDigitalAsset"
TABLES = (ITEM, DESCRIPTION, PRICE, EXPI, ATTRIBUTE, PACKAGE, INTERCHANGE, ASSET)
_TOP = frozenset({1})
# Items sit in <Items>; a file that puts them straight under the root is read too.
WANTED: dict[str, frozenset[int]] = {"Header": _TOP, "PriceSheets": _TOP, "MarketingCopy": _TOP,
                                     "Item": frozenset({1, 2}), "Trailer": _TOP}
_KNOWN_TOP = frozenset({*WANTED, "TestFile", "Items"})
DEFAULT_LANGUAGE = "EN"

_HEADER_FIELDS = ("SubmissionType", "BlanketEffectiveDate", "ChangesSinceDate", "ParentDUNSNumber", "ParentAAIAID",
                  "BrandOwnerAAIAID", "CurrencyCode", "LanguageCode", "TechnicalContact", "ContactEmail",
                  "PCdbVersionDate", "PAdbVersionDate")
_HEADER_KNOWN = frozenset({*_HEADER_FIELDS, "PIESVersion", "ParentGLN", "ParentVMRSID", "BrandOwnerDUNS",
                           "BrandOwnerGLN", "BrandOwnerVMRSID", "BuyerDuns", "BrandAAIAID"})
_ITEM_TEXT = ("HazardousMaterialCode", "BaseItemID", "BrandLabel", "SubBrandAAIAID", "SubBrandLabel",
              "ACESApplications", "ContainerType", "ItemEffectiveDate", "AvailableDate", "AAIAProductCategoryCode",
              "UNSPSC", "VMRSCode")
_ITEM_WITH_UOM = ("ItemQuantitySize", "QuantityPerApplication", "MinimumOrderQuantity")
_SEGMENTS = frozenset({"Descriptions", "Prices", "ExtendedInformation", "ProductAttributes", "Packages",
                       "PartInterchangeInfo", "DigitalAssets"})
# In the 7.2 Item but without a column or table: kept in UnknownXml, not counted as unknown.
_UNMAPPED = frozenset({"VMRSBrandID", "Kits"})


def check_version(peek: Peek, file: str) -> str:
    """The file's PIES version (Header/PIESVersion), or FormatRefused naming it and those read."""
    if peek.header is None:
        raise FormatRefused(f"{file}: PIES file without a Header up front: its PIESVersion cannot be read")
    version = (peek.header.get("PIESVersion") or "").strip()
    if version not in PIES_VERSIONS:
        shown = f"version {version!r}" if version else "no PIESVersion"
        hint = " (PIES 8.0 renames BrandAAIAID to BrandID)" if version.startswith("8") else ""
        raise FormatRefused(f"{file}: PIES {shown} is not read; versions read: {', '.join(PIES_VERSIONS)}{hint}")
    return version


@dataclass
class PiesStats:
    version: str = ""
    submission_type: str | None = None
    items: int = 0
    deletes: int = 0
    records: Counter[str] = field(default_factory=Counter)  # per child table
    trailer_item_count: str | None = None
    unknown: Counter[str] = field(default_factory=Counter)

    @property
    def trailer_mismatch(self) -> bool:
        return self.trailer_item_count is not None and self.trailer_item_count.strip() != str(self.items)

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "submission_type": self.submission_type, "items": self.items,
                "soft_deletes": self.deletes, "segment_records": dict(sorted(self.records.items())),
                "trailer_item_count": self.trailer_item_count, "trailer_mismatch": self.trailer_mismatch,
                "unknown_elements": dict(sorted(self.unknown.items()))}


Entity = dict[str, list[dict[str, Any]]]


class PiesReader:
    root: str = ROOT
    entity: str = ITEM
    wanted: dict[str, frozenset[int]] = WANTED
    tables: tuple[str, ...] = TABLES
    file_table: str = FILE_TABLE

    def __init__(self, file_name: str, version: str, effective: str, file_id: str | None = None) -> None:
        self.file_name = file_name
        self.file_id = file_id  # Item.FileID: the file that last delivered the item
        self.effective = effective
        self.stats = PiesStats(version=version)
        self.header: dict[str, str | None] = {}
        self.transaction_date: str | None = None
        self._brand: str | None = None

    def element(self, elem: Element) -> Entity | None:
        name = local_name(elem.tag)
        if name == ITEM:
            return self.item(elem)
        if name == "Header":
            self.read_header(elem)
        elif name == "Trailer":
            for c in elem:
                n = local_name(c.tag)
                if n == "ItemCount":
                    self.stats.trailer_item_count = (c.text or "").strip()
                elif n == "TransactionDate":
                    self.transaction_date = text_of(c)
        return None  # PriceSheets and MarketingCopy have no table: read past

    def dropped(self, name: str) -> None:
        if name not in _KNOWN_TOP:
            self.stats.unknown[name] += 1

    def read_header(self, elem: Element) -> None:
        h: dict[str, str | None] = {}
        for c in elem:
            name = local_name(c.tag)
            if not name:
                continue
            if name not in _HEADER_KNOWN:
                self.stats.unknown[name] += 1
            h[name] = text_of(c)
        self.header = h
        self._brand = h.get("BrandAAIAID")
        self.stats.submission_type = h.get("SubmissionType")

    def item(self, elem: Element) -> Entity:
        stats = self.stats
        stats.items += 1
        mt = (elem.get("MaintenanceType") or "").strip() or None
        rec: dict[str, Any] = {"BrandAAIAID": None, "PartNumber": None, "FileID": self.file_id, "MaintenanceType": mt}
        segments: list[Element] = []
        unknown: list[str] = []
        for c in elem:
            name = local_name(c.tag)
            if not name:
                continue
            if name in _SEGMENTS:
                segments.append(c)
            elif name in _ITEM_TEXT or name in ("PartNumber", "BrandAAIAID"):
                rec[name] = text_of(c)
            elif name in _ITEM_WITH_UOM:
                rec[name] = text_of(c)
                rec[f"{name}UOM"] = c.get("UOM")
            elif name == "ItemLevelGTIN":
                rec["ItemLevelGTIN"] = text_of(c)
                rec["GTINQualifier"] = c.get("GTINQualifier")
            elif name == "PartTerminologyID":
                rec["PartTerminologyID"] = as_int(c.text)
            elif name == "ManufacturerProductCodes":
                for g in c:
                    n = local_name(g.tag)
                    if n in ("Group", "SubGroup"):
                        rec[f"ManufacturerProductCode{n}"] = text_of(g)
            else:
                unknown.append(to_xml(c))
                if name not in _UNMAPPED:
                    stats.unknown[name] += 1
        if rec["BrandAAIAID"] is None:
            rec["BrandAAIAID"] = self._brand
        rec["UnknownXml"] = "".join(unknown) or None
        self._stamp(rec, mt)
        if (mt or "").upper() == "D":
            stats.deletes += 1
        out: Entity = {ITEM: [rec]}
        key = {"BrandAAIAID": rec["BrandAAIAID"], "PartNumber": rec["PartNumber"]}
        for seg in segments:
            table, build = _SEGMENT_READERS[local_name(seg.tag)]
            rows = out.setdefault(table, [])
            for entry in seg:
                for row in build(entry):
                    own = row.get("MaintenanceType") or mt  # an entry without its own takes the item's
                    full = {**key, **row, "MaintenanceType": own}
                    self._stamp(full, own)
                    rows.append(full)
                    stats.records[table] += 1
        return out

    def _stamp(self, rec: dict[str, Any], maintenance: str | None) -> None:
        rec["EffectiveDateTime"] = self.effective
        rec["EndDateTime"] = self.effective if (maintenance or "").upper() == "D" else None
        rec["CultureID"] = None

    def file_record(self, file_id: str) -> dict[str, Any]:
        s = self.stats
        if s.trailer_mismatch:
            log.warning("%s: Trailer ItemCount says %s, the file has %d items", self.file_name,
                        s.trailer_item_count, s.items)
        rec: dict[str, Any] = {"FileID": file_id, "FileName": self.file_name, "Version": s.version}
        for name in _HEADER_FIELDS:
            rec[name] = self.header.get(name)
        rec.update({"TrailerItemCount": s.trailer_item_count, "TransactionDate": self.transaction_date,
                    "ItemCount": s.items,
                    "UnknownElements": json_text(dict(sorted(s.unknown.items()))) if s.unknown else None,
                    "EffectiveDateTime": self.effective, "EndDateTime": None, "CultureID": None})
        return rec


# --- segments: one builder per segment entry, answering its rows without the item's key -------------------------

Row = dict[str, Any]


def _children(elem: Element) -> dict[str, Element]:
    """Direct children by local name (the last one of a name wins)."""
    return {local_name(c.tag): c for c in elem if local_name(c.tag)}


def _t(children: dict[str, Element], name: str) -> str | None:
    c = children.get(name)
    return text_of(c) if c is not None else None


def _attr(children: dict[str, Element], name: str, attr: str) -> str | None:
    c = children.get(name)
    return c.get(attr) if c is not None else None


def _description(e: Element) -> list[Row]:
    if local_name(e.tag) != "Description":
        return []
    return [{"DescriptionCode": e.get("DescriptionCode"), "LanguageCode": e.get("LanguageCode") or DEFAULT_LANGUAGE,
             "Sequence": as_int(e.get("Sequence")) or 1, "MaintenanceType": e.get("MaintenanceType"),
             "Description": text_of(e)}]


def _price(e: Element) -> list[Row]:
    if local_name(e.tag) != "Pricing":
        return []
    c = _children(e)
    return [{"PriceSheetNumber": _t(c, "PriceSheetNumber") or "", "PriceType": e.get("PriceType"),
             "PriceBreak": _t(c, "PriceBreak") or "", "MaintenanceType": e.get("MaintenanceType"),
             "CurrencyCode": _t(c, "CurrencyCode"), "EffectiveDate": _t(c, "EffectiveDate"),
             "ExpirationDate": _t(c, "ExpirationDate"), "Price": _t(c, "Price"), "PriceUOM": _attr(c, "Price", "UOM"),
             "PriceTypeDescription": _t(c, "PriceTypeDescription"),
             "PriceBreakUOM": _attr(c, "PriceBreak", "UOM"), "PriceMultiplier": _t(c, "PriceMultiplier")}]


def _expi(e: Element) -> list[Row]:
    if local_name(e.tag) != "ExtendedProductInformation":
        return []
    return [{"EXPICode": e.get("EXPICode"), "LanguageCode": e.get("LanguageCode") or DEFAULT_LANGUAGE,
             "MaintenanceType": e.get("MaintenanceType"), "Value": text_of(e)}]


def _attribute(e: Element) -> list[Row]:
    if local_name(e.tag) != "ProductAttribute":
        return []
    return [{"AttributeID": e.get("AttributeID"), "RecordNumber": as_int(e.get("RecordNumber")) or 1,
             "MaintenanceType": e.get("MaintenanceType"), "PADBAttribute": e.get("PADBAttribute"),
             "AttributeUOM": e.get("AttributeUOM"), "Value": text_of(e)}]


def _package(e: Element) -> list[Row]:
    if local_name(e.tag) != "Package":
        return []
    c = _children(e)
    row: Row = {"PackageUOM": _t(c, "PackageUOM"), "MaintenanceType": e.get("MaintenanceType"),
                "PackageLevelGTIN": _t(c, "PackageLevelGTIN"),
                "PackageBarCodeCharacters": _t(c, "PackageBarCodeCharacters"),
                "QuantityofEaches": as_int(_t(c, "QuantityofEaches")), "InnerQuantity": _t(c, "InnerQuantity"),
                "InnerQuantityUOM": _attr(c, "InnerQuantity", "InnerQuantityUOM")}
    dims = c.get("Dimensions")
    if dims is not None:
        d = _children(dims)
        row["DimensionsUOM"] = dims.get("UOM")
        for axis in ("Height", "Width", "Length"):
            # One size per axis in the table: the shipping size (what logistics needs), else the
            # merchandising size, else the axis as 6.x named it.
            row[axis] = _t(d, f"Shipping{axis}") or _t(d, f"Merchandising{axis}") or _t(d, axis)
    weights = c.get("Weights")
    if weights is not None:
        w = _children(weights)
        row.update({"WeightsUOM": weights.get("UOM"), "Weight": _t(w, "Weight"),
                    "DimensionalWeight": _t(w, "DimensionalWeight")})
    return [row]


def _interchange(e: Element) -> list[Row]:
    if local_name(e.tag) != "PartInterchange":
        return []
    rows: list[Row] = []
    for p in e:
        if local_name(p.tag) != "PartNumber":
            continue
        rows.append({"InterchangeBrandAAIAID": (e.get("BrandAAIAID") or "").strip(),
                     "InterchangePartNumber": text_of(p), "MaintenanceType": e.get("MaintenanceType"),
                     "InterchangeBrandLabel": e.get("BrandLabel"),
                     "ItemEquivalentUOM": p.get("UOM") or e.get("ItemEquivalentUOM"),
                     "QualityGradeLevel": e.get("QualityGradeLevel"),
                     "InterchangeNotes": p.get("InterchangeNotes") or e.get("InterchangeNotes")})
    return rows


def _asset(e: Element) -> list[Row]:
    if local_name(e.tag) != "DigitalFileInformation":
        return []
    c = _children(e)
    descriptions = c.get("AssetDescriptions")
    texts = [t for t in (text_of(d) for d in descriptions) if t] if descriptions is not None else []
    row: Row = {name: _t(c, name) for name in ("FileName", "AssetType", "FileType", "Representation", "Resolution",
                                               "ColorMode", "Background", "OrientationView", "FilePath", "URI")}
    row.update({"MaintenanceType": e.get("MaintenanceType"), "AssetID": e.get("AssetID"),
                "AssetDescription": "\n".join(texts) or None})
    return [row]


_SEGMENT_READERS: dict[str, tuple[str, Callable[[Element], list[Row]]]] = {
    "Descriptions": (DESCRIPTION, _description), "Prices": (PRICE, _price), "ExtendedInformation": (EXPI, _expi),
    "ProductAttributes": (ATTRIBUTE, _attribute), "Packages": (PACKAGE, _package),
    "PartInterchangeInfo": (INTERCHANGE, _interchange), "DigitalAssets": (ASSET, _asset),
}
