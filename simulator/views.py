"""Index views: which row indices a query returns, in key order, without holding the rows.

A view is a sorted sequence of row indices.  Most are a range with a few holes (the rows ended
so far), kept as the range bounds plus a compact array of the holes; incremental views are a
short explicit array followed by a range.  Paging a view costs a binary search, not a scan.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field


def _empty() -> array[int]:
    return array("q")


@dataclass(frozen=True)
class IndexView:
    """`explicit` (sorted, all below `lo`), then the range [lo, hi) minus `holes` (sorted)."""

    lo: int
    hi: int
    holes: array[int] = field(default_factory=_empty)
    explicit: array[int] = field(default_factory=_empty)

    def __len__(self) -> int:
        return len(self.explicit) + max(0, self.hi - self.lo) - len(self.holes)

    def __iter__(self) -> Iterator[int]:
        return iter(self.slice(0, len(self)))

    def slice(self, offset: int, limit: int) -> list[int]:
        """Up to `limit` indices from position `offset`."""
        out: list[int] = []
        if offset < 0 or limit <= 0:
            return out
        n_explicit = len(self.explicit)
        if offset < n_explicit:
            out.extend(self.explicit[offset : offset + limit])
            offset = n_explicit
        if len(out) >= limit:
            return out
        k = offset - n_explicit  # position inside the range-with-holes
        index = self._range_position(k)
        hole = bisect_right(self.holes, index - 1)  # first hole at or after `index`
        holes = self.holes
        while len(out) < limit and index < self.hi:
            if hole < len(holes) and holes[hole] == index:
                hole += 1
            else:
                out.append(index)
            index += 1
        return out

    def _range_position(self, k: int) -> int:
        """The index of the k-th (0-based) live position of [lo, hi) minus holes."""
        holes = self.holes
        # Find the number of holes h below the answer: the answer is lo + k + h where exactly h
        # holes lie below it.  `holes[j] - lo - j` counts live positions before holes[j].
        low, high = 0, len(holes)
        while low < high:
            mid = (low + high) // 2
            if holes[mid] - self.lo - mid <= k:
                low = mid + 1
            else:
                high = mid
        return self.lo + k + low

    def __contains__(self, index: object) -> bool:
        if not isinstance(index, int):
            return False
        if self.lo <= index < self.hi:
            j = bisect_right(self.holes, index)
            return not (j and self.holes[j - 1] == index)
        j = bisect_right(self.explicit, index)
        return bool(j and self.explicit[j - 1] == index)
