"""What an endpoint raises for the client's mistakes; web/app.py turns each into a status code,
an HTML page or a JSON body.

    ClientError (400)
    ├── BadParameter (400)  a parameter that does not validate: names it
    ├── NotFound (404)      no such page or row (an id in the path its column cannot hold, too)
    ├── Forbidden (403)     no admin token, read-only, cross-site, a CSRF token not of this session
    └── Misdirected (421)   a Host header that is not one of the allowed hosts (DNS rebinding)

Anything else a handler raises is not the client's: InfrastructureError (ledger/errors.py) is a
503, every other exception a 500 with a request id, its traceback logged once (web/app.py)."""

from __future__ import annotations

from dataclasses import dataclass


class ClientError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, message: str, *, parameters: tuple[str, ...] = (), link: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.parameters = parameters
        self.link = link  # where to go instead (an end-dated row's deleted=1 page), if anywhere


class BadParameter(ClientError):
    """A path or query parameter that is not valid: the message says which."""


class NotFound(ClientError):
    status = 404
    title = "Not found"


class Forbidden(ClientError):
    status = 403
    title = "Forbidden"


class Misdirected(ClientError):
    status = 421
    title = "Misdirected request"


@dataclass(frozen=True)
class Problem:
    status: int
    title: str
    detail: str
    parameters: tuple[str, ...] = ()
    request_id: str | None = None  # what the log names the request by (web/app.py)
    link: str | None = None  # where to go instead (an end-dated row's deleted=1 page)

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"status": self.status, "title": self.title, "detail": self.detail,
                                   "parameters": list(self.parameters), "request_id": self.request_id}
        if self.link is not None:
            body["link"] = self.link
        return body
