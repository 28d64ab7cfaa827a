"""Least privilege (`vcdb migrate --roles`), against the real PostgreSQL and broker: the ingest role
loads, replays and verifies, and cannot drop, truncate, create or alter; the reader reads and
cannot write; what a later migration adds is covered by the default privileges.

Roles are cluster-wide: each test makes its own names and drops them at the end (local server:
trust authentication, so the roles log in without their passwords)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from consumers.store import LoadStore
from tests.integration.pipeline import base_vehicle, consume_until_idle, execute, fetch, lookups, publish, vehicle
from tests.support import settings_for
from vcdb import roles, services

OURS = ("autocare_vcdb", "autocare_pcdb", "autocare_padb", "autocare_qdb", "autocare_aces", "autocare_pies",
        "ingest", "autocare_fitment")


def as_role(url: str, role: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.rpartition('@')[2]}"))


class Cluster:
    """A fresh database and three role names of its own; dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        tag = uuid.uuid4().hex[:8]
        self.admin_url = admin_url
        self.name = f"vcdb_roles_{tag}"
        self.owner, self.ingest, self.reader = (f"vt_{kind}_{tag}" for kind in ("owner", "ingest", "reader"))
        self.url = asyncio.run(services.create_database(admin_url, self.name, drop_first=True))

    def env(self, url: str | None = None, **extra: str) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": url or self.url, "VCDB_OWNER_ROLE": self.owner,
                "VCDB_INGEST_ROLE": self.ingest, "VCDB_READER_ROLE": self.reader, **extra}

    def vcdb(self, *args: str, url: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "vcdb", *args], env=self.env(url, **extra),
                              capture_output=True, text=True, timeout=180, check=False)

    def role_url(self, role: str) -> str:
        return as_role(self.url, role)

    def drop(self) -> None:
        asyncio.run(services.drop_database(self.admin_url, self.name))
        asyncio.run(execute(self.admin_url, "; ".join(f'DROP ROLE IF EXISTS "{r}"'
                                                      for r in (self.ingest, self.reader, self.owner))))


@pytest.fixture
def cluster(pg_admin_url: str) -> Iterator[Cluster]:
    c = Cluster(pg_admin_url)
    try:
        yield c
    finally:
        c.drop()


