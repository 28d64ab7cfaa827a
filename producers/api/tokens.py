"""OAuth token state for the AutoCare identity server (reference 1.5), without I/O.

Owns the current token, when to renew it, the form of each grant and what a failed grant means.
The client posts the forms and feeds the answers back; the clock is the caller's.

Grants: ``password`` (resource-owner password: username, password, client_id, client_secret,
scope; what every known client uses) and ``refresh_token`` (only autocare-python uses it and
it is unverified against the server [1.5 U], so any refusal of it falls back to the password
grant; only ``invalid_client`` is fatal whatever the grant).
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass

from pydantic import SecretStr

from producers.api.errors import (
    ApiError,
    AuthenticationFailed,
    InvalidClient,
    InvalidGrant,
    TokenEndpointUnavailable,
    describe,
    scrub,
)

DEFAULT_LIFETIME = 3600.0  # [1.5]: every Python client assumes 3600 s when expires_in is absent
_OAUTH_CODE = re.compile(r"^[a-z_]{1,64}$")


class Grant(enum.StrEnum):
    PASSWORD = "password"
    REFRESH = "refresh_token"


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: SecretStr
    username: str
    password: SecretStr
    scope: str

    def secret_values(self) -> tuple[str, ...]:
        return (self.client_secret.get_secret_value(), self.password.get_secret_value())


@dataclass(frozen=True)
class Token:
    access_token: SecretStr
    token_type: str
    obtained_at: float
    expires_at: float
    refresh_at: float  # renew from here on, before the server would refuse it
    refresh_token: SecretStr | None

    def fresh(self, now: float) -> bool:
        return now < self.refresh_at


def refresh_point(obtained_at: float, lifetime: float, margin: float, fraction: float) -> float:
    """When to renew: ``margin`` seconds or ``fraction`` of the lifetime before expiry, whichever
    is earlier, but never in the first half of the lifetime (a short-lived token would otherwise
    be renewed before every request)."""
    lead = min(max(margin, fraction * lifetime), lifetime / 2)
    return obtained_at + lifetime - lead


class TokenState:
    """The token state machine: none -> fresh -> stale (renew) / rejected (re-authenticate)."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        token_path: str = "/connect/token",
        refresh_margin: float = 60.0,
        refresh_fraction: float = 0.1,
        default_lifetime: float = DEFAULT_LIFETIME,
    ) -> None:
        self.credentials = credentials
        self.token_path = token_path
        self.refresh_margin = refresh_margin
        self.refresh_fraction = refresh_fraction
        self.default_lifetime = default_lifetime
        self.token: Token | None = None

    def __repr__(self) -> str:
        state = "none" if self.token is None else f"expires_at={self.token.expires_at:.0f}"
        return f"TokenState(client_id={self.credentials.client_id!r}, {state})"

    def usable(self, now: float) -> SecretStr | None:
        """The access token if it needs no renewal yet."""
        if self.token is not None and self.token.fresh(now):
            return self.token.access_token
        return None

    def next_grant(self) -> Grant:
        if self.token is not None and self.token.refresh_token is not None:
            return Grant.REFRESH
        return Grant.PASSWORD

    def form(self, grant: Grant) -> dict[str, str]:
        c = self.credentials
        common = {"client_id": c.client_id, "client_secret": c.client_secret.get_secret_value()}
        if grant is Grant.REFRESH:
            if self.token is None or self.token.refresh_token is None:
                raise ValueError("no refresh token to renew with; use the password grant")
            refresh = self.token.refresh_token.get_secret_value()
            return {"grant_type": "refresh_token", "refresh_token": refresh, **common}
        return {
            "grant_type": "password",
            "username": c.username,
            "password": c.password.get_secret_value(),
            **common,
            "scope": c.scope,
        }

    def secret_values(self) -> tuple[str, ...]:
        """Every value that must never reach a message or a log line."""
        out = list(self.credentials.secret_values())
        if self.token is not None:
            out.append(self.token.access_token.get_secret_value())
            if self.token.refresh_token is not None:
                out.append(self.token.refresh_token.get_secret_value())
        return tuple(out)

    def accept(self, body: object, now: float) -> Token:
        """Take a 200 answer of the token endpoint; a garbled one is the endpoint's fault (transient)."""
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str) or not body["access_token"]:
            raise TokenEndpointUnavailable(
                describe("POST", self.token_path, "token endpoint answered 200 without an access_token"),
                path=self.token_path, status=200,
            )
        lifetime = _lifetime(body.get("expires_in"), self.default_lifetime)
        refresh = body.get("refresh_token")
        previous = self.token.refresh_token if self.token is not None else None
        self.token = Token(
            access_token=SecretStr(body["access_token"]),
            token_type=str(body.get("token_type") or "Bearer"),
            obtained_at=now,
            expires_at=now + lifetime,
            refresh_at=refresh_point(now, lifetime, self.refresh_margin, self.refresh_fraction),
            # RFC 6749 6: a refresh answer without a new refresh token leaves the old one valid.
            refresh_token=SecretStr(refresh) if isinstance(refresh, str) and refresh else previous,
        )
        return self.token

    def invalidate(self, rejected: str) -> None:
        """A data endpoint answered 401 to ``rejected``: forget it (unless already replaced),
        keeping the refresh token, so the next request re-authenticates."""
        t = self.token
        if t is not None and t.access_token.get_secret_value() == rejected:
            self.token = Token(t.access_token, t.token_type, t.obtained_at, t.obtained_at, t.obtained_at,
                               t.refresh_token)

    def reject(self, grant: Grant, status: int, body: object, retry_after: float | None = None) -> Grant:
        """A grant failed: answer the grant to try next, or raise the error it means."""
        raise_for = self._failure(grant, status, body, retry_after)
        if raise_for is not None:
            raise raise_for
        # The refresh grant was refused: the refresh token is spent; log in again.
        if self.token is not None:
            t = self.token
            self.token = Token(t.access_token, t.token_type, t.obtained_at, t.expires_at, t.refresh_at, None)
        return Grant.PASSWORD

    def _failure(self, grant: Grant, status: int, body: object, retry_after: float | None) -> ApiError | None:
        path = self.token_path
        if status >= 500 or status in (408, 429):
            return TokenEndpointUnavailable(
                describe("POST", path, f"token endpoint answered HTTP {status}"),
                path=path, status=status, retry_after=retry_after,
            )
        code, text = _oauth_error(body, self.secret_values())
        shown = f"HTTP {status}" + (f" {code}" if code else "") + (f" ({text})" if text else "")
        if code == "invalid_client" or (code is None and status == 401):
            return InvalidClient(
                describe("POST", path, f"client rejected: {shown}",
                         "check AUTOCARE_CLIENT_ID and AUTOCARE_CLIENT_SECRET"),
                path=path, status=status, oauth_error=code,
            )
        if grant is Grant.REFRESH:
            return None
        if code == "invalid_grant":
            return InvalidGrant(
                describe("POST", path, f"username or password rejected: {shown}",
                         "check AUTOCARE_USERNAME and AUTOCARE_PASSWORD (account locked or expired?)"),
                path=path, status=status, oauth_error=code,
            )
        if code == "invalid_scope":
            todo = "check AUTOCARE_SCOPE against the scopes the subscription grants"
        else:
            todo = "check the AUTOCARE_* credentials and AUTOCARE_TOKEN_URL"
        return AuthenticationFailed(
            describe("POST", path, f"authentication failed: {shown}", todo),
            path=path, status=status, oauth_error=code,
        )


def _lifetime(value: object, default: float) -> float:
    seconds = default
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except ValueError:
            pass
    if not math.isfinite(seconds):
        seconds = default
    return max(seconds, 1.0)


def _oauth_error(body: object, secrets: tuple[str, ...]) -> tuple[str | None, str]:
    """The OAuth ``error`` code (only if it looks like one) and a scrubbed description."""
    if not isinstance(body, dict):
        return None, ""
    raw = body.get("error")
    code = raw if isinstance(raw, str) and _OAUTH_CODE.match(raw) else None
    desc = body.get("error_description")
    return code, scrub(desc, secrets) if isinstance(desc, str) else ""
