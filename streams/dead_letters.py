"""The dead-letter format: the original key, value and headers plus error headers.

Error headers follow Kafka Connect's `__connect.errors.*` names (topic, partition, offset,
stage, class name, exception message) so existing tooling reads them, and add ours under
`vcdb.error.*`: reason class, SQLSTATE, constraint, missing parent table and key, attempt
count, run id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from streams.records import OutRecord

REASON_MISSING_PARENT = "missing_parent"
REASON_CONSTRAINT = "constraint"
REASON_VALIDATION = "validation"
# The rules of ACES and PIES files (consumers/rules.py):
REASON_INVALID_COMBINATION = "invalid_combination"
REASON_QUALIFIER_PARAMS = "qualifier_param_count"
REASON_UNKNOWN_PIES_CODE = "unknown_pies_code"
REASONS = (REASON_MISSING_PARENT, REASON_CONSTRAINT, REASON_VALIDATION, REASON_INVALID_COMBINATION,
           REASON_QUALIFIER_PARAMS, REASON_UNKNOWN_PIES_CODE)


@dataclass(frozen=True)
class Failure:
    """Why one record could not be loaded (a poison verdict: dead-letter it, then commit)."""

    reason: str
    message: str
    exception_class: str
    stage: str  # VALUE_CONVERTER (validation) | TASK_PUT (database)
    sqlstate: str | None = None
    constraint: str | None = None
    missing_table: str | None = None
    missing_key: str | None = None


def error_headers(failure: Failure, *, topic: str, partition: int, offset: int, attempt: int,
                  run_id: int | None) -> list[tuple[str, bytes]]:
    pairs: list[tuple[str, str | None]] = [
        ("__connect.errors.topic", topic),
        ("__connect.errors.partition", str(partition)),
        ("__connect.errors.offset", str(offset)),
        ("__connect.errors.stage", failure.stage),
        ("__connect.errors.class.name", "vcdb_stream.consumers.Loader"),
        ("__connect.errors.exception.class.name", failure.exception_class),
        ("__connect.errors.exception.message", failure.message),
        ("vcdb.error.reason", failure.reason),
        ("vcdb.error.sqlstate", failure.sqlstate),
        ("vcdb.error.constraint", failure.constraint),
        ("vcdb.error.missing_table", failure.missing_table),
        ("vcdb.error.missing_key", failure.missing_key),
        ("vcdb.error.attempt", str(attempt)),
        ("vcdb.error.run_id", str(run_id) if run_id is not None else None),
    ]
    return [(k, v.encode()) for k, v in pairs if v is not None]


def dead_letter_headers(original: Sequence[tuple[str, bytes]], failure: Failure, *, topic: str, partition: int,
                        offset: int, attempt: int, run_id: int | None) -> list[tuple[str, bytes]]:
    """Original headers (minus earlier error headers) followed by this failure's."""
    kept = [(k, v) for k, v in original if not k.startswith(("__connect.errors.", "vcdb.error."))]
    return kept + error_headers(failure, topic=topic, partition=partition, offset=offset, attempt=attempt,
                                run_id=run_id)


@dataclass(frozen=True)
class DeadLetter:
    """One dead letter, built once: published to the DLQ topic and indexed in PostgreSQL from the
    same value, so the topic and the index can never tell two stories."""

    db: str
    table: str  # AutoCare table name
    dlq_topic: str
    topic: str  # where the record was consumed
    partition: int
    offset: int
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]  # the original headers, then this failure's
    failure: Failure
    attempt: int
    run_id: int | None

    @classmethod
    def of(cls, *, db: str, table: str, dlq_topic: str, topic: str, partition: int, offset: int, key: bytes | None,
           value: bytes | None, original_headers: Sequence[tuple[str, bytes]], failure: Failure, attempt: int,
           run_id: int | None) -> DeadLetter:
        headers = dead_letter_headers(original_headers, failure, topic=topic, partition=partition, offset=offset,
                                      attempt=attempt, run_id=run_id)
        return cls(db, table, dlq_topic, topic, partition, offset, key or b"", value or b"", tuple(headers), failure,
                   attempt, run_id)

    @property
    def record_key(self) -> str:
        """The source record's key as text: one open dead letter per (db, table, record_key)."""
        return self.key.decode(errors="replace")

    def out_record(self) -> OutRecord:
        return OutRecord(self.dlq_topic, self.key, self.value, list(self.headers))

    def record_json(self) -> str:
        """The original record as JSON text for the index (a JSON string when it is not JSON)."""
        try:
            json.loads(self.value)
            return self.value.decode()
        except (ValueError, UnicodeDecodeError):
            return json.dumps(self.value.decode(errors="replace"))

    def headers_json(self) -> str:
        return json.dumps({k: v.decode(errors="replace") for k, v in self.headers})
