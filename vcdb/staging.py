"""`vcdb schema stage --db vcdb`: the DDL with AutoCare's exact, quoted names in `staging_<db>`,
for side-by-side inspection with the canonical schema."""

from __future__ import annotations

import asyncpg

from schemas.ddl import ddl_path
from schemas.settings import Settings
from vcdb import exit_codes


async def stage(settings: Settings, db: str) -> int:
    schema = f"staging_{db}"
    conn = await asyncpg.connect(settings.database_url)
    try:
        async with conn.transaction():
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            await conn.execute(f"CREATE SCHEMA {schema}")
            await conn.execute(f"SET LOCAL search_path TO {schema}")
            await conn.execute(ddl_path(db).read_text())
        n = await conn.fetchval("SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema)
    finally:
        await conn.close()
    print(f"staged {n} tables of {db} with AutoCare's names in schema {schema}")
    return exit_codes.OK
