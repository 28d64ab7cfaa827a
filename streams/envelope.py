"""The record envelope on data topics: key bytes, headers, and end-of-table control records.

A data record's value is the API record verbatim (JSON); its key is the record's primary key
in canonical key order (a JSON array: stable bytes, so the same row always lands on the same
partition).  Headers name the run, endpoint, page and extraction time.

The producer builds these for every record, so the hot path is spelt out: `KeyEncoder` makes
the key bytes of one table's records without `json.dumps` in the common cases (byte-identical to
it: the consumer and the dead-letter index compare them), and `DataHeaders` encodes the
per-run headers once per endpoint and the page header once per page, leaving only `vcdb.index`
per record (its tuples are shared too).  After an endpoint's
last page an end-of-table control record goes to every partition: header `vcdb.kind=eot`,
key `__eot__`, value a JSON object with the run's counts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from operator import itemgetter
from typing import Any

import orjson

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
    return _dumps_key(values)


def key_text(values: Sequence[Any]) -> str:
    """The reference encoding of a key (a compact, ASCII-escaped JSON array): the Kafka key, and the
    `record_key` / `missing_key` of the dead-letter index, which are compared with each other.
    Every faster path must give these bytes."""
    return json.dumps(values, separators=(",", ":"), default=str)


def _dumps_key(values: Sequence[Any]) -> bytes:
    return key_text(values).encode()


class KeyEncoder:
    """`record_key` for one table, built for a page's worth of records.

    Fast path: the API's exact field names are present (always, from AutoCare); an all-int key is
    formatted directly and strings go through json's own C string encoder, so the bytes are those
    of `json.dumps(values, separators=(",", ":"), default=str)`.  Anything else (other spellings of
    the field names, None, bools, floats) takes `record_key` itself.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self.fields = key_fields(table)
        self.names = tuple(api for api, _ in self.fields)
        self._single = self.names[0] if len(self.names) == 1 else None

    def __call__(self, record: Mapping[str, Any], raw: bytes | None = None) -> bytes:
        """The key of `record`; `raw` (its bytes as sent) is read again with the stdlib's json
        when a key value is a float, since the light parse reads integers past 64 bits as floats."""
        single = self._single
        if single is not None:
            v = record.get(single)
            if type(v) is int:
                return b"[%d]" % v
            if type(v) is str:
                return ("[" + encode_basestring_ascii(v) + "]").encode()
            return self._general(record, raw)
        try:
            values = [record[n] for n in self.names]
        except KeyError:
            return self._general(record, raw)
        parts: list[str] = []
        for v in values:
            t = type(v)
            if t is int:
                parts.append(int.__repr__(v))
            elif t is str:
                parts.append(encode_basestring_ascii(v))
            else:
                return self._general(record, raw)
        return ("[" + ",".join(parts) + "]").encode()

    def many(self, records: Sequence[Mapping[str, Any]], raws: Sequence[bytes]) -> list[bytes]:
        """The keys of a page's records (``raws``: their bytes as sent), the common case in one pass."""
        single = self._single
        if single is not None:
            try:
                values = list(map(itemgetter(single), records))
            except KeyError:
                values = []
            if len(values) == len(records) and (not values or set(map(type, values)) == {int}):
                return list(map(b"[%d]".__mod__, values))
        return list(map(self, records, raws))

    def _general(self, record: Mapping[str, Any], raw: bytes | None) -> bytes:
        if raw is not None and any(type(v) is float for v in record.values()):
            record = json.loads(raw)
        return record_key(self.table, record, self.fields)


def encode_record(record: Mapping[str, Any]) -> bytes:
    """Compact JSON, UTF-8 (orjson: a tenth of json.dumps's time per record of a file run); what
    orjson refuses (an int past 64 bits, a non-string key) as json.dumps writes it."""
    try:
        return orjson.dumps(record)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class RunContext:
    run_id: int
    db: str
    as_of: dt.date | None
    since: dt.date | None


Header = tuple[str, bytes]

_SCHEMA_HEADER: Header = (H_SCHEMA, SCHEMA_VERSION.encode())
_INDEX_HEADERS: list[Header] = []  # (vcdb.index, b"i"), shared by every page of every endpoint


def index_headers(count: int) -> list[Header]:
    """The `vcdb.index` headers 0..count-1 (the same tuples every time)."""
    have = len(_INDEX_HEADERS)
    if have < count:
        _INDEX_HEADERS.extend((H_INDEX, str(i).encode()) for i in range(have, count))
    return _INDEX_HEADERS[:count]


@dataclass(frozen=True, slots=True)
class PageHeaders:
    """The headers of one page's data records around `vcdb.index`, in contract order."""

    head: tuple[Header, ...]  # kind, run, db, endpoint, page
    tail: tuple[Header, ...]  # as_of, since, extracted_at, schema_version

    def record(self, index: int) -> Headers:
        return [*self.head, index_headers(index + 1)[index], *self.tail]

    def records(self, count: int) -> list[Headers]:
        head, tail = self.head, self.tail
        return [[*head, ix, *tail] for ix in index_headers(count)]


class DataHeaders:
    """The data-record headers of one endpoint in one run, encoded once."""

    def __init__(self, ctx: RunContext, endpoint: str) -> None:
        self._head: tuple[Header, ...] = (
            (H_KIND, KIND_DATA), (H_RUN, str(ctx.run_id).encode()), (H_DB, ctx.db.encode()),
            (H_ENDPOINT, endpoint.encode()))
        self._run: tuple[Header, ...] = (
            (H_AS_OF, ctx.as_of.isoformat().encode() if ctx.as_of else b""),
            (H_SINCE, ctx.since.isoformat().encode() if ctx.since else b""))

    def page(self, page: int, extracted_at: dt.datetime) -> PageHeaders:
        return PageHeaders((*self._head, (H_PAGE, str(page).encode())),
                           (*self._run, (H_EXTRACTED, extracted_at.isoformat().encode()), _SCHEMA_HEADER))


def data_headers(ctx: RunContext, endpoint: str, page: int, index: int, extracted_at: dt.datetime) -> Headers:
    return DataHeaders(ctx, endpoint).page(page, extracted_at).record(index)


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
