"""The generated ACES/PIES files (`vcdb simulator aces`): deterministic, well-formed and in the 4.2 /
7.2 element order, every application what the oracle says it is by a check of its own against the
data set (not the generator's), every category present at scale 0.01, and an oracle whose counts
and states follow from its outcomes."""

from __future__ import annotations

import argparse
import functools
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from schemas import aces
from simulator import fitment_files, oracle
from simulator.arguments import files_arguments
from simulator.config import DatasetConfig
from simulator.dataset import Dataset

SCALE, SEED = 0.01, 42
BRAND = re.compile(r"^[B-DF-HJ-NP-TV-Z][B-DF-HJ-NP-Z][B-NP-TV-Z][A-Z]$")
PLACEHOLDER = re.compile(r'<p(\d+) type="[a-z]+"/>')
# ACES 4.2 App content, in sequence (reference aces-pies.md §1.4); equal ranks are a choice.
APP_ORDER = ["BaseVehicle|Years", "Make", "Model|VehicleType", "SubModel", "MfrBodyCode", "BodyNumDoors", "BodyType",
             "DriveType", "EngineBase", "EngineBlock", "EngineBoreStroke", "EngineDesignation", "EngineVIN",
             "EngineVersion", "EngineMfr", "PowerOutput", "ValvesPerEngine", "FuelDeliveryType",
             "FuelDeliverySubType", "FuelSystemControlType", "FuelSystemDesign", "Aspiration", "CylinderHeadType",
             "FuelType", "IgnitionSystemType", "TransmissionMfrCode", "TransmissionBase|TransmissionType",
             "TransmissionControlType", "TransmissionNumSpeeds", "TransElecControlled", "TransmissionMfr",
             "BedLength", "BedType", "WheelBase", "BrakeSystem", "FrontBrakeType", "RearBrakeType", "BrakeABS",
             "FrontSpringType", "RearSpringType", "SteeringSystem", "SteeringType", "Region", "Qual*", "Note*", "Qty",
             "PartType", "MfrLabel", "Position", "Part", "DisplayOrder"]
HEADER_ORDER = ["Company!", "SenderName!", "SenderPhone!", "SenderPhoneExt", "TransferDate!", "MfrCode",
                "BrandAAIAID", "SubBrandAAIAID", "DocumentTitle!", "DocFormNumber", "EffectiveDate!", "ApprovedFor",
                "PartsApprovedFor", "RegionFor", "SubmissionType!", "MapperCompany", "MapperContact", "MapperPhone",
                "MapperPhoneExt", "MapperEmail", "VcdbVersionDate!", "QdbVersionDate!", "PcdbVersionDate!"]
PIES_ORDER = {
    "PIES": ["Header!", "PriceSheets", "MarketingCopy", "Items!", "Trailer!"],
    "Header": ["PIESVersion!", "SubmissionType!", "BlanketEffectiveDate", "ChangesSinceDate", "ParentDUNSNumber",
               "ParentGLN", "ParentVMRSID", "ParentAAIAID", "BrandOwnerDUNS", "BrandOwnerGLN", "BrandOwnerVMRSID",
               "BuyerDuns", "CurrencyCode", "LanguageCode", "TechnicalContact", "ContactEmail", "PCdbVersionDate!",
               "PAdbVersionDate"],
    "Item": ["HazardousMaterialCode", "BaseItemID", "ItemLevelGTIN", "PartNumber!", "BrandAAIAID!", "BrandLabel",
             "SubBrandAAIAID", "SubBrandLabel", "VMRSBrandID", "ACESApplications", "ItemQuantitySize", "ContainerType",
             "QuantityPerApplication", "ItemEffectiveDate", "AvailableDate", "MinimumOrderQuantity",
             "ManufacturerProductCodes", "AAIAProductCategoryCode", "UNSPSC", "PartTerminologyID", "VMRSCode",
             "Descriptions", "Prices", "ExtendedInformation", "ProductAttributes", "Packages", "Kits",
             "PartInterchangeInfo", "DigitalAssets"],
    "Pricing": ["PriceSheetNumber!", "CurrencyCode", "EffectiveDate", "ExpirationDate", "Price!",
                "PriceTypeDescription", "PriceBreak", "PriceMultiplier"],
    "Package": ["PackageLevelGTIN", "ElectronicProductCode", "PackageBarCodeCharacters", "PackageUOM!",
                "QuantityofEaches!", "InnerQuantity", "Orderable", "Dimensions", "Weights", "WeightVariance",
                "StackingFactor", "HazardousMaterial*"],
    "Dimensions": ["MerchandisingHeight!", "MerchandisingWidth!", "MerchandisingLength!", "ShippingHeight!",
                   "ShippingWidth!", "ShippingLength!"],
    "DigitalFileInformation": ["FileName!", "AssetType!", "FileType", "Representation", "FileSize", "Resolution",
                               "ColorMode", "Background", "OrientationView", "AssetDimensions", "FilePath", "URI"],
    "Trailer": ["ItemCount", "TransactionDate!"],
}
NS = "{http://www.autocare.org}"


