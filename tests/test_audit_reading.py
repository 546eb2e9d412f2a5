"""The audit trail reads as a person reads it (issue 10, point 7).

Objects are named, not numbered ("Case ASB-2026-0001, Noise and intimidation, Mill Lane"), the
actor by their name, an edit by the fields it changed (old and new in words: choice labels, one
format of date and time, foreign keys by name); and redaction comes first: an object the reader
may not see is never named, and each partnership's ids are resolved only in its own schema.

The cast (tests/conftest.py): Bob writes in the council's ASB Team; Alice is Suffolk's admin in
no team (she sees casework only where the partnership chose ``admins_see_everything``); Nina is
Norfolk's admin. Names are resolved when the trail is read, one read per kind of object on the
page, so the page costs the same for 5 events as for 50.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import User
from tenant_apps.audit import naming
from tenant_apps.audit.models import AuditEvent
from tenant_apps.audit.selectors import audit_events_as_read
from tenant_apps.audit.services import audit_record
from tenant_apps.casework import services
from tenant_apps.casework.models import TimelineEntry
from tenant_apps.directory.models import Agency, Team
from tenant_apps.tasks import services as tasks
from tests.conftest import sign_in
from tests.test_audit import table
from tests.test_audit_redaction import admins_see_everything, csv_text
from tests.test_casework_pages import _fresh, client_as, make_case, make_entry, make_profile

LIST = "/admin/audit/"
EXPORT = "/admin/audit/export.csv"
TODAY = dt.date.today


def page_of(client, **query) -> str:
    response = client.get(LIST, query)
    assert response.status_code == 200
    return table(response.content.decode())


def object_cells(html: str) -> list[str]:
    """The text of each event's Object cell."""
    return re.findall(r'<td data-label="Object" class="[^"]*">([^<]*)</td>', html)


@pytest.fixture
def kyle(cast):
    """Bob's profile of Kyle Brennan, his case and a home visit on it; Alice may see them all."""
    admins_see_everything()
    profile = make_profile(cast)
    case = make_case(cast, profile)
    entry = make_entry(cast, case, summary="Home visit",
                       occurred_at=dt.datetime(2026, 3, 3, 14, 5, tzinfo=dt.UTC))  # fmt: skip
    connection.set_schema_to_public()
    return {"profile": profile, "case": case, "entry": entry}


# --- Names ---------------------------------------------------------------------------------------


def test_each_kind_of_object_is_named_as_a_person_reads_it(cast, kyle, s3):
    from tenant_apps.documents.services import document_store
    from tests.test_attachments import upload
    from tests.test_documents import PDF_BYTES

    with schema_context("suffolk"):
        bob = _fresh(cast["bob"])
        task = tasks.task_create(user=bob, title="Check CCTV near the address", due_date=TODAY(),
                                 case=kyle["case"], assigned_user=cast["alice"])  # fmt: skip
        document = document_store(request_or_user=bob, file=upload("statement.pdf", PDF_BYTES),
                                  attached_to_type="timeline_entry", attached_to_id=kyle["entry"].pk)  # fmt: skip
        family = services.family_create(user=bob, name="The Brennans", owning_team=cast["asb"])
        agency = Agency.objects.create(name="Ipswich Borough Council", kind="council")
        team = Team.objects.create(agency=agency, name="Tenancy Team")
        for object_type, object_id in [("team", team.pk), ("agency", agency.pk), ("user", cast["carl"].pk)]:
            audit_record(action=f"{object_type}.updated" if object_type != "user" else "user.role_changed",
                         actor=cast["alice"], object_type=object_type, object_id=object_id)  # fmt: skip
    html = page_of(client_as(cast, "alice"))
    case = kyle["case"]
    for name in [
        f"Case {case.reference}, Noise and intimidation, Mill Lane",
        "Profile: Kyle Brennan",
        f"Timeline entry: Home visit, 3 March 2026 (case {case.reference})",
        "Task: Check CCTV near the address",
        "Document: statement.pdf",
        "Family: The Brennans",
        "Team: Tenancy Team (Ipswich Borough Council)",
        "Agency: Ipswich Borough Council",
        "User: Carl",
    ]:
        assert name in html, name
    # No object is shown by its internal name and id any more.
    cells = object_cells(html)
    objects = " | ".join(cells)
    for internal in [f"case {case.pk}", f"timeline_entry {kyle['entry'].pk}", f"task {task.pk}",
                     f"document {document.pk}", f"family {family.pk}"]:  # fmt: skip
        assert internal not in objects, internal
    # Nor by type and id alone (the page also holds other tests' committed events: only ours).
    ours = {f"Case {case.pk}", f"Profile {kyle['profile'].pk}", f"Timeline entry {kyle['entry'].pk}",
            f"Task {task.pk}", f"Document {document.pk}", f"Family {family.pk}", f"Team {team.pk}",
            f"Agency {agency.pk}", f"User {cast['carl'].pk}"}  # fmt: skip
    assert [cell for cell in cells if cell.strip().removesuffix(" (deleted)") in ours] == []


