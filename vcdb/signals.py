"""How `vcdb` stops on SIGINT, SIGTERM and SIGHUP: the CLI's signal handlers.

Outside a command's loop (parsing, migrations, starting services) a stop signal raises
`Interrupted` where the main thread is (`install`), so `finally` blocks run and the CLI edge exits 4.
Inside a command's loop (`run`), the first signal sets a `Stop` event instead: the command
finishes what it must (the page in flight is checkpointed, the batch in flight commits) and
returns.  If it is not done within `grace_s` (0 for commands with nothing to finish), or a
second signal comes, its main task is cancelled and `Interrupted` is raised all the same.  Where
a few lines must not be torn apart (a service started but not yet recorded as ours),
`deferred()` holds a signal until they ran.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator
from types import FrameType
from typing import Any, TypeVar

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_S = 10.0
ECHO_S = 1.0  # a signal this soon after the first is the same request

T = TypeVar("T")


class Interrupted(KeyboardInterrupt):
    """A stop signal ended the command.  A KeyboardInterrupt, so that `except Exception` below
    never swallows it and an event loop it is raised in lets it out rather than ending the one
    task it landed in."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


Handlers = dict[signal.Signals, Any]


def honoured() -> tuple[signal.Signals, ...]:
    """The stop signals we act on: those not ignored when we started (`nohup` ignores SIGHUP, a
    shell ignores SIGINT for a job it runs in the background; both stay ignored, as Python leaves
    an ignored SIGINT alone)."""
    return tuple(sig for sig in STOP_SIGNALS if signal.getsignal(sig) is not signal.SIG_IGN)


def install() -> Handlers:
    """Stop signals raise `Interrupted` (the CLI's start); the handlers they had before, for
    `restore`."""
    return {sig: signal.signal(sig, _raise) for sig in honoured()}


def restore(previous: Handlers) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


@contextlib.contextmanager
def deferred(*, reraise: bool = True) -> Iterator[None]:
    """Hold stop signals for the block; one that came meanwhile is raised at its end (or, with
    `reraise=False`, dropped: the block was the stopping)."""
    came: list[int] = []
    previous = {sig: signal.signal(sig, lambda s, _f: came.append(s)) for sig in honoured()}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if came and reraise:
        raise Interrupted(came[0])


class Stop:
    """The stop request of a running command: `event` is set by the first stop signal."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.signum: int | None = None

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def interrupted(self) -> Interrupted:
        return Interrupted(self.signum or signal.SIGTERM)


def run(main: Callable[[Stop], Awaitable[T]], *, grace_s: float = GRACE_S) -> T:
    """`asyncio.run(main(stop))` with the stop signals wired to `stop`, as described above."""

    async def wrapper() -> T:
        stop = Stop()
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        deadline: asyncio.TimerHandle | None = None
        first = 0.0

        def on_signal(signum: int) -> None:
            nonlocal deadline, first
            if stop.requested:
                # A second signal: stop now.  Not an echo of the first, though: Ctrl-C reaches a
                # whole process group, and a supervisor passes the same signal on.
                if loop.time() - first > ECHO_S:
                    task.cancel()
                return
            first = loop.time()
            stop.signum = signum
            stop.event.set()
            deadline = loop.call_later(grace_s, task.cancel)

        wired = honoured()
        previous = {sig: signal.getsignal(sig) for sig in wired}
        for sig in wired:
            loop.add_signal_handler(sig, on_signal, sig)
        try:
            return await main(stop)
        except asyncio.CancelledError:
            if stop.requested:
                raise stop.interrupted() from None
            raise
        finally:
            if deadline is not None:
                deadline.cancel()
            for sig in wired:
                loop.remove_signal_handler(sig)
            restore(previous)  # remove_signal_handler left the default action in place

    return asyncio.run(wrapper())
