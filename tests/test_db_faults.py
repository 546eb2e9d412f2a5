"""The web tier under database faults, for real: gunicorn with production settings (the
psycopg pool on) against the tests' private PostgreSQL cluster (tests/pg_cluster.py),
which is stopped, started, stripped of its backends or made read-only under it.

Every request has a bounded client timeout (``Browser``), so a hang fails fast."""

from __future__ import annotations

import json
import time

import psycopg
import pytest

from tests.conftest import Server
from tests.production_helpers import Browser, forget_used_codes_in, production_env

SUFFOLK = "suffolk.localhost"


def start_server(private_pg, **extra: str) -> Server:
    """One gunicorn worker (every request uses the same pool), production settings, on the
    private cluster; HTTPS redirect off (tests/test_early_response_headers.py covers it)."""
    forget_used_codes_in(private_pg.url())
    return Server(production_env(**private_pg.env(), SECURE_SSL_REDIRECT="false", **extra), workers=1)


@pytest.fixture
def prod_server(private_pg):
    server = start_server(private_pg)
    yield server
    server.stop()
    private_pg.start()
    forget_used_codes_in(private_pg.url())


def backends(private_pg) -> int:
    with psycopg.connect(private_pg.url("postgres"), autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'concord'").fetchone()[0]


def wait_for(check, *, within: float) -> float:
    """Seconds until ``check()`` is true; fails after ``within`` seconds."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, f"not within {within} s"
        time.sleep(0.2)
    return time.monotonic() - started


def test_while_the_database_is_down_healthz_and_pages_answer_503_fast_then_recover(private_pg, prod_server):
    alice = Browser(prod_server, SUFFOLK)
    alice.sign_in("alice@suffolk.test")
    assert alice.get("/")[0] == 200
    probe = Browser(prod_server, "anything.example")
    assert probe.get("/healthz")[0] == 200

    private_pg.stop()
    for _ in range(3):  # every probe, not only the first, answers within 2 s
        status, headers, body, took = probe.get("/healthz")
        assert status == 503 and took < 2, (status, took)
        assert json.loads(body) == {"status": "unavailable", "database": "unreachable"}

    status, headers, body, took = alice.get("/")
    assert status == 503 and took < 5, (status, took)
    assert b"Concord is unavailable, try again in a minute" in body
    assert headers["retry-after"] == "60"
    assert headers["content-security-policy"] and "no-store" in headers["cache-control"]

    status, headers, body, took = alice.get("/api/v1/me/")
    assert status == 503 and took < 5, (status, took)
    assert json.loads(body) == {
        "error": {"status": 503, "code": "unavailable", "message": "Concord is unavailable, try again in a minute."}
    }

    private_pg.start()  # the same gunicorn, not restarted
    wait_for(lambda: alice.get("/")[0] == 200, within=10)
    status, _, body, _ = alice.get("/api/v1/me/")
    assert status == 200 and json.loads(body)["email"] == "alice@suffolk.test"  # still signed in
    assert probe.get("/healthz")[0] == 200


def test_after_the_backends_are_terminated_the_next_requests_answer_at_once(private_pg):
    """Ten pooled connections, all killed by pg_terminate_backend with the database up:
    the pool used to reject them one by one with a doubling wait (about 30 s)."""
    server = start_server(private_pg, DATABASE_POOL_MIN="10", DATABASE_POOL_MAX="10")
    try:
        alice = Browser(server, SUFFOLK)
        alice.sign_in("alice@suffolk.test")
        wait_for(lambda: backends(private_pg) >= 10, within=10)  # the pool has opened its ten
        assert private_pg.terminate_backends() >= 10
        for _ in range(5):
            status, _, _, took = alice.get("/")
            assert status == 200 and took < 2, (status, took)
        assert Browser(server, "anything.example").get("/healthz")[0] == 200
    finally:
        server.stop()
        forget_used_codes_in(private_pg.url())
