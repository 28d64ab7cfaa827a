"""The explorer's aiohttp application: the pools, the templates, the routes of every endpoint
(web/endpoints.py) as an HTML page and a JSON twin, the OpenAPI document, errors as problems.

Every request gets a request id (the `X-Request-Id` header, and every problem's `request_id`).  A
Host that is not allowed is answered 421 before anything else (web/security.py); an error we did
not expect is a 500 whose traceback is logged once, with the request id the page shows."""

from __future__ import annotations

import importlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, get_args, get_origin

import aiohttp_jinja2
import jinja2
from aiohttp import web
from pydantic import ValidationError

from ledger import releases
from ledger.errors import InfrastructureError
from ledger.pools import connect_reader
from web import openapi, security
from web.config import WebConfig
from web.endpoints import OUT_OF_RANGE, REGISTRY, Context, Endpoint, page_url
from web.errors import BadParameter, ClientError, Misdirected, NotFound, Problem
from web.operations import replay_writer

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
API = "/api/v1"
# The modules that declare endpoints; importing one registers its endpoints.
PAGE_MODULES = ("web.home", "web.vehicles", "web.search", "web.parts", "web.operations", "web.releases")

CONFIG = web.AppKey("config", WebConfig)
READ_POOL: web.AppKey[Any] = web.AppKey("read_pool")
DATA_RUN = web.AppKey("data_run", dict)  # the newest published release, cached a few seconds
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id", str)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
DATA_RUN_TTL_S = 2.0
SERVER = "vcdb-explorer"  # the Server header: no versions
# aiohttp's parser refuses a longer request line or header itself (8190 bytes by default), with its
# own 400 that bypasses our problems and names its version: room for any parameter we validate.
SERVER_OPTIONS: dict[str, Any] = {"max_line_size": 32768, "max_field_size": 32768}
# Pages and answers that show dead letters (original records, operators' replays): never cached.
NO_STORE_PREFIXES = ("/dead-letters", "/replays", API + "/dead-letters", API + "/replays")


def build_app(config: WebConfig) -> web.Application:
    for module in PAGE_MODULES:
        importlib.import_module(module)
    app = web.Application(middlewares=[problems])
    app.on_response_prepare.append(_headers)
    app[CONFIG] = config
    app[DATA_RUN] = {}
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"), enable_async=True,
                               autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
                               undefined=jinja2.StrictUndefined)
    env.tests["link"] = security.is_link  # `{% if address is link %}`: only http(s) and relative addresses
    app.cleanup_ctx.append(_pools)
    app.cleanup_ctx.append(replay_writer)  # the replays' one writer pool, opened at the first replay
    app.router.add_static("/static", HERE / "static", name="static")
    for ep in REGISTRY.values():
        if ep.page:
            app.router.add_route(ep.method, ep.page, _page_handler(ep), name=f"page:{ep.name}")
        if ep.api:
            app.router.add_route(ep.method, API + ep.api, _api_handler(ep), name=f"api:{ep.name}")
    document = openapi.document(REGISTRY.values(), API)

    async def spec(_: web.Request) -> web.Response:
        return web.json_response(document)

    app.router.add_get(API + "/openapi.json", spec, name="openapi")
    return app


async def _pools(app: web.Application) -> AsyncIterator[None]:
    app[READ_POOL] = await connect_reader(app[CONFIG].read_url)
    yield
    await app[READ_POOL].close()


# ---- requests ------------------------------------------------------------------------------------

def _context(request: web.Request) -> Context:
    return Context(request, request.app[READ_POOL], request.app[CONFIG])


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) in (list, tuple):
        return True
    return any(get_origin(a) in (list, tuple) for a in get_args(annotation))


async def _params(ep: Endpoint, request: web.Request, *, api: bool) -> Any:
    fields = ep.params.model_fields
    raw: dict[str, Any] = {}
    sources: list[Any] = [request.query]
    if ep.method == "POST":
        security.check_same_site(request, request.app[CONFIG])
        if api:
            if request.content_type != "application/json":
                raise BadParameter("the body must be application/json")
            try:
                body = await request.json()
            except ValueError as e:
                raise BadParameter(f"the body is not JSON: {e}") from e
            if not isinstance(body, dict):
                raise BadParameter("the body must be a JSON object")
            raw.update(body)
        else:
            form = await request.post()
            security.check_form_token(request, request.app[CONFIG], _text(form.get(security.CSRF_FIELD)))
            sources.append(form)
    for source in sources:
        for name in source:
            if name not in fields:
                continue
            if _is_list(fields[name].annotation):
                values = [v for v in source.getall(name) if isinstance(v, str) and v != ""]
                raw[name] = [x for v in values for x in v.replace(",", " ").split()]
            elif isinstance(source[name], str) and source[name] != "":
                raw[name] = source[name]
    raw.update(request.match_info)
    try:
        return ep.params.model_validate(raw)
    except ValidationError as e:
        names = tuple(dict.fromkeys(str(err["loc"][0]) for err in e.errors() if err["loc"]))
        if names and all(err["type"] == OUT_OF_RANGE and err["loc"][0] in request.match_info for err in e.errors()):
            raise NotFound(f"there is no {names[0].removesuffix('_id')} {raw[names[0]]}") from e
        detail = "; ".join(f"{'.'.join(str(x) for x in err['loc']) or 'parameters'}: {err['msg']}"
                           for err in e.errors())
        raise BadParameter(f"bad parameter {', '.join(names) or ''}: {detail}".replace("  ", " "),
                           parameters=names) from e


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _page_handler(ep: Endpoint) -> Any:
    async def handle(request: web.Request) -> web.StreamResponse:
        params = await _params(ep, request, api=False)
        result = await ep.handler(_context(request), params)
        if isinstance(result, web.StreamResponse):
            return result
        template = ep.fragment if ep.fragment and request.headers.get("HX-Request") else ep.template
        assert template is not None
        return await render(request, template, {"page": result, "params": params})

    return handle


