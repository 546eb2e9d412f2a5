"""A practitioner's round (README.md), end to end in a real browser, at desktop and phone widths.

A partnership of its own (``walkthrough``) is provisioned with committed data: the demo
directory and casework, and Priya, a practitioner in the council's ASB Team with a
password and an authenticator. gunicorn serves it with the test settings, its documents
storage pointed at the session's moto server (tests/s3.py). Debian's Chromium, driven by
Playwright, then: signs in (password, then a TOTP code) to the home dashboard, opens one of
her open cases from it, searches from that page's header for a surname alone, misspelt, opens
the person's profile and case, adds a visit with a photo (the action on the first screen, at
360 px too), sees the photo's thumbnail on the timeline, tasks the police's Safer
Neighbourhood Team, finds the task under "Tasks I set", the person's face in the gallery, and
the API's reference page. Then Ada, the partnership admin, reads the visit's audit event.

On every page: axe-core (infra/frontend/node_modules, installed by build.sh's npm ci)
reports no serious or critical violation and no content outside a landmark ("region"),
nothing is logged as an error, and at 360 px nothing scrolls sideways.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tests.browser.test_layout import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import PASSWORD, REPO, enrol_authenticator, free_port, project_env
from tests.demo_partnership import GUNICORN_WITH_S3, demo_partnership, s3_launcher_env
from tests.serving import gunicorn_serving

SLUG = "walkthrough"
PRACTITIONER = "priya.shah@walkthrough.test"
POLICE = "pc.doyle@walkthrough.test"
ADMIN = f"admin@{SLUG}.test"
AXE = REPO / "infra" / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SIZES = [(1280, 800), (360, 740)]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (bash infra/dev/browser.sh installs it)"
)


@pytest.fixture
def walkthrough(committed_db):
    """The partnership, its demo casework and Priya; yields her authenticator secret and a case."""
    from tenant_apps.casework.models import Case, Profile

    with demo_partnership(slug=SLUG, name="Walkthrough Community Safety Partnership",
                          practitioner=PRACTITIONER, police=POLICE) as secret:  # fmt: skip
        case = Case.objects.filter(owning_team__name="ASB Team", case_type__code="ASB").order_by("pk").first()
        profile = Profile.objects.filter(case_roles__case=case).order_by("case_roles__pk").first()
        data = {
            "secret": secret,
            "case_id": case.pk,
            "case_reference": case.reference,
            "profile_id": profile.pk,
            "first_name": profile.first_name,
            "last_name": profile.last_name,
            "display_name": profile.display_name,
        }
        connection.set_schema_to_public()
        yield data


@pytest.fixture
def walkthrough_admin(walkthrough, s3):
    """Ada, the partnership's first admin, with the cast's password and an authenticator, in a
    partnership that lets its admins read every record; and the demo's drawn photos of the people on
    open cases, stored in the test's bucket (the server's storage). Yields Ada's secret."""
    from tenant_apps.accounts.models import User
    from tenant_apps.casework.demo import casework_seed_demo_photos
    from tenant_apps.casework.models import CaseworkSettings

    with schema_context(SLUG):
        CaseworkSettings.objects.update_or_create(pk=1, defaults={"admins_see_everything": True})
        admin = User.objects.get(email=ADMIN)
        admin.set_password(PASSWORD)
        admin.save()
        secret = enrol_authenticator(admin)
        assert casework_seed_demo_photos() > 0
    connection.set_schema_to_public()
    return secret


@pytest.fixture
def server(walkthrough, s3):
    env = project_env(**s3_launcher_env(s3))
    port = free_port()
    with gunicorn_serving(["-c", GUNICORN_WITH_S3], env=env, port=port):
        yield f"http://{SLUG}.localhost:{port}"


