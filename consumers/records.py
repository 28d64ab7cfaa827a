"""Turning consumed Kafka records into loadable rows, control events and poison records (pure).

A data record is decoded (JSON), validated against the generated record model and becomes a
row tuple in canonical column order, or a `Failure` with reason `validation`.  End-of-table
records become `EndOfTable` events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from pydantic import ValidationError

from schemas.catalog import Table
from schemas.records import RecordModel
from streams import envelope
from streams.broker import InRecord
from streams.dead_letters import REASON_VALIDATION, Failure


class Incoming(NamedTuple):
    """One data record with what the loader needs to know about it (a NamedTuple: one is built
    per record on the hot path)."""

    source: InRecord
    run_id: int
    page: int
    position: int  # the record's index in its page
    row: tuple[Any, ...] | None  # None when failure is set
    failure: Failure | None

    @property
    def record(self) -> Any:
        """The decoded JSON record (or its raw text when it does not decode): dead letters only."""
        try:
            return json.loads(self.source.value or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return (self.source.value or b"").decode(errors="replace")


@dataclass(frozen=True)
class ControlEvent:
    source: InRecord
    eot: envelope.EndOfTable


def _int(raw: bytes) -> int:
    try:
        return int(raw) if raw else 0
    except ValueError:
        return 0


def classify(rec: InRecord, model: type[RecordModel]) -> Incoming | ControlEvent:
    run_id = page = position = 0
    for name, raw in rec.headers:  # one pass over the headers: this runs for every record
        if name == envelope.H_KIND:
            if raw == envelope.KIND_EOT:
                return ControlEvent(rec, envelope.EndOfTable.decode(rec.value or b"{}"))
        elif name == envelope.H_RUN:
            run_id = _int(raw)
        elif name == envelope.H_PAGE:
            page = _int(raw)
        elif name == envelope.H_INDEX:
            position = _int(raw)
    try:
        row = model.from_api_json(rec.value or b"null").row()
    except ValidationError as e:
        return Incoming(rec, run_id, page, position, None,
                        Failure(REASON_VALIDATION, _validation_message(e), "ValidationError", "VALUE_CONVERTER"))
    except (ValueError, UnicodeDecodeError) as e:
        return Incoming(rec, run_id, page, position, None,
                        Failure(REASON_VALIDATION, f"value is not JSON: {e}", "JSONDecodeError", "VALUE_CONVERTER"))
    return Incoming(rec, run_id, page, position, row, None)


def _validation_message(e: ValidationError) -> str:
    parts = []
    for err in e.errors()[:5]:
        loc = ".".join(str(x) for x in err["loc"]) or "record"
        parts.append(f"{loc}: {err['msg']} (got {err.get('input')!r:.60})")
    return "; ".join(parts)


def key_text(table: Table, row: tuple[Any, ...]) -> str:
    """The key of a row as stored in the dead-letter index (JSON array, canonical key order)."""
    names = [c.canonical for c in table.columns]
    return json.dumps([row[names.index(k)] for k in table.key_canonical], default=str, separators=(",", ":"))
