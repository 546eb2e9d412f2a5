"""gunicorn with production settings, and a client with a bounded timeout, for tests
that break the database or check what production answers (tests/test_db_faults.py,
tests/test_early_response_headers.py)."""

from __future__ import annotations

import http.client
import re
import time
from urllib.parse import urlencode

import psycopg

from tests.conftest import PASSWORD, Server, project_env, totp_code

# Fixed test-only values: production settings refuse a weak key and need encryption keys.
SECRET_KEY = "k2#9vQ!f7Lr0pX@z8Wm4Nc6Bd1Ht5Jy3Ge*Ua&Si^Ro%Tq$Pn+Mv=Kw-Lx_Zb~Cd"  # noqa: S105


def production_env(**extra: str) -> dict[str, str]:
    """Environment for gunicorn with production settings (static files from the finders)."""
    from django.conf import settings

    return project_env(
        DJANGO_SETTINGS_MODULE="tests.settings_production",
        SECRET_KEY=SECRET_KEY,
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
        **extra,
    )


class Browser:
    """Cookies, CSRF tokens and a bounded timeout, so a hanging server fails a test fast."""

    def __init__(self, server: Server, host_name: str, *, timeout: float = 8, https: bool = False):
        self.port, self.host_name, self.timeout = server.port, host_name, timeout
        self.https = https
        self.cookies: dict[str, str] = {}
        self.last_csrf: str | None = None

    def request(self, method: str, path: str, form: dict | None = None, *, json_body: str | None = None,
                headers: dict | None = None):  # fmt: skip
        """(status, headers with lower-case names, body, seconds taken)."""
        sent = {"Host": self.host_name, **(headers or {})}
        if self.https:
            sent["X-Forwarded-Proto"] = "https"
            sent.setdefault("Referer", f"https://{self.host_name}{path}")
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json_body
            sent["Content-Type"] = "application/json"
            if "concord_csrf" in "".join(self.cookies):
                sent["X-CSRFToken"] = next(v for k, v in self.cookies.items() if "concord_csrf" in k)
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        took = time.monotonic() - started
        got = {}
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie, _, rest = value.partition("=")
                self.cookies[cookie] = rest.split(";", 1)[0]
            got[name.lower()] = value
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
        self.last_csrf = match.group(1).decode() if match else None
        return response.status, got, content, took

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def submit(self, path: str, form: dict):
        self.get(path)
        return self.request("POST", path, {"csrfmiddlewaretoken": self.last_csrf, **form})

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        status = self.submit("/account/sign-in/", {"email": email, "password": password})[0]
        assert status == 302, status
        status = self.submit("/account/two-factor/", {"code": totp_code(email)})[0]
        assert status == 302, status


def forget_used_codes_in(url: str) -> None:
    """Codes may be used again in the private cluster (each is accepted once)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for schema in ("suffolk", "norfolk"):
            conn.execute(f"UPDATE {schema}.accounts_totpdevice SET last_t = -1")


def run_django(env: dict[str, str], script: str) -> str:
    """Run ``script`` in a Django process of the project with ``env``; return its stdout."""
    import subprocess
    import sys

    from tests.conftest import REPO

    code = "import django; django.setup()\n" + script
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


CASEWORK_SETUP = """
import json
from django_tenants.utils import schema_context
from tenant_apps.accounts.models import User
from tenant_apps.casework import services
from tenant_apps.casework.models import Case, CaseType, Profile
from tenant_apps.directory.models import Agency, Membership, Team, TeamMembership
import datetime as dt

with schema_context("suffolk"):
    bob = User.objects.get(email="bob@suffolk.test")
    council, _ = Agency.objects.get_or_create(name="District Council", defaults={"kind": "council"})
    asb, _ = Team.objects.get_or_create(agency=council, name="ASB Team")
    Membership.objects.get_or_create(user=bob, agency=council)
    TeamMembership.objects.get_or_create(user=bob, team=asb)
    bob = User.objects.get(pk=bob.pk)
    profile = Profile.objects.filter(last_name="Faultline").first() or services.profile_create(
        user=bob, owning_team=asb, first_name="Kyle", last_name="Faultline", date_of_birth=dt.date(2001, 5, 17))
    case = Case.objects.filter(title="Read-only check").first() or services.case_create(
        user=bob, case_type=CaseType.objects.get(code="ASB"), title="Read-only check", owning_team=asb,
        subjects=[(profile, "perpetrator")])
    print(json.dumps({"profile": profile.pk, "case": case.pk, "team": asb.pk}))
"""


def casework_in(env: dict[str, str]) -> dict:
    """Bob's team, a profile and a case of his in Suffolk (made once, committed): their ids."""
    import json

    return json.loads(run_django(env, CASEWORK_SETUP).strip().splitlines()[-1])


def age_session(env: dict[str, str], session_key: str, *, seconds: float) -> None:
    """Move the session's last-seen clock back, so that the next request refreshes it (a write)."""
    run_django(env, f"""
import time
from django_tenants.utils import schema_context
from django.contrib.sessions.backends.db import SessionStore
with schema_context("suffolk"):
    store = SessionStore(session_key={session_key!r})
    store["concord_last_seen"] = time.time() - {seconds}
    store.save()
""")  # fmt: skip