@functools.cache
def dataset(seed: int = SEED) -> Dataset:
    return Dataset(DatasetConfig(seed=seed, scale=SCALE))


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fitment")
    fitment_files.write(fitment_files.build(dataset()), path)
    return path


@pytest.fixture(scope="module")
def the_oracle(out: Path) -> dict[str, Any]:
    import json
    data: dict[str, Any] = json.loads((out / "oracle.json").read_text())
    return data


# -- reading the files back, with nothing from the generator ---------------------------------------

@dataclass
class Parsed:
    id: int
    action: str
    ref: str
    validate: bool
    brand: str
    part: str
    ident: dict[str, Any]
    attrs: dict[str, int]
    quals: list[tuple[int, list[dict[str, str]]]]
    part_type: int
    position: int | None
    dress: tuple[Any, ...] = field(default=())  # notes, qty, label: what a D must repeat

    def mapping(self) -> dict[str, Any]:
        """The App as columns (schemas/aces.py names), for app_key / fitment_key."""
        m: dict[str, Any] = {"BrandAAIAID": self.brand, "PartNumber": self.part, "PartTypeID": self.part_type,
                             "PositionID": self.position, **self.ident,
                             "Qualifiers": [{"id": i, "params": p} for i, p in self.quals]}
        m.update({aces.ATTRIBUTE_BY_ELEMENT[e].column: v for e, v in self.attrs.items()})
        return m


def parse_aces(path: Path) -> tuple[ET.Element, list[Parsed]]:
    root = ET.parse(path).getroot()
    header = root.find("Header")
    assert header is not None
    brand = header.findtext("BrandAAIAID") or ""
    apps = []
    for el in root.iter("App"):
        ident: dict[str, Any] = {}
        attrs: dict[str, int] = {}
        quals = []
        notes = []
        for child in el:
            tag, cid = child.tag, child.get("id")
            if tag == "BaseVehicle":
                ident["BaseVehicleID"] = int(cid or 0)
            elif tag == "SubModel":
                ident["SubModelID"] = int(cid or 0)
            elif tag == "Years":
                ident["YearFrom"], ident["YearTo"] = int(child.get("from") or 0), int(child.get("to") or 0)
            elif tag in ("Make", "Model"):
                ident[f"{tag}ID"] = int(cid or 0)
            elif tag in aces.ATTRIBUTE_BY_ELEMENT:
                attrs[tag] = int(cid or 0)
            elif tag == "Qual":
                quals.append((int(cid or 0), [dict(p.attrib) for p in child.findall("param")]))
            elif tag == "Note":
                notes.append(child.text)
        part = el.find("Part")
        assert part is not None and part.text
        position = el.find("Position")
        part_type = el.find("PartType")
        assert part_type is not None
        apps.append(Parsed(int(el.get("id") or 0), el.get("action") or "", el.get("ref") or "",
                           el.get("validate", "yes") == "yes", part.get("BrandAAIAID") or brand, part.text, ident,
                           attrs, quals, int(part_type.get("id") or 0),
                           None if position is None else int(position.get("id") or 0),
                           (tuple(notes), el.findtext("Qty"), el.findtext("MfrLabel"))))
    return root, apps


