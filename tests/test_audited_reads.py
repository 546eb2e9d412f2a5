"""Every read that shows a record is audited, and every refused one too (issue 8, point 3).

The cast (tests/conftest.py): Bob (council, ASB Team) owns the records; Dan (police, Safer
Neighbourhood Team, another agency) sees nothing of them until the case is shared with his
agency; Nina is Norfolk's admin and must reach nothing of Suffolk's.

- The strongest proof walks the partnership URLconf: every GET route that names a record by id
  (profile, case, entry, family, document) is opened by Bob, and each must write an audit event
  about that very record. A new route that shows a record without auditing it fails here.
- Asked by Dan (not his) or for an id that names nothing, each answers the same 404, byte for
  byte, and ``access.refused`` names what was asked for: rate-limited per user and object, and
  per user in all, and race-free across concurrent requests.
"""

from __future__ import annotations

import re
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_tenants.utils import schema_context
from procrastinate.contrib.django.models import ProcrastinateJob

from tenant_apps.audit.models import AuditAction, AuditEvent, RefusalTally
from tenant_apps.casework import services
from tenant_apps.casework.models import Share
from tenant_apps.documents.services import document_store
from tenant_apps.tasks import services as task_services
from tests.conftest import forget_used_codes, sign_in
from tests.test_attachments import upload
from tests.test_casework_pages import _fresh, client_as, make_case, make_entry, make_profile
from tests.test_documents import PDF_BYTES

# The URL arguments that name a record, and the audit's object type for each.
ID_ARGUMENTS = {"profile_id": "profile", "case_id": "case", "entry_id": "timeline_entry", "family_id": "family",
                "document_id": "document", "task_id": "task"}  # fmt: skip
# GET routes naming a record that are not audited per request, and why.
NOT_AUDITED = {
    # An <img> of a page: the page showing it is audited (profile page, gallery); saving the
    # file goes through the download, which is (documents.views.image).
    "documents/<uuid:document_id>/image/",
    # A photo's thumbnail on the timeline: the case or profile page showing it is audited, and the
    # original (the evidence) is opened through the download, which is (documents.views.thumbnail).
    "documents/<uuid:document_id>/thumbnail/",
}
KIND = "addresses"  # the one <str:kind> the walk uses for a profile's details


def routes(resolver=None, prefix: str = "") -> list[str]:
    """Every route of the partnership URLconf, as its full pattern text."""
    resolver = resolver or get_resolver("concord.urls_partnership")
    found = []
    for pattern in resolver.url_patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += routes(pattern, text)
        elif isinstance(pattern, URLPattern):
            found.append(text)
    return found


def record_routes() -> list[str]:
    """The routes naming a record by id."""
    names = "|".join(ID_ARGUMENTS)
    return sorted({route for route in routes() if re.search(rf"<(?:\w+:)?(?:{names})>", route)})


def first_record(route: str) -> tuple[str, str]:
    name = re.search(r"<(?:\w+:)?(\w+)>", route).group(1)
    return name, ID_ARGUMENTS[name]


def fill(route: str, ids: dict[str, object]) -> str:
    def value(match):
        name = match.group(1)
        return str(ids[name]) if name != "kind" else KIND

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, route)


@pytest.fixture
def records(cast, s3):
    """Bob's profile, its case, an entry with a PDF attached, a family; the case shared with nobody."""
    profile = make_profile(cast)
    case = make_case(cast, profile)
    entry = make_entry(cast, case, summary="Spoke to Kyle at the door", body="Kyle said he would stop")
    with schema_context("suffolk"):
        bob = _fresh(cast["bob"])
        family = services.family_create(user=bob, name="Brennan household", owning_team=cast["asb"])
        services.family_add_member(user=bob, family=family, profile=profile, relationship="child",
                                          version=family.version)  # fmt: skip
        document = document_store(request_or_user=bob, file=upload("letter.pdf", PDF_BYTES),
                                  attached_to_type="timeline_entry", attached_to_id=entry.pk)  # fmt: skip
        task = task_services.task_create(user=bob, title="Check on Kyle", due_date=timezone.localdate(),
                                         case=case, assigned_team=cast["asb"])  # fmt: skip
    connection.set_schema_to_public()
    return {
        "profile_id": profile.pk, "case_id": case.pk, "entry_id": entry.pk, "family_id": family.pk,
        "document_id": document.pk, "task_id": task.pk, "share_id": 1, "member_id": 1, "item_id": 1,
    }  # fmt: skip


