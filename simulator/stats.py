"""Request counters the server keeps and `GET /_sim/stats` reports (tests assert on them)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any


class Stats:
    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()  # by endpoint kind: token, records, catalog, sim
        self.statuses: Counter[int] = Counter()
        self.pages: Counter[str] = Counter()  # "db/Table" -> pages answered with intact records
        self.page_requests: defaultdict[str, Counter[int]] = defaultdict(Counter)  # "db/Table" -> page -> requests
        self.records: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()  # by kind
        self.fault_rules: Counter[str] = Counter()  # by rule name
        self.tokens_issued = 0

    def request(self, kind: str) -> None:
        self.requests[kind] += 1

    def status(self, code: int) -> None:
        self.statuses[code] += 1

    def page(self, endpoint: str, page: int, records: int) -> None:
        self.pages[endpoint] += 1
        self.records[endpoint] += records

    def page_request(self, endpoint: str, page: int) -> int:
        """Count a request for a page; returns how many came before it (the attempt number)."""
        before = self.page_requests[endpoint][page]
        self.page_requests[endpoint][page] += 1
        return before

    def fault(self, kind: str, rule: str) -> None:
        self.faults[kind] += 1
        self.fault_rules[rule] += 1

    @staticmethod
    def _by_table(counts: Counter[str]) -> dict[str, int]:
        """Counts per "db/Table" summed by AutoCare table name (no API table name is in two dbs)."""
        out: Counter[str] = Counter()
        for endpoint, n in counts.items():
            out[endpoint.split("/", 1)[1]] += n
        return dict(out)

    def as_json(self, release: int) -> dict[str, Any]:
        return {
            "release": release,
            "requests": dict(self.requests),
            "requests_total": sum(self.requests.values()),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "pages": dict(self.pages),
            "pages_served": self._by_table(self.pages),
            "page_requests": {e: {str(p): n for p, n in sorted(c.items())} for e, c in self.page_requests.items()},
            "records": dict(self.records),
            "faults": dict(self.faults),
            "fault_rules": dict(self.fault_rules),
            "faults_total": sum(self.faults.values()),
            "tokens_issued": self.tokens_issued,
        }
