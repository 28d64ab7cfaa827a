"""Alembic environment: async engine, URL from settings, the schemas' metadata as the target."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from alembic import context
from schemas.settings import Settings
from schemas.tables import SCHEMAS, metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

url = config.attributes.get("database_url") or Settings().database_url_sqlalchemy
config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    if type_ == "schema":
        return name in SCHEMAS
    return True


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_schemas=True,
        include_name=include_name,
        version_table_schema="public",
        compare_type=True,
        compare_server_default=False,
    )


def do_run_migrations(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


# The role the migrations run as: the one asked for (`vcdb migrate --roles`), else the owner of
# the `ingest` schema when the connecting role may act as it (vcdb/roles.py: a superuser or a
# member), so that what a migration creates belongs to the schemas' owner and the owner's default
# privileges cover it.  Without the roles, the schemas are the connecting role's own: no SET ROLE.
_SCHEMA_OWNER = (
    "SELECT r.rolname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = 'ingest' "
    "AND r.rolname <> current_user AND NOT r.rolsuper AND pg_has_role(current_user, r.oid, 'USAGE')")


async def run_async_migrations() -> None:
    engine = async_engine_from_config(config.get_section(config.config_ini_section, {}),
                                      prefix="sqlalchemy.", poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
        role = config.attributes.get("role") or await connection.scalar(text(_SCHEMA_OWNER))
        if role:
            await connection.execute(text("SELECT set_config('role', :role, false)"), {"role": role})
        await connection.run_sync(do_run_migrations)
        await connection.commit()
    await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=metadata, include_schemas=True, include_name=include_name,
                      literal_binds=True, version_table_schema="public")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
