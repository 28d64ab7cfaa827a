"""The vehicle drill-down: Year -> Make -> Model -> the base vehicle's vehicles (the selector: one row
per vehicle with its SubModel, engines, transmissions, bodies and drives, and filters for the attributes
that vary, each offering what the others leave possible) -> one vehicle with every configuration it has.
Configurations are labelled by schemas/config_labels.py, as everywhere else.

End-dated rows (end_date_time set: VCdb deletes are soft) are hidden unless `deleted=1`.  The years
and the makes of a year read `autocare_fitment.explorer_year` and `explorer_year_make` (migration 0007, refreshed by
`autocare_fitment.refresh_explorer()` when a run seals); the rest read the canonical tables by the
indexes of schemas/indexes.py.  Every value reaches SQL as a parameter.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from schemas import config_labels
from web.endpoints import Context, Params, endpoint
from web.errors import NotFound

V = "autocare_vcdb"
INT4_MAX = 2**31 - 1
GRID_ROWS_MAX = 5000  # the combinations of one base vehicle fetched at most (VCdb's largest have hundreds)
GRID_PAGE = 100  # grid rows per page (keyset on vehicle id)
GRID_ATTRIBUTES = ("submodel", "engine", "transmission", "body", "drive")


def _id(value: int, what: str) -> int:
    """An id the int4 columns can hold; any other names nothing."""
    if not 0 <= value <= INT4_MAX:
        raise NotFound(f"there is no {what} {value}")
    return value


# ---- parameters ----------------------------------------------------------------------------------

class DrillParams(Params):
    deleted: bool = Field(False, description="1 shows end-dated (deleted) rows too")


class DrillYearParams(DrillParams):
    year: int = Field(description="the model year, e.g. 2015")


class DrillMakeParams(DrillYearParams):
    make_id: int = Field(description="VCdb MakeID")


class DrillModelParams(DrillMakeParams):
    model_id: int = Field(description="VCdb ModelID")
    submodel: int | None = Field(None, description="only this SubModelID")
    engine: int | None = Field(None, description="only this EngineConfigID")
    transmission: int | None = Field(None, description="only this TransmissionID")
    body: int | None = Field(None, description="only this BodyStyleConfigID")
    drive: int | None = Field(None, description="only this DriveTypeID")
    after: int | None = Field(None, description="keyset cursor: rows of vehicles after this VehicleID")


class DrillVehicleParams(DrillParams):
    vehicle_id: int = Field(description="VCdb VehicleID")


# ---- responses -----------------------------------------------------------------------------------

class YearRow(BaseModel):
    year: int
    base_vehicles: int
    makes: int


class YearsPage(BaseModel):
    deleted: bool
    years: list[YearRow]


class MakeRow(BaseModel):
    make_id: int
    make_name: str
    models: int
    base_vehicles: int


class MakesPage(BaseModel):
    year: int
    deleted: bool
    makes: list[MakeRow]


class ModelRow(BaseModel):
    model_id: int
    model_name: str
    base_vehicle_id: int
    vehicles: int
    deleted: bool


class ModelsPage(BaseModel):
    year: int
    make_id: int
    make_name: str
    deleted: bool
    models: list[ModelRow]


class FacetValue(BaseModel):
    id: int
    label: str
    vehicles: int  # the vehicles that have it


class Facet(BaseModel):
    attribute: str  # the query parameter that filters by it
    values: list[FacetValue]


class Choice(BaseModel):
    id: int
    label: str


class GridRow(BaseModel):
    """One vehicle, with each of its configurations once (a vehicle with two engines lists both)."""

    vehicle_id: int
    deleted: bool
    submodel_id: int | None
    submodel: str | None
    engine: list[Choice]
    transmission: list[Choice]
    body: list[Choice]
    drive: list[Choice]


class BaseVehiclePage(BaseModel):
    year: int
    make_id: int
    make_name: str
    model_id: int
    model_name: str
    base_vehicle_ids: list[int]
    deleted: bool
    vehicles: int  # distinct vehicles matching the filters
    facets: list[Facet]  # the attributes that take more than one value; each offers the values still possible
    filters: dict[str, int]  # the filters applied
    rows: list[GridRow]  # one per vehicle
    next_after: int | None  # the `after` of the next page, if any
    truncated: bool  # more than GRID_ROWS_MAX links: only the first are read


class VehicleConfig(BaseModel):
    system: str  # engine, transmission, body, drive, brakes, steering, springs, wheel_base, bed, class, mfr_body_code
    id: int
    label: str
    deleted: bool


class VehiclePage(BaseModel):
    vehicle_id: int
    deleted: bool
    base_vehicle_id: int
    year: int
    make_id: int
    make_name: str
    model_id: int
    model_name: str
    submodel_id: int | None
    submodel: str | None
    region: str | None
    configurations: list[VehicleConfig]


SYSTEMS = ("engine", "transmission", "body", "drive", "brakes", "steering", "springs", "wheel_base", "bed",
           "class", "mfr_body_code")

# ---- SQL -----------------------------------------------------------------------------------------

YEARS_SQL = """
SELECT year_id, CASE WHEN $1 THEN base_vehicles ELSE base_vehicles_live END AS base_vehicles,
       CASE WHEN $1 THEN makes ELSE makes_live END AS makes