def events(**filters) -> list[AuditEvent]:
    with schema_context("suffolk"):
        return list(AuditEvent.objects.filter(**filters).order_by("id"))


def last_id(schema: str = "suffolk") -> int:
    with schema_context(schema):
        return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def same_page(body: bytes) -> bytes:
    """A response body without what differs on every request anyway (the CSP nonce, the CSRF token)."""
    body = re.sub(rb'nonce="[^"]*"', b'nonce=""', body)
    return re.sub(rb'value="[A-Za-z0-9]{64}"', b'value=""', body)


def test_the_walk_finds_the_routes_the_issue_names():
    walked = record_routes()
    for route in ("api/v1/entries/<int:entry_id>/", "api/v1/entries/<int:entry_id>/attachments/",
                  "api/v1/cases/<int:case_id>/shares/", "api/v1/profiles/<int:profile_id>/shares/",
                  "cases/<int:case_id>/sharing/", "profiles/<int:profile_id>/sharing/"):  # fmt: skip
        assert route in walked, route
    assert len(walked) > 30, walked


def test_every_get_route_that_shows_a_record_audits_that_record(cast, records):
    bob = client_as(cast, "bob")
    shown = []
    for route in record_routes():
        if route in NOT_AUDITED:
            continue
        url = fill(route, records)
        since = last_id()
        response = bob.get(url)
        if response.status_code == 405:  # POST, PATCH or DELETE only: no read here
            continue
        assert response.status_code in (200, 302), (route, response.status_code)
        name, object_type = first_record(route)
        written = events(id__gt=since, actor=cast["bob"])
        assert [e for e in written if e.object_type == object_type and e.object_id == str(records[name])], (
            route,
            [(e.action, e.object_type, e.object_id) for e in written],
        )
        shown.append(route)
    # The walk really opened the reads the issue found missing.
    for route in ("api/v1/entries/<int:entry_id>/", "api/v1/entries/<int:entry_id>/attachments/",
                  "api/v1/cases/<int:case_id>/shares/", "cases/<int:case_id>/sharing/",
                  "families/<int:family_id>/", "profiles/<int:profile_id>/details/",
                  "tasks/<int:task_id>/", "api/v1/tasks/<int:task_id>/"):  # fmt: skip
        assert route in shown, route


def test_dan_of_another_agency_reading_a_shared_entry_by_the_api_is_audited(cast, records):
    """The reproduction: the entry's summary, body and attendees by the API, once the case is shared."""
    with schema_context("suffolk"):
        Share.objects.create(case_id=records["case_id"], agency=cast["police"], granted_by=cast["bob"])
    dan = client_as(cast, "dan")
    since = last_id()
    response = dan.get(f"/api/v1/entries/{records['entry_id']}/")
    assert response.status_code == 200 and response.json()["body"] == "Kyle said he would stop"
    viewed = events(id__gt=since, action="timeline.entry_viewed")
    assert [(e.actor_id, e.object_id) for e in viewed] == [(cast["dan"].pk, str(records["entry_id"]))]
    # Its attachments, the shares of the case, and the gallery of the caseload too.
    for url, action, object_id in [
        (f"/api/v1/entries/{records['entry_id']}/attachments/", "timeline.entry_viewed", str(records["entry_id"])),
        (f"/api/v1/cases/{records['case_id']}/shares/", "case.viewed", str(records["case_id"])),
        ("/gallery/", "gallery.viewed", ""),
    ]:
        since = last_id()
        assert dan.get(url).status_code == 200, url
        written = events(id__gt=since, actor=cast["dan"], action=action)
        assert [e.object_id for e in written] == [object_id], url
    gallery = written[0]
    assert gallery.summary.startswith("page 1: 1 cards; profiles ") and str(records["profile_id"]) in gallery.summary


