"""Evidence for docs/security.md where no feature's own test showed the requirement.

- ASVS 3.3.1: a signed-out session is ended on the server, not only forgotten by the browser.
- ASVS 3.4.1: the cookies production sets are Secure, host-only (``__Host-``) and HttpOnly.
- ASVS 4.2.2: the forms a stranger can post (sign-in, password reset) are CSRF-protected.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.conftest import PASSWORD, REPO, project_env, sign_in
from tests.production_helpers import SECRET_KEY

COOKIE_SETTINGS = [
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_DOMAIN",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_PATH",
    "CSRF_COOKIE_DOMAIN",
    "SIGN_IN_DEVICE_COOKIE_NAME",
]


def test_a_signed_out_session_cookie_sent_again_is_anonymous(db):
    """The back button or a copied cookie does not resume a session after sign-out: the
    session is deleted on the server, so the old cookie names nothing."""
    bob = Client(HTTP_HOST="suffolk.localhost")
    sign_in(bob, "bob@suffolk.test")
    old = bob.cookies[settings.SESSION_COOKIE_NAME].value
    assert bob.get("/").status_code == 200
    bob.post("/account/sign-out/")
    with schema_context("suffolk"):
        assert not SessionStore(session_key=old).exists(old)

    replay = Client(HTTP_HOST="suffolk.localhost")
    replay.cookies[settings.SESSION_COOKIE_NAME] = old
    page = replay.get("/")
    assert page.status_code == 302 and page["Location"].startswith("/account/sign-in/")
    api = replay.get("/api/v1/me/")
    assert api.status_code == 403 and api.json()["error"]["code"] == "not_authenticated"


def _production_cookie_settings() -> dict:
    """The cookie settings of ``concord.settings.production``, read in a process of its own."""
    script = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {COOKIE_SETTINGS!r}}}))"
    )
    environment = project_env(
        DJANGO_SETTINGS_MODULE="concord.settings.production",
        SECRET_KEY=SECRET_KEY,
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
    )
    # Production refuses to start without a malware scanner named (issue 18 point 4); settings
    # are only read here, nothing connects to it.
    environment.setdefault("CLAMAV_SOCKET", "/run/clamav/clamd.ctl")
    result = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_cookies_are_secure_host_only_and_http_only(db):
    """What a browser receives over HTTPS with production's cookie settings: the session, CSRF and
    trusted-device cookies all Secure, without Domain, on path / (a ``__Host-`` cookie is
    refused by browsers otherwise), and HttpOnly."""
    production = _production_cookie_settings()
    names = [production[k] for k in ("SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME", "SIGN_IN_DEVICE_COOKIE_NAME")]
    assert all(name.startswith("__Host-") for name in names), names
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["SESSION_COOKIE_DOMAIN"] is None and production["CSRF_COOKIE_DOMAIN"] is None

    with override_settings(**production):
        browser = Client(HTTP_HOST="suffolk.localhost", secure=True)
        form = browser.get("/account/sign-in/")
        assert form.status_code == 200 and re.search(rb'name="csrfmiddlewaretoken"', form.content)
        sign_in(browser, "bob@suffolk.test")
        assert browser.get("/").status_code == 200
        for name in names:
            cookie = browser.cookies[name]
            assert cookie["secure"] is True, name
            assert cookie["httponly"] is True, name
            assert cookie["path"] == "/" and cookie["domain"] == "", name


def test_the_sign_in_and_reset_forms_refuse_a_post_without_the_csrf_token(db):
    """The forms anyone may post: without the token, the right password signs nobody in and no
    reset e-mail is queued; with it (as the page gives it), the same post works."""
    from tenant_apps.audit.models import AuditEvent
    from tenant_apps.outbox.models import OutboundEmail

    with schema_context("suffolk"):  # committed tests (real servers) may have left events of their own
        before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        mail_before = timezone.now()  # the outbox's ids are UUIDs: its clock orders it
    stranger = Client(HTTP_HOST="suffolk.localhost", enforce_csrf_checks=True)
    refused = stranger.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": PASSWORD})
    assert refused.status_code == 403
    assert stranger.get("/").status_code == 302  # not signed in
    reset = stranger.post("/account/password-reset/", {"email": "bob@suffolk.test"})
    assert reset.status_code == 403
    with schema_context("suffolk"):
        assert not OutboundEmail.objects.filter(created_at__gte=mail_before, to=["bob@suffolk.test"]).exists()
        assert not AuditEvent.objects.filter(
            pk__gt=before, action__in=["auth.sign_in", "auth.reset_requested"]
        ).exists()

    page = stranger.get("/account/sign-in/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    accepted = stranger.post(
        "/account/sign-in/", {"email": "bob@suffolk.test", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 302 and accepted["Location"] == "/account/two-factor/"
