"""The timeline as a practitioner reads it (issue 10, points 4 and 6): each kind with its icon and
label, one heading that says nothing twice, restricted entries naming the teams that hold them,
an entry's history in words, and the entry form's first step.

The cast is test_casework_pages.py's: Bob (council, ASB Team) owns the records; Carl (council,
Community Safety Team) sees them but not an entry restricted to the ASB Team; Dan (police) sees
nothing; Nina is in Norfolk and must reach nothing of Suffolk's.
"""

# ruff: noqa: F811 - the cast and records fixtures are imported from test_casework_pages

from __future__ import annotations

import datetime as dt
import re

from django.test import Client
from django.utils import dateformat, timezone
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.casework import services
from tenant_apps.casework.models import TimelineEntry
from tests.conftest import sign_in
from tests.test_casework_pages import _fresh, client_as, entry_form, in_suffolk, make_entry, records  # noqa: F401


def _item(page: str, entry) -> str:
    start = page.index(f'id="entry-{entry.pk}"')
    return page[start : page.index("</li>", start)]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


# --- Kinds and headings ---------------------------------------------------------------------------


def test_each_kind_has_an_icon_and_a_label_and_the_heading_says_nothing_twice(cast, records):
    case = records["case"]
    meeting = make_entry(cast, case, kind="meeting", action="cmm", summary="Case-management meeting")
    conference = make_entry(cast, case, kind="meeting", action="rj_conference", summary="Agreed an apology")
    letter = make_entry(cast, case, kind="enforcement", action="warning_letter", summary="Warning letter sent")
    call = make_entry(cast, case, kind="phone_call", summary="Rang the landlord")
    page = client_as(cast, "bob").get(f"/cases/{case.pk}/").content.decode()

    item = _item(page, meeting)
    # The summary alone is the heading; the label above it does not repeat the action it names.
    assert re.findall(r"<h3[^>]*>(.*?)</h3>", item) == ["Case-management meeting"]
    assert '<span class="concord-entry-kind__label">Meeting</span>' in item
    assert "Meeting: Case-management meeting" not in _text(item)
    item = _item(page, conference)
    assert re.findall(r"<h3[^>]*>(.*?)</h3>", item) == ["Agreed an apology"]
    assert '<span class="concord-entry-kind__label">Meeting: Restorative-justice conference</span>' in item
    item = _item(page, letter)  # the summary says the action: the label does not
    assert re.findall(r"<h3[^>]*>(.*?)</h3>", item) == ["Warning letter sent"]
    assert '<span class="concord-entry-kind__label">Enforcement action</span>' in item
    item = _item(page, call)
    assert '<span class="concord-entry-kind__label">Phone call</span>' in item
    # Each icon is drawn inline, hidden from assistive technology; its label is text.
    for entry in (meeting, conference, letter, call, records["entry"]):
        icon = re.search(r"<svg[^>]*>", _item(page, entry)).group(0)
        assert 'aria-hidden="true"' in icon and 'focusable="false"' in icon
    assert page.count('class="concord-entry-kind__icon"') == 5


# --- Restricted entries ---------------------------------------------------------------------------


