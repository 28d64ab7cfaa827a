"""The operator's pages: runs, a run's per-table load (with an SVG of the load over time and the
backlog the database can see), dead letters with filters from the data, a total and keyset paging
(first, previous, next, last), and replay: a preview (the dry run), then a confirmed POST that
answers 303 with the replay's own page (recorded in ingest.replays, listed on /replays).  Every read of the run
state is the ledger's (ledger/runs.py, reports.py, dead_letters.py, replays.py).

Consumer lag is not read from Kafka (the explorer never connects to the broker): a run's backlog
per table is what the producer announced minus what the loader has loaded or dead-lettered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Annotated, Any, Literal, cast

from aiohttp import web
from markupsafe import escape
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

import ledger.dead_letters
import ledger.runs
from consumers.replay import UNKNOWN_TABLE, replay
from consumers.store import LoadStore
from ledger import pools, replays, reports
from ledger.dead_letters import DeadLetterFilter
from ledger.statuses import DeadLetterStatus, LoadStatus
from schemas.catalog import DATABASES, CatalogError, load_catalog
from streams.topics import group_id_for
from web import security
from web.endpoints import BigInt, Context, Params, endpoint
from web.errors import BadParameter, ClientError, NotFound

PAGE_SIZE = 50
Id = Annotated[BigInt, Field(ge=1)]  # a bigint id: a larger one is a 400 (web/endpoints.py), never a 500
REPLAY_LIMIT = 500  # dead letters one replay request may select
SVG_W, SVG_H, SVG_PAD = 640, 200, 36


def _text(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def _db(value: str | None) -> str | None:
    if value is not None and value not in DATABASES:
        raise ValueError(f"must be one of {', '.join(DATABASES)}")
    return value


# ---- runs ----------------------------------------------------------------------------------------

class RunsParams(Params):
    db: str | None = None
    status: Literal["running", "succeeded", "failed", "interrupted"] | None = None
    before: BigInt | None = Field(default=None, ge=1, description="keyset: runs with a smaller run_id")
    limit: int = Field(default=PAGE_SIZE, ge=1, le=200)

    _check_db = field_validator("db")(_db)


class RunRow(BaseModel):
    run_id: int
    db: str
    kind: str
    status: str
    as_of: dt.date | None
    since: dt.date | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    duration_s: float | None
    error: str | None


class RunsPage(BaseModel):
    runs: list[RunRow]
    next_before: int | None = Field(description="pass as ?before= for the next page; null on the last")


def _run(r: Any) -> RunRow:
    d = dict(r)
    d["duration_s"] = ((d["finished_at"] - d["started_at"]).total_seconds() if d["finished_at"] else None)
    return RunRow(**{k: d[k] for k in RunRow.model_fields})


@endpoint("runs", page="/runs", api="/runs", template="runs.html", tag="operations")
async def runs(ctx: Context, p: RunsParams) -> RunsPage:
    """Runs, newest first, keyset-paged by run_id."""
    rows = await ledger.runs.page(ctx.db, p.db, p.status, p.before, p.limit + 1)
    page = [_run(r) for r in rows[: p.limit]]
    return RunsPage(runs=page, next_before=page[-1].run_id if len(rows) > p.limit else None)


class RunParams(Params):
    run_id: BigInt = Field(ge=1)


class TableLoadRow(BaseModel):
    table_name: str
    status: str
    partitions: int
    announced: int | None
    loaded: int
    dead_lettered: int
    backlog: int | None = Field(description="announced - loaded - dead_lettered (null until announced)")
    sealed_at: dt.datetime | None
    seconds_to_seal: float | None
    open_dead_letters: int
    error: str | None


class LagRow(BaseModel):
    table_name: str
    backlog: int | None
    published: int | None = Field(description="records the producer published (endpoint progress)")


class RunPage(BaseModel):
    run: RunRow
    tables: list[TableLoadRow]
    totals: dict[str, int]
    lag: list[LagRow] = Field(description="per table of this run: records not yet loaded nor dead-lettered, "
                                          "from the database (not the broker)")
    elapsed_s: float | None = Field(description="seconds from the start to the later of the run's finish and its "
                                                "last table sealed: the header's duration and the chart's span")
    svg: str = Field(description="server-rendered SVG: tables sealed over the run's time")


@endpoint("run", page="/runs/{run_id}", api="/runs/{run_id}", template="run.html", tag="operations")
async def run(ctx: Context, p: RunParams) -> RunPage:
    """One run: per table announced / loaded / dead-lettered / sealed, the load over time, the backlog."""
    row = await ledger.runs.row(ctx.db, p.run_id)
    if row is None:
        raise NotFound(f"there is no run {p.run_id}")
    head = _run(row)
    loads = await reports.run_table_loads(ctx.db, p.run_id)
    progress = await ledger.runs.records_published(ctx.db, p.run_id)
    tables = []
    for r in loads:
        backlog = None if r["announced"] is None else max(0, r["announced"] - r["loaded"] - r["dead_lettered"])
        seal_s = (r["sealed_at"] - head.started_at).total_seconds() if r["sealed_at"] else None
        tables.append(TableLoadRow(table_name=r["table_name"], status=r["status"], partitions=r["partitions"],
                                   announced=r["announced"], loaded=r["loaded"], dead_lettered=r["dead_lettered"],
                                   backlog=backlog, sealed_at=r["sealed_at"], seconds_to_seal=seal_s,
                                   open_dead_letters=r["open_dead_letters"], error=r["error"]))
    names = sorted({t.table_name for t in tables} | set(progress))
    by_name = {t.table_name: t for t in tables}
    lag = []
    for n in names:
        t = by_name.get(n)
        backlog = t.backlog if t is not None else None
        if backlog is None and progress.get(n) is not None:  # not announced yet: published so far
            backlog = max(0, progress[n] - (t.loaded + t.dead_lettered if t is not None else 0))
        lag.append(LagRow(table_name=n, backlog=backlog, published=progress.get(n)))
    totals = {"tables": len(tables), "sealed": sum(t.status == LoadStatus.SEALED for t in tables),
              "announced": sum(t.announced or 0 for t in tables), "loaded": sum(t.loaded for t in tables),
              "dead_lettered": sum(t.dead_lettered for t in tables),
              "open_dead_letters": sum(t.open_dead_letters for t in tables)}
    elapsed = _elapsed(head, tables)
    return RunPage(run=head, tables=tables, totals=totals, lag=lag, elapsed_s=elapsed, svg=_svg(head, tables, elapsed))


def _elapsed(head: RunRow, tables: list[TableLoadRow]) -> float | None:
    """Seconds from the run's start to its end: the later of its finish (the producer's) and its
    last table sealed (the loader's, which may come after).  The header and the chart both use it."""
    ends = [s for s in (head.duration_s, *(t.seconds_to_seal for t in tables)) if s is not None]
    return max(ends) if ends else None


def _svg(head: RunRow, tables: list[TableLoadRow], elapsed: float | None) -> str:
    """Cumulative tables sealed against seconds since the run started: a step line (pure, escaped)."""
    sealed = sorted(t.seconds_to_seal for t in tables if t.seconds_to_seal is not None)
    span = max(elapsed or 0.0, 1.0)
    n = max(len(tables), 1)
    w, h, pad = SVG_W - 2 * SVG_PAD, SVG_H - 2 * SVG_PAD, SVG_PAD

    def x(s: float) -> float:
        return round(pad + w * max(s, 0.0) / span, 1)

    def y(k: int) -> float:
        return round(pad + h - h * k / n, 1)

    points = [(x(0), y(0))]
    for k, s in enumerate(sealed, start=1):
        points += [(x(s), y(k - 1)), (x(s), y(k))]
    points.append((x(span), y(len(sealed))))
    line = " ".join(f"{a},{b}" for a, b in points)
    dots = "".join(f'<circle cx="{x(s)}" cy="{y(k)}" r="2.5" fill="#1f5fa8"/>' for k, s in enumerate(sealed, 1))
    title = escape(f"run {head.run_id}: {len(sealed)} of {len(tables)} tables sealed over {span:.1f} s")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" id="load-svg" role="img" width="{SVG_W}" height="{SVG_H}" '
            f'viewBox="0 0 {SVG_W} {SVG_H}"><title>{title}</title>'
            f'<line x1="{pad}" y1="{pad + h}" x2="{pad + w}" y2="{pad + h}" stroke="#5f6b76"/>'
            f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{pad + h}" stroke="#5f6b76"/>'
            f'<text x="{pad}" y="{pad - 8}" font-size="11" fill="#5f6b76">tables sealed (of {len(tables)})</text>'
            f'<text x="{pad + w}" y="{pad + h + 16}" font-size="11" fill="#5f6b76" text-anchor="end">'
            f'{span:.1f} s</text>'
            f'<text x="{pad}" y="{pad + h + 16}" font-size="11" fill="#5f6b76">0 s</text>'
            f'<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="{line}"/>{dots}</svg>')


