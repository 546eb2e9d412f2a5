"""Committed, then answered; and created once (issue 8, point 13).

- (a) Every API create answers from what it is committing: nothing is read after the commit,
  so a read that would fail after it (a statement timeout behind another connection's lock)
  can no longer turn a committed task, and its e-mail, into a 500.
- (b) ``Idempotency-Key`` on every API POST that creates: the same key and body answer the
  stored first answer and create nothing (no second e-mail); another body answers 422; keys
  are per user and per partnership, kept 24 hours; concurrent requests with one key create once.
- (c) The create pages carry a one-time form token: the same form sent twice creates once.

The cast is tests/conftest.py's; concurrency tests use committed data (``committed_bob``).
"""

# ruff: noqa: F811 - fixtures imported from other test modules

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.casework.models import (
    Case,
    Family,
    FamilyMember,
    IdempotencyKey,
    Profile,
    ProfileAlias,
    Share,
    TimelineEntry,
)
from tenant_apps.outbox.models import OutboundEmail
from tenant_apps.tasks.models import Task, TaskReply
from tests.conftest import sign_in
from tests.rules_helpers import committed_bob, in_thread  # noqa: F401 - fixture
from tests.test_casework_api import API, client_of, error_of, make_case, make_profile

TOMORROW = (dt.date.today() + dt.timedelta(days=2)).isoformat()


