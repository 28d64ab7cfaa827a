"""`vcdb migrate --roles`: least privilege, three roles.

- the **owner** (`VCDB_OWNER_ROLE`, default `vcdb_owner`) owns the schemas and everything in
  them and runs the migrations (`vcdb migrate` runs them as the schemas' owner whenever the
  connecting role may act as it, so a later migration's tables are the owner's as well);
- the **ingest** role (`vcdb_ingest`) runs the whole pipeline: SELECT, INSERT, UPDATE, DELETE on
  the canonical schemas and `ingest`, USAGE on their sequences, SELECT on the fitment views,
  TEMPORARY on the database (the loader's staging tables) and nothing else: no CREATE, DROP,
  TRUNCATE or ALTER, and not `session_replication_role`, so PostgreSQL's FK triggers run for
  it (README, "Measured figures": their cost);
- the **reader** (`vcdb_reader`) selects, for the explorer and analysts.

Default privileges (FOR ROLE owner, per schema) give the ingest role and the reader what a later
migration adds to a schema; a migration that adds a schema needs `vcdb migrate --roles` again
(it is idempotent).  Passwords come from `VCDB_<ROLE>_PASSWORD` or `VCDB_<ROLE>_PASSWORD_FILE`,
never argv, and reach the server as SCRAM-SHA-256 verifiers computed here, so the clear text is
in no statement (nor the server's log).  A role without a password can log in only where
pg_hba.conf lets it without one (trust, peer, cert).  `--print` prints the same SQL for psql,
without passwords (set them with `\\password`).

Run by a superuser, or by a role with CREATEROLE that owns the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import SecretStr

from consumers.fitment import VIEWS
from schemas.settings import Settings, sqlalchemy_url
from schemas.tables import SCHEMAS
from vcdb import migrations, services
from vcdb.console import UsageError

WRITTEN = SCHEMAS  # the canonical schemas and `ingest`
READ_ONLY = (VIEWS,)
SCRAM_ITERATIONS = 4096  # PostgreSQL's own default (scram_iterations)
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def scram_verifier(password: str, salt: bytes, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677), which it
    accepts in place of the password in CREATE/ALTER ROLE ... PASSWORD."""
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    stored = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server = hmac.digest(salted, b"Server Key", "sha256")
    b64 = base64.b64encode
    return f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}${b64(stored).decode()}:{b64(server).decode()}"


@dataclass(frozen=True)
class Role:
    kind: str  # owner, ingest or reader
    name: str
    password: SecretStr | None


@dataclass(frozen=True)
class Roles:
    owner: Role
    ingest: Role
    reader: Role

    @classmethod
    def from_settings(cls, settings: Settings) -> Roles:
        roles = cls(*(Role(kind, getattr(settings, f"{kind}_role"), getattr(settings, f"{kind}_password"))
                      for kind in ("owner", "ingest", "reader")))
        for r in roles.all:
            if not _NAME.fullmatch(r.name):
                raise UsageError(f"VCDB_{r.kind.upper()}_ROLE={r.name!r}: not a plain role name "
                                 "(lower case letters, digits, _)")
        if len({r.name for r in roles.all}) < 3:
            raise UsageError("VCDB_OWNER_ROLE, VCDB_INGEST_ROLE and VCDB_READER_ROLE must be three different roles")
        return roles

    @property
    def all(self) -> tuple[Role, Role, Role]:
        return self.owner, self.ingest, self.reader


def _create(role: Role, verifier: str | None) -> list[str]:
    name = ident(role.name)
    password = f" PASSWORD {literal(verifier)}" if verifier else ""
    return [f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {literal(role.name)}) THEN "
            f"CREATE ROLE {name}; END IF; END $$",
            f"ALTER ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS{password}"]


def before_migrations(roles: Roles, database: str, verifiers: dict[str, str | None], *,
                      member_grant: bool) -> list[str]:
    """The roles, their rights on the database, and what exists already handed to the owner."""
    owner, ingest, reader = (ident(r.name) for r in roles.all)
    db = ident(database)
    out: list[str] = []
    for r in roles.all:
        out += _create(r, verifiers.get(r.kind))
    if member_grant:  # a CREATEROLE admin that is no superuser must be able to act as the owner
        out.append(f"GRANT {owner} TO CURRENT_USER")
    out += [f"GRANT CONNECT, CREATE, TEMPORARY ON DATABASE {db} TO {owner}",
            f"GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {ingest}",  # TEMP: the loader's staging tables
            f"GRANT CONNECT ON DATABASE {db} TO {reader}",
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",  # PostgreSQL 15's default, for older servers
            f"GRANT USAGE, CREATE ON SCHEMA public TO {owner}"]  # alembic_version lives there
    schemas = ", ".join(literal(s) for s in (*WRITTEN, *READ_ONLY))
    # Tables first: ALTER TABLE takes the sequences owned by their columns along.
    out.append(f"""DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT nspname FROM pg_namespace WHERE nspname IN ({schemas}) LOOP
        EXECUTE format('ALTER SCHEMA %I OWNER TO %I', r.nspname, {literal(roles.owner.name)});
    END LOOP;
    FOR r IN SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname IN ({schemas}) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
               AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')
                               AND d.classid = 'pg_class'::regclass AND c.relkind = 'S')
             ORDER BY c.relkind = 'S' LOOP
        EXECUTE format('ALTER %s %I.%I OWNER TO %I',
                       CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                      WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                       r.nspname, r.relname, {literal(roles.owner.name)});
    END LOOP;
    IF to_regclass('public.alembic_version') IS NOT NULL THEN
        EXECUTE format('ALTER TABLE public.alembic_version OWNER TO %I', {literal(roles.owner.name)});
    END IF;
END $$""")
    return out