@pytest.fixture
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
    )
    if not AXE.exists():
        pytest.fail(f"{AXE.relative_to(REPO)} is missing: run `bash infra/frontend/build.sh` (make test does)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Serious and critical violations, and "region" (moderate: content outside every landmark).
AXE_RUN = """() => axe.run(document, {resultTypes: ["violations"]}).then(result => result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical" || v.id === "region")
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + "  " + n.html.slice(0, 160))})))"""


class Round:
    """One practitioner's round in a fresh browser context, checking every page it visits."""

    def __init__(self, browser, base_url: str, width: int, height: int):
        self.base_url, self.width = base_url, width
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.problems: list[str] = []
        self.checked: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", lambda request: self.problems.append(f"request failed: {request.url}"))
        self.in_flight: set = set()  # requests sent and not yet answered, for settle()
        self.page.on("request", lambda request: self.in_flight.add(request))
        for event in ("requestfinished", "requestfailed"):
            self.page.on(event, lambda request: self.in_flight.discard(request))
        self.page.on(
            "response",
            lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"),
        )
        self.axe_source = AXE.read_text()

    def _console(self, message) -> None:
        if message.type == "error":  # CSP violations are reported as console errors
            self.problems.append(f"console error on {self.page.url}: {message.text}")

    def settle(self, quiet: float = 0.15) -> None:
        """The page loaded (its images, stylesheets and scripts), then no request for ``quiet`` seconds.

        Playwright's "networkidle" is the same with 500 ms of quiet, after every page. The browser
        asks for the favicon just after the load event (within 10 ms here), and the pages fetch
        nothing later (their one htmx request is on a change, in a form this round does not fill).
        """
        self.page.wait_for_load_state("load")
        deadline, quiet_since = time.monotonic() + 10, time.monotonic()
        while self.in_flight or time.monotonic() - quiet_since < quiet:
            assert time.monotonic() < deadline, [request.url for request in self.in_flight]
            if self.in_flight:
                quiet_since = time.monotonic()
            self.page.wait_for_timeout(20)

    def check(self) -> None:
        """axe-core, sideways scrolling and the page's own errors, on the page now shown."""
        page = self.page
        self.settle()
        path = page.url.removeprefix(self.base_url)
        self.checked.append(path)
        # Through the DevTools protocol, so not subject to the page's Content-Security-Policy.
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(self.axe_source)
        for violation in page.evaluate(AXE_RUN):
            self.problems.append(f"axe {violation['impact']} on {path} ({self.width}px): {violation['id']}: "
                                 f"{violation['help']}\n    " + "\n    ".join(violation["nodes"]))  # fmt: skip
        if self.width <= 360:
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > self.width:
                self.problems.append(f"{path} scrolls sideways at {self.width}px: scrollWidth {scroll_width}")

    def goto(self, path: str) -> None:
        response = self.page.goto(self.base_url + path, wait_until="load")
        assert response.status == 200, (path, response.status)
        self.check()

    def submit(self, button: str) -> None:
        with self.page.expect_navigation(wait_until="load"):
            self.page.get_by_role("button", name=button, exact=True).click()
        self.check()

    def follow(self, link) -> None:
        with self.page.expect_navigation(wait_until="load"):
            link.click()
        self.check()

    def close(self) -> None:
        self.context.close()


def misspell(name: str) -> str:
    """A typing slip: a letter in the middle left out ("Hargreaves" -> "Hargeaves")."""
    i = len(name) // 2
    return name[:i] + name[i + 1 :]


def photo_file(tmp_path: Path) -> Path:
    from PIL import Image

    path = tmp_path / "doorstep.jpg"
    Image.new("RGB", (64, 48), (200, 80, 40)).save(path, "JPEG", quality=80)
    return path


def walk(r: Round, data: dict, *, window: int, photo: Path, label: str) -> None:
    import pyotp

    page = r.page
    # 1. Sign in: password, then the authenticator's code.
    r.goto("/account/sign-in/")
    page.locator("input[name=email]").fill(PRACTITIONER)
    page.locator("input[name=password]").fill(PASSWORD)
    r.submit("Continue")
    assert page.url.endswith("/account/two-factor/"), page.url
    page.locator("input[name=code]").fill(pyotp.TOTP(data["secret"]).at(time.time() + 30 * window))
    r.submit("Sign in")
    assert "/account/" not in page.url, page.url

    # 2. The home dashboard: her open cases among its blocks; she opens one of them (its menu folds
    # behind "Menu" on a phone).
    main = page.locator("main")
    assert "My open cases" in main.inner_text() and "My tasks" in main.inner_text()
    menu = page.locator("#navigation")
    if r.width <= 360:
        assert page.get_by_role("button", name="Menu").is_visible() and not menu.is_visible()
        page.get_by_role("button", name="Menu").click()
    assert menu.get_by_role("link", name="Home").get_attribute("aria-current") == "page"
    r.follow(main.locator("a[href^='/cases/']:not([href='/cases/'])").first)
    assert "/cases/" in page.url, page.url

    # 3. On that case page, the header search ("/" goes to its box) with the surname alone, misspelt:
    # the search is posted, never in the address bar.
    page.locator("h1").click()
    page.keyboard.press("/")
    box = page.locator("header input[name=query]")
    assert box.evaluate("box => box === document.activeElement") and box.input_value() == ""
    box.fill(misspell(data["last_name"]))
    with page.expect_navigation(wait_until="load"):
        page.locator("header").get_by_role("button", name="Search", exact=True).click()
    r.check()
    assert "?" not in page.url
    results = page.locator("table.govuk-table").first
    assert results.count() and data["display_name"] in results.inner_text(), page.locator("main").inner_text()
    # On a phone each result is a block, its values under their column's name; on a desktop, a row.
    row_display = results.locator("tbody tr").first.evaluate("row => getComputedStyle(row).display")
    label = results.locator("tbody td").first.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert (row_display, label) == (("block", '"Name"') if r.width <= 360 else ("table-row", "none")), (
        row_display,
        label,
    )

    # 4. The person's profile, then their case.
    r.follow(results.get_by_role("link", name=data["display_name"]).first)
    assert page.url.endswith(f"/profiles/{data['profile_id']}/"), page.url
    r.follow(page.locator(f"a[href='/cases/{data['case_id']}/']").first)
    assert page.url.endswith(f"/cases/{data['case_id']}/"), page.url

    # 5. A visit, with a photo: the action is on the first screen, at 360 px too, found without scrolling.
    add = page.get_by_role("button", name="Add to the timeline")
    box = add.bounding_box()
    assert page.evaluate("scrollY") == 0 and box["y"] + box["height"] <= page.viewport_size["height"], box
    r.follow(add)
    page.get_by_label("Visit", exact=True).check()
    when = dt.date.today()
    page.get_by_label("Day", exact=True).fill(str(when.day))
    page.get_by_label("Month", exact=True).fill(str(when.month))
    page.get_by_label("Year", exact=True).fill(str(when.year))
    page.get_by_label("Time", exact=True).fill("00:01")  # earlier than any other entry of today is fine:
    summary = f"Doorstep visit ({label})"  # the seeded entries are all days old
    page.get_by_label("Summary", exact=True).fill(summary)
    page.locator("input[type=file][name=attachments]").set_input_files(str(photo))
    r.submit(page.locator("form button[type=submit]").last.inner_text().strip())
    assert page.url.endswith(f"/cases/{data['case_id']}/"), page.url
    first = page.locator("ol.concord-timeline > li").first
    assert summary in first.inner_text()
    attachment = first.get_by_role("link", name="doorstep.jpg")
    assert attachment.count() == 1 and "/documents/" in attachment.get_attribute("href")
    # Its thumbnail, through the access-checked route (64 px wide: a thumbnail never enlarges).
    thumbnail = first.locator("img.concord-thumbnail")
    thumbnail.scroll_into_view_if_needed()
    r.settle()
    assert "/thumbnail/" in thumbnail.get_attribute("src")
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth") == 64

    # 6. A task for the police's Safer Neighbourhood Team, from the case.
    r.follow(page.get_by_role("link", name="Create a task").first)
    title = f"Check CCTV near the address ({label})"
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Or assign to a team").select_option(label="Safer Neighbourhood Team (Constabulary)")
    page.get_by_label("Due date").fill((when + dt.timedelta(days=7)).isoformat())
    r.submit(page.locator("form button[type=submit]").last.inner_text().strip())

    # 7. The task is among "Tasks I set".
    r.goto("/tasks/set-by-me/")
    assert title in page.locator("main").inner_text()

    # 8. The gallery: the person's face on their card (the demo's drawn photo), latest contact first.
    if r.width <= 360:
        page.get_by_role("button", name="Menu").click()
    r.follow(page.locator("#navigation").get_by_role("link", name="Gallery", exact=True))
    card = page.locator(f"#person-{data['profile_id']}")
    assert card.count() == 1, page.locator("main").inner_text()
    face = card.locator("img")
    assert face.get_attribute("alt") == f"Photo of {data['display_name']}"
    face.scroll_into_view_if_needed()
    r.settle()
    assert face.evaluate("img => img.complete && img.naturalWidth") > 0

    # 9. The API's reference, for the partner systems' developers.
    r.goto("/api/docs/")
    assert page.locator("h1").inner_text().strip()
    return summary


def admin_reads_the_visit(r: Round, secret: str, *, window: int, summary: str) -> None:
    """Ada, the partnership admin, finds the visit's audit event: the entry named as a person
    reads it, by whom, in words."""
    import pyotp

    page = r.page
    r.goto("/account/sign-in/")
    page.locator("input[name=email]").fill(ADMIN)
    page.locator("input[name=password]").fill(PASSWORD)
    r.submit("Continue")
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).at(time.time() + 30 * window))
    r.submit("Sign in")
    r.goto("/admin/audit/")
    page.get_by_label("Action").select_option(label="Timeline entry recorded")
    r.submit("Apply filters")
    row = page.locator("table tbody tr", has_text=summary)
    assert row.count() == 1, page.locator("main").inner_text()
    text = row.inner_text()
    assert f"Timeline entry: {summary}" in text and "Priya Shah" in text, text


