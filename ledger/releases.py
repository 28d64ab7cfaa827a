"""Releases: which runs were published, refused or discarded, and what a run's publication needs
to know about it (ingest.releases, ingest.runs, ingest.endpoint_progress, ingest.table_load).

Functions take a connection, so the publishing transaction reads the run's facts, decides and
records the release in one transaction; the listing takes a pool.  The decision itself is pure
(consumers/publish.py `refusal`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ledger.pools import Connection, Pool, Record
from ledger.statuses import LoadStatus, Publication, ReleaseStatus


@dataclass(frozen=True)
class TableFacts:
    table: str
    load_status: str  # LoadStatus, or waiting
    announced: int | None  # records the producer announced at end-of-table
    total_count: int | None  # the API's totalCount for the endpoint
    loaded: int
    dead_lettered: int


@dataclass(frozen=True)
class RunFacts:
    run_id: int
    db: str
    kind: str
    status: str
    publication: Publication
    error: str | None
    tables: tuple[TableFacts, ...]
    release: str | None  # ReleaseStatus of the run's release row, if any
    reason: str | None

    @property
    def complete(self) -> bool:
        return bool(self.tables) and all(t.load_status == LoadStatus.SEALED for t in self.tables)

    @property
    def decided(self) -> bool:
        return self.release in (ReleaseStatus.PUBLISHED, ReleaseStatus.DISCARDED)


@dataclass(frozen=True)
class Release:
    release_id: int
    db: str
    run_id: int
    kind: str
    status: str
    publication: str
    reason: str | None
    forced: bool
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float | None = None
    decided_at: Any = None
    published_at: Any = None
    relayed_at: Any = None  # when its changes reached the .changes topics

    def as_json(self) -> dict[str, Any]:
        return {"release": self.release_id, "db": self.db, "run_id": self.run_id, "kind": self.kind,
                "status": self.status, "publication": self.publication, "reason": self.reason,
                "forced": self.forced, "rows": self.counts, "seconds": self.seconds,
                "decided_at": self.decided_at.isoformat() if self.decided_at else None,
                "published_at": self.published_at.isoformat() if self.published_at else None,
                "relayed_at": self.relayed_at.isoformat() if self.relayed_at else None}


def _json(raw: Any) -> Any:
    return json.loads(raw) if isinstance(raw, str) else raw


async def lock_db(conn: Connection, db: str) -> None:
    """One publication of a database at a time; held to the end of the transaction."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('vcdb-stream release'), hashtext($1))", db)


async def run_facts(conn: Connection, run_id: int) -> RunFacts | None:
    run = await conn.fetchrow(
        "SELECT r.run_id, r.db, r.kind, r.status, r.publication, r.error, r.tables, x.status AS release, x.reason "
        "FROM ingest.runs r LEFT JOIN ingest.releases x ON x.run_id = r.run_id WHERE r.run_id = $1", run_id)
    if run is None:
        return None
    rows = await conn.fetch(
        "SELECT t.name AS table_name, coalesce(l.status, 'waiting') AS load_status, l.announced, e.total_count, "
        "coalesce(l.loaded, 0) AS loaded, coalesce(l.dead_lettered, 0) AS dead_lettered "
        "FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS t(name, i) "
        "LEFT JOIN ingest.table_load l ON l.run_id = $1 AND l.table_name = t.name "
        "LEFT JOIN ingest.endpoint_progress e ON e.run_id = $1 AND e.table_name = t.name ORDER BY t.i",
        run_id, json.dumps(_json(run["tables"])))
    tables = tuple(TableFacts(r["table_name"], r["load_status"], r["announced"], r["total_count"], r["loaded"],
                              r["dead_lettered"]) for r in rows)
    return RunFacts(run["run_id"], run["db"], run["kind"], run["status"], Publication(run["publication"]),
                    run["error"], tables, run["release"], run["reason"])


async def record(conn: Connection, facts: RunFacts, status: ReleaseStatus, *, reason: str | None = None,
                 forced: bool = False, counts: dict[str, int] | None = None, seconds: float | None = None) -> int:
    """The run's release row, written or overwritten (a refused release later forced or discarded)."""
    published = status == ReleaseStatus.PUBLISHED
    return int(await conn.fetchval(
        "INSERT INTO ingest.releases AS x (db, run_id, status, publication, reason, forced, counts, seconds, "
        "published_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, CASE WHEN $9 THEN now() END) "
        "ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason, "
        "forced = EXCLUDED.forced, counts = EXCLUDED.counts, seconds = EXCLUDED.seconds, decided_at = now(), "
        "published_at = EXCLUDED.published_at RETURNING release_id",
        facts.db, facts.run_id, status.value, facts.publication.value, reason, forced, json.dumps(counts or {}),
        seconds, published))


_UNDECIDED = (
    "SELECT r.run_id FROM ingest.runs r LEFT JOIN ingest.releases x ON x.run_id = r.run_id "
    "WHERE r.db = $1 AND x.run_id IS NULL "
    "AND EXISTS (SELECT 1 FROM ingest.table_load l WHERE l.run_id = r.run_id) ORDER BY r.run_id")


async def undecided_runs(conn: Connection, db: str) -> list[int]:
    """Runs of db that loaded something and have no release row yet (running ones included): those
    a worker tries to publish.  A refused run is not tried again: nothing but the operator
    (`vcdb release publish|discard`) changes what it would be refused for."""
    return [r["run_id"] for r in await conn.fetch(_UNDECIDED, db)]


