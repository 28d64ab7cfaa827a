"""What an endpoint raises for the client's mistakes; web/app.py turns each into a status code,
an HTML page or a JSON body."""

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


@dataclass(frozen=True)
class Problem:
    status: int
    title: str
    detail: str
    parameters: tuple[str, ...] = ()
    link: str | None = None

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"status": self.status, "title": self.title, "detail": self.detail,
                                   "parameters": list(self.parameters)}
        if self.link is not None:
            body["link"] = self.link
        return body