def test_a_practitioners_round_at_desktop_and_phone_widths(walkthrough, walkthrough_admin, server, browser,
                                                           tmp_path):  # fmt: skip
    photo = photo_file(tmp_path)
    problems: list[str] = []
    for window, (width, height) in enumerate(SIZES):
        for who in ("practitioner", "admin"):
            r = Round(browser, server, width, height)
            try:
                if who == "practitioner":
                    summary = walk(r, walkthrough, window=window, photo=photo, label=f"{width}px")
                else:
                    admin_reads_the_visit(r, walkthrough_admin, window=window, summary=summary)
            finally:
                problems += r.problems
                print(f"{width}px, {who}: checked {len(r.checked)} pages: {', '.join(r.checked)}")
                r.close()
    for problem in problems:
        print(problem)
    assert problems == []


def test_axe_core_is_a_locked_front_end_dependency(db):
    """axe-core comes from package-lock.json, installed by build.sh's npm ci.

    (``db``: pytest-django sets up the test database only for a session with a test that
    asks for it, and ``committed_db`` does not: so this file also runs on its own.)
    """
    package = json.loads((REPO / "infra" / "frontend" / "package.json").read_text())
    lock = json.loads((REPO / "infra" / "frontend" / "package-lock.json").read_text())
    assert "axe-core" in package["dependencies"]
    assert "node_modules/axe-core" in lock["packages"]