class Loaded:
    """The reference databases as a loader holds them (simulator.oracle's expected rows): after a
    baseline at `release`, or after incrementals from `baseline` up to it."""

    def __init__(self, ds: Dataset, release: int, *, baseline: int | None = None, ended: bool = False) -> None:
        self.ds, self.release, self.baseline, self.with_ended = ds, release, baseline, ended

    @functools.cache  # noqa: B019 - a handful of instances per test module
    def rows(self, db: str, table: str) -> list[dict[str, Any]]:
        if self.baseline is None:
            return list(oracle.expected_rows(self.ds, db, table, self.release))
        rows = oracle.expected_after_increments(self.ds, db, table, self.release, baseline=self.baseline)
        return [r for r in rows if self.with_ended or r["end_date_time"] is None]

    def col(self, db: str, table: str, column: str) -> str:
        return self.ds.table(db, table).column(column).canonical

    @functools.cache  # noqa: B019
    def by_key(self, db: str, table: str) -> dict[Any, dict[str, Any]]:
        key = self.ds.table(db, table).key_canonical[0]
        return {r[key]: r for r in self.rows(db, table)}

    @functools.cache  # noqa: B019
    def links(self, table: str, column: str = "vehicle_id") -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in self.rows("vcdb", table):
            out[r[column]].append(r)
        return out

    def has_system(self, vehicle: dict[str, Any], system: aces.System, named: dict[str, int]) -> bool:
        attrs = [aces.ATTRIBUTE_BY_ELEMENT[e] for e in named]
        if system.link is None:
            return all(vehicle[self.col("vcdb", a.holder, a.holder_column)] == named[a.element] for a in attrs)
        for link in self.links(system.link).get(vehicle["vehicle_id"], []):
            chain: dict[str, dict[str, Any] | None] = {system.link: link}
            for j in system.joins:
                prev = chain.get(j.previous)
                chain[j.table] = None if prev is None else \
                    self.by_key("vcdb", j.table).get(prev[self.col("vcdb", j.previous, j.previous_column)])
            if all((h := chain.get(a.holder)) is not None
                   and h[self.col("vcdb", a.holder, a.holder_column)] == named[a.element] for a in attrs):
                return True
        return False

    def combination(self, app: Parsed) -> bool:
        i = app.ident
        if "BaseVehicleID" in i:
            bvs = {i["BaseVehicleID"]}
        else:
            bvs = {b["base_vehicle_id"] for b in self.rows("vcdb", "BaseVehicle") if b["make_id"] == i["MakeID"]
                   and b["model_id"] == i["ModelID"] and i["YearFrom"] <= b["year_id"] <= i["YearTo"]}
        by_system: dict[str, dict[str, int]] = defaultdict(dict)
        for e, v in app.attrs.items():
            by_system[aces.ATTRIBUTE_BY_ELEMENT[e].system][e] = v
        vehicles = [v for b in bvs for v in self.links("Vehicle", "base_vehicle_id").get(b, [])]
        return any(i.get("SubModelID") in (None, v["submodel_id"])
                   and all(self.has_system(v, aces.SYSTEMS[s], named) for s, named in by_system.items())
                   for v in vehicles)

    def faults(self, app: Parsed) -> list[str]:
        """Every rule the application breaks, in the loader's order."""
        out: list[str] = []

        def need(db: str, table: str, value: Any) -> None:
            if value not in self.by_key(db, table):
                out.append(f"missing_parent:{db}.{table}")

        for column, table in (("BaseVehicleID", "BaseVehicle"), ("SubModelID", "SubModel"), ("MakeID", "Make"),
                              ("ModelID", "Model")):
            if column in app.ident:
                need("vcdb", table, app.ident[column])
        for e, v in app.attrs.items():
            need("vcdb", aces.ATTRIBUTE_BY_ELEMENT[e].vcdb_table, v)
        vcdb_ok = not out
        need("pcdb", "Parts", app.part_type)
        if app.position is not None:
            need("pcdb", "Positions", app.position)
        for qid, params in app.quals:
            q = self.by_key("qdb", "Qualifier").get(qid)
            if q is None:
                out.append("missing_parent:qdb.Qualifier")
            elif len(set(PLACEHOLDER.findall(q["qualifier_text"] or ""))) != len(params):
                out.append("qualifier_param_count")
        names = bool(app.attrs) or "SubModelID" in app.ident  # naming nothing, it is no combination
        if vcdb_ok and app.validate and names and not self.combination(app):
            out.append("invalid_combination")
        return out


