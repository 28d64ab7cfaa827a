"""The release timeline: which releases exist, their dates, and which one a date falls in.

Releases are numbered from 1.  AutoCare publishes VCdb files monthly at the end of the month
(reference [4], "Release cadence"), so the default timeline is month ends.  Every change of the
simulated data happens on a release date, so the state on any day is the state of the latest
release on or before it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

DEFAULT_FIRST_RELEASE = dt.date(2026, 1, 31)


class TimelineError(ValueError):
    """Release dates that do not make a timeline (none, or not strictly increasing)."""


@dataclass(frozen=True)
class Timeline:
    dates: tuple[dt.date, ...]  # release k is dates[k - 1]

    def __post_init__(self) -> None:
        if not self.dates:
            raise TimelineError("a timeline needs at least one release")
        for a, b in zip(self.dates, self.dates[1:], strict=False):
            if b <= a:
                raise TimelineError(f"release dates must increase: {a} then {b}")

    @classmethod
    def monthly(cls, count: int, first: dt.date = DEFAULT_FIRST_RELEASE) -> Timeline:
        """`count` releases on consecutive month ends, the first in `first`'s month."""
        if count < 1:
            raise TimelineError("a timeline needs at least one release")
        out: list[dt.date] = []
        year, month = first.year, first.month
        for _ in range(count):
            out.append(dt.date(year, month, calendar.monthrange(year, month)[1]))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return cls(tuple(out))

    @classmethod
    def parse(cls, text: str) -> Timeline:
        """`2026-01-31,2026-02-28,...`."""
        try:
            return cls(tuple(dt.date.fromisoformat(p.strip()) for p in text.split(",") if p.strip()))
        except ValueError as e:
            raise TimelineError(f"bad release dates {text!r}: {e}") from e

    @property
    def count(self) -> int:
        return len(self.dates)

    @property
    def releases(self) -> range:
        return range(1, len(self.dates) + 1)

    def date_of(self, release: int) -> dt.date:
        if not 1 <= release <= len(self.dates):
            raise TimelineError(f"no release {release}; the timeline has {len(self.dates)}")
        return self.dates[release - 1]

    def release_on(self, day: dt.date, now: int | None = None) -> int:
        """The latest release published on or before `day` and not after `now`; 0 if none."""
        last = len(self.dates) if now is None else min(now, len(self.dates))
        found = 0
        for k in range(1, last + 1):
            if self.dates[k - 1] <= day:
                found = k
        return found
