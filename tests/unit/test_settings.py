"""Settings from the environment: secrets from files, Kafka security, and the usage errors
(exit 2) when they cannot work together.  No secret value appears in any message here: the
secrets test (test_client_secrets.py) searches every output for them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas.settings import SECRET_FILES, Settings, SettingsError
from vcdb import cli

SECRET = "s3cr3t-FILE-7f2a"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets: none of the machine's or CI's variables."""
    for field in Settings.model_fields.values():
        if field.alias:
            monkeypatch.delenv(field.alias, raising=False)


def secret_file(tmp_path: Path, name: str, content: str = SECRET + "\n") -> Path:
    path = tmp_path / name
    path.write_text(content)
    return path


@pytest.mark.parametrize("field,variable", sorted(SECRET_FILES.items()))
def test_every_secret_comes_from_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str,
                                          variable: str) -> None:
    monkeypatch.setenv(f"{variable}_FILE", str(secret_file(tmp_path, "s", SECRET + "\r\n")))
    if variable == "KAFKA_SASL_PASSWORD":
        monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
        monkeypatch.setenv("KAFKA_SASL_USERNAME", "loader")
    settings = Settings()
    assert getattr(settings, field).get_secret_value() == SECRET  # trailing newline stripped
    assert SECRET not in repr(settings) and SECRET not in str(settings)


@pytest.mark.parametrize("variable", sorted(SECRET_FILES.values()))
def test_a_value_and_its_file_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               variable: str) -> None:
    monkeypatch.setenv(variable, SECRET)
    monkeypatch.setenv(f"{variable}_FILE", str(secret_file(tmp_path, "s")))
    with pytest.raises(SettingsError) as info:
        Settings()
    assert str(info.value) == f"{variable} and {variable}_FILE are both set: use one of them"


def test_unreadable_file_names_variable_and_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "no-such-secret"
    monkeypatch.setenv("AUTOCARE_PASSWORD_FILE", str(missing))
    with pytest.raises(SettingsError, match=f"AUTOCARE_PASSWORD_FILE={missing}: cannot read it"):
        Settings()
    monkeypatch.setenv("AUTOCARE_PASSWORD_FILE", str(tmp_path))  # a directory
    with pytest.raises(SettingsError, match="cannot read it"):
        Settings()
    monkeypatch.setenv("AUTOCARE_PASSWORD_FILE", str(secret_file(tmp_path, "empty", "\n")))
    with pytest.raises(SettingsError, match="the file is empty"):
        Settings()
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe" + SECRET.encode())
    monkeypatch.setenv("AUTOCARE_PASSWORD_FILE", str(binary))
    with pytest.raises(SettingsError, match="not UTF-8 text") as info:
        Settings()
    assert SECRET not in str(info.value) and "xff" not in str(info.value)


def test_database_password_file_completes_the_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://vcdb@db.example:5432/vcdb?sslmode=require")
    monkeypatch.setenv("DATABASE_PASSWORD_FILE", str(secret_file(tmp_path, "pw", "p@ss:w/rd\n")))
    settings = Settings()
    assert settings.database_url == "postgresql://vcdb:p%40ss%3Aw%2Frd@db.example:5432/vcdb?sslmode=require"
    assert settings.database_url_sqlalchemy.startswith("postgresql+asyncpg://vcdb:p%40ss")
    assert "p%40ss" not in repr(settings)


@pytest.mark.parametrize("url,message", [
    ("postgresql://vcdb:inline@db:5432/vcdb", "DATABASE_URL carries a password and DATABASE_PASSWORD_FILE is set"),
    ("postgresql://vcdb@db/vcdb?password=inline", "DATABASE_URL carries a password"),
    ("postgresql://db:5432/vcdb", "names no user@host"),
])
def test_database_password_file_conflicts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str,
                                          message: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATABASE_PASSWORD_FILE", str(secret_file(tmp_path, "pw")))
    with pytest.raises(SettingsError, match=message) as info:
        Settings()
    assert "inline" not in str(info.value) and SECRET not in str(info.value)


def test_kafka_defaults_to_plaintext() -> None:
    kafka = Settings().kafka
    assert (kafka.bootstrap, kafka.security_protocol, kafka.sasl_mechanism, kafka.sasl_username,
            kafka.sasl_password, kafka.ssl_cafile) == ("127.0.0.1:9092", "PLAINTEXT", None, None, None, None)


def test_kafka_sasl_ssl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca = secret_file(tmp_path, "ca.pem", "-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "sasl_ssl")  # any case
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "scram-sha-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "loader")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD_FILE", str(secret_file(tmp_path, "kpw")))
    monkeypatch.setenv("KAFKA_SSL_CAFILE", str(ca))
    kafka = Settings().kafka
    assert (kafka.security_protocol, kafka.sasl_mechanism, kafka.sasl_username, kafka.ssl_cafile) == (
        "SASL_SSL", "SCRAM-SHA-512", "loader", str(ca))
    assert kafka.sasl_password is not None and kafka.sasl_password.get_secret_value() == SECRET
    assert SECRET not in repr(kafka)


def test_kafka_sasl_mechanism_defaults_to_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "loader")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", SECRET)
    assert Settings().kafka.sasl_mechanism == "PLAIN"


@pytest.mark.parametrize("env,message", [
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_PASSWORD": SECRET}, "SASL_SSL needs KAFKA_SASL_USERNAME"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "u"}, "needs KAFKA_SASL_PASSWORD"),
    ({"KAFKA_SASL_USERNAME": "u"}, "KAFKA_SASL_USERNAME set, but KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use SASL"),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_PASSWORD": SECRET},
     "KAFKA_SASL_MECHANISM, KAFKA_SASL_PASSWORD set, but KAFKA_SECURITY_PROTOCOL=SSL"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": SECRET,
      "KAFKA_SSL_CAFILE": "/etc/hosts"}, "KAFKA_SSL_CAFILE set, but KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT"),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": "/no/such/ca.pem"},
     "KAFKA_SSL_CAFILE=/no/such/ca.pem: cannot read it"),
])
def test_kafka_combinations_that_cannot_work(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                             message: str) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError, match=message) as info:
        Settings()
    assert SECRET not in str(info.value)


def test_unknown_protocol_or_mechanism_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "TLS")
    with pytest.raises(ValidationError, match="KAFKA_SECURITY_PROTOCOL"):
        Settings()
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "GSSAPI")
    with pytest.raises(ValidationError, match="KAFKA_SASL_MECHANISM"):
        Settings()


@pytest.mark.parametrize("env", [
    {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_PASSWORD": SECRET},  # SASL without a username
    {"AUTOCARE_CLIENT_SECRET": SECRET, "AUTOCARE_CLIENT_SECRET_FILE": "/etc/hostname"},
    {"AUTOCARE_PASSWORD_FILE": "/no/such/file"},
    {"KAFKA_SECURITY_PROTOCOL": "KERBEROS"},
])
def test_the_cli_says_so_and_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                     env: dict[str, str]) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert cli.main(["status"]) == 2
    err = capsys.readouterr().err
    assert next(iter(env)) in err and "Traceback" not in err
    assert SECRET not in err
