"""The explorer's guards: the hosts it answers, cross-site request protection and the admin token
for every POST, and which addresses from the data may become links.

Hosts: a request whose `Host` is not allowed is refused (421 Misdirected Request), so a page of
another site whose name was re-bound to this address (DNS rebinding) reads nothing.  Allowed: the
`--allowed-host` names (`name` with any port, or `name:port`), else the bound address, the
address the connection came in on, localhost, 127.0.0.1 and [::1], each with the port served.

A POST is refused (403) when the browser says it came from another site (`Sec-Fetch-Site`, or an
`Origin` that is not one of the allowed hosts).  A form POST must also carry the `csrf_token`
field: an HMAC, under a secret of the process, of the `vcdb_session` cookie, which every HTML page
sets (HttpOnly, SameSite=Strict).  A cookie and field invented together do not match: only the
server can sign.  A JSON POST must be `application/json`, which a cross-site form cannot send
without a CORS preflight that we never answer.  Actions that change state (replay) also need
VCDB_ADMIN_TOKEN: a form's `admin_token` field or an `Authorization: Bearer` header.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from aiohttp import web

from web.config import WebConfig
from web.errors import Forbidden, Misdirected

SESSION_COOKIE = "vcdb_session"
CSRF_FIELD = "csrf_token"
NEW_SESSION: web.RequestKey[str] = web.RequestKey("new_session", str)
LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")
_SESSION = re.compile(r"[A-Za-z0-9_-]{16,64}")
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[^\[\]:/@\s]+)(?::(\d{1,5}))?")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


# ---- hosts ---------------------------------------------------------------------------------------

def _name(host: str) -> str:
    host = host.strip().lower()
    return f"[{host}]" if ":" in host and not host.startswith("[") else host  # an IPv6 literal


def split_host(value: str) -> tuple[str, int | None] | None:
    """A Host header (or an allowed host) as its name and port; None if it is not one."""
    m = _HOST.fullmatch(value.strip())
    if m is None:
        return None
    return _name(m.group(1)), int(m.group(2)) if m.group(2) else None


def host_allowed(value: str, config: WebConfig, local: tuple[str, int] | None) -> bool:
    """Is `value` (a Host header, "name[:port]") one we answer?  `local`: the connection's own
    address and port (the port served, whatever the configuration says)."""
    given = split_host(value)
    if given is None:
        return False
    name, port = given
    if config.allowed_hosts:
        for entry in config.allowed_hosts:
            allowed = split_host(entry)
            if allowed is not None and allowed[0] == name and allowed[1] in (None, port if port else 80):
                return True
        return False
    served = local[1] if local else config.port
    names = {_name(config.host), *LOCAL_NAMES, *([_name(local[0])] if local else [])}
    return name in names and (port if port is not None else 80) == served


def _local(request: web.Request) -> tuple[str, int] | None:
    sock: Any = request.transport.get_extra_info("sockname") if request.transport else None
    if isinstance(sock, tuple) and len(sock) >= 2:
        return str(sock[0]), int(sock[1])
    return None


def check_host(request: web.Request, config: WebConfig) -> None:
    host = request.headers.get("Host", "")
    if not host_allowed(host, config, _local(request)):
        raise Misdirected(f"this server does not answer for host {host[:100]!r}: "
                          "start it with --allowed-host for that name")


# ---- cross-site requests -------------------------------------------------------------------------

def _session(request: web.Request) -> str:
    """The session of the request: its cookie's, or a new one (set on the response by set_cookie)."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if _SESSION.fullmatch(cookie):
        return cookie
    if NEW_SESSION not in request:
        request[NEW_SESSION] = secrets.token_urlsafe(24)
    return request[NEW_SESSION]


def _sign(config: WebConfig, session: str) -> str:
    return hmac.new(config.csrf_secret.get_secret_value().encode(), session.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: web.Request, config: WebConfig) -> str:
    """The token a page's forms carry: bound to the request's session."""
    return _sign(config, _session(request))


def set_cookie(request: web.Request, response: web.StreamResponse) -> None:
    if NEW_SESSION in request:
        response.set_cookie(SESSION_COOKIE, request[NEW_SESSION], httponly=True, samesite="Strict", path="/")


def check_same_site(request: web.Request, config: WebConfig) -> None:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        raise Forbidden(f"cross-site request refused (Sec-Fetch-Site: {site})")
    origin = request.headers.get("Origin")
    if origin is None:
        return
    scheme, sep, host = origin.partition("://")
    if not sep or scheme not in ("http", "https") or not host_allowed(host, config, _local(request)):
        raise Forbidden(f"cross-site request refused (Origin {origin[:100]} is not this server)")


def check_form_token(request: web.Request, config: WebConfig, submitted: str | None) -> None:
    session = request.cookies.get(SESSION_COOKIE, "")
    if (not _SESSION.fullmatch(session) or not submitted
            or not hmac.compare_digest(_sign(config, session).encode(), submitted.encode())):
        raise Forbidden("the form's CSRF token is missing or not this session's: reload the page and try again")


def require_admin(config: WebConfig, request: web.Request, form_token: str | None = None) -> None:
    """Refuse unless replay is on and the request carries the admin token."""
    if config.read_only:
        raise Forbidden("the explorer runs --read-only: replay is off")
    if config.admin_token is None:
        raise Forbidden("VCDB_ADMIN_TOKEN is not set: replay from the explorer is off")
    auth = request.headers.get("Authorization", "")
    given = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else (form_token or "")
    if not given or not hmac.compare_digest(given.encode(), config.admin_token.get_secret_value().encode()):
        raise Forbidden("the admin token is missing or wrong")


# ---- links from the data -------------------------------------------------------------------------

def is_link(value: object) -> bool:
    """May this address from the data (a PIES image URI, ...) be a link?  Only http, https and
    relative addresses; never javascript:, data: or any other scheme, nor one that hides its
    scheme behind spaces or control characters (browsers strip those before they look)."""
    if not isinstance(value, str) or not value or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in value):
        return False
    m = _SCHEME.match(value)
    return m is None or m.group(1).lower() in ("http", "https")
