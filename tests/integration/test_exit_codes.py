"""Every documented exit code, across the command families, from `python -m vcdb` as a process:
PostgreSQL, the broker or the API unreachable 5, bad arguments and settings 2, the lock 3, a
signal 4, and a run doomed by its credentials or scope 1 with its error said once.  Commands
that need nothing of each other run at the same time; every process has a deadline."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ledger.locks import ProducerLock
from tests.integration.pipeline import cli_env, execute, fetch
from tests.support import write_aces_file
from vcdb import exit_codes, services
from vcdb.services import Service

DEADLINE_S = 60.0


def _closed() -> str:
    return f"127.0.0.1:{services.free_port()}"  # nothing listens: a service that is down


def _all(env: dict[str, str], commands: Sequence[Sequence[str]]) -> list[subprocess.CompletedProcess[str]]:
    """Run the commands at the same time; each within the deadline."""
    procs = [subprocess.Popen([sys.executable, "-m", "vcdb", *c], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for c in commands]
    done = []
    for cmd, p in zip(commands, procs, strict=True):
        try:
            out, err = p.communicate(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
                q.communicate()
            raise AssertionError(f"vcdb {' '.join(cmd)} did not end within {DEADLINE_S:.0f} s") from None
        done.append(subprocess.CompletedProcess(list(cmd), p.returncode, out, err))
    return done


def _said_once(result: subprocess.CompletedProcess[str], command: str, *words: str) -> None:
    """Our one line on stderr, no traceback."""
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"vcdb {command}: "), result.stderr[-2000:]
    for w in words:
        assert w in last, (w, last)


def test_postgresql_down_gives_5_for_every_command_family(kafka: str, tmp_path: Path) -> None:
    aces = write_aces_file(tmp_path / "a.xml", 3)
    env = cli_env(f"postgresql://postgres@{_closed()}/postgres", kafka, f"http://{_closed()}")
    # (Two machine cores: a dozen interpreters starting at once take as long as one after the other.)
    commands = [["baseline"], ["incremental", "--since", "auto"], ["consume", "--until-idle", "--workers", "1"],
                ["dlq", "list"], ["verify"], ["status"], ["diff", "--from", "1", "--to", "2"],
                ["aces", "load", str(aces)], ["fitment", "parts", "--vehicle", "1"],
                ["aces", "impact", "--release", "1"]]
    for cmd, r in zip(commands, _all(env, commands), strict=True):
        assert r.returncode == exit_codes.UNAVAILABLE, (cmd, r.returncode, r.stderr[-2000:])
        name = " ".join(cmd[:2]) if cmd[0] in ("dlq", "aces", "fitment") else cmd[0]
        _said_once(r, name, "cannot connect to PostgreSQL")
        assert r.stderr.count("\n") == 1, (cmd, r.stderr)


def test_the_broker_down_gives_5(database_url: str) -> None:
    env = cli_env(database_url, _closed(), f"http://{_closed()}")
    commands = [["baseline"], ["consume", "--until-idle", "--workers", "1", "--assign"]]
    for cmd, r in zip(commands, _all(env, commands), strict=True):
        assert r.returncode == exit_codes.UNAVAILABLE, (cmd, r.stderr[-2000:])
        _said_once(r, cmd[0], "cannot create topics")
    run = asyncio.run(fetch(database_url, "SELECT status, error FROM ingest.runs"))
    assert [r["status"] for r in run] == ["failed"] and "cannot create topics" in run[0]["error"]


def test_the_api_unreachable_gives_5_with_one_message(database_url: str, kafka: str) -> None:
    env = cli_env(database_url, kafka, f"http://{_closed()}")
    (r,) = _all(env, [["baseline"]])
    assert r.returncode == exit_codes.UNAVAILABLE, r.stderr[-2000:]
    _said_once(r, "baseline", "the API cannot be reached", "token endpoint unreachable")
    assert sum("token endpoint unreachable" in line for line in r.stderr.splitlines()) == 1, r.stderr
    run = asyncio.run(fetch(database_url, "SELECT status, error FROM ingest.runs"))
    assert run[0]["status"] == "failed" and "RetriesExhausted" in run[0]["error"]


def test_bad_arguments_and_settings_give_2() -> None:
    env = cli_env(f"postgresql://postgres@{_closed()}/postgres", _closed(), f"http://{_closed()}")
    commands = [["baseline", "--bogus"], ["fitment", "parts", "--vehicle", "x"], ["reset"],
                ["aces", "impact", "--release", "x"], ["aces", "impact"],
                ["aces", "load", "/nonexistent/file.xml"], ["baseline", "--tables", "NoSuchTable"]]
    for cmd, r in zip(commands, _all(env, commands), strict=True):
        assert r.returncode == exit_codes.USAGE, (cmd, r.returncode, r.stderr[-2000:])
        assert "Traceback" not in r.stderr
    (bad,) = _all({**env, "KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, [["status"]])
    assert bad.returncode == exit_codes.USAGE and "needs KAFKA_SASL_USERNAME" in bad.stderr, bad.stderr


def test_aces_impact_gives_2_for_a_release_it_cannot_answer_and_0_otherwise(database_url: str) -> None:
    # Release 1: the VCdb baseline (in place); 2: a VCdb incremental with one impacted application;
    # 3: a PCdb baseline; 4: a VCdb incremental that changed no fitment.
    asyncio.run(execute(database_url, """
INSERT INTO ingest.runs (run_id, db, kind, status, publication) VALUES (1, 'vcdb', 'baseline', 'succeeded', 'in_place'),
  (2, 'vcdb', 'incremental', 'succeeded', 'staged'), (3, 'pcdb', 'baseline', 'succeeded', 'in_place'),
  (4, 'vcdb', 'incremental', 'succeeded', 'staged');
