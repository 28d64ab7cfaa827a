"""The test broker runs what docker-compose.yml deploys: the same version, the same settings file,
turned into server.properties by the apache/kafka image's own naming rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from vcdb import kafka_broker
from vcdb.services import ServiceError

ROOT = Path(__file__).resolve().parents[2]


def kafka_service() -> dict[str, Any]:
    service: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["kafka"]
    return service


@pytest.mark.parametrize(("env", "prop"), [
    ("KAFKA_LOG_RETENTION_HOURS", "log.retention.hours"),
    ("KAFKA_PROCESS_ROLES", "process.roles"),
    ("KAFKA_LISTENER_NAME_INTERNAL_SSL__KEYSTORE__LOCATION", "listener.name.internal.ssl-keystore-location"),
    ("KAFKA_CONFLUENT___SUPPORT", "confluent_support"),
])
def test_env_names_become_server_properties_as_the_image_does(env: str, prop: str) -> None:
    assert kafka_broker.env_to_property(env) == prop


def test_a_name_without_the_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="not a KAFKA_ setting"):
        kafka_broker.env_to_property("LOG_DIRS")


def test_env_file_lines_comments_and_a_malformed_line() -> None:
    assert kafka_broker.read_env_file("# c\n\nKAFKA_A=1\n KAFKA_B = x=y \n") == {"KAFKA_A": "1", "KAFKA_B": "x=y"}
    with pytest.raises(ValueError, match="line 2: expected KEY=VALUE"):
        kafka_broker.read_env_file("KAFKA_A=1\nKAFKA_B\n")


def test_compose_and_the_test_broker_read_one_settings_file() -> None:
    service = kafka_service()
    assert service["env_file"] == "kafka/broker.env"
    shared = kafka_broker.read_env_file((ROOT / "kafka" / "broker.env").read_text())
    # What the file settles, compose does not say again (nor differently).
    assert not set(shared) & set(service["environment"])
    props = kafka_broker.shared_settings((ROOT / "kafka" / "broker.env").read_text())
    assert props["process.roles"] == "broker,controller"  # KRaft, one combined node
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["log.retention.hours"] == "-1"


def test_compose_deploys_the_version_the_tests_run() -> None:
    image = kafka_service()["image"]
    assert image == f"apache/kafka:{kafka_broker.kafka_version()}"


def test_broker_properties_keep_the_shared_settings_and_set_this_host() -> None:
    shared = {"node.id": "1", "process.roles": "broker,controller", "log.retention.hours": "-1"}
    props = kafka_broker.broker_properties(shared, port=19092, controller_port=19093, log_dir=Path("/d"))
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["log.dirs"] == "/d"
    assert props["log.retention.hours"] == "-1"
    assert props["group.initial.rebalance.delay.ms"] == "0"  # the test setting
    rendered = kafka_broker.render_properties(props)
    assert "process.roles=broker,controller\n" in rendered


def test_cluster_ids_are_what_random_uuid_prints_and_never_look_like_an_option() -> None:
    ids = {kafka_broker.cluster_id() for _ in range(2000)}  # about 31 of them would start with "-" undrawn
    assert len(ids) == 2000
    assert all(len(i) == 22 and "=" not in i and not i.startswith("-") for i in ids)


def test_without_maven_the_jars_cannot_be_fetched_and_it_says_so(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no mvn
    with pytest.raises(ServiceError, match=r"mvn not found \(apt-get install maven\)"):
        kafka_broker.jars(tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("jars-*"))  # nothing half-made left behind