# Each route asks again for the same ids: no window, no cap here (the limits are tested below).
@override_settings(AUDIT_REFUSED_WINDOW_MINUTES=0, AUDIT_REFUSED_MAX_PER_WINDOW=10_000)
def test_a_refused_read_answers_as_a_missing_id_does_and_is_recorded_for_every_route(cast, records):
    dan = client_as(cast, "dan")
    missing = dict.fromkeys(records, 987654321) | {"document_id": uuid.uuid4()}
    for route in record_routes():
        if route in NOT_AUDITED:
            continue
        name, object_type = first_record(route)
        since = last_id()
        refused = dan.get(fill(route, records))
        if refused.status_code == 405:
            continue
        absent = dan.get(fill(route, missing))
        # No oracle: the same status and the same body for "not yours" and "no such thing".
        assert refused.status_code == absent.status_code == 404, route
        assert same_page(refused.content) == same_page(absent.content), route
        written = events(id__gt=since, actor=cast["dan"])
        assert [(e.action, e.object_type, e.object_id) for e in written] == [
            ("access.refused", object_type, str(records[name])),
            ("access.refused", object_type, str(missing[name])),
        ], route
        for event in written:
            assert "Kyle" not in event.summary and "Brennan" not in event.summary
            assert event.ip_address == "127.0.0.1" and event.changes is None


def test_a_sensitive_entry_outside_your_teams_is_a_refused_read_of_its_attachments(cast):
    """Carl (same agency, other team) sees the case but not the entry's content."""
    case = make_case(cast, make_profile(cast))
    entry = make_entry(cast, case, kind="note", summary="Disclosure", is_sensitive=True,
                       restricted_to_teams=[cast["asb"]])  # fmt: skip
    carl = client_as(cast, "carl")
    since = last_id()
    assert carl.get(f"/api/v1/entries/{entry.pk}/attachments/").status_code == 404
    written = events(id__gt=since, actor=cast["carl"])
    assert [(e.action, e.object_id) for e in written] == [("access.refused", str(entry.pk))]


def test_refusals_are_rate_limited_per_object_and_per_user(cast, records, settings):
    dan = client_as(cast, "dan")
    url = f"/cases/{records['case_id']}/"
    since = last_id()
    for _ in range(5):
        assert dan.get(url).status_code == 404
    assert len(events(id__gt=since, action="access.refused")) == 1
    # Another object is another event, up to the per-user cap; then nothing more in the window.
    settings.AUDIT_REFUSED_MAX_PER_WINDOW = 3
    for n in range(5):
        assert dan.get(f"/profiles/{900000 + n}/").status_code == 404
    refused = events(id__gt=since, action="access.refused", actor=cast["dan"])
    assert [e.object_id for e in refused] == [str(records["case_id"]), "900000", "900001"]
    # A user's limit is theirs alone: Carl's refusals are still recorded.
    carl = client_as(cast, "carl")
    assert carl.get("/profiles/900003/").status_code == 404
    assert [e.object_id for e in events(id__gt=since, action="access.refused", actor=cast["carl"])] == ["900003"]


@override_settings(AUDIT_REFUSED_WINDOW_MINUTES=0)
def test_once_the_window_has_passed_the_same_object_is_recorded_again(cast, records):
    dan = client_as(cast, "dan")
    since = last_id()
    for _ in range(2):
        assert dan.get(f"/cases/{records['case_id']}/").status_code == 404
    assert len(events(id__gt=since, action="access.refused", actor=cast["dan"])) == 2


