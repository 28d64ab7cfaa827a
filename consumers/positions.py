"""Do the offsets stored in PostgreSQL fit the broker's logs? (pure)

The loader's offsets live in PostgreSQL, beside the rows they produced.  A rebuilt broker, a
recreated topic, or retention that deleted records the loader had not read leaves a stored offset
outside the partition's log: past its end (the loader would wait for records that never come, in
silence), or before its start (it would skip what was deleted, in silence).  Either stops the
loader with one message naming the partition, the stored offset and the broker's range, and the
recoveries (README, "A broker that does not have the stored offsets").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TP = tuple[str, int]

RECOVERIES = ("recover with `vcdb consume --resync` (re-reads every topic from its start; the version guard "
              "makes that harmless), after re-publishing the last release from `vcdb raw export` (`vcdb raw "
              "import`) if the topics are empty, or with `vcdb reset --db {db} --yes` and a new baseline")


@dataclass(frozen=True)
class Misfit:
    topic: str
    partition: int
    stored: int
    start: int  # the broker's log start offset
    end: int  # the broker's end offset (the next offset it would write)

    @property
    def past_end(self) -> bool:
        return self.stored > self.end

    def __str__(self) -> str:
        where = ("past its end: a rebuilt broker or a recreated topic" if self.past_end
                 else "before its log start: retention deleted records never loaded")
        return (f"{self.topic}[{self.partition}]: the stored offset {self.stored} is {where} (the broker holds "
                f"offsets {self.start}..{self.end})")


def misfits(stored: Mapping[TP, int], ranges: Mapping[TP, tuple[int, int]]) -> list[Misfit]:
    """The partitions whose stored offset lies outside the broker's [start, end]."""
    out = []
    for tp in sorted(stored):
        if tp not in ranges:
            continue
        start, end = ranges[tp]
        if not start <= stored[tp] <= end:
            out.append(Misfit(tp[0], tp[1], stored[tp], start, end))
    return out


def message(found: list[Misfit], db: str) -> str:
    shown = "; ".join(str(m) for m in found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
    return f"the broker does not have the stored offsets: {shown}; {RECOVERIES.format(db=db)}"
