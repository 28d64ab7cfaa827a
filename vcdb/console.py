"""What every command shares to talk to a person: the usage error and JSON output."""

from __future__ import annotations

import json
from typing import Any


class UsageError(Exception):
    """Bad arguments or settings: printed as one line, exit code 2."""


def print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))
