"""Plausible column values: names from small word lists, numbers written as strings.

A generator takes (h, i, v): a 64-bit hash, the row index and the version (0 for the row as
first published, else a modification's salt).  Version 0 of a small lookup takes the list entry
of its index, so `DriveType` reads FWD, RWD, AWD...; later versions pick from the hash so a
modification changes the value.  Numeric attributes are strings where the DDL says VARCHAR
(reference [2.1]: Liter varchar(6), CC varchar(8), Cylinders varchar(2), ...), and the engine
dimensions of one row agree with each other (Liter 2.5 goes with CC 2500 and CID 153).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from schemas.catalog import Column

Generator = Callable[[int, int, int], Any]

_SYLLABLES = ("al ar ba be ca co da de el en fa fi ga go ha in ka la le li lo ma mi mo na ne no or pa ra re ri "
              "ro sa se si so ta te ti to va ve vi vo za zo").split()
_WORDS = ("front rear left right upper lower inner outer assembly bracket sensor valve pump filter seal gasket "
          "housing cover switch module kit set line hose belt bearing mount arm link rod pad shoe rotor drum "
          "caliper cable plug coil tank cap clamp bolt nut washer spring strut shock boot joint hub light lamp "
          "wire harness relay fuse motor gear shaft axle seat door window mirror panel trim with without for "
          "only model engine body standard heavy duty extended short long wide narrow").split()


def _split(text: str) -> tuple[str, ...]:
    """Words separated by spaces; an underscore joins a two-word entry."""
    return tuple(w.replace("_", " ") for w in text.split())


MAKES = _split("Acura Alfa_Romeo AMC Aston_Martin Audi Bentley BMW Buick Cadillac Chevrolet Chrysler Dodge Eagle "
               "Ferrari Fiat Ford Genesis Geo GMC Honda Hummer Hyundai Infiniti Isuzu Jaguar Jeep Kia Lamborghini "
               "Land_Rover Lexus Lincoln Lotus Maserati Mazda McLaren Mercedes-Benz Mercury Mini Mitsubishi Nissan "
               "Oldsmobile Plymouth Polestar Pontiac Porsche Ram Rivian Rolls-Royce Saab Saturn Scion Smart Subaru "
               "Suzuki Tesla Toyota Volkswagen Volvo")
_VCDB_TABLES = _split("BaseVehicle Vehicle Make Model SubModel EngineConfig2 EngineBase2 VehicleToEngineConfig "
                      "VehicleToBrakeConfig VehicleToDriveType VehicleToTransmission Transmission Region")
_LISTS: dict[str, tuple[str, ...]] = {
    "SubModelName": _split("Base LX EX EX-L SE LE XLE XSE Limited Sport Touring GT GTS SR SR5 Platinum Premium "
                          "Luxury S SL SV Denali SLT LT LTZ Laramie Lariat XL XLT King_Ranch Rubicon Sahara Trailhawk "
                          "Overland Custom Deluxe Special Signature Titanium"),
    "DriveTypeName": ("FWD", "RWD", "AWD", "4WD", "2WD", "4X2", "4X4"),
    "BodyTypeName": _split("Sedan Coupe Hatchback Convertible Wagon Sport_Utility Pickup Van Minivan Cab_&_Chassis "
                          "Roadster Fastback Targa Crossover Liftback"),
    "BedTypeName": ("Fleetside", "Stepside", "Styleside", "Sportside", "Flareside", "Dually", "Standard"),
    "FuelTypeName": ("GAS", "DIESEL", "ELECTRIC", "FLEX", "HYBRID", "CNG", "LPG", "HYDROGEN"),
    "AspirationName": ("Naturally Aspirated", "Turbocharged", "Supercharged", "Twin Turbo", "Turbo/Supercharged"),
    "BrakeTypeName": ("Disc", "Drum", "Vented Disc", "Ceramic Disc", "Drum in Hat"),
    "BrakeSystemName": ("Hydraulic", "Power", "Air", "Electric", "Manual"),
    "BrakeABSName": ("2-Wheel ABS", "4-Wheel ABS", "Rear-Wheel ABS", "Non-ABS"),
    "SpringTypeName": ("Coil", "Leaf", "Torsion Bar", "Air", "Strut", "Hydropneumatic"),
    "SteeringTypeName": ("Rack and Pinion", "Recirculating Ball", "Worm and Sector"),
    "SteeringSystemName": ("Power", "Manual", "Electric Power", "Hydraulic Power"),
    "CylinderHeadTypeName": ("DOHC", "SOHC", "OHV", "L-Head", "F-Head", "Rotary"),
    "IgnitionSystemTypeName": ("Distributor", "Distributorless", "Coil on Plug", "Compression", "Magneto"),
    "TransmissionTypeName": ("Automatic", "Manual", "CVT", "Automated Manual", "Dual Clutch"),
    "TransmissionControlTypeName": ("Automatic", "Manual", "Semi-Automatic", "Electronic"),
    "FuelDeliveryTypeName": ("FUEL INJECTION", "CARBURETOR", "ELECTRIC"),
    "FuelDeliverySubTypeName": ("MULTI-PORT", "DIRECT", "THROTTLE BODY", "SEQUENTIAL", "2 BARREL", "4 BARREL"),
    "FuelSystemControlTypeName": ("ELECTRONIC", "MECHANICAL", "FEEDBACK"),
    "FuelSystemDesignName": ("BOSCH", "DENSO", "HOLLEY", "ROCHESTER", "WEBER", "SIEMENS", "DELPHI"),
    "VehicleTypeName": ("Car", "Truck", "Van", "SUV", "Motorcycle", "ATV", "Snowmobile", "Medium/Heavy Truck"),
    "VehicleTypeGroupName": ("Light Duty", "Medium Duty", "Heavy Duty", "Powersports", "Off Road"),
    "PublicationStageName": ("Stage 1", "Stage 2", "Stage 3", "Stage 4"),
    "ClassName": ("Compact", "Midsize", "Full Size", "Subcompact", "Luxury", "Sports", "Commercial"),
    "RegionName": ("United States", "Canada", "Mexico", "Puerto Rico", "Alaska", "Hawaii", "Quebec", "Ontario"),
    "RegionAbbr": ("US", "CAN", "MEX", "PR", "AK", "HI", "QC", "ON"),
    "ElecControlled": ("Yes", "No", "N/A"),
    "CategoryName": ("Brake", "Engine", "Exhaust", "Suspension", "Steering", "Electrical", "Cooling", "Fuel",
                     "Drivetrain", "Body", "Interior", "Lighting", "HVAC", "Filters", "Ignition"),
    "Position": ("Front", "Rear", "Left", "Right", "Front Left", "Front Right", "Rear Left", "Rear Right", "Upper",
                 "Lower", "Inner", "Outer", "Center"),
    "UseDescription": ("Passenger Car", "Light Truck", "Heavy Duty", "Marine", "Agricultural", "Industrial"),
    "QualifierType": ("Vehicle", "Engine", "Transmission", "Body", "Brake", "Misc", "Date", "Emission"),
    "MeasurementGroupName": ("Length", "Weight", "Volume", "Pressure", "Temperature", "Torque", "Power", "Area"),
    "UOMCode": ("IN", "MM", "CM", "FT", "LB", "KG", "GA", "LT", "PS", "KP", "DF", "DC", "NM", "HP"),
    "MetaFormat": ("N", "A", "AN", "D", "B"),
    "DataType": ("Numeric", "Text", "Boolean", "Date", "Decimal"),
    "CodeFormat": ("AN", "N", "A", "D"),
    "FieldFormat": ("AN..4", "N..6", "A..3", "AN..80"),
    "Source": ("PIES", "ACES", "ASC X12", "ISO"),
    "Element": ("App", "Qual", "Position", "MfrLabel", "Note", "BaseVehicle"),
    "Attribute": ("action", "validate", "ref", "id", "ver"),
    "Action": ("A", "M", "D"),
    "TableName": _VCDB_TABLES,
    "TransmissionNumSpeeds": ("3", "4", "5", "6", "7", "8", "9", "10", "CVT"),
    "BodyNumDoors": ("2", "3", "4", "5", "6"),
    "ValvesPerEngine": ("8", "12", "16", "20", "24", "32", "48"),
    "Cylinders": ("3", "4", "5", "6", "8", "10", "12", "16"),
    "BlockType": ("L", "V", "H", "W", "R"),
}
_OPEN_LISTS = frozenset({"SubModelName", "BodyTypeName", "ClassName", "CategoryName", "UseDescription",
                         "MeasurementGroupName", "QualifierType", "Position", "BedTypeName", "RegionName"})
_FIRST_DAY = dt.date(2005, 1, 1).toordinal()
_LAST_DAY = dt.date(2025, 12, 31).toordinal()


def word(h: int, syllables: int = 0) -> str:
    n = syllables or 2 + (h & 1)
    return "".join(_SYLLABLES[(h >> (6 + 6 * k)) % len(_SYLLABLES)] for k in range(n)).capitalize()


def sentence(h: int, words: int) -> str:
    return " ".join(_WORDS[(h >> (3 * k)) % len(_WORDS)] for k in range(words)).capitalize()


def pick(options: Sequence[str], h: int, i: int, v: int, *, open_ended: bool = False) -> str:
    """The index's entry for the first version of the first rows, otherwise one from the hash;
    an open-ended list (names) adds a word so a large table does not repeat one short list."""
    if v == 0 and i < len(options):
        return options[i]
    base = options[h % len(options)]
    if open_ended and (h >> 20) % 3:
        return f"{base} {word(h >> 24, 2)}"
    return base


def _displacement(h: int) -> float:
    return 0.6 + (h % 75) / 10  # litres, 0.6 .. 8.0


def _engine(name: str) -> Generator:
    def gen(h: int, i: int, v: int) -> str:
        litres = _displacement(h)
        bore_in = 2.8 + (h >> 8) % 160 / 100
        stroke_in = 2.6 + (h >> 16) % 180 / 100
        return {
            "Liter": f"{litres:.1f}",
            "CC": str(round(litres * 1000) - (h >> 24) % 30),
            "CID": str(round(litres * 61.0237)),
            "EngBoreIn": f"{bore_in:.2f}",
            "EngBoreMetric": f"{bore_in * 25.4:.1f}",
            "EngStrokeIn": f"{stroke_in:.2f}",
            "EngStrokeMetric": f"{stroke_in * 25.4:.1f}",
        }[name]

    return gen


def _power(name: str) -> Generator:
    def gen(h: int, i: int, v: int) -> str:
        hp = 60 + h % 640
        return str(hp) if name == "HorsePower" else str(round(hp * 0.7457))

    return gen


def _length(metric: bool, low: float, span: int) -> Generator:
    def gen(h: int, i: int, v: int) -> str:
        inches = low + (h % span) / 10
        return f"{inches * 25.4:.1f}" if metric else f"{inches:.1f}"

    return gen


def _listed(name: str) -> Generator:
    options = _LISTS[name]
    open_ended = name in _OPEN_LISTS
    return lambda h, i, v: pick(options, h, i, v, open_ended=open_ended)


def _make(h: int, i: int, v: int) -> str:
    if v == 0 and i < len(MAKES):
        return MAKES[i]
    return MAKES[h % len(MAKES)] if (h >> 30) % 5 == 0 else word(h, 2 + (h >> 40) % 2)


def _model(h: int, i: int, v: int) -> str:
    style = (h >> 50) % 4
    if style == 0:
        return f"{word(h)} {100 * (1 + (h >> 30) % 9)}"
    if style == 1:
        return f"{chr(65 + (h >> 30) % 26)}{chr(65 + (h >> 36) % 26)}-{1 + (h >> 42) % 9}"
    return word(h)


def _code(width: int) -> Generator:
    def gen(h: int, i: int, v: int) -> str:
        return "".join("ABCDEFGHJKLMNPRSTUVWXYZ0123456789"[(h >> (5 * k)) % 33] for k in range(width))

    return gen


_CODE3 = _code(3)


def _text(words: int) -> Generator:
    return lambda h, i, v: sentence(h, 2 + h % words)


# Qdb qualifier texts carry typed placeholders that an ACES <Qual> fills with <param> values in
# order (reference aces-pies.md §1.8 step 6): one qualifier in three has some, the rest is text.
QUALIFIER_FORMS = (
    'with <p1 type="num"/> in Driveshaft Diameter', 'with <p1 type="num"/> Teeth', 'with <p1 type="size"/> Wheels',
    'with <p1 type="name"/> Transmission', 'from <p1 type="date"/> to <p2 type="date"/>',
    'with <p1 type="num"/> in Lift and <p2 type="size"/> Tires', 'with <p1 type="weight"/> GVW',
    'with <p1 type="idlist"/> Option Codes',
)
# PIES code values (reference aces-pies.md §2.4): the first rows of PIESCode carry real ones
# (description, price and asset types), so a generated PIES file has codes that exist;
# later rows get 3-character codes of the same shape (PIES code fields are VARCHAR(3)).
PIES_CODES = ("DES", "SHO", "EXT", "MKT", "FAB", "RET", "LST", "WD1", "JBR", "RMP", "P04", "P01", "P02", "LGO",
              "INS", "OWN", "WAR", "ASC", "INV", "LAB", "SLO", "KEY", "DLR", "NET", "USR", "P03", "ZZ1", "TLE",
              "CTO", "BRO")


def _qualifier_text(h: int, i: int, v: int) -> str:
    if (h >> 44) % 3 == 0:
        return QUALIFIER_FORMS[(h >> 48) % len(QUALIFIER_FORMS)]
    return sentence(h, 2 + h % 10)  # the text every other qualifier had before placeholders


def _pies_code(h: int, i: int, v: int) -> str:
    if v == 0 and i < len(PIES_CODES):
        return PIES_CODES[i]
    return str(_CODE3(h, i, v))


def _day(h: int) -> dt.date:
    return dt.date.fromordinal(_FIRST_DAY + h % (_LAST_DAY - _FIRST_DAY))


SPECIAL: dict[str, Generator] = {
    **{n: _engine(n) for n in ("Liter", "CC", "CID", "EngBoreIn", "EngBoreMetric", "EngStrokeIn", "EngStrokeMetric")},
    "HorsePower": _power("HorsePower"), "KilowattPower": _power("KilowattPower"),
    "WheelBase": _length(False, 80.0, 900), "WheelBaseMetric": _length(True, 80.0, 900),
    "BedLength": _length(False, 48.0, 600), "BedLengthMetric": _length(True, 48.0, 600),
    "MakeName": _make, "ModelName": _model,
    "MfrBodyCodeName": _code(4), "EngineVINName": _code(1), "TransmissionMfrCode": _code(5),
    "EngineDesignationName": _code(4), "EngineVersion": _code(3), "ExpiCode": _code(3), "CodeValue": _pies_code,
    "QualifierText": _qualifier_text,
    "EXPICode": _code(3), "ExpiGroupCode": _code(2), "SegmentAbb": _code(3), "UOMLabel": _code(2),
    "ReferenceFieldNumber": _code(4), "CodedValue": _code(3),
    **{n: _listed(n) for n in _LISTS},
}
# Engine dimensions, power and lengths are read from one hash per row so they agree.
ROW_CORRELATED = frozenset(
    {"Liter", "CC", "CID", "EngBoreIn", "EngBoreMetric", "EngStrokeIn", "EngStrokeMetric", "HorsePower",
     "KilowattPower", "WheelBase", "WheelBaseMetric", "BedLength", "BedLengthMetric"}
)


def generator_for(column: Column) -> Generator:
    """The value generator of a non-key, non-FK column, by name first, then by type."""
    special = SPECIAL.get(column.name)
    if special is not None:
        return special
    kind = column.sql_type.split("(")[0]
    if kind in ("INTEGER", "BIGINT", "SMALLINT"):
        if column.name == "MaxLength":
            return lambda h, i, v: 10 + h % 990
        return lambda h, i, v: 1 + h % 100
    if kind == "TIMESTAMP":
        return lambda h, i, v: dt.datetime.combine(_day(h), dt.time(0, 0)) + dt.timedelta(seconds=(h >> 32) % 86400)
    if kind == "DATE":
        return lambda h, i, v: _day(h)
    lowered = column.name.lower()
    if "descr" in lowered or "text" in lowered or "note" in lowered or "description" in lowered:
        return _text(10)
    if lowered.endswith("name") or lowered.endswith("value") or lowered.endswith("group"):
        return lambda h, i, v: word(h) if (h >> 58) % 3 else f"{word(h)} {word(h >> 20, 2)}"
    return lambda h, i, v: word(h)


def fit(value: Any, column: Column) -> Any:
    """Cut a string to the column's width (a generator may overshoot a narrow column)."""
    limit = column.max_length
    if isinstance(value, str) and limit is not None and len(value) > limit:
        return value[:limit].rstrip() or value[:limit]
    return value
