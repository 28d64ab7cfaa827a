"""Fitment look-ups and the ACES/PIES reports: read queries over the loaded data.

Parts for a vehicle and vehicles for a part read the `autocare_fitment` views (migration 0004),
which decide fit with schemas/fitment_sql.py; the reports count `autocare_aces`, `autocare_pies`
and the ingest state (through ledger/: asyncpg lives in ledger/pools.py); rows come back as the
small value types below.  The SQL builders are pure.

An application "fits no vehicle yet" when it is live and in no row of `app_vehicle`: no live
vehicle of its base vehicles has what it names, asked per application with the builder the views
use (schemas/fitment_sql.py), since an anti-join with the view builds every row of it (9 to 14 s
against about 1 s on 100,000 applications, README "Fitment").  The loader lets such applications in when they name no
attribute and no submodel (nothing to be an invalid combination: their base vehicles have no
vehicle yet, or their Years range no base vehicle), when `validate="no"` waives the combination
check, and for equipment; the report says how many of each.

Duplicates (the same application twice in one file) leave no row of their own, since an
application is keyed by its content.  Per file run they are counted as the App records the run
received (ingest.page_receipts: every record once, even when a page was published again) minus
the distinct application keys it left: its rows (those carrying its start as EffectiveDateTime,
not those its FULL replacement ended) and its App dead letters.  A later release that delivers
the same application again, or ends it, takes its row, but writes the row as it was (its
before-image) to the change outbox, where the count finds it; so the figure is exact for every
FULL file run, unless a later run changed App without before-images (loaded in place, or
published before the outbox): then it is an upper bound for the older runs (`exact` false).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ledger import dead_letters, impact, reports
from ledger.dead_letters import DeadLetterFilter
from ledger.errors import InfrastructureError
from schemas import aces, config_labels, fitment_sql, naming
from schemas.catalog import load_catalog

T = TypeVar("T")
VIEWS = "autocare_fitment"
_UNDEFINED = ("42P01", "3F000")  # undefined_table, invalid_schema_name: not migrated to 0004


class Pool(Protocol):
    async def fetch(self, query: str, *args: Any) -> list[Any]: ...


class NotMigrated(RuntimeError):
    """The fitment views (or the ACES/PIES tables) are not there: the database needs `vcdb migrate`."""


@dataclass(frozen=True)
class Vehicle:
    vehicle_id: int | None  # None for a base vehicle
    base_vehicle_id: int
    year: int
    make: str | None
    model: str | None
    submodel: str | None = None


@dataclass(frozen=True)
class FitPart:
    """A live application's part, for a vehicle (or a base vehicle)."""

    app_key: str
    brand: str | None
    part_number: str
    part_type_id: int
    part_type: str | None
    position_id: int | None
    position: str | None
    qty: int | None
    mfr_label: str | None
    qualifiers: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    attributes: dict[str, Any]  # VCdb attributes the application names: which engine etc. it needs
    validate: str
    in_pies: bool
    description: str | None
    image_file_name: str | None
    image_uri: str | None


@dataclass(frozen=True)
class FitVehicle:
    """A vehicle a part fits, with the configurations of it that the application allows."""

    brand: str | None
    part_number: str
    part_type_id: int
    part_type: str | None
    position_id: int | None
    year: int
    make: str | None
    model: str | None
    submodel: str | None
    base_vehicle_id: int
    vehicle_id: int
    region: str | None
    engines: list[str]
    drive_types: list[str]
    transmissions: list[str]
    body_styles: list[str]


@dataclass(frozen=True)
class VehicleConfiguration:
    """One live configuration of a vehicle, labelled (schemas/config_labels.py), with the ACES
    attributes it has: what an application naming some of them asks of the vehicle."""

    system: str  # schemas/aces.SYSTEMS key
    id: int
    label: str
    values: dict[str, Any]  # {"EngineBase": 31, "FuelType": 51, ...}


@dataclass(frozen=True)
class PartPresence:
    """What is known of a part that fits no vehicle: its applications, live and ended."""

    live: int
    ended: int