def test_the_actor_is_named_with_an_address_only_to_tell_two_apart(cast):
    with schema_context("suffolk"):
        first = User.objects.create_user("sam.lee@suffolk.test", full_name="Sam Lee", role="practitioner")
        second = User.objects.create_user("sam.lee2@suffolk.test", full_name="Sam Lee", role="practitioner")
        for actor in (first, second, cast["bob"]):
            audit_record(action="auth.sign_in", actor=actor, object_type="user", object_id=actor.pk)
    html = page_of(client_as(cast, "alice"), action="auth.sign_in")
    assert "Sam Lee (sam.lee@suffolk.test)" in html and "Sam Lee (sam.lee2@suffolk.test)" in html
    assert "Bob Brown" in html and "bob@suffolk.test" not in html


def test_a_deleted_entry_reads_by_type_and_id_and_an_asked_for_id_is_not_called_deleted(cast, kyle):
    entry = kyle["entry"]
    with schema_context("suffolk"):
        services.entry_delete(user=_fresh(cast["bob"]), entry=TimelineEntry.objects.get(pk=entry.pk), version=1,
                              reason="Recorded on the wrong case")  # fmt: skip
        audit_record(action="access.refused", actor=cast["bob"], object_type="profile", object_id="987654")
    html = page_of(client_as(cast, "alice"))
    assert f"Timeline entry {entry.pk} (deleted)" in html and "Timeline entry: Home visit" not in html
    assert "Profile 987654<" in html and "Profile 987654 (deleted)" not in html


# --- Redaction first -------------------------------------------------------------------------


def test_an_object_hidden_from_the_reader_is_never_named_whatever_the_event(cast):
    """Alice outside a sensitive entry's team, and outside a profile's when admins see no more
    than anyone: neither is named, not even in a read or a refused read (content-free events)."""
    admins_see_everything(False)
    profile = make_profile(cast, first_name="Jade", last_name="Kowalski")
    case = make_case(cast, profile)
    with schema_context("suffolk"):
        bob = _fresh(cast["bob"])
        audit_record(action="profile.viewed", actor=bob, object_type="profile", object_id=profile.pk)
        audit_record(action="access.refused", actor=cast["carl"], object_type="case", object_id=case.pk)
    admins_see_everything(True)
    entry = make_entry(cast, case, summary="Disclosure of threats", is_sensitive=True,
                       restricted_to_teams=[cast["asb"]])  # fmt: skip
    with schema_context("suffolk"):
        audit_record(action="timeline.entry_viewed", actor=bob, object_type="timeline_entry", object_id=entry.pk)
    admins_see_everything(False)
    alice = client_as(cast, "alice")
    html = page_of(alice)
    for secret in ("Kowalski", "Mill Lane", "Disclosure of threats"):
        assert secret not in html, secret
    assert f"Profile {profile.pk}<" in html and f"Case {case.pk}<" in html and f"Timeline entry {entry.pk}<" in html
    assert "[restricted: record not visible to you]" in html
    text = csv_text(alice.get(EXPORT))
    for secret in ("Kowalski", "Mill Lane", "Disclosure of threats"):
        assert secret not in text, secret
    # Once the partnership lets admins see every record, the profile and case are named; the
    # sensitive entry still is not (only its named team may read it).
    admins_see_everything(True)
    html = page_of(alice)
    assert "Profile: Jade Kowalski" in html and f"Case {case.reference}, Noise and intimidation, Mill Lane" in html
    assert "Disclosure of threats" not in html and f"Timeline entry {entry.pk}<" in html