def test_a_restricted_entry_names_the_teams_that_hold_it_and_whom_to_ask(cast, records):
    case = records["case"]
    one = make_entry(cast, case, summary="Disclosure", body="The threats", is_sensitive=True,
                     restricted_to_teams=[cast["asb"]])  # fmt: skip
    two = make_entry(cast, case, kind="note", summary="Police intelligence", is_sensitive=True,
                     restricted_to_teams=[cast["snt"], cast["asb"]])  # fmt: skip
    carl = client_as(cast, "carl")  # in neither team
    for url in (f"/cases/{case.pk}/", f"/profiles/{records['profile'].pk}/"):
        page = carl.get(url).content.decode()
        first, second = _text(_item(page, one)), _text(_item(page, two))
        assert "Disclosure" not in page and "threats" not in page and "Police intelligence" not in page, url
        assert ("Restricted to ASB Team (District Council). Ask a member of that team, or your partnership"
                " admin.") in first, url  # fmt: skip
        assert ("Restricted to ASB Team (District Council) and Safer Neighbourhood Team (Constabulary). Ask a"
                " member of one of those teams, or your partnership admin.") in second, url  # fmt: skip
        assert "Restricted entry: note," in second and '<span class="concord-entry-kind__label">Note</span>' in page
    # Bob, in the ASB Team, reads both: no "Restricted to".
    bob = client_as(cast, "bob").get(f"/cases/{case.pk}/").content.decode()
    assert "Disclosure" in bob and "Police intelligence" in bob and "Restricted to" not in bob
    # What Carl is told changes as soon as the teams do (the rendered entry is cached by what it shows).
    with schema_context("suffolk"):
        TimelineEntry.objects.get(pk=one.pk).restricted_to_teams.add(cast["cst"])
    page = carl.get(f"/cases/{case.pk}/").content.decode()
    assert "Disclosure" in page  # now his team's too


# --- History --------------------------------------------------------------------------------------


def _edit(cast, entry, **changes):
    with schema_context("suffolk"):
        current = TimelineEntry.objects.get(pk=entry.pk)
        return services.entry_update(user=_fresh(cast["bob"]), entry=current, version=current.version, **changes)


def test_the_history_says_who_changed_what_and_when_in_words(cast, records):
    case = records["case"]
    entry = make_entry(cast, case, kind="meeting", action="cmm", summary="Case-management meeting",
                       attendees="Bob, Carl")  # fmt: skip
    before = timezone.localtime(entry.occurred_at)
    later = before - dt.timedelta(days=1)
    _edit(cast, entry, kind="enforcement", action="warning_letter", summary="Warning letter sent",
          occurred_at=later)  # fmt: skip
    _edit(cast, entry, body="Hand-delivered.")
    bob = client_as(cast, "bob")
    case_page = bob.get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/timeline/{entry.pk}/history/"' in _item(case_page, entry)

    events = in_suffolk(AuditEvent.objects.count)
    response = bob.get(f"/timeline/{entry.pk}/history/")
    assert response.status_code == 200
    page = response.content.decode()
    text = _text(page)
    # Newest first; each edit with who and when, and only the fields it changed, old and new in words.
    assert text.index("Version 3: changed by Bob Brown") < text.index("Version 2: changed by Bob Brown")
    assert text.index("Version 2: changed by Bob Brown") < text.index("Version 1: recorded by Bob Brown")
    rows = re.findall(r'<tr class="govuk-table__row"><th scope="row"[^>]*>(.*?)</th><td[^>]*>(.*?)</td>'
                      r"<td[^>]*>(.*?)</td></tr>", page)  # fmt: skip
    fmt = "j M Y, H:i"
    assert rows == [
        ("Details", "None", "Hand-delivered."),
        ("Kind of entry", "Meeting", "Enforcement action"),
        ("Action", "Case-management meeting", "Warning letter"),
        ("When it happened", dateformat.format(before, fmt), dateformat.format(later, fmt)),
        ("Summary", "Case-management meeting", "Warning letter sent"),
    ]
    # No raw values: no choice codes, no ISO times; the unchanged attendees are not listed.
    assert "cmm" not in text and "warning_letter" not in text and entry.occurred_at.isoformat() not in page
    assert "Who was there" not in text
    # Audited as a read of the entry.
    with schema_context("suffolk"):
        new = list(AuditEvent.objects.order_by("id").values_list("action", "object_id", "summary")[events:])
    assert new == [("timeline.entry_viewed", str(entry.pk), "history")]


def test_an_entry_never_edited_says_so(cast, records):
    page = client_as(cast, "bob").get(f"/timeline/{records['entry'].pk}/history/").content.decode()
    assert "Version 1: recorded by Bob Brown" in _text(page) and "It has not been changed since." in page


