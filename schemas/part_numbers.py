"""Part numbers as parts people type them: case and punctuation ignored (pure).

"qa-brk-100", "QABRK100" and "qa brk/100" are one part number, "QABRK100".  `normalized` is the
SQL of the same rule over a column; migration 0010 indexes that expression on ACES applications
and PIES items, so a normalized prefix walks the index (text_pattern_ops: LIKE 'QAB%').
"""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"[^0-9A-Za-z]+")


def normalize(text: str) -> str:
    """Letters and digits only, upper case."""
    return _PUNCTUATION.sub("", text).upper()


PUNCTUATION_SQL = "[^0-9A-Za-z]+"


def normalized(column: str) -> str:
    """The SQL of `normalize` over `column` (IMMUTABLE, so it can be indexed)."""
    return f"upper(regexp_replace({column}, '{PUNCTUATION_SQL}', '', 'g'))"


# (schema, table) whose part_number is indexed normalized, and the index name.
INDEXED = (("autocare_aces", "app", "ix_app_part_number_normalized"),
           ("autocare_pies", "item", "ix_item_part_number_normalized"))
