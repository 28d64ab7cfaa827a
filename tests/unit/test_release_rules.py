"""The release decisions that need no database: the automatic rule and `consume --until-idle`."""

from __future__ import annotations

from consumers.publish import incomplete, refusal
from consumers.verdicts import Verdict, judge
from ledger.releases import RunFacts, TableFacts
from ledger.statuses import Publication
from schemas.catalog import load_catalog

VCDB = load_catalog("vcdb")


def _facts(*tables: TableFacts) -> RunFacts:
    return RunFacts(7, "vcdb", "incremental", "succeeded", Publication.STAGED, None, tables, None, None)


def _table(name: str, status: str = "sealed", announced: int | None = 10, total: int | None = 10) -> TableFacts:
    return TableFacts(name, status, announced, total, announced or 0, 0)


def test_a_complete_run_with_matching_counts_and_no_orphans_publishes() -> None:
    facts = _facts(_table("Make"), _table("Model", total=None))  # no totalCount: nothing to compare
    assert facts.complete
    assert refusal(facts, {"Make": 0, "Model": 0}) is None


def test_counts_off_and_orphans_are_each_named_in_the_refusal() -> None:
    facts = _facts(_table("Make", announced=9, total=10), _table("Model"))
    reason = refusal(facts, {"Model": 3})
    assert reason == ("Make: the API's totalCount is 10, the producer published 9; "
                      "Model: 3 staged rows whose parent is missing")


def test_a_run_with_a_table_not_sealed_is_incomplete_and_says_which() -> None:
    facts = _facts(_table("Make"), _table("Model", status="loading"))
    assert not facts.complete
    assert incomplete(facts) == "run 7 is not complete: Model (loading) not sealed"


def _unpublished(**kw: object) -> dict[str, object]:
    return {"run_id": 12, "kind": "file", "run_status": "failed", "error": "App 100: line 9, column 3: broken",
            "release": None, "reason": None, **kw}


def test_until_idle_stops_on_a_failed_staged_run_and_names_it() -> None:
    j = judge(VCDB, [], {"Make"}, holding=False, quiet_s=0, stall_s=60, unpublished=[_unpublished()])
    assert j.verdict == Verdict.STOP
    assert j.message.startswith("run 12 (file) ended failed: App 100: line 9, column 3: broken;")
    assert "--resume" in j.message and "vcdb release discard 12" in j.message


def test_until_idle_stops_on_a_refused_release_with_the_reason() -> None:
    j = judge(VCDB, [], {"Make"}, holding=False, quiet_s=0, stall_s=60,
              unpublished=[_unpublished(run_status="succeeded", release="refused", reason="Make: 3 orphans")])
    assert j.verdict == Verdict.STOP
    assert "publication was refused: Make: 3 orphans" in j.message and "--force" in j.message


def test_a_staged_run_still_running_or_succeeded_and_loading_does_not_stop_the_worker() -> None:
    for status in ("running", "succeeded"):
        j = judge(VCDB, [], {"Make"}, holding=False, quiet_s=0, stall_s=60,
                  unpublished=[_unpublished(run_status=status, error=None)])
        assert j.verdict == Verdict.IDLE
