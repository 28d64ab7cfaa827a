"""`vcdb consume --workers N`: the exit code of the whole and the combined summary (pure parts)."""

from __future__ import annotations

import signal

from vcdb import exit_codes
from vcdb.workers import combine, worst


def test_all_workers_ok_is_ok() -> None:
    assert worst([exit_codes.OK, exit_codes.OK]) == exit_codes.OK


def test_no_workers_is_ok() -> None:
    assert worst([]) == exit_codes.OK


def test_one_failed_worker_fails_the_whole() -> None:
    assert worst([exit_codes.OK, exit_codes.FAILED, exit_codes.OK]) == exit_codes.FAILED


def test_a_worker_killed_by_a_signal_counts_as_failed() -> None:
    # Popen.returncode is -N for a child killed by signal N.
    assert worst([exit_codes.OK, -signal.SIGKILL]) == exit_codes.FAILED
    assert worst([-signal.SIGTERM]) == exit_codes.FAILED


def test_the_worst_code_wins_whatever_the_order() -> None:
    codes = [exit_codes.FAILED, exit_codes.UNAVAILABLE, exit_codes.OK, -signal.SIGKILL]
    assert worst(codes) == worst(list(reversed(codes))) == exit_codes.UNAVAILABLE


def test_combine_adds_the_counts_and_joins_the_seals() -> None:
    out = combine([
        {"batches": 2, "loaded": 10, "dead_lettered": 1, "read": 11, "sealed": ["Make"], "idle": True},
        {"batches": 3, "loaded": 5, "dead_lettered": 0, "read": 6, "sealed": ["Model", "Year"], "idle": True},
    ])
    assert out == {"workers": 2, "batches": 5, "loaded": 15, "dead_lettered": 1, "read": 17,
                   "sealed": ["Make", "Model", "Year"], "idle": True}


def test_the_whole_is_idle_only_if_every_worker_is() -> None:
    idle = {"batches": 0, "loaded": 0, "dead_lettered": 0, "read": 0, "sealed": [], "idle": True}
    assert combine([idle, {**idle, "idle": False}])["idle"] is False


def test_a_worker_without_a_summary_counts_as_not_idle_and_adds_nothing() -> None:
    # supervise() puts {} for a worker whose stdout was not JSON (it died before printing it).
    out = combine([{"batches": 1, "loaded": 4, "dead_lettered": 0, "read": 4, "sealed": ["Make"], "idle": True}, {}])
    assert out["workers"] == 2 and out["loaded"] == 4 and out["sealed"] == ["Make"] and out["idle"] is False


def test_no_summaries_is_not_idle() -> None:
    assert combine([]) == {"workers": 0, "batches": 0, "loaded": 0, "dead_lettered": 0, "read": 0, "sealed": [],
                           "idle": False}
