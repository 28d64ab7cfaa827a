"""The explorer's endpoints, each declared once: one typed function serves its HTML page and its
JSON twin under /api/v1, and the OpenAPI document is built from the same declarations.

    @endpoint("makes", page="/vehicles/{year}", api="/years/{year}/makes", template="makes.html")
    async def makes(ctx: Context, p: MakesParams) -> MakesPage: ...

The second argument's annotation (a pydantic model) says the parameters: path parameters by the
names in the paths, the rest from the query string (or, for a POST, the form or JSON body); what
fails to validate is a 400 naming the parameter.  The return annotation (a pydantic model) is the
JSON body and the template's `page`.  A handler raises web/errors.py's errors for 404 and 400.

Every parameter is checked against what SQL can take before a handler sees it (`Params`): no
string holds a NUL byte (PostgreSQL's text cannot) or more than STR_MAX characters, and every int
fits its column: an int4 unless the field is declared `BigInt` (a bigint column: run, dead letter,
release and replay ids).  asyncpg would otherwise refuse the value inside the query, a 500.  An
id in the path that its column cannot hold names nothing: web/app.py answers 404 for it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, get_args, get_origin, get_type_hints

from aiohttp import web
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from web.config import WebConfig

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


OUT_OF_RANGE = "sql_range"  # the error type of an int its column cannot hold (in a path: names nothing, 404)
STR_MAX = 1000  # characters of any string parameter (a field's own max_length may say less)


@dataclass(frozen=True)
class SqlInt:
    """The range of an int parameter's SQL column (PostgreSQL's int4 unless declared otherwise)."""

    name: str
    low: int
    high: int


INT4 = SqlInt("int32", -(2**31), 2**31 - 1)
INT8 = SqlInt("int64", -(2**63), 2**63 - 1)
BigInt = Annotated[int, INT8]  # a parameter compared with a bigint column


def int_range(field: FieldInfo) -> SqlInt:
    """The SQL range of a field's ints: INT8 where `BigInt` appears in its annotation, else INT4."""
    found = [m for m in field.metadata if isinstance(m, SqlInt)]
    todo = [field.annotation]
    while todo and not found:
        t = todo.pop()
        if get_origin(t) is Annotated:
            found += [m for m in getattr(t, "__metadata__", ()) if isinstance(m, SqlInt)]
        todo += [a for a in get_args(t) if not isinstance(a, (str, int, float, bool, SqlInt))]
    return found[0] if found else INT4


def _check(value: Any, ints: SqlInt) -> None:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain a NUL byte")
        if len(value) > STR_MAX:
            raise ValueError(f"must be at most {STR_MAX} characters")
    elif isinstance(value, int) and not isinstance(value, bool):
        if not ints.low <= value <= ints.high:
            raise PydanticCustomError(OUT_OF_RANGE, "must be between {low} and {high}",
                                      {"low": ints.low, "high": ints.high})
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            _check(v, ints)


class Params(BaseModel):
    """Base of every endpoint's parameters: unknown query parameters are ignored, and every value
    is checked against what SQL can take (see the module's docstring)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _fits_sql(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is not None:
            key = (cls, info.field_name)
            if key not in _RANGES:
                _RANGES[key] = int_range(cls.model_fields[info.field_name])
            _check(value, _RANGES[key])
        return value


_RANGES: dict[tuple[type[Params], str], SqlInt] = {}  # per field, found once


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
