"""`consume --until-idle`'s verdicts: idle, busy, stop on a mismatch, blocked tables of a failed
run (down the FK graph), and the stall."""

from __future__ import annotations

from typing import Any

from consumers.verdicts import Verdict, blocked_tables, judge
from ledger.statuses import EndpointStatus, LoadStatus, RunStatus
from tests.unit.fakes import VCDB

DONE, FAILED = EndpointStatus.DONE, EndpointStatus.FAILED
SEALED, LOADING, WAITING, MISMATCH = LoadStatus.SEALED, LoadStatus.LOADING, LoadStatus.WAITING, LoadStatus.MISMATCH


def row(table: str, endpoint: EndpointStatus = DONE, load: LoadStatus = SEALED, *, run_id: int = 7,
        run: RunStatus = RunStatus.SUCCEEDED, error: str | None = None) -> dict[str, Any]:
    return {"run_id": run_id, "run_status": run, "table_name": table, "endpoint_status": endpoint,
            "load_status": load, "error": error}


def verdict(rows: list[dict[str, Any]], *, holding: bool = False, quiet_s: float = 0.0, stall_s: float = 120.0
            ) -> tuple[Verdict, str]:
    j = judge(VCDB, rows, {r["table_name"] for r in rows}, holding=holding, quiet_s=quiet_s, stall_s=stall_s)
    return j.verdict, j.message


def test_idle_when_every_finished_endpoint_is_sealed() -> None:
    assert verdict([row("Make"), row("BaseVehicle")]) == (Verdict.IDLE, "")
    assert verdict([]) == (Verdict.IDLE, "")


def test_an_endpoint_that_did_not_finish_does_not_keep_the_worker_from_idling() -> None:
    # Nothing of it can load (no end-of-table will come), and nothing of the run depends on it.
    rows = [row("Make"), row("Year", FAILED, WAITING, run=RunStatus.FAILED)]
    assert verdict(rows)[0] == Verdict.IDLE


def test_busy_while_a_run_is_running_even_if_everything_so_far_is_sealed() -> None:
    assert verdict([row("Make", run=RunStatus.RUNNING)])[0] == Verdict.BUSY


def test_busy_while_records_are_held() -> None:
    assert verdict([row("Make")], holding=True)[0] == Verdict.BUSY


def test_busy_while_a_finished_endpoint_is_not_sealed_yet() -> None:
    assert verdict([row("Make"), row("BaseVehicle", DONE, LOADING)])[0] == Verdict.BUSY


def test_a_mismatch_stops_with_the_store_s_message() -> None:
    msg = "Make run 7: the producer announced 5 records, the consumer received 3; not sealed"
    v, text = verdict([row("Make", DONE, MISMATCH, error=msg), row("BaseVehicle", DONE, LOADING)])
    assert v == Verdict.STOP and text == msg


def test_a_mismatch_waits_for_running_runs() -> None:
    rows = [row("Make", DONE, MISMATCH, error="Make run 7: ..."), row("Model", run_id=8, run=RunStatus.RUNNING)]
    assert verdict(rows)[0] == Verdict.BUSY


def test_a_failed_parent_endpoint_blocks_its_children_down_the_fk_graph() -> None:
    failed = RunStatus.FAILED
    # Vehicle comes first: its parent BaseVehicle is blocked only once Make's failure reached it.
    rows = [row("Vehicle", DONE, WAITING, run=failed), row("BaseVehicle", DONE, WAITING, run=failed),
            row("Make", FAILED, WAITING, run=failed), row("Year", run=failed), row("Model", run=failed),
            row("SubModel", run=failed), row("Region", run=failed)]
    v, text = verdict(rows)
    assert v == Verdict.STOP
    hint = "resume the run with --resume, then consume again"
    assert text == (f"run 7 ended failed: Vehicle waits for Make, whose endpoint did not finish (failed); {hint}; "
                    f"run 7 ended failed: BaseVehicle waits for Make, whose endpoint did not finish (failed); {hint}")


def test_blocked_tables_names_only_the_blocked_ones() -> None:
    rows = [row("Make", FAILED, WAITING, run=RunStatus.FAILED), row("BaseVehicle", DONE, WAITING, run=RunStatus.FAILED),
            row("SubModel", DONE, LOADING, run=RunStatus.FAILED)]
    waiting = [r for r in rows if r["endpoint_status"] == DONE]
    out = blocked_tables(VCDB, rows, waiting)
    assert len(out) == 1 and out[0].startswith("run 7 ended failed: BaseVehicle waits for Make")


def test_a_failure_in_another_run_blocks_nothing() -> None:
    rows = [row("Make", FAILED, WAITING, run_id=6, run=RunStatus.FAILED), row("Make"),
            row("BaseVehicle", DONE, LOADING)]
    assert verdict(rows)[0] == Verdict.BUSY


def test_when_only_some_waiting_tables_are_blocked_the_others_may_still_load() -> None:
    rows = [row("Make", FAILED, WAITING, run=RunStatus.FAILED), row("BaseVehicle", DONE, WAITING, run=RunStatus.FAILED),
            row("SubModel", DONE, LOADING, run=RunStatus.FAILED)]
    assert verdict(rows)[0] == Verdict.BUSY


def test_a_stall_stops_after_stall_s_naming_the_waiting_tables() -> None:
    rows = [row("Make"), row("BaseVehicle", DONE, LOADING)]
    assert verdict(rows, quiet_s=120.0, stall_s=120.0)[0] == Verdict.BUSY
    v, text = verdict(rows, quiet_s=120.5, stall_s=120.0)
    assert v == Verdict.STOP
    assert text == "nothing moved for 120 s and not idle; waiting: BaseVehicle (run 7: loading)"


def test_a_stall_while_holding_records_stops_too() -> None:
    v, text = verdict([row("Make")], holding=True, quiet_s=30.0, stall_s=10.0)
    assert v == Verdict.STOP and text.startswith("nothing moved for 10 s")


def test_a_blocked_run_is_said_at_once_not_after_the_stall() -> None:
    rows = [row("Make", FAILED, WAITING, run=RunStatus.INTERRUPTED),
            row("BaseVehicle", DONE, WAITING, run=RunStatus.INTERRUPTED)]
    v, text = verdict(rows, quiet_s=0.0)
    assert v == Verdict.STOP and text.startswith("run 7 ended interrupted: BaseVehicle waits for Make")