def test_nina_asking_suffolks_ids_on_norfolk_is_refused_there_and_suffolk_learns_nothing(cast, records):
    nina = Client(HTTP_HOST="norfolk.localhost")
    sign_in(nina, "nina@norfolk.test")
    suffolk_since, norfolk_since = last_id(), last_id("norfolk")
    for url in (f"/cases/{records['case_id']}/", f"/api/v1/entries/{records['entry_id']}/"):
        assert nina.get(url).status_code == 404
    assert events(id__gt=suffolk_since, action="access.refused") == []
    with schema_context("norfolk"):
        refused = list(AuditEvent.objects.filter(id__gt=norfolk_since, action="access.refused").order_by("id"))
    assert [(e.actor_label, e.object_type) for e in refused] == [
        ("nina@norfolk.test", "case"),
        ("nina@norfolk.test", "timeline_entry"),
    ]


def test_the_new_actions_have_labels():
    for action in ("access.refused", "timeline.entry_viewed", "family.viewed", "gallery.viewed"):
        assert AuditAction(action).label != action


def test_concurrent_refusals_of_one_object_record_one_event(committed_db):
    """Eight requests at once, in eight threads with their own connections, for one id: one event,
    and the seven repeats counted in the tally.

    Committed (the events cannot be deleted): Nina in Norfolk, an id no test reaches.
    """
    nina = Client(HTTP_HOST="norfolk.localhost")
    sign_in(nina, "nina@norfolk.test")
    forget_used_codes()
    missing = 2_000_000_000 + uuid.uuid4().int % 100_000_000
    with schema_context("norfolk"):
        counted_before = sum(
            RefusalTally.objects.filter(actor__email="nina@norfolk.test").values_list("count", flat=True)
        )
    barrier = threading.Barrier(8)
    statuses = []

    def probe():
        client = Client(HTTP_HOST="norfolk.localhost")
        client.cookies = nina.cookies
        barrier.wait()
        try:
            statuses.append(client.get(f"/profiles/{missing}/").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=probe) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [404] * 8
    try:
        with schema_context("norfolk"):
            recorded = AuditEvent.objects.filter(action="access.refused", object_type="profile", object_id=str(missing))
            assert recorded.count() == 1
            # The seven repeats are counted, not lost, under the same lock: none counted twice or missed.
            ninas = RefusalTally.objects.filter(actor__email="nina@norfolk.test")
            assert sum(ninas.values_list("count", flat=True)) == counted_before + 7
    finally:  # the tally and its summary's job are not the trail: removed
        with schema_context("norfolk"):
            tallies = list(RefusalTally.objects.filter(actor__email="nina@norfolk.test").values_list("id", flat=True))
            RefusalTally.objects.filter(id__in=tallies).delete()
        summaries = ProcrastinateJob.objects.filter(task_name="tenant_apps.audit.jobs.refusals_summarise")
        summaries.filter(args__schema_name="norfolk", args__tally_id__in=tallies).delete()
        connection.set_schema_to_public()


def test_the_admin_sees_who_probed_what_in_full(cast, records):
    """Refused reads name only what was asked for: the audit page shows them whole, even to an
    admin the record is hidden from (Alice, in no agency, sees none of Bob's records here)."""
    dan = client_as(cast, "dan")
    assert dan.get(f"/api/v1/entries/{records['entry_id']}/").status_code == 404
    page = client_as(cast, "alice").get("/admin/audit/", {"action": "access.refused"}).content.decode()
    # The entry is hidden from her: typed and numbered, never named (its name is its summary).
    assert f"Timeline entry {records['entry_id']}<" in page
    assert "answered not found: GET api/v1/entries/&lt;int:entry_id&gt;/" in page
    assert '<td data-label="Who" class="govuk-table__cell govuk-!-font-size-16">Dan</td>' in page
    assert "Kyle" not in page


