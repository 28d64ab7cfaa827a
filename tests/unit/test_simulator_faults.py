"""Fault profiles and the deterministic decision of which request gets which fault."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from simulator.faults import FaultProfile, FaultProfileError, PageRequest, Rule, decide, token_outage


def request(table: str = "Vehicle", page: int = 1, attempt: int = 0, db: str = "vcdb") -> PageRequest:
    return PageRequest(db, table, table, page, attempt)


def run(profile: FaultProfile, requests: list[PageRequest], seed: int = 1) -> list[str | None]:
    """Decide a sequence of requests the way the server does, counting what fired."""
    fired: Counter[str] = Counter()
    out: list[str | None] = []
    for r in requests:
        rule = decide(profile, seed, r, fired)
        if rule is not None:
            fired[rule.name] += 1
        out.append(rule.kind if rule else None)
    return out


def test_a_profile_parses_every_kind(tmp_path: Path) -> None:
    data = {"seed": 9, "rules": [
        {"kind": "throttle", "table": "Vehicle", "probability": 0.5, "retry_after": 2,
         "retry_after_format": "http-date", "max_count": 3},
        {"kind": "503", "pages": [2]},
        {"kind": "slow", "delay_s": 0.5}, {"kind": "reset"}, {"kind": "truncate", "mode": "cut_json"},
        {"kind": "malformed_json"}, {"kind": "duplicate"}, {"kind": "scheme_case"},
        {"kind": "foreign_host", "host": "http://elsewhere.invalid/"},
        {"kind": "fail_for_good", "db": "VCDB", "table": "make", "pages": [1]}],
        "token": {"expires_in": 5, "revoke_after_s": 2, "outage": {"requests": 2, "status": 503}}}
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(data))
    profile = FaultProfile.load(path)
    assert [r.kind for r in profile.rules] == ["throttle", "error", "slow", "reset", "truncate", "malformed_json",
                                               "duplicate", "scheme_case", "foreign_host", "fail_for_good"]
    assert profile.rules[1].status == 503 and profile.rules[0].status == 429
    assert profile.rules[8].host == "http://elsewhere.invalid"
    assert profile.rules[9].db == "vcdb" and profile.rules[9].table == "make"
    assert profile.token.expires_in == 5 and profile.token.outage_requests == 2
    assert FaultProfile.from_json(None) == FaultProfile()


@pytest.mark.parametrize("bad", [
    {"rules": [{"kind": "explode"}]},
    {"rules": [{"kind": "reset", "probabilty": 0.5}]},
    {"rules": [{"kind": "reset", "probability": 2}]},
    {"rules": [{"kind": "throttle", "retry_after_format": "minutes"}]},
    {"rules": [{"kind": "truncate", "mode": "half"}]},
    {"rules": {"kind": "reset"}},
    {"token": {"outage": {"when": 1}}},
    {"tokens": {}},
    [],
])
def test_a_bad_profile_is_refused_with_a_reason(bad: object) -> None:
    with pytest.raises(FaultProfileError):
        FaultProfile.from_json(bad)


def test_status_rules_are_throttles_or_errors() -> None:
    profile = FaultProfile.from_json({"rules": [{"kind": "status", "status": 429, "retry_after": "1"},
                                                {"kind": "status", "status": 503}, {"kind": "502"}]})
    assert [(r.kind, r.status, r.retry_after) for r in profile.rules] == [
        ("throttle", 429, 1.0), ("error", 503, 1.0), ("error", 502, 1.0)]
    with pytest.raises(FaultProfileError):
        FaultProfile.from_json({"rules": [{"kind": "status"}]})


def test_rules_match_by_db_table_and_page() -> None:
    rule = Rule(kind="error", name="r", db="vcdb", table="vehicletoengineconfig", pages=frozenset({2, 3}))
    assert rule.matches("vcdb", ("VehicleToEngineConfig", "VehicleToEngineConfig"), 2)
    assert not rule.matches("vcdb", ("VehicleToEngineConfig",), 1)
    assert not rule.matches("pcdb", ("VehicleToEngineConfig",), 2)
    assert Rule(kind="error", name="r", table="piesexpicode").matches("pcdb", ("PIESExpiCode", "PIESEXPICode"), 9)


def test_max_count_and_first_matching_rule_win() -> None:
    profile = FaultProfile.from_json({"rules": [{"kind": "500", "pages": [2], "max_count": 1},
                                                {"kind": "502", "pages": [2], "max_count": 1}]})
    kinds = run(profile, [request(page=2, attempt=n) for n in range(4)])
    assert kinds == ["error", "error", None, None]
    fired: Counter[str] = Counter({"0:error": 1})
    second = decide(profile, 1, request(page=2), fired)
    assert second is not None and second.status == 502


def test_fail_for_good_ignores_probability_and_count() -> None:
    profile = FaultProfile.from_json({"rules": [{"kind": "fail_for_good", "table": "Make", "pages": [3],
                                                 "max_count": 1, "probability": 0.0}]})
    assert run(profile, [request("Make", 3, n) for n in range(10)]) == ["fail_for_good"] * 10
    assert run(profile, [request("Make", 2)]) == [None]


def test_duplicate_needs_a_previous_page() -> None:
    profile = FaultProfile.from_json({"rules": [{"kind": "duplicate"}]})
    assert run(profile, [request(page=1), request(page=2)]) == [None, "duplicate"]


def test_probability_is_deterministic_by_seed_and_roughly_right() -> None:
    profile = FaultProfile.from_json({"rules": [{"kind": "429", "probability": 0.2}]})
    requests = [request("VehicleToEngineConfig", page, attempt) for page in range(1, 501) for attempt in range(2)]
    first = run(profile, requests, seed=5)
    assert first == run(profile, requests, seed=5)
    assert first != run(profile, requests, seed=6)
    share = sum(k is not None for k in first) / len(first)
    assert 0.15 < share < 0.25
    pinned = FaultProfile.from_json({"seed": 77, "rules": [{"kind": "429", "probability": 0.2}]})
    assert run(pinned, requests, seed=5) == run(pinned, requests, seed=6), "the profile's seed wins"


def test_token_outage_by_request_count_and_by_time_window() -> None:
    counted = FaultProfile.from_json({"token": {"outage": {"requests": 2, "after_requests": 1}}}).token
    assert [token_outage(counted, n, 0.0) for n in range(4)] == [None, 503, 503, None]
    window = FaultProfile.from_json({"token": {"outage": {"start_s": 1, "duration_s": 2, "status": 502}}}).token
    assert [token_outage(window, 0, t) for t in (0.5, 1.0, 2.9, 3.0)] == [None, 502, 502, None]
    assert token_outage(FaultProfile().token, 0, 0.0) is None
