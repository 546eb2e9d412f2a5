"""The API-client pages of the admin area in a real browser, at desktop and phone widths.

Alice (Suffolk's admin, the session's cast, with her authenticator) issues an API client for a
team made for this test (committed, as gunicorn serves another connection), copies its token from
the page it is shown on once, opens the client, the rotate and the revoke pages, and revokes it.
On every page: axe-core reports no serious or critical violation, nothing is logged as an error,
and at 360 px nothing scrolls sideways (``Round`` of the practitioner's walk-through). The team is
removed afterwards; the client's service account stays, deactivated, as its audit events do.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid

import pyotp
import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.browser.test_layout import CHROMIUM
from tests.browser.test_walkthrough import SIZES, Round, browser  # noqa: F401 - browser: the fixture
from tests.conftest import PASSWORD, TOTP_SECRETS, forget_used_codes, free_port, project_env
from tests.serving import gunicorn_serving

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (bash infra/dev/browser.sh installs it)"
)
TOKEN = re.compile(r"concord_suffolk_[A-Za-z0-9]{12}_[A-Za-z0-9]{40}")


@pytest.fixture
def team(committed_db):
    from tenant_apps.accounts.models import User
    from tenant_apps.directory.models import Agency, ApiClient, Membership, Team, TeamMembership

    suffix = uuid.uuid4().hex[:8]
    with schema_context("suffolk"):
        agency = Agency.objects.create(name=f"Browser test agency {suffix}", kind=Agency.Kind.HOUSING)
        team = Team.objects.create(agency=agency, name="Lettings")
    connection.set_schema_to_public()
    try:
        yield team
    finally:
        with schema_context("suffolk"):
            clients = ApiClient.objects.filter(team=team)
            accounts = list(clients.values_list("service_account_id", flat=True))
            clients.delete()
            TeamMembership.objects.filter(team=team).delete()
            Membership.objects.filter(agency=agency).delete()
            team.delete()
            agency.delete()
            User.objects.filter(pk__in=accounts).update(is_active=False)
        forget_used_codes()
        connection.set_schema_to_public()


@pytest.fixture
def server(team):
    port = free_port()
    with gunicorn_serving(["-m", "gunicorn"], env=project_env(), port=port):
        yield f"http://suffolk.localhost:{port}"


def issue_and_revoke(r: Round, *, team, window: int, label: str) -> str:
    page = r.page
    r.goto("/account/sign-in/")
    page.locator("input[name=email]").fill("alice@suffolk.test")
    page.locator("input[name=password]").fill(PASSWORD)
    r.submit("Continue")
    page.locator("input[name=code]").fill(pyotp.TOTP(TOTP_SECRETS["alice@suffolk.test"]).at(time.time() + 30 * window))
    r.submit("Sign in")
    r.goto("/admin/")
    r.follow(page.locator("main .govuk-list--spaced").get_by_role("link", name="API clients", exact=True))
    r.follow(page.get_by_role("button", name="Issue an API client"))
    # Bad input first: the error summary names each field.
    r.submit("Issue API client")
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Enter the name of the system" in summary and "Choose at least one area" in summary, summary
    page.get_by_label("Name of the system").fill(f"Housing system {label}")
    page.get_by_label("Team it acts for").select_option(label=team.label)
    page.get_by_label("Profiles: read", exact=True).check()
    page.get_by_label("Tasks: read and write", exact=True).check()
    page.get_by_label("Token expires on").fill((timezone.localdate() + dt.timedelta(days=30)).isoformat())
    r.submit("Issue API client")
    token = page.locator("#api-token").input_value()
    assert TOKEN.fullmatch(token), token
    r.follow(page.get_by_role("link", name=re.compile("I have copied the token")))
    assert token not in page.content() and token.split("_")[2] in page.content()
    r.follow(page.get_by_role("link", name="Rotate the token"))
    r.follow(page.get_by_role("link", name="Back to " + f"Housing system {label}"))
    r.follow(page.get_by_role("link", name="Revoke this API client"))
    r.submit("Revoke API client")
    assert "Revoked" in page.locator("main").inner_text()
    r.follow(page.get_by_role("link", name="Back to API clients"))
    return token


def test_an_admin_issues_and_revokes_an_api_client_at_both_widths(team, server, browser):  # noqa: F811
    problems: list[str] = []
    for window, (width, height) in enumerate(SIZES):
        r = Round(browser, server, width, height)
        try:
            issue_and_revoke(r, team=team, window=window, label=f"{width}px")
        finally:
            problems += r.problems
            print(f"{width}px: checked {len(r.checked)} pages: {', '.join(r.checked)}")
            r.close()
    for problem in problems:
        print(problem)
    assert problems == []