@functools.cache
def parsed(out: Path) -> dict[str, list[Parsed]]:
    return {p.name: parse_aces(p)[1] for p in sorted(out.glob("0[1-4]_aces_*.xml"))}


# -- the tests ------------------------------------------------------------------------------------

def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    for name, seed in (("a", SEED), ("b", SEED), ("c", 7)):
        fitment_files.write(fitment_files.build(dataset(seed)), tmp_path / name)
    a, b, c = ([p.read_bytes() for p in sorted((tmp_path / n).iterdir())] for n in "abc")
    assert len(a) == 6 and a == b
    assert all(x != y for x, y in zip(a, c, strict=True))


def _in_order(children: list[str], order: list[str], where: str) -> None:
    rank = {name: n for n, spec in enumerate(order) for name in spec.strip("!*").split("|")}
    repeatable = {s.strip("!*") for s in order if s.endswith("*")}
    positions = [rank.get(c, -1) for c in children]
    assert -1 not in positions, f"{where}: unknown element in {children}"
    assert positions == sorted(positions), f"{where}: out of order: {children}"
    counts = Counter(children)
    assert all(n == 1 for c, n in counts.items() if c not in repeatable), f"{where}: repeated: {children}"
    missing = [s.strip("!") for s in order if s.endswith("!") and s.strip("!") not in counts]
    assert not missing, f"{where}: missing {missing}"


def test_aces_files_are_well_formed_in_42_order_and_counted(out: Path, the_oracle: dict[str, Any]) -> None:
    files = sorted(out.glob("0[1-4]_aces_*.xml"))
    assert [p.name for p in files] == [f["file"] for f in the_oracle["files"]]
    for path, meta in zip(files, the_oracle["files"], strict=True):
        root, _ = parse_aces(path)
        assert root.tag == "ACES" and root.get("version") == "4.2" and root.attrib.keys() == {"version"}
        tags = [c.tag for c in root]
        assert tags[0] == "Header" and tags[-1] == "Footer" and set(tags[1:-1]) == {"App"}
        header = root[0]
        _in_order([c.tag for c in header], HEADER_ORDER, f"{path.name} Header")
        assert BRAND.match(header.findtext("BrandAAIAID") or ""), header.findtext("BrandAAIAID")
        assert header.findtext("SubmissionType") == meta["submission_type"]
        apps = root.findall("App")
        assert [int(a.get("id") or 0) for a in apps] == list(range(1, len(apps) + 1))
        assert root.findtext("Footer/RecordCount") == meta["footer_count"] == str(len(apps)) == str(meta["app_count"])
        for a in apps:
            assert a.get("action") in ("A", "D") and re.fullmatch(r"c\d+", a.get("ref") or "")
            children = [c.tag for c in a]
            _in_order(children, APP_ORDER, f"{path.name} App {a.get('id')}")
            assert {"Qty", "PartType", "Part"} <= set(children)
            assert not ({"TransmissionBase"} & set(children) and {"TransmissionType"} & set(children))
            for q in a.findall("Qual"):
                assert [c.tag for c in q][-1] == "text" and {c.tag for c in q} <= {"param", "text"}