PHONE = (360, 740)


def test_on_a_phone_the_case_pages_actions_come_first(walkthrough, server, browser, tmp_path):
    """At 360x740: "Add to the timeline" is within the first screen of the case page, the entry
    form asks for the kind, when and a summary first (the rest in a "More details" group), and
    the case page, the profile page and the entry form are axe-clean; a visit added there shows its
    photo's thumbnail."""
    import pyotp

    photo = photo_file(tmp_path)
    r = Round(browser, server, *PHONE)
    page = r.page
    try:
        r.goto("/account/sign-in/")
        page.locator("input[name=email]").fill(PRACTITIONER)
        page.locator("input[name=password]").fill(PASSWORD)
        r.submit("Continue")
        page.locator("input[name=code]").fill(pyotp.TOTP(walkthrough["secret"]).now())
        r.submit("Sign in")
        r.goto(f"/profiles/{walkthrough['profile_id']}/")
        profile_bottoms = {
            "create a task": page.locator("main a", has_text="Create a task").first.bounding_box(),
            "add a photo": page.locator("main a", has_text="Add a photo").bounding_box(),
        }
        # "Add a photo" takes the reader to the photo's file input (further down on a phone), on screen.
        page.locator("main a", has_text="Add a photo").click()
        page.wait_for_function("location.hash !== ''")
        photo_input = page.locator("input[type=file][name=photo]")
        photo_on_screen = photo_input.evaluate(
            "input => { const box = input.getBoundingClientRect(); return box.top >= 0 && box.bottom <= innerHeight; }"
        )
        r.goto(f"/cases/{walkthrough['case_id']}/")
        add = page.get_by_role("button", name="Add to the timeline")
        case_task = page.get_by_role("link", name="Create a task").first
        add_box, task_box = add.bounding_box(), case_task.bounding_box()
        r.follow(add)
        form_height = page.locator("main form").first.bounding_box()["height"]
        page_height = page.evaluate("document.documentElement.scrollHeight")
        print(f"360x740: 'Add to the timeline' at y={add_box['y']:.0f} (bottom {add_box['y'] + add_box['height']:.0f}),"
              f" 'Create a task' at y={task_box['y']:.0f}; profile: " + ", ".join(
                  f"{name} at y={box['y']:.0f}" for name, box in profile_bottoms.items())
              + f"; entry form {form_height:.0f} px high, its page {page_height} px")  # fmt: skip
        assert add_box["y"] + add_box["height"] <= PHONE[1]
        assert task_box["y"] + task_box["height"] <= PHONE[1]
        for name, box in profile_bottoms.items():
            assert box["y"] + box["height"] <= PHONE[1], name
        assert photo_on_screen
        # The first step: the kind, when, a summary and the button; nothing else is shown until asked.
        more = page.locator("main form details")
        assert more.count() == 1 and not more.evaluate("details => details.open")
        assert page.get_by_label("Summary", exact=True).is_visible()
        assert not page.locator("textarea[name=body]").is_visible()
        assert form_height <= 2 * PHONE[1]
        # Opened, the rest of the form is there, and still clean.
        more.locator("summary").click()
        assert page.locator("textarea[name=body]").is_visible()
        assert page.get_by_label("This entry is sensitive: only named teams may read it").is_visible()
        r.check()
        # A visit with a photo, from the phone: its thumbnail is on the timeline and opens the original.
        page.get_by_label("Visit", exact=True).check()
        page.get_by_label("Summary", exact=True).fill("Doorstep visit (phone)")
        page.locator("input[type=file][name=attachments]").set_input_files(str(photo))
        r.submit("Add entry")
        first = page.locator("ol.concord-timeline > li").first
        assert "Doorstep visit (phone)" in first.inner_text() and "Visit" in first.inner_text()
        thumbnail = first.locator("img.concord-thumbnail")
        thumbnail.scroll_into_view_if_needed()
        r.settle()
        assert thumbnail.evaluate("img => img.complete && img.naturalWidth") == 64  # not enlarged
        assert "/documents/" in first.get_by_role("link", name="doorstep.jpg").get_attribute("href")
    finally:
        problems = r.problems
        r.close()
    assert problems == []
