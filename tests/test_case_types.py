"""Case types shaped by partnership admins (/admin/case-types/): add, change, retire, bring back.

The cast (tests/conftest.py, casework's ``cast``):
- Alice, Suffolk's partnership admin, shapes Suffolk's types; every change is audited with
  only the fields that changed.
- Bob, a Suffolk practitioner (ASB Team), gets 403 on every case-type page and changes nothing;
  he opens cases and records entries, which obey the type as it is now.
- Nina, Norfolk's admin, never sees nor changes Suffolk's types, though the seeded types have
  the same ids in both schemas.

A change applies to new cases, subjects and entries only: references never change, and no
existing subject or entry is hidden or removed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.casework import services
from tenant_apps.casework import urls as casework_urls
from tenant_apps.casework.models import Case, CaseType, TimelineEntry
from tenant_apps.directory.models import TeamMembership
from tests.conftest import sign_in
from tests.test_casework_pages import client_as, in_suffolk, make_case, make_entry, make_profile

API = "/api/v1"
CASE_TYPE_URL_NAMES = [p.name for p in casework_urls.urlpatterns if p.name.startswith("case-type-")]
ALL_ROLES = ["perpetrator", "victim", "witness", "offender", "family_member", "complainant"]
ALL_KINDS = [value for value, _ in TimelineEntry.Kind.choices]


def case_type_url(name: str, case_type_id: int) -> str:
    pattern = next(p for p in casework_urls.urlpatterns if p.name == name)
    kwargs = {"case_type_id": case_type_id} if "case_type_id" in pattern.pattern.converters else {}
    return reverse(f"casework:{name}", kwargs=kwargs)


def type_form(**fields) -> dict:
    data = {"name": "Youth diversion", "code": "YD", "subject_roles": ["offender", "victim"],
            "timeline_kinds": ["visit", "note", "meeting"], "default_team": ""}  # fmt: skip
    return {**data, **fields}


def events_of(action: str, case_type_id=None) -> list[AuditEvent]:
    with schema_context("suffolk"):
        found = AuditEvent.objects.filter(action=action, object_type="case_type")
        if case_type_id is not None:
            found = found.filter(object_id=str(case_type_id))
        return list(found.order_by("id"))


def get_type(code: str, schema: str = "suffolk") -> CaseType:
    with schema_context(schema):
        return CaseType.objects.get(code=code)


def json_post(client, path, data):
    return client.post(path, data, content_type="application/json")


@pytest.fixture
def alice(cast):
    return client_as(cast, "alice")


@pytest.fixture
def bob(cast):
    return client_as(cast, "bob")


def shaped(code: str, **fields) -> None:
    with schema_context("suffolk"):
        CaseType.objects.filter(code=code).update(**fields)


# --- The seeded types and the admin index ------------------------------------------------------


def test_the_seeded_types_have_roles_and_kinds_and_no_default_team(db):
    with schema_context("suffolk"):
        seeded = {t.code: t for t in CaseType.objects.all()}
    assert seeded["ASB"].subject_roles == ["perpetrator", "victim", "witness", "complainant"]
    assert seeded["IOM"].subject_roles == ["offender"]
    assert seeded["TF"].subject_roles == ["family_member"]
    assert all(t.timeline_kinds == ALL_KINDS and t.default_team_id is None for t in seeded.values())
    assert all(t.is_active and t.version == 1 for t in seeded.values())


def test_the_admin_index_links_to_case_types_and_the_urls_resolve_under_admin(alice):
    from django.urls import resolve

    assert resolve("/admin/case-types/").view_name == "casework:case-type-list"
    assert resolve("/admin/case-types/3/retire/").view_name == "casework:case-type-retire"
    assert 'href="/admin/case-types/"' in alice.get("/admin/").content.decode()


# --- Alice shapes Suffolk's types ---------------------------------------------------------------


def test_alice_adds_changes_retires_and_brings_back_a_case_type(cast, alice):
    response = alice.get("/admin/case-types/")
    assert response.status_code == 200 and "Anti-social behaviour" in response.content.decode()
    form = alice.get("/admin/case-types/new/").content.decode()
    assert 'name="subject_roles"' in form and 'name="timeline_kinds"' in form and "ASB Team (District Council)" in form

    response = alice.post("/admin/case-types/new/", type_form(code=" yd ", default_team=cast["asb"].pk))
    assert response.status_code == 302 and response["Location"] == "/admin/case-types/"
    created = get_type("YD")
    assert (created.name, created.subject_roles, created.timeline_kinds, created.default_team_id) == (
        "Youth diversion",
        ["victim", "offender"],
        ["visit", "note", "meeting"],
        cast["asb"].pk,
    )
    [added] = events_of("case_type.created", created.pk)
    assert added.changes == {
        "name": [None, "Youth diversion"], "prefix": [None, "YD"], "subject_roles": [None, ["victim", "offender"]],
        "timeline_kinds": [None, ["visit", "note", "meeting"]], "default_team": [None, "ASB Team (District Council)"],
    }  # fmt: skip
    listed = alice.get("/admin/case-types/").content.decode()
    assert "Youth diversion" in listed and "Victim, Offender" in listed and "Visit, Note, Meeting" in listed

    edit_url = f"/admin/case-types/{created.pk}/"
    page = alice.get(edit_url).content.decode()
    assert 'name="version" value="1"' in page and 'value="YD"' in page
    changed = type_form(name="Youth diversion scheme", code="YD", subject_roles=["offender", "victim", "witness"],
                        default_team=cast["asb"].pk, version=1)  # fmt: skip
    assert alice.post(edit_url, changed).status_code == 302
    [updated] = events_of("case_type.updated", created.pk)
    assert updated.changes == {  # only what changed: not the prefix, kinds or team
        "name": ["Youth diversion", "Youth diversion scheme"],
        "subject_roles": [["victim", "offender"], ["victim", "witness", "offender"]],
    }
    # Saving it unchanged records nothing and keeps the version.
    assert alice.post(edit_url, {**changed, "version": 2}).status_code == 302
    assert len(events_of("case_type.updated", created.pk)) == 1 and get_type("YD").version == 2

    retire_url = f"/admin/case-types/{created.pk}/retire/"
    assert "Retire this case type?" in alice.get(retire_url).content.decode()
    assert alice.post(retire_url, {"version": 2}).status_code == 302
    assert get_type("YD").is_active is False
    assert events_of("case_type.retired", created.pk)[0].changes == {"is_active": [True, False]}
    listed = alice.get("/admin/case-types/").content.decode()
    assert "Retired" in listed and f"/admin/case-types/{created.pk}/restore/" in listed
    assert "Youth diversion scheme" not in alice.get("/cases/new/").content.decode()

    assert alice.post(f"/admin/case-types/{created.pk}/restore/", {"version": 3}).status_code == 302
    assert get_type("YD").is_active is True
    assert events_of("case_type.restored", created.pk)[0].changes == {"is_active": [False, True]}
    event = events_of("case_type.restored", created.pk)[0]
    assert event.actor_id == cast["alice"].pk


def test_a_stale_edit_or_retirement_is_refused_and_changes_nothing(cast, alice):
    asb = get_type("ASB")
    with schema_context("suffolk"):
        services.case_type_update(user=cast["alice"], case_type=asb, version=1, name="ASB", code="ASB",
                                  subject_roles=["victim"], timeline_kinds=["note"])  # fmt: skip
    response = alice.post(f"/admin/case-types/{asb.pk}/", type_form(name="Mine", code="ASB", version=1))
    assert response.status_code == 200 and "changed since you opened it" in response.content.decode()
    response = alice.post(f"/admin/case-types/{asb.pk}/retire/", {"version": 1})
    assert response.status_code == 200 and "changed since you opened it" in response.content.decode()
    current = get_type("ASB")
    assert (current.name, current.is_active, current.version) == ("ASB", True, 2)


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"name": "  "}, "name", "Enter the name of the case type."),
        ({"name": "anti-social BEHAVIOUR"}, "name", "There is already a case type with this name."),
        ({"code": "A-B"}, "code", "2 to 8 letters or digits, starting with a letter"),
        ({"code": "9AB"}, "code", "2 to 8 letters or digits, starting with a letter"),
        ({"code": "asb"}, "code", "The case type Anti-social behaviour already uses this prefix."),
        ({"code": "TOOLONGPREFIX"}, "code", "at most 8 characters"),
        ({"subject_roles": []}, "subject_roles", "Choose at least one subject role."),
        ({"subject_roles": ["victim", "wizard"]}, "subject_roles", "Choose subject roles from the list."),
        ({"timeline_kinds": []}, "timeline_kinds", "Choose at least one kind of timeline entry."),
        ({"timeline_kinds": ["séance"]}, "timeline_kinds", "Choose kinds of timeline entry from the list."),
        ({"default_team": "999999"}, "default_team", "Choose a team from the list."),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(cast, alice, fields, field, message):
    asb = get_type("ASB")
    own = {"name": "Anti-social behaviour", "code": "ASB", "version": 1}
    for url, data in (("/admin/case-types/new/", type_form(**fields)),
                      (f"/admin/case-types/{asb.pk}/", type_form(**{**own, **fields}))):  # fmt: skip
        if field == "name" and "BEHAVIOUR" in fields.get("name", "") and url != "/admin/case-types/new/":
            continue  # its own name, in another case, is not a duplicate
        if field == "code" and fields["code"] == "asb" and url != "/admin/case-types/new/":
            continue  # its own prefix
        response = alice.post(url, data)
        assert response.status_code == 200, (url, fields)
        page = response.content.decode()
        assert f'href="#id_{field}"' in page and message in page, (url, fields)
    with schema_context("suffolk"):
        assert CaseType.objects.count() == 5 and not AuditEvent.objects.filter(object_type="case_type").exists()
    assert get_type("ASB").version == 1


def test_the_services_refuse_what_the_form_cannot_send(cast):
    from django.core.exceptions import PermissionDenied, ValidationError

    with schema_context("suffolk"):
        with pytest.raises(ValidationError) as refused:
            services.case_type_create(user=cast["alice"], name="X type", code="XT", subject_roles=["victim", "wizard"],
                                      timeline_kinds=["note", "nonsense"])  # fmt: skip
        assert set(refused.value.message_dict) == {"subject_roles", "timeline_kinds"}
        with pytest.raises(PermissionDenied):
            services.case_type_create(user=cast["bob"], name="X type", code="XT", subject_roles=["victim"],
                                      timeline_kinds=["note"])  # fmt: skip
        assert not CaseType.objects.filter(code="XT").exists()


# --- Who may not -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASE_TYPE_URL_NAMES)
def test_bob_gets_403_on_every_case_type_page_and_changes_nothing(cast, bob, name):
    asb = get_type("ASB")
    url = case_type_url(name, asb.pk)
    response = bob.get(url)
    assert response.status_code == 403 and b"You cannot see this page" in response.content, url
    assert bob.post(url, type_form(name="Hijacked", code="HJ", version=1)).status_code == 403, url
    with schema_context("suffolk"):
        assert not CaseType.objects.filter(name="Hijacked").exists()
        assert CaseType.objects.get(pk=asb.pk).version == 1 and CaseType.objects.get(pk=asb.pk).is_active


def test_anonymous_is_sent_to_sign_in(db):
    response = Client(HTTP_HOST="suffolk.localhost").get("/admin/case-types/")
    assert response.status_code == 302 and "/account/sign-in/" in response["Location"]


def test_norfolk_admin_never_sees_or_changes_suffolks_types(cast, alice):
    assert alice.post("/admin/case-types/new/", type_form(name="Suffolk only scheme", code="SOS")).status_code == 302
    suffolk_type = get_type("SOS")
    asb_suffolk, asb_norfolk = get_type("ASB"), get_type("ASB", "norfolk")
    assert asb_suffolk.pk == asb_norfolk.pk  # the same ids in both schemas
    with schema_context("norfolk"):
        CaseType.objects.filter(pk=suffolk_type.pk).delete()  # no Norfolk type may share this id (no cases)
    nina = Client(HTTP_HOST="norfolk.localhost")
    sign_in(nina, "nina@norfolk.test")
    assert "Suffolk only scheme" not in nina.get("/admin/case-types/").content.decode()
    for name in ("case-type-edit", "case-type-retire", "case-type-restore"):
        assert nina.get(case_type_url(name, suffolk_type.pk)).status_code == 404
        assert nina.post(case_type_url(name, suffolk_type.pk), type_form(version=1)).status_code == 404
    # Nina shapes Norfolk's ASB (same id): Suffolk's is untouched.
    data = type_form(name="Norfolk ASB", code="NASB", version=1)
    assert nina.post(f"/admin/case-types/{asb_norfolk.pk}/", data).status_code == 302
    assert nina.post(f"/admin/case-types/{asb_norfolk.pk}/retire/", {"version": 2}).status_code == 302
    assert (get_type("NASB", "norfolk").name, get_type("NASB", "norfolk").is_active) == ("Norfolk ASB", False)
    suffolk_asb = get_type("ASB")
    assert (suffolk_asb.name, suffolk_asb.is_active, suffolk_asb.version) == ("Anti-social behaviour", True, 1)
    assert "Suffolk only scheme" in alice.get("/admin/case-types/").content.decode()


# --- Existing cases are unaffected ---------------------------------------------------------------


def test_a_new_prefix_applies_to_new_references_only_and_no_reference_is_given_twice(cast):
    profile = make_profile(cast)
    year = timezone.localdate().year
    first = make_case(cast, profile)
    assert first.reference == f"ASB-{year}-0001"
    with schema_context("suffolk"):
        asb = CaseType.objects.get(code="ASB")
        asb = services.case_type_update(user=cast["alice"], case_type=asb, version=1, name=asb.name, code="NSB",
                                        subject_roles=asb.subject_roles, timeline_kinds=asb.timeline_kinds)  # fmt: skip
        second = services.case_create(user=cast["bob"], case_type=asb, title="Second", owning_team=cast["asb"],
                                      subjects=[(profile, "victim")])  # fmt: skip
        assert second.reference == f"NSB-{year}-0001"
        assert Case.objects.get(pk=first.pk).reference == f"ASB-{year}-0001"  # never rewritten
        # Another type takes the freed prefix: it numbers on after the highest ASB reference.
        hc = CaseType.objects.get(code="HC")
        hc = services.case_type_update(user=cast["alice"], case_type=hc, version=1, name=hc.name, code="ASB",
                                       subject_roles=hc.subject_roles, timeline_kinds=hc.timeline_kinds)  # fmt: skip
        third = services.case_create(user=cast["bob"], case_type=hc, title="Third", owning_team=cast["asb"],
                                     subjects=[(profile, "victim")])  # fmt: skip
        assert third.reference == f"ASB-{year}-0002"
        # The first type renamed back is refused while the prefix is held; a retired type keeps its prefix.
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError) as refused:
            services.case_type_update(user=cast["alice"], case_type=asb, version=2, name=asb.name, code="ASB",
                                      subject_roles=asb.subject_roles, timeline_kinds=asb.timeline_kinds)  # fmt: skip
        assert list(refused.value.message_dict) == ["code"]
        # Past 9999 the numbers go on (a reference's number is not compared as text).
        Case.objects.filter(pk=third.pk).update(reference=f"ASB-{year}-9999")
        fourth = services.case_create(user=cast["bob"], case_type=hc, title="Fourth", owning_team=cast["asb"],
                                      subjects=[(profile, "victim")])  # fmt: skip
        fifth = services.case_create(user=cast["bob"], case_type=hc, title="Fifth", owning_team=cast["asb"],
                                     subjects=[(profile, "victim")])  # fmt: skip
        assert (fourth.reference, fifth.reference) == (f"ASB-{year}-10000", f"ASB-{year}-10001")
        assert Case.objects.get(pk=first.pk).case_type_id == asb.pk


def test_subject_roles_apply_to_new_subjects_and_never_hide_existing_ones(cast, bob):
    profile = make_profile(cast)
    case = make_case(cast, profile)  # Kyle as perpetrator
    shaped("ASB", subject_roles=["victim", "witness"])
    page = bob.get(f"/cases/{case.pk}/").content.decode()
    assert "Kyle Brennan</a> (perpetrator)" in page  # still shown, as he was
    asb = get_type("ASB")
    data = {"case_type": asb.pk, "title": "Another", "summary": "", "owning_team": cast["asb"].pk,
            "subject_1": profile.pk, "role_1": "victim", "subject_2": profile.pk, "role_2": "perpetrator"}  # fmt: skip
    response = bob.post("/cases/new/", data)
    text = response.content.decode()
    assert response.status_code == 200 and 'href="#id_role_2"' in text and 'href="#id_role_1"' not in text
    assert "A case of type Anti-social behaviour cannot have a subject as perpetrator: choose victim, witness." in text
    with schema_context("suffolk"):
        assert Case.objects.count() == 1
    # The API refuses it too, naming the field; the same case with an offered role is opened.
    body = {"case_type": "ASB", "title": "API", "owning_team": cast["asb"].pk,
            "subjects": [{"profile": profile.pk, "role": "perpetrator"}]}  # fmt: skip
    response = json_post(bob, f"{API}/cases/", body)
    assert response.status_code == 400 and list(response.json()["error"]["fields"]) == ["subjects"]
    assert "cannot have a subject as perpetrator" in response.json()["error"]["fields"]["subjects"][0]
    body["subjects"][0]["role"] = "witness"
    assert json_post(bob, f"{API}/cases/", body).status_code == 201
    # The existing case's subject is still there, and reads the same in the API.
    detail = bob.get(f"{API}/cases/{case.pk}/").json()
    assert detail["subjects"] == [{"profile_id": profile.pk, "display_name": "Kyle Brennan", "role": "perpetrator"}]


def test_timeline_kinds_apply_to_new_entries_and_never_hide_existing_ones(cast, bob):
    profile = make_profile(cast)
    case = make_case(cast, profile)
    enforcement = make_entry(cast, case, kind="enforcement", action="warning_letter", summary="Warning letter sent")
    shaped("ASB", timeline_kinds=["visit", "note"])
    page = bob.get(f"/cases/{case.pk}/").content.decode()
    assert "Warning letter sent" in page  # still on the timeline
    form = bob.get(f"/cases/{case.pk}/timeline/new/").content.decode()
    assert 'value="visit"' in form and 'value="note"' in form
    assert 'value="enforcement"' not in form and 'value="phone_call"' not in form
    now = timezone.localtime() - dt.timedelta(minutes=10)
    entry = {"occurred_on_day": now.day, "occurred_on_month": now.month, "occurred_on_year": now.year,
             "occurred_time": now.strftime("%H:%M"), "summary": "Rang him"}  # fmt: skip
    response = bob.post(f"/cases/{case.pk}/timeline/new/", {**entry, "kind": "phone_call"})
    assert response.status_code == 200 and 'href="#id_kind"' in response.content.decode()
    # The service refuses it whatever the route, naming the field (the API's 400).
    body = {"kind": "phone_call", "occurred_at": timezone.now().isoformat(), "summary": "Rang him"}
    response = json_post(bob, f"{API}/cases/{case.pk}/timeline/", body)
    assert response.status_code == 400 and list(response.json()["error"]["fields"]) == ["kind"]
    assert "does not take phone call entries: choose visit, note." in response.json()["error"]["fields"]["kind"][0]
    assert bob.post(f"/cases/{case.pk}/timeline/new/", {**entry, "kind": "note"}).status_code == 302
    # The enforcement entry is edited keeping its kind (offered on its own edit form), but it
    # cannot be changed into another kind the type no longer takes.
    edit = bob.get(f"/timeline/{enforcement.pk}/edit/").content.decode()
    assert 'value="enforcement"' in edit and 'value="phone_call"' not in edit
    with schema_context("suffolk"):
        services.entry_update(user=cast["bob"], entry=enforcement, version=1, summary="Warning letter (copy)")
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError) as refused:
            services.entry_update(user=cast["bob"], entry=enforcement, version=2, kind="phone_call", action="")
        assert list(refused.value.message_dict) == ["kind"]
        assert TimelineEntry.objects.get(pk=enforcement.pk).kind == "enforcement"
        # An entry about the profile alone is of any kind.
        services.entry_create(user=cast["bob"], profiles=[profile], kind="phone_call", summary="Rang Kyle",
                              occurred_at=timezone.now())  # fmt: skip
        assert TimelineEntry.objects.filter(case=case).count() == 2


def test_a_retired_type_takes_no_new_case_by_page_or_api_and_its_cases_keep_it(cast, bob):
    profile = make_profile(cast)
    case = make_case(cast, profile)
    asb = get_type("ASB")
    shaped("ASB", is_active=False)
    assert f'value="{asb.pk}"' not in bob.get("/cases/new/").content.decode()
    data = {"case_type": asb.pk, "title": "Retired", "owning_team": cast["asb"].pk, "subject_1": profile.pk,
            "role_1": "victim"}  # fmt: skip
    response = bob.post("/cases/new/", data)
    assert response.status_code == 200 and 'href="#id_case_type"' in response.content.decode()
    body = {"case_type": "ASB", "title": "Retired", "subjects": [{"profile": profile.pk, "role": "victim"}]}
    response = json_post(bob, f"{API}/cases/", body)
    assert response.status_code == 400 and response.json()["error"]["fields"] == {
        "case_type": ["This case type has been retired: choose another."]
    }
    page = bob.get(f"/cases/{case.pk}/").content.decode()
    assert "Anti-social behaviour" in page and case.reference in page
    assert make_entry(cast, case, summary="Still worked").case_id == case.pk
    assert "Anti-social behaviour" in bob.get("/cases/").content.decode()  # listed, and a filter choice
    shaped("ASB", is_active=True)
    assert json_post(bob, f"{API}/cases/", body).status_code == 201


# --- The default team ---------------------------------------------------------------------------


def test_the_default_team_owns_a_new_case_when_its_creator_is_in_it_and_never_shares_one(cast):
    profile = make_profile(cast)
    with schema_context("suffolk"):
        TeamMembership.objects.create(user=cast["carl"], team=cast["asb"])  # Carl: CST and ASB
        services.share_grant(user=cast["bob"], profile=profile, team=cast["cst"])
    shaped("ASB", default_team=cast["asb"])
    carl = client_as(cast, "carl")
    page = carl.get("/cases/new/").content.decode()
    assert "default team owns it" in page
    asb = get_type("ASB")
    data = {"case_type": asb.pk, "title": "Defaulted", "owning_team": "", "subject_1": profile.pk,
            "role_1": "victim"}  # fmt: skip
    response = carl.post("/cases/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context("suffolk"):
        assert Case.objects.get(title="Defaulted").owning_team_id == cast["asb"].pk
    # Without a default team a user of two teams must choose, on the field.
    shaped("ASB", default_team=None)
    response = carl.post("/cases/new/", {**data, "title": "Undecided"})
    assert response.status_code == 200 and 'href="#id_owning_team"' in response.content.decode()
    # The default team is not Dan's (police): his case is his team's, and the ASB Team gets no share.
    shaped("ASB", default_team=cast["asb"])
    with schema_context("suffolk"):
        dans = services.case_create(user=cast["dan"], case_type=get_type("ASB"), title="Police's own",
                                    subjects=[])  # fmt: skip
        assert dans.owning_team_id == cast["snt"].pk and not dans.shares.exists()
        # Naming a team still wins over the default.
        named = services.case_create(user=cast["carl"], case_type=get_type("ASB"), title="Named",
                                     owning_team=cast["cst"], subjects=[(profile, "victim")])  # fmt: skip
        assert named.owning_team_id == cast["cst"].pk


# --- Query count of the list ---------------------------------------------------------------------


def test_the_list_runs_as_many_queries_for_fifteen_types_with_cases_as_for_five(cast, alice):
    def count() -> tuple[int, str]:
        alice.get("/admin/case-types/")
        with CaptureQueriesContext(connection) as captured:
            response = alice.get("/admin/case-types/")
        assert response.status_code == 200
        return len(captured), response.content.decode()

    small, page = count()
    assert page.count('class="govuk-summary-card"') == 5
    # host, session, user, second factor (and two search_path sets); the list: one; the main menu's
    # overdue count and, for it, an admin's casework scope (base.html)
    assert small <= 9, small
    profile = make_profile(cast)
    with schema_context("suffolk"):
        for n in range(10):
            made = services.case_type_create(user=cast["alice"], name=f"Scheme {n}", code=f"SC{n}",
                                             subject_roles=["victim"], timeline_kinds=["note"],
                                             default_team=cast["asb" if n % 2 else "snt"])  # fmt: skip
            services.case_create(user=cast["bob"], case_type=made, title=f"Case {n}", owning_team=cast["asb"],
                                 subjects=[(profile, "victim")])  # fmt: skip
    large, page = count()
    assert page.count('class="govuk-summary-card"') == 15 and "Safer Neighbourhood Team (Constabulary)" in page
    assert large == small
    connection.set_schema_to_public()
    assert in_suffolk(CaseType.objects.count) == 15


# --- The API lists them, read-only ----------------------------------------------------------------


def test_the_api_lists_the_partnerships_types_with_their_shape_read_only(cast, bob, norfolk_client):
    shaped("HC", is_active=False, default_team=cast["asb"], subject_roles=["victim"], timeline_kinds=["note"])
    listed = bob.get(f"{API}/case-types/")
    assert listed.status_code == 200 and listed.json()["count"] == 5
    by_code = {row["code"]: row for row in listed.json()["results"]}
    assert [row["code"] for row in listed.json()["results"]][-1] == "HC"  # in use first, then retired
    assert by_code["HC"] == {"id": get_type("HC").pk, "code": "HC", "name": "Hate crime", "is_active": False,
                             "subject_roles": ["victim"], "timeline_kinds": ["note"],
                             "default_team": {"id": cast["asb"].pk, "name": "ASB Team"}}  # fmt: skip
    assert by_code["ASB"]["default_team"] is None and by_code["ASB"]["timeline_kinds"] == ALL_KINDS
    assert json_post(bob, f"{API}/case-types/", {"code": "NEW", "name": "New"}).status_code == 405
    # Norfolk's list is Norfolk's own; anonymous gets nothing.
    sign_in(norfolk_client, "nina@norfolk.test")
    norfolk = {row["code"]: row for row in norfolk_client.get(f"{API}/case-types/").json()["results"]}
    assert norfolk["HC"]["is_active"] is True and norfolk["HC"]["default_team"] is None
    assert Client(HTTP_HOST="suffolk.localhost").get(f"{API}/case-types/").status_code in (401, 403)
