"""The command-line options of `simulator serve` and `simulator aces`, apart from what runs them:
`vcdb --help` builds these parsers without importing the server (aiohttp) or the file writers."""

from __future__ import annotations

import argparse
import datetime as dt

from simulator.config import DEFAULT_ANOMALIES
from simulator.timeline import DEFAULT_FIRST_RELEASE


def serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default 0)")
    parser.add_argument("--scale", type=float, default=0.01,
                        help="data size; 1.0 is a full light-duty release, ~2.5 M VCdb rows (default 0.01)")
    parser.add_argument("--seed", type=int, default=42, help="the data and the faults are a function of it")
    parser.add_argument("--anomalies", type=float, default=DEFAULT_ANOMALIES,
                        help=f"share of Vehicle / VehicleToEngineConfig rows with a missing parent "
                             f"(default {DEFAULT_ANOMALIES}; 0 turns anomalies off)")
    parser.add_argument("--releases", type=int, default=3, help="number of monthly releases (default 3)")
    parser.add_argument("--first-release", type=dt.date.fromisoformat, default=DEFAULT_FIRST_RELEASE,
                        help=f"date of release 1 for monthly releases (default {DEFAULT_FIRST_RELEASE})")
    parser.add_argument("--release-dates", help="explicit release dates, comma-separated (overrides --releases)")
    parser.add_argument("--release", type=int, default=None,
                        help="the current release: what requests without AsOfDate see (default: the last)")
    parser.add_argument("--growth", type=float, default=0.01, help="rows each later release adds, share of release 1")
    parser.add_argument("--modify-rate", type=float, default=0.01, help="rows each later release modifies, share")
    parser.add_argument("--end-rate", type=float, default=0.005,
                        help="rows each later release ends, share (only tables nothing references)")
    parser.add_argument("--faults", help="fault profile, a JSON file (see simulator/faults.py)")
    parser.add_argument("--token-ttl", type=int, default=3600, help="token lifetime in seconds (default 3600)")
    parser.add_argument("--max-page-size", type=int, default=1000, help="larger PageSize answers 400 (default 1000)")
    parser.add_argument("--default-page-size", type=int, default=1000, help="PageSize when none is sent")
    parser.add_argument("--advertised-url", help="base URL of X-Pagination links (default: the request's origin)")
    parser.add_argument("--include-ended", action="store_true",
                        help="full pulls (no SinceDate) also return end-dated rows")
    parser.add_argument("--access-log", action="store_true", help="log every request to stderr")


def files_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="folder to write the files and oracle.json into")
    parser.add_argument("--scale", type=float, default=0.01, help="data size, as for `simulator serve` (default 0.01)")
    parser.add_argument("--seed", type=int, default=42, help="the data set's seed; the files follow from it")
    parser.add_argument("--anomalies", type=float, default=DEFAULT_ANOMALIES, help="as for `simulator serve`")
    parser.add_argument("--releases", type=int, default=3, help="number of monthly releases (default 3)")
    parser.add_argument("--first-release", type=dt.date.fromisoformat, default=DEFAULT_FIRST_RELEASE)
    parser.add_argument("--release-dates", help="explicit release dates, comma-separated (overrides --releases)")
    parser.add_argument("--growth", type=float, default=0.01)
    parser.add_argument("--modify-rate", type=float, default=0.01)
    parser.add_argument("--end-rate", type=float, default=0.005)
    parser.add_argument("--baseline-release", type=int, default=1,
                        help="the release the reference databases are loaded at before the files (default 1)")
