"""The fixed cast, created once per test session in two partnerships.

- Suffolk: Alice (partnership admin), Bob (practitioner).
- Norfolk: Nina (partnership admin). She must never see anything of Suffolk's,
  and Suffolk's users must never reach Norfolk's data.

Partnerships are provisioned once per session (committed); each test runs in a
transaction that is rolled back. Tests that need committed data (subprocesses,
servers) use ``committed_db`` and clean up after themselves.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"
# Each cast member's authenticator secret (base32), enrolled afresh every session.
TOTP_SECRETS: dict[str, str] = {}

CAST = {
    "suffolk": ("Suffolk Community Safety Partnership", [("alice@suffolk.test", "Alice Adams", "admin"),
                                                        ("bob@suffolk.test", "Bob Brown", "practitioner")]),
    "norfolk": ("Norfolk Community Safety Partnership", [("nina@norfolk.test", "Nina North", "admin")]),
}  # fmt: skip


def enrol_authenticator(user) -> str:
    """Give a user a confirmed authenticator (as the enrolment page would); return its secret."""
    import base64

    from tenant_apps.accounts import services
    from tenant_apps.accounts.models import BackupCodeDevice, TOTPDevice

    TOTPDevice.objects.filter(user=user).delete()
    BackupCodeDevice.objects.filter(user=user).delete()
    device = services.totp_enrolment_start(user=user)
    device.confirmed = True
    device.save()
    return base64.b32encode(device.bin_key).decode()


@pytest.fixture(scope="session")
def django_db_setup(request, django_db_setup, django_db_blocker):
    from tenant_apps.accounts.models import User
    from tenants.models import Partnership
    from tenants.provisioning import partnership_provision, refresh_template

    with django_db_blocker.unblock():
        _ensure_test_database(request)
        refresh_template()  # committed, before any test transaction needs the template
        for slug, (name, people) in CAST.items():
            if not Partnership.objects.filter(schema_name=slug).exists():
                partnership_provision(slug=slug, name=name, admin_email=people[0][0], admin_name=people[0][1])
            with schema_context(slug):
                for email, full_name, role in people:
                    user, _ = User.objects.get_or_create(email=email, defaults={"full_name": full_name, "role": role})
                    user.set_password(PASSWORD)
                    user.sessions_valid_after = None
                    user.is_active = True
                    user.save()
                    TOTP_SECRETS[email] = enrol_authenticator(user)
        Partnership.objects.filter(schema_name__in=list(CAST)).update(status="active")
        _drop_queued_mail()


def _ensure_test_database(request) -> None:
    """pytest-django sets up the test database only when a selected test asks for ``db``
    (or its marker); a run of only ``committed_db`` tests (``-k`` on one of them) would
    otherwise point at the development database. Set it up here in that case."""
    from django.test.utils import setup_databases

    test_name = connection.creation._get_test_db_name()
    if connection.settings_dict["NAME"] != test_name:
        keep = not request.config.getoption("create_db", False)
        setup_databases(verbosity=0, interactive=False, aliases={"default"}, keepdb=keep)


def _drop_queued_mail() -> None:
    """Provisioning the cast queued invitation e-mails (committed): no test expects them."""
    from tenant_apps.outbox.models import OutboundEmail

    for slug in CAST:
        with schema_context(slug):
            OutboundEmail.objects.filter(status="queued").delete()
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE status = 'todo' AND queue_name = 'mail'")


@pytest.fixture(autouse=True)
def _back_to_public():
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _fresh_default_cache():
    """Each test starts with an empty default cache. The partnership's idle timeout is cached
    there for 30 s (accounts.services.session_timeouts): an entry left by an earlier test
    could expire in the middle of a test whose query count is pinned (one query more, at
    random), and a value cached inside a rolled-back test would outlive it."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def suffolk(db):
    from tenants.models import Partnership

    with schema_context("public"):  # a partnership's role sees only its own row (RLS)
        return Partnership.objects.get(schema_name="suffolk")


@pytest.fixture
def norfolk(db):
    from tenants.models import Partnership

    with schema_context("public"):  # a partnership's role sees only its own row (RLS)
        return Partnership.objects.get(schema_name="norfolk")


def host(slug: str) -> str:
    return f"{slug}.localhost"


@pytest.fixture
def suffolk_client(db):
    return Client(HTTP_HOST=host("suffolk"))


@pytest.fixture
def norfolk_client(db):
    return Client(HTTP_HOST=host("norfolk"))


