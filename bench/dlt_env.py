"""dlt for the comparison: its own venv (never a dependency of ours) and the job handed to
bench/dlt_load.py.

The venv lives at .vcdb/bench/dlt-venv and is made on first use (`python3 -m venv`, then
`pip install "dlt[postgres]"` through the configured package index).  The job is built here, in
the bench's process, from our catalog: every API table of the baseline (not the default skips),
the first-page URL our producer sends, and the API field names of each table's key.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bench.ceiling import password_grant
from producers.api.client import ClientConfig
from producers.service import select_tables
from schemas.catalog import load_catalog
from schemas.settings import Settings

SCRIPT = Path(__file__).with_name("dlt_load.py")
INSTALL_TIMEOUT_S = 900.0


class DltUnavailable(RuntimeError):
    """dlt could not be installed into its venv; the message says what pip said."""


def ensure_venv(workdir: Path) -> Path:
    """The python of the dlt venv, made (once) if missing."""
    venv = workdir.absolute() / "dlt-venv"  # absolute, not resolved: bin/python is a symlink to keep
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if stamp.exists() and python.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"bench: installing dlt[postgres] into {venv} (first use)", file=sys.stderr, flush=True)
    base = shutil.which("python3") or sys.executable
    try:
        subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=120, capture_output=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "dlt[postgres]"], check=True,
                       timeout=INSTALL_TIMEOUT_S, capture_output=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        said = getattr(e, "stderr", b"") or b""
        raise DltUnavailable(f"could not install dlt into {venv}: {e}\n{said.decode(errors='replace')[-2000:]}") \
            from e
    stamp.touch()
    return python


def job(settings: Settings, dsn: str, workdir: Path) -> dict[str, Any]:
    """What dlt_load.py is asked to do: our baseline's endpoints, page size and keys."""
    catalog = load_catalog("vcdb")
    config = ClientConfig.from_settings(settings)
    tables = []
    for t in select_tables(catalog, None, ()):
        assert t.api_table is not None
        first = urlsplit(config.page_request("vcdb", t.api_table).url_for_page(1))
        tables.append({"name": t.canonical, "path": first.path, "params": dict(parse_qsl(first.query)),
                       "primary_key": [t.column(k).api_field for k in t.key]})
    pipelines = workdir / "dlt-pipelines"
    shutil.rmtree(pipelines, ignore_errors=True)  # no state from an earlier run: a fresh baseline
    return {
        "token_url": settings.autocare_token_url,
        "form": password_grant(settings),
        "base_url": settings.base_url("vcdb"),
        "dsn": for_dlt(dsn),
        "dataset": catalog.schema,
        "pipelines_dir": str(pipelines.resolve()),
        "tables": tables,
    }


def for_dlt(dsn: str) -> str:
    """dlt insists on a password and a host.  A trust-authenticated server ignores the password
    given; a server on a Unix socket (the embedded one: `@/db?host=/folder`) gets host `localhost`
    in the URL, which libpq overrides with the `host` of the query."""
    parts = urlsplit(dsn)
    if "@" not in parts.netloc:
        return dsn
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return parts._replace(netloc=f"{user}:{password or 'unused'}@{host or 'localhost'}").geturl()


def env(concurrency: int) -> dict[str, str]:
    """The environment of the dlt process: no telemetry (no internet here), the producer's
    concurrency for dlt's extract pool."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "AUTOCARE_", "KAFKA_"))}
    return {**keep, "RUNTIME__DLTHUB_TELEMETRY": "false", "EXTRACT__WORKERS": str(concurrency)}
