"""`--metrics-port`: Prometheus metrics at /metrics, /healthz and /readyz, served by a thread of
the process, so a busy event loop (a batch decoding) never makes a scrape or a probe time out.

/healthz is 200 while the process runs.  /readyz is 200 when every condition the command needs
(streams/metrics.py READY: "postgres", "broker", and for a loading worker "assigned") holds, 503
otherwise, with the conditions as JSON either way.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streams.metrics import READY
from vcdb.console import UsageError

log = logging.getLogger(__name__)

PRODUCER_NEEDS = ("postgres", "broker")
CONSUMER_NEEDS = ("postgres", "broker", "assigned")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            self._send(200, b'{"status": "alive"}', "application/json")
        elif path == "/readyz":
            ready = READY.ready()
            body = json.dumps({"ready": ready, "conditions": READY.state(), "reasons": READY.reasons()}).encode()
            self._send(200 if ready else 503, body, "application/json")
        else:
            self._send(404, b'{"detail": "try /metrics, /healthz or /readyz"}', "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("metrics: " + format, *args)


@contextmanager
def serving(port: int | None, needs: Sequence[str], host: str = "0.0.0.0") -> Iterator[int | None]:
    """Serve while the block runs (nothing when `port` is None); yields the port bound (0 picks one).
    A port that cannot be bound is a UsageError (exit 2).  All interfaces: the scraper is elsewhere."""
    if port is None:
        yield None
        return
    try:
        server = ThreadingHTTPServer((host, port), _Handler)
    except OSError as e:
        raise UsageError(f"--metrics-port {port}: cannot listen on {host}:{port} ({e.strerror or e})") from e
    READY.need(*needs)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    bound: int = server.server_address[1]
    log.info("metrics on http://%s:%d/metrics (/healthz, /readyz)", host, bound)
    try:
        yield bound
    finally:
        server.shutdown()
        server.server_close()
