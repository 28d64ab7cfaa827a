"""The release history of one table: rows added, modified and ended by each release.

Release 1 publishes rows [0, counts[0]); release k adds [counts[k-2], counts[k-1]), modifies a
sample of the rows published before it and, for tables nothing references, ends a sample
(EndDateTime set: AutoCare's soft delete, reference [4]).  An ended row stays ended and is never
modified again.  Samples are drawn by hash, so a table's history costs memory in proportion to
the rows it touches (a few percent), never to the table.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass, field

from simulator.hashing import mix

_END_SALT = 0x454E44
_MOD_SALT = 0x4D4F44


def _sorted(values: set[int]) -> array[int]:
    return array("q", sorted(values))


def _has(values: array[int], i: int) -> bool:
    j = bisect_right(values, i)
    return bool(j and values[j - 1] == i)


@dataclass
class TableHistory:
    counts: tuple[int, ...]  # cumulative rows after release k at counts[k - 1]
    ended: tuple[array[int], ...]  # ended[k - 1]: rows ended in release k (sorted)
    modified: tuple[array[int], ...]  # modified[k - 1]: rows modified in release k (sorted)
    _ended_by: dict[int, array[int]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, seed: int, counts: tuple[int, ...], *, end_rate: float, modify_rate: float,
              endable: bool, modifiable: bool) -> TableHistory:
        ended: list[array[int]] = [array("q")]
        modified: list[array[int]] = [array("q")]
        gone: set[int] = set()
        for k in range(2, len(counts) + 1):
            before = counts[k - 2]  # rows published before release k
            ends = _sample(mix(seed, _END_SALT + k), before, round((before - len(gone)) * end_rate), gone) \
                if endable and end_rate > 0 else set()
            gone |= ends
            mods = _sample(mix(seed, _MOD_SALT + k), before, round((before - len(gone)) * modify_rate), gone) \
                if modifiable and modify_rate > 0 else set()
            ended.append(_sorted(ends))
            modified.append(_sorted(mods))
        return cls(counts, tuple(ended), tuple(modified))

    @property
    def releases(self) -> int:
        return len(self.counts)

    def count(self, release: int) -> int:
        """Rows published up to `release` (ended ones included); 0 before release 1."""
        return self.counts[min(release, len(self.counts)) - 1] if release >= 1 else 0

    def added_in(self, i: int) -> int:
        return bisect_right(self.counts, i) + 1

    def ended_in(self, i: int) -> int | None:
        for k in range(2, len(self.counts) + 1):
            if _has(self.ended[k - 1], i):
                return k
        return None

    def modified_in(self, i: int, upto: int) -> list[int]:
        return [k for k in range(2, min(upto, len(self.counts)) + 1) if _has(self.modified[k - 1], i)]

    def ended_by(self, release: int) -> array[int]:
        """Rows ended in releases up to `release`, sorted."""
        release = min(release, len(self.counts))
        cached = self._ended_by.get(release)
        if cached is None:
            merged: set[int] = set()
            for k in range(2, release + 1):
                merged.update(self.ended[k - 1])
            cached = self._ended_by[release] = _sorted(merged)
        return cached

    def touched(self, after: int, upto: int) -> array[int]:
        """Rows published by release `after` that were modified or ended in (after, upto], sorted."""
        out: set[int] = set()
        for k in range(after + 1, min(upto, len(self.counts)) + 1):
            if k >= 2:
                out.update(self.ended[k - 1])
                out.update(self.modified[k - 1])
        limit = self.count(after)
        return _sorted({i for i in out if i < limit})


def _sample(seed: int, population: int, k: int, exclude: set[int]) -> set[int]:
    """Up to `k` distinct indices of [0, population) outside `exclude`, drawn by hash."""
    chosen: set[int] = set()
    if population <= 0 or k <= 0:
        return chosen
    attempts = 0
    while len(chosen) < k and attempts < 4 * k + 64:
        i = mix(seed, attempts) % population
        attempts += 1
        if i not in exclude:
            chosen.add(i)
    return chosen
