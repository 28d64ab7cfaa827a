"""Fitment views: applications to vehicles, vehicles to parts, parts to vehicles

Schema `autocare_fitment` (not in schemas/tables.SCHEMAS, so `alembic check` does not compare
it), plain views over autocare_aces, autocare_vcdb, autocare_pcdb, autocare_qdb, autocare_pies:

  app_base_vehicle(app_key, base_vehicle_id)   live applications expanded to base vehicles
  app_vehicle(app_key, vehicle_id)             ... and to the VCdb vehicles they fit
  app_part                                     the product side of a live application
  vehicle_part                                 per vehicle: the parts that fit it
  part_vehicle                                 per part: the vehicles it fits, configured

Which base vehicles an application names and which vehicles have its attributes is decided by
schemas/fitment_sql.py (`base_vehicles`, `vehicle_matches`), the builder the loader's
invalid-combination rule uses; nothing here restates it.  The views only add a way in for the
planner: base vehicle and application are joined on keys that `base_vehicles` implies (the
base vehicle id, or the make and the first year of a Years range), so "parts for vehicle V"
walks vehicle -> base vehicle -> app by index and "vehicles for part P" app -> base vehicle ->
vehicle, never a scan of either.  `validate="no"` applications are not set apart: the waiver is
about loading, not about which vehicle has which engine.

The SQL is built from schemas/ at upgrade time: when fitment_sql or the vocabulary changes, a
later migration re-creates the views (CREATE OR REPLACE VIEW) with the new text.  Adds the
look-up index of applications by part number alone (`vcdb fitment vehicles --part` without
--brand), declared in schemas/indexes.py.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 01:10:00.000000
"""
from collections.abc import Sequence

from alembic import op
from schemas import aces, config_labels, fitment_sql, naming

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "autocare_fitment"
q = fitment_sql.q


def _t(db: str, table: str) -> str:
    return f"{q(naming.schema_name(db))}.{q(naming.table_name(table))}"


def _c(table: str, column: str) -> str:
    return q(naming.column_name(table, column))


def _app(column: str) -> str:
    return f"a.{_c('App', column)}"


# Applications x the base vehicles they name (alias b).  The ON clause is the index's way in;
# `base_vehicles(a)` decides.
_APP_BASE_VEHICLE = (
    f"{_t('vcdb', 'BaseVehicle')} b JOIN {_t('aces', 'App')} a ON ({_app('BaseVehicleID')} = b.base_vehicle_id "
    f"OR ({_app('BaseVehicleID')} IS NULL AND {_app('MakeID')} = b.make_id AND {_app('YearFrom')} <= b.year_id "
    f"AND {_app('YearTo')} >= b.year_id))")
_LIVE_BASE_VEHICLE = (f"{_app('EndDateTime')} IS NULL "
                      f"AND b.base_vehicle_id IN ({fitment_sql.base_vehicles('a')})")
# ... and the live VCdb vehicles of those base vehicles that have every attribute (alias v).
_APP_VEHICLE = (f"{_APP_BASE_VEHICLE} JOIN {_t('vcdb', 'Vehicle')} v ON v.base_vehicle_id = b.base_vehicle_id "
                "AND v.end_date_time IS NULL")
_LIVE_VEHICLE = f"{_LIVE_BASE_VEHICLE} AND {fitment_sql.vehicle_matches('a', 'v')}"


def _qualifiers() -> str:
    """[{id, text}] in delivered order; the text as delivered, else the Qdb qualifier's."""
    qual = _t("qdb", "Qualifier")
    return (f"(SELECT jsonb_agg(jsonb_build_object('id', x.q -> 'id', 'text', coalesce(x.q ->> 'text', "
            f"qq.qualifier_text)) ORDER BY x.n) FROM jsonb_array_elements(coalesce({_app('Qualifiers')}, '[]')::jsonb) "
            f"WITH ORDINALITY AS x(q, n) LEFT JOIN {qual} qq ON qq.qualifier_id = "
            r"CASE WHEN x.q ->> 'id' ~ '^\d{1,9}$' THEN (x.q ->> 'id')::int END)")


