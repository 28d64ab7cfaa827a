"""The explorer's endpoints, each declared once: one typed function serves its HTML page and its
JSON twin under /api/v1, and the OpenAPI document is built from the same declarations.

    @endpoint("makes", page="/vehicles/{year}", api="/years/{year}/makes", template="makes.html")
    async def makes(ctx: Context, p: MakesParams) -> MakesPage: ...

The second argument's annotation (a pydantic model) says the parameters: path parameters by the
names in the paths, the rest from the query string (or, for a POST, the form or JSON body); what
fails to validate is a 400 naming the parameter.  The return annotation (a pydantic model) is the
JSON body and the template's `page`.  A handler raises web/errors.py's errors for 404 and 400.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, get_type_hints

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from web.config import WebConfig

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


class Params(BaseModel):
    """Base of every endpoint's parameters: unknown query parameters are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class NoParams(Params):
    pass


@dataclass(frozen=True)
class Context:
    request: web.Request
    db: Any  # the read pool (web/app.py READ_POOL): fetch, fetchrow, fetchval
    config: WebConfig

    def url(self, name: str, *, query: dict[str, Any] | None = None, **parts: Any) -> str:
        """The page URL of endpoint `name` (path parts by keyword, then a query)."""
        return page_url(self.request.app, name, query=query, **parts)


Handler = Callable[[Context, Any], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    name: str
    handler: Handler
    params: type[BaseModel]
    response: type[BaseModel]
    summary: str
    page: str | None = None  # the HTML page's path
    api: str | None = None  # the JSON path, under /api/v1
    template: str | None = None  # the page's template
    fragment: str | None = None  # the template for an htmx request (HX-Request), if other than the page's
    method: str = "GET"
    tag: str = "explorer"

    @property
    def path_names(self) -> tuple[str, ...]:
        import re

        path = self.api or self.page or ""
        return tuple(re.findall(r"{(\w+)", path))


REGISTRY: dict[str, Endpoint] = {}


def endpoint(name: str, *, page: str | None = None, api: str | None = None, template: str | None = None,
             fragment: str | None = None, method: str = "GET", tag: str = "explorer"
             ) -> Callable[[Callable[[Context, P], Awaitable[R]]], Callable[[Context, P], Awaitable[R]]]:
    """Register an endpoint function (see the module's docstring)."""

    def register(fn: Callable[[Context, P], Awaitable[R]]) -> Callable[[Context, P], Awaitable[R]]:
        if name in REGISTRY:
            raise ValueError(f"endpoint {name!r} is declared twice")
        if page is not None and template is None:
            raise ValueError(f"endpoint {name!r} has a page but no template")
        hints = get_type_hints(fn)
        second = list(inspect.signature(fn).parameters)[1]
        summary = (inspect.getdoc(fn) or name).splitlines()[0]
        REGISTRY[name] = Endpoint(name, fn, hints[second], hints["return"], summary, page, api, template,
                                  fragment, method, tag)
        return fn

    return register


def page_url(app: web.Application, name: str, *, query: dict[str, Any] | None = None, **parts: Any) -> str:
    url = app.router[f"page:{name}"].url_for(**{k: str(v) for k, v in parts.items()})
    if query:
        url = url.with_query({k: str(v) for k, v in query.items() if v is not None and v != ""})
    return str(url)