def test_only_those_who_may_read_the_entry_see_its_history(cast, records):
    case = records["case"]
    open_entry = records["entry"]
    secret = make_entry(cast, case, summary="Disclosure", is_sensitive=True, restricted_to_teams=[cast["asb"]])
    _edit(cast, open_entry, summary="Spoke to Kyle and his mother")
    _edit(cast, secret, summary="Disclosure of threats")
    bob = client_as(cast, "bob")
    assert bob.get(f"/timeline/{secret.pk}/history/").status_code == 200
    carl = client_as(cast, "carl")  # reads the open entry (without editing it), not the ASB Team's
    assert carl.get(f"/timeline/{open_entry.pk}/history/").status_code == 200
    refused = carl.get(f"/timeline/{secret.pk}/history/")
    missing = carl.get("/timeline/999999/history/")
    assert refused.status_code == missing.status_code == 404
    assert "Disclosure" not in refused.content.decode()
    dan = client_as(cast, "dan")
    for entry in (open_entry, secret):
        assert dan.get(f"/timeline/{entry.pk}/history/").status_code == 404
    nina = Client(HTTP_HOST="norfolk.localhost")
    sign_in(nina, "nina@norfolk.test")
    for entry in (open_entry, secret):
        assert nina.get(f"/timeline/{entry.pk}/history/").status_code == 404
    anonymous = Client(HTTP_HOST="suffolk.localhost").get(f"/timeline/{open_entry.pk}/history/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/account/sign-in/")


# --- The entry form: kind, when and a summary first -----------------------------------------------


def _more(page: str) -> str:
    return re.search(r'<details class="govuk-details" id="more-details"[^>]*>', page).group(0)


def test_the_entry_form_asks_the_kind_when_and_a_summary_first_and_keeps_every_field(cast, records):
    bob = client_as(cast, "bob")
    url = f"/cases/{records['case'].pk}/timeline/new/"
    page = bob.get(url).content.decode()
    more = page.index('id="more-details"')
    for name in ('name="kind"', 'name="occurred_on_day"', 'name="occurred_time"', 'name="summary"'):
        assert page.index(name) < more, name
    for name in ('name="meeting_action"', 'name="enforcement_action"', 'name="body"', 'name="attendees"',
                 'name="attachments"', 'name="is_sensitive"', 'name="restricted_to_teams"'):  # fmt: skip
        assert page.index(name) > more, name
    assert " open" not in _more(page)  # closed: a native disclosure, no script needed
    assert "aria-controls" not in page[more:] and "data-aria-controls" not in page  # no conditional reveal

    # An error in the group opens it; so does a value typed there when another field is refused.
    refused = bob.post(url, entry_form(kind="enforcement", enforcement_action="", summary="Letter")).content.decode()
    assert " open" in _more(refused) and 'href="#id_enforcement_action"' in refused
    kept = bob.post(url, entry_form(kind="visit", summary="", body="What we saw")).content.decode()
    assert " open" in _more(kept) and "What we saw" in kept and 'href="#id_summary"' in kept
    sensitive = bob.post(url, entry_form(kind="visit", summary="Disclosure", is_sensitive="on")).content.decode()
    assert " open" in _more(sensitive) and "Choose the teams that may read a sensitive entry." in sensitive
    plain = bob.post(url, entry_form(kind="visit", summary="", meeting_action="", attendees="")).content.decode()
    assert " open" not in _more(plain) and 'href="#id_summary"' in plain
    assert in_suffolk(TimelineEntry.objects.count) == 1  # nothing half-saved
    # Filled in the first step only, it saves.
    quick = bob.post(url, entry_form(kind="visit", meeting_action="", attendees="", summary="Quick visit"))
    assert quick.status_code == 302
    assert in_suffolk(TimelineEntry.objects.filter(summary="Quick visit").exists)
