"""The casework REST API, with the same cast as tests/test_casework.py.

The cast in Suffolk (made per test, rolled back), each signed in through the real
password + second-factor flow:
- Bob: District Council, ASB Team. Owns the records (his team and agency).
- Carl: District Council, Community Safety Team: same agency, other team. Sees the
  case, but a sensitive entry restricted to the ASB Team only as "restricted".
- Dan: Constabulary, Safer Neighbourhood Team: other agency. Sees nothing (404, counts 0).
- Vera: District Council, ASB Team, viewer: reads, and gets 403 on every write.
- Nina, in Norfolk, must never reach any of it: Suffolk ids on Norfolk are 404.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.casework import services
from tenant_apps.casework.models import CaseType, TimelineEntry
from tests.conftest import sign_in

API = "/api/v1"


def client_of(cast, name: str, *, slug: str = "suffolk") -> Client:
    client = Client(HTTP_HOST=f"{slug}.localhost")
    email = f"{name}@{slug}.test"
    sign_in(client, email)
    return client


@pytest.fixture
def bob(cast):
    return client_of(cast, "bob")


def make_profile(cast, **fields):
    defaults = {"first_name": "Kyle", "last_name": "Brennan", "date_of_birth": dt.date(2001, 5, 17)}
    with schema_context("suffolk"):
        return services.profile_create(user=cast["bob"], owning_team=cast["asb"], **{**defaults, **fields})


def make_case(cast, profile):
    with schema_context("suffolk"):
        return services.case_create(
            user=cast["bob"],
            case_type=CaseType.objects.get(code="ASB"),
            title="Noise and intimidation, Mill Lane",
            owning_team=cast["asb"],
            subjects=[(profile, "perpetrator")],
        )


def make_entry(cast, case, **fields):
    defaults = {"kind": "visit", "occurred_at": timezone.now() - dt.timedelta(hours=1), "summary": "Home visit"}
    with schema_context("suffolk"):
        return services.entry_create(user=cast["bob"], case=case, **{**defaults, **fields})


@pytest.fixture
def records(cast):
    """Bob's profile, case, an ordinary entry and a sensitive one restricted to the ASB Team."""
    profile = make_profile(cast)
    case = make_case(cast, profile)
    visit = make_entry(cast, case, occurred_at=timezone.now() - dt.timedelta(hours=2), body="Spoke at the door.")
    secret = make_entry(
        cast,
        case,
        kind="note",
        summary="Disclosure",
        body="SECRET-BODY",
        attendees="SECRET-ATT",
        is_sensitive=True,
        restricted_to_teams=[cast["asb"]],
    )
    return {"profile": profile, "case": case, "visit": visit, "secret": secret}


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content[:800]
    return response.json()["error"]


def json_patch(client, path, data):
    return client.patch(path, data, content_type="application/json")


def json_post(client, path, data):
    return client.post(path, data, content_type="application/json")


# --- The owner ---------------------------------------------------------------------------------


