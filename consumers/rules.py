"""Validation rules beyond foreign keys, for the tables of ACES and PIES files (pure: SQL strings).

A rule is a set-based check over a batch's staging rows (alias `s`), run after the FK checks:
the rows it flags are dead-lettered with its reason instead of loading.  Each rule names the
reference table its verdict depends on (`depends_on`, kept as the dead letter's missing table):
when that table seals in a later run (a VCdb incremental bringing the vehicle), the dead
letters waiting on it are replayed, and those that now pass load by themselves.

  App   invalid_combination    the App names a SubModel or a VCdb attribute, and no VCdb vehicle
                               of its base vehicles (its BaseVehicle, or every one of its Years
                               range) has them all at once (schemas/fitment_sql.py); waived for
                               validate="no".  An App naming neither (BaseVehicle or Years/Make/
                               Model alone) loads even while no vehicle has its base vehicles: it
                               fits none yet, which `vcdb aces report` counts
        missing_parent         a Qual id that is not a Qdb Qualifier (the key it waits on)
        qualifier_param_count  a Qual whose <param> count differs from the <pN> placeholders
                               in the Qdb qualifier's text
  Item* unknown_pies_code      a code value (description, price type, asset type, EXPI) that
                               the PCdb PIES code tables do not define
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas import aces, fitment_sql, naming
from schemas.catalog import Table
from streams.dead_letters import (
    REASON_INVALID_COMBINATION,
    REASON_MISSING_PARENT,
    REASON_QUALIFIER_PARAMS,
    REASON_UNKNOWN_PIES_CODE,
)


@dataclass(frozen=True)
class Rule:
    reason: str
    verdict: str  # SQL over staging alias `s`: NULL when the row passes, else the missing key ('' if none)
    message: str
    depends_on: str  # "<db>.<Table>" whose change may make the row pass

    def failure_message(self, table: Table, key: str | None) -> str:
        return f"{table.name}: {self.message}" + (f" (missing {self.depends_on} {key})" if key else "")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ref(db: str, table: str) -> str:
    return f"{_q(naming.schema_name(db))}.{_q(naming.table_name(table))}"


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN '' END"


def _qualifiers(alias: str) -> str:
    return f"jsonb_array_elements(coalesce({alias}.qualifiers, '[]')::jsonb)"


def _app_rules() -> tuple[Rule, ...]:
    qualifier = _ref("qdb", "Qualifier")
    unknown_qualifier = (
        f"(SELECT jsonb_build_array((j.value->>'id')::int)::text FROM {_qualifiers('s')} j WHERE NOT EXISTS "
        f"(SELECT 1 FROM {qualifier} x WHERE x.qualifier_id = (j.value->>'id')::int) LIMIT 1)")
    placeholders = "(SELECT count(*) FROM regexp_matches(coalesce(x.qualifier_text, ''), '<p[0-9]+', 'g'))"
    params = "jsonb_array_length(coalesce(j.value->'params', '[]'::jsonb))"
    wrong_params = (f"EXISTS (SELECT 1 FROM {_qualifiers('s')} j JOIN {qualifier} x ON x.qualifier_id = "
                    f"(j.value->>'id')::int WHERE {placeholders} <> {params})")
    validated = ("lower(coalesce(s.validate, 'yes')) <> 'no' AND s.equipment_base_id IS NULL "
                 "AND s.equipment_model_id IS NULL")
    return (
        Rule(REASON_MISSING_PARENT, unknown_qualifier, "a <Qual> id is not a Qdb qualifier", "qdb.Qualifier"),
        Rule(REASON_QUALIFIER_PARAMS, _flag(wrong_params),
             "a <Qual> has another number of <param> than its Qdb qualifier text has placeholders",
             "qdb.Qualifier"),
        # An App naming nothing narrows nothing: whatever vehicles its base vehicles have, it fits them.
        Rule(REASON_INVALID_COMBINATION,
             _flag(f"{validated} AND {fitment_sql.names_any('s')} AND NOT {fitment_sql.any_vehicle_matches('s')}"),
             "invalid combination: no VCdb vehicle of its base vehicle(s) has the submodel and every attribute "
             "it names", "vcdb.Vehicle"),
    )


def _code_rule(column: str, db_table: str, code_column: str, what: str) -> Rule:
    ref = _ref("pcdb", db_table)
    missing = f"s.{_q(column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {ref} c WHERE c.{_q(code_column)} = " \
              f"s.{_q(column)})"
    return Rule(REASON_UNKNOWN_PIES_CODE, _flag(missing), f"{what} is not a code of PCdb {db_table}",
                f"pcdb.{db_table}")


_RULES: dict[tuple[str, str], tuple[Rule, ...]] = {
    ("aces", "App"): _app_rules(),
    ("pies", "ItemDescription"): (_code_rule("description_code", "PIESCode", "code_value", "DescriptionCode"),),
    ("pies", "ItemPrice"): (_code_rule("price_type", "PIESCode", "code_value", "PriceType"),),
    ("pies", "ItemDigitalAsset"): (_code_rule("asset_type", "PIESCode", "code_value", "AssetType"),),
    ("pies", "ItemExtendedInfo"): (_code_rule("expi_code", "PIESExpiCode", "expi_code", "EXPICode"),),
}


def rules_for(table: Table) -> tuple[Rule, ...]:
    return _RULES.get((table.db, table.name), ())


def replayed_on_seal(db: str, table: str) -> list[str]:
    """The `depends_on` values whose dead letters may pass once `db.table` has sealed new rows:
    the table itself, and for the VCdb tables the combination check reads, `vcdb.Vehicle`."""
    out = [f"{db}.{table}"]
    if db == "vcdb" and table in aces.COMBINATION_TABLES and table != "Vehicle":
        out.append("vcdb.Vehicle")
    return out
