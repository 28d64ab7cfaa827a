"""The one table from errors to exit codes (vcdb/exit_codes.py), the CLI edge that applies it, the
typed command functions the parser names, and the stop signals (vcdb/signals.py)."""

from __future__ import annotations

import asyncio
import errno
import inspect
import io
import os
import signal
import time
from collections.abc import Iterator

import aiokafka.errors
import asyncpg
import httpx
import pydantic
import pytest

from consumers.fitment import NotMigrated
from consumers.worker import StoreUnavailable, WorkerStopped
from ledger.errors import InfrastructureError, LockHeld, RunStateError, StateUnavailable
from producers.api.errors import InvalidGrant, NotFound, RetriesExhausted, ServerError, TokenEndpointUnavailable
from producers.files.xml_stream import FormatRefused, ParseError
from producers.service import ProducerError
from schemas.settings import Settings, SettingsError
from streams.broker import BrokerError
from vcdb import cli, exit_codes, signals
from vcdb.console import RunFailed, UsageError
from vcdb.services import ServiceError


def _validation_error() -> pydantic.ValidationError:
    try:
        Settings(DATABASE_URL=3)  # type: ignore[call-arg]
    except pydantic.ValidationError as e:
        return e
    raise AssertionError("no validation error")


def _from(outer: Exception, cause: BaseException) -> Exception:
    outer.__cause__ = cause
    return outer


CASES: list[tuple[BaseException, int]] = [
    (signals.Interrupted(signal.SIGTERM), exit_codes.INTERRUPTED),
    (KeyboardInterrupt(), exit_codes.INTERRUPTED),
    (UsageError("bad"), exit_codes.USAGE),
    (ProducerError("not served by the AutoCare API: X"), exit_codes.USAGE),
    (RunStateError("no unfinished baseline run of vcdb to resume"), exit_codes.USAGE),
    (FormatRefused("ACES 5.0 is not read"), exit_codes.USAGE),
    (SettingsError("KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KAFKA_SASL_USERNAME"), exit_codes.USAGE),
    (_validation_error(), exit_codes.USAGE),
    (LockHeld("another producer run holds the vcdb lock"), exit_codes.LOCKED),
    (InfrastructureError("cannot connect to PostgreSQL: refused"), exit_codes.UNAVAILABLE),
    (StateUnavailable("cannot connect to PostgreSQL: refused"), exit_codes.UNAVAILABLE),
    (BrokerError("cannot create topics"), exit_codes.UNAVAILABLE),
    (ServiceError("Tansu broker did not accept connections"), exit_codes.UNAVAILABLE),
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"), exit_codes.UNAVAILABLE),
    (OSError("Multiple exceptions: [Errno 111] Connect call failed"), exit_codes.UNAVAILABLE),
    (asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
     exit_codes.UNAVAILABLE),
    (asyncpg.InvalidCatalogNameError('database "nowhere" does not exist'), exit_codes.UNAVAILABLE),
    (aiokafka.errors.KafkaConnectionError("Unable to bootstrap"), exit_codes.UNAVAILABLE),
    (httpx.ConnectError("refused"), exit_codes.UNAVAILABLE),
    (RetriesExhausted(TokenEndpointUnavailable("POST /connect/token: unreachable"), 5), exit_codes.UNAVAILABLE),
    (_from(RunFailed("run 1 failed"), RetriesExhausted(TokenEndpointUnavailable("POST /connect/token"), 5)),
     exit_codes.UNAVAILABLE),
    (_from(RunFailed("run 1 failed"), InvalidGrant("username or password rejected")), exit_codes.FAILED),
    (_from(RunFailed("run 1 failed"), StateUnavailable("PostgreSQL: reset")), exit_codes.UNAVAILABLE),
    (RetriesExhausted(ServerError("GET /Make: HTTP 500", status=500), 5), exit_codes.FAILED),
    (NotFound("GET /Nope: HTTP 404"), exit_codes.FAILED),
    (WorkerStopped("more than --max-dead-letters 5"), exit_codes.FAILED),
    (StoreUnavailable("loading Make: connection lost; gave up after 6 attempts in 61 s"), exit_codes.UNAVAILABLE),
    (NotMigrated("autocare_fitment is missing"), exit_codes.FAILED),
    (ParseError("a.xml", 1, 1, "not XML"), exit_codes.FAILED),
    (FileNotFoundError(errno.ENOENT, "No such file", "/x/manifest.json"), exit_codes.FAILED),
    (BrokenPipeError(errno.EPIPE, "Broken pipe"), exit_codes.FAILED),
    (asyncpg.UndefinedTableError('relation "ingest.runs" does not exist'), exit_codes.FAILED),
]


@pytest.mark.parametrize(("error", "code"), CASES, ids=[f"{type(e).__name__}-{c}" for e, c in CASES])
def test_each_error_has_its_code(error: BaseException, code: int) -> None:
    found = exit_codes.classify(error)
    assert found is not None and found[0] == code