def test_the_owner_creates_reads_updates_and_records_work(cast, bob):
    from tenant_apps.audit.models import AuditEvent

    created = json_post(
        bob,
        f"{API}/profiles/",
        {"first_name": "Kyle", "last_name": "Brennan", "date_of_birth": "2001-05-17", "owning_team": cast["asb"].pk},
    )
    assert created.status_code == 201, created.content
    profile = created.json()
    assert profile["display_name"] == "Kyle Brennan" and profile["version"] == 1
    assert profile["owning_team"] == {"id": cast["asb"].pk, "name": "ASB Team"}

    listed = bob.get(f"{API}/profiles/", {"kind": "person"}).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == profile["id"]
    assert bob.get(f"{API}/profiles/", {"kind": "premises"}).json()["count"] == 0

    assert bob.get(f"{API}/profiles/{profile['id']}/").json()["first_name"] == "Kyle"
    with schema_context("suffolk"):
        assert AuditEvent.objects.filter(action="profile.viewed", object_id=str(profile["id"])).count() == 1

    updated = json_patch(bob, f"{API}/profiles/{profile['id']}/", {"version": 1, "phone": "01473 000000"})
    assert updated.status_code == 200 and updated.json()["phone"] == "01473 000000"
    assert updated.json()["version"] == 2

    dupes = json_post(
        bob, f"{API}/profiles/duplicates/", {"first_name": "Kyle", "last_name": "Brenan", "date_of_birth": "2001-05-17"}
    )
    assert [p["id"] for p in dupes.json()] == [profile["id"]]

    case = json_post(
        bob,
        f"{API}/cases/",
        {
            "case_type": "ASB",
            "title": "Noise, Mill Lane",
            "owning_team": cast["asb"].pk,
            "subjects": [{"profile": profile["id"], "role": "perpetrator"}],
        },
    )
    assert case.status_code == 201, case.content
    case = case.json()
    assert case["subjects"] == [{"profile_id": profile["id"], "display_name": "Kyle Brennan", "role": "perpetrator"}]
    assert case["reference"].startswith("ASB-") and case["entry_count"] == 0
    assert bob.get(f"{API}/cases/").json()["count"] == 1
    assert bob.get(f"{API}/cases/{case['id']}/").json()["title"] == "Noise, Mill Lane"

    occurred = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    entry = json_post(
        bob,
        f"{API}/cases/{case['id']}/timeline/",
        {"kind": "visit", "occurred_at": occurred, "summary": "Home visit", "body": "No answer."},
    )
    assert entry.status_code == 201, entry.content
    entry = entry.json()
    assert entry["profiles"] == [profile["id"]] and entry["restricted"] is False  # the case's subjects by default

    edited = json_patch(bob, f"{API}/entries/{entry['id']}/", {"version": 1, "summary": "Home visit, no answer"})
    assert edited.status_code == 200 and edited.json()["version"] == 2
    timeline = bob.get(f"{API}/cases/{case['id']}/timeline/").json()
    assert [e["summary"] for e in timeline["results"]] == ["Home visit, no answer"]
    assert bob.get(f"{API}/profiles/{profile['id']}/timeline/").json()["count"] == 1

    about = json_post(
        bob,
        f"{API}/profiles/{profile['id']}/timeline/",
        {"kind": "phone_call", "occurred_at": occurred, "summary": "Called Kyle"},
    )
    assert about.status_code == 201 and about.json()["case_id"] is None

    deleted = json_post(bob, f"{API}/entries/{entry['id']}/delete/", {"version": 2, "reason": "Wrong case"})
    assert deleted.status_code == 204
    assert bob.get(f"{API}/cases/{case['id']}/timeline/").json()["count"] == 0

    closed = json_post(
        bob, f"{API}/cases/{case['id']}/status/", {"version": 1, "status": "closed", "outcome": "resolved"}
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert bob.get(f"{API}/cases/", {"status": "open"}).json()["count"] == 0


def test_sharing_a_case_and_a_profile(cast, records, bob):
    dan = client_of(cast, "dan")
    case, profile = records["case"], records["profile"]
    assert dan.get(f"{API}/cases/{case.pk}/").status_code == 404

    granted = json_post(bob, f"{API}/cases/{case.pk}/shares/", {"team": cast["snt"].pk})
    assert granted.status_code == 201, granted.content
    share = granted.json()
    assert share["team"] == {"id": cast["snt"].pk, "name": "Safer Neighbourhood Team"} and share["can_edit"] is False
    assert [s["id"] for s in bob.get(f"{API}/cases/{case.pk}/shares/").json()] == [share["id"]]
    assert dan.get(f"{API}/cases/{case.pk}/").status_code == 200
    assert dan.get(f"{API}/cases/").json()["count"] == 1
    # A view-only share: Dan reads, but may not add, re-share or revoke.
    assert (
        json_post(
            dan,
            f"{API}/cases/{case.pk}/timeline/",
            {"kind": "note", "summary": "x", "occurred_at": timezone.now().isoformat()},
        ).status_code
        == 403
    )
    assert json_post(dan, f"{API}/cases/{case.pk}/shares/", {"user": cast["dan"].pk}).status_code == 403
    assert dan.delete(f"{API}/cases/{case.pk}/shares/{share['id']}/").status_code == 403

    assert bob.delete(f"{API}/cases/{case.pk}/shares/{share['id']}/").status_code == 204
    assert dan.get(f"{API}/cases/{case.pk}/").status_code == 404
    assert bob.delete(f"{API}/cases/{case.pk}/shares/{share['id']}/").status_code == 404

    both = json_post(bob, f"{API}/profiles/{profile.pk}/shares/", {"team": cast["snt"].pk, "user": cast["dan"].pk})
    assert set(error_of(both, 400)["fields"]) == {"grantee"}
    granted = json_post(bob, f"{API}/profiles/{profile.pk}/shares/", {"user": cast["dan"].pk, "can_edit": True})
    assert granted.status_code == 201 and granted.json()["user"]["id"] == cast["dan"].pk
    assert dan.get(f"{API}/profiles/{profile.pk}/").status_code == 200
    assert len(bob.get(f"{API}/profiles/{profile.pk}/shares/").json()) == 1
    assert bob.delete(f"{API}/profiles/{profile.pk}/shares/{granted.json()['id']}/").status_code == 204
    assert dan.get(f"{API}/profiles/{profile.pk}/").status_code == 404


# --- Who sees nothing ------------------------------------------------------------------------------


def read_paths(records) -> list[str]:
    profile, case, visit = records["profile"].pk, records["case"].pk, records["visit"].pk
    return [
        f"{API}/profiles/{profile}/",
        f"{API}/profiles/{profile}/timeline/",
        f"{API}/profiles/{profile}/shares/",
        f"{API}/cases/{case}/",
        f"{API}/cases/{case}/timeline/",
        f"{API}/cases/{case}/shares/",
        f"{API}/entries/{visit}/",
    ]


def write_requests(records) -> list[tuple[str, str, dict]]:
    profile, case, visit = records["profile"].pk, records["case"].pk, records["visit"].pk
    now = (timezone.now() - dt.timedelta(minutes=1)).isoformat()
    entry = {"kind": "note", "occurred_at": now, "summary": "A note"}
    return [
        ("post", f"{API}/profiles/", {"first_name": "Jo", "last_name": "Bloggs"}),
        ("patch", f"{API}/profiles/{profile}/", {"version": 1, "phone": "1"}),
        ("post", f"{API}/profiles/{profile}/timeline/", entry),
        ("post", f"{API}/profiles/{profile}/shares/", {"user": 1}),
        ("delete", f"{API}/profiles/{profile}/shares/1/", {}),
        (
            "post",
            f"{API}/cases/",
            {"case_type": "ASB", "title": "T", "subjects": [{"profile": profile, "role": "victim"}]},
        ),
        ("post", f"{API}/cases/{case}/status/", {"version": 1, "status": "on_hold"}),
        ("post", f"{API}/cases/{case}/timeline/", entry),
        ("post", f"{API}/cases/{case}/shares/", {"user": 1}),
        ("delete", f"{API}/cases/{case}/shares/1/", {}),
        ("patch", f"{API}/entries/{visit}/", {"version": 1, "summary": "Changed"}),
        ("post", f"{API}/entries/{visit}/delete/", {"version": 1, "reason": "Because"}),
    ]


def send(client, method, path, data):
    return getattr(client, method)(path, data, content_type="application/json")


def test_another_agency_sees_nothing(cast, records):
    dan = client_of(cast, "dan")
    for path in (f"{API}/profiles/", f"{API}/cases/"):
        assert dan.get(path).json() == {"count": 0, "next": None, "previous": None, "results": []}
    for path in read_paths(records):
        assert error_of(dan.get(path), 404) == {"status": 404, "code": "not_found", "message": "Not found."}, path
    # Writes on records he cannot see: the same 404, never a hint they exist.
    for method, path, data in write_requests(records):
        if path.endswith(("/profiles/", "/cases/")):
            continue
        assert send(dan, method, path, data).status_code == 404, path
    # Naming someone else's profile in a new case: the field is named, nothing said about the profile.
    response = json_post(
        dan,
        f"{API}/cases/",
        {"case_type": "IOM", "title": "IOM", "subjects": [{"profile": records["profile"].pk, "role": "offender"}]},
    )
    assert error_of(response, 400)["fields"] == {"subjects": ["Unknown profile."]}
    # A missing id answers exactly like an invisible one.
    assert dan.get(f"{API}/cases/999999/").json() == dan.get(f"{API}/cases/{records['case'].pk}/").json()


def test_a_viewer_reads_and_is_refused_every_write(cast, records):
    vera = client_of(cast, "vera")
    for path in read_paths(records):
        assert vera.get(path).status_code == 200, path
    for method, path, data in write_requests(records):
        error = error_of(send(vera, method, path, data), 403)
        assert error["code"] == "permission_denied", path
    with schema_context("suffolk"):
        assert TimelineEntry.objects.filter(deleted_at__isnull=True).count() == 2
    # Checking for duplicates is a read: a viewer may ask.
    assert json_post(vera, f"{API}/profiles/duplicates/", {"last_name": "Brennan"}).status_code == 200


def test_norfolk_never_reaches_suffolk_records(cast, records, norfolk_client):
    sign_in(norfolk_client, "nina@norfolk.test")
    for path in read_paths(records):
        assert norfolk_client.get(path).status_code == 404, path
    for method, path, data in write_requests(records):
        if path.endswith(("/profiles/", "/cases/")):
            continue
        assert send(norfolk_client, method, path, data).status_code == 404, path
    assert norfolk_client.get(f"{API}/profiles/").json()["count"] == 0
    assert norfolk_client.get(f"{API}/cases/").json()["count"] == 0


def test_a_suffolk_session_is_nobody_on_norfolk(cast, records, bob):
    norfolk = Client(HTTP_HOST="norfolk.localhost")
    norfolk.cookies = bob.cookies
    assert error_of(norfolk.get(f"{API}/cases/{records['case'].pk}/"), 403)["code"] == "not_authenticated"


# --- Sensitive entries -------------------------------------------------------------------------------


def test_a_restricted_entry_shows_that_it_exists_but_not_its_content(cast, records, bob):
    carl = client_of(cast, "carl")
    case, secret = records["case"], records["secret"]
    carls = carl.get(f"{API}/cases/{case.pk}/timeline/")
    assert carls.status_code == 200
    assert b"SECRET" not in carls.content and b"Disclosure" not in carls.content
    first = carls.json()["results"][0]
    assert first == {"id": secret.pk, "kind": "note", "occurred_at": first["occurred_at"], "restricted": True}
    assert carls.json()["results"][1]["summary"] == "Home visit"
    single = carl.get(f"{API}/entries/{secret.pk}/")
    assert single.json()["restricted"] is True and b"SECRET" not in single.content
    for stream in (f"{API}/profiles/{records['profile'].pk}/timeline/",):
        assert b"SECRET" not in carl.get(stream).content
    # Nor may he change or delete what he may not read.
    assert json_patch(carl, f"{API}/entries/{secret.pk}/", {"version": 1, "body": "x"}).status_code == 403
    assert json_post(carl, f"{API}/entries/{secret.pk}/delete/", {"version": 1, "reason": "x"}).status_code == 403

    bobs = bob.get(f"{API}/cases/{case.pk}/timeline/").json()["results"][0]
    assert bobs["restricted"] is False and bobs["body"] == "SECRET-BODY" and bobs["attendees"] == "SECRET-ATT"
    assert bobs["restricted_to_teams"] == [cast["asb"].pk]


# --- Concurrency ----------------------------------------------------------------------------------------


def test_a_stale_version_is_refused_with_409(cast, records, bob):
    carl = client_of(cast, "carl")
    profile, case, visit = records["profile"], records["case"], records["visit"]
    assert json_patch(bob, f"{API}/profiles/{profile.pk}/", {"version": 1, "phone": "01473"}).status_code == 200
    stale = json_patch(carl, f"{API}/profiles/{profile.pk}/", {"version": 1, "phone": "07700"})
    error = error_of(stale, 409)
    assert error["code"] == "changed_since_opened" and "changed since you opened it" in error["message"]
    assert bob.get(f"{API}/profiles/{profile.pk}/").json()["phone"] == "01473"

    assert (
        json_patch(bob, f"{API}/entries/{visit.pk}/", {"version": 1, "summary": "Visit, no answer"}).status_code == 200
    )
    assert error_of(json_patch(carl, f"{API}/entries/{visit.pk}/", {"version": 1, "summary": "x"}), 409)["code"] == (
        "changed_since_opened"
    )
    deleted = json_post(carl, f"{API}/entries/{visit.pk}/delete/", {"version": 1, "reason": "x"})
    assert error_of(deleted, 409)["code"] == "changed_since_opened"

    assert json_post(bob, f"{API}/cases/{case.pk}/status/", {"version": 1, "status": "on_hold"}).status_code == 200
    held = json_post(carl, f"{API}/cases/{case.pk}/status/", {"version": 1, "status": "open"})
    assert error_of(held, 409)["code"] == "changed_since_opened"
    missing = json_patch(bob, f"{API}/profiles/{profile.pk}/", {"phone": "1"})
    assert set(error_of(missing, 400)["fields"]) == {"version"}


# --- Bad input ------------------------------------------------------------------------------------------------


def bad_requests(cast, records):
    profile, case, visit = records["profile"].pk, records["case"].pk, records["visit"].pk
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    now = timezone.now().isoformat()
    return [
        ("post", f"{API}/profiles/", {"last_name": "Bloggs", "date_of_birth": tomorrow}, "date_of_birth"),
        ("post", f"{API}/profiles/", {"first_name": "", "last_name": ""}, "last_name"),
        ("post", f"{API}/profiles/", {"last_name": "B" * 101}, "last_name"),
        ("post", f"{API}/profiles/", {"last_name": "Bloggs", "kind": "spaceship"}, "kind"),
        ("patch", f"{API}/profiles/{profile}/", {"version": 1, "date_of_birth": tomorrow}, "date_of_birth"),
        ("patch", f"{API}/profiles/{profile}/", {"version": 1, "notes": "n" * 5001}, "notes"),
        (
            "post",
            f"{API}/cases/",
            {"case_type": "ASB", "title": "T", "subjects": [{"profile": 999999, "role": "victim"}]},
            "subjects",
        ),
        ("post", f"{API}/cases/", {"case_type": "ASB", "title": "T" * 201}, "title"),
        ("post", f"{API}/cases/", {"case_type": "NOPE", "title": "T"}, "case_type"),
        ("post", f"{API}/cases/", {"case_type": "ASB", "title": "T", "opened_on": tomorrow}, "opened_on"),
        ("post", f"{API}/cases/{case}/status/", {"version": 1, "status": "closed"}, "outcome"),
        (
            "post",
            f"{API}/cases/{case}/timeline/",
            {"kind": "visit", "occurred_at": future, "summary": "x"},
            "occurred_at",
        ),
        (
            "post",
            f"{API}/cases/{case}/timeline/",
            {"kind": "visit", "occurred_at": now, "summary": "s" * 201},
            "summary",
        ),
        (
            "post",
            f"{API}/cases/{case}/timeline/",
            {"kind": "enforcement", "occurred_at": now, "summary": "x"},
            "action",
        ),
        (
            "post",
            f"{API}/cases/{case}/timeline/",
            {"kind": "note", "occurred_at": now, "summary": "x", "is_sensitive": True},
            "restricted_to_teams",
        ),
        (
            "post",
            f"{API}/cases/{case}/timeline/",
            {"kind": "note", "occurred_at": now, "summary": "x", "profiles": [999999]},
            "profiles",
        ),
        ("patch", f"{API}/entries/{visit}/", {"version": 1, "occurred_at": future}, "occurred_at"),
        ("post", f"{API}/entries/{visit}/delete/", {"version": 1}, "reason"),
        ("post", f"{API}/entries/{visit}/delete/", {"version": 1, "reason": ""}, "reason"),
    ]


def test_bad_input_is_400_naming_the_field_and_saves_nothing(cast, records, bob):
    from tenant_apps.casework.models import Case, Profile

    with schema_context("suffolk"):
        before = (Profile.objects.count(), Case.objects.count(), TimelineEntry.objects.count())
    for method, path, data, field in bad_requests(cast, records):
        error = error_of(send(bob, method, path, data), 400)
        assert error["code"] == "invalid" and field in error["fields"], (path, data, error)
        assert all(isinstance(message, str) for message in error["fields"][field])
    with schema_context("suffolk"):
        assert (Profile.objects.count(), Case.objects.count(), TimelineEntry.objects.count()) == before
        assert TimelineEntry.objects.get(pk=records["visit"].pk).deleted_at is None


def test_markup_is_stored_and_returned_as_text(cast, records, bob):
    script = '<script>alert("x")</script><img src=x onerror=alert(1)> & co'
    created = json_post(
        bob,
        f"{API}/cases/{records['case'].pk}/timeline/",
        {"kind": "note", "occurred_at": timezone.now().isoformat(), "summary": script, "body": script},
    )
    assert created.status_code == 201
    with schema_context("suffolk"):
        assert TimelineEntry.objects.get(pk=created.json()["id"]).body == script  # stored as typed
    response = bob.get(f"{API}/cases/{records['case'].pk}/timeline/")
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"<script" not in response.content and b"<img" not in response.content
    assert b"\\u003cscript\\u003e" in response.content
    assert response.json()["results"][0]["body"] == script  # the same text once parsed


def test_reading_a_timeline_through_the_api_is_audited_as_a_view(cast, bob, records):
    from tenant_apps.audit.models import AuditEvent

    case, profile = records["case"], records["profile"]
    assert bob.get(f"{API}/cases/{case.pk}/timeline/").status_code == 200
    assert bob.get(f"{API}/profiles/{profile.pk}/timeline/").status_code == 200
    with schema_context("suffolk"):
        for kind, record in (("case", case), ("profile", profile)):
            viewed = AuditEvent.objects.filter(action=f"{kind}.viewed", object_id=str(record.pk))
            assert list(viewed.values_list("summary", "actor_id")) == [("timeline", cast["bob"].pk)]


# --- Query counts -----------------------------------------------------------------------------------------------------

# Pinned (tenant host lookup and SET search_path, as TENANT_CACHE_SECONDS=0 in tests; session, user
# with their teams and agency; second-factor device; the case (for its detail with its type, agency,
# team and lead); the "case.viewed" audit row; then for the timeline: count, the page, its entries'
# teams and profiles; for the case: subjects, entry count). The audit row is one round trip: the
# event inserted with the hash chain's head moved, in one statement (tenant_apps.audit.chain).
TIMELINE_QUERIES = 12  # and the read counter (accounts.readlimits: one upsert per API read)
CASE_QUERIES = 11  # its case.viewed event is one round trip too


def add_entries(cast, case, count: int) -> None:
    with schema_context("suffolk"):
        now = timezone.now()
        entries = TimelineEntry.objects.bulk_create(
            TimelineEntry(
                case=case,
                kind="note",
                occurred_at=now - dt.timedelta(minutes=i + 10),
                summary=f"Note {i}",
                recorded_by=cast["bob"],
                is_sensitive=i % 3 == 0,
            )
            for i in range(count)
        )
        TimelineEntry.restricted_to_teams.through.objects.bulk_create(
            TimelineEntry.restricted_to_teams.through(timelineentry_id=e.pk, team_id=cast["asb"].pk)
            for e in entries
            if e.is_sensitive
        )
        TimelineEntry.profiles.through.objects.bulk_create(
            TimelineEntry.profiles.through(timelineentry_id=e.pk, profile_id=s.profile_id)
            for e in entries
            for s in case.subjects.all()
        )


def count_queries(client, path) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured), [q["sql"][:100] for q in captured.captured_queries]


