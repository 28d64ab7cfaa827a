"""Consumed Kafka records as the loader sees them (pure).

A record's headers are read once, when it is consumed: its run, page and index in the page, and
whether it is an end-of-table control record (key `__eot__` and `vcdb.kind=eot`).  Decoding
into a row happens later, per batch (`consumers/decode.py`), so records that wait are never
decoded.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from schemas.catalog import Table
from streams import envelope, topics
from streams.dead_letters import DeadLetter, Failure
from streams.records import InRecord

_RUN = envelope.H_RUN
_PAGE = envelope.H_PAGE
_INDEX = envelope.H_INDEX
_KIND = envelope.H_KIND


class Consumed(NamedTuple):
    """One record read from a table topic, its headers read (one is built per record)."""

    source: InRecord
    run_id: int
    page: int
    position: int  # the record's index in its page
    eot: bool


def consumed(rec: InRecord) -> Consumed:
    """Read the headers the loader needs, in one pass."""
    h = dict(rec.headers)
    eot = rec.key == envelope.EOT_KEY and h.get(_KIND) == envelope.KIND_EOT
    return Consumed(rec, header_int(h.get(_RUN)), header_int(h.get(_PAGE)), header_int(h.get(_INDEX)), eot)


def header_int(raw: bytes | None) -> int:
    """A number header as the loader reads it: missing, empty or not a number is 0."""
    if not raw:
        return 0
    try:
        return int(raw)
    except ValueError:
        return 0


class Incoming(NamedTuple):
    """A data record with its decoded row, or the failure that dead-letters it."""

    source: InRecord
    run_id: int
    page: int
    position: int
    row: tuple[Any, ...] | None  # None when failure is set
    failure: Failure | None


def dead_letter(table: Table, inc: Incoming, failure: Failure, attempt: int) -> DeadLetter:
    """The dead letter of a record that could not be loaded, built once."""
    src = inc.source
    return DeadLetter.of(db=table.db, table=table.name, dlq_topic=topics.dlq_topic(table), topic=src.topic,
                         partition=src.partition, offset=src.offset, key=src.key, value=src.value,
                         original_headers=src.headers, failure=failure, attempt=attempt, run_id=inc.run_id)
