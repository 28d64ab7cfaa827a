"""The explorer's drill-down: a small materialised view of base vehicles by year and make

`autocare_fitment.explorer_year_make` (year_id, make_id, base_vehicles, base_vehicles_live, models,
models_live): one row per year and make that has a base vehicle, live (end_date_time unset) and
all; a few thousand rows at VCdb size.  It answers the years list (no loose index scan needed) and
the makes of a year (its unique index (year_id, make_id)) in well under a millisecond.  The other
levels walk the indexes schemas/indexes.py already declares: base_vehicle (make_id, model_id,
year_id), vehicle (base_vehicle_id), each vehicle_to_* (vehicle_id).

It lives in `autocare_fitment` (not compared by `alembic check`, and already granted to the reader
and the ingest role by `vcdb migrate --roles`) so that no index on a canonical table is added
here without being declared in schemas/indexes.py.

`autocare_fitment.refresh_explorer()` refreshes it (CONCURRENTLY: readers are not blocked).  It is
SECURITY DEFINER, owned by the role the migrations run as (the schemas' owner), because only an
MV's owner may refresh it and the ingest role that seals a run owns nothing.  Call it when a VCdb
run seals: `SELECT autocare_fitment.refresh_explorer()`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:45:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "autocare_fitment"
MV = f"{SCHEMA}.explorer_year_make"

MV_SQL = """
SELECT b.year_id, b.make_id,
       count(*)::int AS base_vehicles,
       (count(*) FILTER (WHERE b.end_date_time IS NULL))::int AS base_vehicles_live,
       count(DISTINCT b.model_id)::int AS models,
       (count(DISTINCT b.model_id) FILTER (WHERE b.end_date_time IS NULL))::int AS models_live
FROM autocare_vcdb.base_vehicle b
GROUP BY b.year_id, b.make_id
"""


# Per year, for the years page (a scan of explorer_year_make per request cost ~7 ms at scale 1.0).
YEARS = f"{SCHEMA}.explorer_year"
YEARS_SQL = """
SELECT b.year_id,
       count(*)::int AS base_vehicles,
       (count(*) FILTER (WHERE b.end_date_time IS NULL))::int AS base_vehicles_live,
       count(DISTINCT b.make_id)::int AS makes,
       (count(DISTINCT b.make_id) FILTER (WHERE b.end_date_time IS NULL))::int AS makes_live
FROM autocare_vcdb.base_vehicle b
GROUP BY b.year_id
"""

# Per live make and model pair, for the search box: the names lower-cased with only letters and digits
# ("f150" finds "F-150"), computed once here instead of per request, and the years it has.
NAMES = f"{SCHEMA}.explorer_make_model"
NAMES_SQL = """
SELECT b.make_id, b.model_id, mk.make_name, md.model_name,
       regexp_replace(lower(coalesce(mk.make_name, '')), '[^[:alnum:]]', '', 'g') || ' ' ||
       regexp_replace(lower(coalesce(md.model_name, '')), '[^[:alnum:]]', '', 'g') AS words,
       array_agg(DISTINCT b.year_id ORDER BY b.year_id) AS years
FROM autocare_vcdb.base_vehicle b
LEFT JOIN autocare_vcdb.make mk ON mk.make_id = b.make_id
LEFT JOIN autocare_vcdb.model md ON md.model_id = b.model_id
WHERE b.end_date_time IS NULL
GROUP BY b.make_id, b.model_id, mk.make_name, md.model_name
"""

# The make and model names as searched, one row per name (the simulator pairs makes and models almost
# freely, so explorer_make_model has nearly a row per base vehicle: matching words here first, on a few
# thousand short names, then the pairs by index is what keeps the search under 10 ms).
WORDS = f"{SCHEMA}.explorer_words"
WORDS_SQL = """
SELECT 'make'::text AS kind, make_id AS id, regexp_replace(lower(make_name), '[^[:alnum:]]', '', 'g') AS words
FROM autocare_vcdb.make
UNION ALL
SELECT 'model', model_id, regexp_replace(lower(model_name), '[^[:alnum:]]', '', 'g') FROM autocare_vcdb.model
"""


def upgrade() -> None:
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    op.execute(f"CREATE MATERIALIZED VIEW {MV} AS {MV_SQL} WITH DATA")
    op.execute(f"CREATE MATERIALIZED VIEW {YEARS} AS {YEARS_SQL} WITH DATA")
    op.execute(f"CREATE UNIQUE INDEX explorer_year_year ON {YEARS} (year_id)")
    op.execute(f"CREATE MATERIALIZED VIEW {NAMES} AS {NAMES_SQL} WITH DATA")
    op.execute(f"CREATE UNIQUE INDEX explorer_make_model_ids ON {NAMES} (make_id, model_id)")
    op.execute(f"CREATE INDEX explorer_make_model_model ON {NAMES} (model_id)")
    op.execute(f"CREATE MATERIALIZED VIEW {WORDS} AS {WORDS_SQL} WITH DATA")
    op.execute(f"CREATE UNIQUE INDEX explorer_words_kind_id ON {WORDS} (kind, id)")
    op.execute(f"COMMENT ON MATERIALIZED VIEW {YEARS} IS 'base vehicles and makes per year (the explorer)'")
    op.execute(f"COMMENT ON MATERIALIZED VIEW {NAMES} IS 'live make/model pairs, their names as searched and "
               f"their years (the explorer''s search)'")
    op.execute(f"COMMENT ON MATERIALIZED VIEW {MV} IS 'base vehicles and models by year and make, live and all "
               f"(the explorer); refreshed by {SCHEMA}.refresh_explorer() when a run seals'")
    # Unique, without WHERE and on plain columns: what REFRESH ... CONCURRENTLY needs.
    op.execute(f"CREATE UNIQUE INDEX explorer_year_make_year_make ON {MV} (year_id, make_id)")
    op.execute(f"""
CREATE FUNCTION {SCHEMA}.refresh_explorer() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  REFRESH MATERIALIZED VIEW CONCURRENTLY {MV};
  REFRESH MATERIALIZED VIEW CONCURRENTLY {YEARS};
  REFRESH MATERIALIZED VIEW CONCURRENTLY {NAMES};
  REFRESH MATERIALIZED VIEW CONCURRENTLY {WORDS};
END $$""")
    op.execute(f"COMMENT ON FUNCTION {SCHEMA}.refresh_explorer() IS "
               f"'refreshes the explorer''s materialised views; call when a run seals'")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SCHEMA}.refresh_explorer()")
    op.execute(f"DROP MATERIALIZED VIEW IF EXISTS {WORDS}")
    op.execute(f"DROP MATERIALIZED VIEW IF EXISTS {NAMES}")
    op.execute(f"DROP MATERIALIZED VIEW IF EXISTS {YEARS}")
    op.execute(f"DROP MATERIALIZED VIEW IF EXISTS {MV}")