def test_pies_file_is_well_formed_in_72_order(out: Path, the_oracle: dict[str, Any]) -> None:
    root = ET.parse(out / "05_pies_full.xml").getroot()
    assert root.tag == f"{NS}PIES" and not root.attrib

    def walk(el: ET.Element) -> None:
        local = el.tag.removeprefix(NS)
        assert el.tag.startswith(NS), el.tag
        if local in PIES_ORDER:
            _in_order([c.tag.removeprefix(NS) for c in el], PIES_ORDER[local], local)
        for c in el:
            walk(c)

    walk(root)
    items = root.findall(f"{NS}Items/{NS}Item")
    assert root.findtext(f"{NS}Trailer/{NS}ItemCount") == str(len(items)) == the_oracle["pies"]["trailer_item_count"]
    assert all(i.get("MaintenanceType") == "A" for i in items)


def test_every_application_is_what_the_oracle_says_by_an_independent_check(out: Path,
                                                                            the_oracle: dict[str, Any]) -> None:
    ds = dataset()
    base, last = the_oracle["baseline_release"], the_oracle["incremental_release"]
    at_base = Loaded(ds, base)
    at_last = Loaded(ds, last, baseline=base)  # live rows only: valid applications stay valid
    ever = Loaded(ds, last, baseline=base, ended=True)  # ended rows too: invalid ones stay invalid
    late = set(the_oracle["late"]["refs"])
    reasons: dict[str, str] = {}
    for meta, apps in zip(the_oracle["files"], parsed(out).values(), strict=True):
        live, unfit = set(meta["after"]["live_refs"]), set(meta["after"]["live_fitting_nothing_refs"])
        assert unfit <= live
        for app in apps:
            outcome = meta["apps"][str(app.id)]["outcome"]
            assert meta["apps"][str(app.id)]["ref"] == app.ref
            found = at_base.faults(app)
            if app.action == "D":
                assert outcome in ("deleted", "skipped_d_in_full") and found == []
            elif outcome in ("loaded", "duplicate"):
                assert found == [] and at_last.faults(app) == [], (meta["file"], app.id, found)
                assert app.validate or not ever.combination(app), "validate=no is there for a bad combination"
                if meta["apps"][str(app.id)]["category"] == "fits_nothing":
                    assert not app.attrs and set(app.ident) == {"YearFrom", "YearTo", "MakeID", "ModelID"}
                    assert app.ref in unfit
                if app.ref in live:  # the oracle's "fits no vehicle yet", checked against the data set
                    assert (app.ref in unfit) is (not ever.combination(app)), (meta["file"], app.id)
                    assert (app.ref in unfit) is (not at_base.combination(app)), (meta["file"], app.id)
            else:
                assert found == [outcome], (meta["file"], app.id, outcome, found)  # exactly its one fault
                if outcome == "invalid_combination":
                    assert not ever.combination(app)
                if app.ref in late:
                    assert outcome == "missing_parent:vcdb.BaseVehicle" and at_last.faults(app) == []
                assert reasons.setdefault(app.ref, outcome) == outcome
    assert late and late <= set(reasons)


