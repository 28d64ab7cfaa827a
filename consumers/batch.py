"""One batch's work inside the store's unit of work, and its dead letters (pure but for the ports).

A batch is decoded only when it is cut (`decode`); in the unit of work the worker opens, its
rows load and its dead letters go to their topic before the commit (`write`); once it committed,
its dead letters are logged, the first few per table one by one (`DeadLetterLog`), and what it
did is measured (`observe`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from consumers.decode import decoder_for
from consumers.ports import BatchResult, BatchWriter
from consumers.records import Consumed, Incoming, dead_letter
from schemas.catalog import Table
from streams import metrics
from streams.dead_letters import DeadLetter
from streams.records import OutRecord

log = logging.getLogger(__name__)

DEAD_LETTERS_LOGGED = 10  # per table; the rest are counted, listed by `vcdb dlq list`

Written = tuple[BatchResult, list[DeadLetter]]  # what the load did, and the dead letters it published


class DeadLetterPublisher(Protocol):
    async def publish(self, records: Sequence[OutRecord]) -> None: ...


def decode(table: Table, batch: Sequence[Consumed]) -> list[Incoming]:
    decoder = decoder_for(table)
    incoming: list[Incoming] = []
    for c in batch:
        out = decoder.decode(c.source.value)
        if type(out) is tuple:
            incoming.append(Incoming(c.source, c.run_id, c.page, c.position, out, None))
        else:
            incoming.append(Incoming(c.source, c.run_id, c.page, c.position, None, out))  # type: ignore[arg-type]
    return incoming


async def write(tx: BatchWriter, table: Table, incoming: list[Incoming], dlq: DeadLetterPublisher, *,
                want_keys: bool) -> Written:
    res = await tx.load(incoming, want_keys=want_keys)
    letters = [dead_letter(table, inc, f, 1) for inc, f in res.dead]
    if letters:
        # On the DLQ topic before the commit: write, commit, acknowledge.
        await dlq.publish([dl.out_record() for dl in letters])
        await tx.index(letters)
    return res, letters


def observe(db: str, table: Table, loaded: int, dead_lettered: int, seconds: float) -> None:
    labels = (db, table.name)
    metrics.BATCH_SECONDS.labels(*labels).observe(seconds)
    metrics.RECORDS_LOADED.labels(*labels).inc(loaded)
    if dead_lettered:
        metrics.RECORDS_DEAD_LETTERED.labels(*labels).inc(dead_lettered)


class DeadLetterLog:
    """The first dead letters of each table logged one by one, then one line saying the rest are not."""

    def __init__(self) -> None:
        self._logged: dict[str, int] = {}

    def note(self, table: Table, dead: Sequence[tuple[Incoming, Any]]) -> None:
        for inc, f in dead:
            shown = self._logged.get(table.name, 0)
            self._logged[table.name] = shown + 1
            if shown < DEAD_LETTERS_LOGGED:
                log.warning("dead-lettered %s key %s: %s", table.name,
                            (inc.source.key or b"").decode(errors="replace"), f.message)
            elif shown == DEAD_LETTERS_LOGGED:
                log.warning("more dead letters of %s are not logged one by one: `vcdb dlq list`", table.name)
