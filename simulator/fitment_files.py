"""`vcdb simulator aces`: ACES 4.2 and PIES 7.2 files consistent with the simulated data, and
`oracle.json`, the expected result of loading them.

The files are written for a VCdb/PCdb/Qdb/PAdb baseline at release `baseline` (default 1) and
an incremental to the last release, which loads the late applications.  Output, in load order:

    01_aces_full_<BRAND1>.xml   02_aces_full_<BRAND2>.xml   03_aces_update_<BRAND1>.xml
    04_aces_full_<BRAND1>.xml   05_pies_full.xml            oracle.json

Everything is a function of the data set's config, the baseline and the seed: `build` is pure,
`write` and `run` (the CLI edge) do the I/O.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator import fitment_pies
from simulator.config import DatasetConfig
from simulator.dataset import Dataset
from simulator.fitment_app import App, Content
from simulator.fitment_deliveries import brand_codes, plan
from simulator.fitment_factory import AppFactory
from simulator.fitment_oracle import Delivery, Refs, aces_oracle, ref_order
from simulator.fitment_reference import Reference
from simulator.fitment_xml import AcesHeader, PiesHeader, aces_document, pies_document
from simulator.hashing import seed_of
from simulator.timeline import Timeline

APPS_PER_SCALE = 2000  # applications of the first FULL file at scale 1.0
PIES_FILE = "05_pies_full.xml"
ORACLE_FILE = "oracle.json"


@dataclass(frozen=True)
class Fitment:
    deliveries: list[Delivery]
    items: list[fitment_pies.Item]
    aces_headers: list[AcesHeader]
    pies_header: PiesHeader
    refs: Refs
    oracle: dict[str, Any]


def build(dataset: Dataset, *, baseline: int = 1, seed: int | None = None) -> Fitment:
    config = dataset.config
    rng = random.Random(seed_of("fitment-files", config.seed if seed is None else seed))
    n = max(20, round(APPS_PER_SCALE * config.scale))
    reference = Reference(dataset, baseline)
    factory = AppFactory(reference, rng, pool=max(300, 3 * n))
    brands = brand_codes(rng)
    for brand, share in zip(brands, (0.3, 0.2), strict=True):
        factory.add_brand(brand, max(24, round(n * share)))
    deliveries = plan(factory, rng, brands, n)
    refs = Refs()
    for d in deliveries:
        for app in d.apps:
            refs(app.content)
    oracle = aces_oracle(deliveries, refs)

    catalog = {b: {p.number: p.part_type for p in factory.parts(b)} for b in brands}
    used: dict[str, dict[str, int]] = {b: {} for b in brands}
    for d in deliveries:
        for app in d.apps:
            used[d.brand][app.content.part] = catalog[d.brand][app.content.part]
    items = fitment_pies.items(rng, reference, used, max(10, round(0.02 * sum(len(p) for p in used.values()))))

    day = dataset.timeline.date_of(baseline)
    regions = tuple(reference.stable_ids("vcdb", "Region")[:2])
    headers = [AcesHeader(d.brand, d.submission, day + dt.timedelta(days=k), day + dt.timedelta(days=k), day,
                          regions) for k, d in enumerate(deliveries, 1)]
    pies_header = PiesHeader(day + dt.timedelta(days=5), day, day + dt.timedelta(days=5),
                             tuple(f"PS-{b}" for b in brands))
    oracle = {
        "format": "vcdb-stream fitment oracle 1",
        "seed": config.seed, "scale": config.scale,
        "dataset": {"anomalies": config.anomalies, "growth": config.growth, "modify_rate": config.modify_rate,
                    "end_rate": config.end_rate, "release_dates": [d.isoformat() for d in dataset.timeline.dates]},
        "baseline_release": baseline, "incremental_release": dataset.releases,
        "brands": brands,
        "load_order": [d.name for d in deliveries] + [PIES_FILE],
        **oracle,
        "pies": _pies_oracle(items),
        "apps": _apps(deliveries, refs),
    }
    return Fitment(deliveries, items, headers, pies_header, refs, oracle)


def _pies_oracle(items: list[fitment_pies.Item]) -> dict[str, Any]:
    outcomes = {f"{i.brand}/{i.part}": {"outcome": i.fault or "loaded", "part_terminology_id": i.part_type,
                                        **({"fault_field": i.fault_field} if i.fault_field else {})} for i in items}
    return {"file": PIES_FILE, "kind": "pies", "submission_type": "FULL", "item_count": len(items),
            "trailer_item_count": str(len(items)),
            "outcome_counts": dict(sorted(Counter(o["outcome"] for o in outcomes.values()).items())),
            "rows": fitment_pies.row_counts(items), "dead_letters": fitment_pies.dead_letters(items),
            "code_fields": fitment_pies.CODE_FIELDS, "items": outcomes}


def _apps(deliveries: list[Delivery], refs: Refs) -> dict[str, Any]:
    """Per ref: the content, its fault at the baseline, whether it is late, its categories."""
    first: dict[Content, App] = {}
    categories: dict[Content, list[str]] = {}
    for d in deliveries:
        for app in d.apps:
            first.setdefault(app.content, app)
            seen = categories.setdefault(app.content, [])
            if app.category not in seen:
                seen.append(app.category)
    out: dict[str, Any] = {}
    for content, ref in sorted(refs.items(), key=lambda kv: ref_order(kv[1])):
        app = first[content]
        out[ref] = {**content.to_json(), "fault": app.fault, "late": app.late, "categories": categories[content]}
    return out


def write(fitment: Fitment, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for d, header in zip(fitment.deliveries, fitment.aces_headers, strict=True):
        path = out / d.name
        with path.open("w", encoding="utf-8") as f:
            f.writelines(aces_document(header, d.apps, lambda a: fitment.refs(a.content)))
        paths.append(path)
    path = out / PIES_FILE
    with path.open("w", encoding="utf-8") as f:
        f.writelines(pies_document(fitment.pies_header, fitment.items))
    paths.append(path)
    path = out / ORACLE_FILE
    path.write_text(json.dumps(fitment.oracle, indent=1) + "\n", encoding="utf-8")
    return [*paths, path]


# -- the CLI edge -------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        timeline = Timeline.parse(args.release_dates) if args.release_dates else \
            Timeline.monthly(args.releases, args.first_release)
        config = DatasetConfig(seed=args.seed, scale=args.scale, anomalies=args.anomalies, timeline=timeline,
                               growth=args.growth, modify_rate=args.modify_rate, end_rate=args.end_rate)
        fitment = build(Dataset(config), baseline=args.baseline_release)
    except ValueError as e:
        print(f"simulator aces: {e}", file=sys.stderr)
        return 2
    try:
        paths = write(fitment, Path(args.out))
    except OSError as e:
        print(f"simulator aces: cannot write {args.out}: {e}", file=sys.stderr)
        return 1
    for p, d in zip(paths, fitment.deliveries, strict=False):
        print(f"{p}  {d.submission} {d.brand}: {len(d.apps)} apps")
    print(f"{paths[len(fitment.deliveries)]}  {len(fitment.items)} items")
    print(f"{paths[-1]}  baseline release {args.baseline_release}, "
          f"{time.perf_counter() - started:.1f} s")
    return 0
