"""The Prometheus metrics of every vcdb process, and what its readiness depends on.

One place declares them (prometheus-client's default registry); the producers and consumers
only count.  `vcdb/health.py` serves them with /healthz and /readyz on `--metrics-port`.

Readiness is a set of named conditions a process needs (PostgreSQL, the broker, an assignment),
each set true or false by the code that connects; /readyz is 200 when every condition a command
registered is true.
"""

from __future__ import annotations

import threading

from prometheus_client import Counter, Gauge, Histogram

# ---- consumers ---------------------------------------------------------------------------------
RECORDS_READ = Counter("vcdb_records_read", "data records read from the table topics", ["db", "table"])
RECORDS_LOADED = Counter("vcdb_records_loaded", "records applied to the canonical tables", ["db", "table"])
RECORDS_DEAD_LETTERED = Counter("vcdb_records_dead_lettered", "records sent to a dead-letter topic", ["db", "table"])
BATCH_SECONDS = Histogram("vcdb_batch_apply_seconds", "time to apply one batch (one transaction, retries included)",
                          ["db", "table"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))
SEALS = Counter("vcdb_tables_sealed", "tables sealed for a run", ["db", "table"])
LAG = Gauge("vcdb_consumer_lag", "records in a partition not yet read (high watermark minus position)",
            ["topic", "partition"])

# ---- producers ---------------------------------------------------------------------------------
PAGES = Counter("vcdb_producer_pages", "API pages published", ["db", "endpoint"])
RECORDS_PUBLISHED = Counter("vcdb_producer_records", "records published to the table topics", ["db", "endpoint"])
RETRIES = Counter("vcdb_producer_retries", "API requests retried", ["db", "endpoint"])
API_SECONDS = Histogram("vcdb_api_request_seconds", "AutoCare API request latency, by URL path", ["path"],
                        buckets=(.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60))
API_RESPONSES = Counter("vcdb_api_responses", "AutoCare API answers by status code ('none': no answer)",
                        ["path", "status"])
PRODUCER_LOCK = Gauge("vcdb_producer_lock_held", "1 while this process holds the producer lock of a database",
                      ["db"])


class Readiness:
    """Named conditions, each true or false; ready when every registered one is true."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conditions: dict[str, bool] = {}
        self._why: dict[str, str] = {}  # why a condition is false, when something said

    def need(self, *names: str) -> None:
        with self._lock:
            for name in names:
                self._conditions.setdefault(name, False)

    def set(self, name: str, value: bool, why: str | None = None) -> None:
        with self._lock:
            if name in self._conditions:
                self._conditions[name] = value
                if value or why is None:
                    self._why.pop(name, None)
                else:
                    self._why[name] = why

    def reasons(self) -> dict[str, str]:
        with self._lock:
            return dict(self._why)

    def state(self) -> dict[str, bool]:
        with self._lock:
            return dict(self._conditions)

    def ready(self) -> bool:
        state = self.state()
        return bool(state) and all(state.values())


READY = Readiness()