@dataclass
class AcesReport:
    dead_letters: list[dict[str, Any]] = field(default_factory=list)  # table, reason, status, n, max_attempts
    waiting_on: list[dict[str, Any]] = field(default_factory=list)  # reason, missing_table, n (open)
    brands: list[dict[str, Any]] = field(default_factory=list)  # brand, live, ended, parts, not_in_pies
    duplicates: list[dict[str, Any]] = field(default_factory=list)  # per file run
    overlap_groups: int = 0
    overlap_apps: int = 0
    overlaps: list[dict[str, Any]] = field(default_factory=list)  # a sample of groups
    # live applications in no row of app_vehicle: applications, and of them (one kind each)
    # vcdb_release_ended, naming_nothing, validate_no, equipment, other
    fits_no_vehicle_yet: dict[str, int] = field(default_factory=dict)


@dataclass
class PiesReport:
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    brands: list[dict[str, Any]] = field(default_factory=list)  # brand, live, ended
    tables: list[dict[str, Any]] = field(default_factory=list)  # table, live, ended


# ---- SQL (pure) ----------------------------------------------------------------------------------

_PART_COLUMNS = ("app_key, brand, part_number, part_type_id, part_type, position_id, position, qty, mfr_label, "
                 "qualifiers, notes, attributes, validate, in_pies, description, image_file_name, image_uri")
_PART_ORDER = "part_type NULLS LAST, part_type_id, position NULLS LAST, brand NULLS LAST, part_number, app_key"


def parts_query(*, base_vehicle: bool, part_type: bool) -> str:
    """Parts of live applications that fit vehicle $1 (or name base vehicle $1), of part type $2."""
    conditions = ["p.part_type_id = $2"] if part_type else []
    if base_vehicle:
        # Applications naming the base vehicle, whichever of its vehicles they fit: each application's
        # parts looked up by its key (OFFSET 0 keeps the subquery a parameterised look-up; PostgreSQL 18
        # planned `app_key IN (...)` as a hash semi-join over every application's parts).
        source = (f"(SELECT DISTINCT abv.app_key AS wanted FROM {VIEWS}.app_base_vehicle abv "
                  "WHERE abv.base_vehicle_id = $1) k "
                  f"CROSS JOIN LATERAL (SELECT * FROM {VIEWS}.app_part a WHERE a.app_key = k.wanted OFFSET 0) p")
    else:
        source = f"{VIEWS}.vehicle_part p"
        conditions.insert(0, "p.vehicle_id = $1")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT {_PART_COLUMNS} FROM {source}{where} ORDER BY {_PART_ORDER}"


def vehicles_query(*, brand: bool) -> str:
    """Vehicles that part $1 (of brand $2) fits, one row per vehicle and configuration allowed."""
    where = "part_number = $1" + (" AND brand = $2" if brand else "")
    return ("SELECT DISTINCT brand, part_number, part_type_id, part_type, position_id, year, make, model, submodel, "
            "base_vehicle_id, vehicle_id, region, engines, drive_types, transmissions, body_styles "
            f"FROM {VIEWS}.part_vehicle WHERE {where} "
            "ORDER BY brand NULLS LAST, part_number, make, model, year, submodel NULLS LAST, vehicle_id, "
            "part_type_id, position_id NULLS LAST, engines, drive_types, transmissions, body_styles")


_VEHICLE = ("SELECT v.vehicle_id, b.base_vehicle_id, b.year_id AS year, mk.make_name AS make, md.model_name AS model, "
            "sm.submodel_name AS submodel FROM autocare_vcdb.vehicle v JOIN autocare_vcdb.base_vehicle b "
            "ON b.base_vehicle_id = v.base_vehicle_id LEFT JOIN autocare_vcdb.make mk ON mk.make_id = b.make_id "
            "LEFT JOIN autocare_vcdb.model md ON md.model_id = b.model_id "
            "LEFT JOIN autocare_vcdb.submodel sm ON sm.submodel_id = v.submodel_id WHERE v.vehicle_id = $1")
_BASE_VEHICLE = ("SELECT NULL::int AS vehicle_id, b.base_vehicle_id, b.year_id AS year, mk.make_name AS make, "
                 "md.model_name AS model, NULL::text AS submodel FROM autocare_vcdb.base_vehicle b "
                 "LEFT JOIN autocare_vcdb.make mk ON mk.make_id = b.make_id "
                 "LEFT JOIN autocare_vcdb.model md ON md.model_id = b.model_id WHERE b.base_vehicle_id = $1")


