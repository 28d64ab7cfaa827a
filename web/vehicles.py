"""The vehicle drill-down: Year -> Make -> Model -> the base vehicle's vehicles (a grid of SubModel x
engine x transmission x body x drive, filtered by the attributes that vary) -> one vehicle with
every configuration it has.

End-dated rows (end_date_time set: VCdb deletes are soft) are hidden unless `deleted=1`.  The years
and the makes of a year read `autocare_fitment.explorer_year` and `explorer_year_make` (migration 0007, refreshed by
`autocare_fitment.refresh_explorer()` when a run seals); the rest read the canonical tables by the
indexes of schemas/indexes.py.  Every value reaches SQL as a parameter.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

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


class GridRow(BaseModel):
    vehicle_id: int
    deleted: bool
    submodel_id: int | None
    submodel: str | None
    engine_id: int | None
    engine: str | None
    transmission_id: int | None
    transmission: str | None
    body_id: int | None
    body: str | None
    drive_id: int | None
    drive: str | None


class BaseVehiclePage(BaseModel):
    year: int
    make_id: int
    make_name: str
    model_id: int
    model_name: str
    base_vehicle_ids: list[int]
    deleted: bool
    vehicles: int  # distinct vehicles matching the filters
    facets: list[Facet]  # only the attributes that take more than one value
    filters: dict[str, int]  # the filters applied
    rows: list[GridRow]
    next_after: int | None  # the `after` of the next page, if any
    truncated: bool  # more than GRID_ROWS_MAX combinations: only the first are shown


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
SELECT base_vehicle_id FROM {V}.base_vehicle
WHERE make_id = $2 AND model_id = $3 AND year_id = $1 AND ($4 OR end_date_time IS NULL) ORDER BY 1"""

ENGINE_LABEL = """concat_ws(' ', eb.liter || 'L', eb.block_type || eb.cylinders, ft.fuel_type_name,
                            asp.aspiration_name)"""
ENGINE_JOINS = f"""
LEFT JOIN {V}.engine_config2 ec ON ec.engine_config_id = l.engine_config_id
LEFT JOIN {V}.engine_base eb ON eb.engine_base_id = ec.engine_base_id
LEFT JOIN {V}.fuel_type ft ON ft.fuel_type_id = ec.fuel_type_id
LEFT JOIN {V}.aspiration asp ON asp.aspiration_id = ec.aspiration_id"""
TRANSMISSION_LABEL = """concat_ws(' ', tct.transmission_control_type_name,
                                  tns.transmission_num_speeds || '-speed', tt.transmission_type_name)"""
TRANSMISSION_JOINS = f"""
LEFT JOIN {V}.transmission tr ON tr.transmission_id = l.transmission_id
LEFT JOIN {V}.transmission_base tb ON tb.transmission_base_id = tr.transmission_base_id
LEFT JOIN {V}.transmission_type tt ON tt.transmission_type_id = tb.transmission_type_id
LEFT JOIN {V}.transmission_num_speeds tns ON tns.transmission_num_speeds_id = tb.transmission_num_speeds_id
LEFT JOIN {V}.transmission_control_type tct ON tct.transmission_control_type_id = tb.transmission_control_type_id"""
BODY_LABEL = "concat_ws(' ', bnd.body_num_doors || '-door', bt.body_type_name)"
BODY_JOINS = f"""
LEFT JOIN {V}.body_style_config bsc ON bsc.body_style_config_id = l.body_style_config_id
LEFT JOIN {V}.body_num_doors bnd ON bnd.body_num_doors_id = bsc.body_num_doors_id
LEFT JOIN {V}.body_type bt ON bt.body_type_id = bsc.body_type_id"""
DRIVE_LABEL = "dt.drive_type_name"
DRIVE_JOINS = f"LEFT JOIN {V}.drive_type dt ON dt.drive_type_id = l.drive_type_id"

