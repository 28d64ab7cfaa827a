"""The base of the generated record models: how an API record becomes a canonical row.

API records are PascalCase JSON objects.  Most match the generated aliases exactly and are
validated entirely by pydantic-core (the fast path).  The rest go through `_normalise`: key
casing that drifted between API versions (`SUBMODELID`), empty or "null" strings that mean NULL
in non-text fields, and timestamps as `MM/DD/YYYY HH:MM:SS`.  Those rules live here; the
generated models only declare fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

_NULL_STRINGS = frozenset({"", "null", "NULL", "None"})
_US_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y")


def _naive_utc(value: dt.datetime) -> dt.datetime:
    """Canonical timestamps are `timestamp without time zone`, in UTC."""
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


NaiveUtc = Annotated[dt.datetime, AfterValidator(_naive_utc)]


class RecordModel(BaseModel):
    """One API record.  Unknown keys are ignored here; the verbatim record stays on its topic."""

    model_config = ConfigDict(extra="ignore", frozen=True, validate_by_name=True, validate_by_alias=True)

    __autocare_table__: ClassVar[str]
    __api_keys__: ClassVar[dict[str, str]]  # lower-cased API key or DDL name -> field name
    __text_fields__: ClassVar[frozenset[str]]
    __time_fields__: ClassVar[frozenset[str]]
    __date_fields__: ClassVar[frozenset[str]]

    @classmethod
    def from_api_json(cls, raw: bytes) -> Self:
        """Parse and validate in one step (pydantic-core) for the common, well-formed record;
        anything else goes through `from_api`.  Raises ValueError (not JSON) or ValidationError."""
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            pass
        import json

        return cls.from_api(json.loads(raw))

    @classmethod
    def from_api(cls, data: Any) -> Self:
        """Validate an API record; raises pydantic's ValidationError naming the fields."""
        try:
            return cls.model_validate(data)
        except ValidationError:
            if not isinstance(data, dict):
                raise
        return cls.model_validate(cls._normalise(data))

    @classmethod
    def _normalise(cls, data: dict[str, Any]) -> dict[str, Any]:
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
        return _naive_utc(parsed)
    for fmt in _US_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
    return value
