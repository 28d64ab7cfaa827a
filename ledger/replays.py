"""The replays asked for from the explorer (`vcdb serve`): `ingest.replays`, who asked, when,
what for, and what came of it.  Recorded before the replay starts, completed when it ends."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ledger.pools import Pool


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
