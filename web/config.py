"""The explorer's settings, built once from the process settings and the command's arguments."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from schemas.settings import Settings, with_password


@dataclass(frozen=True)
class WebConfig:
    read_url: str  # the reader role's URL where one is configured, else DATABASE_URL
    write_url: str  # DATABASE_URL: replay writes through it
    host: str = "127.0.0.1"
    port: int = 8080
    read_only: bool = False  # no replay, whatever the token
    admin_token: SecretStr | None = None  # VCDB_ADMIN_TOKEN: unset, replay is off
    # The Host names answered (`--allowed-host`, "name" or "name:port"); empty: the bound address
    # and localhost, with the port served (web/security.py).
    allowed_hosts: tuple[str, ...] = ()
    # What signs the CSRF tokens (web/security.py): new for every process, so a restart asks
    # open forms to reload.
    csrf_secret: SecretStr = field(default_factory=lambda: SecretStr(secrets.token_urlsafe(32)), repr=False)

    @property
    def replay_enabled(self) -> bool:
        return not self.read_only and self.admin_token is not None

    @classmethod
    def from_settings(cls, settings: Settings, *, host: str = "127.0.0.1", port: int = 8080,
                      read_only: bool = False, allowed_hosts: tuple[str, ...] = ()) -> WebConfig:
        return cls(read_url=reader_url(settings), write_url=settings.database_url, host=host, port=port,
                   read_only=read_only, admin_token=settings.admin_token, allowed_hosts=allowed_hosts)


def reader_url(settings: Settings) -> str:
    """DATABASE_URL as the reader role (VCDB_READER_ROLE) when its password is configured."""
    if settings.reader_password is None:
        return settings.database_url
    parts = urlsplit(settings.database_url)
    host = parts.netloc.rpartition("@")[2]
    bare = urlunsplit(parts._replace(netloc=f"{settings.reader_role}@{host}"))
    return with_password(bare, settings.reader_password, variable="VCDB_READER_PASSWORD")
