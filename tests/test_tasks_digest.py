"""The daily digest e-mail of each person's tasks overdue and due today (issue 10, point 9).

The cast in Suffolk (tests/conftest.py ``cast``), as in tests/test_tasks.py:
- Bob: ASB Team. A task of his own three days late, his team's due today: one digest, both listed.
- Vera: ASB Team, viewer: reads the team's tasks, cannot do them, gets no digest.
- Dan and Erin: Safer Neighbourhood Team, which has a late task. Dan gets it; Erin turned it off.
- Carl: Community Safety Team, nothing due: nothing.
- Ivy: an account that was deactivated, with a late task: nothing.
- Nina, in Norfolk (committed tests): gets hers from Norfolk's job, never anything of Suffolk's.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import User
from tenant_apps.audit.models import AuditEvent
from tenant_apps.outbox.models import OutboundEmail
from tenant_apps.tasks import selectors, services
from tenant_apps.tasks.models import DigestPreference, Task, partnership_today
from tests.test_jobs_and_mail import query, run_jobs
from tests.test_tasks import client_as, fresh, make_case
from tests.test_tasks_due import task

DAY = dt.timedelta(days=1)
SUBJECT = "Your tasks in Concord"


def digests(schema: str = "suffolk") -> dict[str, OutboundEmail]:
    with schema_context(schema):
        return {mail.to[0]: mail for mail in OutboundEmail.objects.filter(subject__startswith=SUBJECT)}


def task_links(body: str) -> set[int]:
    return {int(number) for number in re.findall(r"/tasks/(\d+)/", body)}


@pytest.fixture
def day(cast):
    """Suffolk's tasks on a working day (see the module docstring)."""
    today = partnership_today()
    case, profile = make_case(cast)
    tasks = {
        "bob late": task(cast, "Visit Kyle Brennan at 4 Mill Lane", due=today - 3 * DAY, assigned_user=cast["bob"]),
        "asb today": task(cast, "Ring the housing officer", due=today, assigned_team=cast["asb"]),
        "bob soon": task(cast, "Next week", due=today + 7 * DAY, assigned_user=cast["bob"]),
        "bob done": task(cast, "Done late", due=today - DAY, status="done", assigned_user=cast["bob"]),
        "snt late": task(cast, "Check CCTV", due=today - DAY, status="in_progress", assigned_team=cast["snt"]),
        "ivy late": task(cast, "Ivy's", due=today - 2 * DAY, assigned_user=cast["carl"]),
    }
    Task.objects.filter(pk=tasks["bob late"].pk).update(case=case, profile=profile, details="He disclosed a threat.")
    ivy = User.objects.create_user("ivy@suffolk.test", full_name="Ivy Inactive", is_active=False)
    Task.objects.filter(pk=tasks["ivy late"].pk).update(assigned_user=ivy)
    services.digest_preference_set(user=fresh(cast["erin"]), wants_digest=False)
    OutboundEmail.objects.all().delete()  # the notices of the tasks made above
    return {"today": today, "case": case, **tasks}


def test_each_person_gets_one_digest_of_their_own_tasks_naming_nothing_sensitive(cast, day):
    today = day["today"]
    assert list(selectors.digest_recipients(today=today)) == [cast["bob"], cast["dan"]]
    assert services.task_digests_send() == 2

    sent = digests()
    assert set(sent) == {"bob@suffolk.test", "dan@suffolk.test"}  # not Vera, Erin, Carl nor Ivy
    bob = sent["bob@suffolk.test"]
    assert bob.subject == "Your tasks in Concord: 1 overdue, 1 due today"
    assert task_links(bob.body) == {day["bob late"].pk, day["asb today"].pk}
    late_date = f"{day['bob late'].due_date:%-d %B %Y}"
    mine, team = bob.body.split("Assigned to your team:")
    assert f"/tasks/{day['bob late'].pk}/" in mine and f"overdue, due {late_date} (3 days late)" in mine
    assert f"A task due today: http://suffolk.localhost:8000/tasks/{day['asb today'].pk}/" in team
    assert "To stop it: http://suffolk.localhost:8000/tasks/daily-email/" in bob.body
    for secret in ("Kyle", "Brennan", "Mill Lane", "housing", "disclosed", day["case"].reference, "ASB Team",
                   "Bob", "Noise"):  # fmt: skip
        assert secret not in bob.body and secret not in bob.subject, secret
    assert bob.html_body == ""
    dan = sent["dan@suffolk.test"]
    assert dan.subject == "Your tasks in Concord: 1 overdue"
    assert task_links(dan.body) == {day["snt late"].pk} and "Assigned to you:" not in dan.body

    # A re-run the same day sends nothing more; the next day, the tasks still late, it does.
    assert services.task_digests_send() == 0
    assert len(digests()) == 2
    assert DigestPreference.objects.get(user=cast["bob"]).last_sent_on == today
    assert services.task_digests_send(today=today + DAY) == 2
    with schema_context("suffolk"):
        assert OutboundEmail.objects.filter(to=["bob@suffolk.test"], subject__endswith="2 overdue").count() == 1


