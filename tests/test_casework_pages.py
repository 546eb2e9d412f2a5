"""Casework pages: profiles, cases, the timeline, sharing and the gallery.

The cast in Suffolk (made per test, rolled back), as in test_casework.py:
- Bob: District Council, ASB Team. Owns the records (his team and agency).
- Carl: District Council, Community Safety Team: same agency, other team. Sees the
  records, but not the content of an entry restricted to the ASB Team.
- Dan: Constabulary, Safer Neighbourhood Team: other agency. Sees nothing until shared.
- Vera: District Council, ASB Team, viewer: reads, never writes.
- Nina, in Norfolk, must never reach any of it, whatever ids she types.

Everyone signs in by the real flow (password, then a TOTP code).
"""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.casework import services
from tenant_apps.casework.models import Case, CaseType, Profile, TimelineEntry, WarningMarker
from tests.conftest import PASSWORD, sign_in


def client_as(cast, name: str) -> Client:
    """A browser signed in as one of the cast, by password and a TOTP code."""
    client = Client(HTTP_HOST="suffolk.localhost")
    if name in ("alice", "bob"):
        sign_in(client, f"{name}@suffolk.test")
        return client
    first = client.post("/account/sign-in/", {"email": f"{name}@suffolk.test", "password": PASSWORD})
    assert first.status_code == 302 and first["Location"] == "/account/two-factor/"
    second = client.post("/account/two-factor/", {"code": pyotp.TOTP(cast["secrets"][name]).now()})
    assert second.status_code == 302
    return client


def in_suffolk(function, *args, **kwargs):
    with schema_context("suffolk"):
        return function(*args, **kwargs)


def make_profile(cast, **fields):
    defaults = {"first_name": "Kyle", "last_name": "Brennan", "date_of_birth": dt.date(2001, 5, 17)}
    with schema_context("suffolk"):
        bob = _fresh(cast["bob"])
        return services.profile_create(user=bob, owning_team=cast["asb"], **{**defaults, **fields})


def make_case(cast, profile, **fields):
    with schema_context("suffolk"):
        return services.case_create(
            user=_fresh(cast["bob"]), case_type=CaseType.objects.get(code="ASB"),
            title="Noise and intimidation, Mill Lane", owning_team=cast["asb"],
            subjects=[(profile, "perpetrator")], **fields,
        )  # fmt: skip


def make_entry(cast, case, **fields):
    values = {"kind": "visit", "occurred_at": timezone.now() - dt.timedelta(hours=1), "summary": "Home visit"}
    with schema_context("suffolk"):
        return services.entry_create(user=_fresh(cast["bob"]), case=case, **{**values, **fields})


def _fresh(user):
    user.__dict__.pop("_casework_scope", None)
    return user


@pytest.fixture
def records(cast):
    """Kyle (a profile with a warning marker), his case, and one entry on it."""
    profile = make_profile(cast)
    with schema_context("suffolk"):
        WarningMarker.objects.create(profile=profile, kind="dogs", note="Two dogs in the garden")
    case = make_case(cast, profile)
    entry = make_entry(cast, case, summary="Spoke to Kyle at the door")
    connection.set_schema_to_public()
    return {"profile": profile, "case": case, "entry": entry}


def every_page(records) -> list[str]:
    p, c, e = records["profile"].pk, records["case"].pk, records["entry"].pk
    return [
        "/profiles/", "/profiles/new/", f"/profiles/{p}/", f"/profiles/{p}/edit/", "/cases/", "/cases/new/",
        f"/cases/{c}/", f"/cases/{c}/status/", f"/cases/{c}/sharing/", f"/cases/{c}/timeline/new/",
        f"/timeline/{e}/edit/", f"/timeline/{e}/delete/", "/gallery/",
    ]  # fmt: skip


DETAIL_AND_FORM_PAGES = slice(2, 4), slice(6, 12)


def detail_pages(records) -> list[str]:
    pages = every_page(records)
    return [url for part in DETAIL_AND_FORM_PAGES for url in pages[part]]


