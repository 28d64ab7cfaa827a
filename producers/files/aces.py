"""ACES files (3.0 to 4.2) as records: one App record per `<App>`, one AcesFile record per file.

Pure: elements in, records out (the stream that reads them is producers/files/xml_stream.py).  Records
use the column names of schemas/ddl/aces.sql; the attributes come from schemas/aces.ATTRIBUTES
and the keys from schemas/aces.app_key / fitment_key, so a D record of an UPDATE file meets the
application it deletes by content (reference aces-pies.md §1.7).  Nothing is dropped: a value
that is not what the standard says (an id that is not a number) is passed on as delivered for
the loader to validate; an element the 4.2 App does not have is kept as XML in UnknownXml and
counted by name.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from producers.files.xml_stream import Element, FormatRefused, Peek, local_name, text_of, to_xml
from schemas.aces import ACES_VERSIONS, ATTRIBUTES, app_key, fitment_key

log = logging.getLogger(__name__)

ROOT = "ACES"
APP_TABLE = "App"
FILE_TABLE = "AcesFile"
ENTITY = "App"
# What the stream yields, at which depth (1: a child of the root).
_TOP = frozenset({1})
WANTED: dict[str, frozenset[int]] = {"Header": _TOP, "App": _TOP, "Asset": _TOP, "DigitalAsset": _TOP, "Footer": _TOP}

_HEADER_TEXT = ("Company", "SenderName", "SenderPhone", "SenderPhoneExt", "TransferDate", "MfrCode", "BrandAAIAID",
                "SubBrandAAIAID", "DocumentTitle", "DocFormNumber", "EffectiveDate", "SubmissionType",
                "MapperCompany", "MapperContact", "MapperPhone", "MapperPhoneExt", "MapperEmail", "VcdbVersionDate",
                "QdbVersionDate", "PcdbVersionDate")
_HEADER_LISTS = {"ApprovedFor": "Country", "PartsApprovedFor": "Country", "RegionFor": "Region"}
# In the 4.1 model but without a column of App: kept in UnknownXml, not counted as unknown.
_UNMAPPED = frozenset({"ProductionYears"})


def check_version(peek: Peek, file: str) -> str:
    """The file's ACES version, or FormatRefused naming it and the versions read."""
    version = (peek.attrib.get("version") or "").strip()
    if version not in ACES_VERSIONS:
        shown = f"version {version!r}" if version else "no version attribute"
        hint = " (ACES 5.0 renames Part to PartNumber and PartType to PartTerminology)" \
            if version.startswith("5") else ""
        raise FormatRefused(f"{file}: ACES {shown} is not read; versions read: {', '.join(ACES_VERSIONS)}{hint}")
    return version


def as_int(value: str | None) -> int | str | None:
    """A whole number as a number; anything else as delivered (the loader's validation names it)."""
    if value is None:
        return None
    v = value.strip()
    if not v:
        return None
    try:
        return int(v)
    except ValueError:
        return v


def json_text(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass
class AcesStats:
    """What the summary reports about one file."""

    version: str = ""
    submission_type: str | None = None
    apps: int = 0
    deletes: int = 0  # D apps published as soft deletes (UPDATE files)
    skipped_deletes: list[object] = field(default_factory=list)  # App ids of D apps in a FULL file
    equipment_apps: int = 0  # EquipmentBase / Mfr + EquipmentModel: unvalidated (no equipment tables)
    assets: int = 0
    digital_assets: int = 0
    footer_record_count: str | None = None
    unknown: Counter[str] = field(default_factory=Counter)

    @property
    def footer_mismatch(self) -> bool:
        return self.footer_record_count is not None and self.footer_record_count.strip() != str(self.apps)

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "submission_type": self.submission_type, "apps": self.apps,
                "soft_deletes": self.deletes, "skipped_deletes": len(self.skipped_deletes),
                "skipped_delete_ids": self.skipped_deletes[:100], "unvalidated_equipment_apps": self.equipment_apps,
                "assets": self.assets, "digital_assets": self.digital_assets,
                "footer_record_count": self.footer_record_count, "footer_mismatch": self.footer_mismatch,
                "unknown_elements": dict(sorted(self.unknown.items()))}


Entity = dict[str, list[dict[str, Any]]]


