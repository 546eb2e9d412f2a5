"""Review reminders: to the assessor before the review date and on it, to the lead of the team
owning the record once the review is overdue; each sent once, whoever sends it, through the outbox
and the daily job, naming nobody.

Cast: tests/conftest.py's ``cast`` and the Brennan family (Bob's ASB Team); Vera, of the ASB Team,
is its lead here. Committed tests run the real worker and SMTP server.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import User
from tenant_apps.assessments import services
from tenant_apps.assessments.models import Assessment, AssessmentSettings, ReviewReminder, Template, TemplateVersion
from tenant_apps.casework.models import Profile
from tenant_apps.directory.models import Agency, Team
from tenant_apps.outbox.models import OutboundEmail
from tenant_apps.tasks.models import partnership_today
from tests.test_jobs_and_mail import query, run_jobs

DAY = dt.timedelta(days=1)
SUBJECT = "An assessment review"


def completed(cast, family, review_date) -> Assessment:
    """A completed assessment of the family (made directly: the services refuse a past review date)."""
    template = Template.objects.create(name=f"Reminded {review_date}", business_area="asb", created_by=cast["bob"],
                                       status="in_use")  # fmt: skip
    version = TemplateVersion.objects.create(template=template, number=1, state="published", created_by=cast["bob"])
    return Assessment.objects.create(
        template_version=version,
        family=family["family"],
        assessor=cast["bob"],
        state="completed",
        completed_at=timezone.now(),
        review_date=review_date,
    )


def mails(schema: str = "suffolk") -> list[OutboundEmail]:
    with schema_context(schema):
        return list(OutboundEmail.objects.filter(subject__startswith=SUBJECT))


@pytest.mark.django_db
def test_the_assessor_is_reminded_before_and_on_the_day_and_the_lead_once_overdue(cast, family):
    today = partnership_today()
    OutboundEmail.objects.all().delete()
    assessment = completed(cast, family, today + 5 * DAY)
    assert services.review_reminders_send(today=today) == 1
    assert services.review_reminders_send(today=today) == 0  # once
    assert services.review_reminders_send(today=today + 5 * DAY) == 1  # the day
    assert services.review_reminders_send(today=today + 11 * DAY) == 0  # overdue, but the team has no lead
    cast["asb"].lead = cast["vera"]
    cast["asb"].save(update_fields=["lead"])
    assert services.review_reminders_send(today=today + 12 * DAY) == 1  # escalated
    assert services.review_reminders_send(today=today + 13 * DAY) == 0
    sent = mails()
    assert sorted((m.to, m.subject) for m in sent) == [
        (["bob@suffolk.test"], "An assessment review is coming up"),
        (["bob@suffolk.test"], "An assessment review is due"),
        (["vera@suffolk.test"], "An assessment review is overdue"),
    ]
    assert all(f"/assessments/{assessment.pk}/" in m.body and "Brennan" not in m.body for m in sent)
    assert ReviewReminder.objects.filter(assessment=assessment).count() == 3


@pytest.mark.django_db
def test_the_window_is_the_partnerships_and_a_started_review_stops_the_reminders(cast, family):
    today = partnership_today()
    AssessmentSettings.objects.create(remind_days_before=3, escalate_after_days=2)
    far = completed(cast, family, today + 5 * DAY)
    assert services.review_reminders_send(today=today) == 0  # 5 days away; reminded 3 days before
    assert services.review_reminders_send(today=today + 2 * DAY) == 1
    Assessment.objects.create(template_version=far.template_version, family=far.family, assessor=cast["bob"],
                              previous=far)  # the review has started  # fmt: skip
    assert services.review_reminders_send(today=today + 5 * DAY) == 0


@pytest.mark.django_db
def test_a_new_review_date_gets_its_own_reminders_and_norfolk_sends_none_of_suffolks(cast, family):
    today = partnership_today()
    assessment = completed(cast, family, today + 2 * DAY)
    assert services.review_reminders_send(today=today) == 1
    Assessment.objects.filter(pk=assessment.pk).update(review_date=today + 4 * DAY)
    assert services.review_reminders_send(today=today) == 1  # for the new date
    with schema_context("norfolk"):
        assert services.review_reminders_send(today=today) == 0
        assert not OutboundEmail.objects.filter(subject__startswith=SUBJECT).exists()


# --- Committed: two senders at once; the job, the worker and the SMTP server ------------------------


@pytest.fixture
def committed(committed_db):
    """A committed completed assessment of Bob's (a profile of his team's), and its clean-up."""
    connection.set_schema_to_public()
    first_job = query("SELECT coalesce(max(id), 0) FROM procrastinate_jobs")[0][0]
    with schema_context("suffolk"):
        bob = User.objects.get(email="bob@suffolk.test")
        agency = Agency.objects.create(name="Reminder Council", kind="council")
        team = Team.objects.create(agency=agency, name="Reminder Team")
        profile = Profile.objects.create(first_name="Rhea", last_name="Reminder", owning_agency=agency,
                                         owning_team=team, created_by=bob)  # fmt: skip
        template = Template.objects.create(name="Reminded (committed)", business_area="asb", created_by=bob,
                                           status="in_use")  # fmt: skip
        version = TemplateVersion.objects.create(template=template, number=1, state="published", created_by=bob)
        today = partnership_today()
        assessment = Assessment.objects.create(template_version=version, profile=profile, assessor=bob,
                                               state="completed", completed_at=timezone.now(),
                                               review_date=today + DAY)  # fmt: skip
    yield {"assessment": assessment, "bob": bob, "today": today}
    with schema_context("suffolk"):
        OutboundEmail.objects.filter(subject__startswith=SUBJECT).delete()
        ReviewReminder.objects.filter(assessment=assessment).delete()
        assessment.delete()
        version.delete()
        template.delete()
        profile.delete()
        team.delete()
        agency.delete()
    connection.set_schema_to_public()
    query("DELETE FROM procrastinate_periodic_defers WHERE job_id > %s", [first_job])
    query("DELETE FROM procrastinate_jobs WHERE id > %s", [first_job])


def send(committed) -> bool:
    fresh = Assessment.objects.get(pk=committed["assessment"].pk)
    return services.review_reminder_send(assessment=fresh, today=committed["today"])


def test_two_senders_at_once_send_one_reminder(committed):
    """Sender A has inserted the reminder and not yet committed when B tries: B waits on the unique
    row, then finds it taken and sends nothing."""
    a_sent, a_may_commit = threading.Event(), threading.Event()
    results: dict[str, bool] = {}

    def sender_a():
        try:
            with schema_context("suffolk"), transaction.atomic():
                results["a"] = send(committed)
                a_sent.set()
                a_may_commit.wait(10)
        finally:
            connection.close()

    def sender_b():
        try:
            a_sent.wait(10)
            with schema_context("suffolk"):
                results["b"] = send(committed)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender_a), threading.Thread(target=sender_b)]
    for thread in threads:
        thread.start()
    assert a_sent.wait(10)
    time.sleep(0.5)
    assert "b" not in results  # B waits for A's transaction
    a_may_commit.set()
    for thread in threads:
        thread.join(15)
    assert results == {"a": True, "b": False}
    assert [m.to for m in mails()] == [["bob@suffolk.test"]]


def test_the_daily_job_sends_each_reminder_once_through_the_worker_and_smtp(committed, smtp_server):
    from tenant_apps.assessments.jobs import review_reminders_all

    assert review_reminders_all(timestamp=int(time.time())) >= 2  # one job per partnership
    run_jobs("maintenance", "mail")
    message = smtp_server.wait_for(1)[0]
    assert message["To"] == "bob@suffolk.test" and message["Subject"] == "An assessment review is coming up"
    body = message.get_body(("plain",)).get_content()
    assert f"/assessments/{committed['assessment'].pk}/" in body and "Rhea" not in body
    assert review_reminders_all(timestamp=int(time.time())) >= 2  # the same day again: nothing more
    run_jobs("maintenance", "mail")
    time.sleep(0.3)
    assert len(smtp_server.messages) == 1 and [m.status for m in mails()] == ["sent"]


@pytest.mark.django_db
def test_assessments_due_and_in_progress_are_on_the_home_page_and_the_lead_is_a_member(cast, family):
    from django.core.exceptions import ValidationError

    from tenant_apps.directory.services import team_update
    from tests.test_casework_pages import client_as

    today = partnership_today()
    late = completed(cast, family, today - 2 * DAY)
    completed(cast, family, today + 60 * DAY)  # not within the fortnight
    ongoing = Assessment.objects.create(template_version=late.template_version, profile=family["mary"],
                                        assessor=cast["bob"])  # fmt: skip
    page = client_as(cast, "bob").get("/").content.decode()
    assert "Assessments due" in page and f"/assessments/{late.pk}/" in page and "Overdue" in page
    assert f"/assessments/{ongoing.pk}/" in page and page.count("Reminded ") == 2
    assert "Assessments due" not in client_as(cast, "carl").get("/").content.decode()  # not his
    request = type("Request", (), {"user": cast["alice"], "META": {}, "session": {}})()
    with pytest.raises(ValidationError, match="from its members"):
        team_update(request=request, team=cast["asb"], agency=cast["council"], name="ASB Team", lead=cast["dan"])