@functools.lru_cache(maxsize=64)
def configurations_query(systems: frozenset[str]) -> str:
    """Vehicle $1's live configurations of the ACES `systems` named: system, id, label, values (jsonb).
    Only the systems asked for: each is a UNION ALL part to plan, and most applications name one or two."""
    selects = []
    for name, system in aces.SYSTEMS.items():
        attributes = [a for a in aces.ATTRIBUTES if a.system == name]
        if name not in systems or system.link is None or not attributes or name not in config_labels.LABELS:
            continue
        source, at = config_labels.from_link(name, "cfg_", whole=True)
        link = at["link"]
        values = ", ".join(f"'{a.element}', {at[a.holder]}.{naming.column_name(a.holder, a.holder_column)}"
                           for a in attributes)
        selects.append(f"SELECT '{name}' AS system, {link}.{config_labels.LABELS[name].column} AS id, "
                       f"{config_labels.label(name, at)} AS label, jsonb_build_object({values}) AS vals {source} "
                       f"WHERE {link}.vehicle_id = $1 AND {link}.end_date_time IS NULL")
    return " UNION ALL ".join(selects) + " ORDER BY 1, 3, 2" if selects else ""


def requirements(attributes: dict[str, Any], submodel: str | None,
                 configurations: list[VehicleConfiguration]) -> list[str]:
    """What an application asks of the vehicle, by the vehicle's own configurations: "engine: 2.0L L4
    GAS" for an application naming EngineBase 31, where one of the vehicle's engines has it."""
    wanted: dict[str, dict[str, Any]] = {}
    for a in aces.ATTRIBUTES:
        if a.element in attributes:
            wanted.setdefault(a.system, {})[a.element] = attributes[a.element]
    out = [f"submodel: {submodel or '#' + str(attributes['SubModel'])}"] if "SubModel" in attributes else []
    for system, values in wanted.items():
        if system == aces.VEHICLE.name:
            out.append(", ".join(f"{k} {v}" for k, v in values.items()))
            continue
        labels = sorted({c.label for c in configurations
                         if c.system == system and all(c.values.get(k) == v for k, v in values.items())})
        named = ", ".join(f"{k} {v}" for k, v in values.items())
        out.append(f"{system.replace('_', ' ')}: {' / '.join(labels) if labels else named}")
    return out


def presence_query(*, brand: bool) -> str:
    where = "part_number = $1" + (" AND brand_aaia_id = $2" if brand else "")
    return ("SELECT count(*) FILTER (WHERE end_date_time IS NULL) AS live, "
            f"count(*) FILTER (WHERE end_date_time IS NOT NULL) AS ended FROM autocare_aces.app WHERE {where}")


_BRANDS = (
    "SELECT a.brand_aaia_id AS brand, count(*) FILTER (WHERE a.end_date_time IS NULL) AS live, "
    "count(*) FILTER (WHERE a.end_date_time IS NOT NULL) AS ended, "
    "count(DISTINCT a.part_number) FILTER (WHERE a.end_date_time IS NULL) AS parts, "
    "count(DISTINCT a.part_number) FILTER (WHERE a.end_date_time IS NULL AND i.part_number IS NULL) AS not_in_pies "
    "FROM autocare_aces.app a LEFT JOIN autocare_pies.item i ON i.brand_aaia_id = a.brand_aaia_id "
    "AND i.part_number = a.part_number AND i.end_date_time IS NULL GROUP BY 1 ORDER BY 1 NULLS FIRST")

# Same brand, same fitment key (vehicle, attributes, qualifiers, part type, position), other parts.
_OVERLAPS = """
SELECT brand, fitment_key, apps, parts, base_vehicle_id, year_from, year_to, make_id, model_id, part_type_id,
       position_id, count(*) OVER () AS groups, sum(apps) OVER () AS grouped_apps
FROM (SELECT brand_aaia_id AS brand, fitment_key, count(*) AS apps,
             array_agg(DISTINCT part_number ORDER BY part_number) AS parts, min(base_vehicle_id) AS base_vehicle_id,
             min(year_from) AS year_from, min(year_to) AS year_to, min(make_id) AS make_id, min(model_id) AS model_id,
             min(part_type_id) AS part_type_id, min(position_id) AS position_id
      FROM autocare_aces.app WHERE end_date_time IS NULL GROUP BY brand_aaia_id, fitment_key
      HAVING count(DISTINCT part_number) > 1) g
ORDER BY apps DESC, brand NULLS FIRST, fitment_key LIMIT $1
"""

