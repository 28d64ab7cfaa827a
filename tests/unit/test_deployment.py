"""docker-compose.yml cannot run here (no Docker engine): check what can be checked without one.

The file is validated against the Compose specification's JSON schema as check-jsonschema ships
it (vendored from compose-spec/compose-spec: every key, type and enum of the format), then for
what the schema cannot say and `docker compose config` would: references between services,
secrets and volumes; and against our own contract: real `vcdb` commands, known settings, secrets
as files, the services as the ingest role.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from schemas.settings import Settings
from vcdb.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
VCDB_SERVICES = ("consumer", "incremental", "migrate", "baseline")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # merges <<: anchors
    return loaded


def spec_errors(document: dict[str, Any]) -> list[str]:
    text = importlib.resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    schema = json.loads(text.read_text())
    # Its $schema is https://json-schema.org/draft-07/schema, a spelling jsonschema does not look up.
    drafts = {"draft-07": jsonschema.Draft7Validator, "2020-12": jsonschema.Draft202012Validator}
    cls = next(v for k, v in drafts.items() if k in schema["$schema"])
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_follows_the_compose_specification() -> None:
    assert spec_errors(compose()) == []


@pytest.mark.parametrize("mutate", [
    lambda c: c["services"]["kafka"].update(restart_policy="always"),  # no such key
    lambda c: c["services"]["consumer"]["depends_on"]["kafka"].update(condition="healthy"),  # not in the enum
    lambda c: c["services"]["consumer"].update(command={"vcdb": "consume"}),  # a mapping is no command
    lambda c: c["services"]["postgres"]["healthcheck"].update(retries=[12]),
    lambda c: c.update(service={}),  # a typo at the top
    lambda c: c["secrets"]["autocare_password"].update(path="./secrets/x"),
], ids=["unknown-key", "bad-condition", "command-type", "retries-type", "top-level-typo", "secret-key"])
def test_the_schema_check_can_fail(mutate: Any) -> None:
    broken = copy.deepcopy(compose())
    mutate(broken)
    assert spec_errors(broken)


def test_references_resolve() -> None:
    """What `docker compose config` checks beyond the schema: names that point somewhere."""
    c = compose()
    services, secrets, volumes = c["services"], c.get("secrets", {}), c.get("volumes", {})
    for name, svc in services.items():
        for dep, how in svc.get("depends_on", {}).items():
            assert dep in services, f"{name} depends on {dep}, which is no service"
            if how.get("condition") == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep} healthy, which has no healthcheck"
        for secret in svc.get("secrets", []):
            assert secret in secrets and "file" in secrets[secret], f"{name}: secret {secret} not declared"
        for mount in svc.get("volumes", []):
            source = mount.split(":", 1)[0]
            assert source.startswith((".", "/")) or source in volumes, f"{name}: volume {source} not declared"


def test_compose_services_run_real_vcdb_commands() -> None:
    services = compose()["services"]
    assert {"kafka", "postgres", *VCDB_SERVICES} <= set(services)
    assert "KAFKA_PROCESS_ROLES" not in services["kafka"]["environment"]  # one source: kafka/broker.env
    parser = build_parser()
    for name in VCDB_SERVICES:
        command = services[name]["command"]
        assert command[0] == "vcdb"
        parser.parse_args(command[1:])  # exits (fails the test) on an unknown subcommand or option


def test_settings_are_known_and_secrets_are_files() -> None:
    known = {f.alias for f in Settings.model_fields.values() if f.alias}
    services = compose()["services"]
    for name in VCDB_SERVICES:
        svc = services[name]
        env: dict[str, str] = svc["environment"]
        assert set(env) <= known, f"{name}: unknown settings {sorted(set(env) - known)}"
        assert {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "AUTOCARE_CLIENT_SECRET_FILE"} <= set(env)
        for variable in ("AUTOCARE_CLIENT_SECRET", "AUTOCARE_PASSWORD", "KAFKA_SASL_PASSWORD",
                         "VCDB_OWNER_PASSWORD", "VCDB_INGEST_PASSWORD", "VCDB_READER_PASSWORD"):
            assert variable not in env, f"{name}: {variable} in the environment, not a file"
        assert urlsplit(env["DATABASE_URL"]).password is None
        for variable, value in env.items():
            if variable.endswith("_FILE"):
                secret = value.removeprefix("/run/secrets/")
                assert value.startswith("/run/secrets/") and secret in svc["secrets"], f"{name}: {variable}"
        user = urlsplit(env["DATABASE_URL"]).username
        assert user == ("vcdb" if name == "migrate" else "vcdb_ingest"), f"{name} connects as {user}"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"


def test_dockerfile_copies_every_package() -> None:
    # The packages pyproject installs (the explorer's `web` was once missing: `vcdb serve` failed in the image).
    text = (ROOT / "Dockerfile").read_text()
    found = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = [pattern.rstrip("*") for pattern in found["include"]]
    assert "web" in packages
    for package in (*packages, "alembic"):
        assert f"COPY {package} ./{package}" in text


def test_long_running_services_are_health_checked_on_the_port_they_serve() -> None:
    services = compose()["services"]
    checked = []
    for name, svc in services.items():
        command = svc.get("command", [])
        port = (command[command.index("--metrics-port") + 1] if "--metrics-port" in command
                else command[command.index("--port") + 1] if "serve" in command else None)
        if port is None:
            continue
        probe = " ".join(svc["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}/" in probe, (name, probe)
        checked.append(name)
    assert sorted(checked) == ["consumer", "explorer", "incremental"]
    assert "/readyz" in " ".join(services["consumer"]["healthcheck"]["test"])
