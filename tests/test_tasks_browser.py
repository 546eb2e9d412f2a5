"""Tasks overdue and due today in a real browser, at desktop and phone widths (issue 10, point 9).

The walk-through's partnership (tests/browser/test_walkthrough.py: the demo casework and its
tasks, committed, served by gunicorn): Priya, of the council's ASB Team, reads her lists, with
the demo's tasks overdue and due today flagged and the late ones first; opens a late task and
moves its due date on;
records a task already overdue (the form asks her to confirm the past date); and turns her
daily e-mail off and on. axe-core (no serious or critical violation), no console error and, at
360 px, no sideways scroll, on every page, as in the walk-through.
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from tests.browser.test_layout import CHROMIUM
from tests.browser.test_walkthrough import PRACTITIONER, SIZES, Round, browser, server, walkthrough  # noqa: F401
from tests.conftest import PASSWORD

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (bash infra/dev/browser.sh installs it)"
)


def sign_in(r: Round, secret: str, window: int) -> None:
    import pyotp

    r.goto("/account/sign-in/")
    r.page.locator("input[name=email]").fill(PRACTITIONER)
    r.page.locator("input[name=password]").fill(PASSWORD)
    r.submit("Continue")
    r.page.locator("input[name=code]").fill(pyotp.TOTP(secret).at(time.time() + 30 * window))
    r.submit("Sign in")
    assert "/account/" not in r.page.url, r.page.url


def flags(r: Round) -> list[str]:
    """Each row's due flag ("Overdue", "Due today" or ""), top to bottom."""
    rows = r.page.locator("main table tbody tr")
    return [re.sub(r"\s+", " ", rows.nth(i).locator("td[data-label=Due]").inner_text()) for i in range(rows.count())]


def tasks_round(r: Round, secret: str, *, window: int, label: str) -> None:
    page = r.page
    sign_in(r, secret, window)
    seen = []
    for path in ("/tasks/", "/tasks/team/", "/tasks/set-by-me/"):
        r.goto(path)
        due = flags(r)
        late = [("Overdue" in d) for d in due]
        assert late == sorted(late, reverse=True), (path, due)  # the late ones first
        seen += due
    assert any("Overdue" in d for d in seen) and any("Due today" in d for d in seen), seen

    # A late task's own page says so beside its due date.
    r.goto("/tasks/set-by-me/")
    r.follow(page.locator("main table tbody tr").first.get_by_role("link").first)
    assert "Overdue" in page.locator("main dl").inner_text()
    # ... and its date can be moved on (the form opens on the date it has).
    task_path = page.url.removeprefix(r.base_url)
    r.follow(page.get_by_role("link", name="Change due date"))
    assert page.get_by_label("New due date").input_value() < dt.date.today().isoformat()
    page.get_by_label("New due date").fill((dt.date.today() + dt.timedelta(days=2)).isoformat())
    r.submit("Save due date")
    assert page.url.endswith(task_path) and "Overdue" not in page.locator("main dl").inner_text()

    # A task agreed last week and already late: the form asks to confirm the past date.
    r.goto("/tasks/new/")
    title = f"Chase the letter agreed at last week's meeting ({label})"
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Or assign to a team").select_option(label="Safer Neighbourhood Team (Constabulary)")
    page.get_by_label("Due date").fill((dt.date.today() - dt.timedelta(days=3)).isoformat())
    r.submit("Create task")
    assert "There is a problem" in page.locator("main").inner_text()
    page.get_by_label("Yes, the task is already overdue: record it with this date").check()
    r.submit("Create task")
    assert re.search(r"/tasks/\d+/$", page.url), page.url
    assert title in page.locator("h1").inner_text() and "Overdue" in page.locator("main dl").inner_text()

    # The daily e-mail: off, then on again.
    r.goto("/tasks/")
    r.follow(page.get_by_role("link", name=re.compile("Daily e-mail of your tasks")))
    page.get_by_label("No, do not e-mail me about them").check()
    r.submit("Save")
    assert "The daily e-mail is off." in page.locator("main").inner_text()
    page.get_by_label("Yes, e-mail me on days when I have tasks overdue or due today").check()
    r.submit("Save")
    assert "The daily e-mail is on." in page.locator("main").inner_text()


def test_overdue_and_due_today_at_desktop_and_phone_widths(walkthrough, server, browser):  # noqa: F811
    problems: list[str] = []
    for window, (width, height) in enumerate(SIZES):
        r = Round(browser, server, width, height)
        try:
            tasks_round(r, walkthrough["secret"], window=window, label=f"{width}px")
        finally:
            problems += r.problems
            print(f"{width}px: checked {len(r.checked)} pages: {', '.join(r.checked)}")
            r.close()
    for problem in problems:
        print(problem)
    assert problems == []