# (system, link table, id column, label, joins): one configuration of a vehicle per link row.
CONFIG_PARTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("engine", "vehicle_to_engine_config", "engine_config_id", ENGINE_LABEL, ENGINE_JOINS),
    ("transmission", "vehicle_to_transmission", "transmission_id", TRANSMISSION_LABEL, TRANSMISSION_JOINS),
    ("body", "vehicle_to_body_style_config", "body_style_config_id", BODY_LABEL, BODY_JOINS),
    ("drive", "vehicle_to_drive_type", "drive_type_id", DRIVE_LABEL, DRIVE_JOINS),
    ("brakes", "vehicle_to_brake_config", "brake_config_id",
     "concat_ws(' ', 'front ' || fb.brake_type_name, 'rear ' || rb.brake_type_name, bs.brake_system_name, "
     "ba.brake_abs_name)",
     f"""LEFT JOIN {V}.brake_config bc ON bc.brake_config_id = l.brake_config_id
LEFT JOIN {V}.brake_type fb ON fb.brake_type_id = bc.front_brake_type_id
LEFT JOIN {V}.brake_type rb ON rb.brake_type_id = bc.rear_brake_type_id
LEFT JOIN {V}.brake_system bs ON bs.brake_system_id = bc.brake_system_id
LEFT JOIN {V}.brake_abs ba ON ba.brake_abs_id = bc.brake_abs_id"""),
    ("steering", "vehicle_to_steering_config", "steering_config_id",
     "concat_ws(' ', st.steering_type_name, ss.steering_system_name)",
     f"""LEFT JOIN {V}.steering_config sc ON sc.steering_config_id = l.steering_config_id
LEFT JOIN {V}.steering_type st ON st.steering_type_id = sc.steering_type_id
LEFT JOIN {V}.steering_system ss ON ss.steering_system_id = sc.steering_system_id"""),
    ("springs", "vehicle_to_spring_type_config", "spring_type_config_id",
     "concat_ws(' ', 'front ' || fs.spring_type_name, 'rear ' || rs.spring_type_name)",
     f"""LEFT JOIN {V}.spring_type_config spc ON spc.spring_type_config_id = l.spring_type_config_id
LEFT JOIN {V}.spring_type fs ON fs.spring_type_id = spc.front_spring_type_id
LEFT JOIN {V}.spring_type rs ON rs.spring_type_id = spc.rear_spring_type_id"""),
    ("wheel_base", "vehicle_to_wheel_base", "wheel_base_id",
     "concat_ws(' ', wb.wheel_base || ' in', '(' || wb.wheel_base_metric || ' mm)')",
     f"LEFT JOIN {V}.wheel_base wb ON wb.wheel_base_id = l.wheel_base_id"),
    ("bed", "vehicle_to_bed_config", "bed_config_id",
     "concat_ws(' ', bl.bed_length || ' in', bdt.bed_type_name)",
     f"""LEFT JOIN {V}.bed_config bdc ON bdc.bed_config_id = l.bed_config_id
LEFT JOIN {V}.bed_length bl ON bl.bed_length_id = bdc.bed_length_id
LEFT JOIN {V}.bed_type bdt ON bdt.bed_type_id = bdc.bed_type_id"""),
    ("class", "vehicle_to_class", "class_id", "cl.class_name",
     f"LEFT JOIN {V}.class cl ON cl.class_id = l.class_id"),
    ("mfr_body_code", "vehicle_to_mfr_body_code", "mfr_body_code_id", "mbc.mfr_body_code_name",
     f"LEFT JOIN {V}.mfr_body_code mbc ON mbc.mfr_body_code_id = l.mfr_body_code_id"),
)
_PARTS = {p[0]: p for p in CONFIG_PARTS}


def _link_cte(system: str, vehicles: str, deleted: str) -> str:
    """The links of `system` for the vehicles in CTE `vehicles`: vehicle_id, id, label, deleted."""
    _, table, column, label, joins = _PARTS[system]
    return (f"SELECT l.vehicle_id, l.{column} AS id, coalesce(nullif({label}, ''), '#' || l.{column}) AS label, "
            f"l.end_date_time IS NOT NULL AS deleted FROM {V}.{table} l {joins} "
            f"WHERE l.vehicle_id IN (SELECT vehicle_id FROM {vehicles}) AND ({deleted} OR l.end_date_time IS NULL)")