FROM autocare_fitment.explorer_year
WHERE $1 OR base_vehicles_live > 0
ORDER BY year_id DESC"""

MAKES_SQL = f"""
SELECT y.make_id, coalesce(m.make_name, '#' || y.make_id) AS make_name,
       CASE WHEN $2 THEN y.models ELSE y.models_live END AS models,
       CASE WHEN $2 THEN y.base_vehicles ELSE y.base_vehicles_live END AS base_vehicles
FROM autocare_fitment.explorer_year_make y LEFT JOIN {V}.make m ON m.make_id = y.make_id
WHERE y.year_id = $1 AND ($2 OR y.base_vehicles_live > 0)
ORDER BY lower(m.make_name), y.make_id"""

MAKE_NAME_SQL = f"SELECT make_name FROM {V}.make WHERE make_id = $1"
MODEL_NAME_SQL = f"SELECT model_name FROM {V}.model WHERE model_id = $1"

MODELS_SQL = f"""
SELECT b.model_id, coalesce(m.model_name, '#' || b.model_id) AS model_name, b.base_vehicle_id,
       b.end_date_time IS NOT NULL AS deleted,
       (SELECT count(*) FROM {V}.vehicle v WHERE v.base_vehicle_id = b.base_vehicle_id
          AND ($3 OR v.end_date_time IS NULL))::int AS vehicles
