"""The operator's pages: runs, a run's per-table load (with an SVG of the load over time and the
backlog the database can see), dead letters with filters and keyset paging, and replay: a
preview (the dry run) and then a confirmed POST, recorded in ingest.replays.  Every read of the run
state is the ledger's (ledger/runs.py, reports.py, dead_letters.py, replays.py).

Consumer lag is not read from Kafka (the explorer never connects to the broker): a run's backlog
per table is what the producer announced minus what the loader has loaded or dead-lettered.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from markupsafe import escape
from pydantic import BaseModel, Field, SecretStr, field_validator

import ledger.dead_letters
import ledger.runs
from consumers.replay import replay
from consumers.store import LoadStore
from ledger import pools, replays, reports
from ledger.dead_letters import DeadLetterFilter
from ledger.statuses import DeadLetterStatus, LoadStatus
from schemas.catalog import DATABASES, load_catalog
from streams.topics import group_id_for
from web import security
from web.endpoints import BigInt, Context, Params, endpoint
from web.errors import BadParameter, NotFound

PAGE_SIZE = 50
REPLAY_LIMIT = 500  # dead letters one replay request may select
SVG_W, SVG_H, SVG_PAD = 640, 200, 36


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
    return RunPage(run=head, tables=tables, totals=totals, lag=lag, svg=_svg(head, tables))


def _svg(head: RunRow, tables: list[TableLoadRow]) -> str:
    """Cumulative tables sealed against seconds since the run started: a step line (pure, escaped)."""
    sealed = sorted(t.seconds_to_seal for t in tables if t.seconds_to_seal is not None)
    end = (head.duration_s if head.duration_s is not None else (sealed[-1] if sealed else 0.0))
    span = max([end, *sealed, 1.0])
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
    table: str | None = Field(default=None, max_length=100)
    reason: str | None = Field(default=None, max_length=50)
    run: BigInt | None = Field(default=None, ge=1)
    status: Literal["open", "resolved", "superseded"] | None = None
    after: BigInt | None = Field(default=None, ge=0, description="keyset: dead letters with a larger id")
    limit: int = Field(default=PAGE_SIZE, ge=1, le=200)

    _check_db = field_validator("db")(_db)


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


class DeadLettersPage(BaseModel):
    dead_letters: list[DeadLetterSummary]
    next_after: int | None = Field(description="pass as ?after= for the next page; null on the last")
    filter: dict[str, Any]
    replay_enabled: bool


@endpoint("dead_letters", page="/dead-letters", api="/dead-letters", template="dead_letters.html",
          tag="operations")
async def dead_letters(ctx: Context, p: DeadLettersParams) -> DeadLettersPage:
    """Dead letters by database, table, reason, run and status, keyset-paged by id."""
    rows = await ledger.dead_letters.page(ctx.db, db=p.db, table=p.table, reason=p.reason, run_id=p.run,
                                          status=p.status, after=p.after or 0, limit=p.limit + 1)
    page = [DeadLetterSummary(**dict(r)) for r in rows[: p.limit]]
    flt = {k: v for k, v in (("db", p.db), ("table", p.table), ("reason", p.reason), ("run", p.run),
                             ("status", p.status)) if v is not None}
    return DeadLettersPage(dead_letters=page, next_after=page[-1].dead_letter_id if len(rows) > p.limit else None,
                           filter=flt, replay_enabled=ctx.config.replay_enabled)


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
    ids: list[BigInt] = Field(default_factory=list, max_length=REPLAY_LIMIT,
                           description="dead letter ids; none: every open one the filter selects")
    db: str | None = None
    table: str | None = Field(default=None, max_length=100)
    reason: str | None = Field(default=None, max_length=50)
    run: BigInt | None = Field(default=None, ge=1)
    confirm: bool = Field(default=False, description="false: a preview (dry run); true: replay")
    actor: str | None = Field(default=None, max_length=100, description="who asks (recorded); default admin")
    admin_token: SecretStr | None = Field(default=None, description="VCDB_ADMIN_TOKEN, or an Authorization "
                                                                    "Bearer header")

    _check_db = field_validator("db")(_db)


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
    outcomes: list[Outcome]
    replay_id: int | None


@endpoint("dead_letters_replay", page="/dead-letters/replay", api="/dead-letters/replay", template="replay.html",
          method="POST", tag="operations")
async def dead_letters_replay(ctx: Context, p: ReplayParams) -> ReplayPage:
    """Replay open dead letters (ids, or the filter): a preview unless confirm is true; needs the admin token."""
    security.require_admin(ctx.config, ctx.request, p.admin_token.get_secret_value() if p.admin_token else None)
    if p.table is not None and p.db is not None:
        try:
            load_catalog(p.db).table(p.table)
        except KeyError as e:
            raise BadParameter(f"bad parameter table: {e.args[0]}", parameters=("table",)) from e
    flt: dict[str, Any] = {k: v for k, v in (("ids", p.ids), ("db", p.db), ("table", p.table),
                                             ("reason", p.reason), ("run", p.run)) if v}
    rows = await ledger.dead_letters.replay_candidates(ctx.db, db=p.db, table=p.table, reason=p.reason, run_id=p.run,
                                                       ids=p.ids, limit=REPLAY_LIMIT + 1)
    more = len(rows) > REPLAY_LIMIT
    rows = rows[:REPLAY_LIMIT]
    plan = [PlanItem(id=r["dead_letter_id"], db=r["db"], table=r["table_name"], key=r["record_key"],
                     reason=r["reason"], attempts=r["attempts"],
                     missing=f"{r['missing_table']} {r['missing_key']}" if r["missing_table"] else None)
            for r in rows]
    if not p.confirm:
        return ReplayPage(confirmed=False, filter=flt, selected=len(plan), more=more, plan=plan, outcomes=[],
                          replay_id=None)
    return await _replay(ctx, p, flt, plan, more)


async def _replay(ctx: Context, p: ReplayParams, flt: dict[str, Any], plan: list[PlanItem], more: bool
                  ) -> ReplayPage:
    actor = (p.actor or "").strip() or "admin"
    by_db: dict[str, list[int]] = {}
    for item in plan:
        by_db.setdefault(item.db, []).append(item.id)
    loaded: list[int] = []
    failed: list[tuple[int, str, str]] = []
    writer = await pools.connect_writer(ctx.config.write_url, size=2)
    loader = LoadStore(writer.pool, group_id_for(next(iter(by_db), "vcdb")), skip_fk_triggers=writer.skip_fk_triggers)
    try:
        replay_id = await replays.begin(writer.pool, actor, ctx.request.remote, flt, len(plan))
        for db, ids in sorted(by_db.items()):
            # Only open ones are selected again here: a letter resolved since the preview is skipped.
            still_open = DeadLetterFilter(db, ids=tuple(ids), status=DeadLetterStatus.OPEN)
            report = await replay(load_catalog(db), loader, still_open)
            loaded += report.loaded
            failed += report.failed
        await replays.finish(writer.pool, replay_id, loaded, failed)
    finally:
        await writer.pool.close()
    why = {i: (reason, message) for i, reason, message in failed}
    done = set(loaded)
    outcomes = []
    for item in plan:
        reason, message = why.get(item.id, (None, None if item.id in done else "no longer open: nothing done"))
        outcomes.append(Outcome(id=item.id, resolved=item.id in done, reason=reason, message=message))
    return ReplayPage(confirmed=True, filter=flt, selected=len(plan), more=more, plan=plan, outcomes=outcomes,
                      replay_id=replay_id)
