"""The fitment impact of a VCdb release (ingest.fitment_impact, and its rows of the change outbox
ingest.changes, db `fitment`, table `application`): the live ACES applications whose fitted
vehicles a release changed, recorded by the publishing transaction itself.

Which vehicles an application fits is schemas/fitment_sql.py's `vehicles` (the builder of the
fitment views and of "fits no vehicle yet"); nothing here restates the rule.  The publishing
transaction (consumers/publish.py) calls `before` ahead of the moves and `record` after them, on
its own connection, for a run published from staged rows:

* the candidates are the live applications that may name a base vehicle the run's staged rows
  touch: a staged BaseVehicle (its make and year before and after, for Years ranges), the base
  vehicle of a staged Vehicle (before and after), of a vehicle a staged VehicleTo* row names, of
  a vehicle whose config row (EngineConfig2, Transmission, ...) is staged, and the base vehicles
  of a staged Model (its vehicle type).  Anything else cannot change what an application fits;
* `before` keeps each candidate's fitted vehicle ids in a temporary table (ON COMMIT DROP);
  `record` asks again after the moves and writes one impact row and one outbox row per
  application whose set changed (an application ended meanwhile by an ACES release is no
  VCdb impact and is left out).

A VCdb run loaded in place (the first baseline, `--in-place`) changed the tables as it loaded:
there is no before state, and no impact is recorded for it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from ledger import releases
from ledger.pools import Connection, Pool
from ledger.statuses import ImpactStatus, ReleaseStatus
from schemas import aces, fitment_sql, naming
from schemas.catalog import RUN_COLUMN

BEFORE = "vcdb_fitment_impact_before"  # the temporary table, one per publishing transaction
BIGINT_MAX = 2**63 - 1
q = fitment_sql.q


def _live(table: str) -> str:
    return f"{q(naming.schema_name('vcdb'))}.{q(naming.table_name(table))}"


def _staged(table: str) -> str:
    return f"{q(naming.staged_schema_name('vcdb'))}.{q(naming.table_name(table))}"


def _c(table: str, column: str) -> str:
    return q(naming.column_name(table, column))


def _app(column: str) -> str:
    return f"a.{_c('App', column)}"


_RUN = f"s.{q(RUN_COLUMN)} = $1"


def _config_vehicles() -> list[str]:
    """Per VehicleTo* link and per config table of its chain: the vehicles the run's staged rows of
    it reach (the chain walked over the live rows up to the staged one)."""
    out = []
    for system in aces.SYSTEMS.values():
        if system.link is None:
            continue
        link = system.link
        out.append(f"SELECT s.{_c(link, 'VehicleID')} FROM {_staged(link)} s WHERE {_RUN}")
        chain = f"{_live(link)} l0"
        alias = {link: "l0"}
        for i, j in enumerate(system.joins, 1):
            on = f"{_c(j.table, j.column)} = {alias[j.previous]}.{_c(j.previous, j.previous_column)}"
            out.append(f"SELECT l0.{_c(link, 'VehicleID')} FROM {chain} JOIN {_staged(j.table)} s ON s.{on} AND {_RUN}")
            alias[j.table] = f"l{i}"
            chain += f" JOIN {_live(j.table)} l{i} ON l{i}.{on}"
    return out


@functools.cache
def candidates_sql() -> str:
    """The candidate applications of run $1 (module docstring) with the vehicle ids they fit now,
    into the temporary table (pure)."""
    vehicle, bv, model = "Vehicle", "BaseVehicle", "Model"
    v_id, bv_id = _c(vehicle, "VehicleID"), _c(bv, "BaseVehicleID")
    vehicles = " UNION ".join(_config_vehicles())
    touched = (
        f"SELECT s.{bv_id} FROM {_staged(bv)} s WHERE {_RUN} "
        f"UNION SELECT s.{_c(vehicle, 'BaseVehicleID')} FROM {_staged(vehicle)} s WHERE {_RUN} "
        f"UNION SELECT v.{_c(vehicle, 'BaseVehicleID')} FROM {_staged(vehicle)} s JOIN {_live(vehicle)} v "
        f"ON v.{v_id} = s.{v_id} WHERE {_RUN} "
        f"UNION SELECT b.{bv_id} FROM {_staged(model)} s JOIN {_live(bv)} b ON b.{_c(bv, 'ModelID')} = "
        f"s.{_c(model, 'ModelID')} WHERE {_RUN} "
        f"UNION SELECT v.{_c(vehicle, 'BaseVehicleID')} FROM {_live(vehicle)} v WHERE v.{v_id} IN ({vehicles})")
    make, year = _c(bv, "MakeID"), _c(bv, "YearID")
    # Each touched base vehicle with its make and year as they are and as the run stages them.
    base = (f"SELECT b.{bv_id} AS id, b.{make} AS make_id, b.{year} AS year_id FROM {_live(bv)} b "
            f"WHERE b.{bv_id} IN (SELECT * FROM touched) "
            f"UNION SELECT s.{bv_id}, s.{make}, s.{year} FROM {_staged(bv)} s WHERE {_RUN}")
    # The ways in of the fitment views (migration 0004): the base vehicle id, or make and years.
    apps = (f"SELECT a.app_key FROM base b JOIN {_live_app()} a ON {_app('BaseVehicleID')} = b.id "
            f"WHERE {_app('EndDateTime')} IS NULL "
            f"UNION SELECT a.app_key FROM base b JOIN {_live_app()} a ON {_app('BaseVehicleID')} IS NULL "
            f"AND {_app('MakeID')} = b.make_id AND {_app('YearFrom')} <= b.year_id AND {_app('YearTo')} >= b.year_id "
            f"WHERE {_app('EndDateTime')} IS NULL")
    return (f"INSERT INTO pg_temp.{BEFORE} (app_key, vehicle_ids) "
            f"WITH touched AS ({touched}), base AS ({base}), candidates AS ({apps}) "
            f"SELECT a.app_key, ARRAY({fitment_sql.vehicles('a')} ORDER BY 1) AS vehicle_ids "
            f"FROM candidates c JOIN {_live_app()} a ON a.app_key = c.app_key")


def _live_app() -> str:
    return f"{q(naming.schema_name('aces'))}.{q(naming.table_name('App'))}"


def _snapshot(ids: str) -> str:
    return ("json_build_object('app_key', app_key, 'brand_aaia_id', brand_aaia_id, 'part_number', part_number, "
            f"'part_type_id', part_type_id, 'vehicle_ids', to_json({ids}))")


@functools.cache
def record_sql() -> str:
    """Run $1's candidates asked again: the impact rows and the outbox rows of those whose fitted
    vehicles changed; answers how many (pure)."""
    s = ImpactStatus
    return f"""
