"""Cross-site request protection and the admin token, for every POST.

A POST is refused (403) when the browser says it came from another site (`Sec-Fetch-Site`, or an
`Origin` that is not ours).  A form POST must also carry the `csrf_token` field equal to the
`vcdb_csrf` cookie, which every HTML page sets (SameSite=Strict: another site can neither read it
nor send it).  A JSON POST must be `application/json`, which a cross-site form cannot send without
a CORS preflight that we never answer.  Actions that change state (replay) also need
VCDB_ADMIN_TOKEN: a form's `admin_token` field or an `Authorization: Bearer` header.
"""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web

from web.config import WebConfig
from web.errors import Forbidden

CSRF_COOKIE = "vcdb_csrf"
CSRF_FIELD = "csrf_token"
NEW_TOKEN: web.RequestKey[str] = web.RequestKey("new_csrf", str)


def csrf_token(request: web.Request) -> str:
    """The page's token: the cookie's, or a new one (set on the response by web/app.py)."""
    return request.cookies.get(CSRF_COOKIE) or request.get(NEW_TOKEN) or _new(request)


def _new(request: web.Request) -> str:
    token = secrets.token_urlsafe(24)
    request[NEW_TOKEN] = token
    return token


def set_cookie(request: web.Request, response: web.StreamResponse) -> None:
    token = request.get(NEW_TOKEN)
    if token and not request.cookies.get(CSRF_COOKIE):
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="Strict", path="/")


def check_same_site(request: web.Request) -> None:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        raise Forbidden(f"cross-site request refused (Sec-Fetch-Site: {site})")
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        raise Forbidden(f"cross-site request refused (Origin {origin} is not this server)")


def check_form_token(request: web.Request, submitted: str | None) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        raise Forbidden("the form's CSRF token is missing or does not match: reload the page and try again")


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