# ---- dead letters --------------------------------------------------------------------------------

class DeadLettersParams(Params):
    db: str | None = None
    table: str | None = Field(default=None, max_length=100, description="matched ignoring case")
    reason: str | None = Field(default=None, max_length=50)
    run: BigInt | None = Field(default=None, ge=1)
    status: Literal["open", "resolved", "superseded"] | None = None
    after: BigInt | None = Field(default=None, ge=0, description="keyset: the page after this dead letter id")
    before: BigInt | None = Field(default=None, ge=1, description="keyset: the page before this dead letter id")
    last: bool = Field(default=False, description="the last page")
    ids: list[Id] = Field(default_factory=list, max_length=REPLAY_LIMIT,
                           description="dead letter ids shown ticked (a refused replay's selection)")
    limit: int = Field(default=PAGE_SIZE, ge=1, le=200)

    _check_db = field_validator("db")(_db)
    _check_text = field_validator("table", "reason")(_text)

    @model_validator(mode="after")
    def _one_cursor(self) -> DeadLettersParams:
        if sum((self.after is not None, self.before is not None, self.last)) > 1:
            raise ValueError("give at most one of after, before and last")
        return self


class DeadLetterSummary(BaseModel):
    dead_letter_id: int
    db: str
    table_name: str
    run_id: int | None
    record_key: str
    reason: str
    message: str
    attempts: int
    status: str
    created_at: dt.datetime