class AcesReader:
    """Reads the elements of one ACES file, in document order.  `element` answers an App with its
    records (none for a D app in a FULL file) and everything else with None."""

    root: str = ROOT
    entity: str = ENTITY
    wanted: dict[str, frozenset[int]] = WANTED
    tables: tuple[str, ...] = (APP_TABLE,)
    file_table: str = FILE_TABLE

    def __init__(self, file_name: str, version: str, effective: str, file_id: str | None = None) -> None:
        self.file_name = file_name
        self.file_id = file_id  # App has no FileID: its rows link to their file through the loader's run id
        self.effective = effective  # ISO seconds: EffectiveDateTime of every record, EndDateTime of deletes
        self.stats = AcesStats(version=version)
        self.header: dict[str, Any] = {}
        self._brand: str | None = None
        self._sub_brand: str | None = None
        self._full = False
        self._app_handlers = _app_handlers()

    def element(self, elem: Element) -> Entity | None:
        name = local_name(elem.tag)
        if name == "App":
            return self.app(elem)
        if name == "Header":
            self.read_header(elem)
        elif name == "Asset":
            self.stats.assets += 1
        elif name == "DigitalAsset":
            self.stats.digital_assets += sum(1 for c in elem if local_name(c.tag) == "DigitalFileInformation")
        elif name == "Footer":
            for c in elem:
                if local_name(c.tag) == "RecordCount":
                    self.stats.footer_record_count = (c.text or "").strip()
        return None

    def dropped(self, name: str) -> None:
        """An element between the entities that the stream deleted unread."""
        if name not in WANTED:
            self.stats.unknown[name] += 1

    def read_header(self, elem: Element) -> None:
        h: dict[str, Any] = {}
        for c in elem:
            name = local_name(c.tag)
            if not name:
                continue
            if name in _HEADER_LISTS:
                item = _HEADER_LISTS[name]
                tokens = [(g.get("id") or text_of(g) or "").strip() for g in c if local_name(g.tag) == item]
                # ACES 3.1: ApprovedFor is a plain string, from 3.2 a list of Country tokens.
                h[name] = ",".join(t for t in tokens if t) if tokens else text_of(c)
            elif name in _HEADER_TEXT:
                h[name] = text_of(c)
            else:
                self.stats.unknown[name] += 1
        self.header = h
        self._brand = h.get("BrandAAIAID")
        self._sub_brand = h.get("SubBrandAAIAID")
        self.stats.submission_type = h.get("SubmissionType")
        self._full = (h.get("SubmissionType") or "").upper() == "FULL"

    def app(self, elem: Element) -> Entity:
        stats = self.stats
        stats.apps += 1
        a = elem.attrib
        action = (a.get("action") or "").strip().upper() or None
        rec: dict[str, Any] = {"AppID": as_int(a.get("id")), "Action": action, "Ref": a.get("ref"),
                               "Validate": (a.get("validate") or "yes").strip()}
        if action == "D" and self._full:
            # Stibo's rule: a FULL file lists what is; a delete in it is not applied, but reported.
            stats.skipped_deletes.append(rec["AppID"])
            return {}
        quals: list[dict[str, Any]] = []
        notes: list[dict[str, str]] = []
        unknown: list[str] = []
        handlers = self._app_handlers
        for child in elem:
            name = local_name(child.tag)
            handler = handlers.get(name)
            if handler is not None:
                handler(rec, child)
            elif name == "Qual":
                quals.append(_qualifier(child))
            elif name == "Note":
                notes.append(_note(child))
            elif name:
                unknown.append(to_xml(child))
                if name not in _UNMAPPED:
                    stats.unknown[name] += 1
        rec.setdefault("BrandAAIAID", self._brand)
        rec.setdefault("SubBrandAAIAID", self._sub_brand)
        rec.setdefault("PartNumber", None)
        rec["Qualifiers"] = quals
        rec["FitmentKey"] = fitment_key(rec)
        rec["AppKey"] = app_key(rec, rec["FitmentKey"])
        rec["Qualifiers"] = json_text(quals) if quals else None
        rec["Notes"] = json_text(notes) if notes else None
        rec["UnknownXml"] = "".join(unknown) or None
        rec["EffectiveDateTime"] = self.effective
        rec["EndDateTime"] = None
        rec["CultureID"] = None
        if action == "D":
            rec["EndDateTime"] = self.effective  # a soft delete, as VCdb deletes are
            stats.deletes += 1
        if "EquipmentBaseID" in rec or "EquipmentModelID" in rec:
            stats.equipment_apps += 1
        return {APP_TABLE: [rec]}

    def file_record(self, file_id: str) -> dict[str, Any]:
        """The AcesFile record, once the whole file is read (it goes last)."""
        s = self.stats
        if s.footer_mismatch:
            log.warning("%s: Footer RecordCount says %s, the file has %d apps", self.file_name,
                        s.footer_record_count, s.apps)
        if s.skipped_deletes:
            log.warning("%s: %d delete(s) in a FULL file not applied (App ids %s)", self.file_name,
                        len(s.skipped_deletes), ", ".join(map(str, s.skipped_deletes[:20])))
        rec: dict[str, Any] = {"FileID": file_id, "FileName": self.file_name, "Version": s.version}
        for name in (*_HEADER_TEXT, *_HEADER_LISTS):
            rec[name] = self.header.get(name)
        rec.update({"FooterRecordCount": s.footer_record_count, "AppCount": s.apps, "AssetCount": s.assets,
                    "UnknownElements": json_text(dict(sorted(s.unknown.items()))) if s.unknown else None,
                    "EffectiveDateTime": self.effective, "EndDateTime": None, "CultureID": None})
        return rec