def keyed_post(client, path, body, key):
    return client.post(path, json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def _creates(cast):
    """Every API create: (name, path, body, how many of what it makes)."""
    profile = make_profile(cast)
    case = make_case(cast, profile)
    with schema_context("suffolk"):
        family = Family.objects.create(name="Brennan household", owning_team=cast["asb"],
                                       owning_agency=cast["council"], created_by=cast["bob"])  # fmt: skip
        task = Task.objects.create(title="Call", due_date=dt.date.today() + dt.timedelta(days=3),
                                   assigned_team=cast["snt"], created_by=cast["bob"])  # fmt: skip
    other = make_profile(cast, first_name="Kayleigh", last_name="Brennan")
    now = (timezone.now() - dt.timedelta(minutes=5)).isoformat()
    entry = {"kind": "note", "occurred_at": now, "summary": "A note"}

    def count(model, **filters):
        return lambda: model.objects.filter(**filters).count()

    return [
        ("profile", f"{API}/profiles/", {"first_name": "Jo", "last_name": "Bloggs"}, count(Profile)),
        ("case", f"{API}/cases/", {"case_type": "ASB", "title": "Noise",
                                   "subjects": [{"profile": profile.pk, "role": "victim"}]}, count(Case)),
        ("case entry", f"{API}/cases/{case.pk}/timeline/", entry, count(TimelineEntry)),
        ("profile entry", f"{API}/profiles/{profile.pk}/timeline/", entry, count(TimelineEntry)),
        ("profile share", f"{API}/profiles/{profile.pk}/shares/", {"team": cast["snt"].pk}, count(Share)),
        ("case share", f"{API}/cases/{case.pk}/shares/", {"team": cast["snt"].pk}, count(Share)),
        ("family", f"{API}/families/", {"name": "Bloggs household"}, count(Family)),
        ("family member", f"{API}/families/{family.pk}/members/",
         {"version": 1, "profile": other.pk, "relationship": "child"}, count(FamilyMember)),
        ("alias", f"{API}/profiles/{profile.pk}/aliases/", {"version": 1, "name": "Ky"}, count(ProfileAlias)),
        ("task", f"{API}/tasks/", {"title": "Visit", "due_date": TOMORROW, "assigned_team": cast["snt"].pk,
                                   "case": case.pk}, count(Task)),
        ("reply", f"{API}/tasks/{task.pk}/replies/", {"body": "On it."}, count(TaskReply)),
    ]  # fmt: skip


def test_the_same_key_and_body_answer_the_first_answer_and_create_nothing_again(cast):
    bob = client_of(cast, "bob")
    for name, path, body, count in _creates(cast):
        with schema_context("suffolk"):
            before, mails = count(), OutboundEmail.objects.count()
        first = keyed_post(bob, path, body, f"key-{name}")
        assert first.status_code == 201, (name, first.content)
        with schema_context("suffolk"):
            assert count() == before + 1, name
            mails_after_first = OutboundEmail.objects.count()
        # A retry with the key (its body spaced and ordered differently): the stored answer.
        again = bob.post(path, json.dumps(body, indent=2, sort_keys=True), content_type="application/json",
                         HTTP_IDEMPOTENCY_KEY=f"key-{name}")  # fmt: skip
        assert again.status_code == 201 and again.content == first.content, name
        assert again["Idempotent-Replayed"] == "true"
        with schema_context("suffolk"):
            assert count() == before + 1, name
            assert OutboundEmail.objects.count() == mails_after_first, name  # no second e-mail
        assert mails_after_first >= mails
        # Another body with that key: 422, in the error shape; nothing made.
        changed = {**body, "title": "Other"} if "title" in body else {**body, "zzz": 1}
        reused = keyed_post(bob, path, changed, f"key-{name}")
        assert error_of(reused, 422) == {
            "status": 422,
            "code": "idempotency_key_reused",
            "message": "This Idempotency-Key was used for another request. Send a new key with a new request.",
        }, name
        with schema_context("suffolk"):
            assert count() == before + 1, name


def test_a_task_retried_with_its_key_sends_one_email(cast):
    bob = client_of(cast, "bob")
    body = {"title": "Visit", "due_date": TOMORROW, "assigned_user": cast["dan"].pk}
    for _ in range(3):
        assert keyed_post(bob, f"{API}/tasks/", body, "visit-once").status_code == 201
    with schema_context("suffolk"):
        assert Task.objects.filter(title="Visit").count() == 1
        assert OutboundEmail.objects.filter(to=[cast["dan"].email]).count() == 1


def test_without_a_key_each_post_creates_and_an_error_stores_nothing(cast):
    bob = client_of(cast, "bob")
    body = {"first_name": "Jo", "last_name": "Bloggs"}
    assert bob.post(f"{API}/profiles/", body, content_type="application/json").status_code == 201
    assert bob.post(f"{API}/profiles/", body, content_type="application/json").status_code == 201
    # An error answer is not kept: the same key, corrected, creates.
    bad = keyed_post(bob, f"{API}/profiles/", {"first_name": "", "last_name": ""}, "fix-me")
    assert error_of(bad, 400)["fields"] == {"last_name": ["Enter a first name or a last name."]}
    with schema_context("suffolk"):
        assert not IdempotencyKey.objects.filter(key="fix-me").exists()
    assert keyed_post(bob, f"{API}/profiles/", {"first_name": "", "last_name": ""}, "fix-me").status_code == 400
    assert keyed_post(bob, f"{API}/profiles/", body, "fix-me").status_code == 201
    with schema_context("suffolk"):
        assert Profile.objects.filter(last_name="Bloggs").count() == 3


def test_a_key_that_is_not_one_is_refused_naming_the_header(cast):
    bob = client_of(cast, "bob")
    for key in ("x" * 201, "   ", "clé"):
        response = bob.post(f"{API}/profiles/", {"last_name": "Bloggs"}, content_type="application/json",
                            HTTP_IDEMPOTENCY_KEY=key)  # fmt: skip
        assert list(error_of(response, 400)["fields"]) == ["Idempotency-Key"], key
    with schema_context("suffolk"):
        assert not Profile.objects.filter(last_name="Bloggs").exists()


def test_keys_are_per_user_and_per_partnership(cast, norfolk_client):
    body = {"first_name": "Jo", "last_name": "Bloggs"}
    bob, carl = client_of(cast, "bob"), client_of(cast, "carl")
    assert keyed_post(bob, f"{API}/profiles/", body, "shared-key").status_code == 201
    by_carl = keyed_post(carl, f"{API}/profiles/", body, "shared-key")
    assert by_carl.status_code == 201 and "Idempotent-Replayed" not in by_carl  # his own create
    with schema_context("suffolk"):
        assert Profile.objects.filter(last_name="Bloggs").count() == 2
    sign_in(norfolk_client, "nina@norfolk.test")
    from tenant_apps.directory.models import Agency, Membership, Team, TeamMembership

    with schema_context("norfolk"):
        from tenant_apps.accounts.models import User

        nina = User.objects.get(email="nina@norfolk.test")
        agency = Agency.objects.create(name="Norfolk council", kind="council")
        TeamMembership.objects.create(user=nina, team=Team.objects.create(agency=agency, name="ASB"))
        Membership.objects.create(user=nina, agency=agency)
    in_norfolk = keyed_post(norfolk_client, f"{API}/profiles/", body, "shared-key")
    assert in_norfolk.status_code == 201 and "Idempotent-Replayed" not in in_norfolk, in_norfolk.content
    with schema_context("norfolk"):
        assert Profile.objects.filter(last_name="Bloggs").count() == 1
        assert IdempotencyKey.objects.filter(key="shared-key").count() == 1
    connection.set_schema_to_public()


def test_a_key_is_kept_24_hours_then_it_is_forgotten(cast):
    bob = client_of(cast, "bob")
    body = {"first_name": "Jo", "last_name": "Bloggs"}
    assert keyed_post(bob, f"{API}/profiles/", body, "old-key").status_code == 201
    with schema_context("suffolk"):
        IdempotencyKey.objects.filter(key="old-key").update(created_at=timezone.now() - dt.timedelta(hours=23))
    assert keyed_post(bob, f"{API}/profiles/", body, "old-key")["Idempotent-Replayed"] == "true"
    with schema_context("suffolk"):
        IdempotencyKey.objects.filter(key="old-key").update(created_at=timezone.now() - dt.timedelta(hours=25))
        IdempotencyKey.objects.create(user=cast["carl"], key="stale", fingerprint="x", status_code=201, body={},
                                      created_at=timezone.now() - dt.timedelta(days=3))  # fmt: skip
    renewed = keyed_post(bob, f"{API}/profiles/", body, "old-key")
    assert renewed.status_code == 201 and "Idempotent-Replayed" not in renewed
    with schema_context("suffolk"):
        assert Profile.objects.filter(last_name="Bloggs").count() == 2
        assert not IdempotencyKey.objects.filter(key="stale").exists()  # expired keys are cleaned lazily


# --- Concurrency and failures, on committed data ------------------------------------------------


def _bob_clients(count: int) -> list[Client]:
    """``count`` clients sharing one signed-in session of Bob's (one sign-in: codes are single-use)."""
    first = Client(HTTP_HOST="suffolk.localhost")
    sign_in(first, "bob@suffolk.test")
    clients = [first]
    for _ in range(count - 1):
        other = Client(HTTP_HOST="suffolk.localhost")
        other.cookies = first.cookies
        clients.append(other)
    return clients


def test_concurrent_requests_with_one_key_create_one_task_and_one_email(committed_bob):
    people = committed_bob
    clients = _bob_clients(2)
    with schema_context("suffolk"):
        assignee = people["bob"]
    for trial in range(5):
        title = f"Race {people['suffix']} {trial}"
        body = {"title": title, "due_date": TOMORROW, "assigned_team": people["team"].pk}
        barrier, answers = threading.Barrier(2), []

        def post(client, barrier=barrier, answers=answers, body=body, trial=trial):
            barrier.wait(timeout=10)
            response = keyed_post(client, f"{API}/tasks/", body, f"race-{trial}")
            answers.append((response.status_code, response.content, response.get("Idempotent-Replayed")))

        threads = [in_thread(post, client) for client in clients]
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(status for status, _, _ in answers) == [201, 201], answers
        assert answers[0][1] == answers[1][1]  # the same task, answered twice
        assert sorted(str(replayed) for _, _, replayed in answers) == ["None", "true"]
        with schema_context("suffolk"):
            assert Task.objects.filter(title=title).count() == 1
            task = Task.objects.get(title=title)
        assert json.loads(answers[0][1])["id"] == task.pk
    assert assignee  # Bob is his team's only member: he set the tasks, so no e-mail is sent to him


def test_a_read_that_would_fail_after_the_commit_no_longer_turns_a_task_into_a_500(committed_bob):
    """The defect for real: after the task's transaction commits, another connection locks the
    tasks table and this one gets a 300 ms statement timeout. The old code read the task again
    after the commit, timed out and answered 500 (the task and its e-mail were already there; a
    retry made both again). Now nothing is read after the commit: 201 with the task."""
    from django.db import transaction

    from tenant_apps.accounts.models import User
    from tenant_apps.directory.models import TeamMembership

    people = committed_bob
    [client] = _bob_clients(1)
    with schema_context("suffolk"):
        dan = User.objects.create_user(f"dan-{people['suffix']}@suffolk.test", full_name="Dan", role="practitioner")
        TeamMembership.objects.create(user=dan, team=people["team"])
    locked, release, after_commit = threading.Event(), threading.Event(), []

    def lock_tasks():
        with schema_context("suffolk"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("LOCK TABLE tasks_task IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(timeout=30)

    def arm():  # runs right after the create's transaction commits
        in_thread(lock_tasks)
        assert locked.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = '300ms'")

    def watch(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "tasks_task"') and not after_commit:
            after_commit.append([])
            transaction.on_commit(arm)
        elif after_commit and not connection.in_atomic_block:
            after_commit[0].append(sql)
        return execute(sql, params, many, context)

    body = {"title": f"Timeout {people['suffix']}", "due_date": TOMORROW, "assigned_team": people["team"].pk}
    try:
        with connection.execute_wrapper(watch):
            response = keyed_post(client, f"{API}/tasks/", body, "after-commit")
    finally:
        release.set()
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
    assert response.status_code == 201, response.content[:500]
    assert not [sql for sql in after_commit[0] if "tasks_task" in sql], after_commit[0]
    with schema_context("suffolk"):
        task = Task.objects.get(title=body["title"])
        assert response.json()["id"] == task.pk
        assert OutboundEmail.objects.filter(to=[dan.email]).count() == 1
    # The client, unsure, retries: the same answer, no second task, no second e-mail.
    again = keyed_post(client, f"{API}/tasks/", body, "after-commit")
    assert again.status_code == 201 and again.json() == response.json()
    with schema_context("suffolk"):
        assert Task.objects.filter(title=body["title"]).count() == 1
        assert OutboundEmail.objects.filter(to=[dan.email]).count() == 1
        TeamMembership.objects.filter(user=dan).delete()
        dan.delete()  # he did nothing: no audit trail holds him


def test_no_api_create_reads_after_its_commit(committed_bob):
    """Each create on committed data, its queries watched: none runs after the transaction that
    made the record commits (a read there is what failed in the defect)."""
    from django.db import transaction

    from tenant_apps.casework import services
    from tenant_apps.casework.models import CaseType

    people = committed_bob
    [client] = _bob_clients(1)
    with schema_context("suffolk"):
        bob = User_get(people["bob"].pk)
        profile = services.profile_create(user=bob, owning_team=people["team"], first_name="Kyle",
                                          last_name=f"Reader{people['suffix']}")  # fmt: skip
        case = services.case_create(user=bob, case_type=CaseType.objects.get(code="ASB"), title="Noise",
                                    owning_team=people["team"], subjects=[(profile, "victim")])  # fmt: skip
    now = (timezone.now() - dt.timedelta(minutes=5)).isoformat()
    creates = [
        (f"{API}/profiles/", {"first_name": "Jo", "last_name": f"Reader{people['suffix']}"}),
        (f"{API}/cases/", {"case_type": "ASB", "title": "Noise", "subjects": [{"profile": profile.pk,
                                                                               "role": "victim"}]}),
        (f"{API}/cases/{case.pk}/timeline/", {"kind": "note", "occurred_at": now, "summary": "A note"}),
        (f"{API}/cases/{case.pk}/shares/", {"agency": people["agency"].pk}),
        (f"{API}/families/", {"name": "Reader household"}),
        (f"{API}/profiles/{profile.pk}/aliases/", {"version": 1, "name": "Ky"}),
        (f"{API}/tasks/", {"title": "Visit", "due_date": TOMORROW, "assigned_team": people["team"].pk}),
    ]  # fmt: skip
    for path, body in creates:
        seen = {"committed": False, "after": []}

        def watch(execute, sql, params, many, context, seen=seen):
            if seen["committed"]:
                seen["after"].append(sql)
            elif sql.startswith("INSERT") and connection.in_atomic_block:
                transaction.on_commit(lambda seen=seen: seen.update(committed=True))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(watch):
            response = keyed_post(client, path, body, f"watch {path}")
        assert response.status_code == 201, (path, response.content[:300])
        assert seen["committed"], path
        assert seen["after"] == [], (path, seen["after"])


def User_get(pk):  # noqa: N802 - a small reader for committed tests
    from tenant_apps.accounts.models import User

    return User.objects.get(pk=pk)


@pytest.mark.parametrize("trials", [4])
def test_concurrent_double_submissions_of_a_page_form_create_once(committed_bob, trials):
    people = committed_bob
    clients = _bob_clients(2)
    for trial in range(trials):
        page = clients[0].get("/profiles/new/").content.decode()
        token = page.split('name="form_token" value="', 1)[1].split('"', 1)[0]
        name = f"Submit{people['suffix']}x{trial}"
        form = {"kind": "person", "first_name": "Jo", "last_name": name, "gender": "not_known",
                "owning_team": people["team"].pk, "not_duplicate": f"jo|{name.lower()}|",
                "form_token": token}  # fmt: skip
        barrier, answers = threading.Barrier(2), []

        def submit(client, barrier=barrier, answers=answers, form=form):
            barrier.wait(timeout=10)
            answers.append(client.post("/profiles/new/", form))

        threads = [in_thread(submit, client) for client in clients]
        for thread in threads:
            thread.join(timeout=30)
        with schema_context("suffolk"):
            made = list(Profile.objects.filter(last_name=name))
        assert len(made) == 1, [a.status_code for a in answers]
        assert sorted(a.status_code for a in answers) == [302, 302]
        assert {a["Location"] for a in answers} == {f"/profiles/{made[0].pk}/"}


# --- Pages: the same form sent twice, one after the other ---------------------------------------


def _token(page) -> str:
    return page.content.decode().split('name="form_token" value="', 1)[1].split('"', 1)[0]


def test_a_create_form_sent_twice_creates_once_and_the_second_goes_to_what_the_first_made(cast):
    bob = client_of(cast, "bob")
    profile = make_profile(cast)
    # A task (and its e-mail to Dan): the second submission makes neither again.
    due = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    token = _token(bob.get("/tasks/new/"))
    form = {"title": "Visit", "assigned_user": cast["dan"].pk, "due_date": due, "form_token": token}
    first, second = bob.post("/tasks/new/", form), bob.post("/tasks/new/", form)
    with schema_context("suffolk"):
        task = Task.objects.get(title="Visit")
        assert OutboundEmail.objects.filter(to=[cast["dan"].email]).count() == 1
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/tasks/{task.pk}/"
    assert "This form had already been sent: nothing was created twice." in bob.get(second["Location"]).content.decode()
    # A case, likewise; a form shown afresh has a new token and creates a second one.
    page = bob.get("/cases/new/")
    asb = page.context["form"].fields["case_type"].queryset.get(code="ASB")
    form = {"case_type": asb.pk, "title": "Noise", "owning_team": cast["asb"].pk, "subject_1": profile.pk,
            "role_1": "victim", "form_token": _token(page)}  # fmt: skip
    assert bob.post("/cases/new/", form)["Location"] == bob.post("/cases/new/", form)["Location"]
    with schema_context("suffolk"):
        assert Case.objects.filter(title="Noise").count() == 1
    fresh_token = _token(bob.get("/cases/new/"))
    assert fresh_token != form["form_token"]
    assert bob.post("/cases/new/", {**form, "form_token": fresh_token}).status_code == 302
    with schema_context("suffolk"):
        assert Case.objects.filter(title="Noise").count() == 2


def test_a_form_with_errors_keeps_its_token_and_creates_once_corrected(cast):
    bob = client_of(cast, "bob")
    token = _token(bob.get("/families/new/"))
    wrong = bob.post("/families/new/", {"name": "", "owning_team": cast["asb"].pk, "form_token": token})
    assert wrong.status_code == 200 and _token(wrong) == token
    form = {"name": "Bloggs household", "owning_team": cast["asb"].pk, "form_token": token}
    assert bob.post("/families/new/", form).status_code == 302
    assert bob.post("/families/new/", form).status_code == 302
    with schema_context("suffolk"):
        assert Family.objects.filter(name="Bloggs household").count() == 1


def test_an_attachment_upload_retried_with_its_key_stores_one_document_and_one_object(cast, s3):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tenant_apps.documents.models import Document
    from tests.test_casework_api import make_entry
    from tests.test_documents import PDF_BYTES

    bob = client_of(cast, "bob")
    entry = make_entry(cast, make_case(cast, make_profile(cast)))
    url = f"{API}/entries/{entry.pk}/attachments/"

    def send(data=PDF_BYTES):
        return bob.post(url, {"file": SimpleUploadedFile("report.pdf", data, content_type="application/pdf")},
                        HTTP_IDEMPOTENCY_KEY="upload-1")  # fmt: skip

    first, again = send(), send()
    assert first.status_code == again.status_code == 201, first.content
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    with schema_context("suffolk"):
        assert Document.objects.count() == 1
    assert len(s3.object_keys()) == 1
    # A client's retry comes with a new multipart boundary: still the same request.
    from django.test.client import encode_multipart

    file = SimpleUploadedFile("report.pdf", PDF_BYTES, content_type="application/pdf")
    body = encode_multipart("another-boundary-42", {"file": file})
    retried = bob.post(url, body, content_type="multipart/form-data; boundary=another-boundary-42",
                       HTTP_IDEMPOTENCY_KEY="upload-1")  # fmt: skip
    assert retried.status_code == 201 and retried["Idempotent-Replayed"] == "true"
    assert error_of(send(PDF_BYTES + b"\n% another file"), 422)["code"] == "idempotency_key_reused"
    assert len(s3.object_keys()) == 1


def test_the_openapi_schema_offers_the_header_on_every_create(cast):
    bob = client_of(cast, "bob")
    paths = bob.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    creates = [
        "/api/v1/profiles/", "/api/v1/cases/", "/api/v1/cases/{case_id}/timeline/",
        "/api/v1/profiles/{profile_id}/timeline/", "/api/v1/cases/{case_id}/shares/",
        "/api/v1/profiles/{profile_id}/shares/", "/api/v1/families/", "/api/v1/families/{family_id}/members/",
        "/api/v1/profiles/{profile_id}/aliases/", "/api/v1/entries/{entry_id}/attachments/", "/api/v1/tasks/",
        "/api/v1/tasks/{task_id}/replies/",
    ]  # fmt: skip
    for path in creates:
        headers = [p["name"] for p in paths[path]["post"].get("parameters", []) if p["in"] == "header"]
        assert headers == ["Idempotency-Key"], path