def test_done_is_not_due_and_a_long_list_is_cut_short(cast):
    today = partnership_today()
    late = [task(cast, f"Late {n}", due=today - DAY, assigned_user=cast["dan"]) for n in range(23)]
    OutboundEmail.objects.all().delete()
    services.task_set_status(user=fresh(cast["dan"]), task=late[0], status="done", version=late[0].version)
    assert services.task_digest_send(user=fresh(cast["dan"])) is True
    [mail] = digests().values()
    assert mail.subject == "Your tasks in Concord: 22 overdue"
    assert len(task_links(mail.body)) == services.DIGEST_MAX_LISTED
    assert late[0].pk not in task_links(mail.body) and "And 2 more." in mail.body


def test_opting_out_on_the_tasks_page_is_audited_and_stops_the_digest(cast, day):
    bob = client_as(cast["bob"])
    assert 'href="/tasks/daily-email/"' in bob.get("/tasks/").content.decode()
    page = bob.get("/tasks/daily-email/").content.decode()
    assert "The daily e-mail is on." in page and 'value="yes" checked' in page

    refused = bob.post("/tasks/daily-email/", {"wants_digest": "maybe"}).content.decode()
    assert 'href="#id_wants_digest"' in refused and "Choose yes or no." in refused
    assert bob.post("/tasks/daily-email/", {}).status_code == 200
    assert selectors.digest_wanted(cast["bob"])

    response = bob.post("/tasks/daily-email/", {"wants_digest": "no"})
    assert response.status_code == 302 and response["Location"] == "/tasks/daily-email/"
    with schema_context("suffolk"):
        assert not selectors.digest_wanted(cast["bob"])
        event = AuditEvent.objects.get(action="task.digest_preference_changed", object_id=str(cast["bob"].pk))
        assert event.changes == {"wants_digest": [True, False]} and event.actor_id == cast["bob"].pk
        assert services.task_digests_send() == 1  # Dan only
        assert set(digests()) == {"dan@suffolk.test"}
    assert "The daily e-mail is off." in bob.get("/tasks/daily-email/").content.decode()
    bob.post("/tasks/daily-email/", {"wants_digest": "no"})  # no change: nothing more audited
    with schema_context("suffolk"):
        assert AuditEvent.objects.filter(action="task.digest_preference_changed").count() == 2  # Erin's, Bob's

    # The viewer has no digest to turn on or off; the link is not offered to her.
    vera = client_as(cast["vera"])
    assert vera.get("/tasks/daily-email/").status_code == 403
    assert "daily-email" not in vera.get("/tasks/team/").content.decode()


def test_a_suspended_partnership_sends_no_digests_and_the_job_is_scheduled_daily(cast, day, settings):
    import croniter

    from tenant_apps.tasks.jobs import task_digests
    from tenants.models import Partnership

    with schema_context("public"):  # the platform's row: the platform's role writes it
        Partnership.objects.filter(schema_name="suffolk").update(status=Partnership.Status.SUSPENDED)
    assert task_digests(schema_name="suffolk") == 0  # the job, as the worker runs it
    assert digests() == {}
    with schema_context("public"):
        Partnership.objects.filter(schema_name="suffolk").update(status=Partnership.Status.ACTIVE)
    assert task_digests(schema_name="suffolk") == 2
    assert "tenant_apps.tasks.jobs" in settings.PROCRASTINATE_IMPORT_PATHS
    ticks = croniter.croniter(settings.TASKS_DIGEST_CRON, dt.datetime(2026, 12, 2, tzinfo=dt.UTC))
    first, second = ticks.get_next(dt.datetime), ticks.get_next(dt.datetime)
    assert second - first == dt.timedelta(days=1) and 5 <= first.hour <= 7  # once a day, early


# --- Committed: the worker, the SMTP server, two partnerships, two workers at once ---------------------

MARK = "[digest-test]"


@pytest.fixture
def committed(committed_db):
    """Committed tasks (made directly: no audit events, which are append-only) and their clean-up."""
    connection.set_schema_to_public()
    first_job = query("SELECT coalesce(max(id), 0) FROM procrastinate_jobs")[0][0]
    people = {}
    for schema, email in (("suffolk", "alice@suffolk.test"), ("suffolk", "bob@suffolk.test"),
                          ("norfolk", "nina@norfolk.test")):  # fmt: skip
        with schema_context(schema):
            people[email.split("@")[0]] = User.objects.get(email=email)
    yield people
    for schema in ("suffolk", "norfolk"):
        with schema_context(schema):
            Task.objects.filter(title__startswith=MARK).delete()
            DigestPreference.objects.all().delete()
            OutboundEmail.objects.filter(subject__startswith=SUBJECT).delete()
    connection.set_schema_to_public()
    query("DELETE FROM procrastinate_periodic_defers WHERE job_id > %s", [first_job])
    query("DELETE FROM procrastinate_jobs WHERE id > %s", [first_job])