def after_migrations(roles: Roles, existing: set[str] | None = None) -> list[str]:
    """Grants on what the migrations made, and default privileges for what later ones add.
    Each schema's grants are first revoked, so what is granted is exactly this."""
    owner, ingest, reader = (ident(r.name) for r in roles.all)
    out: list[str] = []
    for schema in WRITTEN + READ_ONLY:
        if existing is not None and schema not in existing:
            continue
        s = ident(schema)
        defaults = f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {s}"
        out += [f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {ingest}, {reader}",
                f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {ingest}, {reader}",
                f"REVOKE ALL ON SCHEMA {s} FROM {ingest}, {reader}",
                f"GRANT USAGE ON SCHEMA {s} TO {ingest}, {reader}",
                f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {reader}",
                f"{defaults} GRANT SELECT ON TABLES TO {reader}"]
        if schema in READ_ONLY:
            out += [f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {ingest}",
                    f"{defaults} GRANT SELECT ON TABLES TO {ingest}"]
        else:
            out += [f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {ingest}",
                    f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {ingest}",
                    f"{defaults} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ingest}",
                    f"{defaults} GRANT USAGE ON SEQUENCES TO {ingest}"]
    return out


def script(roles: Roles, database: str, revision: str = "head") -> str:
    """`vcdb migrate --roles --print`: the same SQL for psql, as a superuser, without passwords."""
    parts = ["-- vcdb migrate --roles, as SQL: run as a superuser (psql -v ON_ERROR_STOP=1 -1 -f FILE)",
             "-- 1. the roles, their rights on the database, and what exists handed to the owner", ""]
    parts += [s + ";" for s in before_migrations(roles, database, {}, member_grant=False)]
    parts += ["", f"-- passwords: \\password {roles.owner.name}, \\password {roles.ingest.name}, "
                  f"\\password {roles.reader.name}",
              f"-- 2. the migrations, as the owner: DATABASE_URL=postgresql://{roles.owner.name}@HOST/{database} "
              f"vcdb migrate --revision {revision}",
              "-- 3. grants on what they made, and default privileges for what later migrations add:", ""]
    parts += [s + ";" for s in after_migrations(roles)]
    return "\n".join(parts) + "\n"


async def _facts(url: str) -> tuple[str, bool, str, set[str], set[str]]:
    out = await services.run_sql(url, [
        "SELECT current_database()", "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
        "SELECT current_user",
        "SELECT coalesce(string_agg(rolname, ' '), '') FROM pg_roles WHERE rolsuper",
        "SELECT coalesce(string_agg(nspname, ' '), '') FROM pg_namespace"])
    return str(out[0]), bool(out[1]), str(out[2]), set(str(out[3]).split()), set(str(out[4]).split())


async def apply(settings: Settings, revision: str = "head", *,
                salt: Callable[[], bytes] = lambda: os.urandom(16)) -> list[str]:
    """Create the roles, migrate as the owner, grant.  Returns what it did, one line each."""
    roles = Roles.from_settings(settings)
    url = settings.database_url
    database, superuser, me, superusers, _ = await _facts(url)
    for r in roles.all:
        if r.name == me or r.name in superusers:
            raise UsageError(f"VCDB_{r.kind.upper()}_ROLE={r.name} is {'you' if r.name == me else 'a superuser'}: "
                             "the three roles must be roles of their own")
    verifiers = {r.kind: scram_verifier(r.password.get_secret_value(), salt()) if r.password else None
                 for r in roles.all}
    await services.run_sql(url, before_migrations(roles, database, verifiers, member_grant=not superuser))
    migrations.upgrade(sqlalchemy_url(url), revision, role=roles.owner.name)
    existing = (await _facts(url))[4]
    await services.run_sql(url, after_migrations(roles, existing))
    return [f"{r.kind} role {r.name}: {'password set' if r.password else 'no password (trust/peer/cert only)'}"
            for r in roles.all] + [f"migrated up to {revision} as {roles.owner.name}"]


def command(settings: Settings, revision: str = "head", *, print_only: bool = False) -> int:
    """`vcdb migrate --roles [--print]`."""
    import asyncio

    from vcdb import exit_codes

    roles = Roles.from_settings(settings)
    if print_only:
        database = settings.database_url.partition("?")[0].rsplit("/", 1)[-1] or "postgres"
        print(script(roles, database, revision), end="")
        return exit_codes.OK
    for line in asyncio.run(apply(settings, revision)):
        print(line)
    return exit_codes.OK
