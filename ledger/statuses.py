"""The statuses the `ingest` tables hold (runs, endpoint progress, table loads, dead letters), as
StrEnums.  A module of their own so that what only compares a status never imports SQLAlchemy's
table definitions (schemas/ingest.py).  Code outside SQL compares against these, never against
string literals.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class RunKind(StrEnum):
    """runs.kind: what a run pulls (the column is text; these are the kinds written)."""

    BASELINE = "baseline"
    INCREMENTAL = "incremental"
    IMPORT = "import"  # vcdb raw import
    FILE = "file"  # one ACES or PIES file (vcdb aces load / vcdb pies load)


class EndpointStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAGED = "paged"  # every page published; the end-of-table records are missing
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class LoadStatus(StrEnum):
    WAITING = "waiting"  # nothing consumed yet (not a row of table_load)
    LOADING = "loading"
    SEALED = "sealed"
    MISMATCH = "mismatch"


class DeadLetterStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"  # loaded on replay, or a newer record of its key loaded
    SUPERSEDED = "superseded"  # a later run delivered the same record again: that copy is the open one


class Publication(StrEnum):
    """runs.publication: how a run's records reach the canonical tables."""

    STAGED = "staged"  # into the staged twins; published whole, in one transaction, when complete
    IN_PLACE = "in_place"  # straight into the canonical tables (a first baseline, or --in-place)


class ReleaseStatus(StrEnum):
    PUBLISHED = "published"
    REFUSED = "refused"  # complete, but the automatic rule found counts off or orphans: the operator decides
    DISCARDED = "discarded"  # its staged rows were dropped (`vcdb release discard`)


class ImpactStatus(StrEnum):
    """fitment_impact.status: how a VCdb release changed what a live application fits."""

    LOST_ALL = "lost_all"  # fitted some vehicle before, fits none now
    LOST_SOME = "lost_some"
    GAINED = "gained"  # gained some (a new vehicle, a new SubModel that matches), lost none
    CHANGED = "changed"  # lost some and gained some
