"""The AutoCare API client's errors, each carrying its verdict.

Every error says whether trying again can help (``transient``) and exactly one place acts on
that verdict: ``retry.RetryPolicy.next_delay`` (called by the client's request loop).  A
transient error that outlives the retry budget becomes ``RetriesExhausted``, which is fatal.
Anything that is not an ``ApiError`` is treated as transient by ``is_transient``: it stops the
run without checkpointing rather than skipping a page silently.

    ApiError (Exception)                      transient: bool, path, status
    ├── TransientApiError                     transient=True, retry_after: float | None
    │   ├── RateLimited                       429
    │   ├── ServerError                       5xx, 408
    │   ├── NetworkError                      timeouts, connection reset
    │   │   └── Unreachable                   could not connect: refused, no route, DNS, connect timeout
    │   ├── TruncatedBody                     body shorter than Content-Length, closed mid-body
    │   ├── MalformedBody                     body not JSON / not an array, bad X-Pagination
    │   └── TokenEndpointUnavailable          token endpoint 5xx/429/unreachable/garbled
    └── FatalApiError                         transient=False
        ├── AuthenticationFailed              401 after one re-authentication, other OAuth errors
        │   ├── InvalidClient                 OAuth invalid_client: client id/secret rejected
        │   └── InvalidGrant                  OAuth invalid_grant on the password grant
        ├── Forbidden                         403: scope or subscription missing
        ├── NotFound                          404: unknown table / database / version
        ├── UnexpectedResponse                other 4xx, redirects
        ├── ForeignLink                       a link (nextPageLink, cursor) off the configured origin
        ├── RetryAfterTooLong                 server asked to wait longer than the cap
        ├── ResponseTooLarge                  body beyond max_response_bytes
        └── RetriesExhausted                  last_error, attempts

Besides its own request, an error may doom the whole run (``dooms_run``): no endpoint of the
run can succeed after it, so the run stops at its first occurrence with one message rather than
once per endpoint.  Those are the credentials or the scope refused (``AuthenticationFailed``,
``Forbidden``: a run pulls one database, under one token) and the API out of reach once the
retries are spent (``unreachable``: the token endpoint, or no connection at all).

Messages name the method, the URL path (never the query, never a header), the status and what
to do.  They never carry a password, client secret, access or refresh token: text that comes
from a server goes through ``scrub`` before it reaches a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar


class ApiError(Exception):
    """Base of every client error; ``transient`` is the verdict."""

    transient: ClassVar[bool] = True

    def __init__(self, message: str, *, path: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class TransientApiError(ApiError):
    """Trying again later may succeed."""

    transient = True

    def __init__(
        self, message: str, *, path: str = "", status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, path=path, status=status)
        self.retry_after = retry_after  # seconds the server asked us to wait, if it said


class RateLimited(TransientApiError):
    pass


class ServerError(TransientApiError):
    pass


class NetworkError(TransientApiError):
    pass


class TruncatedBody(TransientApiError):
    pass


class Unreachable(NetworkError):
    pass


class MalformedBody(TransientApiError):
    pass


class TokenEndpointUnavailable(TransientApiError):
    pass


class FatalApiError(ApiError):
    """Trying again cannot help: a person has to change something."""

    transient = False


class AuthenticationFailed(FatalApiError):
    def __init__(
        self, message: str, *, path: str = "", status: int | None = None, oauth_error: str | None = None
    ) -> None:
        super().__init__(message, path=path, status=status)
        self.oauth_error = oauth_error


class InvalidClient(AuthenticationFailed):
    pass


class InvalidGrant(AuthenticationFailed):
    pass


class Forbidden(FatalApiError):
    pass


class NotFound(FatalApiError):
    pass


class UnexpectedResponse(FatalApiError):
    pass


class ForeignLink(FatalApiError):
    pass


class RetryAfterTooLong(FatalApiError):
    def __init__(self, message: str, *, path: str = "", status: int | None = None, retry_after: float) -> None:
        super().__init__(message, path=path, status=status)
        self.retry_after = retry_after


class ResponseTooLarge(FatalApiError):
    pass


class RetriesExhausted(FatalApiError):
    def __init__(self, last_error: ApiError, attempts: int) -> None:
        super().__init__(
            f"{last_error}; gave up after {attempts} attempts. The API or the network kept failing; "
            "check the API's status and run again later (--resume continues from the last checkpoint).",
            path=last_error.path,
            status=last_error.status,
        )
        self.last_error = last_error
        self.attempts = attempts


def is_transient(exc: BaseException) -> bool:
    """The verdict of any exception: ours say; unknown ones are transient (stop, don't skip)."""
    return exc.transient if isinstance(exc, ApiError) else True


def unreachable(exc: BaseException) -> bool:
    """The API could not be reached at all (after the retries): the token endpoint failed, or no
    connection could be made."""
    if isinstance(exc, RetriesExhausted):
        exc = exc.last_error
    return isinstance(exc, Unreachable | TokenEndpointUnavailable)


def dooms_run(exc: BaseException) -> bool:
    """Whether no other request of the run can succeed after this error (see the docstring)."""
    if isinstance(exc, AuthenticationFailed | Forbidden):
        return True
    return isinstance(exc, RetriesExhausted) and unreachable(exc)


def describe(method: str, path: str, what: str, todo: str = "") -> str:
    """One message shape for every error: where, what happened, what to do."""
    return f"{method} {path}: {what}" + (f"; {todo}" if todo else "")


_BEARER = re.compile(r"(?i)bearer\s+\S+")
_MAX_SERVER_TEXT = 200


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Server text made safe for a message: secrets and bearer tokens removed, length capped.

    A server may echo what it received (a form, a header); nothing it says is trusted.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _BEARER.sub("Bearer ***", text)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_SERVER_TEXT else text[: _MAX_SERVER_TEXT - 3] + "..."
