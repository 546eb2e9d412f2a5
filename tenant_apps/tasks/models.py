"""Tasks: a request to a person or a team, with a due date, a status and replies.

A task may come from a case, a profile, both, or neither (a general task). It
is assigned to exactly one user or one team (a check constraint). Who sees a
task is decided in the query (``selectors.tasks_visible_to``): its creator, the
assigned user, and the members of the assigned team. Seeing a task never grants
access to its case or profile: those stay behind ``casework.selectors``.

Write only through ``tenant_apps.tasks.services``; read through its selectors.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

USER = settings.AUTH_USER_MODEL


def partnership_today() -> dt.date:
    """Today's date where the partnership works (``settings.TIME_ZONE``, Europe/London).

    Named explicitly rather than read from the active time zone, so a page, a job and the
    worker agree on "today" whatever zone a request might activate; and computed in Python
    and passed to queries as a parameter, never PostgreSQL's ``CURRENT_DATE`` (the database
    session's zone is UTC: between midnight and 1 a.m. in summer it would still be yesterday).
    """
    return timezone.localdate(timezone=ZoneInfo(settings.TIME_ZONE))


class Task(models.Model):
    """A request with a due date. ``version`` guards status and due date changes (optimistic concurrency)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.OPEN, Status.IN_PROGRESS)

    title = models.CharField(max_length=200)
    details = models.TextField(blank=True, max_length=5000)
    case = models.ForeignKey("casework.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="tasks")
    profile = models.ForeignKey(
        "casework.Profile", on_delete=models.PROTECT, null=True, blank=True, related_name="tasks"
    )
    assigned_user = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    assigned_team = models.ForeignKey(
        "directory.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_date = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # Where in Concord the task was set from, if not a case or profile (an assessment's question:
    # "/assessments/12/sections/2/#q-40-7"): a path on the partnership's own host, never a full URL.
    link = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(assigned_user__isnull=False) & Q(assigned_team__isnull=True))
                | (Q(assigned_user__isnull=True) & Q(assigned_team__isnull=False)),
                name="tasks_task_one_assignee",
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(status="done"),
                name="tasks_task_completed_only_when_done",
            ),
        ]
        indexes = [
            models.Index(fields=["assigned_user", "status", "due_date"], name="tasks_task_user_status_due"),
            models.Index(fields=["assigned_team", "status", "due_date"], name="tasks_task_team_status_due"),
            models.Index(fields=["created_by", "status", "due_date"], name="tasks_task_creator_status_due"),
        ]

    def __str__(self) -> str:
        return f"task {self.pk}: {self.title}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_overdue(self) -> bool:
        """Still open or in progress, and due before today (the partnership's date)."""
        return self.is_active and self.due_date < partnership_today()

    @property
    def is_due_today(self) -> bool:
        """Still open or in progress, and due today (the partnership's date)."""
        return self.is_active and self.due_date == partnership_today()

    @property
    def assignee_label(self) -> str:
        if self.assigned_team_id:
            return self.assigned_team.label
        return self.assigned_user.get_full_name()


class TaskReply(models.Model):
    """A reply on a task, by anyone who sees it. Replies are never edited."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "task replies"

    def __str__(self) -> str:
        return f"reply {self.pk} on task {self.task_id}"


class DigestPreference(models.Model):
    """A user's daily digest e-mail of their tasks overdue and due today.

    No row means the user gets the digest (it is on unless they turn it off). ``last_sent_on``
    is the partnership date of the last digest queued for them: ``services.task_digest_send``
    claims the day with a conditional update of this row, so a re-run the same day, or two
    workers at once, send nothing twice.
    """

    user = models.OneToOneField(USER, on_delete=models.CASCADE, primary_key=True, related_name="+")
    wants_digest = models.BooleanField(default=True)
    last_sent_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"digest preference of user {self.user_id}"