def _api_handler(ep: Endpoint) -> Any:
    async def handle(request: web.Request) -> web.StreamResponse:
        params = await _params(ep, request, api=True)
        result = await ep.handler(_context(request), params)
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response(text=result.model_dump_json())

    return handle


async def render(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
                 ) -> web.Response:
    app = request.app

    def url(name: str, query: dict[str, Any] | None = None, **parts: Any) -> str:
        return page_url(app, name, query=query, **parts)

    base = {"url": url, "config": app[CONFIG], "request": request,
            "csrf_token": security.csrf_token(request, app[CONFIG]),
            "data_run": await data_run(app), "static": lambda path: f"/static/{path}"}
    response = await aiohttp_jinja2.render_template_async(template, request, {**base, **context}, status=status)
    security.set_cookie(request, response)
    return response


async def data_run(app: web.Application) -> dict[str, Any] | None:
    """The newest published release (for the "data as of" banner), cached DATA_RUN_TTL_S."""
    cached = app[DATA_RUN]
    now = time.monotonic()
    if cached.get("at", -1e9) + DATA_RUN_TTL_S < now:
        try:
            row = await releases.newest_published(app[READ_POOL])
        except Exception:  # the banner must not take a page down; the page's own query reports the fault
            log.warning("cannot read the newest release for the banner", exc_info=True)
            return None
        cached.update(at=now, run=dict(row) if row else None)
    run: dict[str, Any] | None = cached["run"]
    return run


# ---- errors --------------------------------------------------------------------------------------

@web.middleware
async def problems(request: web.Request, handler: Any) -> web.StreamResponse:
    request_id = request[REQUEST_ID] = secrets.token_hex(8)
    try:
        security.check_host(request, request.app[CONFIG])
        response: web.StreamResponse = await handler(request)
    except ClientError as e:
        response = await _problem(request, Problem(e.status, e.title, e.message, e.parameters, request_id,
                                                   e.link))
    except web.HTTPNotFound:
        response = await _problem(request, Problem(404, "Not found", f"there is no page at {request.path}",
                                                   request_id=request_id))
    except web.HTTPMethodNotAllowed as e:
        allowed = ", ".join(sorted(e.allowed_methods))
        response = await _problem(request, Problem(405, "Method not allowed",
                                                   f"{request.method} is not allowed here; use {allowed}",
                                                   request_id=request_id))
    except web.HTTPException:
        raise  # redirects and the like
    except InfrastructureError as e:
        log.error("explorer request %s %s failed (request id %s): %s", request.method, request.path, request_id, e)
        response = await _problem(request, Problem(503, "Unavailable", str(e), request_id=request_id))
    except Exception:
        # The one place an unexpected error is logged: its traceback, once, under the request id
        # that the page or the JSON problem shows.
        log.exception("explorer request %s %s failed (request id %s)", request.method, request.path, request_id)
        response = await _problem(request, Problem(
            500, "Internal error", f"the server failed; its log says why under request id {request_id}",
            request_id=request_id))
    response.headers.update(SECURITY_HEADERS)
    if request.path.startswith(NO_STORE_PREFIXES):
        response.headers["Cache-Control"] = "no-store"
    return response


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response, whatever made it: no versions in Server, and the request id."""
    response.headers["Server"] = SERVER
    if REQUEST_ID in request:
        response.headers["X-Request-Id"] = request[REQUEST_ID]


async def _problem(request: web.Request, problem: Problem) -> web.Response:
    if request.path.startswith(API + "/") or "application/json" in request.headers.get("Accept", "").split(",")[0]:
        return web.json_response(problem.as_json(), status=problem.status)
    if problem.status == Misdirected.status:
        # Not the page: it would read the database (the banner) for a host we do not serve.
        return web.Response(text=f"{problem.status} {problem.title}: {problem.detail}", status=problem.status)
    try:
        return await render(request, "error.html", {"problem": problem}, status=problem.status)
    except Exception:
        log.exception("cannot render the error page")
        return web.Response(text=f"{problem.status} {problem.title}: {problem.detail}", status=problem.status)


# ---- serving -------------------------------------------------------------------------------------

async def serve(config: WebConfig, stopped: Any, announce: Any = print) -> None:
    """Serve until `stopped` (an asyncio.Event) is set."""
    app = build_app(config)
    runner = web.AppRunner(app, access_log=None, **SERVER_OPTIONS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        announce(f"explorer on http://{config.host}:{config.port}/"
                 + (" (read-only)" if config.read_only else "")
                 + (f" (hosts: {', '.join(config.allowed_hosts)})" if config.allowed_hosts else "")
                 + ("" if config.replay_enabled or config.read_only else " (replay off: VCDB_ADMIN_TOKEN unset)"))
        await stopped.wait()
    finally:
        await runner.cleanup()
