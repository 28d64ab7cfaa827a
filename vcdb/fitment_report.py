"""`vcdb fitment parts|vehicles`, `vcdb aces report`, `vcdb pies report`: plain functions that
look up or count (consumers/fitment.py), and their text and JSON renderings.

Exit codes: 0 rows found; 1 nothing found (unknown vehicle or part, or nothing fits it), with a
message saying which; 5 PostgreSQL unreachable.  Bad arguments are refused by the parser (2).
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from consumers import fitment
from consumers.fitment import AcesReport, FitPart, FitVehicle, PiesReport, Vehicle
from ledger.statuses import DeadLetterStatus
from schemas.settings import Settings
from vcdb import exit_codes
from vcdb.console import print_json
from vcdb.reports import read_pool


@dataclass
class PartsResult:
    target: str  # "vehicle" | "base vehicle"
    target_id: int
    vehicle: Vehicle | None  # None: no such vehicle in the VCdb
    part_type_id: int | None = None
    parts: list[FitPart] = field(default_factory=list)

    @property
    def message(self) -> str | None:
        """Why there are no rows, or None."""
        table = "vehicle" if self.target == "vehicle" else "base_vehicle"
        if self.vehicle is None:
            return f"no {self.target} {self.target_id} in autocare_vcdb.{table}"
        if not self.parts:
            kind = f" of part type {self.part_type_id}" if self.part_type_id is not None else ""
            return f"{self.target} {self.target_id} ({vehicle_title(self.vehicle)}): no live application{kind} fits it"
        return None


@dataclass
class VehiclesResult:
    part_number: str
    brand: str | None
    presence: fitment.PartPresence | None = None  # set when no vehicle was found
    vehicles: list[FitVehicle] = field(default_factory=list)

    @property
    def message(self) -> str | None:
        if self.vehicles:
            return None
        part = part_title(self.part_number, self.brand)
        p = self.presence
        if p is None or p.live + p.ended == 0:
            return f"no application for {part} in autocare_aces.app"
        return (f"{part}: {p.live} live and {p.ended} ended application(s), none fits a vehicle of the loaded VCdb"
                if p.live else f"{part}: every application ({p.ended}) has ended")


# ---- in-process functions --------------------------------------------------------------------------

async def find_parts(settings: Settings, *, vehicle_id: int | None = None, base_vehicle_id: int | None = None,
                     part_type_id: int | None = None) -> PartsResult:
    """Parts of live applications that fit a vehicle, or that name a base vehicle."""
    if (vehicle_id is None) == (base_vehicle_id is None):
        raise ValueError("one of vehicle_id or base_vehicle_id")
    async with read_pool(settings, "aces") as pool:
        if vehicle_id is not None:
            result = PartsResult("vehicle", vehicle_id, await fitment.vehicle(pool, vehicle_id), part_type_id)
            if result.vehicle is not None:
                result.parts = await fitment.parts_for_vehicle(pool, vehicle_id, part_type_id)
        else:
            assert base_vehicle_id is not None
            result = PartsResult("base vehicle", base_vehicle_id, await fitment.base_vehicle(pool, base_vehicle_id),
                                 part_type_id)
            if result.vehicle is not None:
                result.parts = await fitment.parts_for_base_vehicle(pool, base_vehicle_id, part_type_id)
    return result


async def find_vehicles(settings: Settings, part_number: str, brand: str | None = None) -> VehiclesResult:
    """Vehicles a part fits, with the configurations its applications allow."""
    async with read_pool(settings, "aces") as pool:
        result = VehiclesResult(part_number, brand, None, await fitment.vehicles_for_part(pool, part_number, brand))
        if not result.vehicles:
            result.presence = await fitment.part_presence(pool, part_number, brand)
    return result


async def aces_report(settings: Settings, sample: int = 10) -> AcesReport:
    async with read_pool(settings, "aces") as pool:
        return await fitment.aces_report(pool, sample)


async def pies_report(settings: Settings) -> PiesReport:
    async with read_pool(settings, "pies") as pool:
        return await fitment.pies_report(pool)


# ---- text (pure) --------------------------------------------------------------------------------------

WAITING_SHOWN = 8  # tables dead letters wait on, in the text report

def vehicle_title(v: Vehicle) -> str:
    return " ".join(str(x) for x in (v.year, v.make or "?", v.model or "?", v.submodel) if x is not None)


def part_title(part_number: str, brand: str | None) -> str:
    return f"part {part_number}" + (f" of brand {brand}" if brand else "")


def _attributes(attrs: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in attrs.items())


def _qualifiers(quals: list[dict[str, Any]]) -> str:
    return "; ".join(f"{q.get('text') or '?'} [Qdb {q.get('id')}]" for q in quals)


def _notes(notes: list[dict[str, Any]]) -> str:
    return "; ".join(str(n.get("text") or "") for n in notes)


def render_parts(result: PartsResult) -> str:
    v = result.vehicle
    assert v is not None
    head = f"{result.target} {result.target_id}: {vehicle_title(v)}"
    if result.target == "vehicle":
        head += f" (base vehicle {v.base_vehicle_id})"
    lines = [head, f"  {len(result.parts)} part(s)" + (f" of part type {result.part_type_id}"
                                                      if result.part_type_id is not None else "")]
    for p in result.parts:
        position = f"{p.position or 'position'} [{p.position_id}]" if p.position_id is not None else "no position"
        lines.append(f"  {p.brand or '-'} {p.part_number}: {p.part_type or 'part type'} [{p.part_type_id}], "
                     f"{position}, qty {p.qty if p.qty is not None else '-'}"
                     + (f", {p.mfr_label}" if p.mfr_label else ""))
        if p.description:
            lines.append(f"      {p.description}")
        if p.attributes:
            lines.append(f"      fits with: {_attributes(p.attributes)}")
        if p.qualifiers:
            lines.append(f"      qualifiers: {_qualifiers(p.qualifiers)}")
        if p.notes:
            lines.append(f"      notes: {_notes(p.notes)}")
        if p.image_file_name:
            lines.append(f"      image: {p.image_file_name}" + (f" {p.image_uri}" if p.image_uri else ""))
        if not p.in_pies:
            lines.append("      (no PIES item)")
    return "\n".join(lines)


def configuration(v: FitVehicle) -> str:
    parts = [(label, ", ".join(values)) for label, values in (
        ("engine", v.engines), ("drive", v.drive_types), ("transmission", v.transmissions), ("body", v.body_styles))
        if values]
    return "; ".join(f"{label} {text}" for label, text in parts)


def render_vehicles(result: VehiclesResult) -> str:
    vehicles = result.vehicles
    lines = [f"{part_title(result.part_number, result.brand)}: {len(vehicles)} vehicle(s)"]
    rows = [(str(v.year), v.make or "?", v.model or "?", v.submodel or "-", configuration(v),
             f"vehicle {v.vehicle_id}" + ("" if result.brand else f", brand {v.brand or '-'}")
             + f", {v.part_type or 'part type'} [{v.part_type_id}]") for v in vehicles]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(("Year", "Make", "Model", "SubModel"))]
    header = ("Year", "Make", "Model", "SubModel")
    lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + "  Configuration")
    for r in rows:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True))
                     + f"  {r[4] or '-'}  ({r[5]})")
    return "\n".join(lines)


def render_aces_report(r: AcesReport) -> str:
    lines = ["ACES report"]
    open_letters = [d for d in r.dead_letters if d["status"] == DeadLetterStatus.OPEN]
    lines.append(f"  dead letters (open): {sum(d['n'] for d in open_letters)}")
    for d in open_letters:
        lines.append(f"    {d['table_name']:<10} {d['reason']:<24} {d['n']:>7}")
    for w in r.waiting_on[:WAITING_SHOWN]:
        lines.append(f"      {w['table_name']} {w['reason']} waiting on {w['missing_table']}: {w['n']}")
    if len(r.waiting_on) > WAITING_SHOWN:
        rest = r.waiting_on[WAITING_SHOWN:]
        lines.append(f"      ... {sum(w['n'] for w in rest)} more waiting on {len(rest)} other tables "
                     "(--json lists all)")
    lines.append(f"  applications per brand: {len(r.brands)} brand(s)")
    lines.append(f"    {'brand':<6} {'live':>8} {'ended':>8} {'parts':>7} {'not in PIES':>12}")
    for b in r.brands:
        lines.append(f"    {b['brand'] or '-':<6} {b['live']:>8} {b['ended']:>8} {b['parts']:>7} "
                     f"{b['not_in_pies']:>12}")
    lines.append(fits_no_vehicle_line(r.fits_no_vehicle_yet))
    lines.append(f"  duplicates (the same application twice in one file): {len(r.duplicates)} file run(s)")
    for d in r.duplicates:
        lines.append(f"    run {d['run_id']} {d['file_name'] or '(file unknown)'} {d['submission_type'] or ''}: "
                     f"{d['received']} App records, {d['distinct_apps']} distinct, {d['duplicates']} duplicate(s)"
                     + (f" ({d['note']})" if d["note"] else ""))
    lines.append(f"  overlaps (live, same brand and fitment key, other parts): {r.overlap_groups} group(s), "
                 f"{r.overlap_apps} application(s)")
    for o in r.overlaps:
        vehicle = (f"base vehicle {o['base_vehicle_id']}" if o["base_vehicle_id"] is not None else
                   f"years {o['year_from']}-{o['year_to']} make {o['make_id']}"
                   + (f" model {o['model_id']}" if o["model_id"] is not None else ""))
        lines.append(f"    {o['brand'] or '-'} {vehicle}, part type {o['part_type_id']}, position "
                     f"{o['position_id'] if o['position_id'] is not None else '-'}: {', '.join(o['parts'])} "
                     f"({o['apps']} apps, fitment key {o['fitment_key']})")
    return "\n".join(lines)


_FITS_NO_VEHICLE_LABELS = {"naming_nothing": "naming no attribute or submodel", "validate_no": 'validate="no"',
                           "equipment": "equipment", "other": "other",
                           "vcdb_release_ended": "its vehicles ended in a VCdb release (`vcdb aces impact`)"}


def fits_no_vehicle_line(counts: dict[str, int]) -> str:
    """Live applications that loaded and fit no VCdb vehicle yet, and why the loader let them in."""
    total = counts.get("applications", 0)
    line = f"  fits no vehicle yet (live applications no VCdb vehicle fits): {total}"
    if total:
        line += " (" + ", ".join(f"{counts.get(k, 0)} {label}" for k, label in _FITS_NO_VEHICLE_LABELS.items()) + ")"
    return line


def render_pies_report(r: PiesReport) -> str:
    lines = ["PIES report", f"  items per brand: {len(r.brands)} brand(s)"]
    for b in r.brands:
        lines.append(f"    {b['brand']:<6} {b['live']:>8} live {b['ended']:>8} ended")
    lines.append("  rows per table:")
    for t in r.tables:
        lines.append(f"    {t['table_name']:<18} {t['live']:>8} live {t['ended']:>8} ended")
    open_letters = [d for d in r.dead_letters if d["status"] == DeadLetterStatus.OPEN]
    lines.append(f"  dead letters (open): {sum(d['n'] for d in open_letters)}")
    for d in open_letters:
        lines.append(f"    {d['table_name']:<18} {d['reason']:<24} {d['n']:>7}")
    return "\n".join(lines)


def parts_json(result: PartsResult) -> dict[str, Any]:
    return {"target": result.target, "id": result.target_id,
            "vehicle": asdict(result.vehicle) if result.vehicle else None, "part_type_id": result.part_type_id,
            "parts": [asdict(p) for p in result.parts], "message": result.message}


def vehicles_json(result: VehiclesResult) -> dict[str, Any]:
    return {"part_number": result.part_number, "brand": result.brand,
            "vehicles": [asdict(v) for v in result.vehicles], "message": result.message}


# ---- commands ----------------------------------------------------------------------------------------

async def parts(settings: Settings, *, vehicle: int | None = None, base_vehicle: int | None = None,
                part_type: int | None = None, as_json: bool = False) -> int:
    result = await find_parts(settings, vehicle_id=vehicle, base_vehicle_id=base_vehicle, part_type_id=part_type)
    return _print(result.message, parts_json(result) if as_json else None,
                  render_parts(result) if not result.message else None)


async def vehicles(settings: Settings, part: str, brand: str | None = None, *, as_json: bool = False) -> int:
    result = await find_vehicles(settings, part, brand)
    return _print(result.message, vehicles_json(result) if as_json else None,
                  render_vehicles(result) if not result.message else None)


def _print(message: str | None, as_json: dict[str, Any] | None, text: str | None) -> int:
    if as_json is not None:
        print_json(as_json)
    elif text is not None:
        print(text)
    if message:  # nothing found: an answer, said on stderr with exit 1
        print(f"vcdb fitment: {message}", file=sys.stderr)
        return exit_codes.FAILED
    return exit_codes.OK


async def aces(settings: Settings, *, sample: int = 10, as_json: bool = False) -> int:
    report = await aces_report(settings, sample)
    if as_json:
        print_json(asdict(report))
    else:
        print(render_aces_report(report))
    return exit_codes.OK


async def pies(settings: Settings, *, as_json: bool = False) -> int:
    report = await pies_report(settings)
    if as_json:
        print_json(asdict(report))
    else:
        print(render_pies_report(report))
    return exit_codes.OK