WITH fits AS (
    SELECT k.app_key, {_app('BrandAAIAID')} AS brand_aaia_id, {_app('PartNumber')} AS part_number,
           {_app('PartTypeID')} AS part_type_id, k.vehicle_ids AS before,
           ARRAY({fitment_sql.vehicles('a')} ORDER BY 1) AS after
    FROM pg_temp.{BEFORE} k JOIN {_live_app()} a ON a.app_key = k.app_key AND {_app('EndDateTime')} IS NULL),
changed AS (
    SELECT f.*, ARRAY(SELECT unnest(before) EXCEPT SELECT unnest(after) ORDER BY 1) AS lost,
           ARRAY(SELECT unnest(after) EXCEPT SELECT unnest(before) ORDER BY 1) AS gained
    FROM fits f WHERE before <> after),
impact AS (
    INSERT INTO ingest.fitment_impact (run_id, app_key, brand_aaia_id, part_number, status, lost, gained, fits)
    SELECT $1, app_key, brand_aaia_id, part_number,
           CASE WHEN cardinality(after) = 0 THEN '{s.LOST_ALL}' WHEN cardinality(gained) = 0 THEN '{s.LOST_SOME}'
                WHEN cardinality(lost) = 0 THEN '{s.GAINED}' ELSE '{s.CHANGED}' END,
           lost, gained, cardinality(after)
    FROM changed RETURNING app_key),
