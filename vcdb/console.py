"""What every command shares to talk to a person: its own errors and JSON output."""

from __future__ import annotations

import json
from typing import Any


class UsageError(Exception):
    """Bad arguments or settings: printed as one line, exit code 2."""


class RunFailed(Exception):
    """A run ended failed on an error that doomed it (its `__cause__`, which picks the exit code)."""


def print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))
