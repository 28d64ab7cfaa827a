"""A file table's paging, without I/O: where a page of one ACES or PIES file is, and the page.

A page of a table is what N consecutive entities (Apps or Items) of the file give it, so where it
is, its ``FileCursor``, is how many entities precede it (and its number, and the file read).  The
ledger stores it in its own columns (``ingest.endpoint_progress.entities_before`` and
``file_name``, migration 0011), beside the API's ``PageCursor`` (``next_link``); a resumed run
reads the file again and publishes, per table, only the entities after its checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FileCursor:
    """Where a table's page of a file is: checkpoint it, resume from it."""

    entities: int  # entities of the file before the page
    page_number: int = 1
    file: str | None = None  # the file as given (a resume with another one is warned about)

    def __post_init__(self) -> None:
        if self.entities < 0 or self.page_number < 1:
            raise ValueError(f"not a file cursor: {self.entities} entities before page {self.page_number}")


@dataclass(frozen=True)
class FilePage:
    """One page of a file table, as the service publishes it (``producers.service.SourcePage``).

    ``raw[i]`` is record i as it goes on the topic; ``end`` is the entities read once the page is
    complete, what the checkpoint after the last page says."""

    records: list[dict[str, Any]]
    raw: list[bytes]
    cursor: FileCursor  # where the page starts
    next_cursor: FileCursor | None  # checkpoint this once the page is safely published; None: last
    end: int
    byte_size: int = 0
    total_count: int | None = None  # a file says its counts in its file record, not per page
    total_pages: int | None = None
    retries: int = 0

    @property
    def number(self) -> int:
        return self.cursor.page_number

    @property
    def checkpoint(self) -> FileCursor:
        """What to checkpoint once every record is acknowledged: the next page, or the page after
        the last one, with every entity read before it (a resume then asks for nothing more)."""
        return self.next_cursor or FileCursor(self.end, self.cursor.page_number + 1, self.cursor.file)
