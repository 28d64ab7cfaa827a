"""One search box: "2015 civic", "f-150", a part number or a VCdb id.  PostgreSQL only.

The query is split by `parse` (pure): a four-digit word from 1896 to 2100 is a year, a number is
also tried as a VehicleID / BaseVehicleID, and the words are matched against make and model names
with punctuation ignored ("f150" finds "F-150"; the names as searched are computed once, in the
materialised view `autocare_fitment.explorer_make_model`), and against part numbers by prefix with
case and punctuation ignored ("qabrk1" finds "QA-BRK-100": schemas/part_numbers.py, by the
expression indexes of migration 0010).  End-dated rows are left out unless `deleted=1`; the base
vehicles and the parts come a page at a time, with their totals.  An htmx request (typeahead) gets
the short list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, Field

from schemas import part_numbers
from web.endpoints import Context, Params, endpoint

LIMIT = 20  # rows of a list per page
SUGGESTIONS = 8  # rows of a list in the typeahead
PAIRS_MAX = 500  # make/model pairs a query's words may match
_WORD = re.compile(r"[^\W_]+(?:[-./][^\W_]+)*", re.UNICODE)


@dataclass(frozen=True)
class Query:
    year: int | None
    words: tuple[str, ...]  # lower case, punctuation removed: what names are compared with
    number: int | None  # an id to try
    part: str | None  # the raw text, as a part-number prefix


def parse(text: str) -> Query:
    words = [w.lower() for w in _WORD.findall(text)]
    year = next((int(w) for w in words if re.fullmatch(r"\d{4}", w) and 1896 <= int(w) <= 2100), None)
    rest = [w for w in words if not (year is not None and w == str(year))]
    number = int(text.strip()) if text.strip().isdigit() and len(text.strip()) <= 9 else None
    names = tuple(n for n in (re.sub(r"[^\w]|_", "", w) for w in rest) if n)
    part = text.strip() or None
    return Query(year, names, number, part)


class SearchParams(Params):
    q: str = Field(default="", max_length=100)
    deleted: bool = Field(False, description="1 lists end-dated (deleted) vehicles and base vehicles too")
    page: int = Field(1, ge=1, le=1000, description="the page of base vehicles and of parts, from 1")


class BaseVehicleHit(BaseModel):
    base_vehicle_id: int
    year: int
    make_id: int
    make: str | None
    model_id: int
    model: str | None


class IdHit(BaseModel):
    kind: str  # "vehicle" | "base vehicle"
    id: int
    label: str
    year: int
    make_id: int
    model_id: int
    deleted: bool  # end-dated (listed with deleted=1 only)


class PartHit(BaseModel):
    brand: str | None
    part_number: str


class SearchResults(BaseModel):
    q: str
    year: int | None
    deleted: bool
    page: int
    page_size: int
    base_vehicles: list[BaseVehicleHit]  # this page's
    base_vehicles_total: int
    ids: list[IdHit]
    ids_hidden: int  # end-dated ids left out (deleted=1 lists them)
    parts: list[PartHit]  # this page's
    parts_total: int


# Makes and models whose name (autocare_fitment.explorer_words: letters and digits only) holds a word,
# then the live make/model pairs of those (explorer_make_model, by its make and model indexes) whose
# names hold every word and that have the year if given, then their base vehicles by the (make_id,
# model_id, year_id) index.  $2 holds the words as LIKE patterns.  The views are refreshed on seal.
_WORDS = "SELECT id FROM autocare_fitment.explorer_words WHERE kind = '{}' AND words LIKE ANY($2::text[])"
_BASE_VEHICLES = (
    "WITH hits AS (SELECT make_id, model_id, make_name, model_name FROM autocare_fitment.explorer_make_model "
    f"WHERE (make_id = ANY(ARRAY({_WORDS.format('make')})) OR model_id = ANY(ARRAY({_WORDS.format('model')}))) "
    "AND words LIKE ALL($2::text[]) AND ($1::int IS NULL OR $1 = ANY(years)) "
    f"ORDER BY make_name, model_name, make_id, model_id LIMIT {PAIRS_MAX}) "
    "SELECT b.base_vehicle_id, b.year_id AS year, h.make_id, h.make_name AS make, h.model_id, h.model_name AS model, "
    "count(*) OVER () AS total "
    "FROM hits h JOIN autocare_vcdb.base_vehicle b ON b.make_id = h.make_id AND b.model_id = h.model_id "
    "AND ($1::int IS NULL OR b.year_id = $1) WHERE b.end_date_time IS NULL "
    "ORDER BY b.year_id DESC, h.make_name, h.model_name, b.base_vehicle_id LIMIT $3 OFFSET $4")
# A year alone: its base vehicles by make and model name, through the makes of the year (explorer_year_make).
_YEAR = (
    "SELECT b.base_vehicle_id, b.year_id AS year, b.make_id, mk.make_name AS make, b.model_id, md.model_name AS model, "
    "count(*) OVER () AS total FROM autocare_fitment.explorer_year_make y "
    "JOIN autocare_vcdb.base_vehicle b ON b.make_id = y.make_id AND b.year_id = y.year_id "
    "LEFT JOIN autocare_vcdb.make mk ON mk.make_id = b.make_id "
    "LEFT JOIN autocare_vcdb.model md ON md.model_id = b.model_id "
    "WHERE y.year_id = $1 AND y.base_vehicles_live > 0 AND b.end_date_time IS NULL "
    "ORDER BY mk.make_name, md.model_name, b.base_vehicle_id LIMIT $2 OFFSET $3")
_IDS = (
    "SELECT 'vehicle' AS kind, v.vehicle_id AS id, "
    "b.year_id || ' ' || coalesce(mk.make_name, '#' || b.make_id) || ' ' || "
    "coalesce(md.model_name, '#' || b.model_id) AS label, "
    "b.year_id AS year, b.make_id, b.model_id, (v.end_date_time IS NOT NULL OR b.end_date_time IS NOT NULL) AS deleted "
    "FROM autocare_vcdb.vehicle v JOIN autocare_vcdb.base_vehicle b ON b.base_vehicle_id = v.base_vehicle_id "
    "LEFT JOIN autocare_vcdb.make mk ON mk.make_id = b.make_id LEFT JOIN autocare_vcdb.model md "
    "ON md.model_id = b.model_id WHERE v.vehicle_id = $1 UNION ALL "
    "SELECT 'base vehicle', b.base_vehicle_id, "
    "b.year_id || ' ' || coalesce(mk.make_name, '#' || b.make_id) || ' ' || "
    "coalesce(md.model_name, '#' || b.model_id), b.year_id, "
    "b.make_id, b.model_id, b.end_date_time IS NOT NULL "
    "FROM autocare_vcdb.base_vehicle b LEFT JOIN autocare_vcdb.make mk ON mk.make_id = b.make_id "
    "LEFT JOIN autocare_vcdb.model md ON md.model_id = b.model_id WHERE b.base_vehicle_id = $1")
# Part numbers by normalized prefix, from live ACES applications and PIES items: a range on the
# indexed expression (~>=~ and ~<~ are what a text_pattern_ops index answers, whatever the plan's
# parameters), $1 the prefix and $2 the first string after every string that starts with it.
_NORMALIZED = part_numbers.normalized("part_number")
_PARTS = (
    "SELECT brand, part_number, count(*) OVER () AS total FROM ("
    "SELECT brand_aaia_id AS brand, part_number FROM autocare_aces.app WHERE end_date_time IS NULL "
    f"AND {_NORMALIZED} ~>=~ $1 AND {_NORMALIZED} ~<~ $2 UNION "
    "SELECT brand_aaia_id, part_number FROM autocare_pies.item WHERE end_date_time IS NULL "
    f"AND {_NORMALIZED} ~>=~ $1 AND {_NORMALIZED} ~<~ $2) p "
    "ORDER BY part_number, brand NULLS FIRST LIMIT $3 OFFSET $4")


def prefix_range(prefix: str) -> tuple[str, str]:
    """[prefix, bound): every normalized part number that starts with `prefix` (letters and digits,
    upper case) sorts in it, bytewise."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@endpoint("search", page="/search", api="/search", template="search.html", fragment="search_suggest.html",
          tag="explorer")