def _attributes() -> str:
    """The VCdb attributes the application names, {"EngineBase": 12, ...}: on a vehicle that has
    several engines (or transmissions...), the one the part needs."""
    pairs = [("SubModel", _app("SubModelID"))] + [(a.element, _app(a.column)) for a in aces.ATTRIBUTES]
    args = ", ".join(f"'{element}', {column}" for element, column in pairs)
    return f"jsonb_strip_nulls(jsonb_build_object({args}))"


# The product side of application `a`: PCdb names, qualifiers, notes, and the PIES item's
# description (DES, else the first) and primary image (asset type P04, else the first).
_PART_COLUMNS = (
    f"a.app_key, {_app('BrandAAIAID')} AS brand, {_app('PartNumber')} AS part_number, "
    f"{_app('PartTypeID')} AS part_type_id, pt.part_terminology_name AS part_type, "
    f"{_app('PositionID')} AS position_id, ps.position, {_app('Qty')} AS qty, {_app('MfrLabel')} AS mfr_label, "
    f"{_qualifiers()} AS qualifiers, {_app('Notes')}::jsonb AS notes, {_attributes()} AS attributes, "
    f"{_app('Validate')} AS validate, i.part_number IS NOT NULL AS in_pies, d.description, "
    "img.file_name AS image_file_name, img.uri AS image_uri")
_PART_JOINS = (
    f"LEFT JOIN {_t('pcdb', 'Parts')} pt ON pt.part_terminology_id = {_app('PartTypeID')} "
    f"LEFT JOIN {_t('pcdb', 'Positions')} ps ON ps.position_id = {_app('PositionID')} "
    f"LEFT JOIN {_t('pies', 'Item')} i ON i.brand_aaia_id = {_app('BrandAAIAID')} "
    f"AND i.part_number = {_app('PartNumber')} AND i.end_date_time IS NULL "
    f"LEFT JOIN LATERAL (SELECT x.description FROM {_t('pies', 'ItemDescription')} x "
    "WHERE x.brand_aaia_id = i.brand_aaia_id AND x.part_number = i.part_number AND x.end_date_time IS NULL "
    "ORDER BY x.description_code = 'DES' DESC, x.language_code = 'EN' DESC, x.description_code, x.sequence, "
    "x.language_code LIMIT 1) d ON true "
    f"LEFT JOIN LATERAL (SELECT x.file_name, x.uri FROM {_t('pies', 'ItemDigitalAsset')} x "
    "WHERE x.brand_aaia_id = i.brand_aaia_id AND x.part_number = i.part_number AND x.end_date_time IS NULL "
    "ORDER BY x.asset_type = 'P04' DESC, x.asset_type, x.file_name LIMIT 1) img ON true")

_VEHICLE_COLUMNS = ("b.year_id AS year, b.make_id, mk.make_name AS make, b.model_id, md.model_name AS model, "
                    "v.submodel_id, sm.submodel_name AS submodel, b.base_vehicle_id, v.vehicle_id")
_VEHICLE_JOINS = (f"LEFT JOIN {_t('vcdb', 'Make')} mk ON mk.make_id = b.make_id "
                  f"LEFT JOIN {_t('vcdb', 'Model')} md ON md.model_id = b.model_id "
                  f"LEFT JOIN {_t('vcdb', 'SubModel')} sm ON sm.submodel_id = v.submodel_id")


