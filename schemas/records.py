"""The base of the generated record models: how an API record becomes a canonical row.

API records are PascalCase JSON objects whose key casing has drifted between API versions, whose
empty strings mean NULL in non-text fields, and whose timestamps come as ISO or as
`MM/DD/YYYY HH:MM:SS`.  Those rules live here; the generated models only declare fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

_NULL_STRINGS = frozenset({"", "null", "NULL", "None"})
_US_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y")


class RecordModel(BaseModel):
    """One API record.  Unknown keys are ignored here; the verbatim record stays on its topic."""

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=False)

    __autocare_table__: ClassVar[str]
    __api_keys__: ClassVar[dict[str, str]]  # lower-cased API key or DDL name -> field name
    __text_fields__: ClassVar[frozenset[str]]
    __time_fields__: ClassVar[frozenset[str]]
    __date_fields__: ClassVar[frozenset[str]]

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError(f"a record must be a JSON object, got {type(data).__name__}")
        out: dict[str, Any] = {}
        for key, value in data.items():
            field = cls.__api_keys__.get(str(key).lower())
            if field is None:
                continue
            if isinstance(value, str):
                if field not in cls.__text_fields__ and value.strip() in _NULL_STRINGS:
                    value = None
                elif field in cls.__time_fields__:
                    value = _parse_time(value)
                elif field in cls.__date_fields__:
                    parsed = _parse_time(value)
                    value = parsed.date() if isinstance(parsed, dt.datetime) else parsed
            out[field] = value
        return out

    def row(self) -> tuple[Any, ...]:
        """Values in canonical column order."""
        return tuple(self.__dict__.values())


def _parse_time(value: str) -> Any:
    """ISO (with or without zone, stored as naive UTC) or US style; anything else is left for
    pydantic to reject with its own message."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is not None:
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
        return parsed
    for fmt in _US_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
    return value