def test_a_task_the_admin_may_not_see_is_not_named(cast, kyle):
    with schema_context("suffolk"):
        bob = _fresh(cast["bob"])
        hidden = tasks.task_create(user=bob, title="Visit the neighbour quietly", due_date=TODAY(),
                                   case=kyle["case"], assigned_user=cast["carl"])  # fmt: skip
    html = page_of(client_as(cast, "alice"), action="task.created")
    assert "Visit the neighbour quietly" not in html
    assert f"Task {hidden.pk}<" in html and "[restricted: task not visible to you]" in html


def test_norfolks_ids_are_never_resolved_in_suffolk_even_when_the_id_exists_in_both(cast):
    """Nina's trail names Norfolk's team with Norfolk's name for an id Suffolk uses too, and a
    Suffolk profile's id names nothing in Norfolk."""
    profile = make_profile(cast, first_name="Suffolkonly", last_name="Person")
    suffolk_team = cast["asb"]
    with schema_context("norfolk"):
        nina = User.objects.get(email="nina@norfolk.test")
        agency = Agency.objects.create(name="Norfolk County Council", kind="council")
        Team.objects.filter(pk=suffolk_team.pk).delete()
        norfolk_team = Team.objects.create(pk=suffolk_team.pk, agency=agency, name="Norfolk Outreach")
        audit_record(action="team.updated", actor=nina, object_type="team", object_id=norfolk_team.pk)
        audit_record(action="profile.updated", actor=nina, object_type="profile", object_id=profile.pk)
    with schema_context("suffolk"):
        audit_record(action="team.updated", actor=cast["alice"], object_type="team", object_id=suffolk_team.pk)
    from django.test import Client

    client = Client(HTTP_HOST="norfolk.localhost")
    sign_in(client, "nina@norfolk.test")
    html = page_of(client)
    assert "Team: Norfolk Outreach (Norfolk County Council)" in html
    assert "ASB Team" not in html and "District Council" not in html and "Suffolkonly" not in html
    assert f"Profile {profile.pk}" in html
    suffolk = page_of(client_as(cast, "alice"), action="team.updated")
    assert "Team: ASB Team (District Council)" in suffolk and "Norfolk Outreach" not in suffolk


# --- Changes in words ------------------------------------------------------------------------


def test_an_edit_of_one_field_records_and_shows_that_field_alone(cast, kyle):
    entry = kyle["entry"]
    with schema_context("suffolk"):
        current = TimelineEntry.objects.get(pk=entry.pk)
        # What the edit form sends: every field, only the summary changed (the time given in
        # another zone, the same instant).
        services.entry_update(
            user=_fresh(cast["bob"]), entry=current, version=1, kind=current.kind, action=current.action,
            occurred_at=current.occurred_at.astimezone(naming.UK), summary="Home visit, nobody in",
            body=current.body, attendees=current.attendees,
        )  # fmt: skip
        stored = AuditEvent.objects.get(action="timeline.entry_updated", object_id=str(entry.pk))
    assert stored.changes == {"summary": ["Home visit", "Home visit, nobody in"]}
    html = page_of(client_as(cast, "alice"), action="timeline.entry_updated")
    assert "Summary" in html and "Home visit, nobody in" in html
    for unchanged in (">Kind<", ">When<", ">Details<", ">Attendees<"):
        assert unchanged not in html, unchanged


