"""Pages in a real browser, signed in to the walk-through's partnership (test_walkthrough.py's
fixtures: the demo directory and casework, Priya in the council's ASB Team, gunicorn, Chromium):

- ``/api/docs/``, the API reference rendered from the OpenAPI schema (concord.api.docs), the
  gallery, the "confirm it is you" page and the authenticator set-up page behind it: axe-core
  finds no serious or critical violation and no "region" (moderate) at 1280 and 360 px, nothing
  scrolls sideways at 360 px and nothing is logged (a Content-Security-Policy refusal is logged as a console error).
- The add-profile form: tabbing quickly through the names and the date of birth, on a slow network,
  fires the duplicate check (htmx) for each field left; none of it logs a console error, and the
  answer shown is the one for the last values typed.
"""

# ruff: noqa: F811 - the walk-through's fixtures are imported from test_walkthrough

from __future__ import annotations

import time

import pyotp
import pytest

from tests.browser.test_layout import CHROMIUM
from tests.browser.test_walkthrough import (  # noqa: F401 - fixtures
    PRACTITIONER,
    SIZES,
    Round,
    browser,
    server,
    walkthrough,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (bash infra/dev/browser.sh installs it)"
)

# axe-core: serious and critical violations, and "region" (content outside a landmark, moderate).
AXE_RUN = """() => axe.run(document, {resultTypes: ["violations"]}).then(result => result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical" || v.id === "region")
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + "  " + n.html.slice(0, 160))})))"""


class Checked(Round):
    """The walk-through's round; on the pages this file owns (``regions``), its axe check counts
    "region" too. (The add-profile page's back link sits outside a landmark until the navigation
    change moves it into one: that page gets the walk-through's check.)"""

    regions = True

    def check(self) -> None:
        if not self.regions:
            super().check()
            return
        page = self.page
        self.settle()
        path = page.url.removeprefix(self.base_url)
        self.checked.append(path)
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(self.axe_source)  # through the DevTools protocol: not subject to the CSP
        for violation in page.evaluate(AXE_RUN):
            self.problems.append(f"axe {violation['impact']} on {path} ({self.width}px): {violation['id']}: "
                                 f"{violation['help']}\n    " + "\n    ".join(violation["nodes"]))  # fmt: skip
        if self.width <= 360:
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > self.width:
                self.problems.append(f"{path} scrolls sideways at {self.width}px: scrollWidth {scroll_width}")


def sign_in(r: Round, secret: str, window: int) -> None:
    page = r.page
    r.goto("/account/sign-in/")
    page.locator("input[name=email]").fill(PRACTITIONER)
    page.locator("input[name=password]").fill(PASSWORD)
    r.submit("Continue")
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).at(time.time() + 30 * window))
    r.submit("Sign in")
    assert "/account/" not in r.page.url, r.page.url


@pytest.fixture
def backup_codes(walkthrough):
    """Priya's backup codes (committed; the partnership goes with the walk-through's fixture): one
    per round confirms it is her before the authenticator set-up page (the app's codes of both
    rounds' windows are spent by their sign-ins)."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from tenant_apps.accounts import services
    from tenant_apps.accounts.models import User
    from tests.browser.test_walkthrough import SLUG

    with schema_context(SLUG):
        codes = services.backup_codes_generate(user=User.objects.get(email=PRACTITIONER))
    connection.set_schema_to_public()
    return codes


@pytest.fixture
def born(walkthrough):
    """The walk-through person's date of birth (read before the browser's event loop starts)."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from tenant_apps.casework.models import Profile
    from tests.browser.test_walkthrough import SLUG

    with schema_context(SLUG):
        value = Profile.objects.get(pk=walkthrough["profile_id"]).date_of_birth
    connection.set_schema_to_public()
    return value


def test_the_api_reference_is_accessible_and_csp_clean_and_the_duplicate_check_logs_nothing(
    walkthrough, born, backup_codes, server, browser
):
    problems: list[str] = []
    for window, (width, height) in enumerate(SIZES):
        r = Checked(browser, server, width, height)
        try:
            sign_in(r, walkthrough["secret"], window)

            # The API reference.
            r.goto("/api/docs/")
            page = r.page
            assert page.locator("h1").inner_text() == "Concord API reference"
            assert page.locator("h3[id^=operation-]").count() >= 50
            assert page.get_by_role("link", name="JSON").get_attribute("href") == "/api/schema/?format=json"
            r.follow(page.locator("#operation-v1_me_retrieve").locator("xpath=..").get_by_role("link", name="Output"))
            assert page.url.endswith("/api/docs/#schema-Output")

            # The gallery: one card per person.
            r.goto("/gallery/")
            cards = page.locator(".concord-gallery-card").evaluate_all("cards => cards.map(card => card.id)")
            assert cards and len(cards) == len(set(cards)), cards

            # Enrolling an authenticator on the phone itself: the otpauth:// link beside the QR code.
            r.goto("/account/two-factor/setup/")
            assert "/account/confirm-it-is-you/" in page.url, page.url  # re-authentication first
            page.locator("input[name=password]").fill(PASSWORD)
            page.locator("input[name=code]").fill(backup_codes[window])
            r.submit("Continue")
            assert page.url.endswith("/account/two-factor/setup/"), page.url
            link = page.get_by_role("link", name="Add to an authenticator app on this phone")
            assert link.get_attribute("href").startswith("otpauth://totp/")

            # The add-profile form, left field by field faster than the check answers.
            r.regions = False
            r.goto("/profiles/new/")
            cdp = r.context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions",
                     {"offline": False, "latency": 1000, "downloadThroughput": -1, "uploadThroughput": -1})  # fmt: skip
            answered: list[int] = []
            page.on("response", lambda response, answered=answered: "/profiles/duplicates/" in response.url
                    and answered.append(response.status))  # fmt: skip
            page.get_by_label("Person", exact=True).check()
            page.get_by_label("First name").click()
            for text in (
                walkthrough["first_name"],
                walkthrough["last_name"],
                str(born.day),
                str(born.month),
                str(born.year),
            ):
                page.keyboard.type(text)
                page.keyboard.press("Tab")
            page.wait_for_timeout(3000)  # every check answered
            r.settle()
            assert 1 <= len(answered) < 5, answered  # some fields were left while a check was on its way
            assert answered and set(answered) == {200}, answered
            assert walkthrough["display_name"] in page.locator("#duplicate-check").inner_text()
            r.check()
            # Leaving a field and submitting at once: the page goes while the check is on its way.
            page.get_by_label("Owning team").select_option(index=1)
            page.get_by_label("Last name").fill(walkthrough["last_name"] + "e")
            page.keyboard.press("Tab")
            r.submit("Add profile")
            assert page.get_by_role("button", name="These are not the same person: create the profile").count() == 1
        finally:
            problems += r.problems
            r.close()
    for problem in problems:
        print(problem)
    assert problems == []