async def search(ctx: Context, p: SearchParams) -> SearchResults:
    """Base vehicles by year and make/model words, vehicles by id, parts by number prefix (?q=), a page at a
    time (&page=); end-dated rows only with &deleted=1."""
    q = parse(p.q)
    typeahead = ctx.request.headers.get("HX-Request") is not None
    size = SUGGESTIONS if typeahead else LIMIT
    offset = (p.page - 1) * size
    empty = SearchResults(q=p.q, year=q.year, deleted=p.deleted, page=p.page, page_size=size, base_vehicles=[],
                          base_vehicles_total=0, ids=[], ids_hidden=0, parts=[], parts_total=0)
    if q.part is None:
        return empty
    vehicles = []
    if q.words:
        vehicles = await ctx.db.fetch(_BASE_VEHICLES, q.year, [f"%{_like_escaped(w)}%" for w in q.words], size,
                                      offset)
    elif q.year is not None:
        vehicles = await ctx.db.fetch(_YEAR, q.year, size, offset)
    ids = [IdHit(**r) for r in await ctx.db.fetch(_IDS, q.number)] if q.number is not None else []
    shown_ids = [i for i in ids if p.deleted or not i.deleted]
    key = part_numbers.normalize(q.part)
    parts = await ctx.db.fetch(_PARTS, *prefix_range(key), size, offset) if len(key) >= 2 else []
    return SearchResults(q=p.q, year=q.year, deleted=p.deleted, page=p.page, page_size=size,
                         base_vehicles=[BaseVehicleHit(**{k: v for k, v in r.items() if k != "total"})
                                        for r in vehicles],
                         base_vehicles_total=vehicles[0]["total"] if vehicles else 0,
                         ids=shown_ids, ids_hidden=len(ids) - len(shown_ids),
                         parts=[PartHit(brand=r["brand"], part_number=r["part_number"]) for r in parts],
                         parts_total=parts[0]["total"] if parts else 0)