async def refused(url: str, sql: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    except asyncpg.InsufficientPrivilegeError as e:
        return str(e)
    finally:
        await conn.close()
    raise AssertionError(f"allowed: {sql}")


def test_the_ingest_role_loads_replays_and_verifies_and_cannot_drop(cluster: Cluster, kafka: str) -> None:
    made = cluster.vcdb("migrate", "--roles", VCDB_INGEST_PASSWORD="ingest-pw-123")
    assert made.returncode == 0, made.stderr
    assert f"migrated up to head as {cluster.owner}" in made.stdout
    assert "ingest-pw-123" not in made.stdout + made.stderr
    again = cluster.vcdb("migrate", "--roles")  # idempotent
    assert again.returncode == 0, again.stderr

    # Everything is the owner's: schemas, tables, views, and Alembic's version table.
    others = asyncio.run(fetch(cluster.url, """
        SELECT n.nspname, c.relname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE (n.nspname = ANY($1::text[]) OR (n.nspname, c.relname) = ('public', 'alembic_version'))
          AND c.relkind IN ('r', 'v', 'S') AND pg_get_userbyid(c.relowner) <> $2
        UNION ALL SELECT nspname, '', pg_get_userbyid(nspowner) FROM pg_namespace
        WHERE nspname = ANY($1::text[]) AND pg_get_userbyid(nspowner) <> $2""", list(OURS), cluster.owner))
    assert [tuple(r) for r in others] == []
    stored = asyncio.run(fetch(cluster.admin_url, "SELECT rolname, rolpassword, rolsuper, rolcreaterole, "
                               "rolcreatedb FROM pg_authid WHERE rolname = ANY($1::text[]) ORDER BY 1",
                               [cluster.owner, cluster.ingest, cluster.reader]))
    assert all(not (r["rolsuper"] or r["rolcreaterole"] or r["rolcreatedb"]) for r in stored)
    passwords = {r["rolname"]: r["rolpassword"] for r in stored}
    assert passwords[cluster.ingest].startswith("SCRAM-SHA-256$4096:") and passwords[cluster.owner] is None

    # The pipeline, as the ingest role: a baseline with FK'd tables, a dead letter, a replay, verify.
    ingest_url = cluster.role_url(cluster.ingest)
    asyncio.run(execute(cluster.url, "ALTER TABLE autocare_vcdb.make ADD CONSTRAINT no_bad CHECK (make_name <> 'BAD')"))
    settings = settings_for(ingest_url, kafka)
    records = lookups()
    records["Make"].append({"MakeID": 3, "MakeName": "BAD"})
    records |= {"BaseVehicle": [base_vehicle(b) for b in (1, 2)], "Vehicle": [vehicle(v, v % 2 + 1) for v in (1, 2, 3)]}

    async def load() -> tuple[bool, int]:
        store = await LoadStore.connect(ingest_url, "probe", size=1)
        try:
            skips = store.skip_fk_triggers
        finally:
            await store.close()
        await publish(settings, records)
        result = await consume_until_idle(settings)
        return skips, result.loaded

    skips, loaded = asyncio.run(load())
    assert skips is False  # the ingest role may not set session_replication_role: FK triggers run
    assert loaded == sum(len(v) for v in records.values()) - 1
    asyncio.run(execute(cluster.url, "ALTER TABLE autocare_vcdb.make DROP CONSTRAINT no_bad"))  # the fix
    replay = cluster.vcdb("dlq", "replay", "--json", url=ingest_url, KAFKA_BOOTSTRAP_SERVERS=kafka)
    assert replay.returncode == 0, replay.stderr
    assert len(json.loads(replay.stdout)["loaded"]) == 1
    verify = cluster.vcdb("verify", "--json", url=ingest_url, KAFKA_BOOTSTRAP_SERVERS=kafka)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    vehicles = asyncio.run(fetch(ingest_url, "SELECT count(*) AS n FROM autocare_vcdb.vehicle"))
    assert vehicles[0]["n"] == 3

    # What the ingest role may not do.
    for sql in ("DROP TABLE autocare_vcdb.vehicle", "TRUNCATE autocare_vcdb.vehicle",
                "CREATE TABLE autocare_vcdb.intruder (i int)", "CREATE TABLE ingest.intruder (i int)",
                "CREATE TABLE public.intruder (i int)", "ALTER TABLE autocare_vcdb.make ADD COLUMN intruder int",
                "ALTER TABLE autocare_vcdb.vehicle DISABLE TRIGGER ALL", "CREATE SCHEMA intruder",
                "DROP SCHEMA autocare_vcdb CASCADE", "SET session_replication_role = replica",
                "CREATE INDEX intruder ON autocare_vcdb.make (make_name)",
                "UPDATE public.alembic_version SET version_num = '0001'"):
        assert asyncio.run(refused(ingest_url, sql))
    # On every relation of ours: DML where it writes, SELECT only on the views, never TRUNCATE.
    rights = asyncio.run(fetch(ingest_url, """
        SELECT n.nspname, c.relkind::text AS relkind, bool_and(has_table_privilege(c.oid, 'SELECT')) AS s,
               bool_and(has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE')) AS dml_all,
               bool_or(has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE')) AS dml_any,
               bool_or(has_table_privilege(c.oid, 'TRUNCATE, REFERENCES, TRIGGER')) AS ddl_any
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'v') GROUP BY 1, 2 ORDER BY 1""", list(OURS)))
    assert {(r["nspname"], r["relkind"]): (r["s"], r["dml_all"], r["dml_any"], r["ddl_any"]) for r in rights} == {
        **{(s, "r"): (True, True, True, False) for s in OURS if s != "autocare_fitment"},
        ("autocare_fitment", "v"): (True, False, False, False)}
    # ... and what it needs besides its DML: temporary tables (the loader's staging), the views.
    asyncio.run(execute(ingest_url, "CREATE TEMP TABLE staging_probe (i int); "
                                    "SELECT count(*) FROM autocare_fitment.vehicle_part"))

    # The reader reads, and writes nothing.
    reader_url = cluster.role_url(cluster.reader)
    n = asyncio.run(fetch(reader_url, "SELECT (SELECT count(*) FROM autocare_vcdb.make) AS makes, "
                                      "(SELECT count(*) FROM ingest.runs) AS runs, "
                                      "(SELECT count(*) FROM autocare_fitment.part_vehicle) AS fits"))[0]
    assert (n["makes"], n["runs"]) == (3, 1)
    for sql in ("INSERT INTO autocare_vcdb.make (make_id, make_name, ingest_run_id) VALUES (9, 'X', 0)",
                "UPDATE autocare_vcdb.make SET make_name = 'X'", "DELETE FROM ingest.dead_letters",
                "TRUNCATE autocare_vcdb.make", "CREATE TABLE autocare_vcdb.intruder (i int)"):
        assert asyncio.run(refused(reader_url, sql))

    # A table a later migration adds (as the owner) is covered by the default privileges.
    owner_url = cluster.role_url(cluster.owner)
    asyncio.run(execute(owner_url, "CREATE TABLE autocare_vcdb.added_later (added_later_id int PRIMARY KEY)"))
    asyncio.run(execute(ingest_url, "INSERT INTO autocare_vcdb.added_later VALUES (1)"))
    assert asyncio.run(fetch(reader_url, "SELECT added_later_id FROM autocare_vcdb.added_later"))[0][0] == 1
    assert asyncio.run(refused(ingest_url, "DROP TABLE autocare_vcdb.added_later"))
    assert asyncio.run(refused(reader_url, "DELETE FROM autocare_vcdb.added_later"))


def test_roles_on_a_database_migrated_before_them(cluster: Cluster) -> None:
    """An existing deployment: migrated by the admin, then `--roles` hands everything to the
    owner; a later plain `vcdb migrate` by the admin runs as the owner."""
    from schemas.settings import sqlalchemy_url
    from vcdb import migrations

    migrations.upgrade(sqlalchemy_url(cluster.url), "0004")
    made = cluster.vcdb("migrate", "--roles", "--revision", "0004")
    assert made.returncode == 0, made.stderr
    later = cluster.vcdb("migrate")  # the rest, by the admin's connection
    assert later.returncode == 0, later.stderr
    owners = asyncio.run(fetch(cluster.url, "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c "
                               "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1::text[]) "
                               "AND c.relkind IN ('r', 'v', 'S')", list(OURS)))
    assert [r[0] for r in owners] == [cluster.owner]
    version = asyncio.run(fetch(cluster.url, "SELECT version_num FROM public.alembic_version"))
    assert [r[0] for r in version] == [migrations.head()]
    asyncio.run(execute(cluster.role_url(cluster.ingest),
                        "INSERT INTO autocare_vcdb.year (year_id, ingest_run_id) VALUES (2030, 0)"))


def test_the_roles_sql_prints_without_running(cluster: Cluster) -> None:
    printed = cluster.vcdb("migrate", "--roles", "--print", VCDB_READER_PASSWORD="reader-pw-456")
    assert printed.returncode == 0, printed.stderr
    assert f'CREATE ROLE "{cluster.reader}"' in printed.stdout and "reader-pw-456" not in printed.stdout
    assert f"GRANT CONNECT, TEMPORARY ON DATABASE \"{cluster.name}\" TO \"{cluster.ingest}\"" in printed.stdout
    exists = asyncio.run(fetch(cluster.admin_url, "SELECT count(*) FROM pg_roles WHERE rolname = $1", cluster.reader))
    assert exists[0][0] == 0


def test_our_scram_verifier_is_postgresqls(pg_admin_url: str) -> None:
    """PostgreSQL computes the verifier of a password; ours, with its salt, is the same string."""
    name = f"vt_scram_{uuid.uuid4().hex[:8]}"

    async def stored() -> str:
        conn = await asyncpg.connect(pg_admin_url)
        try:
            await conn.execute("SET password_encryption = 'scram-sha-256'")
            await conn.execute(f"CREATE ROLE {name} PASSWORD 'pässwörd-\"x'")
            value: str = await conn.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", name)
            return value
        finally:
            await conn.execute(f"DROP ROLE IF EXISTS {name}")
            await conn.close()

    import base64

    theirs = asyncio.run(stored())
    salt = base64.b64decode(theirs.split("$")[1].split(":")[1])
    assert roles.scram_verifier("pässwörd-\"x", salt) == theirs
