"""Tasks: requests to a person or a team, seen only by the people in them.

The cast in Suffolk (made per test, rolled back), as in tests/test_casework.py:
- Bob: District Council, ASB Team. Owns the case; sets tasks.
- Carl: District Council, Community Safety Team. Neither creator, assignee nor in the
  assigned team: sees no task at all, even though he may see Bob's case.
- Dan: Constabulary, Safer Neighbourhood Team (another agency). Sees tasks set to his
  team and their replies, but never the case itself unless it is shared with him.
- Erin: Constabulary, Safer Neighbourhood Team, like Dan (a second team member).
- Vera: District Council, ASB Team, viewer: reads tasks of her team, never writes.
- Nina, in Norfolk, must never reach any of it.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.casework import selectors as casework_selectors
from tenant_apps.casework import services as casework_services
from tenant_apps.casework.models import CaseType
from tenant_apps.outbox.models import OutboundEmail
from tenant_apps.tasks import selectors, services
from tenant_apps.tasks.models import Task, TaskReply
from tests.conftest import PASSWORD, TOTP_SECRETS, enrol_authenticator, sign_in
from tests.test_accounts import deliver_mail
from tests.test_casework_api import json_post  # the API takes JSON only (a form body is a 415)

TODAY = timezone.localdate


def fresh(user):
    """The same person in a new request: their teams and agency are read again."""
    user.__dict__.pop("_casework_scope", None)
    return user


def client_as(person) -> Client:
    """A Suffolk browser signed in as ``person`` (password and second factor, the real flow).
    People made by the cast fixture get a password and an authenticator first."""
    if person.email not in ("alice@suffolk.test", "bob@suffolk.test"):
        with schema_context("suffolk"):
            person.set_password(PASSWORD)
            person.save()
            TOTP_SECRETS[person.email] = enrol_authenticator(person)
    client = Client(HTTP_HOST="suffolk.localhost")
    sign_in(client, person.email)
    return client


def make_case(cast):
    profile = casework_services.profile_create(user=cast["bob"], owning_team=cast["asb"], first_name="Kyle",
                                               last_name="Brennan", date_of_birth=dt.date(2001, 5, 17))  # fmt: skip
    case = casework_services.case_create(
        user=cast["bob"], case_type=CaseType.objects.get(code="ASB"), title="Noise and intimidation, Mill Lane",
        owning_team=cast["asb"], subjects=[(profile, "perpetrator")],
    )  # fmt: skip
    return case, profile


def task_for_dans_team(cast, **fields):
    """Bob asks the police team (another agency) to do something about his case."""
    case, profile = make_case(cast)
    defaults = {"title": "Check CCTV at Mill Lane", "details": "Friday night, 22:00 to 01:00.",
                "due_date": TODAY() + dt.timedelta(days=7), "case": case, "assigned_team": cast["snt"]}  # fmt: skip
    return services.task_create(user=fresh(cast["bob"]), **{**defaults, **fields})


def without_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def with_schema(fn):
    with schema_context("suffolk"):
        return fn()


# --- Who sees what ------------------------------------------------------------------------------


def test_dan_sees_the_task_and_its_replies_but_not_the_case(cast):
    task = task_for_dans_team(cast)
    services.task_reply(user=fresh(cast["bob"]), task=task, body="The shop on the corner has a camera.")
    dan = fresh(cast["dan"])
    assert selectors.tasks_visible_to(dan).filter(pk=task.pk).exists()
    assert list(selectors.my_teams_tasks(dan)) == [task]
    assert list(selectors.my_tasks(dan)) == []  # to his team, not to him in person
    with pytest.raises(Http404):  # the task grants nothing on the case
        casework_selectors.access_case(user=dan, case_id=task.case_id)

    client = client_as(dan)
    page = client.get(f"/tasks/{task.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Check CCTV at Mill Lane" in html and "Friday night" in html
    assert "The shop on the corner has a camera." in html
    assert task.case.reference in html
    assert "Noise and intimidation" not in html  # the case's title is the case's, not the task's
    assert client.get(f"/tasks/new/?case={task.case_id}").status_code == 404
    detail = client.get(f"/api/v1/tasks/{task.pk}/").json()
    assert detail["case"] == {"reference": task.case.reference}
    assert detail["case_id"] is None
    assert [r["body"] for r in detail["replies"]] == ["The shop on the corner has a camera."]
    listed = client.get("/api/v1/tasks/?scope=team").json()
    assert [t["id"] for t in listed["results"]] == [task.pk]

    # Dan replies; the reply is his to write (he sees the task), and Bob is told.
    response = client.post(f"/tasks/{task.pk}/reply/", {"body": "Footage requested."})
    assert response.status_code == 302
    assert with_schema(lambda: list(TaskReply.objects.filter(task=task).values_list("author__email", flat=True))) == [
        "bob@suffolk.test",
        "dan@suffolk.test",
    ]

    # Once the case is shared with his team, the same page shows it.
    casework_services.share_grant(user=fresh(cast["bob"]), case=task.case, team=cast["snt"])
    assert "Noise and intimidation" in client.get(f"/tasks/{task.pk}/").content.decode()


def test_carl_sees_nothing_anywhere(cast):
    task = task_for_dans_team(cast)
    carl = fresh(cast["carl"])
    assert casework_selectors.cases_visible_to(carl).filter(pk=task.case_id).exists()  # same agency: the case, yes
    assert selectors.tasks_visible_to(carl).count() == 0
    assert selectors.my_tasks(carl).count() == selectors.my_teams_tasks(carl).count() == 0
    assert selectors.tasks_set_by(carl, status="all").count() == 0
    with pytest.raises(Http404):
        selectors.access_task(user=carl, task_id=task.pk)
    with pytest.raises(PermissionDenied):
        services.task_reply(user=carl, task=task, body="Me too")
    with pytest.raises(PermissionDenied):
        services.task_set_status(user=carl, task=task, status="done", version=task.version)

    client = client_as(carl)
    for path in ("/tasks/", "/tasks/team/", "/tasks/set-by-me/?status=all"):
        page = client.get(path)
        assert page.status_code == 200 and "Check CCTV" not in page.content.decode(), path
        assert "0 tasks" in page.content.decode(), path
    missing = client.get("/tasks/999999/")
    hidden = client.get(f"/tasks/{task.pk}/")
    assert hidden.status_code == missing.status_code == 404
    assert without_csrf(hidden) == without_csrf(missing)  # no oracle
    assert client.get(f"/tasks/{task.pk}/status/").status_code == 404
    assert client.post(f"/tasks/{task.pk}/reply/", {"body": "x"}).status_code == 404
    for scope in ("mine", "team", "created"):
        assert client.get(f"/api/v1/tasks/?scope={scope}&status=all").json()["count"] == 0
    assert client.get(f"/api/v1/tasks/{task.pk}/").status_code == 404
    assert json_post(client, f"/api/v1/tasks/{task.pk}/replies/", {"body": "x"}).status_code == 404
    assert json_post(client, f"/api/v1/tasks/{task.pk}/status/", {"status": "done", "version": 1}).status_code == 404
    assert with_schema(lambda: TaskReply.objects.count()) == 0


def test_nina_in_norfolk_sees_nothing(cast, norfolk_client):
    task = task_for_dans_team(cast)
    with schema_context("norfolk"):
        from tenant_apps.accounts.models import User

        nina = User.objects.get(email="nina@norfolk.test")
        assert Task.objects.count() == 0
        assert selectors.tasks_visible_to(nina).count() == 0
        with pytest.raises(Http404):
            selectors.access_task(user=nina, task_id=task.pk)
    sign_in(norfolk_client, "nina@norfolk.test")
    assert norfolk_client.get(f"/tasks/{task.pk}/").status_code == 404
    assert norfolk_client.get(f"/api/v1/tasks/{task.pk}/").status_code == 404
    assert "Check CCTV" not in norfolk_client.get("/tasks/team/?status=all").content.decode()


# --- E-mail notices --------------------------------------------------------------------------------


def test_each_active_team_member_gets_the_notice_by_real_smtp(cast, smtp_server):
    with schema_context("suffolk"):
        from tenant_apps.directory.models import TeamMembership

        gone = type(cast["dan"]).objects.create_user("gone@suffolk.test", full_name="Gone", role="practitioner")
        gone.is_active = False
        gone.save()
        TeamMembership.objects.create(user=gone, team=cast["snt"])
    task = task_for_dans_team(cast)
    deliver_mail("suffolk")
    messages = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in messages) == ["dan@suffolk.test", "erin@suffolk.test"]  # one each, not Gone
    for message in messages:
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert message["Subject"] == "A task has been assigned to your team"
        assert re.search(rf"https?://suffolk\.localhost(:\d+)?/tasks/{task.pk}/", body)
        assert "CCTV" not in body and "Kyle" not in body  # no content leaves by e-mail

    # Dan replies: Bob (the creator) is told; Dan and Erin are not.
    services.task_reply(user=fresh(cast["dan"]), task=task, body="On it.")
    deliver_mail("suffolk")
    messages = smtp_server.wait_for(3)
    assert messages[-1]["To"] == "bob@suffolk.test" and messages[-1]["Subject"] == "New reply on a task"
    # Bob replies: each team member is told.
    services.task_reply(user=fresh(cast["bob"]), task=task, body="Thanks.")
    deliver_mail("suffolk")
    assert sorted(m["To"] for m in smtp_server.wait_for(5)[3:]) == ["dan@suffolk.test", "erin@suffolk.test"]


def test_a_task_to_one_person_tells_only_them(cast):
    task = services.task_create(user=fresh(cast["bob"]), title="Ring the landlord", due_date=TODAY(),
                                assigned_user=cast["carl"])  # fmt: skip
    assert task.case_id is None and task.profile_id is None  # a general task
    with schema_context("suffolk"):
        assert [e.to for e in OutboundEmail.objects.filter(status="queued")] == [["carl@suffolk.test"]]
        assert AuditEvent.objects.filter(action="task.created", object_id=str(task.pk)).count() == 1
    assert list(selectors.my_tasks(fresh(cast["carl"]))) == [task]


# --- Overdue, status, concurrency ---------------------------------------------------------------------


def test_overdue_is_highlighted_in_red(cast):
    late = task_for_dans_team(cast, title="Late task")
    task_for_dans_team(cast, title="On-time task")
    Task.objects.filter(pk=late.pk).update(due_date=TODAY() - dt.timedelta(days=1))
    dan = fresh(cast["dan"])
    assert list(selectors.overdue(selectors.tasks_visible_to(dan))) == [late]
    assert list(selectors.overdue(selectors.my_teams_tasks(dan))) == [late]

    html = client_as(dan).get("/tasks/team/").content.decode()
    rows = {title: row for row in html.split('<tr class="govuk-table__row">')[1:]
            for title in ("Late task", "On-time task") if title in row}  # fmt: skip
    assert '<strong class="govuk-tag govuk-tag--red">Overdue</strong>' in rows["Late task"]
    assert "Overdue" not in rows["On-time task"]
    # Done is never overdue.
    services.task_set_status(user=dan, task=late, status="done", version=late.version)
    assert selectors.overdue(selectors.tasks_visible_to(dan)).count() == 0


def test_a_stale_version_is_refused(cast):
    task = task_for_dans_team(cast)
    opened = task.version
    done = services.task_set_status(user=fresh(cast["dan"]), task=task, status="in_progress", version=opened)
    assert done.version == opened + 1
    with pytest.raises(services.ChangedSinceOpened):
        services.task_set_status(user=fresh(cast["bob"]), task=task, status="cancelled", version=opened)
    assert Task.objects.get(pk=task.pk).status == "in_progress"

    bob = client_as(cast["bob"])
    page = bob.post(f"/tasks/{task.pk}/status/", {"status": "cancelled", "version": opened})
    assert page.status_code == 200 and "changed since you opened it" in page.content.decode()
    api = json_post(bob, f"/api/v1/tasks/{task.pk}/status/", {"status": "cancelled", "version": opened})
    assert api.status_code == 409 and api.json()["error"]["code"] == "changed_since_opened"
    assert Task.objects.get(pk=task.pk).status == "in_progress"

    ok = json_post(bob, f"/api/v1/tasks/{task.pk}/status/", {"status": "done", "version": opened + 1})
    assert ok.status_code == 200 and ok.json()["status"] == "done" and ok.json()["completed_at"]
    with schema_context("suffolk"):
        changes = list(AuditEvent.objects.filter(action="task.status_changed").values_list("changes", flat=True))
    assert sorted(c["status"][1] for c in changes) == ["done", "in_progress"]


def test_a_viewer_reads_but_never_writes(cast):
    task = task_for_dans_team(cast, assigned_team=cast["asb"])  # Vera's team
    vera = fresh(cast["vera"])
    assert selectors.access_task(user=vera, task_id=task.pk) == task
    with pytest.raises(PermissionDenied):
        services.task_reply(user=vera, task=task, body="x")
    with pytest.raises(PermissionDenied):
        services.task_set_status(user=vera, task=task, status="done", version=task.version)
    with pytest.raises(PermissionDenied):
        services.task_create(user=vera, title="x", due_date=TODAY(), assigned_team=cast["asb"])

    client = client_as(vera)
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "Check CCTV" in page and "Add reply" not in page and "Create a task" not in page
    assert client.get("/tasks/new/").status_code == 403
    assert client.post(f"/tasks/{task.pk}/reply/", {"body": "x"}).status_code == 403
    assert client.post(f"/tasks/{task.pk}/status/", {"status": "done", "version": 1}).status_code == 403
    assert client.post(f"/api/v1/tasks/{task.pk}/replies/", {"body": "x"}).status_code == 403
    assert client.post(f"/api/v1/tasks/{task.pk}/status/", {"status": "done", "version": 1}).status_code == 403
    refused = client.post("/api/v1/tasks/", {"title": "x", "due_date": TODAY().isoformat(),
                                             "assigned_team": cast["asb"].pk})  # fmt: skip
    assert refused.status_code == 403
    assert client.post("/api/v1/tasks/", {}).status_code == 403  # refused before the input is read
    assert Task.objects.get(pk=task.pk).status == "open" and TaskReply.objects.count() == 0


# --- Creating: input and its errors ---------------------------------------------------------------


def test_bob_creates_a_task_from_his_case_page(cast):
    case, profile = make_case(cast)
    client = client_as(cast["bob"])
    form = client.get(f"/tasks/new/?case={case.pk}&profile={profile.pk}")
    assert form.status_code == 200 and case.reference in form.content.decode()
    due = (TODAY() + dt.timedelta(days=3)).isoformat()
    response = client.post(f"/tasks/new/?case={case.pk}&profile={profile.pk}",
                           {"title": "Visit together", "assigned_user": cast["carl"].pk, "due_date": due})  # fmt: skip
    assert response.status_code == 302
    task = Task.objects.get()
    assert (task.case, task.profile, task.assigned_user, task.created_by) == (case, profile, cast["carl"], cast["bob"])
    assert response["Location"] == f"/tasks/{task.pk}/"

    created = client.post("/api/v1/tasks/", {"title": "By API", "due_date": due, "assigned_team": cast["snt"].pk,
                                             "case": case.pk}, content_type="application/json")  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.json()["case"] == {"reference": case.reference} and created.json()["case_id"] == case.pk


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"due_date": "past"},
            "due_date",
            "The due date is in the past, so the task will be overdue as soon as it "
            "is created. Check the date, or confirm that the task is already overdue.",
        ),
        ({"due_date": "long ago"}, "due_date", "The due date is more than a year ago. Check the year."),
        ({"assigned_team": None}, "assigned_user", "Choose a person or a team to do the task."),
        ({"assigned_user": "carl"}, "assigned_team", "Choose a person or a team, not both."),
        ({"title": ""}, "title", "Enter a title for the task."),
    ],
    ids=[
        "due-date-in-the-past-unconfirmed",
        "due-date-over-a-year-ago",
        "no-assignee",
        "both-user-and-team",
        "no-title",
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(cast, fields, field, message):
    case, _ = make_case(cast)
    good = {"title": "Check CCTV", "due_date": (TODAY() + dt.timedelta(days=1)).isoformat(),
            "assigned_team": cast["snt"].pk}  # fmt: skip
    data = dict(good)
    for key, value in fields.items():
        if value is None:
            data.pop(key)
        elif value == "past":
            data[key] = (TODAY() - dt.timedelta(days=1)).isoformat()
        elif value == "long ago":  # even confirmed: a mistyped year
            data[key] = (TODAY() - dt.timedelta(days=367)).isoformat()
            data["past_due_confirmed"] = True
        elif key == "assigned_user":
            data[key] = cast[value].pk
        else:
            data[key] = value

    client = client_as(cast["bob"])
    page = client.post(f"/tasks/new/?case={case.pk}", data)
    html = page.content.decode()
    assert page.status_code == 200
    assert f'href="#id_{field}"' in html and message in html  # the error summary links to the field
    assert f'id="id_{field}_error"' in html

    api = client.post("/api/v1/tasks/", {**data, "case": case.pk}, content_type="application/json")
    assert api.status_code == 400
    assert api.json()["error"]["fields"] == {field: [message]}

    kwargs = {"title": data.get("title", ""), "due_date": dt.date.fromisoformat(data["due_date"]),
              "assigned_team": cast["snt"] if "assigned_team" in data else None,
              "assigned_user": cast["carl"] if "assigned_user" in data else None,
              "past_due_confirmed": data.get("past_due_confirmed", False)}  # fmt: skip
    with pytest.raises(ValidationError) as error:
        services.task_create(user=fresh(cast["bob"]), **kwargs)
    assert error.value.message_dict == {field: [message]}
    with schema_context("suffolk"):
        assert Task.objects.count() == 0
        assert OutboundEmail.objects.filter(status="queued").count() == 0
        assert AuditEvent.objects.filter(action="task.created").count() == 0


def test_the_creator_must_see_the_case_and_the_assignee_must_be_active(cast):
    case, profile = make_case(cast)
    dan = fresh(cast["dan"])
    with pytest.raises(ValidationError) as error:
        services.task_create(user=dan, title="x", due_date=TODAY(), case=case, profile=profile,
                             assigned_user=cast["bob"])  # fmt: skip
    assert set(error.value.message_dict) == {"case", "profile"}
    data = {"title": "x", "due_date": TODAY().isoformat(), "case": case.pk, "assigned_user": cast["bob"].pk}
    api = client_as(dan).post("/api/v1/tasks/", data, content_type="application/json")
    assert api.status_code == 400 and set(api.json()["error"]["fields"]) == {"case"}
    with schema_context("suffolk"):
        cast["carl"].is_active = False
        cast["carl"].save()
    with pytest.raises(ValidationError) as error:
        services.task_create(user=fresh(cast["bob"]), title="x", due_date=TODAY(), assigned_user=cast["carl"])
    assert set(error.value.message_dict) == {"assigned_user"}
    assert Task.objects.count() == 0


def test_the_database_refuses_a_task_with_two_assignees_or_none(cast):
    from django.db import IntegrityError, transaction

    for assignees in ({"assigned_user": cast["bob"], "assigned_team": cast["asb"]}, {}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Task.objects.create(title="x", due_date=TODAY(), created_by=cast["bob"], **assignees)


# --- Query counts -----------------------------------------------------------------------------------


def test_my_tasks_runs_the_same_number_of_queries_for_2_and_20_tasks(cast):
    case, profile = make_case(cast)
    client = client_as(cast["bob"])

    def make(count: int) -> None:
        Task.objects.bulk_create(
            Task(title=f"Task {n}", due_date=TODAY() + dt.timedelta(days=n % 3 - 1), case=case if n % 2 else None,
                 profile=profile if n % 3 else None, assigned_user=cast["bob"], created_by=cast["carl"])
            for n in range(count)
        )  # fmt: skip

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page = client.get("/tasks/")
        assert page.status_code == 200
        return len(captured)

    make(2)
    client.get("/tasks/")  # warm: session and per-process caches
    two = queries()
    make(18)
    twenty = queries()
    assert twenty == two, f"{two} queries for 2 tasks, {twenty} for 20"
    assert "20 tasks" in client.get("/tasks/").content.decode()
