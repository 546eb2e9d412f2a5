"""The web tier under database faults, for real: gunicorn with production settings (the
psycopg pool on) against the tests' private PostgreSQL cluster (tests/pg_cluster.py),
which is stopped, started, stripped of its backends or made read-only under it.

Every request has a bounded client timeout (``Browser``), so a hang fails fast."""

from __future__ import annotations

import datetime as dt
import json
import time

import psycopg
import pytest

from tests.conftest import Server
from tests.production_helpers import Browser, age_session, casework_in, forget_used_codes_in, production_env

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


def session_key(browser: Browser) -> str:
    return next(value for name, value in browser.cookies.items() if name.endswith("concord_session"))


def audit_rows(private_pg, action: str, object_id: int) -> int:
    with psycopg.connect(private_pg.url(), autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM suffolk.audit_auditevent WHERE action = %s AND object_id = %s",
            [action, str(object_id)],
        ).fetchone()[0]


def count(private_pg, sql: str) -> int:
    with psycopg.connect(private_pg.url(), autocommit=True) as conn:
        return conn.execute(sql).fetchone()[0]


def test_a_read_only_database_keeps_reads_working_and_refuses_writes_clearly(private_pg, tmp_path):
    env = production_env(**private_pg.env(), SECURE_SSL_REDIRECT="false", AUDIT_SPOOL_DIR=str(tmp_path))
    ids = casework_in(env)
    server = start_server(private_pg, AUDIT_SPOOL_DIR=str(tmp_path))
    try:
        bob = Browser(server, SUFFOLK)
        bob.sign_in("bob@suffolk.test")
        viewed_before = audit_rows(private_pg, "case.viewed", ids["case"])
        profiles_before = count(private_pg, "SELECT count(*) FROM suffolk.casework_profile")
        age_session(env, session_key(bob), seconds=120)  # this request's session refresh is a write

        with private_pg.read_only():
            for path in [
                "/",
                f"/profiles/{ids['profile']}/",
                f"/cases/{ids['case']}/",
                f"/api/v1/cases/{ids['case']}/",
            ]:
                status, _, body, took = bob.get(path)
                assert status == 200 and took < 3, (path, status, took, body[:500])
            assert b"Read-only check" in body

            bob.get("/profiles/new/")
            status, _, body, _ = bob.request("POST", "/profiles/new/", {
                "csrfmiddlewaretoken": bob.last_csrf, "kind": "person", "first_name": "Nadia",
                "last_name": "Readonly", "date_of_birth_day": "1", "date_of_birth_month": "2",
                "date_of_birth_year": "1990", "gender": "not_known", "owning_team": str(ids["team"]),
            })  # fmt: skip
            assert status == 503, (status, body[:800])
            assert b"changes can&#x27;t be saved right now" in body or b"changes can't be saved right now" in body

            status, _, body, _ = bob.request(
                "POST",
                "/api/v1/profiles/",
                json_body=json.dumps(
                    {"kind": "person", "first_name": "Nadia", "last_name": "Readonly", "date_of_birth": "1990-02-01"}
                ),
            )
            assert status == 503, (status, body[:800])
            assert json.loads(body)["error"]["code"] == "read_only"
            assert "changes can't be saved right now" in json.loads(body)["error"]["message"]

        assert count(private_pg, "SELECT count(*) FROM suffolk.casework_profile") == profiles_before  # nothing saved
        assert list(tmp_path.iterdir()), "the refused audit events wait in the spool"
        assert audit_rows(private_pg, "case.viewed", ids["case"]) == viewed_before

        # Writable again: the next successful audit write replays the spool, in order.
        assert bob.get(f"/cases/{ids['case']}/")[0] == 200
        assert audit_rows(private_pg, "case.viewed", ids["case"]) == viewed_before + 3  # page, API, this one
        assert audit_rows(private_pg, "profile.viewed", ids["profile"]) >= 1
        assert list(tmp_path.iterdir()) == []
    finally:
        server.stop()
        forget_used_codes_in(private_pg.url())


# --- The audit spool, in process --------------------------------------------------------


def _spool(schema: str, action: str, **fields):
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from tenant_apps.audit import spool
    from tenant_apps.audit.models import AuditEvent

    with schema_context(schema):
        event = AuditEvent(action=action, occurred_at=fields.pop("occurred_at", timezone.now()), **fields)
        spool.spool_event(event)
        return event


MINE = {"action__endswith": ".viewed", "occurred_at__lt": dt.datetime(2001, 2, 4, tzinfo=dt.UTC)}


