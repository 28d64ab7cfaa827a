"""`vcdb aces impact --release N`: the live ACES applications whose fitted vehicles a VCdb release
changed (ledger/impact.py records them when the release publishes), with totals per status; and
its text and JSON renderings (pure).

Exit codes: 0 the impact listed, or the release changed no fitment (said so); 2 no such release,
or a release of another database; 5 PostgreSQL unreachable.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ledger import impact
from ledger.impact import Impacted, ReleaseImpact
from ledger.statuses import ImpactStatus
from schemas.settings import Settings
from vcdb import exit_codes
from vcdb.console import UsageError, print_json
from vcdb.reports import read_pool

SHOWN_IDS = 12  # vehicle ids shown per application in the text listing (--json has them all)


async def release_impact(settings: Settings, release: int, brand: str | None = None) -> ReleaseImpact:
    """The release and its impacted applications; UsageError for an unknown or non-VCdb release."""
    async with read_pool(settings, "vcdb") as pool:
        found = await impact.of_release(pool, release, brand)
    if found is None:
        raise UsageError(f"no release {release} (`vcdb releases` lists them)")
    if found.db != "vcdb":
        raise UsageError(f"release {release} is a {found.db.upper()} release (run {found.run_id}): only a VCdb "
                         "release changes which vehicles an application fits")
    return found


# ---- renderings (pure) ---------------------------------------------------------------------------

def totals(apps: tuple[Impacted, ...]) -> dict[str, int]:
    """Applications per status, every status named (0 when none)."""
    counted = Counter(a.status for a in apps)
    return {s.value: counted.get(s, 0) for s in ImpactStatus}


def no_impact(r: ReleaseImpact, brand: str | None) -> str | None:
    """Why the release lists no application, or None when it lists some."""
    if r.apps:
        return None
    head = f"release {r.release_id} (VCdb {r.kind}, run {r.run_id})"
    if r.status != "published":
        return f"{head} is {r.status}: it changed no fitment"
    if r.publication != "staged":
        return f"{head} was loaded in place: its fitment impact is not recorded (no before state)"
    return f"{head} changed no fitment" + (f" of brand {brand}" if brand else "")


def _ids(ids: tuple[int, ...]) -> str:
    shown = ", ".join(str(i) for i in ids[:SHOWN_IDS])
    return shown + (f", ... ({len(ids)} in all)" if len(ids) > SHOWN_IDS else "") if ids else "-"


def render(r: ReleaseImpact, brand: str | None = None) -> str:
    said = no_impact(r, brand)
    if said is not None:
        return said
    lines = [f"release {r.release_id} (VCdb {r.kind}, run {r.run_id}): {len(r.apps)} application(s) whose fitted "
             "vehicles changed" + (f", brand {brand}" if brand else "")]
    lines.append("  " + ", ".join(f"{n} {s}" for s, n in totals(r.apps).items()))
    for a in r.apps:
        flag = "  LOST ALL: fits no vehicle now" if a.status == ImpactStatus.LOST_ALL else ""
        lines.append(f"  {a.status:<9} {a.brand or '-'} {a.part_number or '-'} (app {a.app_key}): "
                     f"fits {a.fits} vehicle(s){flag}")
        if a.lost:
            lines.append(f"      lost: {_ids(a.lost)}")
        if a.gained:
            lines.append(f"      gained: {_ids(a.gained)}")
    return "\n".join(lines)


def as_json(r: ReleaseImpact, brand: str | None = None) -> dict[str, Any]:
    return {"release": r.release_id, "db": r.db, "run_id": r.run_id, "kind": r.kind, "status": r.status,
            "publication": r.publication, "brand": brand, "totals": totals(r.apps), "message": no_impact(r, brand),
            "applications": [{"app_key": a.app_key, "brand": a.brand, "part_number": a.part_number,
                              "status": a.status.value, "lost": list(a.lost), "gained": list(a.gained),
                              "fits": a.fits, "lost_all": a.status == ImpactStatus.LOST_ALL} for a in r.apps]}


# ---- the command ---------------------------------------------------------------------------------

async def command(settings: Settings, release: int, *, brand: str | None = None, json_out: bool = False) -> int:
    found = await release_impact(settings, release, brand)
    if json_out:
        print_json(as_json(found, brand))
    else:
        print(render(found, brand))
    return exit_codes.OK