# Live applications in no row of app_vehicle (module docstring), by why they fit nothing (one
# kind each: a VCdb release ended every vehicle they fitted ($1: the keys whose newest fitment
# impact is lost_all, ledger/impact.py) first, then equipment, naming nothing, validate="no"; "other"
# passed the combination check on a vehicle that is no longer live, ended by no recorded release).
_FITS_NO_VEHICLE = f"""
SELECT count(*) AS applications,
       count(*) FILTER (WHERE ended_by_release) AS vcdb_release_ended,
       count(*) FILTER (WHERE NOT ended_by_release AND NOT equipment AND NOT names) AS naming_nothing,
       count(*) FILTER (WHERE NOT ended_by_release AND NOT equipment AND names AND waived) AS validate_no,
       count(*) FILTER (WHERE NOT ended_by_release AND equipment) AS equipment,
       count(*) FILTER (WHERE NOT ended_by_release AND NOT equipment AND names AND NOT waived) AS other
FROM (SELECT a.equipment_base_id IS NOT NULL OR a.equipment_model_id IS NOT NULL AS equipment,
             {fitment_sql.names_any('a')} AS names, lower(coalesce(a.validate, 'yes')) = 'no' AS waived,
             a.app_key = ANY($1::text[]) AS ended_by_release
      FROM autocare_aces.app a
      WHERE a.end_date_time IS NULL AND NOT {fitment_sql.any_vehicle_matches('a', live=True)}) u
"""

_PIES_BRANDS = (
    "SELECT brand_aaia_id AS brand, count(*) FILTER (WHERE end_date_time IS NULL) AS live, "
    "count(*) FILTER (WHERE end_date_time IS NOT NULL) AS ended FROM autocare_pies.item GROUP BY 1 ORDER BY 1")


def table_counts_query(db: str) -> str:
    """Rows in force and ended, per table of a database (one statement)."""
    schema = naming.schema_name(db)
    parts = [f"SELECT '{t.name}' AS table_name, count(*) FILTER (WHERE end_date_time IS NULL) AS live, "
             f"count(*) FILTER (WHERE end_date_time IS NOT NULL) AS ended FROM \"{schema}\".\"{t.canonical}\""
             for t in load_catalog(db).tables.values()]
    return " UNION ALL ".join(parts)


# ---- reads ---------------------------------------------------------------------------------------

async def _reading(read: Awaitable[T]) -> T:
    """A read's errors, sorted: the connection's, and a database that is not migrated."""
    try:
        return await read
    except OSError as e:
        raise InfrastructureError(f"PostgreSQL: connection lost: {e}", unreachable=True) from e
    except Exception as e:
        if getattr(e, "sqlstate", None) in _UNDEFINED:
            raise NotMigrated(f"{e}: the database is not migrated to the fitment views (run `vcdb migrate`)") from e
        raise


async def _fetch(pool: Pool, sql: str, *args: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in await _reading(pool.fetch(sql, *args))]


def _json(value: Any, empty: Any) -> Any:
    if value is None:
        return empty
    return json.loads(value) if isinstance(value, str) else value


def _fit_part(r: dict[str, Any]) -> FitPart:
    r["qualifiers"] = _json(r["qualifiers"], [])
    r["notes"] = _json(r["notes"], [])
    r["attributes"] = _json(r["attributes"], {})
    return FitPart(**r)


_A_VEHICLE_WITH_PARTS = f"SELECT f.vehicle_id FROM {VIEWS}.app_vehicle f LIMIT 1"


async def a_vehicle_with_parts(pool: Pool) -> int | None:
    """A vehicle some live application fits (the demo's and the start page's first stop), or None:
    the first the view yields, so the planner stops at it."""
    rows = await _fetch(pool, _A_VEHICLE_WITH_PARTS)
    return int(rows[0]["vehicle_id"]) if rows else None


async def vehicle(pool: Pool, vehicle_id: int) -> Vehicle | None:
    rows = await _fetch(pool, _VEHICLE, vehicle_id)
    return Vehicle(**rows[0]) if rows else None


async def base_vehicle(pool: Pool, base_vehicle_id: int) -> Vehicle | None:
    rows = await _fetch(pool, _BASE_VEHICLE, base_vehicle_id)
    return Vehicle(**rows[0]) if rows else None