def committed_task(schema: str, person, *, due: dt.date, created_by=None) -> Task:
    with schema_context(schema):
        return Task.objects.create(title=f"{MARK} Visit at 4 Mill Lane", details="Private", due_date=due,
                                   assigned_user=person, created_by=created_by or person)  # fmt: skip


def test_the_periodic_job_mails_each_partnerships_people_their_own_once_a_day(committed, smtp_server):
    from tenant_apps.tasks.jobs import task_digests_all

    alice, bob, nina = committed["alice"], committed["bob"], committed["nina"]
    with schema_context("suffolk"):
        today = partnership_today()
        DigestPreference.objects.create(user=alice, wants_digest=False)
    bobs = committed_task("suffolk", bob, due=today - DAY, created_by=alice)
    committed_task("suffolk", alice, due=today - DAY, created_by=bob)  # Alice turned it off
    ninas = committed_task("norfolk", nina, due=today)

    assert task_digests_all(timestamp=int(time.time())) >= 2  # one job per partnership
    assert task_digests_all(timestamp=int(time.time())) == 0  # those still wait: not queued twice
    run_jobs("maintenance", "mail")

    messages = {message["To"]: message for message in smtp_server.wait_for(2)}
    assert set(messages) == {"bob@suffolk.test", "nina@norfolk.test"}
    bob_body = messages["bob@suffolk.test"].get_body(("plain",)).get_content()
    nina_body = messages["nina@norfolk.test"].get_body(("plain",)).get_content()
    assert messages["bob@suffolk.test"]["Subject"] == "Your tasks in Concord: 1 overdue"
    assert messages["nina@norfolk.test"]["Subject"] == "Your tasks in Concord: 1 due today"
    assert task_links(bob_body) == {bobs.pk} and task_links(nina_body) == {ninas.pk}
    assert set(re.findall(r"https?://([^/\s]+)/", bob_body)) == {"suffolk.localhost:8000"}
    assert set(re.findall(r"https?://([^/\s]+)/", nina_body)) == {"norfolk.localhost:8000"}
    assert "Mill Lane" not in bob_body + nina_body and "Private" not in bob_body + nina_body
    assert set(digests("suffolk")) == {"bob@suffolk.test"} and set(digests("norfolk")) == {"nina@norfolk.test"}
    assert {mail.status for mail in [*digests("suffolk").values(), *digests("norfolk").values()]} == {"sent"}

    # The same day again (a second tick, a retried job): nobody gets a second one.
    assert task_digests_all(timestamp=int(time.time())) >= 2
    run_jobs("maintenance", "mail")
    time.sleep(0.3)
    assert len(smtp_server.messages) == 2
    assert len(digests("suffolk")) == 1 and len(digests("norfolk")) == 1


@pytest.mark.parametrize("yesterday", [False, True], ids=["first-digest", "had-one-yesterday"])
def test_two_workers_at_once_send_one_digest(committed, yesterday):
    """Worker A has claimed Bob's day and not yet committed when worker B starts his digest: B
    waits on the row, then finds the day taken, and queues nothing."""
    bob = committed["bob"]
    with schema_context("suffolk"):
        today = partnership_today()
        if yesterday:
            DigestPreference.objects.create(user=bob, last_sent_on=today - DAY)
    committed_task("suffolk", bob, due=today - DAY, created_by=committed["alice"])
    a_claimed, a_may_commit = threading.Event(), threading.Event()
    results: dict[str, bool] = {}

    def worker_a():
        try:
            with schema_context("suffolk"), transaction.atomic():
                results["a"] = services.task_digest_send(user=User.objects.get(pk=bob.pk), today=today)
                a_claimed.set()
                a_may_commit.wait(10)
        finally:
            connection.close()

    def worker_b():
        try:
            a_claimed.wait(10)
            with schema_context("suffolk"):
                results["b"] = services.task_digest_send(user=User.objects.get(pk=bob.pk), today=today)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker_a), threading.Thread(target=worker_b)]
    for thread in threads:
        thread.start()
    assert a_claimed.wait(10)
    time.sleep(0.5)
    assert "b" not in results  # B waits for A's transaction
    a_may_commit.set()
    for thread in threads:
        thread.join(15)
    assert results == {"a": True, "b": False}
    assert list(digests("suffolk")) == ["bob@suffolk.test"]
