"""Typed settings from the environment, built once at the edge (the CLI) and passed down.

Secrets are SecretStr and never appear in reprs, logs or error messages.  Every secret may come
from a file instead (`<NAME>_FILE`, the Docker and Kubernetes secrets convention: the file's
content, trailing newline stripped); `DATABASE_PASSWORD_FILE` completes a `DATABASE_URL` that
carries no password.  Setting a value and its file, a file that cannot be read, or Kafka
security settings that cannot work together raise `SettingsError`: a usage error (exit 2) whose
message names the variables and paths, never a value.

Defaults point at the real AutoCare hosts; `vcdb simulator serve` and `vcdb demo` accept the
same documented demo credentials, so a simulator run needs no extra settings besides the URLs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from schemas import api_map

DEMO_CLIENT_ID = "vcdb-stream-demo"
DEMO_CLIENT_SECRET = "demo-client-secret"
DEMO_USERNAME = "demo@example.com"
DEMO_PASSWORD = "demo-password"

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

# Secret fields that may come from a file: field name -> its environment variable.  The file's
# variable is the same name with _FILE, its field the same name with _file.
SECRET_FILES = {
    "autocare_client_secret": "AUTOCARE_CLIENT_SECRET",
    "autocare_password": "AUTOCARE_PASSWORD",
    "kafka_sasl_password": "KAFKA_SASL_PASSWORD",
    "owner_password": "VCDB_OWNER_PASSWORD",
    "ingest_password": "VCDB_INGEST_PASSWORD",
    "reader_password": "VCDB_READER_PASSWORD",
    "admin_token": "VCDB_ADMIN_TOKEN",
}


class SettingsError(Exception):
    """The environment cannot work: a usage error.  Not a ValueError, so pydantic lets it out as
    it is (its own errors would quote the input, secrets included)."""


@dataclass(frozen=True)
class KafkaConnection:
    """Where the broker is and how to authenticate to it; streams.broker turns it into aiokafka's
    options.  The password stays a SecretStr up to that point."""

    bootstrap: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None


def read_secret_file(variable: str, path: Path) -> SecretStr:
    """The content of a secret file, trailing newline stripped.  Errors name the variable and the
    path, never what was read."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise SettingsError(f"{variable}={path}: cannot read it ({e.strerror or type(e).__name__})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SettingsError(f"{variable}={path}: not UTF-8 text") from None
    text = text.removesuffix("\n").removesuffix("\r")
    if not text:
        raise SettingsError(f"{variable}={path}: the file is empty")
    return SecretStr(text)