def forget_used_codes() -> None:
    """After a test signs the cast in with committed writes: codes may be used again
    (each is accepted once), so later tests can sign in within the same 30 seconds."""
    from tenant_apps.accounts.models import TOTPDevice

    for slug in CAST:
        with schema_context(slug):
            TOTPDevice.objects.update(last_t=-1)
    connection.set_schema_to_public()


def age_sign_in_failures(seconds: float) -> None:
    """As if ``seconds`` had passed since every sign-in failure counted so far (public schema):
    the ``FailedSignIn`` rows and the entries of the atomic limits (``accounts.limits``) alike."""
    from datetime import timedelta

    from django.db.models import F

    from tenant_apps.accounts.models import FailedSignIn, SignInLimit

    with schema_context("public"):
        FailedSignIn.objects.update(at=F("at") - timedelta(seconds=seconds))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {SignInLimit._meta.db_table} SET failures = "
                "ARRAY(SELECT f - make_interval(secs => %s) FROM unnest(failures) AS f ORDER BY f), "
                "charged_at = charged_at - make_interval(secs => %s)",
                [seconds, seconds],
            )
    connection.set_schema_to_public()


def totp_code(email: str, *, window: int = 0) -> str:
    """The code a phone app would show now (or ``window`` steps later), by pyotp."""
    import pyotp

    return pyotp.TOTP(TOTP_SECRETS[email]).at(time.time() + 30 * window)


def sign_in(client: Client, email: str, password: str = PASSWORD, *, window: int = 0):
    """The real flow: password, then a TOTP code. Returns the final response.

    A code is accepted once; a second sign-in of the same person within one test
    passes ``window=1`` (the next code, as a user who waited would).
    """
    first = client.post("/account/sign-in/", {"email": email, "password": password})
    assert first.status_code == 302 and first["Location"] == "/account/two-factor/", first.content[:800]
    second = client.post("/account/two-factor/", {"code": totp_code(email, window=window)})
    assert second.status_code == 302, second.content[:800]
    return second


@pytest.fixture
def alice_client(suffolk_client):
    """Alice, partnership admin in Suffolk, signed in."""
    sign_in(suffolk_client, "alice@suffolk.test")
    return suffolk_client


@pytest.fixture
def cast(db):
    """Casework's cast in Suffolk, on top of the session's Alice and Bob (rolled back per test).

    - Bob: District Council, ASB Team. Owns the records (his team and agency).
    - Carl: District Council, Community Safety Team: same agency, other team.
    - Dan and Erin: Constabulary, Safer Neighbourhood Team: another agency.
    - Vera: District Council, ASB Team, viewer: reads, never writes.
    - Alice: partnership admin in no agency.
    Everyone made here has the cast's password and an authenticator (``people["secrets"]``
    and ``TOTP_SECRETS``). The test body runs inside Suffolk's schema.
    """
    from tenant_apps.accounts.models import User
    from tenant_apps.directory.models import Agency, Membership, Team, TeamMembership

    with schema_context("suffolk"):
        council = Agency.objects.create(name="District Council", kind="council")
        police = Agency.objects.create(name="Constabulary", kind="police")
        asb = Team.objects.create(agency=council, name="ASB Team")
        cst = Team.objects.create(agency=council, name="Community Safety Team")
        snt = Team.objects.create(agency=police, name="Safer Neighbourhood Team")
        people = {
            "alice": User.objects.get(email="alice@suffolk.test"),
            "bob": User.objects.get(email="bob@suffolk.test"),
        }
        secrets = {}
        for name, role in [("carl", "practitioner"), ("dan", "practitioner"), ("erin", "practitioner"),
                           ("vera", "viewer")]:  # fmt: skip
            people[name] = User.objects.create_user(
                f"{name}@suffolk.test", password=PASSWORD, full_name=name.title(), role=role
            )
            secrets[name] = TOTP_SECRETS[people[name].email] = enrol_authenticator(people[name])
        for name, agency, team in [("bob", council, asb), ("carl", council, cst), ("dan", police, snt),
                                   ("erin", police, snt), ("vera", council, asb)]:  # fmt: skip
            Membership.objects.create(user=people[name], agency=agency)
            TeamMembership.objects.create(user=people[name], team=team)
        people.update(council=council, police=police, asb=asb, cst=cst, snt=snt, secrets=secrets)
        yield people
    connection.set_schema_to_public()


def assessment_definitions() -> list[dict]:
    """The demo's three templates (tenant_apps/assessments/demo_templates.json)."""
    import json

    return json.loads((REPO / "tenant_apps" / "assessments" / "demo_templates.json").read_text(encoding="utf-8"))


