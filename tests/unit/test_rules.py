"""The loader's rules as SQL (pure strings): which applications the invalid-combination rule judges."""

from __future__ import annotations

import re

from consumers import rules
from schemas import aces, fitment_sql, naming
from schemas.catalog import load_catalog
from streams.dead_letters import REASON_INVALID_COMBINATION


def _app_columns(sql: str, alias: str) -> set[str]:
    return set(re.findall(rf'(?<![\w.]){alias}\."(\w+)"', sql))


def test_naming_something_reads_the_columns_a_vehicle_is_held_to() -> None:
    """"Names nothing" and "which vehicles it fits" read the same App columns: a column the match
    reads but `names_any` did not would let an application naming it skip the rule."""
    matched = _app_columns(fitment_sql.vehicle_matches("a", "v"), "a")
    assert _app_columns(fitment_sql.names_any("a"), "a") == matched
    assert len(matched) == len(aces.NARROWING_COLUMNS) == len(aces.ATTRIBUTES) + 1
    assert {naming.column_name("App", c) for c in ("SubModelID", "RegionID", "EngineBaseID")} <= matched
    assert not matched & {naming.column_name("App", c) for c in aces.VEHICLE_CONTENT if c != "SubModelID"}


def test_the_invalid_combination_rule_judges_only_applications_that_name_something() -> None:
    app = load_catalog("aces").tables["App"]
    (rule,) = [r for r in rules.rules_for(app) if r.reason == REASON_INVALID_COMBINATION]
    assert rule.verdict.startswith("CASE WHEN lower(coalesce(s.validate, 'yes')) <> 'no' AND ")
    assert rule.verdict.endswith(
        f" AND {fitment_sql.names_any('s')} AND NOT {fitment_sql.any_vehicle_matches('s')} THEN '' END")
    assert rule.depends_on == "vcdb.Vehicle"
