"""The errors of the run state, each with its verdict (no asyncpg here: ledger/pools.py decides
which of asyncpg's errors becomes which).

    RuntimeError
    ├── InfrastructureError  PostgreSQL failed for reasons that are not the record's (the loader's
    │                        reads and units of work, the explorer): transient, never dead-lettered;
    │                        the worker retries, then stops.  `unreachable`: the server is away.
    ├── Fenced               a partition's stored offset is not where the worker left it: nothing
    │                        was written; the worker re-reads from the stored offset.
    ├── StateUnavailable     the producers' run state cannot be reached: no endpoint can checkpoint,
    │                        so the run stops (producers/service.py, `dooms_run`).
    ├── LockHeld             another producer run holds the database's lock: refused at once.
    └── RunStateError        run state missing or inconsistent (--resume with nothing to resume).

A record's own errors (SQLSTATE classes 22 and 23) never become any of these: the loader's data
plane (consumers/store.py) isolates the offending rows and dead-letters them.
"""

from __future__ import annotations


class InfrastructureError(RuntimeError):
    """PostgreSQL failed for reasons that are not the record's (connection, disk, permissions,
    deadlock, ...): transient, never dead-lettered.  `unreachable`: the session was lost or the
    server does not answer (an outage, waited out for DATABASE_OUTAGE_S), rather than an answer
    that refused the statement."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class Fenced(RuntimeError):
    """The partition's stored offset is not where this worker left it.  Ahead: another worker (or
    an earlier life of this one) applied the records.  Behind: a commit this worker saw succeed
    was lost in a PostgreSQL crash (batches commit with synchronous_commit off), rows and offset
    together.  Nothing was written; re-read from `next_offset`."""

    def __init__(self, topic: str, partition: int, first: int, expected: int, next_offset: int) -> None:
        why = ("already applied" if next_offset > expected
               else "after a commit lost in a PostgreSQL crash: the records from the stored offset are applied again")
        super().__init__(f"{topic}[{partition}] offset {first}: the stored offset is {next_offset}, this worker left "
                         f"it at {expected}; {why}")
        self.next_offset = next_offset


class StateUnavailable(RuntimeError):
    """PostgreSQL cannot be reached, or dropped the connection: no endpoint of the run can
    checkpoint, so the run stops (the service's `dooms_run`)."""


class LockHeld(RuntimeError):
    """Another producer run holds the lock for this database."""


class RunStateError(RuntimeError):
    """Run state is missing or inconsistent (e.g. --resume with nothing to resume)."""