def test_a_forbidden_page_and_a_refused_write_are_recorded(cast, records):
    """Bob (practitioner) on an admin page and Vera (viewer) writing get 403; Dan writing to Bob's
    entry gets the 404 a missing id gets. Each is recorded with who, from where, the method and
    the route, and the id when the route names one; never the body. Nina's, in Norfolk, are
    Norfolk's alone."""
    entry_url = f"/api/v1/entries/{records['entry_id']}/"
    since = last_id()
    bob = client_as(cast, "bob")
    assert bob.get("/admin/users/").status_code == 403
    vera = client_as(cast, "vera")
    body = {"summary": "Vera's secret words", "version": 1}
    assert vera.patch(entry_url, body, content_type="application/json").status_code == 403
    dan = client_as(cast, "dan")
    refused = dan.patch(entry_url, body, content_type="application/json")
    absent = dan.patch("/api/v1/entries/987654321/", body, content_type="application/json")
    assert refused.status_code == absent.status_code == 404
    assert refused.json() == absent.json()  # the answer is unchanged: no oracle
    assert dan.post(f"/cases/{records['case_id']}/timeline/new/", {"summary": "Dan's words"}).status_code == 404

    written = events(id__gt=since, action__startswith="access.")
    assert [(e.action, e.actor_id, e.object_type, e.object_id, e.summary) for e in written] == [
        ("access.forbidden", cast["bob"].pk, "", "", "answered forbidden: GET admin/users/"),
        ("access.forbidden", cast["vera"].pk, "timeline_entry", str(records["entry_id"]),
         "answered forbidden: PATCH api/v1/entries/<int:entry_id>/"),
        ("access.refused", cast["dan"].pk, "timeline_entry", str(records["entry_id"]),
         "answered not found: PATCH api/v1/entries/<int:entry_id>/"),
        ("access.refused", cast["dan"].pk, "timeline_entry", "987654321",
         "answered not found: PATCH api/v1/entries/<int:entry_id>/"),
        ("access.refused", cast["dan"].pk, "case", str(records["case_id"]),
         "answered not found: POST cases/<int:case_id>/timeline/new/"),
    ]  # fmt: skip
    for event in written:
        assert event.ip_address == "127.0.0.1" and event.changes is None and event.occurred_at is not None
        assert "secret words" not in event.summary and "Dan's words" not in event.summary
    # The admin sees them, labelled, on the audit page.
    page = client_as(cast, "alice").get("/admin/audit/", {"action": "access.forbidden"}).content.decode()
    assert "Refused: not allowed" in page and "answered forbidden: GET admin/users/" in page

    # Nina, Norfolk's admin, writing to Suffolk's entry id on Norfolk's host: Norfolk's trail only.
    nina = Client(HTTP_HOST="norfolk.localhost")
    sign_in(nina, "nina@norfolk.test")
    suffolk_since, norfolk_since = last_id(), last_id("norfolk")
    assert nina.patch(entry_url, body, content_type="application/json").status_code == 404
    assert events(id__gt=suffolk_since, action__startswith="access.") == []
    with schema_context("norfolk"):
        norfolks = list(AuditEvent.objects.filter(id__gt=norfolk_since, action__startswith="access."))
    assert [(e.actor_label, e.action, e.object_id) for e in norfolks] == [
        ("nina@norfolk.test", "access.refused", str(records["entry_id"]))
    ]


