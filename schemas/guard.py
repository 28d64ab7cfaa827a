"""The loader's version guard: when an incoming copy of a row may replace the row already there.

An older record (EffectiveDateTime) never overwrites a newer one, and a stale copy that is in
force never resurrects a row that was ended at the same version.  The batch upserts and the
publication use it as their ON CONFLICT condition (consumers/sql.py); the change outbox uses the
same expression to know which rows a publication changes (ledger/changes.py).  Pure: strings.
"""

from __future__ import annotations

EFFECTIVE = "effective_date_time"
END = "end_date_time"


def replaces(old: str, new: str) -> str:
    """True when row alias `new` may replace row alias `old` (both rows of the same table)."""
    eff, end = f'"{EFFECTIVE}"', f'"{END}"'
    return (f"({old}.{eff} IS NULL OR {new}.{eff} IS NULL OR {new}.{eff} >= {old}.{eff}) "
            f"AND NOT ({old}.{end} IS NOT NULL AND {new}.{end} IS NULL "
            f"AND {new}.{eff} IS NOT DISTINCT FROM {old}.{eff})")