INSERT INTO ingest.releases (db, run_id, status, publication, published_at) VALUES
  ('vcdb', 1, 'published', 'in_place', now()), ('vcdb', 2, 'published', 'staged', now()),
  ('pcdb', 3, 'published', 'in_place', now()), ('vcdb', 4, 'published', 'staged', now());
INSERT INTO ingest.fitment_impact (run_id, app_key, brand_aaia_id, part_number, status, lost, gained, fits)
VALUES (2, 'k1', 'IMPB', 'P-1', 'lost_all', '{101,102}', '{}', 0);"""))
    env = cli_env(database_url, _closed(), f"http://{_closed()}")
    commands = [["aces", "impact", "--release", "99"], ["aces", "impact", "--release", str(2**64)],
                ["aces", "impact", "--release", "3"], ["aces", "impact", "--release", "2"],
                ["aces", "impact", "--release", "4"], ["aces", "impact", "--release", "1"],
                ["aces", "impact", "--release", "2", "--brand", "ZZZZ"]]
    unknown, huge, pcdb, listed, none, in_place, other_brand = _all(env, commands)
    for r, words in ((unknown, ("no release 99",)), (huge, (f"no release {2**64}",)),
                     (pcdb, ("release 3 is a PCDB release", "only a VCdb release"))):
        assert r.returncode == exit_codes.USAGE, (r.args, r.stderr[-2000:])
        _said_once(r, "aces impact", *words)
    for r in (listed, none, in_place, other_brand):
        assert r.returncode == exit_codes.OK, (r.args, r.stderr[-2000:])
    assert "1 lost_all" in listed.stdout and "IMPB P-1" in listed.stdout and "LOST ALL" in listed.stdout
    assert none.stdout.strip() == "release 4 (VCdb incremental, run 4) changed no fitment"
    assert "loaded in place: its fitment impact is not recorded" in in_place.stdout
    assert other_brand.stdout.strip().endswith("changed no fitment of brand ZZZZ")


def test_the_lock_gives_3(database_url: str, kafka: str) -> None:
    async def held() -> list[subprocess.CompletedProcess[str]]:
        lock = ProducerLock(database_url, "vcdb")
        await lock.acquire()
        try:
            env = cli_env(database_url, kafka, f"http://{_closed()}")
            return await asyncio.to_thread(_all, env, [["baseline"], ["incremental", "--since", "2026-01-01"]])
        finally:
            await lock.release()

    for r in asyncio.run(held()):
        assert r.returncode == exit_codes.LOCKED, r.stderr[-2000:]
        _said_once(r, r.args[0], "refused: another producer run holds the vcdb lock")


def test_sigterm_to_a_baseline_against_a_slow_api_gives_4_at_once(
        database_url: str, kafka: str, start_simulator: Callable[..., Service], tmp_path: Path) -> None:
    faults = tmp_path / "slow.json"
    faults.write_text(json.dumps({"seed": 1, "rules": [{"kind": "slow", "delay_s": 8}]}))
    sim = start_simulator("--scale", "0.002", "--faults", str(faults))
    proc = subprocess.Popen([sys.executable, "-m", "vcdb", "baseline", "--json"],
                            env=cli_env(database_url, kafka, sim.url), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            rows = asyncio.run(fetch(database_url, "SELECT count(*) AS n FROM ingest.endpoint_progress "
                                                   "WHERE status = 'running'"))
            if rows[0]["n"]:
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        time.sleep(0.5)  # the endpoints wait for their first page, 8 s away
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
        stopped = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        sim.stop(timeout=0.5)  # its slow handlers would hold a graceful stop for seconds
    assert proc.returncode == exit_codes.INTERRUPTED, err[-2000:]
    assert stopped < 4, f"the stop waited {stopped:.1f} s, as if for a page on its way"
    assert json.loads(out)["status"] == "interrupted"
    assert asyncio.run(fetch(database_url, "SELECT status FROM ingest.runs"))[0]["status"] == "interrupted"


def test_refused_credentials_or_scope_stop_the_run_with_one_message_and_exit_1(
        database_url: str, kafka: str, start_simulator: Callable[..., Service]) -> None:
    sim = start_simulator("--scale", "0.002")
    cases = [({"AUTOCARE_PASSWORD": "not-the-password"}, "username or password rejected"),
             ({"AUTOCARE_CLIENT_SECRET": "not-the-secret"}, "client rejected"),
             ({"AUTOCARE_SCOPE": "CommonApis"}, "scope does not include VcdbApis")]
    for extra, said in cases:
        (r,) = _all(cli_env(database_url, kafka, sim.url, **extra), [["baseline", "--concurrency", "8"]])
        assert r.returncode == exit_codes.FAILED, (extra, r.stderr[-2000:])
        _said_once(r, "baseline", said)
        assert sum(said in line for line in r.stderr.splitlines()) == 1, r.stderr
    runs = asyncio.run(fetch(database_url, "SELECT status, error FROM ingest.runs ORDER BY run_id"))
    assert [r["status"] for r in runs] == ["failed"] * 3
    assert [said in r["error"] for r, (_, said) in zip(runs, cases, strict=True)] == [True] * 3
    # Only the endpoints under way when the error came were started (--concurrency 8), not the 70.
    started = asyncio.run(fetch(database_url, "SELECT run_id, count(*) AS n FROM ingest.endpoint_progress "
                                              "WHERE status <> 'pending' GROUP BY 1"))
    assert all(r["n"] <= 8 for r in started), started
