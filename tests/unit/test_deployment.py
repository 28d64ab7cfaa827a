"""docker-compose.yml cannot run here (no Docker engine): check what can be checked without one."""

from __future__ import annotations

from pathlib import Path

import yaml

from vcdb.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def test_compose_services_run_real_vcdb_commands() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"kafka", "postgres", "consumer", "incremental", "migrate", "baseline"} <= set(services)
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    parser = build_parser()
    for name in ("consumer", "incremental", "migrate", "baseline"):
        command = services[name]["command"]
        assert command[0] == "vcdb"
        parser.parse_args(command[1:])  # exits (fails the test) on an unknown subcommand or option
        env = services[name]["environment"]
        assert {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "AUTOCARE_CLIENT_SECRET"} <= set(env)


def test_dockerfile_copies_every_package() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for package in ("schemas", "streams", "producers", "consumers", "simulator", "vcdb", "alembic"):
        assert f"COPY {package} ./{package}" in text