# --- Who may come in ---------------------------------------------------------------------------


def test_bob_the_owner_opens_every_page(cast, records):
    bob = client_as(cast, "bob")
    for url in every_page(records):
        response = bob.get(url)
        assert response.status_code == 200, url
        assert b'<h1 class="govuk-' in response.content, url
    home = bob.get("/").content.decode()
    assert "My open cases" in home and 'href="/profiles/"' in home and 'href="/gallery/"' in home


def test_anonymous_is_sent_to_sign_in(cast, records):
    for url in every_page(records):
        response = Client(HTTP_HOST="suffolk.localhost").get(url)
        assert response.status_code == 302 and response["Location"].startswith("/account/sign-in/"), url


def test_dan_of_another_agency_gets_404_and_finds_nothing_in_lists(cast, records):
    dan = client_as(cast, "dan")
    for url in detail_pages(records):
        assert dan.get(url).status_code == 404, url
    for url in ["/profiles/", "/cases/", "/gallery/"]:
        page = dan.get(url).content.decode()
        assert "Kyle Brennan" not in page and records["case"].reference not in page, url
    # A POST changes nothing either.
    p = records["profile"]
    response = dan.post(f"/profiles/{p.pk}/edit/", {"first_name": "Hijacked", "gender": "male", "version": 1})
    assert response.status_code == 404
    assert in_suffolk(lambda: Profile.objects.get(pk=p.pk).first_name) == "Kyle"
    # Once shared with his team, he sees the case (not the profile: only the case was shared).
    with schema_context("suffolk"):
        services.share_grant(user=_fresh(cast["bob"]), case=records["case"], team=cast["snt"])
    assert dan.get(f"/cases/{records['case'].pk}/").status_code == 200
    assert records["case"].reference in dan.get("/cases/").content.decode()
    assert dan.get(f"/profiles/{p.pk}/").status_code == 404
    assert dan.get(f"/cases/{records['case'].pk}/status/").status_code == 404  # view only


def test_vera_the_viewer_reads_but_has_no_create_or_edit_links_and_cannot_post(cast, records):
    vera = client_as(cast, "vera")
    p, c, e = records["profile"], records["case"], records["entry"]
    for url in ["/profiles/", f"/profiles/{p.pk}/", "/cases/", f"/cases/{c.pk}/", "/gallery/", "/"]:
        response = vera.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        for link in ("/profiles/new/", "/cases/new/", "/edit/", "/status/", "/timeline/new/", "/sharing/",
                     "/delete/"):  # fmt: skip
            assert link not in page, (url, link)
    posts = {
        "/profiles/new/": {"kind": "person", "first_name": "Vera's", "last_name": "Profile", "gender": "male",
                           "owning_team": cast["asb"].pk},
        f"/profiles/{p.pk}/edit/": {"first_name": "Changed", "gender": "male", "version": 1},
        "/cases/new/": {"case_type": 1, "title": "Vera's case", "owning_team": cast["asb"].pk,
                        "subject_1": p.pk, "role_1": "victim"},
        f"/cases/{c.pk}/status/": {"status": "on_hold", "version": 1},
        f"/cases/{c.pk}/sharing/": {"agency": cast["police"].pk, "access": "edit"},
        f"/cases/{c.pk}/timeline/new/": {"kind": "note", "summary": "Vera's note", "occurred_time": "10:00"},
        f"/timeline/{e.pk}/edit/": {"kind": "note", "summary": "Changed", "version": 1},
        f"/timeline/{e.pk}/delete/": {"reason": "Vera", "version": 1},
    }  # fmt: skip
    for url, data in posts.items():
        assert vera.post(url, data).status_code in (403, 404), url
    with schema_context("suffolk"):
        assert Profile.objects.count() == 1 and Profile.objects.get().first_name == "Kyle"
        assert Case.objects.count() == 1 and Case.objects.get().status == "open"
        assert not Case.objects.get().shares.exists()
        assert TimelineEntry.objects.filter(deleted_at__isnull=True).count() == 1
        assert TimelineEntry.objects.get().summary == "Spoke to Kyle at the door"


