"""Passkeys in a real browser (issue 11, point 4), at desktop and phone widths.

A partnership of its own (``passkeys``, provisioned with committed data and dropped afterwards),
whose first admin, Ada, has the cast's password, an authenticator and backup codes. gunicorn
serves it with the test settings; Debian's Chromium, driven by Playwright, has a virtual
authenticator (the DevTools protocol's WebAuthn domain: CTAP2, internal transport, resident
keys, user verification) in place of a fingerprint reader. At each width, in a fresh browser
with a fresh authenticator, Ada signs in with a code, opens "Sign-in and security", confirms it
is her (password and a backup code), adds a passkey by name, signs out, and signs in again with
the password and the passkey alone. On every page: axe-core (no serious or critical violation,
nothing outside a landmark), no console error or failed request (so concord/passkeys.js runs
under the Content-Security-Policy), and at 360 px nothing scrolls sideways.

Operators' passkeys are tested on the server side (tests/test_passkeys.py): the same pages and
services on the platform domain.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pyotp
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tests.browser.test_layout import CHROMIUM
from tests.browser.test_walkthrough import SIZES, Round, browser  # noqa: F401 (the browser fixture)
from tests.conftest import PASSWORD, enrol_authenticator, free_port, project_env
from tests.demo_partnership import drop_partnership
from tests.serving import gunicorn_serving

SLUG = "passkeys"
SCREENSHOTS = Path(tempfile.gettempdir())  # look at them after a layout change
ADMIN = f"admin@{SLUG}.test"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (bash infra/dev/browser.sh installs it)"
)


@pytest.fixture
def ada(committed_db):
    """The partnership and Ada, its admin: yields her authenticator secret and backup codes."""
    from tenant_apps.accounts import services
    from tenant_apps.accounts.models import User
    from tenants.models import Partnership
    from tenants.provisioning import partnership_provision

    drop_partnership(SLUG)
    try:
        partnership_provision(slug=SLUG, name="Passkeys Community Safety Partnership", admin_email=ADMIN,
                              admin_name="Ada Admin")  # fmt: skip
        Partnership.objects.filter(schema_name=SLUG).update(status="active")
        with schema_context(SLUG):
            admin = User.objects.get(email=ADMIN)
            admin.set_password(PASSWORD)
            admin.save()
            secret = enrol_authenticator(admin)
            codes = services.backup_codes_generate(user=admin)
        connection.set_schema_to_public()
        yield {"secret": secret, "codes": codes}
    finally:
        drop_partnership(SLUG)


@pytest.fixture
def server(ada):
    port = free_port()
    with gunicorn_serving(["-m", "gunicorn"], env=project_env(), port=port):
        yield f"http://{SLUG}.localhost:{port}"


def _virtual_authenticator(r: Round) -> str:
    cdp = r.context.new_cdp_session(r.page)
    cdp.send("WebAuthn.enable")
    created = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    r.cdp = cdp
    return created["authenticatorId"]


def _credentials(r: Round, authenticator_id: str) -> list[dict]:
    return r.cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]


def test_ada_adds_a_passkey_signs_out_and_signs_in_with_it(ada, server, browser):  # noqa: F811
    problems: list[str] = []
    listed: list[str] = []
    for window, (width, height) in enumerate(SIZES):
        r = Round(browser, server, width, height)
        page = r.page
        name = f"Laptop at {width}px"
        try:
            authenticator = _virtual_authenticator(r)
            # Password, then a code.
            r.goto("/account/sign-in/")
            page.locator("input[name=email]").fill(ADMIN)
            page.locator("input[name=password]").fill(PASSWORD)
            r.submit("Continue")
            page.locator("input[name=code]").fill(pyotp.TOTP(ada["secret"]).at(time.time() + 30 * window))
            r.submit("Sign in")
            assert page.url == server + "/", page.url

            # Sign-in and security, from the home page; adding a passkey asks to confirm it is her.
            r.follow(page.get_by_role("link", name="Sign-in and security: passkeys, authenticator app, backup codes"))
            assert page.locator("h1").inner_text() == "Sign-in and security"
            r.follow(page.get_by_role("link", name="Add a passkey"))
            assert page.locator("h1").inner_text() == "Confirm it is you"
            page.get_by_label("Your password").fill(PASSWORD)
            page.get_by_label("Code").fill(ada["codes"][window])
            r.submit("Continue")
            assert page.locator("h1").inner_text() == "Add a passkey"

            # Its name, then the browser makes it (the virtual authenticator: no fingerprint to give).
            page.get_by_label("Name of the passkey").fill(name)
            r.submit("Add the passkey")
            assert page.url == server + "/account/security/", page.url
            assert f"Passkey “{name}” added" in page.locator("main").inner_text()
            assert page.locator(".govuk-summary-card__title", has_text=name).count() == 1
            assert len(_credentials(r, authenticator)) == 1

            # Signed out, then in again: the password, then the passkey instead of a code.
            r.submit("Sign out")
            r.goto("/account/sign-in/")
            page.locator("input[name=email]").fill(ADMIN)
            page.locator("input[name=password]").fill(PASSWORD)
            r.submit("Continue")
            assert page.get_by_role("button", name="Use a passkey").is_visible()
            page.screenshot(path=str(SCREENSHOTS / f"concord-two-factor-{width}.png"), full_page=True)
            r.submit("Use a passkey")
            assert page.url == server + "/", page.url
            assert page.locator("h1").count() == 1 and "Sign out" in page.locator("header").inner_text()
            r.goto("/account/security/")
            card = page.locator(".govuk-summary-card", has_text=name)
            assert "Not used yet" not in card.inner_text(), card.inner_text()
            listed = page.locator(".govuk-summary-card__title").all_inner_texts()
            page.screenshot(path=str(SCREENSHOTS / f"concord-security-{width}.png"), full_page=True)
        finally:
            problems += r.problems
            r.close()
    # Each round's passkey is listed (several per user), each used once.
    assert sorted(listed) == sorted(f"Laptop at {width}px" for width, _ in SIZES), listed
    for problem in problems:
        print(problem)
    assert problems == []