def with_password(url: str, password: SecretStr, *, variable: str = "DATABASE_PASSWORD_FILE") -> str:
    """`url` (no password in it) with `password` added to its user."""
    parts = urlsplit(url)
    if parts.password is not None or any(k == "password" for k, _ in parse_qsl(parts.query)):
        raise SettingsError(f"DATABASE_URL carries a password and {variable} is set: use one of them")
    if not parts.username or not parts.hostname:
        raise SettingsError(f"{variable} is set but DATABASE_URL names no user@host to give the password to")
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{parts.username}:{quote(password.get_secret_value(), safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


class Settings(BaseModel):
    """Each field from its environment variable (its alias, any case), unless given by alias.  A plain
    model reading `os.environ` itself: pydantic-settings cost every command about 35 ms to import."""

    model_config = ConfigDict(extra="ignore", validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _environment(cls, given: Any) -> Any:
        if not isinstance(given, dict):
            return given
        environ = {name.upper(): value for name, value in os.environ.items()}
        found = {f.alias: environ[f.alias] for f in cls.model_fields.values() if f.alias and f.alias in environ}
        return {**found, **given}  # what the caller passed wins, as pydantic-settings had it

    # repr=False: with DATABASE_PASSWORD_FILE (or a password written into it) the URL holds a secret.
    database_url: str = Field(default="postgresql://postgres@127.0.0.1:5432/postgres", alias="DATABASE_URL",
                              repr=False)
    database_password_file: Path | None = Field(default=None, alias="DATABASE_PASSWORD_FILE")
    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    kafka_security_protocol: SecurityProtocol = Field(default="PLAINTEXT", alias="KAFKA_SECURITY_PROTOCOL")
    kafka_sasl_mechanism: SaslMechanism | None = Field(default=None, alias="KAFKA_SASL_MECHANISM")
    kafka_sasl_username: str | None = Field(default=None, alias="KAFKA_SASL_USERNAME")
    kafka_sasl_password: SecretStr | None = Field(default=None, alias="KAFKA_SASL_PASSWORD")
    kafka_sasl_password_file: Path | None = Field(default=None, alias="KAFKA_SASL_PASSWORD_FILE")
    kafka_ssl_cafile: Path | None = Field(default=None, alias="KAFKA_SSL_CAFILE")
    autocare_token_url: str = Field(default=api_map.TOKEN_URL, alias="AUTOCARE_TOKEN_URL")
    autocare_client_id: str = Field(default=DEMO_CLIENT_ID, alias="AUTOCARE_CLIENT_ID")
    autocare_client_secret: SecretStr = Field(default=SecretStr(DEMO_CLIENT_SECRET), alias="AUTOCARE_CLIENT_SECRET")
    autocare_client_secret_file: Path | None = Field(default=None, alias="AUTOCARE_CLIENT_SECRET_FILE")
    autocare_username: str = Field(default=DEMO_USERNAME, alias="AUTOCARE_USERNAME")
    autocare_password: SecretStr = Field(default=SecretStr(DEMO_PASSWORD), alias="AUTOCARE_PASSWORD")
    autocare_password_file: Path | None = Field(default=None, alias="AUTOCARE_PASSWORD_FILE")
    autocare_scope: str = Field(default=api_map.DEFAULT_SCOPE, alias="AUTOCARE_SCOPE")
    autocare_vcdb_url: str = Field(default=api_map.DATABASES["vcdb"].host, alias="AUTOCARE_VCDB_URL")
    autocare_pcdb_url: str = Field(default=api_map.DATABASES["pcdb"].host, alias="AUTOCARE_PCDB_URL")
    autocare_padb_url: str = Field(default=api_map.DATABASES["padb"].host, alias="AUTOCARE_PADB_URL")
    autocare_qdb_url: str = Field(default=api_map.DATABASES["qdb"].host, alias="AUTOCARE_QDB_URL")
    # The three roles of `vcdb migrate --roles` (least privilege) and their passwords.
    owner_role: str = Field(default="vcdb_owner", alias="VCDB_OWNER_ROLE")
    ingest_role: str = Field(default="vcdb_ingest", alias="VCDB_INGEST_ROLE")
    reader_role: str = Field(default="vcdb_reader", alias="VCDB_READER_ROLE")
    owner_password: SecretStr | None = Field(default=None, alias="VCDB_OWNER_PASSWORD")
    owner_password_file: Path | None = Field(default=None, alias="VCDB_OWNER_PASSWORD_FILE")
    ingest_password: SecretStr | None = Field(default=None, alias="VCDB_INGEST_PASSWORD")
    ingest_password_file: Path | None = Field(default=None, alias="VCDB_INGEST_PASSWORD_FILE")
    reader_password: SecretStr | None = Field(default=None, alias="VCDB_READER_PASSWORD")
    reader_password_file: Path | None = Field(default=None, alias="VCDB_READER_PASSWORD_FILE")
    # Seconds a service that answered earlier in the process may stop answering before the command
    # gives up: a restart, a failover or a network blip is ridden out; a wrong address still fails
    # after the few attempts of its retry policy.
    autocare_outage_s: float = Field(default=120.0, ge=0, alias="AUTOCARE_OUTAGE_S")
    database_outage_s: float = Field(default=60.0, ge=0, alias="DATABASE_OUTAGE_S")
    # The loader relays each release's changes to the .changes topics; off: they wait in the outbox
    # (`vcdb changes` and `vcdb diff` still read them) and are relayed once it is turned on.
    change_relay: bool = Field(default=True, alias="VCDB_CHANGE_RELAY")
    # the explorer's replay (vcdb serve): unset, replay from the explorer is off
    admin_token: SecretStr | None = Field(default=None, alias="VCDB_ADMIN_TOKEN")
    admin_token_file: Path | None = Field(default=None, alias="VCDB_ADMIN_TOKEN_FILE")

    @field_validator("kafka_security_protocol", "kafka_sasl_mechanism", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _from_files(self) -> Settings:
        for name, variable in SECRET_FILES.items():
            path: Path | None = getattr(self, f"{name}_file")
            if path is None:
                continue
            if name in self.model_fields_set:
                raise SettingsError(f"{variable} and {variable}_FILE are both set: use one of them")
            setattr(self, name, read_secret_file(f"{variable}_FILE", path))
        if self.database_password_file is not None:
            password = read_secret_file("DATABASE_PASSWORD_FILE", self.database_password_file)
            self.database_url = with_password(self.database_url, password)
        self._check_kafka()
        return self

    def _check_kafka(self) -> None:
        protocol = self.kafka_security_protocol
        sasl = protocol.startswith("SASL_")
        given = {"KAFKA_SASL_MECHANISM": self.kafka_sasl_mechanism, "KAFKA_SASL_USERNAME": self.kafka_sasl_username,
                 "KAFKA_SASL_PASSWORD": self.kafka_sasl_password}
        if not sasl:
            stray = [k for k, v in given.items() if v is not None]
            if stray:
                raise SettingsError(f"{', '.join(stray)} set, but KAFKA_SECURITY_PROTOCOL={protocol} does not use "
                                    "SASL (SASL_PLAINTEXT or SASL_SSL)")
        else:
            if not self.kafka_sasl_username:
                raise SettingsError(f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME")
            if self.kafka_sasl_password is None or not self.kafka_sasl_password.get_secret_value():
                raise SettingsError(f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_PASSWORD "
                                    "(or KAFKA_SASL_PASSWORD_FILE)")
        if self.kafka_ssl_cafile is not None:
            if not protocol.endswith("SSL"):
                raise SettingsError(f"KAFKA_SSL_CAFILE set, but KAFKA_SECURITY_PROTOCOL={protocol} does not use TLS "
                                    "(SSL or SASL_SSL)")
            try:
                with self.kafka_ssl_cafile.open("rb"):
                    pass
            except OSError as e:
                raise SettingsError(f"KAFKA_SSL_CAFILE={self.kafka_ssl_cafile}: cannot read it "
                                    f"({e.strerror or type(e).__name__})") from None

    @property
    def kafka(self) -> KafkaConnection:
        sasl = self.kafka_security_protocol.startswith("SASL_")
        return KafkaConnection(
            bootstrap=self.kafka_bootstrap_servers, security_protocol=self.kafka_security_protocol,
            sasl_mechanism=(self.kafka_sasl_mechanism or "PLAIN") if sasl else None,
            sasl_username=self.kafka_sasl_username if sasl else None,
            sasl_password=self.kafka_sasl_password if sasl else None,
            ssl_cafile=str(self.kafka_ssl_cafile) if self.kafka_ssl_cafile is not None else None)

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