def test_pairs_equal_once_normalised_are_dropped_and_values_read_in_words(cast, kyle):
    """Events written before the services recorded only changes: a date as a date and as a
    midnight, "None" for nothing, the same text; and raw choices, booleans and moments."""
    case = kyle["case"]
    with schema_context("suffolk"):
        audit_record(action="case.status_changed", actor=cast["bob"], object_type="case", object_id=case.pk,
                     changes={"status": ["open", "closed"], "outcome": ["", "nfa"],
                              "closed_on": ["2026-03-03", "2026-03-03T00:00:00"],
                              "lead_practitioner": [cast["bob"].pk, cast["carl"].pk]})  # fmt: skip
        audit_record(action="timeline.entry_updated", actor=cast["bob"], object_type="timeline_entry",
                     object_id=kyle["entry"].pk,
                     changes={"kind": ["visit", "phone_call"], "body": ["Same\r\ntext", "Same\ntext"],
                              "occurred_at": ["2026-03-03T14:05:00+00:00", "2026-07-01 13:05:00+00:00"],
                              "attendees": ["None", ""], "is_sensitive": [False, False]})  # fmt: skip
        audit_record(action="user.role_changed", actor=cast["alice"], object_type="user", object_id=cast["carl"].pk,
                     changes={"role": ["practitioner", "admin"], "is_active": [True, False]})  # fmt: skip
    html = page_of(client_as(cast, "alice"))
    for words in ["Open", "Closed", "No further action", "Bob Brown", "Carl", "Phone call", "Visit",
                  "3 Mar 2026, 14:05", "1 Jul 2026, 14:05", "Practitioner", "Partnership admin", "Yes"]:  # fmt: skip
        assert f"{words} " in html or f" {words}" in html, words
    # Raw values and unchanged pairs are not shown.
    # The moment stored in UTC is shown in London time only: never as 13:05 in any form (a bare
    # "13:05" could be another event's own time on the page, written at that minute today).
    for raw in [">nfa", "phone_call", "T14:05", "13:05:00", "2026-07-01 13:05", "1 Jul 2026, 13:05",
                ">Closed on<", ">Details<", ">Attendees<", ">Sensitive<", f">{cast['carl'].pk} "]:  # fmt: skip
        assert raw not in html, raw


def test_every_time_on_the_page_is_in_one_format(cast):
    with schema_context("suffolk"):
        AuditEvent.objects.create(action="auth.sign_in", actor=cast["bob"],
                                  occurred_at=dt.datetime(2026, 7, 1, 13, 5, 9, tzinfo=dt.UTC))  # fmt: skip
    html = page_of(client_as(cast, "alice"), date_from="1/7/2026", date_to="1/7/2026")
    assert '<time datetime="2026-07-01T14:05:09+01:00">1 Jul 2026, 14:05</time>' in html


def test_the_csv_keeps_the_raw_values_and_adds_the_names(cast, kyle):
    alice = client_as(cast, "alice")
    rows = list(csv.DictReader(io.StringIO(csv_text(alice.get(EXPORT, {"action": "case.created"})).lstrip("\ufeff"))))
    mine = next(row for row in rows if row["Object id"] == str(kyle["case"].pk))
    assert mine["Object type"] == "case" and mine["Action"] == "case.created" and mine["User"] == "bob@suffolk.test"
    assert mine["Object"] == f"Case {kyle['case'].reference}, Noise and intimidation, Mill Lane"
    assert mine["User name"] == "Bob Brown"


def test_the_operators_trail_names_the_operator_and_the_partnership(db):
    with schema_context("public"):
        operator = User.objects.create_user("olu@platform.test", full_name="Olu Operator", role="admin")
        audit_record(action="partnership.suspended", actor=operator, object_type="partnership", object_id="suffolk")
        events = audit_events_as_read(user=operator, events=AuditEvent.objects.filter(actor=operator))
    assert [(event.actor_name, event.object_name) for event in events] == [
        ("Olu Operator", "Partnership: Suffolk Community Safety Partnership")
    ]


# --- Query counts ----------------------------------------------------------------------------


def _events_of_every_kind(cast, about, count: int) -> None:
    """``count`` events spread over every kind of object the page names, and several actors."""
    with schema_context("suffolk"):
        bob = _fresh(cast["bob"])
        actors = [cast["bob"], cast["carl"], cast["dan"], cast["alice"]]
        AuditEvent.objects.bulk_create(
            AuditEvent(action="case.status_changed", actor=actors[n % len(actors)],
                       object_type=about[n % len(about)][0], object_id=str(about[n % len(about)][1]),
                       summary=f"event {n}",
                       changes={"status": ["open", "closed"], "lead_practitioner": [bob.pk, actors[n % 4].pk]})
            for n in range(count)
        )  # fmt: skip