Handler = Callable[[dict[str, Any], Element], None]


def _id(column: str) -> Handler:
    def read(rec: dict[str, Any], elem: Element) -> None:
        rec[column] = as_int(elem.get("id"))
    return read


def _int_text(column: str) -> Handler:
    def read(rec: dict[str, Any], elem: Element) -> None:
        rec[column] = as_int(elem.text)
    return read


def _text(column: str) -> Handler:
    def read(rec: dict[str, Any], elem: Element) -> None:
        rec[column] = text_of(elem)
    return read


def _years(rec: dict[str, Any], elem: Element) -> None:
    rec["YearFrom"] = as_int(elem.get("from"))
    rec["YearTo"] = as_int(elem.get("to"))


def _part(rec: dict[str, Any], elem: Element) -> None:
    rec["PartNumber"] = text_of(elem)
    brand, sub = elem.get("BrandAAIAID"), elem.get("SubBrandAAIAID")
    if brand and brand.strip():
        rec["BrandAAIAID"] = brand.strip()
    if sub and sub.strip():
        rec["SubBrandAAIAID"] = sub.strip()


def _app_handlers() -> dict[str, Handler]:
    """Element of an App -> what it writes into the record (Qual, Note and unknowns aside)."""
    handlers: dict[str, Handler] = {
        "BaseVehicle": _id("BaseVehicleID"), "SubModel": _id("SubModelID"), "Years": _years,
        "Make": _id("MakeID"), "Model": _id("ModelID"), "VehicleType": _id("VehicleTypeID"),
        "EquipmentBase": _id("EquipmentBaseID"), "Mfr": _id("MfrID"), "EquipmentModel": _id("EquipmentModelID"),
        "Qty": _int_text("Qty"), "PartType": _id("PartTypeID"), "MfrLabel": _text("MfrLabel"),
        "Position": _id("PositionID"), "Part": _part, "DisplayOrder": _int_text("DisplayOrder"),
        "AssetName": _text("AssetName"), "AssetItemOrder": _int_text("AssetItemOrder"),
        "AssetItemRef": _text("AssetItemRef"),
    }
    for attr in ATTRIBUTES:
        handlers[attr.element] = _id(attr.column)
    return handlers


_PARAM_ATTRS = ("value", "uom", "altvalue", "altuom")


def _qualifier(elem: Element) -> dict[str, Any]:
    params: list[dict[str, str]] = []
    text: str | None = None
    for c in elem:
        name = local_name(c.tag)
        if name == "param":
            param: dict[str, str] = {}
            for k in _PARAM_ATTRS:
                v = c.get(k)
                if v is not None:
                    param[k] = v
            params.append(param)
        elif name == "text":
            text = text_of(c)
    q: dict[str, Any] = {"id": as_int(elem.get("id")), "params": params}
    if text is not None:
        q["text"] = text
    return q


def _note(elem: Element) -> dict[str, str]:
    note: dict[str, str] = {}
    text = text_of(elem)
    if text is not None:
        note["text"] = text
    for k in ("id", "lang"):
        v = elem.get(k)
        if v is not None:
            note[k] = v
    return note