def test_refusals_past_the_cap_are_summarised_not_dropped(cast, records, settings):
    """Dan probes: three refusals are recorded one by one (the cap, 3 here), the repeats and the
    rest are counted, and ONE ``access.refusals_suppressed`` event says how many when the
    window closes (its job, deferred for then, run here as the worker would). Carl's refusals
    are his own; Nina's, in Norfolk, are counted in Norfolk."""
    from tenant_apps.audit.jobs import refusals_summarise

    settings.AUDIT_REFUSED_MAX_PER_WINDOW = 3
    dan = client_as(cast, "dan")
    since = last_id()
    jobs_before = set(ProcrastinateJob.objects.values_list("id", flat=True))
    assert dan.get(f"/cases/{records['case_id']}/").status_code == 404
    assert dan.get(f"/cases/{records['case_id']}/").status_code == 404  # a repeat: counted
    assert dan.get("/admin/users/").status_code == 403
    for n in range(6):
        assert dan.get(f"/profiles/{900000 + n}/").status_code == 404
    recorded = events(id__gt=since, actor=cast["dan"], action__startswith="access.")
    assert [(e.action, e.object_id) for e in recorded] == [
        ("access.refused", str(records["case_id"])),
        ("access.forbidden", ""),
        ("access.refused", "900000"),
    ]
    with schema_context("suffolk"):
        [tally] = RefusalTally.objects.filter(actor=cast["dan"])
        assert tally.count == 6 and not tally.summarised  # 1 repeat + 5 past the cap
        assert timedelta(minutes=9) < tally.window_ends_at - timezone.now() <= timedelta(minutes=10)
    with schema_context("public"):  # the queue is the platform's: a partnership may only add to it
        [job] = ProcrastinateJob.objects.exclude(id__in=jobs_before)
    assert job.task_name == "tenant_apps.audit.jobs.refusals_summarise"
    assert job.args == {"schema_name": "suffolk", "tally_id": tally.pk}
    assert job.scheduled_at == tally.window_ends_at  # one job per window, at its close
    # Carl is not held back by Dan's probing.
    carl = client_as(cast, "carl")
    assert carl.get("/profiles/900003/").status_code == 404
    assert [e.object_id for e in events(id__gt=since, actor=cast["carl"], action="access.refused")] == ["900003"]

    refusals_summarise(**job.args)
    refusals_summarise(**job.args)  # a retried job writes nothing more
    [summary] = events(id__gt=since, action="access.refusals_suppressed")
    assert summary.actor_id == cast["dan"].pk and summary.summary.startswith("6 refusals not recorded one by one, ")
    assert "past the cap of 3 refusals recorded per user in the window" in summary.summary
    page = client_as(cast, "alice").get("/admin/audit/", {"action": "access.refusals_suppressed"}).content.decode()
    assert "Refusals counted, not recorded one by one" in page and "6 refusals not recorded one by one" in page
    # Refused again after the summary: a new window, a new tally and its own job.
    assert dan.get("/profiles/900009/").status_code == 404
    with schema_context("suffolk"):
        assert list(
            RefusalTally.objects.filter(actor=cast["dan"]).order_by("id").values_list("count", "summarised")
        ) == [
            (6, True),
            (1, False),
        ]

    # Norfolk: Nina's refusals are capped and counted in Norfolk; Suffolk learns nothing.
    nina = Client(HTTP_HOST="norfolk.localhost")
    sign_in(nina, "nina@norfolk.test")
    suffolk_since, norfolk_since = last_id(), last_id("norfolk")
    with schema_context("norfolk"):
        counted_before = sum(RefusalTally.objects.values_list("count", flat=True))
    for n in range(5):
        assert nina.get(f"/profiles/{900100 + n}/").status_code == 404
    assert events(id__gt=suffolk_since, action__startswith="access.") == []
    with schema_context("norfolk"):
        # Each one recorded or counted, never both nor neither (Nina's earlier refusals in the
        # window, committed by another test, may have used part of her cap already).
        recorded = AuditEvent.objects.filter(id__gt=norfolk_since, action="access.refused").count()
        counted = sum(RefusalTally.objects.values_list("count", flat=True)) - counted_before
        assert recorded <= 3 and counted >= 2 and recorded + counted == 5
        assert set(RefusalTally.objects.values_list("actor__email", flat=True)) == {"nina@norfolk.test"}
