"""Secondary indexes on canonical tables: decisions kept beside the generated tables.

The generated tables carry only their keys.  These serve the look-ups that run per loaded row
or per request: the ACES combination check walks Vehicle by base vehicle and each VehicleTo*
link by vehicle (schemas/aces.py), year-range applications expand through BaseVehicle by make,
model and year, and the fitment views find applications by vehicle, by fitment key (overlaps)
and by part.
"""

from __future__ import annotations

from sqlalchemy import Index, Table, func

from schemas import aces, naming, part_numbers


def _index(table: Table, *columns: str) -> Index:
    name = naming.constraint_name("ix", table.name, *columns)
    return Index(name, *(table.c[c] for c in columns))


def declare(canonical: dict[str, dict[str, Table]]) -> list[Index]:
    vcdb, app = canonical["vcdb"], canonical["aces"]["App"]
    out = [_index(vcdb["Vehicle"], "base_vehicle_id"),
           _index(vcdb["BaseVehicle"], "make_id", "model_id", "year_id")]
    for link in sorted({s.link for s in aces.SYSTEMS.values() if s.link}):
        out.append(_index(vcdb[link], "vehicle_id"))
    out += [_index(app, "fitment_key"), _index(app, "brand_aaia_id", "part_number"),
            _index(app, "base_vehicle_id"), _index(app, "make_id", "year_from"),
            _index(app, "part_number")]  # `vcdb fitment vehicles --part` without --brand (migration 0004)
    # Part numbers with case and punctuation removed, for prefix ranges (the explorer's search, migration 0010).
    tables = {("autocare_aces", "app"): app, ("autocare_pies", "item"): canonical["pies"]["Item"]}
    for schema, table, name in part_numbers.INDEXED:
        column = tables[(schema, table)].c.part_number
        key = func.upper(func.regexp_replace(column, part_numbers.PUNCTUATION_SQL, "", "g")).label("normalized")
        out.append(Index(name, key, postgresql_ops={"normalized": "text_pattern_ops"}))
    return out