def test_every_category_is_there_twice_at_scale_001(out: Path, the_oracle: dict[str, Any]) -> None:
    files = the_oracle["files"]
    apps = parsed(out)
    first = files[0]
    by_outcome: dict[str, set[str]] = defaultdict(set)
    for entry in first["apps"].values():
        by_outcome[entry["outcome"]].add(entry["ref"])
    reasons = {"missing_parent:vcdb.BaseVehicle", "missing_parent:vcdb.SubModel", "missing_parent:vcdb.Make",
               "missing_parent:vcdb.Model", "missing_parent:pcdb.Parts", "missing_parent:pcdb.Positions",
               "missing_parent:qdb.Qualifier", "qualifier_param_count", "invalid_combination"}
    reasons |= {f"missing_parent:vcdb.{a.vcdb_table}" for a in aces.ATTRIBUTES}
    assert {r: len(by_outcome[r]) for r in reasons if len(by_outcome[r]) < 2} == {}
    assert first["outcome_counts"]["duplicate"] >= 2 and first["duplicate_contents"] >= 2
    assert first["overlap_groups"] >= 2 and first["outcome_counts"]["skipped_d_in_full"] >= 2
    assert len(the_oracle["late"]["refs"]) >= 2
    loaded = [a for a in apps[first["file"]] if first["apps"][str(a.id)]["outcome"] == "loaded"]
    systems = [{aces.ATTRIBUTE_BY_ELEMENT[e].system for e in a.attrs} for a in loaded]
    assert sum(1 for a in loaded if "YearFrom" in a.ident) >= 2
    assert sum(1 for a in loaded if first["apps"][str(a.id)]["category"] == "fits_nothing") >= 2
    assert sum(1 for a in loaded if "SubModelID" in a.ident) >= 2
    assert sum(1 for a in loaded if not a.validate) >= 2
    assert sum(1 for a in loaded if any(p for _, p in a.quals)) >= 2
    assert sum(1 for s, a in zip(systems, loaded, strict=True) if len(s) == 1 and len(a.attrs) >= 2) >= 2
    assert sum(1 for s in systems if len(s) >= 2) >= 2
    update, again = files[2], files[3]
    assert update["submission_type"] == "UPDATE" and update["outcome_counts"]["deleted"] >= 4
    assert len(update["deleted_never_loaded_refs"]) >= 2
    pairs = Counter(e["ref"] for e in update["apps"].values())
    assert sum(1 for n in pairs.values() if n == 2) >= 2  # D+A of the same application (notes changed)
    dropped = set(update["after"]["live_refs"]) - set(again["after"]["live_refs"])
    assert len(dropped) >= 2 and dropped <= set(again["after"]["ended_refs"])
    assert set(files[1]["after"]["live_refs"]) - set(files[0]["after"]["live_refs"]) <= set(
        again["after"]["live_refs"]), "a FULL of brand 1 ended applications of brand 2"
    pies = the_oracle["pies"]["outcome_counts"]
    assert pies["unknown_pies_code"] >= 2 and pies["missing_parent:pcdb.Parts"] >= 2


def test_the_oracle_follows_from_its_outcomes(out: Path, the_oracle: dict[str, Any]) -> None:
    """Replay the outcomes with the files' own refs and brands; every count and state must agree,
    and refs must be the content identity of schemas/aces.py."""
    live: dict[str, str] = {}
    ended: set[str] = set()
    dead: dict[str, str] = {}
    delivered: dict[str, tuple[Any, ...]] = {}
    keys: dict[str, str] = {}
    for meta, apps in zip(the_oracle["files"], parsed(out).values(), strict=True):
        full, here, never = meta["submission_type"] == "FULL", set(), []
        outcomes = [meta["apps"][str(a.id)]["outcome"] for a in apps]
        assert meta["outcome_counts"] == dict(Counter(outcomes)) and meta["app_count"] == len(apps)
        for app, outcome in zip(apps, outcomes, strict=True):
            key = aces.app_key(app.mapping())
            assert keys.setdefault(app.ref, key) == key
            if app.action == "D":
                assert outcome == ("skipped_d_in_full" if full else "deleted")
                if not full:
                    if app.ref in live:
                        assert delivered[app.ref] == app.dress, "a D repeats the application as delivered"
                    else:
                        never.append(app.ref)
                    live.pop(app.ref, None)
                    ended.add(app.ref)
            elif outcome in ("loaded", "duplicate"):
                assert (outcome == "duplicate") == (app.ref in here)
                here.add(app.ref)
                live[app.ref], delivered[app.ref] = app.brand, app.dress
                ended.discard(app.ref)
            else:
                dead[app.ref] = outcome
        if full:
            for ref in [r for r, b in live.items() if b == meta["brand"] and r not in here]:
                del live[ref]
                ended.add(ref)
        after = meta["after"]
        assert never == meta["deleted_never_loaded_refs"]
        assert set(after["live_refs"]) == set(live) and set(after["ended_refs"]) == ended
        assert after["dead_letters"] == dict(Counter(dead.values()))
        assert meta["duplicate_contents"] == sum(1 for n in Counter(a.ref for a in apps if a.action == "A").values()
                                                 if n > 1)
        fitments: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for app in apps:
            if app.action == "A":  # over every A: no bad application shares a fitment with another part
                fitments[aces.fitment_key(app.mapping())].add((app.brand, app.part))
        assert meta["overlap_groups"] == sum(1 for p in fitments.values() if len(p) > 1)
    assert len(set(keys.values())) == len(keys), "two refs with one content"
    for ref in the_oracle["late"]["refs"]:
        del dead[ref]
        live[ref] = ""
    final = the_oracle["late"]["after_incremental"]
    assert set(final["live_refs"]) == set(live) and final["dead_letters"] == dict(Counter(dead.values()))
    assert set(the_oracle["apps"]) == set(keys)


