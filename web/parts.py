"""Fitment in the explorer: the parts that fit a vehicle, and a part's vehicles collapsed into year
ranges (both from the ACES/PIES views of migration 0004, through consumers/fitment.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, Field

from consumers import fitment
from schemas import part_numbers
from web import vehicles
from web.endpoints import Context, Params, endpoint
from web.errors import NotFound


class VehicleParams(Params):
    vehicle_id: int = Field(ge=1, le=2**31 - 1)
    part_type_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="only this PCdb part type")
    position_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="only this PCdb position")


class PartFit(BaseModel):
    app_key: str
    brand: str | None
    part_number: str
    part_type_id: int
    part_type: str  # the PCdb name, or "PCdb not loaded" / "#id (not in PCdb)"
    position_id: int | None
    position: str | None
    qty: int | None
    mfr_label: str | None
    qualifiers: list[dict[str, object]]
    notes: list[dict[str, object]]
    requires: list[str]  # what the application asks of the vehicle, by its configurations ("engine: 2.0L L4")
    in_pies: bool
    description: str | None
    image_file_name: str | None
    image_uri: str | None


class PartOption(BaseModel):
    id: int
    label: str
    parts: int


class VehicleName(BaseModel):
    base_vehicle_id: int
    year: int
    make_id: int
    make_name: str
    model_id: int
    model_name: str
    submodel: str | None
    deleted: bool


class VehicleParts(BaseModel):
    vehicle_id: int
    vehicle: VehicleName
    part_type_id: int | None
    position_id: int | None
    pcdb_loaded: bool
    part_types: list[PartOption]  # of every part that fits, for the filter
    positions: list[PartOption]
    total: int  # parts that fit, before the filters
    parts: list[PartFit]


_PCDB_LOADED = "SELECT EXISTS (SELECT 1 FROM autocare_pcdb.parts)"


def _options(pairs: Iterable[tuple[int, str]]) -> list[PartOption]:
    counts: dict[int, PartOption] = {}
    for key, label in pairs:
        seen = counts.get(key)
        counts[key] = PartOption(id=key, label=label, parts=(seen.parts if seen else 0) + 1)
    return sorted(counts.values(), key=lambda o: (o.label.lower(), o.id))


@endpoint("vehicle_parts", page="/vehicle/{vehicle_id}/parts", api="/vehicles/{vehicle_id}/parts",
          template="parts_of_vehicle.html", fragment="parts_of_vehicle_fragment.html", tag="fitment")
async def vehicle_parts(ctx: Context, p: VehicleParams) -> VehicleParts:
    """The parts of live ACES applications that fit a vehicle, filtered by part type and position, each with
    what it asks of the vehicle."""
    row = await ctx.db.fetchrow(vehicles.VEHICLE_SQL, p.vehicle_id)
    if row is None:
        raise NotFound(f"there is no vehicle {p.vehicle_id}")
    name = VehicleName(**{k: row[k] for k in VehicleName.model_fields})
    everything = await fitment.parts_for_vehicle(ctx.db, p.vehicle_id)
    systems = fitment.named_systems(x.attributes for x in everything)
    configurations = await fitment.vehicle_configurations(ctx.db, p.vehicle_id, systems)
    pcdb = bool(await ctx.db.fetchval(_PCDB_LOADED)) if everything else True

    def part_type(x: fitment.FitPart) -> str:
        return x.part_type or ("PCdb not loaded" if not pcdb else f"#{x.part_type_id} (not in PCdb)")

    chosen = [x for x in everything
              if p.part_type_id in (None, x.part_type_id) and p.position_id in (None, x.position_id)]
    fields = set(PartFit.model_fields) - {"part_type", "requires"}
    return VehicleParts(
        vehicle_id=p.vehicle_id, vehicle=name, part_type_id=p.part_type_id, position_id=p.position_id,
        pcdb_loaded=pcdb, total=len(everything),
        part_types=_options((x.part_type_id, part_type(x)) for x in everything),
        positions=_options((x.position_id, x.position or f"#{x.position_id}") for x in everything
                           if x.position_id is not None),
        parts=[PartFit(**{k: v for k, v in dataclasses.asdict(x).items() if k in fields}, part_type=part_type(x),
                       requires=fitment.requirements(x.attributes, name.submodel, configurations)) for x in chosen])


class PartParams(Params):
    part_number: str = Field(min_length=1, max_length=100)
    brand: str | None = Field(default=None, max_length=10)


class YearRange(BaseModel):
    """Vehicles of one make/model/submodel and configuration, over consecutive years."""

    brand: str | None
    part_type: str | None
    make: str | None
    model: str | None
    submodel: str | None
    year_from: int
    year_to: int
    engines: list[str]
    transmissions: list[str]
    body_styles: list[str]
    drive_types: list[str]
    vehicle_ids: list[int]


class PartPage(BaseModel):
    part_number: str
    brand: str | None
    description: str | None
    live_applications: int
    ended_applications: int
    vehicles: int
    fits: list[YearRange]


@endpoint("part", page="/part", api="/part", template="part.html", tag="fitment")
async def part(ctx: Context, p: PartParams) -> PartPage:
    """Every vehicle a part fits (?part_number=, optionally &brand=), collapsed into year ranges.  The part
    number as people type it: "qa-brk-100" finds "QA-BRK-100" when that is the only one it can mean."""
    number = p.part_number
    presence = await fitment.part_presence(ctx.db, number, p.brand)
    item = await ctx.db.fetchrow(_PIES_ITEM, number, p.brand)
    if presence.live == 0 and presence.ended == 0 and item is None:
        spelled = [r["part_number"] for r in await ctx.db.fetch(_SPELLINGS, part_numbers.normalize(number), p.brand)]
        if len(spelled) != 1:
            also = f"; it may be {', '.join(map(repr, spelled))}" if spelled else ""
            raise NotFound(f"there is no part {number!r}" + (f" of brand {p.brand}" if p.brand else "") + also)
        number = spelled[0]
        presence = await fitment.part_presence(ctx.db, number, p.brand)
        item = await ctx.db.fetchrow(_PIES_ITEM, number, p.brand)
    vehicles = await fitment.vehicles_for_part(ctx.db, number, p.brand)
    return PartPage(part_number=number, brand=p.brand, description=item["description"] if item else None,
                    live_applications=presence.live, ended_applications=presence.ended,
                    vehicles=len({v.vehicle_id for v in vehicles}), fits=year_ranges(vehicles))


# The part numbers, as spelled in ACES and PIES, that a normalized one stands for (by migration 0010's indexes).
_NORMALIZED = part_numbers.normalized("part_number")
_SPELLINGS = (
    f"SELECT part_number FROM autocare_aces.app WHERE {_NORMALIZED} = $1 AND ($2::text IS NULL OR brand_aaia_id = $2) "
    f"UNION SELECT part_number FROM autocare_pies.item WHERE {_NORMALIZED} = $1 "
    "AND ($2::text IS NULL OR brand_aaia_id = $2) ORDER BY 1 LIMIT 5")

# The PIES item of the part (live), with its description: DES first, English first.
_PIES_ITEM = (
    "SELECT i.brand_aaia_id AS brand, (SELECT x.description FROM autocare_pies.item_description x "
    "WHERE x.brand_aaia_id = i.brand_aaia_id AND x.part_number = i.part_number AND x.end_date_time IS NULL "
    "ORDER BY x.description_code = 'DES' DESC, x.language_code = 'EN' DESC, x.sequence LIMIT 1) AS description "
    "FROM autocare_pies.item i WHERE i.part_number = $1 AND ($2::text IS NULL OR i.brand_aaia_id = $2) "
    "AND i.end_date_time IS NULL ORDER BY i.brand_aaia_id LIMIT 1")


def year_ranges(vehicles: Iterable[fitment.FitVehicle]) -> list[YearRange]:
    """Collapse vehicles that differ only by year into runs of consecutive years."""
    Key = tuple[str | None, str | None, str | None, str | None, str | None, tuple[str, ...], tuple[str, ...],
                tuple[str, ...], tuple[str, ...]]
    groups: dict[Key, dict[int, set[int]]] = {}
    for v in vehicles:
        key = (v.brand, v.part_type, v.make, v.model, v.submodel, tuple(v.engines), tuple(v.transmissions),
               tuple(v.body_styles), tuple(v.drive_types))
        groups.setdefault(key, {}).setdefault(v.year, set()).add(v.vehicle_id)
    out = []
    for key, by_year in groups.items():
        brand, part_type, make, model, submodel, engines, transmissions, bodies, drives = key
        for first, last in consecutive(sorted(by_year)):
            ids = sorted({i for y in range(first, last + 1) for i in by_year.get(y, ())})
            out.append(YearRange(brand=brand, part_type=part_type, make=make, model=model, submodel=submodel,
                                 year_from=first, year_to=last, engines=list(engines),
                                 transmissions=list(transmissions), body_styles=list(bodies),
                                 drive_types=list(drives), vehicle_ids=ids))
    out.sort(key=lambda r: (r.brand or "", r.make or "", r.model or "", r.year_from, r.submodel or "",
                            r.engines, r.vehicle_ids))
    return out


def consecutive(years: Sequence[int]) -> list[tuple[int, int]]:
    """[2010, 2011, 2012, 2015] -> [(2010, 2012), (2015, 2015)] (years sorted, distinct)."""
    runs: list[tuple[int, int]] = []
    for y in years:
        if runs and runs[-1][1] == y - 1:
            runs[-1] = (runs[-1][0], y)
        else:
            runs.append((y, y))
    return runs
