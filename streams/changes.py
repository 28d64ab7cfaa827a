"""The change feed's messages: Debezium's envelope around a row's before and after images.

Value (JSON, no schema part, as Debezium's with `value.converter.schemas.enable=false`):

    {"before": {...} | null, "after": {...} | null, "op": "c" | "u" | "d" | "r", "ts_ms": <relay time>,
     "source": {"version", "connector": "vcdb-stream", "name": "autocare", "ts_ms": <publishing commit>,
                "snapshot": "true" | "false", "db", "schema", "table", "release", "run", "change_id"}}

Key: the table topic's key for the row (the JSON array of its key values, `envelope.key_text`),
so a change lands in the partition its table's records use.  `before` and `after` arrive from
PostgreSQL as JSON text and are spliced in unparsed.  Pure.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from streams.envelope import key_text

CONNECTOR = "vcdb-stream"
VERSION = "0.1.0"


@dataclass(frozen=True)
class Source:
    """What every message of one release's table carries in `source`."""

    db: str
    schema: str
    table: str  # snake_case, as in the topic
    release: int
    run: int
    commit_ms: int

    def prefix(self, snapshot: bool) -> bytes:
        head = {"version": VERSION, "connector": CONNECTOR, "name": "autocare", "ts_ms": self.commit_ms,
                "snapshot": "true" if snapshot else "false", "db": self.db, "schema": self.schema,
                "table": self.table, "release": self.release, "run": self.run}
        return json.dumps(head, separators=(",", ":"))[:-1].encode() + b',"change_id":'


# PostgreSQL's text of a jsonb array of integers (`[1, 23]`): the common key, whose compact form
# is the text without the spaces.  Integers spelt as JSON spells them, so the bytes equal key_text's.
_INT_KEY = re.compile(r"\[(?:0|-?[1-9][0-9]*)(?:, (?:0|-?[1-9][0-9]*))*\]")


def key(row_key: str) -> bytes:
    """The Kafka key of a change: the same bytes as its table topic's key for that row."""
    if _INT_KEY.fullmatch(row_key):
        return row_key.replace(", ", ",").encode()
    return key_text(json.loads(row_key)).encode()


def value(prefix: bytes, op: str, before: str | None, after: str | None, change_id: int, now_ms: int) -> bytes:
    """One message; `prefix` is `Source.prefix(op == "r")`, built once per table of a release."""
    return b"".join((b'{"before":', (before or "null").encode(), b',"after":', (after or "null").encode(),
                     b',"op":"', op.encode(), b'","ts_ms":', str(now_ms).encode(), b',"source":',
                     prefix, str(change_id).encode(), b"}}"))


def change_id(message: bytes) -> tuple[int, int] | None:
    """(release, change_id) of a change message, or None when it is not one of ours."""
    try:
        src: Any = json.loads(message)["source"]
        return int(src["release"]), int(src["change_id"])
    except (ValueError, KeyError, TypeError):
        return None
