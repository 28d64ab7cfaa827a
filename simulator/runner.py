"""The simulator's composition root: arguments -> config -> a running server until a signal.

`python -m simulator serve` and `vcdb simulator serve` share `add_arguments` and `run`.  The
accepted credentials come from `schemas.settings.Settings` (AUTOCARE_CLIENT_ID, ..._SECRET,
AUTOCARE_USERNAME, AUTOCARE_PASSWORD; the documented demo values by default), read once here.
The first line on stdout is `SIMULATOR READY <base url>`; SIGTERM or SIGINT stop it with exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import signal
import sys
from pathlib import Path

from schemas.settings import Settings
from simulator.config import DEFAULT_ANOMALIES, Credentials, DatasetConfig, ServerConfig
from simulator.faults import FaultProfile, FaultProfileError
from simulator.server import start_server
from simulator.timeline import DEFAULT_FIRST_RELEASE, Timeline, TimelineError

__all__ = ["add_arguments", "build_config", "credentials_from_settings", "run", "start_server"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
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


def credentials_from_settings(settings: Settings) -> Credentials:
    return Credentials(settings.autocare_client_id, settings.autocare_client_secret.get_secret_value(),
                       settings.autocare_username, settings.autocare_password.get_secret_value())


def build_config(args: argparse.Namespace, credentials: Credentials) -> ServerConfig:
    """Raises ValueError (TimelineError, FaultProfileError) for arguments that make no simulator."""
    timeline = Timeline.parse(args.release_dates) if args.release_dates else \
        Timeline.monthly(args.releases, args.first_release)
    dataset = DatasetConfig(seed=args.seed, scale=args.scale, anomalies=args.anomalies, timeline=timeline,
                            growth=args.growth, modify_rate=args.modify_rate, end_rate=args.end_rate)
    faults = None
    if args.faults:
        try:
            faults = json.loads(Path(args.faults).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise FaultProfileError(f"cannot read fault profile {args.faults}: {e}") from e
        FaultProfile.from_json(faults)  # fail now, not on the first request
    if args.release is not None and not 1 <= args.release <= timeline.count:
        raise TimelineError(f"--release {args.release} is outside 1..{timeline.count}")
    if args.max_page_size < 1 or not 1 <= args.default_page_size:
        raise ValueError("page sizes must be positive")
    return ServerConfig(credentials=credentials, dataset=dataset, host=args.host, port=args.port,
                        release=args.release, token_ttl=args.token_ttl, max_page_size=args.max_page_size,
                        default_page_size=min(args.default_page_size, args.max_page_size),
                        include_ended_in_full=args.include_ended, advertised_url=args.advertised_url,
                        faults=faults, access_log=args.access_log)


def run(args: argparse.Namespace) -> int:
    try:
        config = build_config(args, credentials_from_settings(Settings()))
    except ValueError as e:
        print(f"simulator: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(_serve(config))
    except OSError as e:
        print(f"simulator: cannot listen on {config.host}:{config.port}: {e}", file=sys.stderr)
        return EXIT_FAILED


async def _serve(config: ServerConfig) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    runner, base_url = await start_server(config)
    try:
        print(f"SIMULATOR READY {base_url}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()
    return EXIT_OK
