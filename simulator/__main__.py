"""`python -m simulator serve [...]`: the local AutoCare API (see simulator.runner)."""

from __future__ import annotations

import argparse
import sys

from simulator import runner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description="the local AutoCare API simulator")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the simulated API over HTTP until SIGTERM/SIGINT")
    runner.add_arguments(serve)
    return runner.run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