def test_the_page_costs_the_same_for_five_events_as_for_fifty(cast, kyle):
    alice = client_as(cast, "alice")
    # Today's status changes only: other tests leave committed events of other kinds behind.
    query = {"date_from": TODAY().strftime("%d/%m/%Y"), "action": "case.status_changed"}

    def count() -> int:
        alice.get(LIST, query)  # warm the per-process caches
        with CaptureQueriesContext(connection) as captured:
            response = alice.get(LIST, query)
        assert response.status_code == 200
        return len(captured)

    with schema_context("suffolk"):
        task = tasks.task_create(user=_fresh(cast["bob"]), title="Count me", due_date=TODAY(),
                                 assigned_user=cast["alice"])  # fmt: skip
    about = [("case", kyle["case"].pk), ("profile", kyle["profile"].pk), ("timeline_entry", kyle["entry"].pk),
             ("task", task.pk), ("team", cast["asb"].pk), ("agency", cast["council"].pk),
             ("user", cast["carl"].pk)]  # fmt: skip
    _events_of_every_kind(cast, about, 7)  # one of each kind: with 5 more, every kind is on the page
    _events_of_every_kind(cast, about, 5)
    small = count()
    _events_of_every_kind(cast, about, 45)
    large = count()
    assert large == small
    # Measured: 23 with seven kinds of object on the page. A signed-in page's reads, the page's own
    # (the filter's users, the count, the events with their actors, the hash chain's last
    # verification), one redaction read per kind with a rule (case, profile, timeline entry, task)
    # and one name read per kind named (those four, team, agency, user; the actors are users too),
    # and the main menu's count of the reader's overdue tasks (base.html).
    assert small <= 23, small
    assert page_of(alice, **query).count("event ") >= 50


# --- The registry ------------------------------------------------------------------------------


def test_a_kind_is_named_by_one_namer_and_an_unregistered_kind_reads_by_type_and_id():
    def first(ids):
        return {}

    def second(ids):
        return {}

    naming.register("test_widget", first, label="Widget")
    try:
        assert naming.register("test_widget", first, label="Widget") is first  # the same again: fine
        with pytest.raises(ValueError):
            naming.register("test_widget", second)
        with pytest.raises(TypeError):
            naming.register("test_gadget", "not callable")
        assert naming.shown("test_widget", "4", None, hidden=False) == "Widget 4 (deleted)"
        assert naming.shown("test_widget", "4", "Blue", hidden=False) == "Widget: Blue"
        assert naming.shown("test_widget", "4", "Blue", hidden=True) == "Widget 4"
    finally:
        naming.unregister("test_widget")
    assert naming.shown("security_settings", "1", None, hidden=False) == "Security settings 1"
    assert naming.shown("", "", None, hidden=False) == ""


def test_without_a_namer_for_users_the_actor_reads_by_the_joined_account_or_the_address(cast):
    from tenant_apps.directory import audit as directory_audit

    with schema_context("suffolk"):
        audit_record(action="auth.sign_in", actor=cast["bob"], object_type="user", object_id=cast["bob"].pk)
        naming.unregister("user")
        try:
            joined = audit_events_as_read(user=cast["alice"], events=AuditEvent.objects.select_related("actor")[:1])
            plain = audit_events_as_read(user=cast["alice"], events=AuditEvent.objects.all()[:1])
        finally:
            directory_audit.register()
    assert [(event.actor_name, event.object_name) for event in joined] == [("Bob Brown", f"User {cast['bob'].pk}")]
    assert [event.actor_name for event in plain] == ["bob@suffolk.test"]


def test_a_case_type_and_an_api_client_are_named_and_a_case_types_change_reads_in_words(cast):
    from tenant_apps.casework.services import case_type_create, case_type_update
    from tenant_apps.directory.models import ApiClient

    with schema_context("suffolk"):
        alice = _fresh(cast["alice"])
        created = case_type_create(user=alice, name="Hate crime review", code="HCR", subject_roles=["victim"],
                                   timeline_kinds=["visit", "note"])  # fmt: skip
        case_type_update(user=alice, case_type=created, version=created.version, name="Hate crime review",
                         code="HCR", subject_roles=["victim", "witness"], timeline_kinds=["visit", "note"])  # fmt: skip
        bob = _fresh(cast["bob"])
        service_account = User.objects.create_user("rms@clients.suffolk.test", full_name="API client: Police RMS",
                                                   role="viewer")  # fmt: skip
        client = ApiClient.objects.create(name="Police RMS", team=cast["asb"], scopes=["profiles:read"],
                                          service_account=service_account, created_by=bob)  # fmt: skip
        audit_record(action="api_client.issued", actor=alice, object_type="api_client", object_id=client.pk)
    html = page_of(client_as(cast, "alice"))
    assert "Case type: Hate crime review (HCR)" in html
    assert f"API client: Police RMS, for {cast['asb'].name} (" in html
    # The edit names the one field it changed, its values by their labels.
    assert "Subject roles" in html and "</span> Victim, Witness</dd>" in html
