"""The producer lock: one per database, so two producer runs never pull it at once.

It is a PostgreSQL session advisory lock held on a dedicated connection for the whole run: a
second producer on the same database is refused at once (LockHeld, naming the run that holds it),
and a killed holder frees it with its connection (the next run can `--resume`).  `vcdb reset`
takes it too, so it never drops the state of a run in progress.
"""

from __future__ import annotations

import hashlib

from ledger import pools, runs
from ledger.errors import LockHeld, StateUnavailable
from ledger.pools import Connection


def lock_key(db: str) -> int:
    digest = hashlib.blake2b(f"vcdb-stream:producer:{db}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class ProducerLock:
    """Holds the advisory lock on its own connection until released or the process dies."""

    def __init__(self, url: str, db: str) -> None:
        self._url = url
        self._db = db
        self._conn: Connection | None = None

    async def acquire(self) -> None:
        try:
            conn = await pools.connect_session(self._url)
        except pools.STATE_UNAVAILABLE_ERRORS as e:
            raise StateUnavailable(f"cannot connect to PostgreSQL: {e}") from e
        got = await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(self._db))
        if not got:
            holder = await runs.running(conn, self._db)
            await conn.close()
            what = f" (run {holder['run_id']}, {holder['kind']}, started {holder['started_at']:%Y-%m-%d %H:%M})" \
                if holder else ""
            raise LockHeld(f"another producer run holds the {self._db} lock{what}; wait for it to finish, "
                           f"or stop it and use --resume")
        self._conn = conn

    async def release(self) -> None:
        if self._conn is not None:
            await self._conn.close()  # closing the session releases the advisory lock
            self._conn = None