def test_the_spool_replays_each_event_into_its_own_schema_in_order_once(db, settings, tmp_path):
    import stat

    from django_tenants.utils import schema_context

    from tenant_apps.accounts.models import User
    from tenant_apps.audit import spool
    from tenant_apps.audit.models import AuditEvent

    settings.AUDIT_SPOOL_DIR = str(tmp_path / "spool")
    with schema_context("suffolk"):
        bob = User.objects.get(email="bob@suffolk.test")
    t0 = dt.datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC)  # a moment no other test's event has
    _spool("suffolk", "case.viewed", occurred_at=t0 + dt.timedelta(seconds=2), actor_id=bob.pk,
           actor_label=bob.email, object_type="case", object_id="7", ip_address="192.0.2.1")  # fmt: skip
    _spool("norfolk", "profile.viewed", occurred_at=t0 + dt.timedelta(seconds=1), object_type="profile",
           object_id="9", changes={"when": [None, "2026-01-01"]})  # fmt: skip
    _spool("suffolk", "profile.viewed", occurred_at=t0, object_type="profile", object_id="3")
    (path,) = (tmp_path / "spool").iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "spool").stat().st_mode) == 0o700
    copy = path.read_bytes()

    assert spool.replay_spool() == 3
    assert list((tmp_path / "spool").iterdir()) == []
    with schema_context("suffolk"):
        rows = list(AuditEvent.objects.filter(occurred_at__gte=t0, **MINE).order_by("id").values_list(
            "action", "object_id", "occurred_at", "actor_id", "ip_address"))  # fmt: skip
        assert rows == [
            ("profile.viewed", "3", t0, None, None),  # in the order they happened, to the microsecond
            ("case.viewed", "7", t0 + dt.timedelta(seconds=2), bob.pk, "192.0.2.1"),
        ]
    with schema_context("norfolk"):  # Norfolk's event in Norfolk, never in Suffolk
        assert list(AuditEvent.objects.filter(occurred_at__gte=t0, **MINE).values_list("action", "changes")) == [
            ("profile.viewed", {"when": [None, "2026-01-01"]})
        ]

    # A replay interrupted after its commit (the file came back): nothing is inserted twice.
    path.write_bytes(copy)
    assert spool.replay_spool() == 0
    assert list((tmp_path / "spool").iterdir()) == []
    with schema_context("suffolk"):
        assert AuditEvent.objects.filter(occurred_at__gte=t0, **MINE).count() == 2


def test_an_unreadable_spool_line_stops_the_replay_and_keeps_the_file(db, settings, tmp_path):
    from tenant_apps.audit import spool

    settings.AUDIT_SPOOL_DIR = str(tmp_path)
    _spool("suffolk", "case.viewed", object_type="case", object_id="1")
    (path,) = tmp_path.iterdir()
    with path.open("ab") as stream:
        stream.write(b'{"v": 1, "schema": "suffolk", "ev\n')
    with pytest.raises(RuntimeError, match="cannot be read"):
        spool.replay_spool()
    assert path.exists()
    path.unlink()
    spool._pending = False  # noqa: SLF001 - this process's flag, for the tests that follow


# The writers start writing once both replayers are replaying (each touches ready-<n>), and the
# replayers stop once every writer is done (the test touches "stop"): all the writing races replays.
SPOOL_WRITER = """
import sys, time
from pathlib import Path
from django.utils import timezone
from django_tenants.utils import schema_context
from tenant_apps.audit import spool
from tenant_apps.audit.models import AuditEvent
signals = Path(sys.argv[2])
deadline = time.monotonic() + 60
while not all((signals / f"ready-{n}").exists() for n in range(2)) and time.monotonic() < deadline:
    time.sleep(0.01)
with schema_context("suffolk"):
    for i in range(40):
        spool.spool_event(AuditEvent(action="case.viewed", object_type="case", object_id=f"race-{sys.argv[1]}-{i}",
                                     occurred_at=timezone.now()))
"""
SPOOL_REPLAYER = """
import sys
from pathlib import Path
from tenant_apps.audit import spool
signals, inserted = Path(sys.argv[2]), spool.replay_spool()
(signals / f"ready-{sys.argv[1]}").touch()
while not (signals / "stop").exists():
    inserted += spool.replay_spool()
print(inserted)
"""


def test_processes_spooling_while_others_replay_lose_no_event_and_insert_none_twice(private_pg, tmp_path):
    """Three processes append to the spool while two replay it in a loop (real processes,
    real locks): every event ends up in the table exactly once."""
    import subprocess
    import sys

    from tests.conftest import REPO, project_env

    spool_dir, signals = tmp_path / "spool", tmp_path / "signals"
    signals.mkdir()
    env = project_env(**private_pg.env(), AUDIT_SPOOL_DIR=str(spool_dir))

    def start(script: str, arg: str):
        code = "import django; django.setup()\n" + script
        return subprocess.Popen([sys.executable, "-c", code, arg, str(signals)], env=env, cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip

    replayers = [start(SPOOL_REPLAYER, str(n)) for n in range(2)]
    writers = [start(SPOOL_WRITER, str(n)) for n in range(3)]
    try:
        for process in writers:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err[-2000:]
        assert all((signals / f"ready-{n}").exists() for n in range(2)), "the writers did not wait for the replayers"
    finally:
        (signals / "stop").touch()
    for process in replayers:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-2000:]
    leftover = subprocess.run(  # one replay: "stop" is there
        [sys.executable, "-c", "import django; django.setup()\n" + SPOOL_REPLAYER, "last", str(signals)],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert leftover.returncode == 0, leftover.stderr[-2000:]
    assert not spool_dir.exists() or list(spool_dir.iterdir()) == []
    with psycopg.connect(private_pg.url(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT object_id, count(*) FROM suffolk.audit_auditevent WHERE object_id LIKE 'race-%%' GROUP BY object_id"
        ).fetchall()
    assert len(rows) == 120 and {n for _, n in rows} == {1}
