"""The audit log in a real browser, as the partnership admin reads it, at 1280 and 360 px.

The walk-through's partnership (``tests/browser/test_walkthrough.py``: its fixtures, not its
story) with the demo casework; Ada, its first admin, given a password and an authenticator.
She opens the audit log after Priya has edited one field of an entry. Checked at both widths:
axe-core (no serious or critical violation, no "region"), no console error, no sideways scroll
at 360 px; at 1280 px every column heading fits its column without breaking a word and the
events are table rows; at 360 px each event is a card, each value under its column's name.
"""

from __future__ import annotations

import time

import pyotp
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tests.browser.test_walkthrough import CHROMIUM, SIZES, SLUG, Round, browser, server, walkthrough  # noqa: F401
from tests.conftest import PASSWORD, enrol_authenticator

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (bash infra/dev/browser.sh installs it)"
)

ADMIN = f"admin@{SLUG}.test"

# Every word of each heading against the width its cell gives it (the content box): a heading
# whose longest word fits is never broken inside a word (the table sets overflow-wrap: normal).
HEADINGS_FIT = """() => [...document.querySelectorAll("table.concord-audit-table thead th")].map(th => {
    const style = getComputedStyle(th);
    const canvas = document.createElement("canvas").getContext("2d");
    canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = th.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const widest = Math.max(...th.textContent.trim().split(/\\s+/).map(word => canvas.measureText(word).width));
    return {heading: th.textContent.trim(), room, widest, wrap: style.overflowWrap};
})"""

REGION = """() => axe.run(document, {runOnly: ["region"]}).then(result => result.violations
    .map(v => v.nodes.map(n => n.target.join(" ")).join(", ")))"""


@pytest.fixture
def ada(walkthrough):  # noqa: F811 (the walk-through's fixture, imported above)
    """Ada Admin with the cast's password and an authenticator, who may read every record;
    Priya's edit of one field of an entry on the walk-through's case."""
    from tenant_apps.accounts.models import User
    from tenant_apps.casework import services
    from tenant_apps.casework.models import CaseworkSettings, TimelineEntry

    with schema_context(SLUG):
        # The partnership lets its admins read every record (the partnership is dropped afterwards).
        CaseworkSettings.objects.update_or_create(pk=1, defaults={"admins_see_everything": True})
        admin = User.objects.get(email=ADMIN)
        admin.set_password(PASSWORD)
        admin.save()
        secret = enrol_authenticator(admin)
        priya = User.objects.get(full_name="Priya Shah")
        entry = (
            TimelineEntry.objects.filter(case_id=walkthrough["case_id"], deleted_at__isnull=True, is_sensitive=False)
            .exclude(history__data__is_sensitive=True)
            .first()
        )
        services.entry_update(user=priya, entry=entry, version=entry.version, kind=entry.kind, action=entry.action,
                              occurred_at=entry.occurred_at, summary=f"{entry.summary} (checked)", body=entry.body,
                              attendees=entry.attendees)  # fmt: skip
        summary = f"{entry.summary} (checked)"
    connection.set_schema_to_public()
    return {"secret": secret, "summary": summary}


def test_the_admin_reads_the_audit_log_at_desktop_and_phone_widths(walkthrough, ada, server, browser):  # noqa: F811
    problems: list[str] = []
    for window, (width, height) in enumerate(SIZES):
        r = Round(browser, server, width, height)
        page = r.page
        try:
            r.goto("/account/sign-in/")
            page.locator("input[name=email]").fill(ADMIN)
            page.locator("input[name=password]").fill(PASSWORD)
            r.submit("Continue")
            page.locator("input[name=code]").fill(pyotp.TOTP(ada["secret"]).at(time.time() + 30 * window))
            r.submit("Sign in")
            r.goto("/admin/audit/?action=timeline.entry_updated")
            main = page.locator("main").inner_text()
            # Priya's edit: her name, the entry by name, the one field she changed.
            assert "Priya Shah" in main and f"Timeline entry: {ada['summary']}" in main, main
            changes = page.locator("dl.concord-audit-changes").first.inner_text()
            assert "Summary" in changes and "Kind" not in changes and "When" not in changes, changes
            for region in page.evaluate(REGION):
                problems.append(f"axe region at {width}px: {region}")
            row = page.locator("table.concord-audit-table tbody tr").first
            display = row.evaluate("row => getComputedStyle(row).display")
            if width >= 1280:
                assert display == "table-row", display
                for heading in page.evaluate(HEADINGS_FIT):
                    if heading["widest"] > heading["room"] or heading["wrap"] != "normal":
                        problems.append(f"heading {heading} breaks mid-word at {width}px")
            else:
                label = row.locator("td").first.evaluate("cell => getComputedStyle(cell, '::before').content")
                assert (display, label) == ("block", '"When"'), (display, label)
            # The filters still work in the browser: by user, then cleared.
            page.get_by_label("User").select_option(label="Priya Shah (priya.shah@walkthrough.test)")
            page.get_by_label("Action").select_option(value="")
            r.submit("Apply filters")
            assert "user=" in page.url and "Ada Admin" not in page.locator("tbody").inner_text()
        finally:
            problems += r.problems
            r.close()
    for problem in problems:
        print(problem)
    assert problems == []
