"""Tasks due today and overdue: the model's flags, the counts of the dashboard, the tags.

The cast in Suffolk (tests/conftest.py ``cast``), as in tests/test_tasks.py:
- Bob: ASB Team. Has tasks of his own and his team's; sets a task for the police team.
- Vera: ASB Team, viewer: shares Bob's team tasks, none of his own.
- Carl: Community Safety Team: in none of it, counts nothing.
- Nina, in Norfolk, counts nothing of Suffolk's.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.casework.selectors import user_scope
from tenant_apps.tasks import selectors, services
from tenant_apps.tasks.models import Task, partnership_today
from tests.test_tasks import fresh

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
