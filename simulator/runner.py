"""The simulator's composition root: arguments -> config -> a running server until a signal.

`python -m simulator serve` and `vcdb simulator serve` share `add_arguments` (simulator/arguments.py) and `run`.  The
accepted credentials come from `schemas.settings.Settings` (AUTOCARE_CLIENT_ID, ..._SECRET,
AUTOCARE_USERNAME, AUTOCARE_PASSWORD; the documented demo values by default), read once here.
The first line on stdout is `SIMULATOR READY <base url>`; SIGTERM or SIGINT stop it with exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from schemas.settings import Settings
from simulator.arguments import serve_arguments as add_arguments
from simulator.config import Credentials, DatasetConfig, ServerConfig
from simulator.faults import FaultProfile, FaultProfileError
from simulator.server import start_server
from simulator.timeline import Timeline, TimelineError

__all__ = ["add_arguments", "build_config", "credentials_from_settings", "run", "start_server"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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
