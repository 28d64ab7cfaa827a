"""`vcdb schema stage --db vcdb`: the DDL with AutoCare's exact, quoted names in `staging_<db>`,
for side-by-side inspection with the canonical schema."""

from __future__ import annotations

from schemas.ddl import ddl_path
from schemas.ddl_parse import executable_statements
from schemas.settings import Settings
from vcdb import exit_codes, services


async def stage(settings: Settings, db: str) -> int:
    schema = f"staging_{db}"
    *_, n = await services.run_sql(settings.database_url, [
        f"DROP SCHEMA IF EXISTS {schema} CASCADE",
        f"CREATE SCHEMA {schema}",
        f"SET LOCAL search_path TO {schema}",
        *executable_statements(ddl_path(db).read_text(), str(ddl_path(db))),
        f"SELECT count(*) FROM information_schema.tables WHERE table_schema = '{schema}'",
    ])
    print(f"staged {n} tables of {db} with AutoCare's names in schema {schema}")
    return exit_codes.OK
