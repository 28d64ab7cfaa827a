"""The dlt side of `make bench`: the same AutoCare API into the same PostgreSQL server, the dlt way.

Run by the bench's own venv for dlt (.vcdb/bench/dlt-venv), never by the project's: it imports
dlt and the standard library only, nothing of ours.  The bench hands it, as JSON on stdin, the
token URL and grant form, the API base URL, the PostgreSQL DSN and one entry per table: the
resource name, the path and query parameters of its first page (the producer's own), and the API
field names of its primary key.

Each table is a plain rest_api resource: bearer auth with a token fetched once, a paginator that
follows the `nextPageLink` of the `X-Pagination` header, `write_disposition="merge"` on the
table's key.  Resources are `parallelized` (dlt's thread pool, `EXTRACT__WORKERS`, set by the
bench to the producer's concurrency), so dlt pages several endpoints at once as our producer does.
Prints one JSON object: rows per table and the time of each dlt step.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import dlt
import requests
from dlt.sources.helpers.rest_client.paginators import BaseNextUrlPaginator
from dlt.sources.rest_api import rest_api_source


class XPaginationPaginator(BaseNextUrlPaginator):
    """The next page is the absolute `nextPageLink` of the JSON `X-Pagination` header; none when
    it is empty or the page had no records."""

    def update_state(self, response: Any, data: list[Any] | None = None) -> None:
        header = response.headers.get("X-Pagination") or "{}"
        link = json.loads(header).get("nextPageLink") or None
        self._next_reference = link if data else None


def token(token_url: str, form: dict[str, str]) -> str:
    r = requests.post(token_url, data=form, timeout=60)
    r.raise_for_status()
    return str(r.json()["access_token"])


def source(cfg: dict[str, Any], bearer: str) -> Any:
    resources = [
        {
            "name": t["name"],
            "primary_key": t["primary_key"],
            "write_disposition": "merge",
            "parallelized": cfg.get("parallelized", True),
            "endpoint": {"path": t["path"], "params": t["params"], "data_selector": "$",
                         "paginator": XPaginationPaginator()},
        }
        for t in cfg["tables"]
    ]
    return rest_api_source({
        "client": {"base_url": cfg["base_url"], "auth": {"type": "bearer", "token": bearer}},
        "resources": resources,
    }, name="autocare_vcdb")


def main() -> int:
    cfg = json.load(sys.stdin)
    t0 = time.perf_counter()
    bearer = token(cfg["token_url"], cfg["form"])
    pipeline = dlt.pipeline(pipeline_name="vcdb_bench", pipelines_dir=cfg["pipelines_dir"],
                            destination=dlt.destinations.postgres(credentials=cfg["dsn"]),
                            dataset_name=cfg["dataset"])
    steps: dict[str, float] = {}
    t = time.perf_counter()
    pipeline.extract(source(cfg, bearer))
    steps["extract_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pipeline.normalize()
    steps["normalize_s"] = time.perf_counter() - t
    rows = dict(pipeline.last_trace.last_normalize_info.row_counts)
    t = time.perf_counter()
    info = pipeline.load()
    steps["load_s"] = time.perf_counter() - t
    info.raise_on_failed_jobs()
    data_rows = {k: v for k, v in rows.items() if not k.startswith("_dlt")}
    print(json.dumps({"rows": sum(data_rows.values()), "tables": len(data_rows), "rows_per_table": data_rows,
                      "seconds": time.perf_counter() - t0, **steps, "dlt_version": dlt.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
