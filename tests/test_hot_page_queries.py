"""The pages a practitioner opens at a doorstep run as many queries for a big record as for a small
one: a profile (its timeline, cases, aliases, addresses, identifiers, warnings), their tasks and
their team's, and a search's results. The case page and the API are pinned in
test_casework_pages.py and test_casework_api.py.

Each test reads the page once small, counts its queries, grows the record ten-fold and asserts the
same count; the small count is also bounded, so a page cannot drift into many queries unnoticed.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.audit.services import audit_record
from tenant_apps.casework import services as casework
from tenant_apps.casework.models import CaseType, ProfileAlias, WarningMarker
from tenant_apps.tasks import services as tasks
from tenant_apps.tasks.models import Task
from tests.test_casework_pages import client_as

TODAY = dt.date.today


def _count(client, method: str, url: str, data=None) -> tuple[int, str]:
    getattr(client, method)(url, data or {})  # warm the per-process caches
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data or {})
    assert response.status_code == 200, response.status_code
    return len(captured), response.content.decode()


def _grow_profile(cast, profile, case_type, start: int, stop: int) -> None:
    with schema_context("suffolk"):
        bob = cast["bob"]
        for n in range(start, stop):
            case = casework.case_create(user=bob, case_type=case_type, title=f"Case {n}", owning_team=cast["asb"],
                                        subjects=[(profile, "perpetrator")])  # fmt: skip
            for k in range(3):
                casework.entry_create(user=bob, case=case, kind="note", summary=f"Note {n}.{k}",
                                      occurred_at=timezone.now() - dt.timedelta(hours=n * 3 + k))  # fmt: skip
            ProfileAlias.objects.create(profile=profile, name=f"Alias Number{n}", search_name=f"alias number{n}")
            WarningMarker.objects.create(profile=profile, kind="dogs", note=f"Dogs {n}")


def test_a_profile_page_runs_as_many_queries_for_ten_cases_as_for_one(cast):
    with schema_context("suffolk"):
        profile = casework.profile_create(user=cast["bob"], owning_team=cast["asb"], first_name="Kyle",
                                          last_name="Brennan", date_of_birth=dt.date(2001, 5, 17))  # fmt: skip
        case_type = CaseType.objects.get(code="ASB")
    _grow_profile(cast, profile, case_type, 0, 1)
    bob = client_as(cast, "bob")
    url = f"/profiles/{profile.pk}/"
    small, page = _count(bob, "get", url)
    assert page.count('id="entry-') == 3
    # 19, the main menu's count of my overdue tasks (every signed-in page), and the read counter
    # (accounts.readlimits: one upsert per counted read); the profile.viewed event is two round trips
    # (the hash chain's head locked, then the event inserted with the head moved: audit.chain)
    assert small <= 22, small
    _grow_profile(cast, profile, case_type, 1, 10)
    large, page = _count(bob, "get", url)
    assert page.count('id="entry-') == 25 and "Number9" in page
    assert large == small


def _tasks(cast, start: int, stop: int) -> None:
    with schema_context("suffolk"):
        profile = casework.profile_create(user=cast["bob"], owning_team=cast["asb"], first_name="Sam",
                                          last_name=f"Task{start}")  # fmt: skip
        case = casework.case_create(user=cast["bob"], case_type=CaseType.objects.get(code="ASB"), title="Tasks",
                                    owning_team=cast["asb"], subjects=[(profile, "perpetrator")])  # fmt: skip
        for n in range(start, stop):
            about = {"case": case} if n % 2 else {"profile": profile}
            for assignee in ({"assigned_user": cast["carl"]}, {"assigned_team": cast["cst"]}):
                task = tasks.task_create(user=cast["bob"], title=f"Task {n}", due_date=TODAY() + dt.timedelta(days=n),
                                         **about, **assignee)  # fmt: skip
                if n % 3 == 0:  # some overdue
                    Task.objects.filter(pk=task.pk).update(due_date=TODAY() - dt.timedelta(days=1))


def test_my_tasks_and_my_teams_tasks_run_as_many_queries_for_twenty_as_for_two(cast):
    _tasks(cast, 0, 2)
    carl = client_as(cast, "carl")
    small = {url: _count(carl, "get", url) for url in ("/tasks/", "/tasks/team/")}
    for url, (count, page) in small.items():
        assert page.count("Task ") >= 2 and count <= 14, (url, count)
    _tasks(cast, 2, 20)
    for url, (count, _) in small.items():
        large, page = _count(carl, "get", url)
        assert "Task 19" in page and large == count, (url, large, count)


def test_search_results_run_as_many_queries_for_twenty_matches_as_for_two(cast):
    def people(start: int, stop: int) -> None:
        with schema_context("suffolk"):
            for n in range(start, stop):
                casework.profile_create(user=cast["bob"], owning_team=cast["asb"], first_name="Kyle",
                                        last_name="Brennan", date_of_birth=dt.date(2001, 5, 1 + n))  # fmt: skip

    people(0, 2)
    bob = client_as(cast, "bob")
    small, page = _count(bob, "post", "/search/", {"query": "Kyle Brennan"})
    assert page.count("Kyle Brennan") >= 2 and small <= 14, small
    people(2, 20)
    large, page = _count(bob, "post", "/search/", {"query": "Kyle Brennan"})
    assert page.count("Kyle Brennan") >= 20 and large == small


def test_the_gallery_runs_as_many_queries_for_ten_people_on_thirty_cases_as_for_two_on_two(cast):
    def people(start: int, stop: int, cases: int) -> None:
        with schema_context("suffolk"):
            case_type = CaseType.objects.get(code="ASB")
            for n in range(start, stop):
                profile = casework.profile_create(user=cast["bob"], owning_team=cast["asb"], first_name="Gallery",
                                                  last_name=f"Person{n}")  # fmt: skip
                WarningMarker.objects.create(profile=profile, kind="violent")
                WarningMarker.objects.create(profile=profile, kind="dogs")
                for k in range(cases):
                    case = casework.case_create(user=cast["bob"], case_type=case_type, title=f"Case {n}.{k}",
                                                owning_team=cast["asb"],
                                                subjects=[(profile, "perpetrator")])  # fmt: skip
                    casework.entry_create(user=cast["bob"], case=case, kind="visit", summary=f"Visit {n}.{k}",
                                          occurred_at=timezone.now() - dt.timedelta(hours=n * 3 + k))  # fmt: skip

    people(0, 2, 1)
    bob = client_as(cast, "bob")
    small, page = _count(bob, "get", "/gallery/")
    assert page.count('id="person-') == 2 and page.count("Dangerous dogs") == 2
    # 16 measured: the gallery's own, the main menu's overdue count, the read counter; its audit
    # event is two round trips (the hash chain's head locked, then the insert: audit.chain)
    assert small <= 16, small
    people(2, 10, 3)
    large, page = _count(bob, "get", "/gallery/")
    assert page.count('id="person-') == 10 and page.count("Case 9.2") == 1 and page.count("Dangerous dogs") == 10
    assert large == small


def _caseload(cast, start: int, stop: int) -> None:
    """Bob's work grown: cases of his team with a contact and a warned subject each, opened by him,
    tasks for him (some overdue) and for his team, each with a reply from Carl."""
    with schema_context("suffolk"):
        bob, carl = cast["bob"], cast["carl"]
        for n in range(start, stop):
            profile = casework.profile_create(user=bob, owning_team=cast["asb"], first_name="Dee", last_name=f"Load{n}")
            WarningMarker.objects.create(profile=profile, kind="dogs")
            case = casework.case_create(user=bob, case_type=CaseType.objects.get(code="ASB"), title=f"Caseload {n}",
                                        owning_team=cast["asb"], subjects=[(profile, "perpetrator")])  # fmt: skip
            casework.entry_create(user=bob, case=case, kind="visit", summary=f"Visit {n}",
                                  occurred_at=timezone.now() - dt.timedelta(hours=n))  # fmt: skip
            for record, action in ((profile, "profile.viewed"), (case, "case.viewed")):
                audit_record(action=action, actor=bob, object_type=type(record).__name__.lower(), object_id=record.pk)
            for assignee in ({"assigned_user": bob}, {"assigned_team": cast["asb"]}):
                task = tasks.task_create(user=carl, title=f"Task {n}", due_date=TODAY(), case=case, **assignee)
                if n % 2:
                    Task.objects.filter(pk=task.pk).update(due_date=TODAY() - dt.timedelta(days=n))
                tasks.task_reply(user=carl, task=task, body=f"Reply {n}")


def test_the_home_dashboard_runs_as_many_queries_for_twenty_tasks_and_cases_as_for_two(cast):
    _caseload(cast, 0, 2)
    bob = client_as(cast, "bob")
    small, page = _count(bob, "get", "/")
    assert "Caseload 1" in page and "Reply 1" in page and "Dee Load1" in page, page
    # routing 3, session, user, device; the task counts, the first of mine and their count; open
    # cases and their count; reads, their profiles and cases; replies and when I last opened their
    # tasks; warnings; my assessments due for review and in progress; the menu's count
    assert small <= 20, small
    _caseload(cast, 2, 20)
    large, page = _count(bob, "get", "/")
    assert "Caseload 19" in page and "Reply 19" in page and "Dee Load19" in page
    assert large == small, (large, small)
