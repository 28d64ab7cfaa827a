"""`vcdb reset --db vcdb --yes`: the old playbook's nuclear option, behind a confirmation and the
producer lock (refused while a run holds it).  Drops the canonical rows and the staged ones, the
run state and the releases of the database, and its topics.  The next baseline is a first one
again: it loads in place."""

from __future__ import annotations

from consumers.sql import q
from ledger import pools
from ledger import reset as ledger_reset
from ledger.locks import ProducerLock
from schemas import naming
from schemas.catalog import load_catalog
from schemas.settings import Settings
from streams import topics
from streams.broker import BrokerError, delete_topics, list_topics
from streams.topics import group_id_for
from vcdb import exit_codes


async def reset(settings: Settings, db: str) -> int:
    lock = ProducerLock(settings.database_url, db)
    await lock.acquire()  # LockHeld: refused (exit 3)
    try:
        catalog = load_catalog(db)
        pool = await pools.connect_pool(settings.database_url, size=1)
        try:
            async with pool.acquire() as conn, conn.transaction():
                staged = naming.staged_schema_name(db)
                names = ", ".join(f"{q(schema)}.{q(t.canonical)}" for t in catalog.tables.values()
                                  for schema in (catalog.schema, staged))
                await conn.execute(f"TRUNCATE {names}")
                prefix = f"{topics.PREFIX}.{db}."
                runs = await ledger_reset.forget(conn, db, group_id_for(db), prefix)
        finally:
            await pool.close()
        try:
            mine = [t for t in await list_topics(settings.kafka) if t.startswith(prefix)]
            await delete_topics(settings.kafka, mine)
        except BrokerError as e:
            raise BrokerError(f"database reset, but topics not deleted: {e}") from e
        print(f"reset {db}: {len(catalog.tables)} tables truncated, {len(runs)} runs and their state dropped, "
              f"{len(mine)} topics deleted")
        return exit_codes.OK
    finally:
        await lock.release()
