"""Typed settings from the environment, built once at the edge (the CLI) and passed down.

Secrets are SecretStr and never appear in reprs or logs.  Defaults point at the real AutoCare
hosts; `vcdb simulator serve` and `vcdb demo` accept the same documented demo credentials, so
a simulator run needs no extra settings besides the URLs.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas import api_map

DEMO_CLIENT_ID = "vcdb-stream-demo"
DEMO_CLIENT_SECRET = "demo-client-secret"
DEMO_USERNAME = "demo@example.com"
DEMO_PASSWORD = "demo-password"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str = Field(default="postgresql://postgres@127.0.0.1:5432/postgres", alias="DATABASE_URL")
    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    autocare_token_url: str = Field(default=api_map.TOKEN_URL, alias="AUTOCARE_TOKEN_URL")
    autocare_client_id: str = Field(default=DEMO_CLIENT_ID, alias="AUTOCARE_CLIENT_ID")
    autocare_client_secret: SecretStr = Field(default=SecretStr(DEMO_CLIENT_SECRET), alias="AUTOCARE_CLIENT_SECRET")
    autocare_username: str = Field(default=DEMO_USERNAME, alias="AUTOCARE_USERNAME")
    autocare_password: SecretStr = Field(default=SecretStr(DEMO_PASSWORD), alias="AUTOCARE_PASSWORD")
    autocare_scope: str = Field(default=api_map.DEFAULT_SCOPE, alias="AUTOCARE_SCOPE")
    autocare_vcdb_url: str = Field(default=api_map.DATABASES["vcdb"].host, alias="AUTOCARE_VCDB_URL")
    autocare_pcdb_url: str = Field(default=api_map.DATABASES["pcdb"].host, alias="AUTOCARE_PCDB_URL")
    autocare_padb_url: str = Field(default=api_map.DATABASES["padb"].host, alias="AUTOCARE_PADB_URL")
    autocare_qdb_url: str = Field(default=api_map.DATABASES["qdb"].host, alias="AUTOCARE_QDB_URL")

    def base_url(self, db: str) -> str:
        url: str = getattr(self, f"autocare_{db}_url")
        return url.rstrip("/")

    @property
    def database_url_sqlalchemy(self) -> str:
        return sqlalchemy_url(self.database_url)


def sqlalchemy_url(url: str) -> str:
    """The same database for SQLAlchemy's asyncpg dialect (Alembic)."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    return url
