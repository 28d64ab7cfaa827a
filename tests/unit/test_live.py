"""The terminal view, rendered from a state at a given time; the log lines off a terminal; the
choice of output and the JSON lines."""

from __future__ import annotations

import io
import json
import logging

import pytest
from rich.console import Console

from producers.api.paging import Page, PageCursor, Pagination
from vcdb import logs
from vcdb.live import LogProgress, ViewState, render


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _page(n: int, records: int = 1000, *, total: int = 4000, retries: int = 0) -> Page:
    return Page([{"MakeID": i} for i in range(records)], [b"{}"] * records, PageCursor(None, n), None,
                Pagination(total_count=total, total_pages=-(-total // records)), attempts=retries + 1)


def _text(state: ViewState, now: float) -> str:
    console = Console(file=io.StringIO(), width=140, record=True, color_system=None)
    console.print(render(state, now))
    return console.export_text()


def test_the_view_shows_pages_records_rate_retries_and_an_eta_from_total_count() -> None:
    clock = Clock()
    state = ViewState("baseline vcdb", clock)
    state.endpoint_started("Vehicle")
    state.endpoint_started("Make")
    clock.now = 102.0
    state.page_done("Vehicle", _page(1, retries=2), 1000)  # 1,000 of 4,000 records in 2 s: 500/s, 6 s to go
    state.page_done("Make", _page(1, 50, total=50), 50)
    state.endpoint_finished("Make", "done", None)
    text = _text(state, 102.0)
    assert "baseline vcdb: endpoints 1 done, 1 running; 1,050 records, 500 rec/s, ETA 0:06" in text
    row = next(line for line in text.splitlines() if line.startswith("Vehicle"))
    assert row.split() == ["Vehicle", "1/4", "1,000/4,000", "500", "2", "0:06"]
    assert not [line for line in text.splitlines() if line.startswith("Make")]  # done: counted, not listed


def test_the_view_names_a_failed_endpoint_and_its_error() -> None:
    clock = Clock()
    state = ViewState("baseline vcdb", clock)
    state.endpoint_started("Model")
    state.endpoint_finished("Model", "failed", "RetriesExhausted: GET /Model")
    text = _text(state, 101.0)
    assert "endpoints 1 failed" in text and "RetriesExhausted: GET /Model" in text


def test_the_view_shows_tables_loaded_dead_lettered_and_sealed_from_postgresql() -> None:
    state = ViewState("consume vcdb", Clock())
    state.update({"endpoints": [
        {"table_name": "Vehicle", "status": "running", "pages_published": 3, "total_pages": 9,
         "records_published": 3000, "total_count": 9000, "retries": 1, "last_error": None}],
        "tables": [{"table_name": "Make", "status": "sealed", "loaded": 50, "dead_lettered": 0},
                   {"table_name": "Vehicle", "status": "loading", "loaded": 2500, "dead_lettered": 7}]})
    text = _text(state, 100.0)
    assert "tables: 1 loading, 1 sealed; 2,550 loaded, 7 dead-lettered" in text
    row = next(line for line in text.splitlines() if line.startswith("Vehicle") and "loading" in line)
    assert row.split() == ["Vehicle", "2,500", "7", "loading"]
    assert "3/9" in text and "3,000/9,000" in text  # the endpoints come from PostgreSQL too


def test_a_producer_here_is_not_overwritten_by_older_rows_from_postgresql() -> None:
    state = ViewState("demo", Clock())
    state.endpoint_started("Make")
    state.page_done("Make", _page(1, 10, total=10), 10)
    state.update({"endpoints": [{"table_name": "Make", "status": "running", "pages_published": 0,
                                 "total_pages": None, "records_published": 0, "total_count": None, "retries": 0,
                                 "last_error": None}], "tables": []})
    assert state.endpoints["Make"].records == 10


def test_off_a_terminal_progress_is_log_lines_with_fields(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    p = LogProgress(every=2, clock=clock)
    with caplog.at_level(logging.INFO, logger="vcdb.progress"):
        p.endpoint_started("Make")
        clock.now = 101.0
        for n in (1, 2, 3):
            p.page_done("Make", _page(n, 1, total=3, retries=1), 1)
        p.endpoint_finished("Make", "done", None)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "Make: started"
    assert lines[1] == "Make: pages 2/3, records 2, 2 rec/s, retries 2"
    assert lines[-1] == "Make: done pages 3/3, records 3, 3 rec/s, retries 3"
    assert caplog.records[-1].records == 3 and caplog.records[-1].table == "Make"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("requested", "tty", "mode"), [
    ("auto", True, "live"), ("auto", False, "text"), ("text", True, "text"), ("json", True, "json"),
    ("json", False, "json"), ("text", False, "text")])
def test_the_log_format_choice(requested: str, tty: bool, mode: str) -> None:
    assert logs.choose(requested, tty) == mode


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="--log-format"):
        logs.choose("xml", False)


def test_library_loggers_sit_at_warning_unless_verbose() -> None:
    assert logs.levels(0) == (logging.INFO, logging.WARNING)
    assert logs.levels(1) == (logging.INFO, logging.INFO)
    assert logs.levels(2) == (logging.DEBUG, logging.DEBUG)


def test_json_lines_carry_the_message_and_the_extra_fields() -> None:
    record = logging.LogRecord("vcdb.progress", logging.INFO, __file__, 1, "%s: started", ("Make",), None)
    record.table = "Make"
    doc = json.loads(logs.JsonFormatter().format(record))
    assert {k: doc[k] for k in ("level", "logger", "message", "table")} == {
        "level": "INFO", "logger": "vcdb.progress", "message": "Make: started", "table": "Make"}
    assert doc["time"].endswith("+00:00")


def test_configure_text_and_json_write_to_the_stream_and_take_their_handler_back() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    for fmt, check in (("text", lambda s: " INFO vcdb.test: hello" in s), ("json", lambda s: json.loads(s))):
        out = io.StringIO()
        terminal = logs.configure(0, fmt, out)
        try:
            assert terminal.mode == fmt and not terminal.live
            logging.getLogger("vcdb.test").info("hello")
            logging.getLogger("httpx").info("not shown: a library at INFO")
        finally:
            logs.unconfigure(terminal)
        text = out.getvalue()
        assert check(text.strip()) and "library" not in text
    assert root.handlers == before