@pytest.fixture
def family(cast):
    """The Brennans: Mary and Liam (Bob's), and Sean (Dan's: hidden from Bob)."""
    from tenant_apps.casework import services as casework

    bob, dan = cast["bob"], cast["dan"]
    mary = casework.profile_create(user=bob, owning_team=cast["asb"], first_name="Mary", last_name="Brennan")
    liam = casework.profile_create(user=bob, owning_team=cast["asb"], first_name="Liam", last_name="Brennan",
                                   date_of_birth=dt.date(2014, 3, 2))  # fmt: skip
    sean = casework.profile_create(user=dan, owning_team=cast["snt"], first_name="Sean", last_name="Brennan")
    family = casework.family_create(user=bob, name="Brennan", owning_team=cast["asb"])
    for person, relationship in ((mary, "parent"), (liam, "child")):
        casework.family_add_member(user=bob, family=family, profile=person, relationship=relationship)
    from tenant_apps.casework.models import FamilyMember

    FamilyMember.objects.create(family=family, profile=sean, relationship="sibling")  # Dan's: Bob cannot see him
    return {"family": family, "mary": mary, "liam": liam, "sean": sean}


@pytest.fixture
def outcomes(cast):
    """The demo's ten-domain outcomes tool (1-10 scales, each of each member), in use in Suffolk."""
    from tenant_apps.assessments.services import template_create_from_definition

    return template_create_from_definition(user=cast["bob"], definition=assessment_definitions()[2])


OPERATOR = "olu@operators.test"


@pytest.fixture
def operator(db):
    """Olu, a platform operator in public, with a password and an authenticator."""
    connection.set_schema_to_public()
    from tenant_apps.accounts.models import User

    user = User.objects.create_user(OPERATOR, PASSWORD, full_name="Olu Operator", role=User.Role.ADMIN)
    TOTP_SECRETS[OPERATOR] = enrol_authenticator(user)
    return user


@pytest.fixture
def platform_client(db):
    return Client(HTTP_HOST="localhost")


@pytest.fixture
def operator_client(operator, platform_client):
    sign_in(platform_client, OPERATOR)
    return platform_client


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):
    """Database access without a wrapping transaction: writes are visible to other
    processes. Tests using this clean up what they create."""
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()


def subprocess_database_url() -> str:
    settings = connection.settings_dict
    user = settings["USER"] or ""
    auth = f"{user}@" if user else ""
    return f"postgres://{auth}{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def project_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": subprocess_database_url(),
            "DJANGO_SETTINGS_MODULE": "concord.settings.test",
            # The chain key of the test run (production settings require one): the same as in-process.
            "AUDIT_CHAIN_KEY": django_settings.AUDIT_CHAIN_KEY,
            "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'platform'}",
        }
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        env=env or project_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


class Server:
    """gunicorn serving the project on loopback, for tests that need real processes."""

    def __init__(self, env: dict[str, str], workers: int = 2):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "concord.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--log-level", "warning"],
            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stdout.read().decode()) from None
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def get(self, path: str, host_name: str, **headers: str):
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path, headers={"Host": host_name, **headers})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response.status, dict(response.getheaders()), body

    def session(self, host_name: str) -> HttpSession:
        return HttpSession(self.port, host_name)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class HttpSession:
    """A browser-like client over real HTTP: keeps cookies, sends CSRF tokens."""

    def __init__(self, port: int, host_name: str):
        self.port, self.host_name = port, host_name
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        import http.client
        import re
        from urllib.parse import urlencode

        headers = {"Host": self.host_name}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        content = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        self.last_csrf = None
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
        if match:
            self.last_csrf = match.group(1).decode()
        return response.status, dict(response.getheaders()), content

    def get(self, path: str):
        return self.request("GET", path)

    def submit(self, path: str, form: dict):
        """GET the page for its CSRF token, then POST the form to it."""
        self.get(path)
        return self.request("POST", path, {"csrfmiddlewaretoken": self.last_csrf, **form})

    def sign_in(self, email: str, password: str = PASSWORD, *, window: int = 0) -> None:
        status, headers, _ = self.submit("/account/sign-in/", {"email": email, "password": password})
        assert status == 302, status
        status, headers, _ = self.submit("/account/two-factor/", {"code": totp_code(email, window=window)})
        assert status == 302, status


pytest_plugins = ["tests.smtp", "tests.s3", "tests.pg_cluster", "tests.clamav"]