class Facets(BaseModel):
    dbs: list[str]
    tables: list[str]
    reasons: list[str]


class DeadLettersPage(BaseModel):
    dead_letters: list[DeadLetterSummary]
    total: int = Field(description="dead letters that match the filter")
    offset: int = Field(description="how many that match come before this page")
    next_after: int | None = Field(description="pass as ?after= for the next page; null on the last")
    prev_before: int | None = Field(description="pass as ?before= for the previous page; null on the first")
    filter: dict[str, Any]
    facets: Facets = Field(description="the databases, tables and reasons present: the filter's choices")
    checked: list[int] = Field(description="ids shown ticked")
    replay_enabled: bool
    problem: str | None = Field(default=None, description="why a replay was refused (the ticks are kept)")


def _filter(p: DeadLettersParams | ReplayParams, *, limit: int | None, status: str | None) -> DeadLetterFilter:
    """The ledger's filter for these parameters (the table matched ignoring case)."""
    return DeadLetterFilter(p.db, p.table, p.reason, p.run, status=status, limit=limit, table_any_case=True)


def cursors(ids: list[int], before: int, total: int) -> tuple[int | None, int | None]:
    """The paging state machine: given a page's ids (ascending), how many that match come before
    it and how many match in all, the cursors of the previous and the next page (`?before=`,
    `?after=`), each None at its end.  First and last pages need no cursor (none, `?last=1`)."""
    if not ids:
        return None, None
    return (ids[0] if before > 0 else None), (ids[-1] if before + len(ids) < total else None)


@endpoint("dead_letters", page="/dead-letters", api="/dead-letters", template="dead_letters.html",
          tag="operations")
