"""bench/startup.py's reading of `python -X importtime`: only top-level imports count, once."""

from __future__ import annotations

from bench.report import lines, targets
from bench.startup import importtime_total_ms

SAMPLE = """import time: self [us] | cumulative | imported package
import time:       100 |        100 |   _io
import time:       250 |        350 | marshal
import time:        50 |         50 |     encodings.aliases
import time:       400 |       1450 | encodings
Traceback-free noise
"""


def test_importtime_total_is_the_sum_of_the_top_level_cumulative_times() -> None:
    assert importtime_total_ms(SAMPLE) == (350 + 1450) / 1000
    assert importtime_total_ms("") == 0


def test_startup_figures_are_reported_against_python_c_pass_and_the_target() -> None:
    r = {"rows": 0, "scale": 0, "workers": 2, "workers_flag": True,
         "startup": {"runs": 7, "target_s": 0.3, "python_c_pass": {"wall_s": 0.02, "imports_ms": 10.0},
                     "commands": {"status": {"wall_s": 0.25, "wall_ratio": 12.5, "imports_ms": 150.0,
                                             "imports_ratio": 15.0},
                                  "--help": {"wall_s": 0.4, "wall_ratio": 20.0, "imports_ms": 200.0,
                                             "imports_ratio": 20.0}}}}
    met = {t.name: t.met for t in targets(r)}
    assert met["vcdb status: wall (s)"] is True
    assert met["vcdb --help: wall (s)"] is False
    text = "\n".join(lines(r))
    assert "12.5 x python -c pass" in text and "imports 150 ms = 15.0 x" in text
