"""Naming rules: AutoCare's names to canonical PostgreSQL and Python names, in one place.

The old playbook hand-fixed generated models (`v_cdb_changes`, `class_`, `id`, `SubModelID`);
every one of those fixes is a rule here, tested against every table of every database.
"""

from __future__ import annotations

import keyword
import re

MAX_IDENTIFIER_BYTES = 63

# Words AutoCare writes in mixed case that must stay one word.
_WORDS = {
    "VCdb": "vcdb",
    "PCdb": "pcdb",
    "PAdb": "padb",
    "Qdb": "qdb",
    "SubModel": "submodel",
    "Submodel": "submodel",
}
_WORD_RE = re.compile("|".join(sorted(_WORDS, key=len, reverse=True)))
# Acronym runs (VIN, ABS, UOM, PIES), capitalised words, lower-case runs and digits.
_TOKEN_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

# PostgreSQL reserved key words (SQL key words appendix, "reserved" and "reserved (can be
# function or type)"): a canonical name must never need quoting.
PG_RESERVED = frozenset(
    """all analyse analyze and any array as asc asymmetric authorization binary both case cast
    check collate collation column concurrently constraint create cross current_catalog
    current_date current_role current_schema current_time current_timestamp current_user default
    deferrable desc distinct do else end except false fetch for foreign freeze from full grant
    group having ilike in initially inner intersect into is isnull join lateral leading left like
    limit localtime localtimestamp natural not notnull null offset on only or order outer overlaps
    placing primary references returning right select session_user similar some symmetric system_user
    table tablesample then to trailing true union unique user using variadic verbose when where
    window with""".split()
)

# Python keywords used as attribute names get a domain word, not a trailing underscore.
_PYTHON_RENAMES = {"class": "vehicle_class"}
# Names a generated record model cannot take as a field: they are pydantic BaseModel methods.
_MODEL_ATTRIBUTES = frozenset({"validate", "copy", "dict", "json", "schema", "construct", "parse_obj", "parse_raw",
                               "from_orm", "fields", "update_forward_refs", "schema_json", "parse_file"})


class NamingError(ValueError):
    """A name that no rule can make canonical (empty, too long, reserved, colliding)."""


def snake(name: str) -> str:
    """`BaseVehicle` -> `base_vehicle`, `EngineVINID` -> `engine_vin_id`, `SubModelID` -> `submodel_id`."""
    if not name or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise NamingError(f"not an AutoCare identifier: {name!r}")
    parts: list[str] = []
    for chunk in re.split(r"_+", name):
        pos = 0
        for m in _WORD_RE.finditer(chunk):
            parts.extend(_tokens(chunk[pos : m.start()]))
            parts.append(_WORDS[m.group(0)])
            pos = m.end()
        parts.extend(_tokens(chunk[pos:]))
    out: list[str] = []
    for p in parts:
        if p.isdigit() and out:
            out[-1] += p  # EngineBase2 -> engine_base2, not engine_base_2
        else:
            out.append(p)
    return "_".join(out)


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for tok in _TOKEN_RE.findall(text):
        # An acronym run that ends in ID is the acronym plus the ID suffix: VINID -> vin, id.
        if len(tok) > 2 and tok.isupper() and tok.endswith("ID"):
            tokens.extend([tok[:-2].lower(), "id"])
        else:
            tokens.append(tok.lower())
    return tokens


def table_name(autocare_table: str) -> str:
    """Canonical table name; checked for length and reserved words."""
    return check_identifier(snake(autocare_table), f"table {autocare_table}")


def column_name(autocare_table: str, autocare_column: str) -> str:
    """Canonical column name; a column literally named `ID` becomes `<table>_id`."""
    if autocare_column.upper() == "ID":
        name = f"{table_name(autocare_table)}_id"
    else:
        name = snake(autocare_column)
    return check_identifier(name, f"column {autocare_table}.{autocare_column}")


def python_name(canonical: str) -> str:
    """Attribute name for generated Python code (`class` -> `vehicle_class`)."""
    if keyword.iskeyword(canonical) or canonical in _PYTHON_RENAMES or canonical in _MODEL_ATTRIBUTES:
        return _PYTHON_RENAMES.get(canonical, f"{canonical}_value")
    return canonical


def class_name(autocare_table: str) -> str:
    """Class name for generated record models: PascalCase from the canonical name."""
    return "".join(p.capitalize() for p in snake(autocare_table).split("_")) + "Record"


def check_identifier(name: str, what: str) -> str:
    if len(name.encode()) > MAX_IDENTIFIER_BYTES:
        raise NamingError(f"{what}: canonical name {name!r} is longer than {MAX_IDENTIFIER_BYTES} bytes")
    if name in PG_RESERVED:
        raise NamingError(f"{what}: canonical name {name!r} is a PostgreSQL reserved word")
    return name


def constraint_name(prefix: str, table: str, *parts: str) -> str:
    """A constraint name within PostgreSQL's 63 bytes; long ones keep a stable hash suffix."""
    import hashlib

    full = "_".join((prefix, table, *parts))
    if len(full) <= MAX_IDENTIFIER_BYTES:
        return full
    digest = hashlib.sha1(full.encode()).hexdigest()[:8]
    return f"{full[: MAX_IDENTIFIER_BYTES - 9]}_{digest}"


def find_collisions(names: dict[str, str]) -> list[str]:
    """Given {source name: canonical name}, describe every canonical name claimed twice."""
    seen: dict[str, str] = {}
    problems: list[str] = []
    for source, canonical in names.items():
        if canonical in seen:
            problems.append(f"{seen[canonical]!r} and {source!r} both become {canonical!r}")
        else:
            seen[canonical] = source
    return problems


def schema_name(db: str) -> str:
    """PostgreSQL schema holding a database's canonical tables."""
    return f"autocare_{db}"


def staged_schema_name(db: str) -> str:
    """PostgreSQL schema holding a database's staged releases: the canonical tables' twins, keyed
    by run, which readers never query (consumers/publish.py)."""
    return f"autocare_{db}_staged"
