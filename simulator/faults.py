"""Fault profiles and the pure decision of which fault, if any, a request gets.

The reference documents few server failures (section 1.6: clients retry 429/5xx, large tables
time out, section 1.4: `nextPageLink` came as `http://`), so every fault a client must survive
is a rule here, switched on by a profile.  The server keeps the counters and applies the fault;
this module only decides, from (profile, seed, request, counters), so a test can replay any
decision without a socket.

Profile (JSON; every key optional)::

    {"seed": 7,
     "rules": [{"kind": "throttle", "table": "Vehicle", "probability": 0.2, "retry_after": 2,
                "retry_after_format": "seconds" | "http-date", "max_count": 10},
               {"kind": "error", "status": 503, "pages": [2], "max_count": 1},
               {"kind": "status", "status": 502, "probability": 0.05},
               {"kind": "slow", "delay_s": 30, "db": "vcdb", "table": "BaseVehicle", "pages": [1]},
               {"kind": "reset"}, {"kind": "truncate", "mode": "content_length" | "cut_json"},
               {"kind": "malformed_json"}, {"kind": "duplicate"}, {"kind": "scheme_case"},
               {"kind": "foreign_host", "host": "http://elsewhere.invalid"},
               {"kind": "fail_for_good", "table": "VehicleToClass", "pages": [2]}],
     "token": {"expires_in": 5, "revoke_after_s": 3,
               "outage": {"requests": 3, "after_requests": 0, "start_s": 0, "duration_s": 10,
                          "status": 503}}}

A rule matches a data request by db, table (AutoCare or API name, any case) and page number,
then fires with its probability, at most `max_count` times.  The first rule that fires wins.
`fail_for_good` ignores probability and count: its pages fail until the profile is replaced.
Kind "status" with a `status` is a throttle when the status is 429, an error otherwise; kinds
"429", "500", "502", "503", "504" are shorthands for the same.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.hashing import mix, seed_of, unit

KINDS = frozenset({"throttle", "error", "slow", "reset", "truncate", "malformed_json", "duplicate",
                   "scheme_case", "foreign_host", "fail_for_good"})
_STATUS_SHORTHANDS = {"429": "throttle", **{str(s): "error" for s in range(500, 600)}}
_RULE_KEYS = frozenset({"kind", "name", "db", "table", "pages", "probability", "max_count", "status",
                        "retry_after", "retry_after_format", "delay_s", "mode", "host"})
_OUTAGE_KEYS = frozenset({"requests", "after_requests", "start_s", "duration_s", "status"})


class FaultProfileError(ValueError):
    """A profile that cannot be applied; the message names the offending rule and key."""


@dataclass(frozen=True)
class Rule:
    kind: str
    name: str
    db: str | None = None
    table: str | None = None  # lower case
    pages: frozenset[int] | None = None
    probability: float = 1.0
    max_count: int | None = None
    status: int = 500
    retry_after: float = 1.0
    retry_after_format: str = "seconds"  # or "http-date" [1.6: Retry-After as seconds or a date]
    delay_s: float = 30.0
    mode: str = "content_length"  # truncate: a short body under a longer Content-Length; or cut_json
    host: str = "http://foreign.invalid"

    def matches(self, db: str, names: tuple[str, ...], page: int) -> bool:
        if self.db is not None and self.db != db.lower():
            return False
        if self.table is not None and self.table not in {n.lower() for n in names}:
            return False
        return self.pages is None or page in self.pages


@dataclass(frozen=True)
class TokenFaults:
    expires_in: int | None = None  # what the token endpoint announces (and enforces)
    revoke_after_s: float | None = None  # tokens stop working this long after issue, whatever expires_in says
    outage_requests: int | None = None  # token requests answered with outage_status ...
    outage_after_requests: int = 0  # ... after this many succeeded
    outage_start_s: float | None = None  # or: a window, in seconds after the profile was installed
    outage_duration_s: float = 0.0
    outage_status: int = 503


@dataclass(frozen=True)
class FaultProfile:
    rules: tuple[Rule, ...] = ()
    token: TokenFaults = field(default_factory=TokenFaults)
    seed: int | None = None

    @classmethod
    def from_json(cls, data: Any) -> FaultProfile:
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise FaultProfileError("a fault profile is a JSON object")
        unknown = set(data) - {"rules", "token", "seed"}
        if unknown:
            raise FaultProfileError(f"unknown profile keys: {', '.join(sorted(unknown))}")
        rules_data = data.get("rules", [])
        if not isinstance(rules_data, list):
            raise FaultProfileError("'rules' must be a list")
        rules = tuple(_rule(r, n) for n, r in enumerate(rules_data))
        seed = data.get("seed")
        if seed is not None and not isinstance(seed, int):
            raise FaultProfileError("'seed' must be an integer")
        return cls(rules, _token(data.get("token") or {}), seed)

    @classmethod
    def load(cls, path: str | Path) -> FaultProfile:
        try:
            return cls.from_json(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError) as e:
            raise FaultProfileError(f"cannot read fault profile {path}: {e}") from e


def _rule(data: Any, n: int) -> Rule:
    if not isinstance(data, Mapping):
        raise FaultProfileError(f"rule {n} is not an object")
    unknown = set(data) - _RULE_KEYS
    if unknown:
        raise FaultProfileError(f"rule {n}: unknown keys {', '.join(sorted(unknown))}")
    kind = str(data.get("kind", ""))
    status = data.get("status")
    if kind == "status":
        if not isinstance(status, int) or not 400 <= status < 600:
            raise FaultProfileError(f"rule {n}: kind 'status' needs a status between 400 and 599")
        kind = "throttle" if status == 429 else "error"
    elif kind in _STATUS_SHORTHANDS:
        status = int(kind) if status is None else status
        kind = _STATUS_SHORTHANDS[kind]
    if kind not in KINDS:
        raise FaultProfileError(f"rule {n}: kind {kind!r} is not one of {', '.join(sorted(KINDS))}")
    try:
        pages = data.get("pages")
        rule = Rule(
            kind=kind,
            name=str(data.get("name") or f"{n}:{kind}"),
            db=str(data["db"]).lower() if data.get("db") else None,
            table=str(data["table"]).lower() if data.get("table") else None,
            pages=frozenset(int(p) for p in pages) if pages is not None else None,
            probability=float(data.get("probability", 1.0)),
            max_count=int(data["max_count"]) if data.get("max_count") is not None else None,
            status=int(status) if status is not None else (429 if kind == "throttle" else 500),
            retry_after=float(data.get("retry_after", 1.0)),
            retry_after_format=str(data.get("retry_after_format", "seconds")),
            delay_s=float(data.get("delay_s", 30.0)),
            mode=str(data.get("mode", "content_length")),
            host=str(data.get("host", "http://foreign.invalid")).rstrip("/"),
        )
    except (TypeError, ValueError) as e:
        raise FaultProfileError(f"rule {n}: {e}") from e
    if not 0 <= rule.probability <= 1:
        raise FaultProfileError(f"rule {n}: probability must be between 0 and 1")
    if rule.retry_after_format not in ("seconds", "http-date"):
        raise FaultProfileError(f"rule {n}: retry_after_format must be 'seconds' or 'http-date'")
    if rule.mode not in ("content_length", "cut_json"):
        raise FaultProfileError(f"rule {n}: mode must be 'content_length' or 'cut_json'")
    return rule


def _token(data: Any) -> TokenFaults:
    if not isinstance(data, Mapping):
        raise FaultProfileError("'token' must be an object")
    unknown = set(data) - {"expires_in", "revoke_after_s", "outage"}
    if unknown:
        raise FaultProfileError(f"token: unknown keys {', '.join(sorted(unknown))}")
    outage = data.get("outage") or {}
    if not isinstance(outage, Mapping) or set(outage) - _OUTAGE_KEYS:
        raise FaultProfileError(f"token.outage: an object with keys among {', '.join(sorted(_OUTAGE_KEYS))}")
    try:
        return TokenFaults(
            expires_in=int(data["expires_in"]) if data.get("expires_in") is not None else None,
            revoke_after_s=float(data["revoke_after_s"]) if data.get("revoke_after_s") is not None else None,
            outage_requests=int(outage["requests"]) if outage.get("requests") is not None else None,
            outage_after_requests=int(outage.get("after_requests", 0)),
            outage_start_s=float(outage["start_s"]) if outage.get("start_s") is not None else None,
            outage_duration_s=float(outage.get("duration_s", 0.0)),
            outage_status=int(outage.get("status", 503)),
        )
    except (TypeError, ValueError) as e:
        raise FaultProfileError(f"token: {e}") from e


@dataclass(frozen=True)
class PageRequest:
    db: str
    table: str  # AutoCare name
    api_table: str
    page: int
    attempt: int  # earlier requests for the same db, table and page (0 on the first)


def decide(profile: FaultProfile, seed: int, request: PageRequest, fired: Mapping[str, int]) -> Rule | None:
    """The rule whose fault this request gets, or None.  `fired` counts each rule's earlier faults."""
    salt = profile.seed if profile.seed is not None else seed
    names = (request.table, request.api_table)
    draw_key = seed_of(request.db, request.table.lower(), request.page, request.attempt)
    for n, rule in enumerate(profile.rules):
        if not rule.matches(request.db, names, request.page):
            continue
        if rule.kind == "fail_for_good":
            return rule
        if rule.kind == "duplicate" and request.page < 2:
            continue  # page 1 has no previous page to repeat
        if rule.max_count is not None and fired.get(rule.name, 0) >= rule.max_count:
            continue
        if rule.probability < 1 and unit(mix(mix(salt, n), draw_key)) >= rule.probability:
            continue
        return rule
    return None


def token_outage(token: TokenFaults, request_number: int, elapsed_s: float) -> int | None:
    """The status the token endpoint answers instead of a token, or None.  `request_number`
    counts token requests since the profile was installed (0 first); `elapsed_s` the seconds."""
    if token.outage_requests is not None:
        first = token.outage_after_requests
        if first <= request_number < first + token.outage_requests:
            return token.outage_status
    if token.outage_start_s is not None and (
            token.outage_start_s <= elapsed_s < token.outage_start_s + token.outage_duration_s):
        return token.outage_status
    return None
