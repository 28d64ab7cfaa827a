"""The fitment impact's pure parts: the candidates and the record read the fit from the one builder
(schemas/fitment_sql.py) and reach every staged VCdb table that can change a fit; `vcdb aces
impact`'s totals, messages and renderings."""

from __future__ import annotations

import datetime as dt

from ledger import impact
from ledger.impact import Impacted, ReleaseImpact
from ledger.statuses import ImpactStatus
from schemas import aces, fitment_sql, naming
from vcdb import aces_impact


def test_the_fit_before_and_after_is_the_builders() -> None:
    fits = f"ARRAY({fitment_sql.vehicles('a')} ORDER BY 1)"
    assert fits in impact.candidates_sql() and fits in impact.record_sql()
    assert "v.end_date_time IS NULL" in fitment_sql.vehicles("a")  # live vehicles only, as app_vehicle
    assert fitment_sql.any_vehicle_matches("a", live=True) == f"EXISTS ({fitment_sql.vehicles('a')})"


def test_candidates_come_from_every_staged_table_that_can_change_a_fit() -> None:
    sql = impact.candidates_sql()
    staged = naming.staged_schema_name("vcdb")
    tables = {"Vehicle", "BaseVehicle", "Model"} | {t for s in aces.SYSTEMS.values() if s.link for t in s.tables}
    for t in tables:
        assert f'"{staged}"."{naming.table_name(t)}" s' in sql, t
    assert sql.count('s."ingest_run_id" = $1') >= len(tables)
    assert "a.\"end_date_time\" IS NULL" in sql  # live applications only


def test_the_record_writes_the_impact_and_the_outbox_once_per_changed_application() -> None:
    sql = " ".join(impact.record_sql().split())
    assert "FROM fits f WHERE before <> after" in sql
    assert "INSERT INTO ingest.fitment_impact" in sql and "INSERT INTO ingest.changes" in sql
    assert "SELECT $1, 'fitment', 'application', 'u', jsonb_build_array(app_key)" in sql
    assert "ARRAY['vehicle_ids'] FROM changed" in sql
    for s in ImpactStatus:
        assert f"'{s}'" in sql


def _app(status: ImpactStatus, lost: tuple[int, ...] = (), gained: tuple[int, ...] = (), fits: int = 1,
         part: str = "P-1") -> Impacted:
    return Impacted(f"k-{part}", "IMPB", part, status, lost, gained, fits)


def _release(*apps: Impacted, status: str = "published", publication: str = "staged") -> ReleaseImpact:
    return ReleaseImpact(7, "vcdb", 12, "incremental", status, publication, dt.datetime(2026, 3, 1), apps)


def test_totals_name_every_status() -> None:
    apps = (_app(ImpactStatus.LOST_ALL, (1, 2), fits=0), _app(ImpactStatus.GAINED, gained=(3,)),
            _app(ImpactStatus.GAINED, gained=(4,)))
    assert aces_impact.totals(apps) == {"lost_all": 1, "lost_some": 0, "gained": 2, "changed": 0}
    assert aces_impact.totals(()) == dict.fromkeys(("lost_all", "lost_some", "gained", "changed"), 0)


def test_a_release_without_impact_says_why() -> None:
    assert aces_impact.no_impact(_release(), None) == "release 7 (VCdb incremental, run 12) changed no fitment"
    assert aces_impact.no_impact(_release(), "ZZZZ").endswith("changed no fitment of brand ZZZZ")
    assert "loaded in place" in (aces_impact.no_impact(_release(publication="in_place"), None) or "")
    assert "is discarded" in (aces_impact.no_impact(_release(status="discarded"), None) or "")
    assert aces_impact.no_impact(_release(_app(ImpactStatus.GAINED, gained=(1,))), None) is None
    assert not _release(publication="in_place").recorded and _release().recorded


def test_render_flags_lost_all_and_shortens_long_id_lists() -> None:
    many = tuple(range(100, 130))
    text = aces_impact.render(_release(_app(ImpactStatus.LOST_ALL, many, fits=0, part="A"),
                                       _app(ImpactStatus.CHANGED, (5,), (6,), fits=3, part="B")))
    assert "release 7 (VCdb incremental, run 12): 2 application(s) whose fitted vehicles changed" in text
    assert "  1 lost_all, 0 lost_some, 0 gained, 1 changed" in text
    assert "  lost_all  IMPB A (app k-A): fits 0 vehicle(s)  LOST ALL: fits no vehicle now" in text
    assert "      lost: 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, ... (30 in all)" in text
    assert "  changed   IMPB B (app k-B): fits 3 vehicle(s)\n      lost: 5\n      gained: 6" in text


def test_json_lists_every_id() -> None:
    doc = aces_impact.as_json(_release(_app(ImpactStatus.LOST_SOME, tuple(range(40)), fits=2)), "IMPB")
    (a,) = doc["applications"]
    assert a["lost"] == list(range(40)) and a["status"] == "lost_some" and not a["lost_all"]
    assert (doc["release"], doc["run_id"], doc["brand"], doc["message"]) == (7, 12, "IMPB", None)