async def dead_letters(ctx: Context, p: DeadLettersParams) -> DeadLettersPage:
    """Dead letters by database, table, reason, run and status, keyset-paged by id, with the total."""
    w = await ledger.dead_letters.window(ctx.db, _filter(p, limit=p.limit, status=p.status), after=p.after,
                                         before=p.before, last=p.last)
    page = [DeadLetterSummary(**dict(r)) for r in w.rows]
    # The table as the index spells it, when it is there in another case.
    table = next((t for t in w.facets.tables if p.table is not None and t.lower() == p.table.lower()), p.table)
    flt = {k: v for k, v in (("db", p.db), ("table", table), ("reason", p.reason), ("run", p.run),
                             ("status", p.status)) if v is not None}
    prev_before, next_after = cursors([d.dead_letter_id for d in page], w.before, w.total)
    return DeadLettersPage(
        dead_letters=page, total=w.total, offset=w.before, next_after=next_after, prev_before=prev_before,
        filter=flt, facets=Facets(dbs=w.facets.dbs, tables=w.facets.tables, reasons=w.facets.reasons),
        checked=list(p.ids), replay_enabled=ctx.config.replay_enabled)


class DeadLetterParams(Params):
    dead_letter_id: BigInt = Field(ge=1)


class DeadLetterDetail(DeadLetterSummary):
    topic: str
    partition: int
    offset: int
    record: Any
    headers: dict[str, Any]
    sqlstate: str | None
    constraint_name: str | None
    missing_table: str | None
    missing_key: str | None
    updated_at: dt.datetime
    resolved_at: dt.datetime | None
    record_json: str = Field(description="the original record, pretty-printed")


@endpoint("dead_letter", page="/dead-letters/{dead_letter_id}", api="/dead-letters/{dead_letter_id}",
          template="dead_letter.html", tag="operations")
async def dead_letter(ctx: Context, p: DeadLetterParams) -> DeadLetterDetail:
    """One dead letter: the original record and its headers."""
    r = await ledger.dead_letters.detail(ctx.db, p.dead_letter_id)
    if r is None:
        raise NotFound(f"there is no dead letter {p.dead_letter_id}")
    d = dict(r)
    for k in ("record", "headers"):
        d[k] = json.loads(d[k]) if isinstance(d[k], str) else d[k]
    d["record_json"] = json.dumps(d["record"], indent=2, ensure_ascii=False, sort_keys=True)
    return DeadLetterDetail(**d)


# ---- replay --------------------------------------------------------------------------------------

class ReplayParams(Params):
    ids: list[Id] = Field(default_factory=list, max_length=REPLAY_LIMIT,
                           description="dead letter ids; none: every open one the filter selects")
    db: str | None = None
    table: str | None = Field(default=None, max_length=100)
    reason: str | None = Field(default=None, max_length=50)
    run: BigInt | None = Field(default=None, ge=1)
    confirm: bool = Field(default=False, description="false: a preview (dry run); true: replay, then a 303 to "
                                                     "the replay's page (/replays/{replay_id})")
    actor: str | None = Field(default=None, max_length=100, description="who asks (recorded); default admin")
    admin_token: SecretStr | None = Field(default=None, description="VCDB_ADMIN_TOKEN, or an Authorization "
                                                                    "Bearer header")

    _check_db = field_validator("db")(_db)
    _check_text = field_validator("table", "reason", "actor")(_text)


class PlanItem(BaseModel):
    id: int
    db: str
    table: str
    key: str
    reason: str
    attempts: int
    missing: str | None


class Outcome(BaseModel):
    id: int
    resolved: bool
    reason: str | None
    message: str | None


class ReplayPage(BaseModel):
    confirmed: bool
    filter: dict[str, Any]
    selected: int
    more: bool = Field(description=f"more than {REPLAY_LIMIT} matched: only the first were selected")
    plan: list[PlanItem]
    outcomes: list[Outcome] = Field(description="one per item of the plan, in its order (a replay's page)")
    replay_id: int | None
    actor: str | None = None
    requested_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


def _plan_item(r: Any) -> PlanItem:
    return PlanItem(id=r["dead_letter_id"], db=r["db"], table=r["table_name"], key=r["record_key"],
                    reason=r["reason"], attempts=r["attempts"],
                    missing=f"{r['missing_table']} {r['missing_key']}" if r["missing_table"] else None)


@endpoint("dead_letters_replay", page="/dead-letters/replay", api="/dead-letters/replay", template="replay.html",
          method="POST", tag="operations")
