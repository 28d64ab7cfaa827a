"""The explorer's settings, built once from the process settings and the command's arguments."""

from __future__ import annotations

from dataclasses import dataclass
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

    @property
    def replay_enabled(self) -> bool:
        return not self.read_only and self.admin_token is not None

    @classmethod
    def from_settings(cls, settings: Settings, *, host: str = "127.0.0.1", port: int = 8080,
                      read_only: bool = False) -> WebConfig:
        return cls(read_url=reader_url(settings), write_url=settings.database_url, host=host, port=port,
                   read_only=read_only, admin_token=settings.admin_token)


def reader_url(settings: Settings) -> str:
    """DATABASE_URL as the reader role (VCDB_READER_ROLE) when its password is configured."""
    if settings.reader_password is None:
        return settings.database_url
    parts = urlsplit(settings.database_url)
    host = parts.netloc.rpartition("@")[2]
    bare = urlunsplit(parts._replace(netloc=f"{settings.reader_role}@{host}"))
    return with_password(bare, settings.reader_password, variable="VCDB_READER_PASSWORD")
