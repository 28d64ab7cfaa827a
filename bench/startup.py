"""Issue #18: how soon the short commands reach their work, each as a ratio to a bare `python -c pass`.

For each command line: the wall time of the whole process (the median of `RUNS`, against a migrated
empty database and a Tansu broker, so the command does its real work), and `python -X importtime`'s
total for the same command line (the sum of the top-level imports' cumulative times).  Both sides
are measured in this run, interleaved, so a busy machine moves them together.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any

from bench.stack import Bench, env_for, fresh_db, settings_for, vcdb
from ledger import pools
from vcdb import services

RUNS = 7
TARGET_S = 0.3
COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "status": ["status", "--json"],
    "fitment parts": ["fitment", "parts", "--vehicle", "1", "--json"],
    "dlq list": ["dlq", "list", "--json"],
}
BARE = [sys.executable, "-c", "pass"]
# One vehicle and no application: `fitment parts` runs its queries and answers, on stderr with exit 1, that
# none fits it (an answer, returned: an error raised would also import the whole error table).
ANSWERS = {"fitment parts": (1, "no live application fits it")}
VEHICLE = """
SET session_replication_role = replica;
INSERT INTO autocare_vcdb.make (make_id, make_name, ingest_run_id) VALUES (1, 'Acme', 1);
INSERT INTO autocare_vcdb.model (model_id, model_name, vehicle_type_id, ingest_run_id) VALUES (2, 'Roadster', 5, 1);
INSERT INTO autocare_vcdb.base_vehicle (base_vehicle_id, year_id, make_id, model_id, ingest_run_id)
VALUES (101, 2010, 1, 2, 1);
INSERT INTO autocare_vcdb.vehicle (vehicle_id, base_vehicle_id, submodel_id, region_id, ingest_run_id)
VALUES (1, 101, 11, 1, 1);
"""


def importtime_total_ms(stderr: str) -> float:
    """The sum of the top-level imports' cumulative microseconds, in ms.  A line reads
    `import time: <self> | <cumulative> | <name>`, a nested import indented under its parent."""
    total = 0
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[1].strip().isdigit():
            continue  # the header line
        if not fields[2].startswith("  "):  # one space after the bar: top level
            total += int(fields[1])
    return total / 1000


def _timed(argv: list[str], env: dict[str, str], answer: tuple[int, str] = (0, "")) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    wall = time.perf_counter() - t0
    code, said = answer
    if done.returncode != code or said not in done.stderr:
        raise services.ServiceError(f"{' '.join(argv[2:])} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return wall, done.stderr


async def startup_phase(bench: Bench) -> dict[str, Any]:
    url = await fresh_db(bench.admin_url, "vcdb_bench_startup")
    conn = await pools.connect_session(url)
    try:
        await conn.execute(VEHICLE)
    finally:
        await conn.close()
    kafka = services.start_tansu(bench.workdir)
    try:
        env = env_for(settings_for(url, kafka))
        lines = {"python -c pass": BARE} | {name: vcdb(*args) for name, args in COMMANDS.items()}
        walls: dict[str, list[float]] = {name: [] for name in lines}
        for _ in range(RUNS):  # interleaved: each round measures every line once
            for name, argv in lines.items():
                walls[name].append(_timed(argv, env, ANSWERS.get(name, (0, "")))[0])
        imports = {name: importtime_total_ms(_timed([argv[0], "-X", "importtime", *argv[1:]], env,
                                                    ANSWERS.get(name, (0, "")))[1])
                   for name, argv in lines.items()}
    finally:
        kafka.stop()
    bare_wall = statistics.median(walls["python -c pass"])
    bare_imports = imports["python -c pass"]
    return {"runs": RUNS, "target_s": TARGET_S, "python_c_pass": {"wall_s": bare_wall, "imports_ms": bare_imports},
            "commands": {name: {"wall_s": statistics.median(walls[name]),
                                "wall_ratio": statistics.median(walls[name]) / bare_wall,
                                "imports_ms": imports[name], "imports_ratio": imports[name] / bare_imports}
                         for name in COMMANDS}}
