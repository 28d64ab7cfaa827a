"""The dead-letter format: the original key, value and headers plus error headers.

Error headers follow Kafka Connect's `__connect.errors.*` names (topic, partition, offset,
stage, class name, exception message) so existing tooling reads them, and add ours under
`vcdb.error.*`: reason class, SQLSTATE, constraint, missing parent table and key, attempt
count, run id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

REASON_MISSING_PARENT = "missing_parent"
REASON_CONSTRAINT = "constraint"
REASON_VALIDATION = "validation"
REASONS = (REASON_MISSING_PARENT, REASON_CONSTRAINT, REASON_VALIDATION)


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