@pytest.mark.parametrize("reader", ["bob", "carl"])
def test_the_case_timeline_and_case_run_the_same_queries_with_3_or_200_entries(cast, reader, django_assert_num_queries):
    client = client_of(cast, reader)
    small, large = make_case(cast, make_profile(cast)), make_case(cast, make_profile(cast, first_name="Kai"))
    add_entries(cast, small, 3)
    add_entries(cast, large, 200)
    for case in (small, large):
        with django_assert_num_queries(TIMELINE_QUERIES):
            page = client.get(f"{API}/cases/{case.pk}/timeline/").json()
        assert len(page["results"]) == min(50, 3 if case is small else 200)
        with django_assert_num_queries(CASE_QUERIES):
            assert client.get(f"{API}/cases/{case.pk}/").json()["entry_count"] in (3, 200)
    with django_assert_num_queries(TIMELINE_QUERIES):
        assert len(client.get(f"{API}/cases/{large.pk}/timeline/", {"page": 4}).json()["results"]) == 50


# --- The schema --------------------------------------------------------------------------------


def test_the_openapi_schema_lists_the_casework_paths(cast, bob):
    document = bob.get("/api/schema/", {"format": "json"}).json()
    paths = document["paths"]
    for path, methods in {
        "/api/v1/profiles/": {"get", "post"},
        "/api/v1/profiles/duplicates/": {"post"},
        "/api/v1/profiles/{profile_id}/": {"get", "patch"},
        "/api/v1/profiles/{profile_id}/timeline/": {"get", "post"},
        "/api/v1/profiles/{profile_id}/shares/": {"get", "post"},
        "/api/v1/profiles/{profile_id}/shares/{share_id}/": {"delete"},
        "/api/v1/cases/": {"get", "post"},
        "/api/v1/cases/{case_id}/": {"get"},
        "/api/v1/cases/{case_id}/status/": {"post"},
        "/api/v1/cases/{case_id}/timeline/": {"get", "post"},
        "/api/v1/cases/{case_id}/shares/": {"get", "post"},
        "/api/v1/cases/{case_id}/shares/{share_id}/": {"delete"},
        "/api/v1/entries/{entry_id}/": {"get", "patch"},
        "/api/v1/entries/{entry_id}/delete/": {"post"},
    }.items():
        assert methods <= set(paths[path]), path
    assert "/api/v1/me/" in paths  # the accounts include still resolves beside ours
    created = paths["/api/v1/profiles/"]["post"]["responses"]
    assert "201" in created
    timeline = paths["/api/v1/cases/{case_id}/timeline/"]["get"]["responses"]["200"]
    assert timeline["content"]["application/json"]["schema"]["$ref"].endswith("/PaginatedTimeline")
