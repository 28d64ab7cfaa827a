"""API record bytes -> a canonical row, at the Python floor (pure).

The fast path covers the well-formed record: orjson parses it, every column is read by its exact
API name and checked for the type the canonical column takes (an `int` in range for INTEGER, a
`str` within the length for VARCHAR(n), an ISO string for TIMESTAMP/DATE, None where the column is
nullable).  Anything else (a key in another casing, a number sent as a string, a "null" string, a
US date, a bad value, a body that is not JSON) goes to the slow path: the generated pydantic
record model, whose normalisation rules and error messages are the verdict.  So the fast path
only ever accepts what the model would have accepted, with the same row; the slow path decides
everything else, as it always did.

The fast path is compiled per table into one small function (like a namedtuple's generated
code): measured at about 1.5 CPU-µs a record where the model took 3.3.  A table's model module is
imported when the first of its records takes the slow path: a worker of one database on clean
data imports none of the six (about a second of start-up per process on this machine).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from typing import Any

import orjson
from pydantic import ValidationError

from schemas.catalog import Column, Table
from schemas.records import RecordModel
from streams.dead_letters import REASON_VALIDATION, Failure

Row = tuple[Any, ...]
FastPath = Callable[[bytes], Row | None]

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def model_for(table: Table) -> type[RecordModel]:
    """The generated record model of a table (schemas/generated/<db>_models.py), imported on first use."""
    models: dict[str, type[RecordModel]] = importlib.import_module(f"schemas.generated.{table.db}_models").MODELS
    return models[table.name]


class _Slow(Exception):
    """Raised inside a compiled fast path: this record needs the model."""


def _time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        return parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _check(column: Column, var: str) -> list[str]:
    """Source lines that check and convert `var` for `column`, raising _Slow when unsure."""
    base = column.sql_type.split("(")[0]
    none_ok = column.nullable
    lines: list[str] = []
    if base == "INTEGER":
        test = f"(type({var}) is int and {_INT_MIN} <= {var} <= {_INT_MAX})"
    elif base == "BIGINT":
        test = f"type({var}) is int"
    elif base == "VARCHAR" or base in ("TEXT", "CHAR"):
        limit = column.max_length
        test = f"(type({var}) is str and len({var}) <= {limit})" if limit else f"type({var}) is str"
    elif base == "TIMESTAMP":
        lines.append(f"    if type({var}) is str: {var} = _time({var})")
        test = f"type({var}) is _datetime"
    elif base == "DATE":
        lines.append(f"    if type({var}) is str and len({var}) == 10: {var} = _date({var})")
        test = f"type({var}) is _date_type"
    else:
        return [f"    raise _Slow  # {column.sql_type}: the model decides"]
    if none_ok:
        test = f"({var} is None or {test})"
    lines.append(f"    if not {test}: raise _Slow")
    return lines


def compile_fast_path(table: Table) -> FastPath:
    """The fast path of one table: bytes -> row in canonical column order, or None (use the model).

    Required columns must be there under their exact API name; nullable ones the API may leave
    out (None, the model's default).  A record with a key outside the exact names (another
    casing, a field the catalog does not know) is the model's to judge: its value might be
    meant for one of our columns.
    """
    names = [f"v{i}" for i in range(len(table.columns))]
    body = ["def fast(raw):", "    try:", "        d = _loads(raw)", "        if not d.keys() <= _known: return None"]
    for column, var in zip(table.columns, names, strict=True):
        field = repr(column.api_field)
        body.append(f"        {var} = d.get({field})" if column.nullable else f"        {var} = d[{field}]")
    body += ["    except Exception:", "        return None", "    try:"]
    for column, var in zip(table.columns, names, strict=True):
        body.extend("    " + line for line in _check(column, var))
    body += ["    except (_Slow, ValueError, TypeError):", "        return None",
             f"    return ({', '.join(names)},)"]
    scope: dict[str, Any] = {"_loads": orjson.loads, "_known": frozenset(c.api_field for c in table.columns),
                             "_Slow": _Slow, "_time": _time, "_datetime": dt.datetime, "_date": dt.date.fromisoformat,
                             "_date_type": dt.date}
    exec(compile("\n".join(body), f"<fast path of {table.db}.{table.name}>", "exec"), scope)
    fast: FastPath = scope["fast"]
    return fast


class RowDecoder:
    """Decodes one table's records: the compiled fast path, then the model for the rest."""

    def __init__(self, table: Table, model: type[RecordModel] | None = None) -> None:
        self.table = table
        self._model = model
        self.fast = compile_fast_path(table)

    @property
    def model(self) -> type[RecordModel]:
        if self._model is None:
            self._model = model_for(self.table)
        return self._model

    def decode(self, raw: bytes | None) -> Row | Failure:
        """A row, or the validation failure that dead-letters the record."""
        if raw is not None:
            row = self.fast(raw)
            if row is not None:
                return row
        return self.slow(raw)

    def slow(self, raw: bytes | None) -> Row | Failure:
        try:
            return self.model.from_api_json(raw or b"null").row()
        except ValidationError as e:
            return Failure(REASON_VALIDATION, validation_message(e), "ValidationError", "VALUE_CONVERTER")
        except (ValueError, UnicodeDecodeError) as e:
            return Failure(REASON_VALIDATION, f"value is not JSON: {e}", "JSONDecodeError", "VALUE_CONVERTER")


def validation_message(e: ValidationError) -> str:
    parts = []
    for err in e.errors()[:5]:
        loc = ".".join(str(x) for x in err["loc"]) or "record"
        parts.append(f"{loc}: {err['msg']} (got {err.get('input')!r:.60})")
    return "; ".join(parts)


_DECODERS: dict[tuple[str, str], RowDecoder] = {}


def decoder_for(table: Table) -> RowDecoder:
    """The decoder of a table (compiled once per process)."""
    key = (table.db, table.name)
    dec = _DECODERS.get(key)
    if dec is None:
        dec = _DECODERS[key] = RowDecoder(table)
    return dec
