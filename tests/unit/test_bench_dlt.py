"""The URL `make bench` gives dlt: a password always, and a host even for a Unix-socket server."""

from __future__ import annotations

import pytest

from bench.dlt_env import for_dlt


@pytest.mark.parametrize(("ours", "dlts"), [
    # the embedded server: a socket folder in the query, no host, an empty password
    ("postgresql://postgres:@/postgres?host=/x/pgdata", "postgresql://postgres:unused@localhost/postgres?host=/x/pgdata"),
    ("postgresql://postgres@127.0.0.1:5432/db", "postgresql://postgres:unused@127.0.0.1:5432/db"),
    ("postgresql://u:pw@h:5/db", "postgresql://u:pw@h:5/db"),
])
def test_dlt_gets_a_password_and_a_host(ours: str, dlts: str) -> None:
    assert for_dlt(ours) == dlts