_RELEASES = "SELECT x.*, r.kind FROM ingest.releases x JOIN ingest.runs r USING (run_id) "


def _release(r: Record) -> Release:
    return Release(r["release_id"], r["db"], r["run_id"], r["kind"], r["status"], r["publication"], r["reason"],
                   r["forced"], _json(r["counts"]) or {}, r["seconds"], r["decided_at"], r["published_at"],
                   r["relayed_at"])


async def releases(conn: Connection | Pool, db: str | None = None) -> list[Release]:
    rows = await conn.fetch(_RELEASES + "WHERE $1::text IS NULL OR x.db = $1 ORDER BY x.release_id", db)
    return [_release(r) for r in rows]


async def release(conn: Connection | Pool, release_id: int) -> Release | None:
    """One release by its id (None: no such release)."""
    row = await conn.fetchrow(_RELEASES + "WHERE x.release_id = $1", release_id)
    return None if row is None else _release(row)


async def unrelayed(conn: Connection | Pool, db: str | None = None) -> list[Release]:
    """Published releases without the relayed mark, oldest first (a database's releases relay in order)."""
    rows = await conn.fetch(_RELEASES + "WHERE x.status = 'published' AND x.relayed_at IS NULL "
                            "AND ($1::text IS NULL OR x.db = $1) ORDER BY x.release_id", db)
    return [_release(r) for r in rows]


async def is_relayed(conn: Connection, release_id: int) -> bool:
    return bool(await conn.fetchval("SELECT relayed_at IS NOT NULL FROM ingest.releases WHERE release_id = $1",
                                    release_id))


async def mark_relayed(conn: Connection, release_id: int) -> None:
    """The relayed mark: set in the transaction that read the release's outbox rows (consumers/relay.py)."""
    await conn.execute("UPDATE ingest.releases SET relayed_at = now() WHERE release_id = $1", release_id)


async def has_published(conn: Connection, db: str) -> bool:
    """Is a release of db published already (a run loaded in place over it can end its rows)?"""
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM ingest.releases WHERE db = $1 AND status = 'published')", db))


async def waiting_runs(conn: Connection, db: str) -> list[dict[str, Any]]:
    """Staged runs of db that loaded something and wait for a decision (not published, not
    discarded): run_id, run_status, error, release (refused or None), reason."""
    rows = await conn.fetch(
        "SELECT r.run_id, r.kind, r.status AS run_status, r.error, x.status AS release, x.reason "
        "FROM ingest.runs r LEFT JOIN ingest.releases x ON x.run_id = r.run_id "
        "WHERE r.db = $1 AND r.publication = $2 AND (x.status IS NULL OR x.status = $3) "
        "AND EXISTS (SELECT 1 FROM ingest.table_load l WHERE l.run_id = r.run_id) ORDER BY r.run_id",
        db, Publication.STAGED.value, ReleaseStatus.REFUSED.value)
    return [dict(r) for r in rows]


async def stages(conn: Connection, run_id: int) -> bool:
    """Do the run's records load into the staged twins?  A staged run does until it is published
    or discarded; records of it read again after that (`consume --resync`) go to the live tables,
    where the version guard keeps what is newer."""
    return bool(await conn.fetchval(
        "SELECT r.publication = $2 AND x.status IS DISTINCT FROM $3 AND x.status IS DISTINCT FROM $4 "
        "FROM ingest.runs r LEFT JOIN ingest.releases x ON x.run_id = r.run_id WHERE r.run_id = $1",
        run_id, Publication.STAGED.value, ReleaseStatus.PUBLISHED.value, ReleaseStatus.DISCARDED.value))


async def reopen_replayed(conn: Connection, run_id: int, db: str, table: str, keys: list[str]) -> int:
    """Dead letters resolved by a replay into a run's staged rows (their parent arrived with the
    run), when the run is discarded: open again, since what resolved them is gone."""
    if not keys:
        return 0
    status = await conn.execute(
        "UPDATE ingest.dead_letters d SET status = 'open', resolved_at = NULL, updated_at = now(), "
        "message = d.message || ' [reopened: the run its replay loaded into was discarded]' "
        "FROM ingest.runs r WHERE r.run_id = $1 AND d.db = $2 AND d.table_name = $3 AND d.status = 'resolved' "
        "AND d.resolved_at >= r.started_at AND d.record_key = ANY($4::text[]) AND NOT EXISTS ("
        "SELECT 1 FROM ingest.dead_letters o WHERE o.db = d.db AND o.table_name = d.table_name "
        "AND o.record_key = d.record_key AND o.status = 'open')", run_id, db, table, keys)
    return int(status.split()[-1])


_PUBLISHED = ("SELECT x.release_id, r.run_id, r.db, r.kind, r.as_of, r.since, x.published_at FROM ingest.releases x "
              "JOIN ingest.runs r USING (run_id) WHERE x.status = 'published'")


async def newest_published(pool: Pool) -> Record | None:
    """The newest published release of any database: what readers see (the explorer's banner)."""
    row: Record | None = await pool.fetchrow(_PUBLISHED + " ORDER BY x.published_at DESC, x.release_id DESC LIMIT 1")
    return row


async def newest_published_by_db(pool: Pool) -> list[Record]:
    """The newest published release of each database (the explorer's start page)."""
    rows: list[Record] = await pool.fetch(
        "SELECT DISTINCT ON (db) * FROM (" + _PUBLISHED + ") p ORDER BY db, published_at DESC, release_id DESC")
    return rows
