"""The simulated identity server's grants: who may have a token, and whether a token still works.

IdentityServer style (reference [1.5]): `grant_type=password` with client_id, client_secret,
username, password and scope; `grant_type=refresh_token` with the refresh token and the client
(reference [1.5] marks this one unverified [U]).  A refresh token is issued only when the scope
asks for `offline_access`, as IdentityServer does.  Errors follow RFC 6749 section 5.2: 401
`invalid_client`, 400 for the rest.  Tokens are random strings that carry their scope; the clock
and the token factory are parameters so tests control both.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from schemas import api_map
from simulator.config import Credentials

KNOWN_SCOPES = frozenset({"CommonApis", "QDBApis", "PcadbApis", "BrandApis", "VcdbApis", "offline_access",
                          "openid", "profile"})  # [1.5]: the scopes clients were seen to send


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class Grant:
    scope: frozenset[str]
    issued_at: float
    expires_at: float


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class TokenStore:
    def __init__(self, credentials: Credentials, *, ttl: int, refresh_ttl: int, clock: Callable[[], float],
                 new_token: Callable[[], str] = _new_token) -> None:
        self.credentials = credentials
        self.ttl = ttl
        self.refresh_ttl = refresh_ttl
        self.clock = clock
        self.new_token = new_token
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}

    def grant(self, form: Mapping[str, str], authorization: str | None = None,
              ttl: int | None = None) -> dict[str, object]:
        """Answer a token request (form fields, optional Basic client authentication)."""
        grant_type = form.get("grant_type", "")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "grant_type is required")
        if grant_type not in ("password", "refresh_token"):
            raise OAuthError(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
        self._check_client(form, authorization)
        if grant_type == "password":
            if not (_same(form.get("username", ""), self.credentials.username)
                    and _same(form.get("password", ""), self.credentials.password)):
                raise OAuthError(400, "invalid_grant", "invalid username or password")
            scope = self._scope(form.get("scope"))
        else:
            refresh = self._refresh.get(form.get("refresh_token", ""))
            if refresh is None or refresh.expires_at <= self.clock():
                raise OAuthError(400, "invalid_grant", "the refresh token is unknown or expired")
            scope = refresh.scope
            if form.get("scope"):
                asked = self._scope(form.get("scope"))
                if not asked <= scope:
                    raise OAuthError(400, "invalid_scope", "a refresh cannot widen the scope")
                scope = asked
        lifetime = self.ttl if ttl is None else ttl
        now = self.clock()
        self._prune(now)
        token = self.new_token()
        self._access[token] = Grant(scope, now, now + lifetime)
        body: dict[str, object] = {"access_token": token, "token_type": "Bearer", "expires_in": lifetime,
                                   "scope": " ".join(sorted(scope))}
        if "offline_access" in scope:
            if grant_type == "refresh_token":
                body["refresh_token"] = form["refresh_token"]  # reusable, IdentityServer's default
            else:
                refresh_token = self.new_token()
                self._refresh[refresh_token] = Grant(scope, now, now + self.refresh_ttl)
                body["refresh_token"] = refresh_token
        return body

    def _check_client(self, form: Mapping[str, str], authorization: str | None) -> None:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if authorization and authorization.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise OAuthError(401, "invalid_client", "malformed Basic authorization") from None
        if not (_same(client_id, self.credentials.client_id) and _same(secret, self.credentials.client_secret)):
            raise OAuthError(401, "invalid_client", "unknown client or wrong client secret")

    def _scope(self, text: str | None) -> frozenset[str]:
        if not text:
            return frozenset(api_map.DEFAULT_SCOPE.split())
        asked = frozenset(text.split())
        unknown = asked - KNOWN_SCOPES
        if unknown:
            raise OAuthError(400, "invalid_scope", f"unknown scope {' '.join(sorted(unknown))}")
        return asked

    def check(self, token: str, revoke_after_s: float | None = None) -> Grant | None:
        """The token's grant while it works; None when unknown, expired or revoked."""
        found = self._access.get(token)
        now = self.clock()
        if found is None or found.expires_at <= now:
            return None
        if revoke_after_s is not None and now - found.issued_at >= revoke_after_s:
            return None
        return found

    def _prune(self, now: float) -> None:
        if len(self._access) > 10_000:
            self._access = {t: g for t, g in self._access.items() if g.expires_at > now}
        if len(self._refresh) > 10_000:
            self._refresh = {t: g for t, g in self._refresh.items() if g.expires_at > now}


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
