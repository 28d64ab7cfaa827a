"""The asyncpg pools and sessions, and the sorting of asyncpg's errors: the one module of ledger/
that imports asyncpg (the loader's data plane, consumers/store.py, is the only other one).

Pools: the writer (the loader's units of work, and whether it may skip PostgreSQL's FK triggers),
a pool with the same settings for the commands that read or reset, the reader (the explorer:
every transaction read-only), the producers' run-state pool, and single sessions (the producer
lock, the administration of the server).

Errors (their tree is in ledger/errors.py): whatever a statement of ours raises that is not the
record's fault is the infrastructure's (SESSION_ERRORS: transient, never dead-lettered, the
transaction rolls back and nothing is advanced); of those, UNREACHABLE_ERRORS say "PostgreSQL is
not there" rather than "this statement was refused".  The producers' run state has its own,
narrower set (STATE_UNAVAILABLE_ERRORS): only an absent server dooms a run, any other error is a
bug that must surface as itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeAlias, TypeVar

import asyncpg

from ledger.errors import InfrastructureError, StateUnavailable

# The types callers name: asyncpg's, so that nothing outside ledger/ and the data plane imports it.
Pool: TypeAlias = asyncpg.Pool
Connection: TypeAlias = asyncpg.Connection
Record: TypeAlias = asyncpg.Record
PostgresError: TypeAlias = asyncpg.PostgresError

# Every connection of ours runs without PostgreSQL's JIT.  A batch's checks are big expressions
# over a few thousand staged rows, and the fitment views join a dozen tables: the cost model sends
# both to the JIT, whose compilation took 7.6 s for one batch of ACES applications that executed in
# 58 ms, and 285 ms for a "parts for this vehicle" look-up that executed in 8 ms.
SERVER_SETTINGS = {"jit": "off"}


READER_SETTINGS = {**SERVER_SETTINGS, "default_transaction_read_only": "on"}
# No connection floor: asyncpg restores a floor from a background task that logs a traceback at
# WARNING every second while PostgreSQL is away; our own retries already say so, once per attempt.
# Connections are still pooled and reused; the first use after start connects.
POOL_FLOOR = 0

# What a statement of ours raises when it is not the record's fault: the server's errors (a
# terminated session is AdminShutdownError), the socket's, and the client's on a connection that
# was lost under it: InterfaceError ("the underlying connection is closed", from the rollback of a
# transaction whose session was killed) and InternalClientError ("another operation is in
# progress", from a pooled connection given back mid-statement when its task was cancelled).
# Poison (classes 22 and 23) is sorted out inside the batch, before anything reaches here.
SESSION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError, TimeoutError)


# What says "PostgreSQL is not there" rather than "this statement was refused".
UNREACHABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.InternalClientError, asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError, asyncpg.CrashShutdownError, asyncpg.CannotConnectNowError)

# The server's own answers that say it cannot be used: not there, shutting down, no such database,
# not allowed in.  The CLI's exit-code table (vcdb/exit_codes.py) maps them to "unavailable".
SERVER_UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError,
    asyncpg.InvalidCatalogNameError, asyncpg.InvalidAuthorizationSpecificationError, asyncpg.AdminShutdownError)

# What says "PostgreSQL is not there" to the producers' run state (StateUnavailable).
STATE_UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (OSError, TimeoutError, *SERVER_UNAVAILABLE_ERRORS)

# A table or schema that is not there: the database is not migrated.
NOT_MIGRATED_ERRORS: tuple[type[BaseException], ...] = (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError)


def infrastructure(what: str, e: BaseException) -> InfrastructureError:
    unreachable = isinstance(e, UNREACHABLE_ERRORS)
    if isinstance(e, OSError):
        return InfrastructureError(f"{what}: connection lost: {e}", unreachable=unreachable)
    return InfrastructureError(f"{what}: {type(e).__name__}: {e}", unreachable=unreachable)


P = ParamSpec("P")
R = TypeVar("R")


def guarded(what: str) -> Callable[[Callable[P, Coroutine[Any, Any, R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """A store read whose failure is the infrastructure's: raised as InfrastructureError, which
    the worker retries (Worker._retrying)."""
    def wrap(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(fn)
        async def call(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await fn(*args, **kwargs)
            except SESSION_ERRORS as e:
                raise infrastructure(what, e) from e
        return call
    return wrap


def state_guarded(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """A statement on the producers' run state whose failure for want of a server is
    StateUnavailable (which dooms the run); any other error goes on as itself."""
    @functools.wraps(fn)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except STATE_UNAVAILABLE_ERRORS as e:
            raise StateUnavailable(f"PostgreSQL: {type(e).__name__}: {e}") from e
    return call


# ---- pools ---------------------------------------------------------------------------------------

async def _open(url: str, size: int, settings: dict[str, str], probe: str) -> tuple[Pool, Any]:
    """A pool, and the answer to `probe`: with no floor nothing connects until the first use, so
    a server that is not there says so now, not at the first statement."""
    try:
        pool = await asyncpg.create_pool(url, min_size=POOL_FLOOR, max_size=size, server_settings=settings)
    except (OSError, asyncpg.PostgresError) as e:
        raise InfrastructureError(f"cannot connect to PostgreSQL: {e}") from e
    try:
        return pool, await pool.fetchval(probe)
    except (OSError, asyncpg.PostgresError) as e:
        await pool.close()
        raise InfrastructureError(f"cannot connect to PostgreSQL: {e}") from e


async def connect_reader(url: str, size: int = 4) -> Pool:
    """A pool for reading only (the explorer): every transaction read-only, whatever the role may do."""
    pool, _ = await _open(url, size, READER_SETTINGS, "SELECT 1")
    return pool


async def connect_pool(url: str, size: int = 4) -> Pool:
    """A pool with the loader's server settings, for the commands that read the state or reset it."""
    pool, _ = await _open(url, size, SERVER_SETTINGS, "SELECT 1")
    return pool


