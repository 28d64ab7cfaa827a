"""Kafka security settings reach aiokafka's constructors: the producer, the consumer and the admin
client.  aiokafka's classes are faked (the constructors record what they were given), never ours."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from schemas.settings import KafkaConnection, Settings
from streams import broker

SASL_PASSWORD = "kafka-SECRET-91c3"


class FakeClient:
    """Stands in for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""

    made: list[tuple[str, dict[str, Any]]] = []

    def __init__(self, **kwargs: Any) -> None:
        FakeClient.made.append((type(self).__name__, kwargs))

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def close(self) -> None:
        return None

    topics: set[str] = {"autocare.vcdb.make"}

    async def list_topics(self) -> list[str]:
        return sorted(self.topics)

    async def create_topics(self, topics: list[Any]) -> None:
        return None

    async def delete_topics(self, topics: list[str], timeout_ms: int | None = None) -> None:
        self.topics = self.topics - set(topics)


class Producer(FakeClient):
    pass


class Consumer(FakeClient):
    pass


class Admin(FakeClient):
    pass


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    FakeClient.made = []
    monkeypatch.setattr(broker, "AIOKafkaProducer", Producer)
    monkeypatch.setattr(broker, "AIOKafkaConsumer", Consumer)
    monkeypatch.setattr(broker, "AIOKafkaAdminClient", Admin)
    return FakeClient.made


async def every_client(kafka: broker.Kafka) -> None:
    await broker.ensure_topics(kafka, ["autocare.vcdb.make", "autocare.vcdb.year"], 3)
    await broker.list_topics(kafka)
    await broker.delete_topics(kafka, ["autocare.vcdb.make"])
    async with broker.Publisher(kafka, idempotent=False):
        pass
    reader = broker.Reader(kafka, "vcdb-stream.vcdb.loader")
    await reader.start()
    await reader.stop()


async def test_plaintext_passes_only_the_bootstrap(made: list[tuple[str, dict[str, Any]]]) -> None:
    await every_client(Settings(KAFKA_BOOTSTRAP_SERVERS="k1:9092,k2:9092").kafka)  # type: ignore[call-arg]
    assert [name for name, _ in made] == ["Admin", "Admin", "Admin", "Producer", "Consumer"]
    for _, kwargs in made:
        assert kwargs["bootstrap_servers"] == "k1:9092,k2:9092"
        assert not {k for k in kwargs if k.startswith(("sasl", "ssl", "security"))}
    made.clear()
    await every_client("k3:9092")  # a bare bootstrap string is PLAINTEXT
    assert {kw["bootstrap_servers"] for _, kw in made} == {"k3:9092"}


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_sasl_ssl_reaches_producer_consumer_and_admin(made: list[tuple[str, dict[str, Any]]],
                                                            monkeypatch: pytest.MonkeyPatch, mechanism: str) -> None:
    cafiles: list[str | None] = []

    def fake_context(*, cafile: str | None = None) -> ssl.SSLContext:
        cafiles.append(cafile)
        return ssl.create_default_context()

    monkeypatch.setattr(broker, "create_ssl_context", fake_context)
    kafka = KafkaConnection("kafka:9093", "SASL_SSL", mechanism, "loader", SecretStr(SASL_PASSWORD), "/run/ca.pem")
    await every_client(kafka)
    assert sorted({name for name, _ in made}) == ["Admin", "Consumer", "Producer"]
    for _, kwargs in made:
        assert kwargs["security_protocol"] == "SASL_SSL"
        assert kwargs["sasl_mechanism"] == mechanism
        assert kwargs["sasl_plain_username"] == "loader"
        assert kwargs["sasl_plain_password"] == SASL_PASSWORD  # a plain str only inside aiokafka's call
        assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
    assert cafiles == ["/run/ca.pem"] * len(made)


async def test_ssl_without_a_ca_file_uses_the_system_trust(made: list[tuple[str, dict[str, Any]]]) -> None:
    await every_client(KafkaConnection("kafka:9093", "SSL"))
    for _, kwargs in made:
        assert kwargs["security_protocol"] == "SSL"
        assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
        assert "sasl_mechanism" not in kwargs


async def test_sasl_plaintext_has_no_tls(made: list[tuple[str, dict[str, Any]]],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "loader")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", SASL_PASSWORD)
    monkeypatch.delenv("KAFKA_SASL_MECHANISM", raising=False)
    await every_client(Settings().kafka)
    for _, kwargs in made:
        assert (kwargs["security_protocol"], kwargs["sasl_mechanism"]) == ("SASL_PLAINTEXT", "PLAIN")
        assert "ssl_context" not in kwargs


def test_a_ca_file_that_is_not_a_certificate_is_a_broker_error(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate " + SASL_PASSWORD)
    with pytest.raises(broker.BrokerError, match=f"cannot use KAFKA_SSL_CAFILE={bad}") as info:
        broker.client_options(KafkaConnection("kafka:9093", "SSL", ssl_cafile=str(bad)))
    assert SASL_PASSWORD not in str(info.value)