FROM {V}.base_vehicle b LEFT JOIN {V}.model m ON m.model_id = b.model_id
WHERE b.make_id = $2 AND b.year_id = $1 AND ($3 OR b.end_date_time IS NULL)
ORDER BY lower(m.model_name), b.model_id, b.base_vehicle_id"""

BASE_VEHICLES_SQL = f"""
SELECT b.base_vehicle_id, mk.make_name, md.model_name FROM {V}.base_vehicle b
LEFT JOIN {V}.make mk ON mk.make_id = b.make_id LEFT JOIN {V}.model md ON md.model_id = b.model_id
WHERE b.make_id = $2 AND b.model_id = $3 AND b.year_id = $1 AND ($4 OR b.end_date_time IS NULL) ORDER BY 1"""

# The explorer's systems, by their schemas/config_labels.py (schemas/aces.SYSTEMS) names.
_LABELLED = {"body": "body_style", "brakes": "brake", "springs": "spring"}


def _link_cte(system: str, vehicles: str, deleted: str) -> str:
    """The links of `system` for the vehicles in CTE `vehicles`: vehicle_id, id, label, deleted."""
    name = _LABELLED.get(system, system)
    source, at = config_labels.from_link(name)
    link = at["link"]
    # One row per configuration of a vehicle: VCdb can link a vehicle to one configuration twice
    # (two link rows); a live link wins over an end-dated one.
    return (f"SELECT vehicle_id, id, label, bool_and(deleted) AS deleted FROM ("
            f"SELECT {link}.vehicle_id, {link}.{config_labels.LABELS[name].column} AS id, "
            f"{config_labels.label(name, at)} AS label, {link}.end_date_time IS NOT NULL AS deleted {source} "
            f"WHERE {link}.vehicle_id IN (SELECT vehicle_id FROM {vehicles}) "
            f"AND ({deleted} OR {link}.end_date_time IS NULL)) l GROUP BY vehicle_id, id, label")


# One row per vehicle and per configuration link (attribute, vehicle_id, id, label): no cross product.
# Each link CTE MATERIALIZED: small join problems to plan, not one of twenty-odd tables.
GRID_SQL = f"""
WITH v AS MATERIALIZED (
  SELECT v.vehicle_id, v.submodel_id, s.submodel_name,
         (b.end_date_time IS NOT NULL OR v.end_date_time IS NOT NULL) AS deleted
  FROM {V}.base_vehicle b JOIN {V}.vehicle v ON v.base_vehicle_id = b.base_vehicle_id
  LEFT JOIN {V}.submodel s ON s.submodel_id = v.submodel_id
  WHERE b.base_vehicle_id = ANY($1::int[]) AND ($2 OR (b.end_date_time IS NULL AND v.end_date_time IS NULL))
), e AS MATERIALIZED ({_link_cte("engine", "v", "$2")}),
t AS MATERIALIZED ({_link_cte("transmission", "v", "$2")}),
bo AS MATERIALIZED ({_link_cte("body", "v", "$2")}),
d AS MATERIALIZED ({_link_cte("drive", "v", "$2")})
SELECT * FROM (
  SELECT 'vehicle' AS attribute, vehicle_id, submodel_id AS id, submodel_name AS label, deleted FROM v
  UNION ALL SELECT 'engine', vehicle_id, id, label, deleted FROM e
  UNION ALL SELECT 'transmission', vehicle_id, id, label, deleted FROM t
  UNION ALL SELECT 'body', vehicle_id, id, label, deleted FROM bo
  UNION ALL SELECT 'drive', vehicle_id, id, label, deleted FROM d) x
ORDER BY vehicle_id, attribute <> 'vehicle', label, id
LIMIT {GRID_ROWS_MAX + 1}"""

VEHICLE_SQL = f"""
SELECT v.vehicle_id, v.end_date_time IS NOT NULL OR b.end_date_time IS NOT NULL AS deleted, b.base_vehicle_id,
       b.year_id AS year, b.make_id, coalesce(mk.make_name, '#' || b.make_id) AS make_name, b.model_id,
       coalesce(md.model_name, '#' || b.model_id) AS model_name, v.submodel_id, s.submodel_name AS submodel,
       r.region_name AS region