async def dead_letters_replay(ctx: Context, p: ReplayParams) -> ReplayPage:
    """Replay open dead letters (ticked ids, or a filter): a preview unless confirm is true, then a 303 to the
    replay's page; needs the admin token."""
    # The annotation is the preview's body (the OpenAPI document's); a confirmed replay answers 303, and a refused
    # page request the dead letters again (web/app.py sends a returned response as it is).
    try:
        return cast(ReplayPage, await _preview_or_replay(ctx, p))
    except ClientError as e:
        if _is_api(ctx):
            raise
        return cast(ReplayPage, await _refused(ctx, p, e))


async def _preview_or_replay(ctx: Context, p: ReplayParams) -> ReplayPage | web.StreamResponse:
    security.require_admin(ctx.config, ctx.request, p.admin_token.get_secret_value() if p.admin_token else None)
    if not p.ids and p.db is None and p.table is None and p.reason is None and p.run is None:
        raise BadParameter("nothing is selected: tick dead letters or set a filter (database, table, reason or run) "
                           "first", parameters=("ids",))
    if p.table is not None and p.db is not None:
        try:
            load_catalog(p.db).table(p.table)
        except KeyError as e:
            raise BadParameter(f"bad parameter table: {e.args[0]}", parameters=("table",)) from e
    f = replace(_filter(p, limit=REPLAY_LIMIT + 1, status=DeadLetterStatus.OPEN), ids=tuple(p.ids))
    flt: dict[str, Any] = {k: v for k, v in (("ids", list(f.ids)), ("db", f.db), ("table", f.table),
                                             ("reason", f.reason), ("run", f.run_id)) if v}
    rows = await ledger.dead_letters.replay_candidates(ctx.db, f)
    more = len(rows) > REPLAY_LIMIT
    plan = [_plan_item(r) for r in rows[:REPLAY_LIMIT]]
    if not p.confirm:
        return ReplayPage(confirmed=False, filter=flt, selected=len(plan), more=more, plan=plan, outcomes=[],
                          replay_id=None)
    replay_id = await _replay(ctx, p, flt, plan)
    # Post/redirect/get: the result has its own page, so reloading it replays nothing.
    location = (f"{_api_root()}/replays/{replay_id}" if _is_api(ctx)
                else ctx.url("replay", replay_id=replay_id))
    return web.Response(status=303, headers={"Location": location})


async def _refused(ctx: Context, p: ReplayParams, e: ClientError) -> web.StreamResponse:
    """The dead letters again, the ticked ones on the page and still ticked, and why."""
    from web.app import render  # the page renderer; web.app imports this module

    after = min(p.ids) - 1 if p.ids else None
    again = DeadLettersParams(db=p.db, table=p.table, reason=p.reason, run=p.run, after=after, ids=p.ids)
    page = await dead_letters(ctx, again)
    page = page.model_copy(update={"problem": e.message})
    return await render(ctx.request, "dead_letters.html", {"page": page, "params": again}, status=e.status)


def _is_api(ctx: Context) -> bool:
    return ctx.request.path.startswith(_api_root() + "/")


def _api_root() -> str:
    from web.app import API

    return API


class ReplayWriter:
    """The explorer's one writer pool, for replays: opened by the first confirmed replay (an
    explorer that never replays never connects as the writer) and closed with the application."""

    def __init__(self) -> None:
        self._writer: pools.Writer | None = None
        self._lock = asyncio.Lock()

    async def get(self, url: str) -> pools.Writer:
        async with self._lock:
            if self._writer is None:
                self._writer = await pools.connect_writer(url, size=2)
            return self._writer

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.pool.close()
            self._writer = None


REPLAY_WRITER = web.AppKey("replay_writer", ReplayWriter)


async def replay_writer(app: web.Application) -> AsyncIterator[None]:
    """The application's cleanup context for the writer pool (web/app.py registers it)."""
    app[REPLAY_WRITER] = ReplayWriter()
    yield
    await app[REPLAY_WRITER].close()