async def parts_for_vehicle(pool: Pool, vehicle_id: int, part_type_id: int | None = None) -> list[FitPart]:
    args = (vehicle_id,) if part_type_id is None else (vehicle_id, part_type_id)
    sql = parts_query(base_vehicle=False, part_type=part_type_id is not None)
    return [_fit_part(r) for r in await _fetch(pool, sql, *args)]


async def parts_for_base_vehicle(pool: Pool, base_vehicle_id: int, part_type_id: int | None = None) -> list[FitPart]:
    args = (base_vehicle_id,) if part_type_id is None else (base_vehicle_id, part_type_id)
    sql = parts_query(base_vehicle=True, part_type=part_type_id is not None)
    return [_fit_part(r) for r in await _fetch(pool, sql, *args)]


async def vehicles_for_part(pool: Pool, part_number: str, brand: str | None = None) -> list[FitVehicle]:
    args = (part_number,) if brand is None else (part_number, brand)
    rows = await _fetch(pool, vehicles_query(brand=brand is not None), *args)
    return [FitVehicle(**{**r, **{k: list(r[k]) for k in ("engines", "drive_types", "transmissions", "body_styles")}})
            for r in rows]


def named_systems(attributes: Iterable[dict[str, Any]]) -> frozenset[str]:
    """The ACES systems whose attributes any of these applications' attribute maps name."""
    elements = {k for a in attributes for k in a}
    return frozenset(a.system for a in aces.ATTRIBUTES if a.element in elements)


async def vehicle_configurations(pool: Pool, vehicle_id: int, systems: frozenset[str]) -> list[VehicleConfiguration]:
    sql = configurations_query(systems)
    if not sql:
        return []
    rows = await _fetch(pool, sql, vehicle_id)
    return [VehicleConfiguration(r["system"], r["id"], r["label"], _json(r["vals"], {})) for r in rows]


async def part_presence(pool: Pool, part_number: str, brand: str | None = None) -> PartPresence:
    args = (part_number,) if brand is None else (part_number, brand)
    row = (await _fetch(pool, presence_query(brand=brand is not None), *args))[0]
    return PartPresence(row["live"], row["ended"])


async def _dead_letters(pool: Any, db: str) -> list[dict[str, Any]]:
    try:
        return await dead_letters.counts(pool, DeadLetterFilter(db))
    except OSError as e:
        raise InfrastructureError(f"PostgreSQL: connection lost: {e}", unreachable=True) from e


async def aces_report(pool: Any, sample: int = 10) -> AcesReport:
    report = AcesReport(dead_letters=await _dead_letters(pool, "aces"),
                        waiting_on=await _reading(dead_letters.waiting_counts(pool, "aces")),
                        brands=await _fetch(pool, _BRANDS), duplicates=[])
    report.duplicates = [duplicates(r) for r in await _reading(reports.file_duplicates(pool))]
    overlaps = await _fetch(pool, _OVERLAPS, sample)
    if overlaps:
        report.overlap_groups = overlaps[0]["groups"]
        report.overlap_apps = int(overlaps[0]["grouped_apps"])
    hidden = ("groups", "grouped_apps")
    report.overlaps = [{k: (list(v) if k == "parts" else v) for k, v in r.items() if k not in hidden} for r in overlaps]
    ended = await _reading(impact.ended_by_release(pool))
    report.fits_no_vehicle_yet = {k: int(v) for k, v in (await _fetch(pool, _FITS_NO_VEHICLE, ended))[0].items()}
    return report


def duplicates(r: dict[str, Any]) -> dict[str, Any]:
    """A file run's duplicates from its records and the keys it left, and how far to trust them."""
    full = (r["submission_type"] or "").upper() == "FULL"
    note = None
    if not r["traced"]:
        note = "at most: a later run changed App without before-images (loaded in place, or before the outbox)"
    elif r["submission_type"] is None:
        note = "at most: the file's header row was replaced by a later load of the same file"
    elif not full:
        note = "at most: in an UPDATE file a D and an A of one application (a change) count here too"
    return {"run_id": r["run_id"], "file_name": r["file_name"], "submission_type": r["submission_type"],
            "received": r["received"], "distinct_apps": r["distinct_apps"],
            "duplicates": r["received"] - r["distinct_apps"], "exact": note is None, "note": note}


async def pies_report(pool: Any) -> PiesReport:
    return PiesReport(dead_letters=await _dead_letters(pool, "pies"), brands=await _fetch(pool, _PIES_BRANDS),
                      tables=await _fetch(pool, table_counts_query("pies")))