FROM {V}.vehicle v JOIN {V}.base_vehicle b ON b.base_vehicle_id = v.base_vehicle_id
LEFT JOIN {V}.make mk ON mk.make_id = b.make_id LEFT JOIN {V}.model md ON md.model_id = b.model_id
LEFT JOIN {V}.submodel s ON s.submodel_id = v.submodel_id LEFT JOIN {V}.region r ON r.region_id = v.region_id
WHERE v.vehicle_id = $1"""

CONFIGS_SQL = "WITH v AS (SELECT $1::int AS vehicle_id)\n" + "\nUNION ALL\n".join(
    f"SELECT '{system}' AS system, {i} AS ord, x.* FROM ({_link_cte(system, 'v', '$2')}) x"
    for i, system in enumerate(SYSTEMS)) + "\nORDER BY ord, id"


# ---- endpoints -----------------------------------------------------------------------------------

@endpoint("years", page="/vehicles", api="/years", template="vehicles_years.html", tag="vehicles")
async def years(ctx: Context, p: DrillParams) -> YearsPage:
    """The model years, newest first, with their base vehicles and makes."""
    rows = await ctx.db.fetch(YEARS_SQL, p.deleted)
    return YearsPage(deleted=p.deleted, years=[YearRow(year=r["year_id"], base_vehicles=r["base_vehicles"],
                                                       makes=r["makes"]) for r in rows])


@endpoint("makes", page="/vehicles/{year}", api="/years/{year}/makes", template="vehicles_makes.html",
          tag="vehicles")
async def makes(ctx: Context, p: DrillYearParams) -> MakesPage:
    """The makes of a year, with their models."""
    rows = await ctx.db.fetch(MAKES_SQL, _id(p.year, "year"), p.deleted)
    if not rows:
        raise NotFound(f"there is no vehicle of year {p.year}")
    return MakesPage(year=p.year, deleted=p.deleted, makes=[MakeRow(**dict(r)) for r in rows])


@endpoint("models", page="/vehicles/{year}/{make_id}", api="/years/{year}/makes/{make_id}/models",
          template="vehicles_models.html", tag="vehicles")
async def models(ctx: Context, p: DrillMakeParams) -> ModelsPage:
    """The models of a year and make, with their vehicles."""
    year, make_id = _id(p.year, "year"), _id(p.make_id, "make")
    rows = await ctx.db.fetch(MODELS_SQL, year, make_id, p.deleted)
    if not rows:
        raise NotFound(f"make {make_id} has no vehicle of year {year}")
    make_name = await ctx.db.fetchval(MAKE_NAME_SQL, make_id)
    return ModelsPage(year=year, make_id=make_id, make_name=make_name or f"#{make_id}", deleted=p.deleted,
                      models=[ModelRow(**dict(r)) for r in rows])


def grid_rows(links: list[dict[str, object]]) -> list[GridRow]:
    """Link rows (attribute, vehicle_id, id, label; one per configuration, `_link_cte`) folded into
    one row per vehicle."""
    rows: dict[int, GridRow] = {}
    for link in links:
        vehicle_id, key, label = int(str(link["vehicle_id"])), link["id"], link["label"]
        if link["attribute"] == "vehicle":
            rows[vehicle_id] = GridRow(vehicle_id=vehicle_id, deleted=bool(link["deleted"]),
                                       submodel_id=key if isinstance(key, int) else None,
                                       submodel=str(label) if label is not None else None,
                                       engine=[], transmission=[], body=[], drive=[])
        elif vehicle_id in rows and isinstance(key, int):
            getattr(rows[vehicle_id], str(link["attribute"])).append(Choice(id=key, label=str(label)))
    return list(rows.values())


def _values(row: GridRow, attribute: str) -> dict[int, str]:
    if attribute == "submodel":
        return {row.submodel_id: row.submodel or f"#{row.submodel_id}"} if row.submodel_id is not None else {}
    return {c.id: c.label for c in getattr(row, attribute)}


def matches(row: GridRow, filters: dict[str, int]) -> bool:
    return all(v in _values(row, a) for a, v in filters.items())


def facets(rows: list[GridRow], filters: dict[str, int]) -> list[Facet]:
    """Each attribute that varies among the base vehicle's vehicles, offering the values still possible
    with the other filters (picking a SubModel narrows the engines), counted in vehicles; the value
    chosen stays offered so one can change one's mind."""
    out = []
    for attribute in GRID_ATTRIBUTES:
        if len({k for r in rows for k in _values(r, attribute)}) < 2:
            continue
        others = {a: v for a, v in filters.items() if a != attribute}
        labels: dict[int, str] = {}
        vehicles: dict[int, int] = {}
        for r in rows:
            if matches(r, others):
                for k, label in _values(r, attribute).items():
                    labels.setdefault(k, label)
                    vehicles[k] = vehicles.get(k, 0) + 1
        chosen = filters.get(attribute)
        if chosen is not None and chosen not in vehicles:
            labels[chosen], vehicles[chosen] = next(
                (lbl for r in rows for k, lbl in _values(r, attribute).items() if k == chosen), f"#{chosen}"), 0
        values = [FacetValue(id=k, label=labels[k], vehicles=n) for k, n in vehicles.items()]
        out.append(Facet(attribute=attribute, values=sorted(values, key=lambda f: (f.label.lower(), f.id))))
    return out


