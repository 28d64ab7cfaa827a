"""Issue #9's targets as ratios within one run, and the lines `make bench` prints.

Every target is a ratio of two figures measured minutes apart on the same machine, so a busy
machine moves both sides; absolute figures are printed beside them for the README.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

RSS_LIMIT_MB = 500.0
RSS_AT_SCALE = 1.0


@dataclass(frozen=True)
class Target:
    name: str
    figure: float | None  # the ratio (or MB) measured; None: not measured in this run
    goal: str  # as printed: ">= 2.0", "<= 0.333"
    met: bool | None
    note: str = ""


def _at_least(x: float | None, goal: float) -> bool | None:
    return None if x is None else x >= goal


def _at_most(x: float | None, goal: float) -> bool | None:
    return None if x is None else x <= goal


def targets(r: dict[str, Any]) -> list[Target]:
    out: list[Target] = []
    if "load_stage" in r and "copy" in r:
        ratio = r["load_stage"]["rows_per_s"] / r["copy"]["rows_per_s"]
        out.append(Target("load stage / COPY (rows/s)", ratio, ">= 2.0", _at_least(ratio, 2.0)))
    if "load_stage_ingest" in r and "load_stage" in r:
        ratio = r["load_stage_ingest"]["rows_per_s"] / r["load_stage"]["rows_per_s"]
        out.append(Target("load stage as the ingest role / as the admin (rows/s)", ratio, "report", None,
                          "FK triggers on / off: their cost" if r["load_stage_ingest"]["fk_triggers"]
                          and not r["load_stage"]["fk_triggers"] else "both sides have the same FK triggers"))
    if "producer" in r and "ceiling" in r:
        ratio = r["producer"]["records_per_s"] / r["ceiling"]["records_per_s"]
        out.append(Target("producer / bare client (records/s)", ratio, ">= 0.5", _at_least(ratio, 0.5)))
    if "baseline" in r and "dlt" in r:
        ratio = r["baseline"]["wall_s"] / r["dlt"]["wall_s"]
        out.append(Target("our wall / dlt's wall", ratio, "<= 0.333", _at_most(ratio, 1 / 3)))
    if "baseline" in r:
        b = r["baseline"]
        out.append(Target("records read / records loaded", b["read_per_loaded"], "<= 1.05",
                          _at_most(b["read_per_loaded"], 1.05),
                          "" if b["read"] is not None else "vcdb consume --json has no `read` yet"))
        at_scale = b["scale"] == RSS_AT_SCALE
        out.append(Target("worker peak RSS (MB)", b["worker_peak_rss_mb"], f"<= {RSS_LIMIT_MB:.0f}",
                          _at_most(b["worker_peak_rss_mb"], RSS_LIMIT_MB),
                          "" if at_scale else f"the target is at scale {RSS_AT_SCALE}; this run: scale {b['scale']}"))
    if "startup" in r:
        s = r["startup"]
        for name, c in s["commands"].items():
            out.append(Target(f"vcdb {name}: wall / python -c pass", c["wall_ratio"], "report", None,
                              f"{c['wall_s']:.3f} s against {s['python_c_pass']['wall_s']:.3f} s"))
            out.append(Target(f"vcdb {name}: wall (s)", c["wall_s"], f"<= {s['target_s']}",
                              _at_most(c["wall_s"], s["target_s"])))
            out.append(Target(f"vcdb {name}: importtime total / python -c pass", c["imports_ratio"], "report", None,
                              f"{c['imports_ms']:.0f} ms against {s['python_c_pass']['imports_ms']:.0f} ms"))
    if "fitment" in r:
        f = r["fitment"]
        out.append(Target("ACES end to end / parse only (apps/s)", f["ratio_to_parse"], "report", None,
                          "no target: the floor it is measured against"))
        rss = max(f["end_to_end"]["producer_peak_rss_mb"], f["end_to_end"]["worker_peak_rss_mb"])
        out.append(Target("ACES loader peak RSS (MB)", rss, "<= 300", _at_most(rss, 300.0)))
        for name in ("parts_for_vehicle_ms", "vehicles_for_part_ms"):
            p95 = f["lookups"][name]["p95"]
            out.append(Target(f"fitment {name[:-3].replace('_', ' ')} p95 (ms)", p95, "<= 10", _at_most(p95, 10.0),
                              "" if f["scale"] == 1.0 else f"the target is at scale 1.0; this run: {f['scale']}"))
    if "releases" in r:
        x = r["releases"]
        out.append(Target("staged baseline / in place (over a release)", x["staged_per_in_place"], "<= 1.3",
                          _at_most(x["staged_per_in_place"], 1.3),
                          "" if x["scale"] == 1.0 else f"the target is at scale 1.0; this run: {x['scale']}"))
    if "explorer" in r:
        x = r["explorer"]
        note = explorer_note(x)
        for kind, goal in x["targets_ms"].items():
            p95 = x["latency_ms"][kind]["p95"]
            out.append(Target(f"explorer {kind.replace('_', ' ')} p95 (ms)", p95, f"<= {goal:.0f}",
                              _at_most(p95, goal), note))
        failed = {k: v["errors"] for k, v in x["latency_ms"].items() if v["errors"]}
        out.append(Target("explorer answers other than 200", float(sum(failed.values())), "== 0", not failed,
                          ", ".join(f"{k} {n}" for k, n in failed.items())))
    return out


EXPLORER_SCALE = 1.0
EXPLORER_APPS = 200_000


def explorer_note(x: dict[str, Any]) -> str:
    """Empty when the run is the one the targets are set at (scale 1.0, 200k applications)."""
    parts = x.get("parts") or {}
    apps = parts.get("apps_in_file", 0)
    if x["scale"] == EXPLORER_SCALE and apps == EXPLORER_APPS:
        return ""
    return (f"the target is at scale {EXPLORER_SCALE} with {EXPLORER_APPS:,} applications; "
            f"this run: scale {x['scale']}, {apps:,}")


def as_json(r: dict[str, Any]) -> dict[str, Any]:
    return {**r, "targets": [asdict(t) for t in targets(r)]}


def _met(t: Target) -> str:
    return "n/a" if t.met is None else ("MET" if t.met else "NOT MET")


def _n(x: float | None, spec: str = ",.0f") -> str:
    return "n/a" if x is None else format(x, spec)


def _cpu(c: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in c.items())


def lines(r: dict[str, Any]) -> list[str]:
    workers = str(r["workers"]) if r["workers_flag"] else "1 (vcdb consume has no --workers yet: ran without it)"
    out = [f"rows {r['rows']:,}, scale {r['scale']}, workers {workers}"]
    if "copy" in r:
        c = r["copy"]
        out.append(f"plain COPY into FK'd table   : {c['rows_per_s']:>10,.0f} rows/s ({c['rows']:,} rows in "
                   f"{c['seconds']:.2f} s)")
    if "load_stage" in r:
        ls = r["load_stage"]
        out.append(f"load stage (from topics)     : {ls['rows_per_s']:>10,.0f} rows/s ({ls['batch_rows']:,} rows, "
                   f"{ls['batches']} batches in {ls['seconds']:.2f} s; process {ls['process_wall_s']:.1f} s, "
                   f"{ls['outside_batches_s']:.1f} s of it start-up and idle wait, apart; CPU {ls['cpu_s']:.1f} s; "
                   f"worker peak RSS {ls['worker_peak_rss_mb']:.0f} MB over {ls['processes']} process(es); "
                   f"read {_n(ls['read'])})")
    if "load_stage_ingest" in r:
        li = r["load_stage_ingest"]
        out.append(f"load stage as ingest role    : {li['rows_per_s']:>10,.0f} rows/s ({li['batch_rows']:,} rows, "
                   f"{li['batches']} batches in {li['seconds']:.2f} s; FK triggers "
                   f"{'on' if li['fk_triggers'] else 'off'}; CPU {li['cpu_s']:.1f} s)")
    if "startup" in r:
        s = r["startup"]
        bare = s["python_c_pass"]
        out.append(f"python -c pass               : {bare['wall_s']:.3f} s wall (median of {s['runs']}), "
                   f"imports {bare['imports_ms']:.0f} ms")
        for name, c in s["commands"].items():
            out.append(f"vcdb {name:<24}: {c['wall_s']:.3f} s wall = {c['wall_ratio']:.1f} x python -c pass; "
                       f"imports {c['imports_ms']:.0f} ms = {c['imports_ratio']:.1f} x")
    if "ceiling" in r:
        c = r["ceiling"]
        out.append(f"bare httpx client (ceiling)  : {c['records_per_s']:>10,.0f} records/s ({c['records']:,} records, "
                   f"{c['pages']} pages in {c['seconds']:.1f} s; CPU {_cpu(c['cpu_s'])})")
    if "producer" in r:
        p = r["producer"]
        out.append(f"producer alone (vcdb baseline): {p['records_per_s']:>9,.0f} records/s ({p['records']:,} records, "
                   f"{p['pages']} pages in {p['seconds']:.1f} s, process {p['process_wall_s']:.1f} s; "
                   f"CPU {_cpu(p['cpu_s'])})")
    if "baseline" in r:
        b = r["baseline"]
        out.append(f"whole baseline (scale {b['scale']})  : {b['wall_s']:.1f} s wall = {b['records_per_s']:,.0f} "
                   f"records/s ({b['records']:,} published, {b['loaded']:,} loaded, {_n(b['dead_lettered'])} "
                   f"dead-lettered, read {_n(b['read'])}; consumer started at {b['consumer_started_after_s']:.1f} s; "
                   f"producer done at {b['producer_exited_after_s']:.1f} s, consumer at "
                   f"{b['consumer_exited_after_s']:.1f} s; worker peak RSS {b['worker_peak_rss_mb']:.0f} MB over "
                   f"{b['processes']} process(es)); CPU {_cpu(b['cpu_s'])}")
    if "dlt" in r:
        d = r["dlt"]
        steps = ", ".join(f"{k[:-2]} {v:.1f} s" for k, v in d["steps_s"].items())
        out.append(f"dlt {d['dlt_version']} (scale {d['scale']})  : {d['wall_s']:.1f} s wall = "
                   f"{d['records_per_s']:,.0f} records/s ({d['rows']:,} rows, {d['tables']} tables; {steps}); "
                   f"CPU {_cpu(d['cpu_s'])}")
    if "fitment" in r:
        f, e = r["fitment"], r["fitment"]["end_to_end"]
        out.append(f"ACES parse only (floor)      : {f['parse']['apps_per_s']:>10,.0f} apps/s ({f['apps']:,} apps, "
                   f"{f['file_mb']:.0f} MB file, {f['parse']['seconds']:.1f} s)")
        out.append(f"ACES end to end (scale {f['scale']})  : {e['apps_per_s']:>10,.0f} apps/s ({e['loaded']:,} loaded, "
                   f"{e['dead_lettered']:,} dead-lettered in {e['seconds']:.1f} s; producer {e['producer_s']:.1f} s, "
                   f"CPU producer {e['producer_cpu_s']:.1f} s, consumer {e['consumer_cpu_s']:.1f} s; peak RSS "
                   f"producer {e['producer_peak_rss_mb']:.0f} MB, largest worker {e['worker_peak_rss_mb']:.0f} MB; "
                   f"reference data {f['reference']['rows']:,} rows copied in {f['reference']['seconds']:.0f} s)")
        lk = f["lookups"]
        out.append("fitment look-ups            : " + "; ".join(
            f"{k[:-3].replace('_', ' ')} p50 {v['p50']:.1f} ms, p95 {v['p95']:.1f} ms"
            for k, v in lk.items() if k.endswith("_ms")) + f" ({lk['calls']} calls each)")
    if "releases" in r:
        x = r["releases"]
        out.append(f"releases (scale {x['scale']})        : {x['records']:,} records; first baseline (in place) "
                   f"{x['first_wall_s']:.1f} s; the same over it staged and published {x['staged_wall_s']:.1f} s "
                   f"(publication {x['publish_s']:.1f} s), --in-place {x['in_place_wall_s']:.1f} s: "
                   f"{x['staged_per_in_place']:.2f}x")
    if "explorer" in r:
        x, ref = r["explorer"], r["explorer"]["reference"]
        out.append(f"explorer (scale {x['scale']})        : {ref['base_vehicles']:,} base vehicles, "
                   f"{ref['vehicles']:,} vehicles ({ref['rows']:,} VCdb rows copied in {ref['seconds']:.0f} s); "
                   "sequential requests:")
        if x.get("parts"):
            p = x["parts"]
            out.append(f"  parts and dead letters      : {p['apps']:,} live applications (file: {p['apps_in_file']:,} "
                       f"valid, {p['faulty_in_file']:,} faulty) fitting {p['vehicles_with_parts']:,} vehicles, "
                       f"{p['items']:,} PIES items, {p['dead_letters']:,} dead letters; ACES load "
                       f"{p['aces_load_s']:.0f} s, PIES load {p['pies_load_s']:.0f} s, {p['seconds']:.0f} s in all")
        for kind, v in x["latency_ms"].items():
            out.append(f"  {kind:<27}: p50 {v['p50']:5.1f} ms, p95 {v['p95']:5.1f} ms, max {v['max']:6.1f} ms "
                       f"({v['requests']} requests, {v['mean_kb']:.1f} kB each)"
                       + (f"; {v['errors']} NOT 200, e.g. {'; '.join(v['error_examples'])}" if v["errors"] else ""))
    for name, why in r.get("skipped", {}).items():
        out.append(f"{name}: skipped ({why})")
    for name, why in r.get("failed", {}).items():
        out.append(f"{name}: FAILED: {why}")
    out.append("targets:")
    for t in targets(r):
        fig = _n(t.figure, ".3f") if "RSS" not in t.name else _n(t.figure, ".0f")
        out.append(f"  {t.name:<38} {fig:>8}  target {t.goal:<8} {_met(t)}" + (f"  ({t.note})" if t.note else ""))
    return out
