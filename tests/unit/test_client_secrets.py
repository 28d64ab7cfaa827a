"""No secret ever reaches a log line, a message or a repr, whatever goes wrong.

A faulty session (token endpoint down, 401s, 5xx, a refused refresh, a server that echoes what
it received, and finally rejected credentials) runs with every logger at DEBUG; then all that
was logged, printed, raised and repr'd is searched for the client secret, the password and
every access and refresh token the fake identity server issued.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import sys
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx
import pytest
from pydantic import SecretStr

from producers.api.client import AutoCareClient, ClientConfig
from producers.api.errors import ApiError
from producers.api.retry import RetryEvent

CLIENT_SECRET = "cs-SECRET-5e1d2f"
PASSWORD = "pw-SECRET-a9c4b7"
BASE = "https://vcdb.test"


class EchoingApi:
    """An identity server and API that misbehave in every way, echoing secrets back."""

    def __init__(self) -> None:
        self.issued: list[str] = []
        self.valid: set[str] = set()
        self.step = 0
        self.refresh_ok = True
        self.refuse_password = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/connect/token":
            return self.token(request)
        return self.data(request)

    def token(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        echo = f"got {form}"  # the whole form, secrets included
        if len(self.issued) == 0 and self.step == 0:
            self.step = 1
            return httpx.Response(503, text=echo)
        if form["grant_type"] == "refresh_token" and not self.refresh_ok:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": echo})
        if self.refuse_password:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": echo})
        n = len(self.issued) // 2 + 1
        access, refresh = f"at-SECRET-{n:03d}", f"rt-SECRET-{n:03d}"
        self.issued += [access, refresh]
        self.valid.add(access)
        return httpx.Response(200, json={"access_token": access, "refresh_token": refresh, "expires_in": 600})

    def data(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("Authorization", "")
        echo = {"message": f"you sent Authorization: {auth} token {auth[7:]}"}
        if auth[7:] not in self.valid:
            return httpx.Response(401, json=echo)
        if request.url.params.get("PageNumber") == "2":
            return httpx.Response(500, json=echo)
        if request.url.params.get("PageNumber") == "3":
            return httpx.Response(400, json=echo)
        if request.url.params.get("PageNumber") == "4":
            return httpx.Response(403, text=str(echo), headers={"Content-Type": "text/plain"})
        return httpx.Response(200, json=[{"MakeID": 1}], headers={"X-Pagination": '{"nextPageLink": ""}'})


async def test_no_secret_in_logs_messages_or_reprs(caplog: pytest.LogCaptureFixture,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx's included
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(stream)
    t = [0.0]

    async def sleep(seconds: float) -> None:
        t[0] += seconds

    events: list[RetryEvent] = []
    api = EchoingApi()
    config = ClientConfig(
        token_url="https://id.test/connect/token", client_id="client-1", client_secret=SecretStr(CLIENT_SECRET),
        username="user@example.com", password=SecretStr(PASSWORD), scope="VcdbApis",
        base_urls={"vcdb": BASE, "pcdb": BASE, "padb": BASE, "qdb": BASE}, max_attempts=3,
    )
    client = AutoCareClient(config, transport=httpx.MockTransport(api), clock=lambda: t[0],
                            now=lambda: dt.datetime(2026, 1, 1, tzinfo=dt.UTC), sleep=sleep,
                            rng=random.Random(0), on_retry=events.append)
    req = config.page_request("vcdb", "Make")
    errors: list[BaseException] = []
    seen: list[Any] = []
    try:
        async with client:
            seen.append(await client.fetch_page(req.start(1)))  # token 503, then ok
            api.valid.clear()
            seen.append(await client.fetch_page(req.start(1)))  # 401, re-auth by refresh
            for page in (2, 3, 4):  # 5xx until exhausted, 400 with echo, 403 text echo
                try:
                    await client.fetch_page(req.start(page))
                except ApiError as exc:
                    errors.append(exc)
            api.valid.clear()
            api.refresh_ok = False
            seen.append(await client.fetch_page(req.start(1)))  # 401, refresh refused, password
            api.valid.clear()
            api.refuse_password = True
            with pytest.raises(ApiError) as info:  # 401, refresh refused, password refused
                await client.fetch_page(req.start(1))
            errors.append(info.value)
            seen += [client, config, client._tokens, client._tokens.token]
            print(client, config, client._tokens, client._tokens.token, *seen, *events)
    finally:
        logging.getLogger().removeHandler(stream)

    assert len(errors) == 4 and len(api.issued) >= 6 and events
    secrets = [CLIENT_SECRET, PASSWORD, *api.issued]
    out = capsys.readouterr()
    texts = [caplog.text, out.out, out.err]
    texts += [r.getMessage() for r in caplog.records]
    texts += [repr(x) for x in seen] + [str(x) for x in seen]
    texts += [repr(e) + str(e) for e in events] + [repr(e.error) + str(e.error) for e in events]
    for error in errors:
        texts.append("".join(traceback.format_exception(error)))
        chained: BaseException | None = error
        while chained is not None:
            texts += [str(chained), repr(chained)]
            chained = chained.__cause__ or chained.__context__
    blob = "\n".join(texts)
    assert "GET /api/v2.0/vcdb/Make" in blob  # the capture did see the session
    for secret in secrets:
        assert secret not in blob, f"a secret leaked: {secret[:6]}..."


# ---- the settings' secrets: from the environment and from files ---------------------------------

FILE_SECRETS = {"AUTOCARE_CLIENT_SECRET": "cs-FILE-SECRET-1b7e", "AUTOCARE_PASSWORD": "pw-FILE-SECRET-c30d",
                "KAFKA_SASL_PASSWORD": "kf-FILE-SECRET-94aa", "DATABASE_PASSWORD": "db-FILE-SECRET-2f61",
                "VCDB_OWNER_PASSWORD": "ow-FILE-SECRET-0e1c", "VCDB_INGEST_PASSWORD": "in-FILE-SECRET-77d2",
                "VCDB_READER_PASSWORD": "rd-FILE-SECRET-5a93"}


async def test_settings_secrets_never_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            caplog: pytest.LogCaptureFixture,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Every secret setting, from its file: nothing of them in the settings' reprs, the broker's
    errors and log lines, or any usage error the CLI prints."""
    from aiokafka.errors import KafkaConnectionError

    from schemas.settings import Settings, SettingsError
    from streams import broker
    from vcdb import cli

    caplog.set_level(logging.DEBUG)
    for field in Settings.model_fields.values():
        if field.alias:
            monkeypatch.delenv(field.alias, raising=False)
    for variable, secret in FILE_SECRETS.items():
        path = tmp_path / variable.lower()
        path.write_text(secret + "\n")
        monkeypatch.setenv(f"{variable}_FILE", str(path))
    monkeypatch.setenv("DATABASE_URL", "postgresql://vcdb_ingest@db.example:5432/vcdb")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "loader")
    settings = Settings()
    assert FILE_SECRETS["DATABASE_PASSWORD"] in settings.database_url  # the URL does carry it, to asyncpg

    class RefusingProducer:
        def __init__(self, **kwargs: Any) -> None:
            self.kwargs = kwargs

        async def start(self) -> None:
            raise KafkaConnectionError(f"refused: {self.kwargs['sasl_plain_username']}")

        async def stop(self) -> None:
            return None

    monkeypatch.setattr(broker, "AIOKafkaProducer", RefusingProducer)
    errors: list[BaseException] = []
    for idempotent in (None, False):
        try:
            await broker.Publisher(settings.kafka, idempotent=idempotent).start()
        except broker.BrokerError as e:
            errors.append(e)
    # Usage errors: a value and its file, an unreadable file.
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", FILE_SECRETS["KAFKA_SASL_PASSWORD"])
    with pytest.raises(SettingsError) as both:
        Settings()
    errors.append(both.value)
    assert cli.main(["status"]) == 2
    monkeypatch.delenv("KAFKA_SASL_PASSWORD")
    monkeypatch.setenv("AUTOCARE_PASSWORD_FILE", str(tmp_path / "no-such-file"))
    assert cli.main(["status"]) == 2

    out = capsys.readouterr()
    texts = [caplog.text, out.out, out.err, repr(settings), str(settings), repr(settings.kafka),
             str(settings.kafka), *(r.getMessage() for r in caplog.records)]
    for error in errors:
        texts.append("".join(traceback.format_exception(error)))
    blob = "\n".join(texts)
    assert "both set" in blob and "no-such-file" in blob and "cannot connect to Kafka" in blob  # it saw them
    for variable, secret in FILE_SECRETS.items():
        assert secret not in blob, f"{variable} leaked"
        assert quote(secret, safe="") not in blob, f"{variable} leaked, percent-encoded"