async def _replay(ctx: Context, p: ReplayParams, flt: dict[str, Any], plan: list[PlanItem]) -> int:
    """Replay the plan, database by database, recorded in ingest.replays; its id.  A dead letter
    whose database or table no catalog knows is reported and left alone, the others replay; if
    the replay stops on an error, its row is still finished (what loaded, and the rest failed)."""
    actor = (p.actor or "").strip() or "admin"
    by_db: dict[str, list[int]] = {}
    for item in plan:
        by_db.setdefault(item.db, []).append(item.id)
    loaded: list[int] = []
    failed: list[tuple[int, str, str]] = []
    writer = await ctx.request.app[REPLAY_WRITER].get(ctx.config.write_url)
    replay_id = await replays.begin(writer.pool, actor, ctx.request.remote, flt, len(plan))
    try:
        for db, ids in sorted(by_db.items()):
            try:
                catalog = load_catalog(db)
            except CatalogError as e:
                failed += [(i, UNKNOWN_TABLE, f"{e}: not replayed") for i in ids]
                continue
            loader = LoadStore(writer.pool, group_id_for(db), skip_fk_triggers=writer.skip_fk_triggers)
            # Only open ones are selected again here: a letter resolved since the preview is skipped.
            report = await replay(catalog, loader, DeadLetterFilter(db, ids=tuple(ids), status=DeadLetterStatus.OPEN))
            loaded += report.loaded
            failed += report.failed
    except BaseException:
        done = set(loaded) | {i for i, _, _ in failed}
        failed += [(item.id, "error", "the replay stopped before this one: the explorer's log says why")
                   for item in plan if item.id not in done]
        raise
    finally:
        await replays.finish(writer.pool, replay_id, loaded, failed)
    return replay_id


# ---- past replays --------------------------------------------------------------------------------

class ReplaysParams(Params):
    before: BigInt | None = Field(default=None, ge=1, description="keyset: replays with a smaller replay_id")
    limit: int = Field(default=PAGE_SIZE, ge=1, le=200)


class ReplaySummary(BaseModel):
    replay_id: int
    actor: str
    remote: str | None
    requested_at: dt.datetime
    finished_at: dt.datetime | None
    filter: dict[str, Any]
    selected: int
    loaded: int = Field(description="dead letters resolved")
    failed: int = Field(description="dead letters still open")


class ReplaysPage(BaseModel):
    replays: list[ReplaySummary]
    next_before: int | None = Field(description="pass as ?before= for the next page; null on the last")


def _json_value(v: Any) -> Any:
    return json.loads(v) if isinstance(v, str) else v


@endpoint("replays", page="/replays", api="/replays", template="replays.html", tag="operations")
async def replays_list(ctx: Context, p: ReplaysParams) -> ReplaysPage:
    """Past replays asked for from the explorer, newest first, keyset-paged by replay_id."""
    rows = await replays.page(ctx.db, p.before, p.limit + 1)
    out = [ReplaySummary(replay_id=r["replay_id"], actor=r["actor"], remote=r["remote"],
                         requested_at=r["requested_at"], finished_at=r["finished_at"],
                         filter=_json_value(r["filter"]), selected=r["selected"],
                         loaded=len(_json_value(r["loaded"])), failed=len(_json_value(r["failed"])))
           for r in rows[: p.limit]]
    return ReplaysPage(replays=out, next_before=out[-1].replay_id if len(rows) > p.limit else None)


class ReplayIdParams(Params):
    replay_id: BigInt = Field(ge=1)


@endpoint("replay", page="/replays/{replay_id}", api="/replays/{replay_id}", template="replay.html",
          tag="operations")
async def replay_result(ctx: Context, p: ReplayIdParams) -> ReplayPage:
    """One replay: who asked, what it selected, and per dead letter what came of it (reading it changes nothing)."""
    r = await replays.row(ctx.db, p.replay_id)
    if r is None:
        raise NotFound(f"there is no replay {p.replay_id}")
    loaded = set(_json_value(r["loaded"]))
    why = {int(f[0]): (f[1], f[2]) for f in _json_value(r["failed"])}
    plan = [_plan_item(x) for x in await ledger.dead_letters.summaries(ctx.db, sorted(loaded | set(why)))]
    outcomes = [Outcome(id=i.id, resolved=i.id in loaded, reason=why.get(i.id, (None, None))[0],
                        message=why.get(i.id, (None, None))[1]) for i in plan]
    return ReplayPage(confirmed=True, filter=_json_value(r["filter"]), selected=r["selected"], more=False, plan=plan,
                      outcomes=outcomes, replay_id=r["replay_id"], actor=r["actor"], requested_at=r["requested_at"],
                      finished_at=r["finished_at"])