@dataclass(frozen=True)
class Writer:
    """The loader's pool, and whether its upserts may run with PostgreSQL's FK triggers off."""

    pool: Pool
    skip_fk_triggers: bool


# The loader checks every parent set-based before its upsert, and parents are never deleted
# (deletes are soft), so PostgreSQL's per-row FK triggers only repeat that check at several times
# its cost.  Where the role may set session_replication_role (superuser, or PostgreSQL 15+
# `GRANT SET ON PARAMETER session_replication_role`), the upsert runs with triggers off; elsewhere
# the constraints are checked twice, correctly but slower.
_MAY_SKIP_FK_TRIGGERS = (
    "SELECT rolsuper OR (current_setting('server_version_num')::int >= 150000 AND "
    "has_parameter_privilege('session_replication_role', 'SET')) FROM pg_roles WHERE rolname = current_user")


async def connect_writer(url: str, size: int = 4) -> Writer:
    """The loader's pool, with the privilege check that decides `skip_fk_triggers`."""
    pool, allowed = await _open(url, size, SERVER_SETTINGS, _MAY_SKIP_FK_TRIGGERS)
    return Writer(pool, bool(allowed))


async def connect_run_state(url: str) -> Pool:
    """The producers' pool: checkpoints from every endpoint of a run at once."""
    try:
        pool: Pool = await asyncpg.create_pool(url, min_size=1, max_size=8)
    except STATE_UNAVAILABLE_ERRORS as e:
        raise StateUnavailable(f"cannot connect to PostgreSQL: {e}") from e
    return pool


async def connect_session(url: str, *, wait_s: float = 60) -> Connection:
    """One session of its own (an advisory lock held for a run, the administration of the server).
    asyncpg's errors go on as they are: the caller says what they mean."""
    return await asyncpg.connect(url, timeout=wait_s)