outbox AS (
    INSERT INTO ingest.changes (run_id, db, table_name, op, row_key, before, after, changed)
    SELECT $1, 'fitment', 'application', 'u', jsonb_build_array(app_key), {_snapshot('before')},
           {_snapshot('after')}, ARRAY['vehicle_ids'] FROM changed ORDER BY app_key RETURNING 1)
SELECT (SELECT count(*) FROM impact) AS impacted, (SELECT count(*) FROM outbox) AS told
"""


async def before(conn: Connection, run_id: int) -> None:
    """Before the moves of VCdb run `run_id` (staged): its candidate applications and the vehicles
    they fit now, kept to the end of the transaction.  With no live application, nothing."""
    if not await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {_live_app()} a WHERE {_app('EndDateTime')} IS NULL)"):
        return
    await conn.execute(f"CREATE TEMPORARY TABLE {BEFORE} (app_key text PRIMARY KEY, vehicle_ids bigint[] NOT NULL) "
                       "ON COMMIT DROP")
    await conn.execute(candidates_sql(), run_id)


async def record(conn: Connection, run_id: int) -> int:
    """After the moves: the candidates' fitted vehicles again; those that changed are recorded
    (ingest.fitment_impact and the outbox) and counted.  Nothing to do when `before` kept none."""
    if not await conn.fetchval(f"SELECT to_regclass('pg_temp.{BEFORE}') IS NOT NULL"):
        return 0
    if not await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM pg_temp.{BEFORE})"):
        await conn.execute(f"DROP TABLE pg_temp.{BEFORE}")
        return 0
    row = await conn.fetchrow(record_sql(), run_id)
    await conn.execute(f"DROP TABLE pg_temp.{BEFORE}")  # a second publication in this transaction starts clean
    return int(row["impacted"])


# ---- reads ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Impacted:
    """One live application whose fitted vehicles a release changed."""

    app_key: str
    brand: str | None
    part_number: str | None
    status: ImpactStatus
    lost: tuple[int, ...]
    gained: tuple[int, ...]
    fits: int  # vehicles it fits after the release


@dataclass(frozen=True)
class ReleaseImpact:
    release_id: int
    db: str
    run_id: int
    kind: str
    status: str  # ReleaseStatus
    publication: str  # Publication
    published_at: Any
    apps: tuple[Impacted, ...]

    @property
    def recorded(self) -> bool:
        """Could this release have an impact at all: a published VCdb release, from staged rows."""
        return self.db == "vcdb" and self.status == ReleaseStatus.PUBLISHED and self.publication == "staged"


async def of_release(pool: Pool, release_id: int, brand: str | None = None) -> ReleaseImpact | None:
    """A release and the applications it impacted (of `brand`), by status, brand and part; None
    when there is no such release (an id beyond bigint included)."""
    if not 1 <= release_id <= BIGINT_MAX:
        return None
    head = await releases.release(pool, release_id)
    if head is None:
        return None
    rows = await pool.fetch(
        "SELECT app_key, brand_aaia_id, part_number, status, lost, gained, fits FROM ingest.fitment_impact "
        "WHERE run_id = $1 AND ($2::text IS NULL OR brand_aaia_id = $2) "
        "ORDER BY status, brand_aaia_id NULLS FIRST, part_number, app_key", head.run_id, brand)
    apps = tuple(Impacted(r["app_key"], r["brand_aaia_id"], r["part_number"], ImpactStatus(r["status"]),
                          tuple(r["lost"]), tuple(r["gained"]), r["fits"]) for r in rows)
    return ReleaseImpact(head.release_id, head.db, head.run_id, head.kind, head.status, head.publication,
                         head.published_at, apps)


async def ended_by_release(pool: Pool) -> list[str]:
    """Applications whose newest recorded impact (by release) is `lost_all`: a VCdb release ended
    every vehicle they fitted.  Whether they still fit nothing is the caller's question."""
    rows = await pool.fetch(
        "SELECT app_key FROM (SELECT DISTINCT ON (i.app_key) i.app_key, i.status FROM ingest.fitment_impact i "
        "JOIN ingest.releases x ON x.run_id = i.run_id ORDER BY i.app_key, x.release_id DESC) n WHERE status = $1",
        ImpactStatus.LOST_ALL.value)
    return [r["app_key"] for r in rows]
