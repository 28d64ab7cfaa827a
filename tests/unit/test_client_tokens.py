"""Token state machine: forms, renewal point, parsing, OAuth error classification."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from producers.api.errors import AuthenticationFailed, InvalidClient, InvalidGrant, TokenEndpointUnavailable
from producers.api.tokens import Credentials, Grant, TokenState, refresh_point

CREDS = Credentials(
    "client-1", SecretStr("cs-SECRET"), "user@example.com", SecretStr("pw-SECRET"), "VcdbApis offline_access"
)


def state() -> TokenState:
    return TokenState(CREDS, token_path="/connect/token")


def test_password_form() -> None:
    s = state()
    assert s.next_grant() is Grant.PASSWORD
    assert s.form(Grant.PASSWORD) == {
        "grant_type": "password", "username": "user@example.com", "password": "pw-SECRET",
        "client_id": "client-1", "client_secret": "cs-SECRET", "scope": "VcdbApis offline_access",
    }


def test_refresh_form_after_a_token_with_refresh_token() -> None:
    s = state()
    with pytest.raises(ValueError):
        s.form(Grant.REFRESH)
    s.accept({"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600}, now=0.0)
    assert s.next_grant() is Grant.REFRESH
    assert s.form(Grant.REFRESH) == {
        "grant_type": "refresh_token", "refresh_token": "rt-1", "client_id": "client-1", "client_secret": "cs-SECRET",
    }


@pytest.mark.parametrize(
    ("lifetime", "renew_at"),
    [(3600.0, 3240.0),  # 10 % of an hour (360 s) beats the 60 s margin
     (300.0, 240.0),  # 60 s margin beats 10 %
     (30.0, 15.0)],  # never in the first half of the lifetime
)
def test_refresh_point(lifetime: float, renew_at: float) -> None:
    assert refresh_point(0.0, lifetime, 60.0, 0.1) == renew_at


def test_token_is_renewed_before_it_expires() -> None:
    s = state()
    assert s.usable(0.0) is None
    token = s.accept({"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600}, now=100.0)
    assert token.expires_at == 3700.0 and token.refresh_at == 3340.0
    assert s.usable(3339.0) == SecretStr("at-1")
    assert s.usable(3340.0) is None  # renew while the server would still accept it


@pytest.mark.parametrize("expires_in", [None, "abc", True, float("nan")])
def test_expires_in_defaults_to_an_hour(expires_in: object) -> None:
    body: dict[str, object] = {"access_token": "at-1"}
    if expires_in is not None:
        body["expires_in"] = expires_in
    assert state().accept(body, now=0.0).expires_at == 3600.0


def test_expires_in_as_string() -> None:
    assert state().accept({"access_token": "at", "expires_in": "120"}, now=0.0).expires_at == 120.0


def test_refresh_token_kept_when_the_answer_has_none() -> None:
    s = state()
    s.accept({"access_token": "at-1", "refresh_token": "rt-1"}, now=0.0)
    assert s.accept({"access_token": "at-2"}, now=10.0).refresh_token == SecretStr("rt-1")


@pytest.mark.parametrize("body", [None, [], {}, {"access_token": ""}, {"access_token": 5}])
def test_garbled_token_answer_is_transient(body: object) -> None:
    with pytest.raises(TokenEndpointUnavailable) as info:
        state().accept(body, now=0.0)
    assert info.value.transient and "/connect/token" in str(info.value)


def test_invalidate_forgets_only_the_rejected_token() -> None:
    s = state()
    s.accept({"access_token": "at-1", "refresh_token": "rt-1"}, now=0.0)
    s.invalidate("at-old")
    assert s.usable(1.0) == SecretStr("at-1")
    s.invalidate("at-1")
    assert s.usable(1.0) is None and s.next_grant() is Grant.REFRESH


@pytest.mark.parametrize("grant", [Grant.PASSWORD, Grant.REFRESH])
def test_invalid_client_is_fatal_whatever_the_grant(grant: Grant) -> None:
    s = state()
    s.accept({"access_token": "at-1", "refresh_token": "rt-1"}, now=0.0)
    with pytest.raises(InvalidClient) as info:
        s.reject(grant, 400, {"error": "invalid_client"})
    assert "AUTOCARE_CLIENT_SECRET" in str(info.value) and not info.value.transient


def test_401_without_code_is_a_rejected_client() -> None:
    with pytest.raises(InvalidClient):
        state().reject(Grant.PASSWORD, 401, None)


def test_invalid_grant_on_refresh_falls_back_to_password() -> None:
    s = state()
    s.accept({"access_token": "at-1", "refresh_token": "rt-1"}, now=0.0)
    assert s.reject(Grant.REFRESH, 400, {"error": "invalid_grant"}) is Grant.PASSWORD
    assert s.next_grant() is Grant.PASSWORD


def test_unsupported_refresh_falls_back_to_password() -> None:
    s = state()
    s.accept({"access_token": "at-1", "refresh_token": "rt-1"}, now=0.0)
    assert s.reject(Grant.REFRESH, 400, {"error": "unsupported_grant_type"}) is Grant.PASSWORD


def test_invalid_grant_on_password_is_fatal_and_scrubbed() -> None:
    body = {"error": "invalid_grant", "error_description": "password pw-SECRET is wrong for client cs-SECRET"}
    with pytest.raises(InvalidGrant) as info:
        state().reject(Grant.PASSWORD, 400, body)
    msg = str(info.value)
    assert "AUTOCARE_PASSWORD" in msg and "invalid_grant" in msg
    assert "pw-SECRET" not in msg and "cs-SECRET" not in msg


def test_other_oauth_errors_are_fatal() -> None:
    with pytest.raises(AuthenticationFailed, match="AUTOCARE_SCOPE"):
        state().reject(Grant.PASSWORD, 400, {"error": "invalid_scope"})
    with pytest.raises(AuthenticationFailed) as info:
        state().reject(Grant.PASSWORD, 400, {"error": "<script>"})  # not an OAuth code: not shown
    assert "<script>" not in str(info.value)


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
def test_token_endpoint_down_is_transient(status: int) -> None:
    with pytest.raises(TokenEndpointUnavailable) as info:
        state().reject(Grant.PASSWORD, status, None, retry_after=5.0)
    assert info.value.retry_after == 5.0 and info.value.status == status


def test_repr_and_secret_values() -> None:
    s = state()
    s.accept({"access_token": "at-1", "refresh_token": "rt-1"}, now=0.0)
    for text in (repr(s), repr(s.token), repr(CREDS), str(s.token)):
        for secret in ("at-1", "rt-1", "pw-SECRET", "cs-SECRET"):
            assert secret not in text
    assert set(s.secret_values()) == {"at-1", "rt-1", "pw-SECRET", "cs-SECRET"}
