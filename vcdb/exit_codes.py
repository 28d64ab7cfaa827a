"""Exit codes of `vcdb`, one meaning each, and THE table that maps errors to them.

Every command's errors reach `run_cmd` (the CLI edge) and nothing below it prints an error or
picks a code: the layers raise their own error classes, this table turns them into one line on
stderr and a code (README, "Exit codes").  An exception matches the first row naming its class
or the class of an exception it was raised `from`; what matches no row is a bug and keeps its
traceback (exit 1).

    0 OK            the command did what it was asked
    1 FAILED        a run failed, a check found problems, a worker stopped on an error, the API
                    refused our credentials or scope, a release was not published (or discarded)
    2 USAGE         bad arguments, settings or input files
    3 LOCKED        another producer run holds the lock of the database
    4 INTERRUPTED   stopped by SIGINT, SIGTERM or SIGHUP (checkpointed: resumable)
    5 UNAVAILABLE   PostgreSQL, the broker or the API cannot be reached
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TextIO

from ledger.statuses import RunStatus
from vcdb import signals

OK = 0
FAILED = 1  # a run failed, a check found problems, or a worker stopped on an error
USAGE = 2  # bad arguments or settings
LOCKED = 3  # another producer run holds the lock for this database
INTERRUPTED = 4  # stopped by a signal; resumable
UNAVAILABLE = 5  # PostgreSQL, Kafka or the API cannot be reached


def for_run(status: str) -> int:
    """The code of a run that ended (rather than raised): succeeded 0, interrupted 4, else 1."""
    if status == RunStatus.SUCCEEDED:
        return OK
    return INTERRUPTED if status == RunStatus.INTERRUPTED else FAILED


@dataclass(frozen=True)
class Row:
    errors: tuple[type[BaseException], ...]
    code: int
    prefix: str = ""  # before the error's own message
    when: Callable[[BaseException], bool] | None = None  # a further test on the instance


def _filesystem(e: BaseException) -> bool:
    """An OSError about a file (it names one), not about a connection."""
    return isinstance(e, OSError) and (e.filename is not None or isinstance(e, FileNotFoundError | PermissionError))


def _api_unreachable(e: BaseException) -> bool:
    from producers.api.errors import unreachable

    return unreachable(e)


@functools.cache
def table() -> tuple[Row, ...]:
    """The rows, first match wins.  Built on first use: `vcdb --help` imports none of this."""
    import aiokafka.errors
    import httpx
    import pydantic

    from consumers.fitment import NotMigrated
    from consumers.relay import RelayBusy
    from consumers.worker import StoreUnavailable, WorkerStopped
    from ledger import pools
    from ledger.errors import InfrastructureError, LockHeld, RunStateError, StateUnavailable
    from producers.api.errors import ApiError
    from producers.files.xml_stream import FileUnreadable, FormatRefused, ParseError
    from producers.raw import RawError
    from producers.service import ProducerError
    from schemas.settings import SettingsError
    from streams.broker import BrokerError
    from vcdb.console import UsageError
    from vcdb.release_commands import ReleaseRefused
    from vcdb.services import ServiceError
    from vcdb.signals import Interrupted

    return (
        Row((Interrupted, KeyboardInterrupt), INTERRUPTED, "interrupted: "),
        Row((UsageError, ProducerError, RunStateError, FormatRefused, FileUnreadable, SettingsError), USAGE),
        Row((pydantic.ValidationError,), USAGE, "bad settings in the environment: "),
        Row((LockHeld, RelayBusy), LOCKED, "refused: "),
        Row((InfrastructureError, StoreUnavailable, StateUnavailable, BrokerError, ServiceError), UNAVAILABLE),
        Row((ApiError,), UNAVAILABLE, "the API cannot be reached: ", when=_api_unreachable),
        Row(pools.SERVER_UNAVAILABLE_ERRORS, UNAVAILABLE, "PostgreSQL: "),
        Row((aiokafka.errors.KafkaError,), UNAVAILABLE, "the broker: "),
        Row((httpx.TransportError,), UNAVAILABLE, "the API cannot be reached: "),
        Row((BrokenPipeError,), FAILED, "output closed: "),  # `vcdb status | head`
        Row((OSError,), FAILED, when=_filesystem),
        Row((OSError, TimeoutError), UNAVAILABLE, "cannot connect to PostgreSQL: "),  # the others wrap theirs
        Row((WorkerStopped,), FAILED, "stopped: "),
        Row((ApiError, NotMigrated, ParseError, RawError), FAILED),
        Row((ReleaseRefused,), FAILED, "refused: "),
        Row(pools.NOT_MIGRATED_ERRORS, FAILED, "PostgreSQL (is the database migrated? `vcdb migrate`): "),
        Row((pools.PostgresError,), FAILED, "PostgreSQL: "),
    )


def _chain(e: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__


def classify(e: BaseException) -> tuple[int, str] | None:
    """The code and the prefix of the message for `e`, or None when no row matches (a bug)."""
    for link in _chain(e):
        for row in table():
            if isinstance(link, row.errors) and (row.when is None or row.when(link)):
                return row.code, row.prefix
    return None


def message(e: BaseException) -> str:
    """The error's own words; one line (a multi-line error is joined)."""
    return " ".join(str(e).split()) or type(e).__name__


def run_cmd(name: str, fn: Callable[[], int], err: TextIO | None = None) -> int:
    """Call the command; map what it raises through the table (alembic's `CommandLine.run_cmd`)."""
    out = err if err is not None else sys.stderr
    try:
        return fn()
    except BaseException as e:
        if isinstance(e, SystemExit):
            raise
        found = classify(e)
        if found is None:
            raise
        # Stopping already: a stop signal now (a supervisor stopping its other workers) must not
        # tear the one-line report into a traceback.
        with signals.deferred(reraise=False):
            code, prefix = found
            if isinstance(e, BrokenPipeError):
                _silence_stdout()
            print(f"vcdb {name}: {prefix}{message(e)}", file=out, flush=True)
        return code


def _silence_stdout() -> None:
    """The reader of our stdout went away: what is still buffered goes nowhere, quietly."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
