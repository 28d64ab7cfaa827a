"""The SQL of `vcdb migrate --roles`: what each role is granted, and nothing more (run against
PostgreSQL in tests/integration/test_roles.py)."""

from __future__ import annotations

import re

import pytest
from pydantic import SecretStr

from schemas.settings import Settings
from vcdb import roles
from vcdb.console import UsageError


def three(**env: str) -> roles.Roles:
    return roles.Roles.from_settings(Settings(**env))  # type: ignore[arg-type]


def test_grants_per_role() -> None:
    sql = roles.after_migrations(three())
    grants = [s for s in sql if s.startswith("GRANT") or " GRANT " in s]
    to_ingest = [s for s in grants if '"vcdb_ingest"' in s]
    to_reader = [s for s in grants if '"vcdb_reader"' in s]
    assert not [s for s in grants if re.search(r"\b(TRUNCATE|CREATE|ALL PRIVILEGES|REFERENCES|TRIGGER)\b", s)]
    assert to_reader and all(re.search(r"GRANT (SELECT|USAGE) ON ", s) for s in to_reader)
    assert all("TABLES" not in s or "GRANT SELECT ON " in s for s in to_reader)
    dml = [s for s in to_ingest if "INSERT, UPDATE, DELETE" in s]
    for schema in ("autocare_vcdb", "autocare_pcdb", "autocare_padb", "autocare_qdb", "autocare_aces",
                   "autocare_pies", "ingest"):
        assert f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "vcdb_ingest"' in sql
        assert (f'ALTER DEFAULT PRIVILEGES FOR ROLE "vcdb_owner" IN SCHEMA "{schema}" GRANT SELECT, INSERT, UPDATE, '
                f'DELETE ON TABLES TO "vcdb_ingest"') in sql
        assert f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "vcdb_ingest"' in sql
    assert not [s for s in dml if "autocare_fitment" in s]  # the views: SELECT only
    assert 'GRANT SELECT ON ALL TABLES IN SCHEMA "autocare_fitment" TO "vcdb_ingest"' in sql


def test_database_rights_and_passwords() -> None:
    r = three(VCDB_INGEST_PASSWORD="in-pw")
    verifier = roles.scram_verifier("in-pw", b"0123456789abcdef")
    sql = roles.before_migrations(r, "vcdb", {"ingest": verifier}, member_grant=False)
    assert 'GRANT CONNECT, TEMPORARY ON DATABASE "vcdb" TO "vcdb_ingest"' in sql
    assert 'GRANT CONNECT ON DATABASE "vcdb" TO "vcdb_reader"' in sql
    assert f"ALTER ROLE \"vcdb_ingest\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS " \
           f"PASSWORD '{verifier}'" in sql
    assert "in-pw" not in "\n".join(sql) and "in-pw" not in roles.script(r, "vcdb")
    assert verifier.startswith("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$")


@pytest.mark.parametrize("env,message", [
    ({"VCDB_OWNER_ROLE": "Owner; DROP"}, "VCDB_OWNER_ROLE='Owner; DROP': not a plain role name"),
    ({"VCDB_READER_ROLE": "vcdb_ingest"}, "must be three different roles"),
])
def test_role_names_are_checked(env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        three(**env)


def test_role_passwords_are_secret() -> None:
    r = three(VCDB_OWNER_PASSWORD="ow-pw")
    assert r.owner.password == SecretStr("ow-pw") and "ow-pw" not in repr(r)