def test_pies_items_cover_every_part_and_fail_only_where_the_oracle_says(out: Path,
                                                                          the_oracle: dict[str, Any]) -> None:
    ds = dataset()
    loaded = [Loaded(ds, the_oracle["baseline_release"]),
              Loaded(ds, the_oracle["incremental_release"], baseline=the_oracle["baseline_release"])]
    root = ET.parse(out / "05_pies_full.xml").getroot()
    expected = the_oracle["pies"]
    rows: Counter[str] = Counter({"PiesFile": 1})
    dead: Counter[str] = Counter()
    known = ({r["code_value"] for r in loaded[0].rows("pcdb", "PIESCode")}
             | {r["expi_code"] for r in loaded[0].rows("pcdb", "PIESExpiCode")})
    unknown = {c for c in _all_codes(root) if c not in known}
    good: set[tuple[str, str]] = set()
    for item in root.iter(f"{NS}Item"):
        brand, part = item.findtext(f"{NS}BrandAAIAID") or "", item.findtext(f"{NS}PartNumber") or ""
        for db in loaded:
            faults = []
            if int(item.findtext(f"{NS}PartTerminologyID") or 0) not in db.by_key("pcdb", "Parts"):
                faults.append("missing_parent:pcdb.Parts")
            codes = {r["code_value"] for r in db.rows("pcdb", "PIESCode")}
            expi = {r["expi_code"] for r in db.rows("pcdb", "PIESExpiCode")}
            used = [d.get("DescriptionCode") for d in item.iter(f"{NS}Description")]
            used += [p.get("PriceType") for p in item.iter(f"{NS}Pricing")]
            used += [a.text for a in item.iter(f"{NS}AssetType")]
            faults += ["unknown_pies_code" for c in used if c not in codes]
            faults += ["unknown_pies_code" for e in item.iter(f"{NS}ExtendedProductInformation")
                       if e.get("EXPICode") not in expi]
            outcome = expected["items"][f"{brand}/{part}"]["outcome"]
            assert faults == ([] if outcome == "loaded" else [outcome]), (brand, part, faults)
        outcome = expected["items"][f"{brand}/{part}"]["outcome"]
        if outcome == "loaded":
            good.add((brand, part))
        segments = {table: len(list(item.iter(f"{NS}{tag}"))) for table, tag in (
            ("ItemDescription", "Description"), ("ItemPrice", "Pricing"),
            ("ItemExtendedInfo", "ExtendedProductInformation"), ("ItemAttribute", "ProductAttribute"),
            ("ItemPackage", "Package"), ("ItemInterchange", "PartInterchange"),
            ("ItemDigitalAsset", "DigitalFileInformation"))}
        if outcome == "missing_parent:pcdb.Parts":  # the item waits, and its segments on it
            dead["missing_parent:pcdb.Parts"] += 1
            dead["missing_parent:Item"] += sum(segments.values())
            continue
        rows["Item"] += 1
        for table, n in segments.items():
            rows[table] += n
        if outcome == "unknown_pies_code":  # the item loads; only the entry with the bad code waits
            bad = [t for t, tag in (("ItemDescription", "Description"), ("ItemPrice", "Pricing"),
                                    ("ItemDigitalAsset", "DigitalFileInformation"),
                                    ("ItemExtendedInfo", "ExtendedProductInformation")) if any(
                (e.get("DescriptionCode") or e.get("PriceType") or e.get("EXPICode")
                 or e.findtext(f"{NS}AssetType")) in unknown for e in item.iter(f"{NS}{tag}"))]
            assert len(bad) == 1, (brand, part, bad)
            rows[bad[0]] -= 1
            dead["unknown_pies_code"] += 1
    assert dict(rows) == expected["rows"]
    assert dict(dead) == expected["dead_letters"]
    assert {(a.brand, a.part) for apps in parsed(out).values() for a in apps} <= good


