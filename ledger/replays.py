"""The replays asked for from the explorer (`vcdb serve`): `ingest.replays`, who asked, when,
what for, and what came of it.  Recorded before the replay starts, completed when it ends (also
when it fails half-way: the explorer finishes the row with what was done, so none stays
unfinished), and listed on the explorer's replays page."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ledger.pools import Pool, Record


async def begin(pool: Pool, actor: str, remote: str | None, flt: dict[str, Any], selected: int) -> int:
    """Record a replay about to start; its id."""
    replay_id: int = await pool.fetchval(
        "INSERT INTO ingest.replays (actor, remote, filter, selected) VALUES ($1, $2, $3::jsonb, $4) "
        "RETURNING replay_id", actor, remote, json.dumps(flt), selected)
    return replay_id


async def finish(pool: Pool, replay_id: int, loaded: Sequence[int], failed: Sequence[tuple[int, str, str]]) -> None:
    """What came of it: the dead letters resolved, and [id, reason, message] of those still open."""
    await pool.execute(
        "UPDATE ingest.replays SET loaded = $2::jsonb, failed = $3::jsonb, finished_at = now() "
        "WHERE replay_id = $1", replay_id, json.dumps(sorted(loaded)), json.dumps([list(f) for f in failed]))


COLUMNS = "replay_id, actor, remote, requested_at, filter, selected, loaded, failed, finished_at"


async def page(pool: Pool, before: int | None, limit: int) -> list[Record]:
    """Replays, newest first, keyset-paged by replay_id: those before `before`, at most `limit`."""
    rows: list[Record] = await pool.fetch(
        f"SELECT {COLUMNS} FROM ingest.replays WHERE ($1::bigint IS NULL OR replay_id < $1) "
        "ORDER BY replay_id DESC LIMIT $2", before, limit)
    return rows


async def row(pool: Pool, replay_id: int) -> Record | None:
    """One replay (COLUMNS)."""
    found: Record | None = await pool.fetchrow(f"SELECT {COLUMNS} FROM ingest.replays WHERE replay_id = $1",
                                               replay_id)
    return found