@endpoint("base_vehicle", page="/vehicles/{year}/{make_id}/{model_id}",
          api="/years/{year}/makes/{make_id}/models/{model_id}/vehicles", template="vehicles_base_vehicle.html",
          fragment="vehicles_grid.html", tag="vehicles")
async def base_vehicle(ctx: Context, p: DrillModelParams) -> BaseVehiclePage:
    """The vehicles of a year, make and model, one row each with its SubModel, engines, transmissions,
    bodies and drives; filters narrow each other."""
    year, make_id, model_id = _id(p.year, "year"), _id(p.make_id, "make"), _id(p.model_id, "model")
    found = await ctx.db.fetch(BASE_VEHICLES_SQL, year, make_id, model_id, p.deleted)
    ids = [r["base_vehicle_id"] for r in found]
    if not ids:
        what = f"base vehicle of year {year}, make {make_id}, model {model_id}"
        if not p.deleted and await ctx.db.fetch(BASE_VEHICLES_SQL, year, make_id, model_id, True):
            link = ctx.url("base_vehicle", year=year, make_id=make_id, model_id=model_id, query={"deleted": 1})
            raise NotFound(f"the {what} is end-dated (deleted); its deleted version is at {link}", link=link)
        raise NotFound(f"there is no {what}")
    links = [dict(r) for r in await ctx.db.fetch(GRID_SQL, ids, p.deleted)]
    truncated = len(links) > GRID_ROWS_MAX
    everything = grid_rows(links[:GRID_ROWS_MAX])
    filters = {a: getattr(p, a) for a in GRID_ATTRIBUTES if getattr(p, a) is not None}
    chosen = [r for r in everything if matches(r, filters)]
    after = p.after if p.after is not None else -1
    page_rows = [r for r in chosen if r.vehicle_id > after][:GRID_PAGE]
    more = bool(page_rows) and page_rows[-1].vehicle_id < chosen[-1].vehicle_id
    make_name, model_name = found[0]["make_name"], found[0]["model_name"]  # one query fewer per grid
    return BaseVehiclePage(year=year, make_id=make_id, make_name=make_name or f"#{make_id}", model_id=model_id,
                           model_name=model_name or f"#{model_id}", base_vehicle_ids=ids, deleted=p.deleted,
                           vehicles=len(chosen), facets=facets(everything, filters), filters=filters,
                           rows=page_rows, next_after=page_rows[-1].vehicle_id if more else None,
                           truncated=truncated)


@endpoint("vehicle", page="/vehicle/{vehicle_id}", api="/vehicles/{vehicle_id}", template="vehicles_vehicle.html",
          tag="vehicles")
async def vehicle(ctx: Context, p: DrillVehicleParams) -> VehiclePage:
    """A vehicle and every configuration it has."""
    vehicle_id = _id(p.vehicle_id, "vehicle")
    row = await ctx.db.fetchrow(VEHICLE_SQL, vehicle_id)
    if row is None:
        raise NotFound(f"there is no vehicle {vehicle_id}")
    if row["deleted"] and not p.deleted:
        link = ctx.url("vehicle", vehicle_id=vehicle_id, query={"deleted": 1})
        raise NotFound(f"vehicle {vehicle_id} is end-dated (deleted); its deleted version is at {link}", link=link)
    configs = await ctx.db.fetch(CONFIGS_SQL, vehicle_id, p.deleted)
    return VehiclePage(**dict(row), configurations=[
        VehicleConfig(system=c["system"], id=c["id"], label=c["label"], deleted=c["deleted"]) for c in configs])
