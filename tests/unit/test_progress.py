"""The producer's progress display: log lines off a terminal, a redrawn table on one."""

from __future__ import annotations

import io

from producers.paging import Page, PageCursor, Pagination
from producers.progress import TerminalProgress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _page(n: int, retries: int = 0) -> Page:
    return Page([{"MakeID": n}], [b'{"MakeID":%d}' % n], PageCursor(None, n), None,
                Pagination(total_count=3, total_pages=3), attempts=retries + 1)


def test_plain_lines_when_not_on_a_terminal() -> None:
    out = io.StringIO()
    p = TerminalProgress(out, log_every_pages=2)
    p.endpoint_started("Make")
    for n in (1, 2, 3):
        p.page_done("Make", _page(n, retries=1), 1)
    p.endpoint_finished("Make", "done", None)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Make: started"
    assert lines[1].startswith("Make: pages 2/3, records 2,")
    assert lines[-1].startswith("Make: done pages 3/3, records 3,") and "retries 3" in lines[-1]


def test_failed_endpoint_names_its_error() -> None:
    out = io.StringIO()
    p = TerminalProgress(out)
    p.endpoint_started("Vehicle")
    p.endpoint_finished("Vehicle", "failed", "RetriesExhausted: GET /api/v2.0/vcdb/Vehicle")
    assert out.getvalue().splitlines()[-1].endswith("RetriesExhausted: GET /api/v2.0/vcdb/Vehicle")


def test_terminal_table_redraws_in_place() -> None:
    out = _Tty()
    p = TerminalProgress(out, redraw_s=0)
    p.endpoint_started("Make")
    p.page_done("Make", _page(1), 1)
    p.page_done("Make", _page(2), 1)
    text = out.getvalue()
    assert "\x1b[" in text  # cursor moved up to redraw, not a scrolling log
    assert "endpoints done 0/1" in text and "pages 2/3" in text
