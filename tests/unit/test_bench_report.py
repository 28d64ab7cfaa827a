"""`make bench`'s report of issue 22: a results dict in, the targets and printed lines out (no run)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench.report import as_json, lines, targets


def _baseline(broker: str, wall_s: float, consumer_cpu_s: float, postgres: float | None = 4.0) -> dict[str, Any]:
    loaded = 2_500_000
    cpu = {"producer": 30.0, "consumer": consumer_cpu_s, "simulator": 25.0, "broker": 12.0, "postgres": postgres}
    return {"scale": 1.0, "broker": broker, "records": loaded, "pages": 2600, "loaded": loaded, "dead_lettered": 0,
            "read": loaded, "read_per_loaded": 1.0, "wall_s": wall_s, "records_per_s": loaded / wall_s,
            "producer_s": wall_s - 5, "consumer_started_after_s": 0.4, "producer_exited_after_s": wall_s - 5,
            "consumer_exited_after_s": wall_s, "workers": 2, "processes": 3, "worker_peak_rss_mb": 310.0,
            "ru_maxrss_mb": 312.0, "consumer_cpu_us_per_record": consumer_cpu_s / loaded * 1e6,
            "cpu_s": {**cpu, "total": sum(v for v in cpu.values() if v is not None)}}


def _aces(apps: int, wall_s: float, producer_s: float, iterparse_per_s: float, worker_mb: float) -> dict[str, Any]:
    rss = {"producer": 120.0, "consumer": 80.0, "largest_worker": worker_mb}
    return {"apps": apps, "file_mb": apps / 4300, "write_s": 3.0,
            "iterparse": {"apps": apps, "seconds": apps / iterparse_per_s, "apps_per_s": iterparse_per_s},
            "parse": {"apps": apps, "seconds": apps / 40_000, "apps_per_s": 40_000.0},
            "end_to_end": {"seconds": wall_s, "apps_per_s": apps / wall_s, "loaded": apps, "dead_lettered": 0,
                           "producer_s": producer_s, "producer_apps_per_s": apps / producer_s,
                           "producer_cpu_s": 7.0, "consumer_cpu_s": 9.0, "producer_peak_rss_mb": 120.0,
                           "worker_peak_rss_mb": worker_mb, "peak_rss_mb": rss, "consumer": {}, "producer": {}},
            "ratio_to_parse": (apps / wall_s) / 40_000, "producer_to_iterparse": (apps / producer_s) / iterparse_per_s}


@pytest.fixture
def results() -> dict[str, Any]:
    return {
        "rows": 200_000, "scale": 1.0, "workers": 2, "workers_flag": True, "brokers": ["apache-kafka", "tansu"],
        "skipped": {}, "failed": {},
        "copy": {"rows": 200_000, "rows_per_s": 50_000.0, "seconds": 4.0, "peak_rss_mib": 10.0},
        "load_stage": {"rows_per_s": 110_000.0, "batch_rows": 200_000, "batches": 40, "seconds": 1.8,
                       "process_wall_s": 4.0, "outside_batches_s": 2.2, "cpu_s": 5.0, "worker_peak_rss_mb": 200.0,
                       "processes": 3, "read": 200_000, "fk_triggers": False},
        "ceiling": {"records": 2_500_000, "pages": 2600, "bytes": 1, "seconds": 40.0, "records_per_s": 62_500.0,
                    "cpu_s": {"client": 10.0, "simulator": 20.0}},
        "producer": {"broker": "apache-kafka", "records": 2_500_000, "pages": 2600, "seconds": 50.0,
                     "records_per_s": 50_000.0, "process_wall_s": 51.0,
                     "cpu_s": {"producer": 30.0, "simulator": 20.0, "broker": 10.0}},
        "baseline": {"apache-kafka": _baseline("apache-kafka", 100.0, 15.0),
                     "tansu": _baseline("tansu", 70.0, 25.0, postgres=None)},
        "dlt": {"scale": 1.0, "rows": 2_500_000, "tables": 70, "wall_s": 250.0, "records_per_s": 10_000.0,
                "steps_s": {"extract_s": 150.0, "normalize_s": 50.0, "load_s": 50.0}, "dlt_version": "1.9.0",
                "peak_rss_mb": 400.0, "cpu_s": {"dlt": 200.0, "simulator": 25.0, "postgres": 30.0, "total": 255.0}},
        "fitment": {"scale": 1.0, "reference": {"rows": 2_730_000, "seconds": 60.0},
                    "target": _aces(200_000, 7.5, 6.0, 90_000.0, 250.0),
                    "large": _aces(1_000_000, 50.0, 40.0, 90_000.0, 320.0),
                    "lookups": {"calls": 300, "parts_for_vehicle_ms": {"p50": 1.0, "p95": 4.0, "max": 9.0},
                                "vehicles_for_part_ms": {"p50": 1.5, "p95": 5.0, "max": 9.0}}},
    }


def _by_name(r: dict[str, Any]) -> dict[str, Any]:
    return {t.name: t for t in targets(r)}


def test_the_whole_baseline_is_held_against_dlt_on_apache_kafka_and_reported_on_tansu(results: dict[str, Any]) -> None:
    t = _by_name(results)
    kafka, tansu = t["whole baseline / dlt (wall) [apache-kafka]"], t["whole baseline / dlt (wall) [tansu]"]
    assert (kafka.figure, kafka.goal, kafka.met) == (0.4, "<= 0.333", False)
    assert (tansu.figure, tansu.goal, tansu.met) == (0.28, "report", None)
    assert "apache-kafka" in tansu.note


def test_the_whole_baseline_is_held_against_the_bare_download_with_the_moonshot_beside(
        results: dict[str, Any]) -> None:
    t = _by_name(results)
    kafka, tansu = t["whole baseline / bare download (wall) [apache-kafka]"], \
        t["whole baseline / bare download (wall) [tansu]"]
    assert (kafka.figure, kafka.goal, kafka.met) == (2.5, "<= 3.0", True)
    assert "moonshot <= 2.0: not met" in kafka.note
    assert tansu.figure == 1.75 and tansu.met and "moonshot <= 2.0: met" in tansu.note


def test_the_consumer_cpu_per_record_loaded_is_a_target_per_broker(results: dict[str, Any]) -> None:
    t = _by_name(results)
    assert t["consumer CPU-us per record loaded [apache-kafka]"].figure == pytest.approx(6.0)
    assert t["consumer CPU-us per record loaded [apache-kafka]"].met is True
    assert t["consumer CPU-us per record loaded [tansu]"].met is False  # 10 us


def test_load_stage_against_copy_and_the_aces_targets(results: dict[str, Any]) -> None:
    t = _by_name(results)
    assert t["load stage / COPY (rows/s)"].met is True  # 2.2 x
    e2e = t["ACES end to end (apps/s), 200,000 apps"]
    assert (e2e.figure, e2e.goal, e2e.met) == (pytest.approx(26_666.7, abs=0.1), ">= 25,000", True)
    producer = t["ACES producer / bare iterparse, 200,000 apps"]
    assert producer.met is True and producer.figure == pytest.approx(33_333.3 / 90_000, abs=1e-4)
    large = t["ACES end to end (apps/s), 1,000,000 apps"]
    assert (large.figure, large.goal, large.met) == (20_000.0, "report", None)
    assert t["ACES peak RSS, largest process (MB), 200,000 apps"].met is True
    rss = t["ACES peak RSS, largest process (MB), 1,000,000 apps"]
    assert (rss.figure, rss.met) == (320.0, False)
    assert rss.note == "producer 120, consumer 80, largest worker 320"


def test_a_run_off_the_targets_scale_or_size_says_so(results: dict[str, Any]) -> None:
    results["scale"] = 0.1
    for b in results["baseline"].values():
        b["scale"] = 0.1
    results["fitment"]["target"]["apps"] = 20_000
    t = _by_name(results)
    assert "this run: scale 0.1" in t["whole baseline / dlt (wall) [apache-kafka]"].note
    assert "this run: scale 0.1" in t["whole baseline / bare download (wall) [tansu]"].note
    assert "this run: 20,000" in t["ACES end to end (apps/s), 20,000 apps"].note
    assert "scale 0.1 (the baseline's targets are at 1.0)" in lines(results)[0]


def test_the_printed_lines_carry_every_process_cpu_and_every_target(results: dict[str, Any]) -> None:
    out = lines(results)
    text = "\n".join(out)
    assert "brokers apache-kafka, tansu" in out[0]
    assert ("CPU: producer 30.0 s, consumer 15.0 s, simulator 25.0 s, broker 12.0 s, postgres 4.0 s, total 86.0 s; "
            "consumer 6.00 CPU-us per record loaded") in text
    assert "postgres n/a s" in text  # not readable: said, not counted
    assert "CPU: dlt 200.0 s, simulator 25.0 s, postgres 30.0 s, total 255.0 s" in text
    assert "ACES 1,000,000 apps end to end" in text and "largest worker 320 MB" in text
    block = out[out.index("targets:") + 1:]
    assert len(block) == len(targets(results))
    line = next(x for x in block if "whole baseline / dlt (wall) [apache-kafka]" in x)
    assert "0.400" in line and "<= 0.333" in line and "NOT MET" in line
    line = next(x for x in block if "consumer CPU-us per record loaded [apache-kafka]" in x)
    assert "6.00" in line and "<= 8" in line and line.rstrip().endswith("MET")
    assert any("26,667" in x and ">= 25,000" in x for x in block)


def test_json_carries_the_same_targets(results: dict[str, Any]) -> None:
    got = json.loads(json.dumps(as_json(results)))
    assert [t["name"] for t in got["targets"]] == [t.name for t in targets(results)]
    assert got["baseline"]["tansu"]["cpu_s"]["postgres"] is None


def test_a_failed_broker_leaves_the_other_reported(results: dict[str, Any]) -> None:
    del results["baseline"]["apache-kafka"]
    results["failed"]["baseline (apache-kafka)"] = "Apache Kafka did not start"
    names = [t.name for t in targets(results)]
    assert not any("apache-kafka" in n and "baseline" in n for n in names)
    assert "baseline (apache-kafka): FAILED: Apache Kafka did not start" in lines(results)
