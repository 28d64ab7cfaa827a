"""The simulator over real HTTP: `python -m simulator serve` in a subprocess, driven with httpx."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator import oracle
from simulator.config import DatasetConfig
from simulator.dataset import Dataset

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SEED, SCALE = 5, 0.01
ENV = {"AUTOCARE_CLIENT_ID": "sim-it-client", "AUTOCARE_CLIENT_SECRET": "sim-it-secret",
       "AUTOCARE_USERNAME": "sim-it@example.com", "AUTOCARE_PASSWORD": "sim-it-password"}
FORM = {"grant_type": "password", "client_id": ENV["AUTOCARE_CLIENT_ID"],
        "client_secret": ENV["AUTOCARE_CLIENT_SECRET"], "username": ENV["AUTOCARE_USERNAME"],
        "password": ENV["AUTOCARE_PASSWORD"], "scope": "CommonApis QDBApis PcadbApis VcdbApis offline_access"}
READY_TIMEOUT_S = 20.0


@dataclass
class Simulator:
    process: subprocess.Popen[bytes]
    url: str
    ready_after_s: float


def start(*args: str) -> Simulator:
    env = {**os.environ, **ENV}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "serve", "--port", "0", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    line = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = started + READY_TIMEOUT_S
        while not line.endswith(b"\n") and time.monotonic() < deadline and proc.poll() is None:
            if sel.select(timeout=0.2):
                chunk = os.read(proc.stdout.fileno(), 256)
                if not chunk:
                    break
                line += chunk
    text = line.decode().strip()
    if not text.startswith("SIMULATOR READY http://127.0.0.1:"):
        stop(proc)
        pytest.fail(f"the simulator did not say READY within {READY_TIMEOUT_S} s: {text!r}")
    return Simulator(proc, text.split()[2], time.monotonic() - started)


def stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)
    if proc.stdout is not None:
        proc.stdout.close()
    return proc.returncode


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    s = start("--scale", str(SCALE), "--seed", str(SEED), "--anomalies", "0.01", "--max-page-size", "500")
    try:
        yield s
    finally:
        stop(s.process)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset(DatasetConfig(seed=SEED, scale=SCALE, anomalies=0.01))


@pytest.fixture
def client(sim: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.url, timeout=10.0) as c:
        yield c


def token(client: httpx.Client, **overrides: str) -> str:
    r = client.post("/connect/token", data={**FORM, **overrides})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def auth(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def pages(client: httpx.Client, path: str, headers: dict[str, str], limit: int = 200) -> list[dict[str, Any]]:
    """Every record by following nextPageLink, at most `limit` pages."""
    out: list[dict[str, Any]] = []
    url: str | None = path
    for _ in range(limit):
        assert url is not None
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        out.extend(r.json())
        url = json.loads(r.headers["X-Pagination"])["nextPageLink"] or None
        if url is None:
            return out
    pytest.fail(f"more than {limit} pages for {path}")


def test_token_endpoint(client: httpx.Client) -> None:
    r = client.post("/connect/token", data=FORM)
    body = r.json()
    assert r.status_code == 200 and body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["access_token"] and body["refresh_token"]
    wrong_client = client.post("/connect/token", data={**FORM, "client_secret": "demo-client-secret"})
    assert wrong_client.status_code == 401 and wrong_client.json()["error"] == "invalid_client"
    wrong_user = client.post("/connect/token", data={**FORM, "password": "demo-password"})
    assert wrong_user.status_code == 400 and wrong_user.json()["error"] == "invalid_grant"
    grant = client.post("/connect/token", data={**FORM, "grant_type": "authorization_code"})
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    refreshed = client.post("/connect/token", data={
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"],
        "client_id": FORM["client_id"], "client_secret": FORM["client_secret"]})
    assert refreshed.status_code == 200
    assert client.get("/api/v2.0/vcdb/Make", headers=auth(refreshed.json()["access_token"])).status_code == 200


def test_401_403_404(client: httpx.Client) -> None:
    assert client.get("/api/v2.0/vcdb/Make").status_code == 401
    assert client.get("/api/v2.0/vcdb/Make", headers=auth("forged")).status_code == 401
    vcdb_only = token(client, scope="VcdbApis")
    assert client.get("/api/v1.0/pcdb/Parts", headers=auth(vcdb_only)).status_code == 403
    assert client.get("/api/v1.0/databases", headers=auth(vcdb_only)).status_code == 403
    good = auth(token(client))
    assert client.get("/api/v2.0/vcdb/NoSuchTable", headers=good).status_code == 404
    assert client.get("/api/v2.0/nodb/Make", headers=good).status_code == 404
    assert client.get("/api/v2.0/vcdb/Language", headers=good).status_code == 404  # in the DDL, not the API
    assert client.get("/api/latest/vcdb/Make", headers=good).status_code == 404


def test_catalog_endpoints(client: httpx.Client) -> None:
    headers = auth(token(client))
    names = [d["databaseName"] for d in client.get("/api/v1.0/databases", headers=headers).json()]
    assert names == ["VCdb", "PCdb", "PAdb", "Qdb"]
    tables = [t["TableName"] for t in client.get("/api/v1.0/databases/VCdb/tables", headers=headers).json()]
    assert "VehicleToEngineConfig" in tables and "Language" not in tables and len(tables) == 71
    padb = [t["TableName"] for t in client.get("/api/v1.0/databases/padb/tables", headers=headers).json()]
    assert "MetaUOMCodeAssignment" in padb


def test_paging_follows_next_links_to_every_record(client: httpx.Client, dataset: Dataset) -> None:
    headers = auth(token(client))
    r = client.get("/api/v2.0/vcdb/BaseVehicle", params={"PageSize": "100", "CultureId": "en-US"}, headers=headers)
    header = json.loads(r.headers["X-Pagination"])
    assert set(header) == {"totalCount", "pageSize", "currentPage", "totalPages", "previousPageLink", "nextPageLink"}
    total = header["totalCount"]
    assert header["totalPages"] == -(-total // 100) and header["currentPage"] == 1
    assert header["nextPageLink"].startswith(f"{client.base_url}/api/v2.0/vcdb/BaseVehicle?")
    assert "CultureId=en-US" in header["nextPageLink"]
    records = pages(client, "/api/v2.0/vcdb/BaseVehicle?PageSize=100&CultureId=en-US", headers)
    assert len(records) == total == len({r["BaseVehicleID"] for r in records})
    assert records[:5] == dataset.records("vcdb", "BaseVehicle", [0, 1, 2, 3, 4], 3)
    assert {r["BaseVehicleID"] for r in records} == set(
        k[0] for k in oracle.expected_keys(dataset, "vcdb", "BaseVehicle"))


def test_paths_and_parameters_are_case_insensitive(client: httpx.Client) -> None:
    headers = auth(token(client))
    canonical = client.get("/api/v2.0/vcdb/SubModel?PageSize=3&PageNumber=2", headers=headers)
    for path in ("/api/v2/VCDB/submodel?pagesize=3&pagenumber=2", "/api/V2.0/vcdb/SUBMODEL?PAGESIZE=3&PageNumber=2"):
        r = client.get(path, headers=headers)
        assert r.status_code == 200 and r.json() == canonical.json()
    assert "SubModelID" in canonical.json()[0]
    pies = client.get("/api/v1.0/pcdb/PIESEXPICode?PageSize=1", headers=headers)
    assert pies.status_code == 200 and "EXPICodeID" in pies.json()[0]


def test_page_size_limit_bad_dates_and_pages_beyond_the_end(client: httpx.Client) -> None:
    headers = auth(token(client))
    assert client.get("/api/v2.0/vcdb/Make?PageSize=501", headers=headers).status_code == 400
    assert client.get("/api/v2.0/vcdb/Make?PageSize=500", headers=headers).status_code == 200
    assert client.get("/api/v2.0/vcdb/Make?AsOfDate=31/01/2026", headers=headers).status_code == 400
    assert client.get("/api/v2.0/vcdb/Make?SinceDate=yesterday", headers=headers).status_code == 400
    beyond = client.get("/api/v2.0/vcdb/Make?PageSize=2&PageNumber=999", headers=headers)
    assert beyond.status_code == 200 and beyond.json() == []
    header = json.loads(beyond.headers["X-Pagination"])
    assert header["currentPage"] == 999 and header["nextPageLink"] == "" and header["totalCount"] > 0
    one = client.get("/api/v2.0/vcdb/Vehicle?PageSize=1", headers=headers)  # sandpim reads counts this way
    assert len(one.json()) == 1 and json.loads(one.headers["X-Pagination"])["totalCount"] > 1000


def test_as_of_and_since_dates(client: httpx.Client, dataset: Dataset) -> None:
    headers = auth(token(client))
    name = "VehicleToEngineConfig"

    def total(**params: str) -> int:
        r = client.get(f"/api/v2.0/vcdb/{name}", params={"PageSize": "1", **params}, headers=headers)
        assert r.status_code == 200
        return int(json.loads(r.headers["X-Pagination"])["totalCount"])

    for day in ("2026-01-31", "2026-02-28", "2026-03-31"):
        view, _ = dataset.view("vcdb", name, now=3, as_of=dt.date.fromisoformat(day))
        assert total(AsOfDate=day) == len(view)
    assert total(AsOfDate="2025-12-31") == 0
    assert total() == total(AsOfDate="2026-03-31")
    since = pages(client, f"/api/v2.0/vcdb/{name}?SinceDate=2026-02-28&PageSize=500", headers)
    view, _ = dataset.view("vcdb", name, now=3, since=dt.date(2026, 2, 28))
    assert since == dataset.records("vcdb", name, list(view), 3)
    assert any(r["EndDateTime"] for r in since) and any(r["EndDateTime"] is None for r in since)
    assert total(SinceDate="2026-03-31") == 0


def test_release_can_be_moved(client: httpx.Client, dataset: Dataset) -> None:
    headers = auth(token(client))
    try:
        assert client.post("/_sim/release", json={"release": 1}).json()["date"] == "2026-01-31"
        r = client.get("/api/v2.0/vcdb/Make?PageSize=1", headers=headers)
        assert json.loads(r.headers["X-Pagination"])["totalCount"] == dataset.rows("vcdb", "Make").count(1)
        since = client.get("/api/v2.0/vcdb/Make?SinceDate=2026-01-31", headers=headers)
        assert since.json() == [], "nothing changed after the current release"
        assert client.post("/_sim/release", json={"release": 4}).status_code == 400
    finally:
        client.post("/_sim/release", json={"release": 3})


def test_faults_can_be_switched_at_run_time(client: httpx.Client) -> None:
    headers = auth(token(client))
    profile = {"rules": [
        {"kind": "status", "status": 429, "table": "Class", "retry_after": "7", "max_count": 1},
        {"kind": "fail_for_good", "table": "DriveType", "pages": [1]},
        {"kind": "duplicate", "table": "Model"},
        {"kind": "foreign_host", "table": "Region", "host": "http://elsewhere.invalid"},
    ]}
    try:
        assert client.post("/_sim/faults", json=profile).status_code == 200
        throttled = client.get("/api/v2.0/vcdb/Class", headers=headers)
        assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
        assert client.get("/api/v2.0/vcdb/Class", headers=headers).status_code == 200
        for _ in range(3):
            assert client.get("/api/v2.0/vcdb/DriveType", headers=headers).status_code == 500
        page1 = client.get("/api/v2.0/vcdb/Model?PageSize=10", headers=headers).json()
        page2 = client.get("/api/v2.0/vcdb/Model?PageSize=10&PageNumber=2", headers=headers)
        assert page2.json()[0] == page1[-1] and len(page2.json()) == 11
        region = client.get("/api/v2.0/vcdb/Region?PageSize=1", headers=headers)
        assert json.loads(region.headers["X-Pagination"])["nextPageLink"].startswith("http://elsewhere.invalid/")
        stats = client.get("/_sim/stats").json()
        assert stats["faults"]["fail_for_good"] >= 3 and stats["faults"]["throttle"] == 1
        assert client.post("/_sim/faults", json={"rules": [{"kind": "nonsense"}]}).status_code == 400
    finally:
        client.post("/_sim/faults", json={})
    assert client.get("/api/v2.0/vcdb/DriveType", headers=headers).status_code == 200


def test_short_lived_tokens_and_token_outage(client: httpx.Client) -> None:
    try:
        client.post("/_sim/faults", json={"token": {"expires_in": 1, "outage": {"requests": 1, "after_requests": 1}}})
        r = client.post("/connect/token", data=FORM)
        assert r.json()["expires_in"] == 1
        assert client.post("/connect/token", data=FORM).status_code == 503
        headers = auth(r.json()["access_token"])
        assert client.get("/api/v2.0/vcdb/Year", headers=headers).status_code == 200
        time.sleep(1.2)
        assert client.get("/api/v2.0/vcdb/Year", headers=headers).status_code == 401
    finally:
        client.post("/_sim/faults", json={})


def test_connection_reset_and_truncated_body(client: httpx.Client) -> None:
    headers = auth(token(client))
    profile = {"rules": [{"kind": "reset", "table": "Aspiration", "max_count": 1},
                         {"kind": "truncate", "table": "Valves", "max_count": 1},
                         {"kind": "malformed_json", "table": "FuelType", "max_count": 1}]}
    try:
        client.post("/_sim/faults", json=profile)
        with pytest.raises(httpx.TransportError):
            client.get("/api/v2.0/vcdb/Aspiration", headers=headers)
        with pytest.raises(httpx.TransportError):
            client.get("/api/v2.0/vcdb/Valves", headers=headers)
        malformed = client.get("/api/v2.0/vcdb/FuelType", headers=headers)
        with pytest.raises(json.JSONDecodeError):
            json.loads(malformed.content)
        assert client.get("/api/v2.0/vcdb/Aspiration", headers=headers).status_code == 200
    finally:
        client.post("/_sim/faults", json={})


def test_stats_count_pages(client: httpx.Client) -> None:
    headers = auth(token(client))
    before = client.get("/_sim/stats").json()
    client.get("/api/v2.0/qdb/QualifierType", headers=headers)
    after = client.get("/_sim/stats").json()
    assert after["pages"].get("qdb/QualifierType", 0) == before["pages"].get("qdb/QualifierType", 0) + 1
    assert after["pages_served"]["QualifierType"] == before["pages_served"].get("QualifierType", 0) + 1
    assert after["requests"]["records"] > before["requests"]["records"]


def test_oracle_endpoint(client: httpx.Client, dataset: Dataset) -> None:
    rows = client.get("/_sim/oracle/vcdb/Make?asof=2026-01-31").json()
    assert [r["make_id"] for r in rows] == [k[0] for k in oracle.expected_keys(dataset, "vcdb", "Make", 1)]


def test_serve_starts_fast_and_stops_cleanly_on_sigterm() -> None:
    s = start("--scale", "1.0")
    try:
        assert s.ready_after_s < 10
        with httpx.Client(base_url=s.url, timeout=30.0) as c:
            headers = auth(token(c))
            r = c.get("/api/v2.0/vcdb/VehicleToEngineConfig?PageSize=1000&PageNumber=100", headers=headers)
            assert r.status_code == 200 and len(r.json()) == 1000
    finally:
        assert stop(s.process) == 0


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"rules": [{"kind": "explode"}]}')
    for args in (["--faults", str(bad)], ["--release", "9"], ["--release-dates", "2026-02-01,2026-01-01"]):
        done = subprocess.run([sys.executable, "-m", "simulator", "serve", "--port", "0", *args], cwd=ROOT,
                              capture_output=True, timeout=30, check=False)
        assert done.returncode == 2 and b"simulator:" in done.stderr