def test_an_error_no_row_names_is_a_bug_and_keeps_its_traceback() -> None:
    assert exit_codes.classify(ZeroDivisionError()) is None
    with pytest.raises(ZeroDivisionError):
        exit_codes.run_cmd("status", lambda: 1 // 0)


def test_run_cmd_says_one_line_and_returns_the_code() -> None:
    err = io.StringIO()

    def refused() -> int:
        raise LockHeld("another producer run holds the vcdb lock (run 7)")

    assert exit_codes.run_cmd("baseline", refused, err) == exit_codes.LOCKED
    assert err.getvalue() == "vcdb baseline: refused: another producer run holds the vcdb lock (run 7)\n"


def test_every_leaf_of_the_parser_names_a_function_whose_options_it_parses() -> None:
    parser = cli.build_parser()
    seen = 0
    stack = [parser]
    while stack:
        p = stack.pop()
        for action in p._actions:
            if getattr(action, "choices", None) and isinstance(action.choices, dict):
                stack.extend(action.choices.values())
        target = p.get_default("target")
        if target is None:
            continue
        seen += 1
        module, _, name = target.partition(":")
        fn = getattr(__import__(module, fromlist=[name]), name)
        dests = ({a.dest for a in p._actions} | set(p._defaults)) - {"help", "target"}
        params = inspect.signature(fn).parameters
        for param in params.values():
            if param.name in ("settings", "terminal", "argv", "namespace"):
                continue
            assert param.name in dests or param.default is not inspect.Parameter.empty, (target, param.name)
        if "namespace" not in params:  # the simulator's own command line is passed through whole
            assert dests <= set(params), (target, dests - set(params))  # no option parsed and dropped
    assert seen == 32


def test_the_command_name_of_a_subcommand() -> None:
    args = cli.build_parser().parse_args(["dlq", "list"])
    assert cli.command_name(args) == "dlq list"
    assert cli.command_name(cli.build_parser().parse_args(["status"])) == "status"


# ---- signals --------------------------------------------------------------------------------------------

@pytest.fixture
def terminal_signals() -> Iterator[None]:
    """The three signals as a process started from a terminal has them.  Whatever runs the suite
    may have them ignored (a background job ignores SIGINT, nohup SIGHUP), and a signal ignored at
    start stays ignored by design (the test below), which is not what these tests are about."""
    wanted = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL, signal.SIGHUP: signal.SIG_DFL}
    before = {signum: signal.signal(signum, handler) for signum, handler in wanted.items()}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


@pytest.mark.usefixtures("terminal_signals")
def test_a_signal_sets_stop_and_the_command_returns_on_its_own() -> None:
    async def main(stop: signals.Stop) -> str:
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stop.event.wait(), 5)
        return f"stopped by {stop.signum}"

    previous = signal.getsignal(signal.SIGTERM)
    assert signals.run(main) == f"stopped by {signal.SIGTERM}"
    assert signal.getsignal(signal.SIGTERM) is previous  # put back as it was


@pytest.mark.usefixtures("terminal_signals")
def test_a_command_that_does_not_stop_in_its_grace_is_cancelled_and_interrupted() -> None:
    async def main(stop: signals.Stop) -> None:
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGHUP)
        await asyncio.sleep(30)

    started = time.monotonic()
    with pytest.raises(signals.Interrupted) as info:
        signals.run(main, grace_s=0.2)
    assert info.value.signum == signal.SIGHUP and time.monotonic() - started < 5
    assert exit_codes.classify(info.value) == (exit_codes.INTERRUPTED, "interrupted: ")


@pytest.mark.usefixtures("terminal_signals")
def test_outside_a_loop_a_signal_raises_interrupted_and_deferred_holds_it() -> None:
    previous = signals.install()
    try:
        with pytest.raises(signals.Interrupted), signals.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            held = True  # the block ran to its end before the signal was raised
        assert held
        with pytest.raises(signals.Interrupted):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
    finally:
        signals.restore(previous)


def test_a_signal_ignored_when_we_start_stays_ignored() -> None:
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    try:
        previous = signals.install()
        try:
            assert signal.SIGHUP not in previous and signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert signal.SIGTERM in previous
        finally:
            signals.restore(previous)
    finally:
        signal.signal(signal.SIGHUP, before)


def test_a_run_that_ended_has_the_code_of_its_status() -> None:
    assert [exit_codes.for_run(s) for s in ("succeeded", "interrupted", "failed")] == [
        exit_codes.OK, exit_codes.INTERRUPTED, exit_codes.FAILED]


class _SignalledStream(io.StringIO):
    """stderr that receives SIGTERM while the error is being reported (a supervisor stopping us)."""

    def write(self, text: str) -> int:
        os.kill(os.getpid(), signal.SIGTERM)
        return super().write(text)


def test_a_stop_signal_while_the_error_is_reported_keeps_the_one_line_and_its_code() -> None:
    previous = signals.install()  # as the CLI runs: SIGTERM raises Interrupted
    try:
        err = _SignalledStream()

        def stopped() -> int:
            raise StoreUnavailable("reading a run's seals: connection lost; gave up after 6 attempts")

        assert exit_codes.run_cmd("consume", stopped, err) == exit_codes.UNAVAILABLE
        assert err.getvalue() == "vcdb consume: reading a run's seals: connection lost; gave up after 6 attempts\n"
    finally:
        signals.restore(previous)
