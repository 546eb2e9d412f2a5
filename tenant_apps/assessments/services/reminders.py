"""Review reminders: before the review date and on it, to the assessor; once overdue by the
partnership's number of days, to the lead of the team that owns the record it is about.

Each reminder is sent exactly once: its ``ReviewReminder`` row is inserted in the same
transaction as its e-mail (through the outbox), and the row is unique per assessment, kind and
review date. A second sender (another worker, a retried job) waits on that row, then finds it
taken and sends nothing; if the transaction rolls back, neither row nor e-mail remains, and the
next run sends it. A reminder missed on its day (the worker was down) goes on the next run.
Reminders stop once a review has started. E-mails name no person, family or case: a date and a
link that needs signing in.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse

from tenant_apps.assessments.models import Assessment, AssessmentSettings, ReviewReminder
from tenant_apps.audit.services import audit_changes, audit_record
from tenant_apps.casework.models import Case, Family, Profile
from tenant_apps.directory.models import Team
from tenant_apps.outbox.services import mail_send_later
from tenant_apps.tasks.models import partnership_today
from tenants.hosts import absolute_url

__all__ = ["assessment_settings_set", "review_reminder_send", "review_reminders_send", "reviews_due"]

logger = logging.getLogger(__name__)


def reviews_due(*, today: dt.date, settings: AssessmentSettings):
    """Completed assessments not yet reviewed whose review date is within the reminder window
    or past."""
    reviewed = Assessment.objects.filter(previous=OuterRef("pk"))
    window = today + dt.timedelta(days=settings.remind_days_before)
    return (Assessment.objects.filter(state=Assessment.State.COMPLETED, review_date__lte=window)
            .exclude(Exists(reviewed)).select_related("assessor").order_by("review_date", "pk"))  # fmt: skip


def _owning_team(assessment: Assessment) -> Team | None:
    for model, pk in ((Case, assessment.case_id), (Family, assessment.family_id), (Profile, assessment.profile_id)):
        if pk is not None:
            owning = model.objects.filter(pk=pk).values("owning_team_id")[:1]
            return Team.objects.filter(pk=owning).select_related("lead").first()
    return None


def _kind_due(assessment: Assessment, today: dt.date, settings: AssessmentSettings) -> str | None:
    if today >= assessment.review_date + dt.timedelta(days=settings.escalate_after_days):
        return ReviewReminder.Kind.ESCALATED
    if today >= assessment.review_date:
        return ReviewReminder.Kind.DUE
    return ReviewReminder.Kind.BEFORE


def _message(kind: str, assessment: Assessment, link: str) -> tuple[str, str]:
    when = f"{assessment.review_date:%-d %B %Y}"
    if kind == ReviewReminder.Kind.BEFORE:
        return ("An assessment review is coming up",
                f"An assessment you completed in Concord is due for review on {when}.\n\n"
                f"Sign in to start the review: {link}\n")  # fmt: skip
    if kind == ReviewReminder.Kind.DUE:
        return ("An assessment review is due",
                f"An assessment you completed in Concord is due for review: it was due on {when}.\n\n"
                f"Sign in to start the review: {link}\n")  # fmt: skip
    return ("An assessment review is overdue",
            f"An assessment on one of your team's records was due for review on {when} and has not been "
            f"reviewed. You are told as the team's lead.\n\nSign in to see it: {link}\n")  # fmt: skip


def review_reminder_send(*, assessment: Assessment, today: dt.date | None = None,
                         settings: AssessmentSettings | None = None) -> bool:  # fmt: skip
    """Send the reminder this assessment is due today, if it has not been sent; whether it was."""
    today = today or partnership_today()
    settings = settings or AssessmentSettings.current()
    kind = _kind_due(assessment, today, settings)
    if kind == ReviewReminder.Kind.ESCALATED:
        team = _owning_team(assessment)
        recipient = team.lead if team is not None else None
    else:
        recipient = assessment.assessor
    if recipient is None or not recipient.is_active or recipient.is_integration or not recipient.email:
        return False
    link = absolute_url(reverse("assessments:assessment", kwargs={"assessment_id": assessment.pk}))
    subject, body = _message(kind, assessment, link)
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReviewReminder.objects.create(assessment=assessment, kind=kind, review_date=assessment.review_date,
                                              sent_to=recipient)  # fmt: skip
        except IntegrityError:
            return False  # sent already (or being sent by someone else, who committed first)
        mail_send_later(to=[recipient.email], subject=subject, body=body)
    return True


def review_reminders_send(*, today: dt.date | None = None) -> int:
    """Every reminder due in the current partnership today; how many were sent. One transaction each."""
    today = today or partnership_today()
    settings = AssessmentSettings.current()
    sent = 0
    for assessment in reviews_due(today=today, settings=settings):
        try:
            sent += review_reminder_send(assessment=assessment, today=today, settings=settings)
        except ValueError:  # an address the outbox refuses (logged by id only)
            logger.warning("assessments: reminder for assessment %s not sent: no valid address", assessment.pk)
    return sent


@transaction.atomic
def assessment_settings_set(*, user, request=None, remind_days_before: int, escalate_after_days: int):
    """The partnership's reminder days (partnership admins): 0 to 60 before, 1 to 90 after."""
    if not user.is_partnership_admin:
        raise PermissionDenied("Only partnership admins change the review reminders.")
    errors = {}
    if not 0 <= remind_days_before <= 60:
        errors["remind_days_before"] = ["Between 0 and 60 days."]
    if not 1 <= escalate_after_days <= 90:
        errors["escalate_after_days"] = ["Between 1 and 90 days."]
    if errors:
        raise ValidationError(errors)
    settings = AssessmentSettings.objects.select_for_update().order_by("pk").first() or AssessmentSettings()
    before = {"remind_days_before": settings.remind_days_before, "escalate_after_days": settings.escalate_after_days}
    settings.remind_days_before, settings.escalate_after_days = remind_days_before, escalate_after_days
    settings.save()
    after = {"remind_days_before": remind_days_before, "escalate_after_days": escalate_after_days}
    audit_record(action="assessment.settings_changed", request=request, actor=user,
                 object_type="assessment_settings", object_id=settings.pk, summary="review reminders changed",
                 changes=audit_changes(before, after))  # fmt: skip
    return settings
