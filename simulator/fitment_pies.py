"""The PIES items of the fitment files: one per part number the ACES files deliver, plus bad ones.

A good item uses ids and codes that exist from the baseline to the last release: its
PartTerminologyID is a PCdb Parts id, its DescriptionCode, PriceType and AssetType are PCdb
PIESCode.CodeValue values, its EXPICode a PIESExpiCode.ExpiCode, its PAdb attribute a PAdb
PartAttributes id.  A bad item has exactly one fault: an unknown PartTerminologyID
(`missing_parent:pcdb.Parts`) or one code that no release has (`unknown_pies_code`).
Randomness is the `rng` passed in.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from simulator.fitment_reference import Reference

UNKNOWN_CODE = "unknown_pies_code"
MISSING_PART_TYPE = "missing_parent:pcdb.Parts"
# The fields whose codes are checked, and where their codes live.
CODE_FIELDS: dict[str, str] = {
    "Description@DescriptionCode": "pcdb.PIESCode.CodeValue",
    "Pricing@PriceType": "pcdb.PIESCode.CodeValue",
    "DigitalFileInformation/AssetType": "pcdb.PIESCode.CodeValue",
    "ExtendedProductInformation@EXPICode": "pcdb.PIESExpiCode.ExpiCode",
}
_PREFERRED = {"description": ("DES", "SHO", "EXT", "MKT", "FAB"), "price": ("RET", "LST", "WD1", "JBR", "RMP"),
              "asset": ("P04", "P01", "P02", "LGO")}
_CODE_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
# Rows per loaded item in each PIES table (schemas/ddl/pies.sql) come from these item parts.
CODE_TABLES = {"Description@DescriptionCode": "ItemDescription", "Pricing@PriceType": "ItemPrice",
               "DigitalFileInformation/AssetType": "ItemDigitalAsset",
               "ExtendedProductInformation@EXPICode": "ItemExtendedInfo"}
ROW_TABLES = {"ItemDescription": "descriptions", "ItemPrice": "prices", "ItemExtendedInfo": "extended",
              "ItemAttribute": "attributes", "ItemPackage": "packages", "ItemInterchange": "interchanges",
              "ItemDigitalAsset": "assets"}


@dataclass(frozen=True)
class Attribute:
    attribute_id: str
    padb: bool
    value: str
    uom: str | None = None


@dataclass(frozen=True)
class Asset:
    file_name: str
    asset_type: str
    uri: str


@dataclass(frozen=True)
class Item:
    brand: str
    part: str
    part_type: int
    brand_label: str
    gtin: str
    descriptions: tuple[tuple[str, int, str], ...]  # (DescriptionCode, Sequence, text)
    prices: tuple[tuple[str, str], ...]  # (PriceType, price)
    extended: tuple[tuple[str, str], ...]  # (EXPICode, value)
    attributes: tuple[Attribute, ...]
    packages: tuple[tuple[str, int, str], ...]  # (PackageUOM, QuantityofEaches, weight in pounds)
    interchanges: tuple[tuple[str, str], ...]  # (BrandAAIAID, PartNumber)
    assets: tuple[Asset, ...]
    fault: str | None = None
    fault_field: str | None = None


@dataclass(frozen=True)
class Codes:
    description: tuple[str, ...]
    price: tuple[str, ...]
    asset: tuple[str, ...]
    expi: tuple[str, ...]
    unknown: tuple[str, ...]  # in no release of PIESCode or PIESExpiCode
    padb_attributes: tuple[int, ...]

    @classmethod
    def of(cls, reference: Reference, rng: random.Random) -> Codes:
        codes, every_code = reference.unchanged_values("pcdb", "PIESCode", "CodeValue")
        expi, every_expi = reference.unchanged_values("pcdb", "PIESExpiCode", "ExpiCode")
        if not codes or not expi:
            raise ValueError("the data set has no PIES code that every release keeps")
        taken = every_code | every_expi
        unknown: list[str] = []
        while len(unknown) < 8:
            code = "".join(rng.choice(_CODE_CHARS) for _ in range(3))
            if code not in taken and code not in unknown:
                unknown.append(code)

        def prefer(kind: str) -> tuple[str, ...]:
            found = [c for c in _PREFERRED[kind] if c in codes]
            return tuple(found + [c for c in codes if c not in found])[:max(2, len(found))]

        return cls(prefer("description"), prefer("price"), prefer("asset"), tuple(expi[:6]), tuple(unknown),
                   tuple(reference.stable_ids("padb", "PartAttributes")[:50]))


def _some(rng: random.Random, options: Sequence[str], most: int) -> list[str]:
    return rng.sample(list(options), min(len(options), rng.randint(1, most)))


def item(rng: random.Random, codes: Codes, brand: str, part: str, part_type: int,
         interchange: tuple[str, str] | None) -> Item:
    words = ("Brake", "Rotor", "Sensor", "Pump", "Filter", "Kit", "Assembly", "Bracket")
    name = " ".join(rng.sample(words, 2))
    descriptions = [(code, 1, f"{name} {part}" if code == "SHO" else f"{name} for {brand} applications")
                    for code in _some(rng, codes.description, 3)]
    prices = [(code, f"{rng.randint(500, 50000) / 100:.2f}") for code in _some(rng, codes.price, 2)]
    extended = [(code, rng.choice(("2", "7", "US", "N", "Y"))) for code in _some(rng, codes.expi, 2)]
    attributes = [Attribute("Finish", False, rng.choice(("Black", "Zinc", "Raw")))]
    if codes.padb_attributes:
        attributes.append(Attribute(str(rng.choice(codes.padb_attributes)), True, f"{rng.randint(1, 99)}", "MM"))
    packages = [("EA", 1, f"{rng.randint(5, 400) / 10:.1f}")]
    if rng.random() < 0.3:
        packages.append(("CS", rng.choice((4, 6, 10)), f"{rng.randint(50, 900) / 10:.1f}"))
    assets = [Asset(f"{part}_{n}.jpg", code, f"https://assets.example.com/{brand}/{part}_{n}.jpg")
              for n, code in enumerate(_some(rng, codes.asset, 2), 1)]
    gtin = f"{rng.randrange(10**12, 10**13)}"
    return Item(brand, part, part_type, f"{brand} Parts", gtin + str(_check_digit(gtin)), tuple(descriptions),
                tuple(prices), tuple(extended), tuple(attributes), tuple(packages),
                (interchange,) if interchange else (), tuple(assets))


def _check_digit(digits: str) -> int:
    total = sum(int(d) * (3 if n % 2 == 0 else 1) for n, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def bad_item(rng: random.Random, codes: Codes, reference: Reference, good: Item, n: int) -> Item:
    """A copy of `good` under another part number with exactly one fault (the n-th kind)."""
    kinds = ("part_type", *CODE_FIELDS)
    kind = kinds[n % len(kinds)]
    bad = dataclasses.replace(good, part=f"{good.brand[:2]}X{n + 1:04d}", fault=UNKNOWN_CODE, fault_field=kind)
    wrong = codes.unknown[n % len(codes.unknown)]
    if kind == "part_type":
        return dataclasses.replace(bad, part_type=reference.absent("pcdb", "Parts", rng.randrange(1 << 30)),
                                   fault=MISSING_PART_TYPE, fault_field="PartTerminologyID")
    if kind.startswith("Description"):
        return dataclasses.replace(bad, descriptions=((wrong, 1, "Unknown description code"),))
    if kind.startswith("Pricing"):
        return dataclasses.replace(bad, prices=((wrong, "9.99"),))
    if kind.startswith("Digital"):
        return dataclasses.replace(bad, assets=(Asset(f"{bad.part}_1.jpg", wrong, "https://assets.example.com/x.jpg"),))
    return dataclasses.replace(bad, extended=((wrong, "1"),))


def items(rng: random.Random, reference: Reference, parts: dict[str, dict[str, int]], bad: int) -> list[Item]:
    """One item per (brand, part number) of `parts` (brand -> part -> part type), then `bad` bad items."""
    codes = Codes.of(reference, rng)
    brands = sorted(parts)
    out: list[Item] = []
    for brand in brands:
        others = [(b, p) for b in brands if b != brand for p in sorted(parts[b])]
        for part, part_type in sorted(parts[brand].items()):
            swap = rng.choice(others) if others and rng.random() < 0.3 else None
            out.append(item(rng, codes, brand, part, part_type, swap))
    for n in range(bad):
        out.append(bad_item(rng, codes, reference, out[n % len(out)], n))
    return out


def row_counts(found: Sequence[Item]) -> dict[str, int]:
    """Rows a loader holds per PIES table once the items are loaded.  An item whose part type is
    unknown loads nothing (its segments wait on it); an item with one unknown code loads all but
    that one segment entry (one bad row never dead-letters its neighbours)."""
    loaded = [i for i in found if i.fault != MISSING_PART_TYPE]
    counts = Counter({"PiesFile": 1, "Item": len(loaded)})
    for table, attr in ROW_TABLES.items():
        counts[table] = sum(len(getattr(i, attr)) for i in loaded) - sum(
            1 for i in loaded if i.fault == UNKNOWN_CODE and CODE_TABLES[i.fault_field or ""] == table)
    return dict(counts)


def dead_letters(found: Sequence[Item]) -> dict[str, int]:
    """Open dead letters after the load: the unknown part types, their items' segment entries
    (missing parent `Item`), and one per unknown code."""
    missing = [i for i in found if i.fault == MISSING_PART_TYPE]
    children = sum(len(getattr(i, attr)) for i in missing for attr in ROW_TABLES.values())
    out = Counter({MISSING_PART_TYPE: len(missing), "missing_parent:Item": children,
                   UNKNOWN_CODE: sum(1 for i in found if i.fault == UNKNOWN_CODE)})
    return dict(sorted((k, v) for k, v in out.items() if v))
