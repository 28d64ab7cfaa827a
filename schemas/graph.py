"""The FK graph of a database and the load order derived from it.

Edges run parent -> child for every same-database reference, declared or logical.
Self-references are noted and left out of the ordering (parents load before children inside
the table).  A cycle between different tables is an error: no load order exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.catalog import Catalog


class CycleError(ValueError):
    def __init__(self, tables: list[str]):
        super().__init__(f"foreign-key cycle between tables: {' -> '.join(tables)}")
        self.tables = tables


@dataclass(frozen=True)
class LoadPlan:
    levels: tuple[tuple[str, ...], ...]  # level 0 has no parents; tables sorted inside a level
    self_referencing: tuple[str, ...]
    parents: dict[str, tuple[str, ...]]  # same-db parents, self excluded

    @property
    def order(self) -> list[str]:
        return [t for level in self.levels for t in level]

    def level_of(self, table: str) -> int:
        for i, level in enumerate(self.levels):
            if table in level:
                return i
        raise KeyError(table)


def load_plan(catalog: Catalog, tables: list[str] | None = None) -> LoadPlan:
    names = set(tables) if tables is not None else set(catalog.tables)
    parents = {n: tuple(p for p in catalog.tables[n].parents() if p in catalog.tables) for n in catalog.tables}
    selfref = tuple(sorted(n for n, t in catalog.tables.items() if n in t.parents(include_self=True)))
    remaining = {n: {p for p in parents[n] if p in names} for n in names}
    levels: list[tuple[str, ...]] = []
    while remaining:
        ready = sorted(n for n, ps in remaining.items() if not ps)
        if not ready:
            raise CycleError(_find_cycle(remaining))
        levels.append(tuple(ready))
        for n in ready:
            del remaining[n]
        for ps in remaining.values():
            ps.difference_update(ready)
    return LoadPlan(tuple(levels), selfref, {n: parents[n] for n in names})


def _find_cycle(remaining: dict[str, set[str]]) -> list[str]:
    start = sorted(remaining)[0]
    path: list[str] = [start]
    seen = {start: 0}
    node = start
    while True:
        node = sorted(remaining[node])[0]
        if node in seen:
            return [*path[seen[node]:], node]
        seen[node] = len(path)
        path.append(node)