def test_nina_gets_404_for_suffolk_ids_on_norfolks_host(cast, records):
    nina = Client(HTTP_HOST="norfolk.localhost")
    sign_in(nina, "nina@norfolk.test")
    with schema_context("norfolk"):
        assert not Profile.objects.filter(pk=records["profile"].pk).exists()
        assert not Case.objects.filter(pk=records["case"].pk).exists()
    for url in detail_pages(records):
        assert nina.get(url).status_code == 404, url
    for url in ["/profiles/", "/cases/", "/gallery/"]:
        page = nina.get(url).content.decode()
        assert "Kyle" not in page and records["case"].reference not in page


# --- Profiles ----------------------------------------------------------------------------------


def profile_form(**fields) -> dict:
    data = {"kind": "person", "first_name": "Jon", "last_name": "Smyth", "date_of_birth_day": "1",
            "date_of_birth_month": "3", "date_of_birth_year": "1990", "gender": "male", "aliases": ""}  # fmt: skip
    return {**data, **fields}


def test_a_likely_duplicate_is_shown_before_the_profile_is_created(cast):
    existing = make_profile(cast, first_name="John", last_name="Smith", date_of_birth=dt.date(1990, 3, 1))
    bob = client_as(cast, "bob")
    data = profile_form(owning_team=cast["asb"].pk, aliases="Jonny\nJ Smyth")
    response = bob.post("/profiles/new/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "This may be someone who already has a profile" in page
    assert f'href="/profiles/{existing.pk}/"' in page and "John Smith" in page
    assert "These are not the same person: create the profile" in page
    assert in_suffolk(Profile.objects.count) == 1
    # The confirmation is a hidden field carried by the re-shown form.
    key = response.context["form"].duplicate_key()
    assert f'name="not_duplicate" value="{key}"' in page
    response = bob.post("/profiles/new/", {**data, "not_duplicate": key})
    assert response.status_code == 302
    with schema_context("suffolk"):
        created = Profile.objects.get(first_name="Jon")
        assert response["Location"] == f"/profiles/{created.pk}/"
        assert sorted(created.aliases.values_list("name", flat=True)) == ["J Smyth", "Jonny"]
        assert created.owning_team_id == cast["asb"].pk
    # A confirmation given for other names does not skip the check.
    response = bob.post("/profiles/new/", {**data, "first_name": "John", "last_name": "Smith", "not_duplicate": key})
    assert "This may be someone who already has a profile" in response.content.decode()


def test_organisations_are_created_by_name_without_the_duplicate_step(cast):
    bob = client_as(cast, "bob")
    response = bob.post("/profiles/new/", {"kind": "premises", "name": "The Red Lion", "gender": "not_known",
                                           "owning_team": cast["asb"].pk})  # fmt: skip
    assert response.status_code == 302
    assert in_suffolk(lambda: Profile.objects.get(kind="premises").display_name) == "The Red Lion"


def test_bad_profile_input_names_the_field_and_saves_nothing(cast):
    bob = client_as(cast, "bob")
    future = timezone.localdate() + dt.timedelta(days=3)
    cases = [
        ({"date_of_birth_day": str(future.day), "date_of_birth_month": str(future.month),
          "date_of_birth_year": str(future.year)}, "id_date_of_birth", "Date of birth must be today or in the past"),
        ({"date_of_birth_day": "31", "date_of_birth_month": "2"}, "id_date_of_birth", "must be a real date"),
        ({"date_of_birth_year": ""}, "id_date_of_birth", "must include a year"),
        ({"first_name": "", "last_name": ""}, "id_last_name", "Enter a first name or a last name"),
        ({"owning_team": cast["snt"].pk}, "id_owning_team", "Choose one of your teams"),
    ]  # fmt: skip
    for fields, anchor, message in cases:
        data = profile_form(owning_team=cast["asb"].pk, not_duplicate="x")
        response = bob.post("/profiles/new/", {**data, **fields})
        assert response.status_code == 200, fields
        page = response.content.decode()
        assert f'href="#{anchor}"' in page and message in page, fields
        assert f'id="{anchor}"' in page, fields
    assert in_suffolk(Profile.objects.count) == 0


def test_the_profile_page_shows_everything_and_records_who_looked(cast, records):
    from tenant_apps.audit.models import AuditEvent

    profile = records["profile"]
    with schema_context("suffolk"):
        profile.aliases.create(name="Kyle B")
        profile.addresses.create(line1="12 Mill Lane", town="Ipswich", postcode="IP1 1AA")
        profile.identifiers.create(kind="pnc", value="01/123456A")
        profile.vulnerabilities.create(kind="substance", note="Alcohol")
    bob = client_as(cast, "bob")
    page = bob.get(f"/profiles/{profile.pk}/").content.decode()
    for text in ("Kyle Brennan", "17 May 2001", "Kyle B", "12 Mill Lane", "01/123456A", "Substance misuse",
                 "Spoke to Kyle at the door", records["case"].reference, "Perpetrator"):  # fmt: skip
        assert text in page, text
    assert 'class="govuk-warning-text"' in page and "Dangerous dogs: Two dogs in the garden" in page
    with schema_context("suffolk"):
        viewed = AuditEvent.objects.filter(action="profile.viewed", object_id=str(profile.pk))
        assert viewed.count() == 1 and viewed.get().actor_id == cast["bob"].pk
    bob.get(f"/profiles/{profile.pk}/")
    assert in_suffolk(viewed.count) == 2


def test_a_concurrent_profile_edit_is_refused_and_nothing_is_saved(cast, records):
    profile = records["profile"]
    bob = client_as(cast, "bob")
    form = bob.get(f"/profiles/{profile.pk}/edit/").content.decode()
    assert 'name="version" value="1"' in form
    with schema_context("suffolk"):  # Carl saves first
        services.profile_update(user=_fresh(cast["carl"]), profile=profile, version=1, last_name="Brenan")
    data = {"first_name": "Kyle", "last_name": "Brennan-Smith", "date_of_birth_day": "17",
            "date_of_birth_month": "5", "date_of_birth_year": "2001", "gender": "male", "version": "1"}  # fmt: skip
    response = bob.post(f"/profiles/{profile.pk}/edit/", data)
    assert response.status_code == 200
    assert "changed since you opened it" in response.content.decode()
    with schema_context("suffolk"):
        profile.refresh_from_db()
        assert (profile.last_name, profile.gender, profile.version) == ("Brenan", "not_known", 2)
    response = bob.post(f"/profiles/{profile.pk}/edit/", {**data, "version": "2"})
    assert response.status_code == 302
    assert in_suffolk(lambda: Profile.objects.get(pk=profile.pk).last_name) == "Brennan-Smith"


# --- Cases -------------------------------------------------------------------------------------


def test_bob_opens_a_case_with_a_subject_and_filters_the_list(cast, records):
    bob = client_as(cast, "bob")
    asb = in_suffolk(CaseType.objects.get, code="ASB")
    hc = in_suffolk(CaseType.objects.get, code="HC")
    data = {"case_type": hc.pk, "title": "Graffiti on the mosque", "summary": "", "owning_team": cast["asb"].pk,
            "subject_1": records["profile"].pk, "role_1": "perpetrator"}  # fmt: skip
    response = bob.post("/cases/new/", {**data, "role_1": ""})
    assert 'href="#id_role_1"' in response.content.decode()
    response = bob.post("/cases/new/", {**data, "subject_1": ""})
    assert 'href="#id_subject_1"' in response.content.decode() and "Choose at least one subject" in (
        response.content.decode()
    )
    response = bob.post("/cases/new/", data)
    assert response.status_code == 302
    with schema_context("suffolk"):
        case = Case.objects.get(title="Graffiti on the mosque")
        assert [(s.profile_id, s.role) for s in case.subjects.all()] == [(records["profile"].pk, "perpetrator")]
        assert case.lead_practitioner_id == cast["bob"].pk
    page = bob.get(f"/cases/?case_type={hc.pk}").content.decode()
    assert case.reference in page and records["case"].reference not in page
    page = bob.get(f"/cases/?case_type={asb.pk}&status=open").content.decode()
    assert case.reference not in page and records["case"].reference in page
    assert records["case"].reference not in bob.get("/cases/?status=closed").content.decode()


def test_closing_needs_an_outcome_and_the_error_names_the_field(cast, records):
    case = records["case"]
    bob = client_as(cast, "bob")
    response = bob.post(f"/cases/{case.pk}/status/", {"status": "closed", "outcome": "", "version": "1"})
    page = response.content.decode()
    assert response.status_code == 200 and 'href="#id_outcome"' in page and "Choose the outcome" in page
    future = timezone.localdate() + dt.timedelta(days=2)
    response = bob.post(f"/cases/{case.pk}/status/", {
        "status": "closed", "outcome": "resolved", "version": "1", "closed_on_day": future.day,
        "closed_on_month": future.month, "closed_on_year": future.year})  # fmt: skip
    assert 'href="#id_closed_on"' in response.content.decode()
    assert in_suffolk(lambda: Case.objects.get(pk=case.pk).status) == "open"
    response = bob.post(f"/cases/{case.pk}/status/", {"status": "closed", "outcome": "resolved", "version": "1"})
    assert response.status_code == 302
    with schema_context("suffolk"):
        case.refresh_from_db()
        assert (case.status, case.outcome, case.closed_on) == ("closed", "resolved", timezone.localdate())
    page = bob.get(f"/cases/{case.pk}/").content.decode()
    assert "govuk-tag--grey" in page and "Resolved" in page


def test_sharing_is_granted_and_revoked_from_the_sharing_page(cast, records):
    from tenant_apps.audit.models import AuditEvent

    case = records["case"]
    bob = client_as(cast, "bob")
    response = bob.post(f"/cases/{case.pk}/sharing/", {"access": "view"})
    assert 'href="#id_team"' in response.content.decode()
    response = bob.post(f"/cases/{case.pk}/sharing/", {"agency": cast["police"].pk, "access": "edit"})
    assert response.status_code == 302
    page = bob.get(f"/cases/{case.pk}/sharing/").content.decode()
    assert "Constabulary (everyone)" in page and "View and edit" in page
    share = in_suffolk(lambda: case.shares.get())
    assert client_as(cast, "dan").get(f"/cases/{case.pk}/status/").status_code == 200
    assert bob.get(f"/cases/{case.pk}/sharing/{share.pk}/revoke/").status_code == 405  # POST only
    assert bob.post(f"/cases/{case.pk}/sharing/{share.pk}/revoke/").status_code == 302
    assert not in_suffolk(lambda: case.shares.exists())
    with schema_context("suffolk"):
        actions = sorted(AuditEvent.objects.filter(action__startswith="share.").values_list("action", flat=True))
    assert actions == ["share.granted", "share.revoked"]


# --- Timeline ----------------------------------------------------------------------------------


def entry_form(**fields) -> dict:
    when = timezone.localtime() - dt.timedelta(hours=2)
    data = {"kind": "meeting", "meeting_action": "cmm", "enforcement_action": "", "occurred_on_day": when.day,
            "occurred_on_month": when.month, "occurred_on_year": when.year, "occurred_time": when.strftime("%H:%M"),
            "summary": "Case-management meeting", "body": "", "attendees": "Bob, Carl"}  # fmt: skip
    return {**data, **fields}


def test_adding_an_entry_names_bad_fields_and_escapes_script(cast, records):
    case = records["case"]
    bob = client_as(cast, "bob")
    later = timezone.localtime() + dt.timedelta(days=1)
    bad = [
        ({"occurred_on_day": later.day, "occurred_on_month": later.month, "occurred_on_year": later.year},
         "id_occurred_on", "It cannot have happened in the future"),
        ({"kind": "enforcement", "enforcement_action": ""}, "id_enforcement_action", "Choose an action"),
        ({"occurred_time": "25:99"}, "id_occurred_time", "Enter the time as hours and minutes"),
        ({"summary": ""}, "id_summary", "Enter a short summary"),
        ({"is_sensitive": "on"}, "id_restricted_to_teams", "Choose the teams"),
    ]  # fmt: skip
    for fields, anchor, message in bad:
        page = bob.post(f"/cases/{case.pk}/timeline/new/", entry_form(**fields)).content.decode()
        assert f'href="#{anchor}"' in page and message in page, fields
    assert in_suffolk(TimelineEntry.objects.count) == 1
    script = "<script>alert('x')</script>"
    response = bob.post(f"/cases/{case.pk}/timeline/new/", entry_form(summary=f"Met {script}", body=script,
                                                                      attendees=script))  # fmt: skip
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    for url in (f"/cases/{case.pk}/", f"/profiles/{records['profile'].pk}/"):
        page = bob.get(url).content.decode()
        assert script not in page, url
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page, url
    with schema_context("suffolk"):
        entry = TimelineEntry.objects.get(summary__startswith="Met")
        assert (entry.kind, entry.action) == ("meeting", "cmm")
        assert list(entry.profiles.values_list("pk", flat=True)) == [records["profile"].pk]


def test_a_sensitive_entry_shows_to_carl_that_it_exists_but_not_its_content(cast, records):
    case = records["case"]
    bob = client_as(cast, "bob")
    data = entry_form(kind="visit", summary="Disclosure of abuse", body="She told us about the threats",
                      is_sensitive="on", restricted_to_teams=[cast["asb"].pk])  # fmt: skip
    assert bob.post(f"/cases/{case.pk}/timeline/new/", data).status_code == 302
    assert "Disclosure of abuse" in bob.get(f"/cases/{case.pk}/").content.decode()
    carl = client_as(cast, "carl")
    for url in (f"/cases/{case.pk}/", f"/profiles/{records['profile'].pk}/"):
        page = carl.get(url).content.decode()
        assert "Disclosure of abuse" not in page and "threats" not in page, url
        assert "Restricted entry: visit," in page, url
        # The team that holds it, and whom to ask: team names are the partnership's directory.
        assert (
            "Restricted to ASB Team (District Council). Ask a member of that team, or your partnership admin." in page
        ), url
        assert "Spoke to Kyle at the door" in page, url  # the ordinary entry is readable
    sensitive = in_suffolk(TimelineEntry.objects.get, summary="Disclosure of abuse")
    assert carl.get(f"/timeline/{sensitive.pk}/edit/").status_code == 404


def test_editing_keeps_previous_versions_and_refuses_a_concurrent_edit(cast, records):
    entry = records["entry"]
    bob = client_as(cast, "bob")
    when = timezone.localtime(entry.occurred_at)
    data = entry_form(kind="visit", meeting_action="", summary="Spoke to Kyle and his mother", version="1",
                      occurred_on_day=when.day, occurred_on_month=when.month, occurred_on_year=when.year,
                      occurred_time=when.strftime("%H:%M"))  # fmt: skip
    assert bob.post(f"/timeline/{entry.pk}/edit/", data).status_code == 302
    page = bob.get(f"/timeline/{entry.pk}/edit/").content.decode()
    assert f'href="/timeline/{entry.pk}/history/"' in page  # its earlier versions, in words
    assert "Spoke to Kyle at the door" in bob.get(f"/timeline/{entry.pk}/history/").content.decode()
    assert 'name="version" value="2"' in page
    response = bob.post(f"/timeline/{entry.pk}/edit/", {**data, "summary": "Stale", "version": "1"})
    assert "changed since you opened it" in response.content.decode()
    assert in_suffolk(lambda: TimelineEntry.objects.get(pk=entry.pk).summary) == "Spoke to Kyle and his mother"


def test_deleting_an_entry_needs_a_reason(cast, records):
    entry, case = records["entry"], records["case"]
    bob = client_as(cast, "bob")
    response = bob.post(f"/timeline/{entry.pk}/delete/", {"reason": "  ", "version": "1"})
    assert 'href="#id_reason"' in response.content.decode()
    assert in_suffolk(lambda: TimelineEntry.objects.get(pk=entry.pk).deleted_at) is None
    response = bob.post(f"/timeline/{entry.pk}/delete/", {"reason": "Recorded on the wrong case", "version": "1"})
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert "Spoke to Kyle at the door" not in bob.get(f"/cases/{case.pk}/").content.decode()
    assert bob.get(f"/timeline/{entry.pk}/edit/").status_code == 404


# --- Gallery -----------------------------------------------------------------------------------


def test_the_gallery_shows_the_caseload_of_a_team_or_case_type(cast, records):
    bob = client_as(cast, "bob")
    page = bob.get(f"/gallery/?team={cast['asb'].pk}").content.decode()
    assert "Kyle Brennan" in page and records["case"].reference in page and "govuk-tag--green" in page
    assert "casework/silhouette.svg" in page and "govuk-grid-column-one-quarter" in page
    assert "Last contact:" in page and timezone.localtime(records["entry"].occurred_at).strftime("%-d %b %Y") in page
    assert "Kyle Brennan" not in bob.get(f"/gallery/?team={cast['snt'].pk}").content.decode()
    hc = in_suffolk(CaseType.objects.get, code="HC")
    assert "Kyle Brennan" not in bob.get(f"/gallery/?case_type={hc.pk}").content.decode()
    assert 'href="#id_team"' in bob.get("/gallery/?team=999999").content.decode()


def test_the_photo_hook_returns_none_until_the_documents_app_fills_it(cast, records):
    from tenant_apps.casework.selectors import profile_photo_url

    assert profile_photo_url(records["profile"]) is None


# --- Query counts ------------------------------------------------------------------------------


def test_the_case_page_runs_as_many_queries_for_sixty_entries_as_for_three(cast, records, django_assert_num_queries):
    case = records["case"]
    make_entry(cast, case, summary="Second")
    make_entry(cast, case, summary="Third", is_sensitive=True, restricted_to_teams=[cast["cst"]])
    bob = client_as(cast, "bob")
    url = f"/cases/{case.pk}/"
    bob.get(url)  # warm the per-process caches
    with CaptureQueriesContext(connection) as three:
        page = bob.get(url)
    assert page.content.decode().count('id="entry-') == 3
    # routing 3 (no host cache in tests), session, user with teams and agency, device, the case with its
    # type, team and lead, audit, count, page (with the teams that hold the entries Bob may not read),
    # its documents, subjects; the main menu's overdue count; the read counter (accounts.readlimits);
    # the audit row is two round trips (the hash chain's head locked, then the insert: audit.chain)
    assert len(three) <= 15
    for number in range(57):
        make_entry(cast, case, summary=f"Entry {number}", kind="note")
    with django_assert_num_queries(len(three)):
        page = bob.get(url)
    assert page.content.decode().count('id="entry-') == 25  # the first page of 60


def test_the_profile_list_runs_as_many_queries_for_thirty_profiles_as_for_two(cast, django_assert_num_queries):
    make_profile(cast)
    make_profile(cast, first_name="Tia", last_name="Brennan")
    bob = client_as(cast, "bob")
    bob.get("/profiles/")
    with CaptureQueriesContext(connection) as two:
        page = bob.get("/profiles/")
    assert page.content.decode().count('href="/profiles/') - page.content.decode().count('href="/profiles/new/') >= 2
    for number in range(28):
        make_profile(cast, first_name=f"Person{number}", last_name="Extra", date_of_birth=None)
    assert len(two) <= 10  # sign-in checks 6, scope 2, count 1, page 1
    with django_assert_num_queries(len(two)):
        page = bob.get("/profiles/")
    assert "30 profiles, showing 1 to 25" in page.content.decode()
