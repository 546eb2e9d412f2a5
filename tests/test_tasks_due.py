"""Tasks due today and overdue: the model's flags, the counts of the dashboard, the tags.

The cast in Suffolk (tests/conftest.py ``cast``), as in tests/test_tasks.py:
- Bob: ASB Team. Has tasks of his own and his team's; sets a task for the police team.
- Vera: ASB Team, viewer: shares Bob's team tasks, none of his own.
- Carl: Community Safety Team: in none of it, counts nothing.
- Nina, in Norfolk, counts nothing of Suffolk's.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.casework.selectors import user_scope
from tenant_apps.outbox.models import OutboundEmail
from tenant_apps.tasks import selectors, services
from tenant_apps.tasks.models import Task, partnership_today
from tests.test_casework_api import json_post
from tests.test_tasks import client_as, fresh, make_case

DAY = dt.timedelta(days=1)


def task(cast, title, *, due, status="open", **assignee):
    """A task Bob sets, then moved to ``due`` (the form refuses new tasks due in the past)."""
    made = services.task_create(user=fresh(cast["bob"]), title=title, due_date=partnership_today(), **assignee)
    Task.objects.filter(pk=made.pk).update(due_date=due, status=status)
    return Task.objects.get(pk=made.pk)


def test_flags_follow_the_partnerships_date_and_only_active_tasks(cast):
    today = partnership_today()
    late = task(cast, "Late", due=today - DAY, assigned_user=cast["bob"])
    now = task(cast, "Now", due=today, assigned_user=cast["bob"])
    soon = task(cast, "Soon", due=today + DAY, assigned_user=cast["bob"])
    done_late = task(cast, "Done late", due=today - DAY, status="done", assigned_user=cast["bob"])
    cancelled_today = task(cast, "Cancelled", due=today, status="cancelled", assigned_user=cast["bob"])
    in_progress_late = task(cast, "Going", due=today - DAY, status="in_progress", assigned_user=cast["bob"])
    assert (late.is_overdue, late.is_due_today) == (True, False)
    assert (now.is_overdue, now.is_due_today) == (False, True)
    assert (soon.is_overdue, soon.is_due_today) == (False, False)
    assert (done_late.is_overdue, cancelled_today.is_due_today) == (False, False)
    assert in_progress_late.is_overdue


def test_today_is_londons_whatever_zone_is_active():
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time).
    from unittest import mock

    instant = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)
    with mock.patch("django.utils.timezone.now", return_value=instant), timezone.override(ZoneInfo("UTC")):
        assert partnership_today() == dt.date(2026, 7, 1)
        assert timezone.localdate() == dt.date(2026, 6, 30)  # what the active zone alone would say


def test_task_counts_mine_and_my_teams_in_one_query(cast):
    today = partnership_today()
    bob = cast["bob"]
    task(cast, "Mine late", due=today - 3 * DAY, assigned_user=bob)
    task(cast, "Mine late too", due=today - DAY, status="in_progress", assigned_user=bob)
    task(cast, "Mine today", due=today, assigned_user=bob)
    task(cast, "Mine soon", due=today + DAY, assigned_user=bob)
    task(cast, "Mine done late", due=today - DAY, status="done", assigned_user=bob)
    task(cast, "Team late", due=today - DAY, assigned_team=cast["asb"])
    task(cast, "Team today", due=today, assigned_team=cast["asb"])
    task(cast, "Team today too", due=today, assigned_team=cast["asb"])
    task(cast, "Team cancelled", due=today, status="cancelled", assigned_team=cast["asb"])
    task(cast, "Police late", due=today - DAY, assigned_team=cast["snt"])  # Bob set it: visible, not his to do

    bob = fresh(bob)
    user_scope(bob)  # read with the user in a request (directory.backends.MemberBackend)
    with CaptureQueriesContext(connection) as queries:
        counts = selectors.task_counts(bob)
    assert len(queries) == 1
    assert counts == selectors.TaskCounts(mine_due_today=1, mine_overdue=2, team_due_today=2, team_overdue=1)
    with pytest.raises(AttributeError):
        counts.mine_overdue = 0  # frozen

    vera = selectors.task_counts(fresh(cast["vera"]))  # same team, none in person
    assert vera == selectors.TaskCounts(mine_due_today=0, mine_overdue=0, team_due_today=2, team_overdue=1)
    dan = selectors.task_counts(fresh(cast["dan"]))  # the police team's late task
    assert dan == selectors.TaskCounts(mine_due_today=0, mine_overdue=0, team_due_today=0, team_overdue=1)
    assert selectors.task_counts(fresh(cast["carl"])) == selectors.TaskCounts(0, 0, 0, 0)
    task(cast, "Alice's late", due=today - DAY, assigned_user=cast["alice"])  # Alice is in no team
    alice = selectors.task_counts(fresh(cast["alice"]))
    assert alice == selectors.TaskCounts(mine_due_today=0, mine_overdue=1, team_due_today=0, team_overdue=0)


def test_nina_in_norfolk_counts_nothing_of_suffolks(cast):
    task(cast, "Mine late", due=partnership_today() - DAY, assigned_user=cast["bob"])
    from tenant_apps.accounts.models import User

    with schema_context("norfolk"):
        nina = User.objects.get(email="nina@norfolk.test")
        assert selectors.task_counts(nina) == selectors.TaskCounts(0, 0, 0, 0)


def test_due_tag_says_it_in_words_and_colour(cast):
    today = partnership_today()
    late = task(cast, "Late", due=today - DAY, assigned_user=cast["bob"])
    now = task(cast, "Now", due=today, assigned_user=cast["bob"])
    soon = task(cast, "Soon", due=today + DAY, assigned_user=cast["bob"])
    done = task(cast, "Done", due=today - DAY, status="done", assigned_user=cast["bob"])
    render = lambda t: render_to_string("tasks/_due.html", {"task": t}).strip()  # noqa: E731
    assert render(late) == '<strong class="govuk-tag govuk-tag--red">Overdue</strong>'
    assert render(now) == '<strong class="govuk-tag govuk-tag--yellow">Due today</strong>'
    assert render(soon) == "" and render(done) == ""


# --- Flagged everywhere tasks are listed ------------------------------------------------------------

RED = '<strong class="govuk-tag govuk-tag--red">Overdue</strong>'
YELLOW = '<strong class="govuk-tag govuk-tag--yellow">Due today</strong>'


def rows_of(html: str) -> list[str]:
    return html.split("<tbody", 1)[1].split('<tr class="govuk-table__row">')[1:]


def test_every_list_and_the_task_page_flag_overdue_and_due_today_overdue_first(cast):
    today = partnership_today()
    bob, dan = cast["bob"], cast["dan"]
    for assignee in ({"assigned_user": dan}, {"assigned_team": cast["snt"]}):
        task(cast, "Soon", due=today + 2 * DAY, **assignee)
        task(cast, "Done long ago", due=today - 9 * DAY, status="done", **assignee)
        task(cast, "Today", due=today, **assignee)
        task(cast, "Late", due=today - 2 * DAY, status="in_progress", **assignee)
        task(cast, "Later", due=today - DAY, **assignee)
    expected = ["Late", "Later", "Today", "Soon"]  # open or in progress: most late first
    everything = ["Late", "Later", "Done long ago", "Today", "Soon"]  # a late open task above old done ones
    dan_client, bob_client = client_as(dan), client_as(bob)
    for client, url, titles in [
        (dan_client, "/tasks/", expected),
        (dan_client, "/tasks/team/", expected),
        (dan_client, "/tasks/?status=all", everything),
        (bob_client, "/tasks/set-by-me/", expected + expected),
    ]:
        rows = rows_of(client.get(url).content.decode())
        listed = [re.search(r'href="/tasks/\d+/">([^<]+)</a>', row).group(1) for row in rows]
        if url == "/tasks/set-by-me/":  # Dan's and his team's, merged by the same order
            assert listed == ["Late", "Late", "Later", "Later", "Today", "Today", "Soon", "Soon"], listed
        else:
            assert listed == titles, (url, listed)
        for title, row in zip(listed, rows, strict=True):
            assert (RED in row) == (title in ("Late", "Later")), (url, title)
            assert (YELLOW in row) == (title == "Today"), (url, title)

    late = Task.objects.get(title="Late", assigned_user=dan)
    page = dan_client.get(f"/tasks/{late.pk}/").content.decode()
    due_row = page.split(">Due</dt>", 1)[1].split("</dd>", 1)[0]
    assert RED in due_row
    today_task = Task.objects.get(title="Today", assigned_user=dan)
    assert YELLOW in dan_client.get(f"/tasks/{today_task.pk}/").content.decode()

    api = dan_client.get("/api/v1/tasks/?status=all").json()["results"]
    assert [(t["title"], t["is_overdue"], t["is_due_today"]) for t in api] == [
        ("Late", True, False), ("Later", True, False), ("Done long ago", False, False),
        ("Today", False, True), ("Soon", False, False),
    ]  # fmt: skip
    detail = dan_client.get(f"/api/v1/tasks/{today_task.pk}/").json()
    assert (detail["is_overdue"], detail["is_due_today"]) == (False, True)


def test_the_schema_documents_the_due_flags_and_the_confirmation():
    from tests.api_input_helpers import openapi_schema

    components = openapi_schema()["components"]["schemas"]
    output = components["TaskOutput"]["properties"]
    for flag in ("is_overdue", "is_due_today"):
        assert output[flag]["type"] == "boolean" and "Europe/London" in output[flag]["description"]
        assert flag in components["TaskOutput"]["required"]
    confirm = components["TaskCreateInputRequest"]["properties"]["past_due_confirmed"]
    assert confirm["type"] == "boolean" and "400 on due_date" in confirm["description"]


# --- A task already overdue, recorded now ----------------------------------------------------------


def test_a_past_due_date_is_recorded_once_confirmed_and_flagged_at_once(cast):
    case, _ = make_case(cast)
    yesterday = (partnership_today() - DAY).isoformat()
    client = client_as(cast["bob"])
    data = {"title": "Chase the CCTV agreed at Monday's meeting", "due_date": yesterday,
            "assigned_team": cast["snt"].pk}  # fmt: skip
    box = 'name="past_due_confirmed"'
    fresh_form = client.get(f"/tasks/new/?case={case.pk}").content.decode()
    assert box not in fresh_form  # offered only when it is needed

    asked = client.post(f"/tasks/new/?case={case.pk}", data).content.decode()
    assert 'href="#id_due_date"' in asked and 'id="id_due_date_error"' in asked
    assert "confirm that the task is already overdue" in asked and box in asked
    assert f'value="{yesterday}"' in asked  # what was typed is kept
    assert Task.objects.count() == 0 and OutboundEmail.objects.count() == 0

    response = client.post(f"/tasks/new/?case={case.pk}", {**data, "past_due_confirmed": "on"})
    assert response.status_code == 302
    made = Task.objects.get()
    assert made.due_date == partnership_today() - DAY and made.is_overdue
    assert RED in client.get(response["Location"]).content.decode()
    notices = list(OutboundEmail.objects.filter(status="queued"))
    assert notices and all("(already overdue)" in notice.body for notice in notices)
    assert AuditEvent.objects.get(action="task.created").summary.endswith("(already overdue)")

    refused = client.post("/api/v1/tasks/", {**data, "case": case.pk}, content_type="application/json")
    assert refused.status_code == 400 and list(refused.json()["error"]["fields"]) == ["due_date"]
    created = client.post("/api/v1/tasks/", {**data, "case": case.pk, "past_due_confirmed": True},
                          content_type="application/json")  # fmt: skip
    assert created.status_code == 201 and created.json()["is_overdue"] is True
    assert Task.objects.count() == 2


def test_a_viewer_cannot_record_an_overdue_task_either(cast):
    with pytest.raises(PermissionDenied):
        services.task_create(user=fresh(cast["vera"]), title="x", due_date=partnership_today() - DAY,
                             assigned_team=cast["asb"], past_due_confirmed=True)  # fmt: skip


# --- The demo's tasks ---------------------------------------------------------------------------------


def test_the_demo_seeds_tasks_overdue_and_due_today_set_before_they_fell_due(cast):
    from tenant_apps.tasks import demo
    from tenants.demo import Demo

    for _ in range(8):
        make_case(cast)  # Bob's (the council's) cases
    OutboundEmail.objects.all().delete()
    demo.seed(Demo(slug="suffolk", name="Suffolk", council="bob@suffolk.test", police="dan@suffolk.test"))
    demo.seed(Demo(slug="suffolk", name="Suffolk", council="bob@suffolk.test", police="dan@suffolk.test"))  # once
    today = partnership_today()
    tasks = list(Task.objects.order_by("pk"))
    assert len(tasks) == 8 and {t.created_by_id for t in tasks} == {cast["bob"].pk}
    late = [t for t in tasks if t.is_overdue]
    assert len(late) == 3 and sum(t.is_due_today for t in tasks) == 2
    assert any(t.status == "in_progress" for t in late)
    for t in tasks:
        assert timezone.localtime(t.created_at).date() < today  # set on an earlier day
    for t in late:
        assert timezone.localtime(t.created_at).date() < t.due_date < today
    # For the police in person and for their team; the in-person ones are Dan's.
    assert {t.assigned_user_id for t in tasks if t.assigned_user_id} == {cast["dan"].pk}
    assert {t.assigned_team_id for t in tasks if t.assigned_team_id} == {cast["snt"].pk}
    counts = selectors.task_counts(fresh(cast["dan"]))
    assert counts.mine_overdue == 2 and counts.mine_due_today == 1
    assert counts.team_overdue == 1 and counts.team_due_today == 1
    assert OutboundEmail.objects.filter(to=["dan@suffolk.test"]).exists()  # the notices, as for real tasks


# --- Moving a due date --------------------------------------------------------------------------------


def test_moving_a_due_date_keeps_a_past_one_asks_to_confirm_a_new_past_one_and_tells_the_other_side(cast):
    today = partnership_today()
    late = task(cast, "Check CCTV", due=today - 2 * DAY, assigned_team=cast["snt"])
    OutboundEmail.objects.all().delete()
    dan, bob = client_as(cast["dan"]), client_as(cast["bob"])
    url = f"/tasks/{late.pk}/due-date/"
    assert f'href="{url}"' in dan.get(f"/tasks/{late.pk}/").content.decode()
    form = dan.get(url).content.decode()
    assert f'value="{late.due_date.isoformat()}"' in form and RED in form

    # Keeping the past date it has is no change, and needs no confirmation.
    kept = dan.post(url, {"due_date": late.due_date.isoformat(), "version": late.version})
    assert kept.status_code == 302 and Task.objects.get(pk=late.pk).version == late.version
    assert not AuditEvent.objects.filter(action="task.due_date_changed").exists()

    # Dan (the team) moves it on: Bob, who set it, is told; the audit has the old and new dates.
    later = today + 3 * DAY
    moved = dan.post(url, {"due_date": later.isoformat(), "version": late.version})
    assert moved.status_code == 302 and moved["Location"] == f"/tasks/{late.pk}/"
    now = Task.objects.get(pk=late.pk)
    assert (now.due_date, now.version, now.is_overdue) == (later, late.version + 1, False)
    event = AuditEvent.objects.get(action="task.due_date_changed")
    assert event.changes == {"due_date": [late.due_date.isoformat(), later.isoformat()]}
    assert [mail.to for mail in OutboundEmail.objects.all()] == [["bob@suffolk.test"]]
    assert "Check CCTV" not in OutboundEmail.objects.get().body  # no title in e-mail

    # A stale version is refused; so is a new past date until confirmed (named on due_date).
    stale = bob.post(url, {"due_date": today.isoformat(), "version": late.version})
    assert stale.status_code == 200 and "changed since you opened it" in stale.content.decode()
    past = (today - DAY).isoformat()
    asked = bob.post(url, {"due_date": past, "version": now.version}).content.decode()
    assert 'href="#id_due_date"' in asked and 'name="past_due_confirmed"' in asked
    assert Task.objects.get(pk=late.pk).due_date == later
    OutboundEmail.objects.all().delete()
    confirmed = bob.post(url, {"due_date": past, "version": now.version, "past_due_confirmed": "on"})
    assert confirmed.status_code == 302 and Task.objects.get(pk=late.pk).is_overdue
    assert sorted(mail.to[0] for mail in OutboundEmail.objects.all()) == ["dan@suffolk.test", "erin@suffolk.test"]

    # The API: the same rules, 409 when stale, 400 naming due_date.
    current = Task.objects.get(pk=late.pk)
    api = f"/api/v1/tasks/{late.pk}/due-date/"
    refused = dan.post(api, {"due_date": (today - 3 * DAY).isoformat(), "version": current.version},
                       content_type="application/json")  # fmt: skip
    assert refused.status_code == 400 and list(refused.json()["error"]["fields"]) == ["due_date"]
    ok = dan.post(api, {"due_date": today.isoformat(), "version": current.version}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["is_due_today"] is True and ok.json()["version"] == current.version + 1
    again = dan.post(api, {"due_date": later.isoformat(), "version": current.version}, content_type="application/json")
    assert again.status_code == 409


def test_a_done_task_keeps_its_date_and_only_those_in_the_task_may_move_it(cast, norfolk_client):
    today = partnership_today()
    done = task(cast, "Done", due=today - DAY, status="done", assigned_team=cast["snt"])
    dan = client_as(cast["dan"])
    assert f"/tasks/{done.pk}/due-date/" not in dan.get(f"/tasks/{done.pk}/").content.decode()
    refused = dan.post(f"/tasks/{done.pk}/due-date/", {"due_date": today.isoformat(), "version": done.version})
    assert "This task is done or cancelled" in refused.content.decode()
    assert Task.objects.get(pk=done.pk).due_date == today - DAY

    open_task = task(cast, "Open", due=today + DAY, assigned_team=cast["snt"])
    body = {"due_date": (today + 9 * DAY).isoformat(), "version": open_task.version}
    assert client_as(cast["carl"]).post(f"/tasks/{open_task.pk}/due-date/", body).status_code == 404
    assert client_as(cast["vera"]).post(f"/tasks/{open_task.pk}/due-date/", body).status_code == 403
    from tests.conftest import sign_in

    sign_in(norfolk_client, "nina@norfolk.test")
    assert norfolk_client.post(f"/tasks/{open_task.pk}/due-date/", body).status_code == 404
    assert json_post(norfolk_client, f"/api/v1/tasks/{open_task.pk}/due-date/", body).status_code == 404
    with schema_context("suffolk"):
        assert Task.objects.get(pk=open_task.pk).due_date == today + DAY
