"""The targets of `make bench` (issues #9, #10, #12, #18, #19, #21 and #22) within one run, and the
lines it prints: the figures phase by phase, then one block with every target, its figure, its
goal and whether it is met.

Most targets are ratios of two figures measured minutes apart on the same machine, so a busy
machine moves both sides; absolute figures are printed beside them for the README.  Pure: a
results dict in, lines out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

RSS_LIMIT_MB = 500.0
RSS_AT_SCALE = 1.0
BASELINE_SCALE = 1.0  # issue 22: the baseline's targets are set at simulator scale 1.0
DLT_BROKER = "apache-kafka"  # issue 22: ours / dlt's wall is a target on Apache Kafka, reported on Tansu
DLT_RATIO = 1 / 3
DOWNLOAD_RATIO, DOWNLOAD_MOONSHOT = 3.0, 2.0  # whole baseline / bare download of the same pages, wall
CONSUMER_US_PER_RECORD = 8.0
ACES_APPS = 200_000  # the file the ACES targets are set at
ACES_APPS_PER_S = 25_000.0
ACES_PRODUCER_TO_ITERPARSE = 0.3
ACES_RSS_MB = 300.0


@dataclass(frozen=True)
class Target:
    name: str
    figure: float | None  # the ratio (or MB, apps/s, us) measured; None: not measured in this run
    goal: str  # as printed: ">= 2.0", "<= 0.333"; "report": no target, printed beside the others
    met: bool | None
    note: str = ""
    spec: str = ".3f"  # how the figure is printed


def _at_least(x: float | None, goal: float) -> bool | None:
    return None if x is None else x >= goal


def _at_most(x: float | None, goal: float) -> bool | None:
    return None if x is None else x <= goal


def _notes(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _scale_note(scale: float) -> str:
    return "" if scale == BASELINE_SCALE else f"the target is at scale {BASELINE_SCALE}; this run: scale {scale}"


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
        out.append(Target(f"producer / bare download (records/s) [{r['producer'].get('broker', 'tansu')}]", ratio,
                          ">= 0.5", _at_least(ratio, 0.5)))
    for broker, b in r.get("baseline", {}).items():
        out += baseline_targets(broker, b, r.get("dlt"), r.get("ceiling"))
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
        for size in ("target", "large"):
            if size in f:
                out += aces_targets(f[size], at_target=size == "target")
        for name in ("parts_for_vehicle_ms", "vehicles_for_part_ms"):
            if "lookups" not in f:
                break
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
                          ", ".join(f"{k} {n}" for k, n in failed.items()), ".0f"))
    return out


def baseline_targets(broker: str, b: dict[str, Any], dlt: dict[str, Any] | None,
                     ceiling: dict[str, Any] | None) -> list[Target]:
    """Issue 22's whole baseline on one broker: against dlt, against the bare download, the
    consumer's CPU per record loaded; issue 9's records read per loaded and worker peak RSS."""
    out: list[Target] = []
    scale = _scale_note(b["scale"])
    if dlt is not None:
        ratio = b["wall_s"] / dlt["wall_s"]
        name = f"whole baseline / dlt (wall) [{broker}]"
        if broker == DLT_BROKER:
            out.append(Target(name, ratio, "<= 0.333", _at_most(ratio, DLT_RATIO), scale))
        else:
            out.append(Target(name, ratio, "report", None, _notes(f"a target on {DLT_BROKER} only", scale)))
    if ceiling is not None:
        ratio = b["wall_s"] / ceiling["seconds"]
        moonshot = "met" if ratio <= DOWNLOAD_MOONSHOT else "not met"
        out.append(Target(f"whole baseline / bare download (wall) [{broker}]", ratio, f"<= {DOWNLOAD_RATIO:.1f}",
                          _at_most(ratio, DOWNLOAD_RATIO),
                          _notes(f"moonshot <= {DOWNLOAD_MOONSHOT:.1f}: {moonshot}", scale)))
    us = b.get("consumer_cpu_us_per_record")
    out.append(Target(f"consumer CPU-us per record loaded [{broker}]", us, f"<= {CONSUMER_US_PER_RECORD:.0f}",
                      _at_most(us, CONSUMER_US_PER_RECORD), "", ".2f"))
    out.append(Target(f"records read / records loaded [{broker}]", b["read_per_loaded"], "<= 1.05",
                      _at_most(b["read_per_loaded"], 1.05),
                      "" if b["read"] is not None else "vcdb consume --json has no `read` yet"))
    out.append(Target(f"worker peak RSS (MB) [{broker}]", b["worker_peak_rss_mb"], f"<= {RSS_LIMIT_MB:.0f}",
                      _at_most(b["worker_peak_rss_mb"], RSS_LIMIT_MB),
                      "" if b["scale"] == RSS_AT_SCALE
                      else f"the target is at scale {RSS_AT_SCALE}; this run: scale {b['scale']}", ".0f"))
    return out


def aces_targets(x: dict[str, Any], *, at_target: bool) -> list[Target]:
    """One ACES file end to end.  At the targets' size, apps/s and the producer against the bare
    iterparse are targets; at the larger size, reported.  Peak RSS per process: a target at both."""
    e, apps = x["end_to_end"], x["apps"]
    size = f"{apps:,} apps"
    out: list[Target] = []
    versus = f"{e['producer_apps_per_s']:,.0f} / {x['iterparse']['apps_per_s']:,.0f} apps/s"
    if at_target:
        note = "" if apps == ACES_APPS else f"the target is at {ACES_APPS:,} applications; this run: {apps:,}"
        out.append(Target(f"ACES end to end (apps/s), {size}", e["apps_per_s"], f">= {ACES_APPS_PER_S:,.0f}",
                          _at_least(e["apps_per_s"], ACES_APPS_PER_S), note, ",.0f"))
        out.append(Target(f"ACES producer / bare iterparse, {size}", x["producer_to_iterparse"],
                          f">= {ACES_PRODUCER_TO_ITERPARSE}",
                          _at_least(x["producer_to_iterparse"], ACES_PRODUCER_TO_ITERPARSE), _notes(versus, note)))
    else:
        out.append(Target(f"ACES end to end (apps/s), {size}", e["apps_per_s"], "report", None, "", ",.0f"))
        out.append(Target(f"ACES producer / bare iterparse, {size}", x["producer_to_iterparse"], "report", None,
                          versus))
    out.append(Target(f"ACES end to end / our parse only, {size}", x["ratio_to_parse"], "report", None,
                      "no target: the floor it is measured against"))
    rss = e["peak_rss_mb"]
    out.append(Target(f"ACES peak RSS, largest process (MB), {size}", max(rss.values()), f"<= {ACES_RSS_MB:.0f}",
                      _at_most(max(rss.values()), ACES_RSS_MB),
                      ", ".join(f"{k.replace('_', ' ')} {v:.0f}" for k, v in rss.items()), ".0f"))
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


def _cpu(c: dict[str, float | None]) -> str:
    return ", ".join(f"{k} {_n(v, '.1f')} s" for k, v in c.items())


def lines(r: dict[str, Any]) -> list[str]:
    workers = str(r["workers"]) if r["workers_flag"] else "1 (vcdb consume has no --workers yet: ran without it)"
    scale = f"scale {r['scale']}"
    if r["scale"] and r["scale"] != BASELINE_SCALE:
        scale += f" (the baseline's targets are at {BASELINE_SCALE})"
    brokers = f", brokers {', '.join(r['brokers'])}" if r.get("brokers") and r["scale"] else ""
    out = [f"rows {r['rows']:,}, {scale}, workers {workers}{brokers}"]
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
        out.append(f"bare download (httpx)        : {c['records_per_s']:>10,.0f} records/s ({c['records']:,} records, "
                   f"{c['pages']} pages in {c['seconds']:.1f} s; CPU {_cpu(c['cpu_s'])})")
    if "producer" in r:
        p = r["producer"]
        out.append(f"producer alone ({p.get('broker', 'tansu')}){'':<{max(0, 14 - len(p.get('broker', 'tansu')))}}: "
                   f"{p['records_per_s']:>10,.0f} records/s ({p['records']:,} records, {p['pages']} pages in "
                   f"{p['seconds']:.1f} s, process {p['process_wall_s']:.1f} s; CPU {_cpu(p['cpu_s'])})")
    for broker, b in r.get("baseline", {}).items():
        out.append(f"whole baseline ({broker}, scale {b['scale']}): {b['wall_s']:.1f} s wall = "
                   f"{b['records_per_s']:,.0f} records/s ({b['records']:,} published, {b['loaded']:,} loaded, "
                   f"{_n(b['dead_lettered'])} dead-lettered, read {_n(b['read'])}; consumer started at "
                   f"{b['consumer_started_after_s']:.1f} s; producer done at {b['producer_exited_after_s']:.1f} s, "
                   f"consumer at {b['consumer_exited_after_s']:.1f} s; worker peak RSS "
                   f"{b['worker_peak_rss_mb']:.0f} MB over {b['processes']} process(es))")
        out.append(f"  CPU: {_cpu(b['cpu_s'])}; consumer "
                   f"{_n(b.get('consumer_cpu_us_per_record'), '.2f')} CPU-us per record loaded")
    if "dlt" in r:
        d = r["dlt"]
        steps = ", ".join(f"{k[:-2]} {v:.1f} s" for k, v in d["steps_s"].items())
        out.append(f"dlt {d['dlt_version']} (scale {d['scale']}): {d['wall_s']:.1f} s wall = "
                   f"{d['records_per_s']:,.0f} records/s ({d['rows']:,} rows, {d['tables']} tables; {steps})")
        out.append(f"  CPU: {_cpu(d['cpu_s'])}")
    if "fitment" in r:
        f = r["fitment"]
        out.append(f"ACES reference data (scale {f['scale']}): {f['reference']['rows']:,} rows copied in "
                   f"{f['reference']['seconds']:.0f} s")
        for size in ("target", "large"):
            if size in f:
                out += aces_lines(f[size])
        if "lookups" in f:
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
        out.append((f"  {t.name:<52} {_n(t.figure, t.spec):>8}  target {t.goal:<9} {_met(t):<7}"
                    + (f"  ({t.note})" if t.note else "")).rstrip())
    return out


def aces_lines(x: dict[str, Any]) -> list[str]:
    e, rss = x["end_to_end"], x["end_to_end"]["peak_rss_mb"]
    head = f"ACES {x['apps']:,} apps"
    peaks = ", ".join(f"{k.replace('_', ' ')} {v:.0f} MB" for k, v in rss.items())
    return [
        f"{head + ' floors':<29}: bare lxml iterparse {x['iterparse']['apps_per_s']:,.0f} apps/s "
        f"({x['iterparse']['seconds']:.1f} s), our parse {x['parse']['apps_per_s']:,.0f} apps/s "
        f"({x['parse']['seconds']:.1f} s); {x['file_mb']:.0f} MB file",
        f"{head + ' end to end':<29}: {e['apps_per_s']:>10,.0f} apps/s ({e['loaded']:,} loaded, "
        f"{e['dead_lettered']:,} dead-lettered in {e['seconds']:.1f} s; producer {e['producer_s']:.1f} s = "
        f"{e['producer_apps_per_s']:,.0f} apps/s; CPU producer {e['producer_cpu_s']:.1f} s, consumer "
        f"{e['consumer_cpu_s']:.1f} s; peak RSS {peaks})",
    ]