def _configuration(system: str) -> str:
    """The vehicle's configs of one system that the application allows (those with every
    attribute it names of that system), as labels: the chain of schemas/aces.SYSTEMS, then the
    name tables and the label of schemas/config_labels.py (the explorer's pages use the same)."""
    s = aces.SYSTEMS[system]
    assert s.link is not None
    alias = {t: f"c_{naming.table_name(t)}" for t in s.tables}
    chain = f"{_t('vcdb', s.link)} {alias[s.link]}" + "".join(
        f" JOIN {_t('vcdb', j.table)} {alias[j.table]} ON {alias[j.table]}.{_c(j.table, j.column)} = "
        f"{alias[j.previous]}.{_c(j.previous, j.previous_column)}" for j in s.joins)
    at = {"link": alias[s.link], **alias}
    names = config_labels.lookups(system, at)
    allowed = "".join(f" AND ({_app(a.column)} IS NULL OR {alias[a.holder]}.{_c(a.holder, a.holder_column)} = "
                      f"{_app(a.column)})" for a in aces.ATTRIBUTES if a.system == system)
    return (f"ARRAY(SELECT DISTINCT {config_labels.label(system, at)} FROM {chain}{names} "
            f"WHERE {alias[s.link]}.vehicle_id = v.vehicle_id{allowed} ORDER BY 1)")


def _configurations() -> str:
    return (f"{_configuration('engine')} AS engines, {_configuration('drive')} AS drive_types, "
            f"{_configuration('transmission')} AS transmissions, {_configuration('body_style')} AS body_styles")


VIEWS: dict[str, str] = {
    "app_base_vehicle": f"SELECT a.app_key, b.base_vehicle_id FROM {_APP_BASE_VEHICLE} WHERE {_LIVE_BASE_VEHICLE}",
    "app_vehicle": f"SELECT a.app_key, v.vehicle_id FROM {_APP_VEHICLE} WHERE {_LIVE_VEHICLE}",
    "app_part": f"SELECT {_PART_COLUMNS} FROM {_t('aces', 'App')} a {_PART_JOINS} WHERE {_app('EndDateTime')} IS NULL",
    "vehicle_part": (f"SELECT {_VEHICLE_COLUMNS}, {_PART_COLUMNS} FROM {_APP_VEHICLE} {_VEHICLE_JOINS} {_PART_JOINS} "
                     f"WHERE {_LIVE_VEHICLE}"),
    "part_vehicle": (f"SELECT {_app('BrandAAIAID')} AS brand, {_app('PartNumber')} AS part_number, a.app_key, "
                     f"{_app('PartTypeID')} AS part_type_id, pt.part_terminology_name AS part_type, "
                     f"{_app('PositionID')} AS position_id, {_VEHICLE_COLUMNS}, rg.region_name AS region, "
                     f"{_configurations()} FROM {_APP_VEHICLE} {_VEHICLE_JOINS} "
                     f"LEFT JOIN {_t('vcdb', 'Region')} rg ON rg.region_id = v.region_id "
                     f"LEFT JOIN {_t('pcdb', 'Parts')} pt ON pt.part_terminology_id = {_app('PartTypeID')} "
                     f"WHERE {_LIVE_VEHICLE}"),
}
COMMENTS: dict[str, str] = {
    "app_base_vehicle": "live ACES applications x the base vehicles they name (Years ranges expanded)",
    "app_vehicle": "live ACES applications x the VCdb vehicles they fit (base vehicle and every attribute)",
    "app_part": "live ACES applications: part, PCdb part type and position, qualifiers, notes, PIES description "
                "and primary image",
    "vehicle_part": "per VCdb vehicle: the parts of live applications that fit it",
    "part_vehicle": "per part (brand, part_number): the VCdb vehicles it fits, with the configurations allowed",
}


def upgrade() -> None:
    op.create_index('ix_app_part_number', 'app', ['part_number'], unique=False, schema='autocare_aces')
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    for name, sql in VIEWS.items():
        op.execute(f"CREATE OR REPLACE VIEW {SCHEMA}.{name} AS {sql}")
        op.execute(f"COMMENT ON VIEW {SCHEMA}.{name} IS '{COMMENTS[name]}'")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {SCHEMA}.{name}")
    op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA}")
    op.drop_index('ix_app_part_number', table_name='app', schema='autocare_aces')
