"""The HTTP face of the simulator (aiohttp; the only module here that imports it).

Routes, after reference [1.1]-[1.5] (one server stands in for every host):

* `POST /connect/token` -- the identity server (password and refresh_token grants).
* `GET /api/v{n}[.{m}]/{db}/{Table}` -- records: a bare JSON array plus `X-Pagination`.
* `GET /api/v1.0/databases`, `GET /api/v1.0/databases/{db}/tables` -- the catalog ("common" host).
* `GET /_sim/stats`, `POST /_sim/faults`, `POST /_sim/release`, `GET /_sim/oracle/{db}/{table}` --
  the test control plane (no token needed).

Check order on a record request: token (401), db and table (404), scope (403), parameters (400),
then the fault profile; only then the data.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import json
import re
import socket
import struct
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from schemas import api_map
from simulator import oracle
from simulator.config import ServerConfig
from simulator.dataset import Dataset
from simulator.faults import FaultProfile, FaultProfileError, PageRequest, Rule, decide, token_outage
from simulator.paging import PageQuery, QueryError, pagination, parse_query
from simulator.stats import Stats
from simulator.tokens import OAuthError, TokenStore

_VERSION = re.compile(r"^v\d+(\.\d+)?$", re.IGNORECASE)
DISPLAY_NAMES = {"vcdb": "VCdb", "pcdb": "PCdb", "padb": "PAdb", "qdb": "Qdb"}
_CATALOG_SCOPE = "CommonApis"  # [1.5]: the catalog endpoints live on the "common" host


class SimulatorState:
    """Everything a running simulator knows and counts; the control plane changes it."""

    def __init__(self, config: ServerConfig, dataset: Dataset, *, clock: Callable[[], float],
                 wall_clock: Callable[[], dt.datetime], new_token: Callable[[], str] | None = None) -> None:
        self.config = config
        self.dataset = dataset
        self.clock = clock
        self.wall_clock = wall_clock
        kwargs = {"new_token": new_token} if new_token is not None else {}
        self.tokens = TokenStore(config.credentials, ttl=config.token_ttl, refresh_ttl=config.refresh_ttl,
                                 clock=clock, **kwargs)
        self.stats = Stats()
        self.release = config.release if config.release is not None else dataset.releases
        if not 1 <= self.release <= dataset.releases:
            raise ValueError(f"release {self.release} is outside the timeline (1..{dataset.releases})")
        self.profile = FaultProfile()
        self.fired: Counter[str] = Counter()
        self.token_requests = 0
        self.profile_installed_at = clock()
        self.set_profile(FaultProfile.from_json(config.faults))

    def set_profile(self, profile: FaultProfile) -> None:
        self.profile = profile
        self.fired = Counter()
        self.token_requests = 0
        self.profile_installed_at = self.clock()


STATE: web.AppKey[SimulatorState] = web.AppKey("simulator_state", SimulatorState)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=json.dumps(body, separators=(",", ":")).encode(), status=status,
                        content_type="application/json", headers=headers)


_REASONS = {400: "bad_request", 401: "invalid_token", 403: "insufficient_scope", 404: "not_found",
            429: "too_many_requests", 500: "server_error", 502: "bad_gateway", 503: "service_unavailable",
            504: "gateway_timeout"}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    # [1.6 U]: the error body format is unknown; clients look for `error` or `message`.
    return _json({"error": _REASONS.get(status, "error"), "message": message}, status, headers)


@web.middleware
async def _count_statuses(request: web.Request,
                          handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    stats = request.app[STATE].stats
    try:
        response = await handler(request)
    except web.HTTPException as e:
        stats.status(e.status)
        raise
    if request.transport is not None and not request.transport.is_closing():  # a reset answers nothing
        stats.status(response.status)
    return response


# -- identity -------------------------------------------------------------------------------------


async def token(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.stats.request("token")
    number = state.token_requests
    state.token_requests += 1
    outage = token_outage(state.profile.token, number, state.clock() - state.profile_installed_at)
    if outage is not None:
        state.stats.fault("token_outage", "token.outage")
        return _json({"error": "temporarily_unavailable", "error_description": "the token service is down"}, outage)
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    try:
        body = state.tokens.grant(form, request.headers.get("Authorization"), state.profile.token.expires_in)
    except OAuthError as e:
        return _json(e.body(), e.status, {"Cache-Control": "no-store"})
    state.stats.tokens_issued += 1
    return _json(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _bearer(request: web.Request, state: SimulatorState) -> frozenset[str] | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    grant = state.tokens.check(header[7:].strip(), state.profile.token.revoke_after_s)
    return grant.scope if grant is not None else None


_UNAUTHORIZED = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


# -- the API --------------------------------------------------------------------------------------


def _db_named(name: str) -> str | None:
    lowered = name.lower()
    for db, spec in api_map.DATABASES.items():
        if lowered in (db, spec.path.lower()):
            return db
    return None


async def api(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    parts = [p for p in request.match_info["tail"].split("/") if p]
    if not _VERSION.match(request.match_info["version"]) or not 1 <= len(parts) <= 3:
        state.stats.request("unknown")
        return _error(404, "no such endpoint")
    catalog = parts[0].lower() == "databases" and len(parts) in (1, 3)
    state.stats.request("catalog" if catalog else "records")
    scope = _bearer(request, state)
    if scope is None:
        return _error(401, "a valid bearer token is required", _UNAUTHORIZED)
    if catalog:
        return _catalog(state, parts, scope)
    if len(parts) != 2:
        return _error(404, "no such endpoint")
    db = _db_named(parts[0])
    if db is None:
        return _error(404, f"unknown database {parts[0]!r}")
    try:
        table = state.dataset.table(db, parts[1])
    except KeyError:
        return _error(404, f"unknown table {parts[1]!r} in {db}")
    if api_map.DATABASES[db].scope not in scope:
        return _error(403, f"the token's scope does not include {api_map.DATABASES[db].scope}")
    params = list(request.query.items())
    try:
        query = parse_query(params, default_page_size=state.config.default_page_size,
                            max_page_size=state.config.max_page_size)
    except QueryError as e:
        return _error(400, str(e))
    return await _records(request, state, db, table.name, query, params)


def _catalog(state: SimulatorState, parts: list[str], scope: frozenset[str]) -> web.Response:
    if _CATALOG_SCOPE not in scope:
        return _error(403, f"the token's scope does not include {_CATALOG_SCOPE}")
    if len(parts) == 1:
        return _json([{"databaseName": DISPLAY_NAMES[db], "version": spec.version.lstrip("v"),
                       "description": f"Auto Care {DISPLAY_NAMES[db]}"} for db, spec in api_map.DATABASES.items()])
    db = _db_named(parts[1]) if parts[2].lower() == "tables" else None
    if db is None:
        return _error(404, "no such database")
    return _json([{"TableName": t.api_table} for t in state.dataset.api_tables(db)])


async def _records(request: web.Request, state: SimulatorState, db: str, name: str, query: PageQuery,
                   params: list[tuple[str, str]]) -> web.StreamResponse:
    table = state.dataset.table(db, name)
    endpoint = f"{db}/{name}"
    attempt = state.stats.page_request(endpoint, query.page_number)
    rule = decide(state.profile, state.dataset.config.seed,
                  PageRequest(db, name, table.api_table or name, query.page_number, attempt), state.fired)
    if rule is not None:
        state.fired[rule.name] += 1
        state.stats.fault(rule.kind, rule.name)
        early = await _early_fault(request, state, rule)
        if early is not None:
            return early
    view, release = state.dataset.view(db, name, now=state.release, as_of=query.as_of, since=query.since,
                                       include_ended=state.config.include_ended_in_full)
    indices = view.slice(query.offset, query.page_size)
    if rule is not None and rule.kind == "duplicate" and indices and query.offset >= 1:
        indices = view.slice(query.offset - 1, 1) + indices  # page k+1 repeats page k's last record
    records = state.dataset.records(db, name, indices, release)
    base = state.config.advertised_url.rstrip("/") if state.config.advertised_url else str(request.url.origin())
    next_base = None
    if rule is not None and rule.kind == "scheme_case":
        scheme, _, rest = base.partition("://")
        base = next_base = f"{scheme.upper()}://{rest.upper()}"
    elif rule is not None and rule.kind == "foreign_host":
        next_base = rule.host
    header = pagination(len(view), query, base, request.path, params, next_base)
    body = json.dumps(records, separators=(",", ":")).encode()
    headers = {"X-Pagination": json.dumps(header, separators=(",", ":"))}
    if rule is None or rule.kind not in ("malformed_json", "truncate"):
        state.stats.page(endpoint, query.page_number, len(records))
    if rule is not None and rule.kind == "malformed_json":
        body = repr(records).encode() if records else b"["  # Python repr: single quotes, None
    elif rule is not None and rule.kind == "truncate":
        if rule.mode == "cut_json":
            body = body[: max(1, len(body) // 2)]
        else:
            return await _short_body(request, body, headers)
    return web.Response(body=body, content_type="application/json", headers=headers)


async def _early_fault(request: web.Request, state: SimulatorState, rule: Rule) -> web.StreamResponse | None:
    """Faults that replace the answer; None for those that alter it (or only delay it)."""
    if rule.kind == "throttle":
        if rule.retry_after_format == "http-date":
            when = state.wall_clock() + dt.timedelta(seconds=rule.retry_after)
            retry_after = email.utils.format_datetime(when.astimezone(dt.UTC), usegmt=True)
        else:
            retry_after = str(round(rule.retry_after))
        return _error(rule.status, "too many requests", {"Retry-After": retry_after})
    if rule.kind in ("error", "fail_for_good"):
        return _error(rule.status, f"simulated failure ({rule.name})")
    if rule.kind == "reset":
        _reset(request)
        return web.Response(status=500)  # never reaches the client: the connection is gone
    if rule.kind == "slow":
        await asyncio.sleep(rule.delay_s)
    return None


def _reset(request: web.Request) -> None:
    """Drop the connection with a TCP RST, before any byte of the answer."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def _short_body(request: web.Request, body: bytes, headers: dict[str, str]) -> web.StreamResponse:
    """Announce the whole body, send half of it, then drop the connection."""
    response = web.StreamResponse(status=200, headers=headers)
    response.content_type = "application/json"
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body[: len(body) // 2])
    _reset(request)
    return response


# -- control plane --------------------------------------------------------------------------------


async def sim_stats(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return _json(state.stats.as_json(state.release))


async def sim_faults(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        profile = FaultProfile.from_json(await request.json())
    except (FaultProfileError, json.JSONDecodeError) as e:
        return _error(400, str(e))
    state.set_profile(profile)
    return _json({"rules": len(profile.rules)})


async def sim_release(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        data = await request.json()
        release = int(data["release"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return _error(400, 'expected {"release": <number>}')
    if not 1 <= release <= state.dataset.releases:
        return _error(400, f"release must be between 1 and {state.dataset.releases}")
    state.release = release
    return _json({"release": release, "date": state.dataset.timeline.date_of(release).isoformat()})


async def sim_oracle(request: web.Request) -> web.Response:
    state = request.app[STATE]
    db = _db_named(request.match_info["db"])
    try:
        if db is None:
            raise KeyError(request.match_info["db"])
        table = state.dataset.table(db, request.match_info["table"])
        raw = request.query.get("asof")
        as_of: oracle.AsOf = dt.date.fromisoformat(raw) if raw else state.release
        limit = int(request.query.get("limit", "1000000"))
    except (KeyError, ValueError) as e:
        return _error(404 if isinstance(e, KeyError) else 400, str(e))
    rows = []
    for n, row in enumerate(oracle.expected_rows(state.dataset, table.db, table.name, as_of)):
        if n >= limit:
            break
        rows.append({k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()})
    return _json(rows)


# -- assembly -------------------------------------------------------------------------------------


def build_app(config: ServerConfig, *, dataset: Dataset | None = None, clock: Callable[[], float] = time.monotonic,
              wall_clock: Callable[[], dt.datetime] | None = None,
              new_token: Callable[[], str] | None = None) -> web.Application:
    app = web.Application(middlewares=[_count_statuses])
    app[STATE] = SimulatorState(config, dataset or Dataset(config.dataset), clock=clock,
                                wall_clock=wall_clock or (lambda: dt.datetime.now(dt.UTC)), new_token=new_token)
    app.router.add_post("/connect/token", token)
    app.router.add_get("/api/{version}/{tail:.*}", api)
    app.router.add_get("/_sim/stats", sim_stats)
    app.router.add_post("/_sim/faults", sim_faults)
    app.router.add_post("/_sim/release", sim_release)
    app.router.add_get("/_sim/oracle/{db}/{table}", sim_oracle)
    return app


async def start_server(config: ServerConfig, *, dataset: Dataset | None = None) -> tuple[web.AppRunner, str]:
    """Serve on config.host:config.port (0: a free port); returns the runner (call `cleanup()`
    to stop) and the base URL.  The running state is `runner.app[STATE]`."""
    app = build_app(config, dataset=dataset)
    kwargs: dict[str, Any] = {} if config.access_log else {"access_log": None}
    runner = web.AppRunner(app, handle_signals=False, **kwargs)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    port = runner.addresses[0][1]
    host = f"[{config.host}]" if ":" in config.host else config.host
    return runner, f"http://{host}:{port}"
