"""The record envelope on data topics: key bytes, headers, and end-of-table control records.

A data record's value is the API record verbatim (JSON); its key is the record's primary key
in canonical key order (a JSON array: stable bytes, so the same row always lands on the same
partition).  Headers name the run, endpoint, page and extraction time.  After an endpoint's
last page an end-of-table control record goes to every partition: header `vcdb.kind=eot`,
key `__eot__`, value a JSON object with the run's counts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from schemas.catalog import Table

SCHEMA_VERSION = "1"
EOT_KEY = b"__eot__"

H_KIND = "vcdb.kind"
H_RUN = "vcdb.run_id"
H_DB = "vcdb.db"
H_ENDPOINT = "vcdb.endpoint"
H_PAGE = "vcdb.page"
H_INDEX = "vcdb.index"
H_AS_OF = "vcdb.as_of"
H_SINCE = "vcdb.since"
H_EXTRACTED = "vcdb.extracted_at"
H_SCHEMA = "vcdb.schema_version"

KIND_DATA = b"data"
KIND_EOT = b"eot"

Headers = list[tuple[str, bytes]]


class EnvelopeError(ValueError):
    """A record whose key cannot be built (a key field is missing): poison, never retried."""


def key_fields(table: Table) -> list[tuple[str, str]]:
    """(API field, DDL column) per key column, in canonical key order."""
    return [(table.column(k).api_field, k) for k in table.key]


def record_key(table: Table, record: Mapping[str, Any], fields: Sequence[tuple[str, str]] | None = None) -> bytes:
    """The Kafka key of an API record: its key values as a compact JSON array."""
    values = []
    for api_field, column in fields or key_fields(table):
        if api_field in record:
            values.append(record[api_field])
        elif column in record:
            values.append(record[column])
        else:
            lowered = {str(k).lower(): v for k, v in record.items()}
            if api_field.lower() in lowered:
                values.append(lowered[api_field.lower()])
            elif column.lower() in lowered:
                values.append(lowered[column.lower()])
            else:
                raise EnvelopeError(f"{table.name} record has no key field {api_field}: {_clip(record)}")
    return json.dumps(values, separators=(",", ":"), default=str).encode()


def encode_record(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class RunContext:
    run_id: int
    db: str
    as_of: dt.date | None
    since: dt.date | None


def data_headers(ctx: RunContext, endpoint: str, page: int, index: int, extracted_at: dt.datetime) -> Headers:
    return [
        (H_KIND, KIND_DATA),
        (H_RUN, str(ctx.run_id).encode()),
        (H_DB, ctx.db.encode()),
        (H_ENDPOINT, endpoint.encode()),
        (H_PAGE, str(page).encode()),
        (H_INDEX, str(index).encode()),
        (H_AS_OF, ctx.as_of.isoformat().encode() if ctx.as_of else b""),
        (H_SINCE, ctx.since.isoformat().encode() if ctx.since else b""),
        (H_EXTRACTED, extracted_at.isoformat().encode()),
        (H_SCHEMA, SCHEMA_VERSION.encode()),
    ]


@dataclass(frozen=True)
class EndOfTable:
    run_id: int
    table: str  # AutoCare table name
    records: int  # records published by the run (each checkpointed page counted once)
    pages: int
    total_count: int | None  # the API's X-Pagination totalCount
    partitions: int

    def encode(self) -> bytes:
        return json.dumps({"type": "end_of_table", **self.__dict__}, separators=(",", ":")).encode()

    @staticmethod
    def decode(value: bytes) -> EndOfTable:
        obj = json.loads(value)
        if obj.get("type") != "end_of_table":
            raise EnvelopeError(f"not an end-of-table record: {value[:100]!r}")
        obj.pop("type")
        return EndOfTable(**obj)


def eot_headers(ctx: RunContext, endpoint: str) -> Headers:
    return [(H_KIND, KIND_EOT), (H_RUN, str(ctx.run_id).encode()), (H_DB, ctx.db.encode()),
            (H_ENDPOINT, endpoint.encode()), (H_SCHEMA, SCHEMA_VERSION.encode())]


def header_map(headers: Sequence[tuple[str, bytes]]) -> dict[str, bytes]:
    return {k: v for k, v in headers}


def _clip(record: Mapping[str, Any]) -> str:
    text = json.dumps(record, default=str)
    return text if len(text) <= 200 else text[:200] + "..."