def _all_codes(root: ET.Element) -> set[str]:
    out = {e.get("DescriptionCode") or "" for e in root.iter(f"{NS}Description")}
    out |= {e.get("PriceType") or "" for e in root.iter(f"{NS}Pricing")}
    out |= {e.get("EXPICode") or "" for e in root.iter(f"{NS}ExtendedProductInformation")}
    out |= {e.text or "" for e in root.iter(f"{NS}AssetType")}
    return out - {""}


def test_simulator_data_has_what_the_files_need() -> None:
    ds = dataset()
    texts = [r["qualifier_text"] for r in oracle.expected_rows(ds, "qdb", "Qualifier", 1)]
    with_params = [t for t in texts if t and PLACEHOLDER.search(t)]
    assert 0.2 < len(with_params) / len(texts) < 0.5, "about one qualifier in three has placeholders"
    assert any(len(set(PLACEHOLDER.findall(t))) == 2 for t in with_params)
    codes = [r["code_value"] for r in oracle.expected_rows(ds, "pcdb", "PIESCode", 1)]
    assert codes[:3] == ["DES", "SHO", "EXT"] and all(len(c) == 3 for c in codes if c)
    bvs = ds.rows("vcdb", "BaseVehicle")
    vehicles = ds.rows("vcdb", "Vehicle")
    new_bvs = {bvs.id_of(i) for i in range(bvs.count(1), bvs.count(2))}
    added = [ds.canonical("vcdb", "Vehicle", i, 2) for i in range(vehicles.count(1), vehicles.count(2))]
    assert sum(1 for v in added if v["base_vehicle_id"] in new_bvs) >= len(added) // 4


def test_cli_writes_the_files(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    files_arguments(parser)
    args = parser.parse_args(["--out", str(tmp_path), "--scale", "0.005", "--seed", "3", "--releases", "2"])
    assert fitment_files.run(args) == 0
    assert len(list(tmp_path.glob("*.xml"))) == 5 and (tmp_path / "oracle.json").exists()
    bad = parser.parse_args(["--out", str(tmp_path), "--baseline-release", "5"])
    assert fitment_files.run(bad) == 2


def test_an_overlap_or_a_changed_part_keeps_what_makes_the_application_valid() -> None:
    import random

    from simulator.fitment_factory import AppFactory
    from simulator.fitment_reference import Reference

    factory = AppFactory(Reference(dataset(), 1), random.Random(1), pool=300)
    factory.add_brand("BRKT", 40)
    kept = []
    for make in (lambda: factory.invalid("BRKT", "foreign", validate=False), lambda: factory.valid("BRKT", "bv")):
        app = factory.build(make)
        assert app is not None
        for copy in (factory.build(lambda a=app: factory.overlap_of(a)),
                     factory.build(lambda a=app: factory.repart(a))):
            assert copy is not None and copy.content.fitment == app.content.fitment
            assert copy.content.part != app.content.part
            kept.append((copy.validate, copy.fault) == (app.validate, app.fault))
    assert all(kept)
