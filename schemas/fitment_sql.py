"""SQL of "this vehicle has every attribute of this application" (pure: strings only).

One builder for the two places that ask it: the loader's invalid-combination rule (is there ANY
VCdb vehicle of the application's base vehicles that satisfies it?) and the fitment views (WHICH
vehicles does it fit?).  Both read the vocabulary in schemas/aces.py: each attribute the App
names must be on the vehicle's row chain of its system (one engine config has both the engine
base and the fuel type), and a system the App does not name constrains nothing.
"""

from __future__ import annotations

from schemas import aces, naming

VCDB = naming.schema_name("vcdb")


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(name: str) -> str:
    return f"{q(VCDB)}.{q(naming.table_name(name))}"


def _col(table: str, column: str) -> str:
    return q(naming.column_name(table, column))


def _app(app: str, column: str) -> str:
    return f"{app}.{_col('App', column)}"


def base_vehicles(app: str) -> str:
    """A subquery of the base vehicle ids the application names: its BaseVehicle, or every
    BaseVehicle of its Years range and Make (and Model, or VehicleType)."""
    bv = _table("BaseVehicle")
    model = _table("Model")
    return (f"SELECT {_app(app, 'BaseVehicleID')} WHERE {_app(app, 'BaseVehicleID')} IS NOT NULL "
            f"UNION ALL SELECT b.base_vehicle_id FROM {bv} b WHERE {_app(app, 'BaseVehicleID')} IS NULL "
            f"AND b.make_id = {_app(app, 'MakeID')} "
            f"AND b.year_id BETWEEN {_app(app, 'YearFrom')} AND {_app(app, 'YearTo')} "
            f"AND ({_app(app, 'ModelID')} IS NULL OR b.model_id = {_app(app, 'ModelID')}) "
            f"AND ({_app(app, 'VehicleTypeID')} IS NULL OR b.model_id IN (SELECT m.model_id FROM {model} m "
            f"WHERE m.vehicle_type_id = {_app(app, 'VehicleTypeID')}))")


def _system_match(system: aces.System, attrs: list[aces.VehicleAttribute], app: str, vehicle: str) -> str:
    none = " AND ".join(f"{_app(app, a.column)} IS NULL" for a in attrs)
    conds = [f"({_app(app, a.column)} IS NULL OR {_alias(a.holder)}.{_col(a.holder, a.holder_column)} = "
             f"{_app(app, a.column)})" for a in attrs]
    if system.link is None:  # the Vehicle row itself
        conds = [c.replace(f"{_alias('Vehicle')}.", f"{vehicle}.") for c in conds]
        return f"({' AND '.join(conds)})"
    link = system.link
    # LEFT: a config row missing from its table constrains only the attributes it would hold.
    joins = "".join(f" LEFT JOIN {_table(j.table)} {_alias(j.table)} ON {_alias(j.table)}.{_col(j.table, j.column)} = "
                    f"{_alias(j.previous)}.{_col(j.previous, j.previous_column)}" for j in system.joins)
    exists = (f"EXISTS (SELECT 1 FROM {_table(link)} {_alias(link)}{joins} WHERE "
              f"{_alias(link)}.vehicle_id = {vehicle}.vehicle_id AND {' AND '.join(conds)})")
    return f"({none} OR {exists})"


def _alias(table: str) -> str:
    return "x_" + naming.table_name(table)


def vehicle_matches(app: str, vehicle: str) -> str:
    """A boolean over App alias `app` and VCdb Vehicle alias `vehicle`: the vehicle has the
    App's submodel (if named) and every attribute it names.  The base vehicle is not checked
    here (join on `base_vehicles`)."""
    parts = [f"({_app(app, 'SubModelID')} IS NULL OR {vehicle}.submodel_id = {_app(app, 'SubModelID')})"]
    for system in aces.SYSTEMS.values():
        attrs = [a for a in aces.ATTRIBUTES if a.system == system.name]
        if attrs:
            parts.append(_system_match(system, attrs, app, vehicle))
    return " AND ".join(parts)


def names_any(app: str) -> str:
    """A boolean: the App names a SubModel or an attribute (aces.NARROWING_COLUMNS), something
    `vehicle_matches` holds a vehicle to.  An App naming nothing fits every vehicle of its base
    vehicles: with none yet it fits none, and that is no invalid combination."""
    return "(" + " OR ".join(f"{_app(app, c)} IS NOT NULL" for c in aces.NARROWING_COLUMNS) + ")"


def vehicles(app: str, *, live: bool = True) -> str:
    """A subquery of the VCdb vehicle ids (bigint) of the App's base vehicles that have all its
    attributes: with `live` (the default), those not ended, the App's rows of the fitment views'
    `app_vehicle`, asked per App (the fitment impact of a VCdb release, ledger/impact.py)."""
    ended = " AND v.end_date_time IS NULL" if live else ""
    return (f"SELECT v.vehicle_id::bigint FROM ({base_vehicles(app)}) bvs(base_vehicle_id) JOIN {_table('Vehicle')} v "
            f"ON v.base_vehicle_id = bvs.base_vehicle_id{ended} WHERE {vehicle_matches(app, 'v')}")


def any_vehicle_matches(app: str, *, live: bool = False) -> str:
    """A boolean: some VCdb vehicle of the App's base vehicles has all its attributes.  With
    `live`, a vehicle not ended: the App has a row in the fitment views' `app_vehicle` (asked per
    App, this stops at the first vehicle; NOT EXISTS against the view builds all of it)."""
    return f"EXISTS ({vehicles(app, live=live)})"