# Each link CTE MATERIALIZED: four small join problems to plan, not one of twenty-odd tables
# (planning the inlined form took ~6 ms, executing it under 1 ms).
GRID_SQL = f"""
WITH v AS (
  SELECT v.vehicle_id, v.submodel_id, s.submodel_name,
         (b.end_date_time IS NOT NULL OR v.end_date_time IS NOT NULL) AS deleted
  FROM {V}.base_vehicle b JOIN {V}.vehicle v ON v.base_vehicle_id = b.base_vehicle_id
  LEFT JOIN {V}.submodel s ON s.submodel_id = v.submodel_id
  WHERE b.base_vehicle_id = ANY($1::int[]) AND ($2 OR (b.end_date_time IS NULL AND v.end_date_time IS NULL))
), e AS MATERIALIZED ({_link_cte("engine", "v", "$2")}),
t AS MATERIALIZED ({_link_cte("transmission", "v", "$2")}),
bo AS MATERIALIZED ({_link_cte("body", "v", "$2")}),
d AS MATERIALIZED ({_link_cte("drive", "v", "$2")})
SELECT v.vehicle_id, v.deleted, v.submodel_id, v.submodel_name AS submodel,
       e.id AS engine_id, e.label AS engine, t.id AS transmission_id, t.label AS transmission,
       bo.id AS body_id, bo.label AS body, d.id AS drive_id, d.label AS drive
FROM v LEFT JOIN e ON e.vehicle_id = v.vehicle_id LEFT JOIN t ON t.vehicle_id = v.vehicle_id
LEFT JOIN bo ON bo.vehicle_id = v.vehicle_id LEFT JOIN d ON d.vehicle_id = v.vehicle_id
ORDER BY v.vehicle_id, e.id, t.id, bo.id, d.id
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


def _facets(rows: list[GridRow]) -> list[Facet]:
    out = []
    for attribute in GRID_ATTRIBUTES:
        labels: dict[int, str] = {}
        vehicles: dict[int, set[int]] = {}
        for r in rows:
            key = getattr(r, f"{attribute}_id")
            if key is not None:
                labels.setdefault(key, getattr(r, attribute) or f"#{key}")
                vehicles.setdefault(key, set()).add(r.vehicle_id)
        if len(vehicles) > 1:
            values = [FacetValue(id=k, label=labels[k], vehicles=len(v)) for k, v in vehicles.items()]
            out.append(Facet(attribute=attribute, values=sorted(values, key=lambda f: (f.label.lower(), f.id))))
    return out


@endpoint("base_vehicle", page="/vehicles/{year}/{make_id}/{model_id}",
          api="/years/{year}/makes/{make_id}/models/{model_id}/vehicles", template="vehicles_base_vehicle.html",
          fragment="vehicles_grid.html", tag="vehicles")
async def base_vehicle(ctx: Context, p: DrillModelParams) -> BaseVehiclePage:
    """The vehicles of a year, make and model: SubModel x engine x transmission x body x drive."""
    year, make_id, model_id = _id(p.year, "year"), _id(p.make_id, "make"), _id(p.model_id, "model")
    ids = [r["base_vehicle_id"] for r in await ctx.db.fetch(BASE_VEHICLES_SQL, year, make_id, model_id, p.deleted)]
    if not ids:
        raise NotFound(f"there is no base vehicle of year {year}, make {make_id}, model {model_id}")
    fetched = [GridRow(**dict(r)) for r in await ctx.db.fetch(GRID_SQL, ids, p.deleted)]
    truncated = len(fetched) > GRID_ROWS_MAX
    everything = fetched[:GRID_ROWS_MAX]
    filters = {a: getattr(p, a) for a in GRID_ATTRIBUTES if getattr(p, a) is not None}
    chosen = [r for r in everything if all(getattr(r, f"{a}_id") == v for a, v in filters.items())]
    vehicles = sorted({r.vehicle_id for r in chosen})
    after = p.after if p.after is not None else -1
    page_ids = [v for v in vehicles if v > after][:GRID_PAGE]
    shown = set(page_ids)
    more = bool(page_ids) and page_ids[-1] < vehicles[-1]
    make_name = await ctx.db.fetchval(MAKE_NAME_SQL, make_id)
    model_name = await ctx.db.fetchval(MODEL_NAME_SQL, model_id)
    return BaseVehiclePage(year=year, make_id=make_id, make_name=make_name or f"#{make_id}", model_id=model_id,
                           model_name=model_name or f"#{model_id}", base_vehicle_ids=ids, deleted=p.deleted,
                           vehicles=len(vehicles), facets=_facets(everything), filters=filters,
                           rows=[r for r in chosen if r.vehicle_id in shown],
                           next_after=page_ids[-1] if more else None, truncated=truncated)


@endpoint("vehicle", page="/vehicle/{vehicle_id}", api="/vehicles/{vehicle_id}", template="vehicles_vehicle.html",
          tag="vehicles")
async def vehicle(ctx: Context, p: DrillVehicleParams) -> VehiclePage:
    """A vehicle and every configuration it has."""
    vehicle_id = _id(p.vehicle_id, "vehicle")
    row = await ctx.db.fetchrow(VEHICLE_SQL, vehicle_id)
    if row is None:
        raise NotFound(f"there is no vehicle {vehicle_id}")
    if row["deleted"] and not p.deleted:
        raise NotFound(f"vehicle {vehicle_id} is end-dated (deleted); add deleted=1 to see it")
    configs = await ctx.db.fetch(CONFIGS_SQL, vehicle_id, p.deleted)
    return VehiclePage(**dict(row), configurations=[
        VehicleConfig(system=c["system"], id=c["id"], label=c["label"], deleted=c["deleted"]) for c in configs])
