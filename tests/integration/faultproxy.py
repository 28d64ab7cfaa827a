"""A small TCP fault proxy for the tests: 127.0.0.1:<free port> forwarded to a target host:port,
with faults switched at runtime.

It runs its own asyncio loop in a daemon thread, so synchronous tests and asyncio tests drive it
alike; every control method is thread-safe and returns once the change took effect.

Faults:
- `latency(ms)`: every chunk is delivered `ms` later, in each direction (order kept, throughput
  not capped: a chunk waits for its own due time, not behind the previous chunk's sleep);
- `reset()`: every current connection is aborted with an RST on both sides (SO_LINGER 0); new
  connections go on in the current mode;
- `blackhole()`: connections are accepted and kept, nothing is forwarded either way, and new ones
  are not connected upstream.  Bytes are held, not dropped (the kernel buffers them, as TCP
  retransmission would across a partition), so `heal()` resumes the streams intact;
- `half_open("up" | "down")`: only that direction flows ("up" is client to target);
- `down()`: the target is gone: current connections are reset and every new one is reset as soon
  as it is accepted (a server that is down, as the client sees it), until `heal()`;
- `heal()`: everything flows again, no added latency.

Bounded: `close()` aborts every connection, stops the listener and joins the thread within a few
seconds.  Counters (`accepted`, `resets`, `upstream_failures`, `refused`) let a test report what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")
Direction = Literal["up", "down"]
CHUNK = 65536
QUEUE_CHUNKS = 64  # per direction: back-pressure instead of unbounded buffering


def _rst(writer: asyncio.StreamWriter | None) -> None:
    """Abort with RST: SO_LINGER on, 0 s, then close."""
    if writer is None:
        return
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class _Link:
    """One client connection and its upstream connection."""

    def __init__(self, proxy: FaultProxy, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.proxy = proxy
        self.client_r, self.client_w = client_r, client_w
        self.up_w: asyncio.StreamWriter | None = None
        self.tasks: list[asyncio.Task[None]] = []

    async def run(self) -> None:
        p = self.proxy
        try:
            if p.mode == "down":
                p.refused += 1
                _rst(self.client_w)
                return
            assert p._connectable is not None
            await p._connectable.wait()  # blackholed: accepted, held, not connected upstream
            try:
                opening = (asyncio.open_unix_connection(p.target_path) if p.target_path is not None
                           else asyncio.open_connection(p.target_host, p.target_port))
                up_r, up_w = await asyncio.wait_for(opening, 10)
            except (OSError, TimeoutError):
                p.upstream_failures += 1
                _rst(self.client_w)
                return
            self.up_w = up_w
            self.tasks = [asyncio.create_task(self._pump(self.client_r, up_w, "up")),
                          asyncio.create_task(self._pump(up_r, self.client_w, "down"))]
            await asyncio.gather(*self.tasks, return_exceptions=True)
        finally:
            self.abort()
            p._links.discard(self)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, d: Direction) -> None:
        gate = self.proxy._gates[d]
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(QUEUE_CHUNKS)
        loop = asyncio.get_running_loop()

        async def read() -> None:
            try:
                while True:
                    await gate.wait()
                    data = await reader.read(CHUNK)
                    if not data:
                        break
                    await queue.put((loop.time() + self.proxy._latency_s, data))
            except OSError:
                pass
            await queue.put(None)

        reading = asyncio.create_task(read())
        try:
            while (item := await queue.get()) is not None:
                due, data = item
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                await gate.wait()  # read before a blackhole, held until it heals
                writer.write(data)
                await writer.drain()
            with contextlib.suppress(OSError):
                if writer.can_write_eof():
                    writer.write_eof()  # a half close travels on; the link ends when both are done
        except OSError:
            self.abort()
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading

    def abort(self) -> None:
        _rst(self.client_w)
        _rst(self.up_w)
        for task in self.tasks:
            task.cancel()


class FaultProxy:
    def __init__(self, target_host: str, target_port: int, *, listen_port: int = 0,
                 target_path: str | None = None) -> None:
        """Forwards 127.0.0.1:<port> to target_host:target_port, or to the Unix socket `target_path`."""
        self.target_host, self.target_port, self.target_path = target_host, target_port, target_path
        self._listen_port = listen_port
        self.port = 0
        self.accepted = 0
        self.resets = 0  # connections aborted by reset()
        self.upstream_failures = 0
        self.refused = 0  # connections reset on arrival while down()
        self.mode = "pass"
        self._latency_s = 0.0
        self._links: set[_Link] = set()
        self._loop = asyncio.new_event_loop()
        self._gates: dict[Direction, asyncio.Event] = {}
        self._connectable: asyncio.Event | None = None
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="faultproxy", daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._start())
        return self

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def _start(self) -> None:
        self._gates = {"up": asyncio.Event(), "down": asyncio.Event()}
        self._connectable = asyncio.Event()
        for gate in (*self._gates.values(), self._connectable):
            gate.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self._listen_port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        link = _Link(self, reader, writer)
        self._links.add(link)
        with contextlib.suppress(asyncio.CancelledError):  # close(): asyncio.start_server logs a cancelled handler
            await link.run()

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _set(self, mode: str, up: bool, down: bool, latency_s: float = 0.0) -> None:
        self.mode, self._latency_s = mode, latency_s
        assert self._connectable is not None
        if up or down:
            self._connectable.set()
        else:
            self._connectable.clear()
        for d, open_ in (("up", up), ("down", down)):
            gate = self._gates[d]  # type: ignore[index]
            if open_:
                gate.set()
            else:
                gate.clear()

    # Controls ----------------------------------------------------------------------------------
    def heal(self) -> None:
        self._call(self._set("pass", True, True))

    def latency(self, ms: float) -> None:
        self._call(self._set(f"latency {ms:g} ms", True, True, ms / 1000.0))

    def blackhole(self) -> None:
        self._call(self._set("blackhole", False, False))

    def half_open(self, direction: Direction = "up") -> None:
        self._call(self._set(f"half-open {direction}", direction == "up", direction == "down"))

    def down(self) -> int:
        """Reset every current connection and each new one until heal(); the number aborted now."""
        self._call(self._set("down", True, True))
        return self.reset()

    def reset(self) -> int:
        """RST every current connection; the number aborted."""
        async def go() -> int:
            links = list(self._links)
            for link in links:
                link.abort()
            self.resets += len(links)
            return len(links)
        return self._call(go())

    def connections(self) -> int:
        async def go() -> int:
            return len(self._links)
        return self._call(go())

    def close(self) -> None:
        if not self._thread.is_alive():
            return

        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            for link in list(self._links):
                link.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.wait(tasks, timeout=3) if tasks else None
            if self._server is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._server.wait_closed(), 2)

        with contextlib.suppress(Exception):
            self._call(stop(), timeout=8)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()
