"""Turning consumed Kafka records into loadable rows, control events and poison records (pure).

A data record is decoded (JSON), validated against the generated record model and becomes a
row tuple in canonical column order, or a `Failure` with reason `validation`.  End-of-table
records become `EndOfTable` events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from schemas.catalog import Table
from schemas.records import RecordModel
from streams import envelope
from streams.broker import InRecord
from streams.dead_letters import REASON_VALIDATION, Failure


@dataclass(frozen=True)
class Incoming:
    """One data record with what the loader needs to know about it."""

    source: InRecord
    run_id: int
    page: int
    index: int
    row: tuple[Any, ...] | None  # None when failure is set
    failure: Failure | None
    record: Any  # the decoded JSON (or the raw text when it did not decode)


@dataclass(frozen=True)
class ControlEvent:
    source: InRecord
    eot: envelope.EndOfTable


def _int_header(headers: dict[str, bytes], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None or raw == b"":
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def classify(rec: InRecord, model: type[RecordModel]) -> Incoming | ControlEvent:
    headers = envelope.header_map(rec.headers)
    if headers.get(envelope.H_KIND) == envelope.KIND_EOT:
        return ControlEvent(rec, envelope.EndOfTable.decode(rec.value or b"{}"))
    run_id = _int_header(headers, envelope.H_RUN) or 0
    page = _int_header(headers, envelope.H_PAGE) or 0
    index = _int_header(headers, envelope.H_INDEX) or 0
    try:
        record = json.loads(rec.value or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        text = (rec.value or b"").decode(errors="replace")
        return Incoming(rec, run_id, page, index, None,
                        Failure(REASON_VALIDATION, f"value is not JSON: {e}", "JSONDecodeError", "VALUE_CONVERTER"),
                        text)
    try:
        row = model.model_validate(record).row()
    except ValidationError as e:
        return Incoming(rec, run_id, page, index, None,
                        Failure(REASON_VALIDATION, _validation_message(e), "ValidationError", "VALUE_CONVERTER"),
                        record)
    return Incoming(rec, run_id, page, index, row, None, record)


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
